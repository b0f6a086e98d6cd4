#!/usr/bin/env bash
# Build the Rust service worker (crate `sw`) into public/:
#   public/sw.js        <- sw/sw.template.js with the build id filled in
#   public/sw-pkg/      <- wasm-bindgen --target web output (sw.js + sw_bg.wasm), wasm-opt'ed
# Both are generated (git-ignored). Run this BEFORE `cargo leptos build`, which copies
# public/ into the site, and on every deploy: the build id names the shell cache, so a
# new id is what makes browsers install the new worker and refresh the cached shell.
#
# Environment:
#   SUPRA_BUILD_ID    build id (default: git short hash, plus a hash of local changes
#                     if the tree is dirty; "dev" outside git). [A-Za-z0-9._-] only.
#   WASM_OPT          wasm-opt binary (default: `wasm-opt` on PATH). Must be binaryen
#                     >= 116 (npm binaryen@132.0.0 is known good). Debian's binaryen 108
#                     silently breaks the wasm: it is refused.
#   CARGO_TARGET_DIR  respected when locating the built .wasm.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

die() { echo "build-sw: error: $*" >&2; exit 1; }
log() { echo "build-sw: $*" >&2; }

# --- tools ------------------------------------------------------------------
command -v wasm-bindgen >/dev/null 2>&1 ||
  die "wasm-bindgen not found on PATH. Install it with: cargo install wasm-bindgen-cli --version <version in Cargo.lock>"

WASM_OPT=${WASM_OPT:-wasm-opt}
command -v "$WASM_OPT" >/dev/null 2>&1 ||
  die "wasm-opt not found (looked for '${WASM_OPT}'). Set WASM_OPT=/path/to/wasm-opt or put it on PATH, e.g.: mkdir -p /tmp/tools && (cd /tmp/tools && npm init -y && npm i -D binaryen@132.0.0) && export PATH=/tmp/tools/node_modules/.bin:\$PATH. Do NOT use Debian's binaryen 108."
opt_version=$("$WASM_OPT" --version 2>/dev/null | grep -oE 'version [0-9]+' | head -n1 | grep -oE '[0-9]+' || true)
if [[ -n "$opt_version" && "$opt_version" -lt 116 ]]; then
  die "$WASM_OPT is binaryen $opt_version, which breaks wasm from this toolchain (need >= 116; npm binaryen@132.0.0 is known good)."
fi

# --- build id ---------------------------------------------------------------
if [[ -z "${SUPRA_BUILD_ID:-}" ]]; then
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    SUPRA_BUILD_ID=$(git rev-parse --short HEAD 2>/dev/null || echo nohead)
    dirty=$(git status --porcelain --untracked-files=normal 2>/dev/null || true)
    if [[ -n "$dirty" ]]; then
      # Status plus the tracked diff, so editing an already-modified file changes the id.
      changes=$({ printf '%s\n' "$dirty"; git diff HEAD 2>/dev/null || git diff 2>/dev/null || true; } |
        sha256sum | cut -c1-8)
      SUPRA_BUILD_ID="${SUPRA_BUILD_ID}-dirty-${changes}"
    fi
  else
    SUPRA_BUILD_ID=dev
  fi
fi
[[ "$SUPRA_BUILD_ID" =~ ^[A-Za-z0-9._-]+$ ]] ||
  die "SUPRA_BUILD_ID '$SUPRA_BUILD_ID' must match [A-Za-z0-9._-]+"
export SUPRA_BUILD_ID
log "build id: $SUPRA_BUILD_ID"

# --- cargo build ------------------------------------------------------------
# option_env!("SUPRA_BUILD_ID") is tracked by cargo: a new id rebuilds the crate.
cargo build -p sw --target wasm32-unknown-unknown --profile wasm-release

# wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock (schema version).
[[ -f Cargo.lock ]] || die "Cargo.lock not found in $ROOT"
lock_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | grep -oE '^version = "[^"]+"' |
  head -n1 | sed -E 's/version = "(.*)"/\1/')
[[ -n "$lock_version" ]] || die "could not find the wasm-bindgen package in Cargo.lock"
cli_version=$(wasm-bindgen --version | awk '{print $2}')
[[ "$cli_version" == "$lock_version" ]] ||
  die "wasm-bindgen CLI is $cli_version but Cargo.lock has wasm-bindgen $lock_version. Run: cargo install wasm-bindgen-cli --version $lock_version"

target_dir=${CARGO_TARGET_DIR:-target}
[[ "$target_dir" = /* ]] || target_dir="$ROOT/$target_dir"
wasm="$target_dir/wasm32-unknown-unknown/wasm-release/sw.wasm"
[[ -f "$wasm" ]] || die "expected build output $wasm not found"

# --- bindgen + opt ----------------------------------------------------------
out=public/sw-pkg
rm -rf "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name sw "$wasm"
"$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$out/sw_bg.wasm" -o "$out/sw_bg.wasm"

# --- shim -------------------------------------------------------------------
# New bytes in /sw.js for every build id: that is what triggers the browser update.
sed "s/__BUILD_ID__/${SUPRA_BUILD_ID}/g" sw/sw.template.js >public/sw.js.tmp
mv public/sw.js.tmp public/sw.js

raw=$(wc -c <"$out/sw_bg.wasm")
gz=$(gzip -9c "$out/sw_bg.wasm" | wc -c)
log "wrote public/sw.js and $out/ (sw_bg.wasm: $raw bytes, $gz gzip -9)"
