# Shared set-up for scripts/run and scripts/test. Source it; it installs only what is
# missing, so a warm machine pays nothing and a fresh one gets everything.
#   - Rust target wasm32-unknown-unknown
#   - wasm-bindgen-cli = the wasm-bindgen version in Cargo.lock
#   - cargo-leptos 0.3.10 (0.3.11 needs rustc 1.96), built without downloads
#   - wasm-opt from npm binaryen 132 (tools/), first on PATH (Debian's 108 breaks wasm)
#   - Debian chromium (browser tests), poppler-utils (PDF text checks), libxml2-utils and
#     xsltproc (CFDI checks against SAT's XSDs and cadena XSLT), xmlsec1 (checks the
#     XMLDSig of cancellation requests) and the end2end
#     npm packages (from the lockfile)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# Reuse compiled artefacts across clones (CI runs from fresh clones).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/supra/target}
# Scripted builds never edit-and-rebuild: incremental state would only fill the disk
# (it doubled the debug target to ~50 GB here).
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

say() { printf '\n==> %s\n' "$*"; }

ensure_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "installing Rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  local want
  want=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -nE 's/^version = "(.*)"/\1/p' | head -n1)
  if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]]; then
    say "installing wasm-bindgen-cli $want (a few minutes)"
    # No --locked: its lockfile pins a crate version the registry mirror lacks.
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
  if [[ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "0.3.10" ]]; then
    say "installing cargo-leptos 0.3.10 (about 20 minutes on 2 cores, once)"
    cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads --force
  fi
}

ensure_wasm_opt() {
  if [[ ! -x tools/node_modules/.bin/wasm-opt ]]; then
    say "installing wasm-opt (npm binaryen 132)"
    (cd tools && npm ci --no-audit --no-fund)
  fi
  [[ "$(command -v wasm-opt)" == "$ROOT/tools/node_modules/.bin/wasm-opt" ]] || {
    echo "wasm-opt on PATH is not tools/node_modules/.bin/wasm-opt" >&2; exit 1; }
}

ensure_chromium() {
  local missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
  command -v xsltproc >/dev/null 2>&1 || missing+=(xsltproc)
  command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
  if [[ ${#missing[@]} -gt 0 ]]; then
    say "installing Debian ${missing[*]} (browser tests, PDF text and CFDI XSD/XSLT/XMLDSig checks)"
    local sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_e2e_packages() {
  if [[ ! -d end2end/node_modules/@playwright/test ]] ||
     [[ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
    say "installing end2end npm packages (never downloads a browser)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

# Release build of the whole site: service worker first (cargo-leptos copies public/).
build_release() {
  say "building the service worker"
  bash scripts/build-sw.sh
  say "building the site (release)"
  cargo leptos build --release
}

supra_bin() { echo "$CARGO_TARGET_DIR/release/supra"; }
