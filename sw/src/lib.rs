//! SUPRA Agua service worker, written in Rust and compiled to `wasm32-unknown-unknown`.
//!
//! The JS shim (`sw/sw.template.js`, generated into `public/sw.js` by
//! `scripts/build-sw.sh`) registers the event listeners synchronously and calls the
//! functions exported here once the wasm is instantiated:
//!
//! * `on_install()`  – pre-caches the app shell into `supra-shell-<SUPRA_BUILD_ID>`.
//! * `on_activate()` – deletes older `supra-*` caches and claims the open pages.
//! * `on_fetch(request, event?)` – network-first with a Cache Storage fallback; an
//!   offline navigation without a cached copy goes to `/sin-conexion?ruta=<path>`,
//!   which renders what the phone saved for that page (dashboard, bills, one bill).
//! * `on_message(data)` / `clear_private_data()` – drops every cached page that is
//!   not part of the shell (sent by the app at logout, for shared phones).
//!
//! Everything that touches the browser is `wasm32`-only: on the host this crate
//! compiles to an empty library so `cargo check/clippy --workspace` stay green.

#![forbid(unsafe_code)]

/// Pure helpers (no browser APIs), also compiled for host unit tests.
#[cfg(any(target_arch = "wasm32", test))]
mod policy {
    /// Build id baked in by `scripts/build-sw.sh` (same value as in the shim).
    pub const VERSION: &str = match option_env!("SUPRA_BUILD_ID") {
        Some(v) => v,
        None => "dev",
    };

    /// Prefix shared by every cache this app ever created.
    pub const CACHE_PREFIX: &str = "supra-";

    /// Offline fallback page (a navigation with no cached copy is redirected here).
    pub const OFFLINE_PATH: &str = "/sin-conexion";

    /// The app shell: pre-cached at install, kept by `clear_private_data`.
    pub const SHELL: &[&str] = &[
        "/",
        OFFLINE_PATH,
        "/pkg/supra.js",
        "/pkg/supra.wasm",
        "/pkg/supra.css",
        "/manifest.webmanifest",
        "/icons/icon-192.png",
        "/icons/icon-512.png",
        "/sw-pkg/sw.js",
        "/sw-pkg/sw_bg.wasm",
    ];

    /// HTML pages of the shell. They may be re-rendered with the user's session, so
    /// `clear_private_data` fetches them again (logged out) instead of keeping them.
    pub const SHELL_PAGES: &[&str] = &["/", OFFLINE_PATH];

    /// Paths whose responses are never written to Cache Storage.
    const NEVER_CACHE: &[&str] = &["/api/", "/dev/", "/metrics", "/healthz", "/salir"];

    /// `supra-shell-<VERSION>`.
    pub fn cache_name() -> String {
        let mut s = String::with_capacity(CACHE_PREFIX.len() + 6 + VERSION.len());
        s.push_str(CACHE_PREFIX);
        s.push_str("shell-");
        s.push_str(VERSION);
        s
    }

    /// An old cache of ours that `on_activate` must delete.
    pub fn is_stale_cache(name: &str, current: &str) -> bool {
        name.starts_with(CACHE_PREFIX) && name != current
    }

    pub fn is_shell_path(path: &str) -> bool {
        SHELL.contains(&path)
    }

    pub fn is_cacheable_path(path: &str) -> bool {
        !NEVER_CACHE.iter().any(|p| path.starts_with(p))
    }

    /// `Cache-Control` forbids storing the response.
    pub fn is_no_store(cache_control: Option<&str>) -> bool {
        cache_control.is_some_and(|v| v.to_ascii_lowercase().contains("no-store"))
    }

    /// Where an offline navigation to `path_and_query` without a cached copy goes:
    /// the offline page, told which page was asked for (`?ruta=`, percent-encoded).
    pub fn offline_target(path_and_query: &str) -> String {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut s = String::with_capacity(OFFLINE_PATH.len() + 6 + path_and_query.len() * 3);
        s.push_str(OFFLINE_PATH);
        s.push_str("?ruta=");
        for b in path_and_query.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
                s.push(b as char);
            } else {
                s.push('%');
                s.push(HEX[(b >> 4) as usize] as char);
                s.push(HEX[(b & 15) as usize] as char);
            }
        }
        s
    }

    /// The URL used as cache key: the request URL without its `#fragment`.
    pub fn without_fragment(url: &str) -> &str {
        match url.find('#') {
            Some(i) => &url[..i],
            None => url,
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod worker {
    use crate::policy::{
        OFFLINE_PATH, SHELL, SHELL_PAGES, cache_name, is_cacheable_path, is_no_store,
        is_shell_path, is_stale_cache, offline_target, without_fragment,
    };
    use js_sys::{Array, Promise};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::{JsFuture, future_to_promise};
    use web_sys::{
        Cache, CacheStorage, ExtendableEvent, Headers, Request, RequestCache, RequestInit,
        RequestMode, Response, ResponseInit, ResponseType, ServiceWorkerGlobalScope, Url,
    };

    /// Message the page posts (to the controller) at logout.
    const CLEAR_PRIVATE: &str = "clear-private";

    fn scope() -> ServiceWorkerGlobalScope {
        js_sys::global().unchecked_into()
    }

    fn caches() -> Result<CacheStorage, JsValue> {
        scope().caches()
    }

    async fn open_cache() -> Result<Cache, JsValue> {
        let cache = JsFuture::from(caches()?.open(&cache_name())).await?;
        Ok(cache.unchecked_into())
    }

    fn path_of(url: &str) -> Option<String> {
        Url::new(url).ok().map(|u| u.pathname())
    }

    /// Requests that revalidate with the server instead of trusting the HTTP cache
    /// (the server sends no `Cache-Control`, so heuristic freshness could otherwise
    /// pre-cache a stale `/pkg/supra.wasm` next to a fresh page).
    fn revalidating_requests(paths: &[&str]) -> Result<Array, JsValue> {
        let init = RequestInit::new();
        init.set_cache(RequestCache::NoCache);
        let origin = scope().location().origin();
        let list = Array::new();
        for p in paths {
            let req = Request::new_with_str_and_init(&absolute(&origin, p), &init)?;
            list.push(&req);
        }
        Ok(list)
    }

    /// `origin + path` (absolute URLs do not depend on the worker's base URL).
    fn absolute(origin: &str, path: &str) -> String {
        let mut url = String::with_capacity(origin.len() + path.len());
        url.push_str(origin);
        url.push_str(path);
        url
    }

    fn warn(msg: &str, err: &JsValue) {
        web_sys::console::warn_2(&JsValue::from_str(msg), err);
    }

    /// `install`: pre-cache the shell, then activate without waiting for old tabs.
    /// A failed `addAll` rejects, which makes the install fail (and the old SW stays).
    #[wasm_bindgen]
    pub fn on_install() -> Promise {
        future_to_promise(async {
            let cache = open_cache().await?;
            let requests = revalidating_requests(SHELL)?;
            JsFuture::from(cache.add_all_with_request_sequence(&requests)).await?;
            JsFuture::from(scope().skip_waiting()?).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `activate`: delete our older caches, then take control of open pages.
    #[wasm_bindgen]
    pub fn on_activate() -> Promise {
        future_to_promise(async {
            let storage = caches()?;
            let current = cache_name();
            let names: Array = JsFuture::from(storage.keys()).await?.unchecked_into();
            for name in names.iter().filter_map(|n| n.as_string()) {
                if is_stale_cache(&name, &current) {
                    JsFuture::from(storage.delete(&name)).await?;
                }
            }
            JsFuture::from(scope().clients().claim()).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `fetch` (the shim only calls this for same-origin GET requests).
    ///
    /// Network first. A 200 `basic` response is stored (unless its path or its
    /// `Cache-Control: no-store` forbids it) and returned. On a network error the
    /// cached copy is returned; a navigation without one is redirected to
    /// `/sin-conexion`, anything else gets a 503 "Sin conexión".
    ///
    /// `event` is optional: when given, the cache write is handed to
    /// `event.waitUntil` so the response is returned without waiting for the
    /// whole body to be written to Cache Storage.
    #[wasm_bindgen]
    pub fn on_fetch(request: Request, event: Option<ExtendableEvent>) -> Promise {
        future_to_promise(async move {
            let response = handle_fetch(request, event).await?;
            Ok(response.into())
        })
    }

    async fn handle_fetch(
        request: Request,
        event: Option<ExtendableEvent>,
    ) -> Result<Response, JsValue> {
        let url = request.url();
        let path = path_of(&url).unwrap_or_default();
        let navigate = request.mode() == RequestMode::Navigate;

        if request.method() != "GET" {
            return Ok(JsFuture::from(scope().fetch_with_request(&request))
                .await?
                .unchecked_into());
        }

        match JsFuture::from(scope().fetch_with_request(&request)).await {
            Ok(resp) => {
                let resp: Response = resp.unchecked_into();
                if should_store(&resp, &path) {
                    store(&resp, without_fragment(&url), event.as_ref());
                }
                Ok(resp)
            }
            Err(_network_error) => offline_response(&request, &path, navigate).await,
        }
    }

    fn should_store(resp: &Response, path: &str) -> bool {
        resp.status() == 200
            && resp.type_() == ResponseType::Basic
            && is_cacheable_path(path)
            && !is_no_store(
                resp.headers()
                    .get("cache-control")
                    .ok()
                    .flatten()
                    .as_deref(),
            )
    }

    /// Write a clone of `resp` under `key`; failures (quota, `Vary: *`…) are only logged.
    fn store(resp: &Response, key: &str, event: Option<&ExtendableEvent>) {
        let copy = match resp.clone() {
            Ok(c) => c,
            Err(e) => return warn("sw: clone failed", &e),
        };
        let key = key.to_owned();
        let write = future_to_promise(async move {
            let cache = open_cache().await?;
            if let Err(e) = JsFuture::from(cache.put_with_str(&key, &copy)).await {
                warn("sw: cache.put failed", &e);
            }
            Ok(JsValue::UNDEFINED)
        });
        // Keep the worker alive until the write finishes. If waitUntil is not
        // allowed any more, the promise above still runs on its own.
        if let Some(ev) = event {
            let _ = ev.wait_until(&write);
        }
    }

    async fn offline_response(
        request: &Request,
        path: &str,
        navigate: bool,
    ) -> Result<Response, JsValue> {
        let origin = scope().location().origin();
        if let Ok(cache) = open_cache().await {
            let hit = JsFuture::from(cache.match_with_request(request)).await?;
            if !hit.is_undefined() {
                return Ok(hit.unchecked_into());
            }
            // `/sin-conexion?ruta=…`: the one cached offline page, whatever the query.
            if path == OFFLINE_PATH {
                let url = absolute(&origin, OFFLINE_PATH);
                let hit = JsFuture::from(cache.match_with_str(&url)).await?;
                if !hit.is_undefined() {
                    return Ok(hit.unchecked_into());
                }
            }
        }
        // Redirect navigations to the offline page, but never to itself (no loop
        // if that page is somehow missing from the cache).
        if navigate && path != OFFLINE_PATH {
            let asked = Url::new(&request.url())
                .map(|u| {
                    let mut p = u.pathname();
                    p.push_str(&u.search());
                    p
                })
                .unwrap_or_else(|_| path.to_owned());
            let target = absolute(&origin, &offline_target(&asked));
            return Response::redirect_with_status(&target, 302);
        }
        let headers = Headers::new()?;
        headers.set("content-type", "text/plain; charset=utf-8")?;
        let init = ResponseInit::new();
        init.set_status(503);
        init.set_status_text("Service Unavailable");
        init.set_headers(&headers);
        Response::new_with_opt_str_and_init(Some("Sin conexión"), &init)
    }

    /// Delete from the current cache every entry that is not part of the shell, then
    /// re-fetch the shell pages (now logged out) so no personal data stays on a shared
    /// phone. If that re-fetch fails (offline), `/` is dropped too; `/sin-conexion`
    /// is kept because offline navigation needs it.
    #[wasm_bindgen]
    pub fn clear_private_data() -> Promise {
        future_to_promise(async {
            let cache = open_cache().await?;
            let keys: Array = JsFuture::from(cache.keys()).await?.unchecked_into();
            for key in keys.iter() {
                let req: Request = key.unchecked_into();
                let keep = path_of(&req.url()).is_some_and(|p| is_shell_path(&p));
                if !keep {
                    JsFuture::from(cache.delete_with_request(&req)).await?;
                }
            }
            let fresh = revalidating_requests(SHELL_PAGES)?;
            if let Err(e) = JsFuture::from(cache.add_all_with_request_sequence(&fresh)).await {
                warn("sw: could not refresh shell pages after logout", &e);
                let home = absolute(&scope().location().origin(), "/");
                JsFuture::from(cache.delete_with_str(&home)).await?;
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `message`: `"clear-private"` runs [`clear_private_data`]; anything else is ignored.
    #[wasm_bindgen]
    pub fn on_message(data: JsValue) -> Promise {
        if data.as_string().as_deref() == Some(CLEAR_PRIVATE) {
            clear_private_data()
        } else {
            Promise::resolve(&JsValue::UNDEFINED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::policy::*;

    #[test]
    fn cache_names() {
        assert!(cache_name().starts_with("supra-shell-"));
        assert!(is_stale_cache("supra-shell-abc", "supra-shell-def"));
        assert!(is_stale_cache("supra-data", "supra-shell-def"));
        assert!(!is_stale_cache("supra-shell-def", "supra-shell-def"));
        assert!(!is_stale_cache("other-cache", "supra-shell-def"));
    }

    #[test]
    fn never_cached_paths() {
        for p in [
            "/api/saldo",
            "/dev/login",
            "/metrics",
            "/healthz",
            "/salir",
            "/salir?x=1",
        ] {
            assert!(!is_cacheable_path(p), "{p}");
        }
        for p in ["/", "/cuenta", "/pkg/supra.wasm", "/apis", "/sin-conexion"] {
            assert!(is_cacheable_path(p), "{p}");
        }
    }

    #[test]
    fn no_store() {
        assert!(is_no_store(Some("private, no-store")));
        assert!(is_no_store(Some("No-Store")));
        assert!(!is_no_store(Some("no-cache")));
        assert!(!is_no_store(None));
    }

    #[test]
    fn offline_target_names_the_page() {
        assert_eq!(offline_target("/cuenta"), "/sin-conexion?ruta=/cuenta");
        assert_eq!(
            offline_target("/cuenta/recibos?estado=pagados"),
            "/sin-conexion?ruta=/cuenta/recibos%3Festado%3Dpagados"
        );
        assert_eq!(offline_target("/a b&c"), "/sin-conexion?ruta=/a%20b%26c");
    }

    #[test]
    fn fragments_and_shell() {
        assert_eq!(
            without_fragment("https://a.mx/x?y=1#z"),
            "https://a.mx/x?y=1"
        );
        assert_eq!(without_fragment("https://a.mx/x"), "https://a.mx/x");
        assert!(is_shell_path("/"));
        assert!(is_shell_path("/sw-pkg/sw_bg.wasm"));
        assert!(!is_shell_path("/cuenta"));
        assert_eq!(SHELL.len(), 10);
        assert!(SHELL_PAGES.iter().all(|p| is_shell_path(p)));
    }
}
