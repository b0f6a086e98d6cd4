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
//! * `on_sync(tag)` – Background Sync `supra-lecturas`: sends the meter readings the
//!   phone kept without signal (IndexedDB `supra` / `lecturas`, written by the app's
//!   `offline.rs`) to `POST /cuenta/lectura`, each with its idempotency key (the
//!   server stores one reading per key, so the app sending the same one is harmless);
//!   a sent reading leaves the queue, a final refusal stays with its message, and the
//!   open pages are told (`{tipo: "lecturas-actualizadas", enviadas}`). Rejects when
//!   the network failed, so the browser tries again later.
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

    /// Background Sync tag of the queue of meter readings.
    pub const SYNC_TAG: &str = "supra-lecturas";
    /// The app's IndexedDB database and the store of queued readings (`app/src/offline.rs`).
    pub const READS_DB: &str = "supra";
    pub const READS_STORE: &str = "lecturas";
    /// Where a reading is posted.
    pub const SELF_READ_URL: &str = "/cuenta/lectura";
    /// `tipo` of the message posted to the pages after a pass over the queue.
    pub const READS_MESSAGE: &str = "lecturas-actualizadas";
    /// Record states.
    pub const PENDING: &str = "pendiente";
    pub const REFUSED: &str = "rechazada";

    /// HTTP answers to a queued reading that are final (it will never be accepted as
    /// it is): the reading leaves the queue with its message. 401, 408, 429 and 5xx are
    /// retried. Same rule as the app's `api::is_final_refusal`.
    pub fn is_final_refusal(status: u16) -> bool {
        matches!(status, 400 | 403 | 404 | 409 | 413 | 415 | 422)
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
        OFFLINE_PATH, PENDING, READS_DB, READS_MESSAGE, READS_STORE, REFUSED, SELF_READ_URL, SHELL,
        SHELL_PAGES, SYNC_TAG, cache_name, is_cacheable_path, is_final_refusal, is_no_store,
        is_shell_path, is_stale_cache, offline_target, without_fragment,
    };
    use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
    use rexie::{ObjectStore, Rexie, TransactionMode};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::{JsFuture, future_to_promise};
    use web_sys::{
        Blob, BlobPropertyBag, Cache, CacheStorage, Client, ExtendableEvent, FormData, Headers,
        Request, RequestCache, RequestCredentials, RequestInit, RequestMode, Response,
        ResponseInit, ResponseType, ServiceWorkerGlobalScope, Url,
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
    // ------------------------------------------------------------ queued readings

    fn text(v: &JsValue, k: &str) -> Option<String> {
        Reflect::get(v, &JsValue::from_str(k)).ok()?.as_string()
    }

    fn rexie_err(e: rexie::Error) -> JsValue {
        JsValue::from_str(&e.to_string())
    }

    /// What became of posting one reading.
    enum Sent {
        Stored,
        Refused {
            field: String,
            message: String,
        },
        /// Not now; `offline`: the network failed (the browser should retry the sync).
        Later {
            offline: bool,
        },
    }

    /// POST one queued record as the app's form does (multipart, JSON answer).
    async fn post(v: &JsValue) -> Result<Sent, JsValue> {
        let form = FormData::new()?;
        for k in ["clave", "contrato", "lectura", "fecha"] {
            form.append_with_str(k, &text(v, k).unwrap_or_default())?;
        }
        if let Ok(photo) = Reflect::get(v, &JsValue::from_str("foto"))?.dyn_into::<Uint8Array>() {
            let opts = BlobPropertyBag::new();
            opts.set_type(&text(v, "foto_tipo").unwrap_or_default());
            let blob = Blob::new_with_u8_array_sequence_and_options(&Array::of1(&photo), &opts)?;
            form.append_with_blob_and_filename("foto", &blob, "medidor")?;
        }
        let headers = Headers::new()?;
        headers.set("accept", "application/json")?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&form);
        init.set_headers(&headers);
        init.set_credentials(RequestCredentials::SameOrigin);
        let url = absolute(&scope().location().origin(), SELF_READ_URL);
        let resp: Response =
            match JsFuture::from(scope().fetch_with_str_and_init(&url, &init)).await {
                Ok(r) => r.unchecked_into(),
                Err(_) => return Ok(Sent::Later { offline: true }),
            };
        let status = resp.status();
        if (200..300).contains(&status) {
            return Ok(Sent::Stored);
        }
        if is_final_refusal(status) {
            let body = match resp.json() {
                Ok(p) => JsFuture::from(p).await.unwrap_or(JsValue::NULL),
                Err(_) => JsValue::NULL,
            };
            return Ok(Sent::Refused {
                field: text(&body, "campo").unwrap_or_else(|| "lectura".into()),
                message: text(&body, "error")
                    .unwrap_or_else(|| "No pudimos aceptar esta lectura.".into()),
            });
        }
        Ok(Sent::Later { offline: false })
    }

    /// One pass over the queue: (sent, left because the network failed).
    async fn flush_reads() -> Result<(u32, bool), JsValue> {
        // No version: open the app's database as it is (never upgrade it from here).
        let db = Rexie::builder(READS_DB)
            .add_object_store(ObjectStore::new(READS_STORE))
            .build()
            .await
            .map_err(rexie_err)?;
        if !db.store_names().iter().any(|n| n == READS_STORE) {
            return Ok((0, false));
        }
        let mut items: Vec<(String, JsValue)> = {
            let tx = db
                .transaction(&[READS_STORE], TransactionMode::ReadOnly)
                .map_err(rexie_err)?;
            let store = tx.store(READS_STORE).map_err(rexie_err)?;
            store.get_all(None, None).await.map_err(rexie_err)?
        }
        .into_iter()
        .filter(|v| text(v, "estado").as_deref().unwrap_or(PENDING) == PENDING)
        .map(|v| (text(&v, "guardada").unwrap_or_default(), v))
        .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let (mut sent, mut offline) = (0, false);
        for (_, v) in items {
            let Some(key) = text(&v, "clave") else {
                continue;
            };
            let outcome = post(&v).await?;
            let tx = db
                .transaction(&[READS_STORE], TransactionMode::ReadWrite)
                .map_err(rexie_err)?;
            let store = tx.store(READS_STORE).map_err(rexie_err)?;
            match outcome {
                Sent::Stored => {
                    sent += 1;
                    store
                        .delete(JsValue::from_str(&key))
                        .await
                        .map_err(rexie_err)?;
                }
                Sent::Refused { field, message } => {
                    let o: &Object = v.unchecked_ref();
                    Reflect::set(o, &JsValue::from_str("estado"), &JsValue::from_str(REFUSED))?;
                    Reflect::set(
                        o,
                        &JsValue::from_str("mensaje"),
                        &JsValue::from_str(&message),
                    )?;
                    Reflect::set(o, &JsValue::from_str("campo"), &JsValue::from_str(&field))?;
                    store
                        .put(&v, Some(&JsValue::from_str(&key)))
                        .await
                        .map_err(rexie_err)?;
                }
                Sent::Later { offline: o } => {
                    offline = o;
                    drop(store);
                    let _ = tx.done().await;
                    break;
                }
            }
            tx.done().await.map_err(rexie_err)?;
        }
        db.close();
        Ok((sent, offline))
    }

    /// Tell the open pages the queue changed (they refresh their list).
    async fn notify_pages(sent: u32) -> Result<(), JsValue> {
        let list: Array = JsFuture::from(scope().clients().match_all())
            .await?
            .unchecked_into();
        let msg = Object::new();
        Reflect::set(
            &msg,
            &JsValue::from_str("tipo"),
            &JsValue::from_str(READS_MESSAGE),
        )?;
        Reflect::set(&msg, &JsValue::from_str("enviadas"), &JsValue::from(sent))?;
        for c in list.iter() {
            let _ = c.unchecked_into::<Client>().post_message(&msg);
        }
        Ok(())
    }

    /// `sync`: the queue of readings (tag `supra-lecturas`); other tags are ignored.
    #[wasm_bindgen]
    pub fn on_sync(tag: String) -> Promise {
        if tag != SYNC_TAG {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        future_to_promise(async {
            let (sent, offline) = flush_reads().await?;
            let _ = notify_pages(sent).await;
            if offline {
                // Rejecting makes the browser schedule the sync again.
                return Err(JsValue::from_str("sw: no network for the queued readings"));
            }
            Ok(JsValue::UNDEFINED)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::policy::*;

    /// The worker and the app's pages share the queue of readings: same database, store,
    /// endpoint and message. The worker cannot depend on `app`, so this reads its source.
    #[test]
    fn queue_names_match_the_app() {
        let offline = include_str!("../../app/src/offline.rs");
        let api = include_str!("../../app/src/api/lecturas.rs");
        for (what, line, src) in [
            (
                "database",
                format!("const DB: &str = \"{READS_DB}\";"),
                offline,
            ),
            (
                "store",
                format!("const READS: &str = \"{READS_STORE}\";"),
                offline,
            ),
            (
                "sync tag",
                format!("const SYNC_TAG: &str = \"{SYNC_TAG}\";"),
                offline,
            ),
            (
                "message",
                format!("const SW_READS_MESSAGE: &str = \"{READS_MESSAGE}\";"),
                offline,
            ),
            (
                "endpoint",
                format!("pub const SELF_READ_URL: &str = \"{SELF_READ_URL}\";"),
                api,
            ),
        ] {
            assert!(src.contains(&line), "the app's {what} is not `{line}`");
        }
    }

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
    fn final_refusals_leave_the_queue() {
        for s in [400, 403, 404, 409, 413, 415, 422] {
            assert!(is_final_refusal(s), "{s}");
        }
        for s in [200, 401, 408, 429, 500, 502, 503, 504] {
            assert!(!is_final_refusal(s), "{s}");
        }
        assert_eq!(SYNC_TAG, "supra-lecturas");
        assert!(PENDING != REFUSED);
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
