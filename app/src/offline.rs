//! Browser-only helpers: IndexedDB snapshot (rexie) of the dashboard and of the last
//! bills with their PDFs, connectivity, install prompt, large-text preference,
//! service-worker messages, server-sent events. On the server they are no-ops, so
//! components can call them unconditionally from effects.

#[cfg(feature = "hydrate")]
mod imp {
    use std::cell::RefCell;

    use rexie::{ObjectStore, Rexie, TransactionMode};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    use crate::api::{BillDetail, BillList, Dashboard};

    const DB: &str = "supra";
    /// JSON snapshots: the dashboard (`KEY`) and the bills list (`LIST_KEY`).
    const STORE: &str = "snapshots";
    const KEY: &str = "dashboard";
    const LIST_KEY: &str = "bills";
    /// One bill's detail as JSON, keyed by invoice id.
    const BILLS: &str = "bills";
    /// One bill's PDF, keyed by invoice id: `{version, blob}`.
    const PDFS: &str = "pdfs";
    const ALL_STORES: [&str; 3] = [STORE, BILLS, PDFS];

    async fn open() -> Option<Rexie> {
        // Version 2 added the bills and their PDFs; existing stores are kept.
        Rexie::builder(DB)
            .version(2)
            .add_object_store(ObjectStore::new(STORE))
            .add_object_store(ObjectStore::new(BILLS))
            .add_object_store(ObjectStore::new(PDFS))
            .build()
            .await
            .ok()
    }

    async fn put(store: &str, key: &str, value: &JsValue) -> bool {
        let Some(db) = open().await else { return false };
        let Ok(tx) = db.transaction(&[store], TransactionMode::ReadWrite) else {
            return false;
        };
        let Ok(s) = tx.store(store) else { return false };
        let ok = s.put(value, Some(&JsValue::from_str(key))).await.is_ok();
        tx.done().await.is_ok() && ok
    }

    async fn get(store: &str, key: &str) -> Option<JsValue> {
        let db = open().await?;
        let tx = db.transaction(&[store], TransactionMode::ReadOnly).ok()?;
        let s = tx.store(store).ok()?;
        s.get(JsValue::from_str(key)).await.ok()?
    }

    async fn get_json<T: serde::de::DeserializeOwned>(store: &str, key: &str) -> Option<T> {
        serde_json::from_str(&get(store, key).await?.as_string()?).ok()
    }

    async fn put_json<T: serde::Serialize>(store: &str, key: &str, value: &T) -> bool {
        match serde_json::to_string(value) {
            Ok(json) => put(store, key, &JsValue::from_str(&json)).await,
            Err(_) => false,
        }
    }

    pub async fn save_bill_list(l: &BillList) {
        put_json(STORE, LIST_KEY, l).await;
    }

    pub fn load_bill_list() -> impl std::future::Future<Output = Option<BillList>> + Send {
        send_wrapper::SendWrapper::new(get_json(STORE, LIST_KEY))
    }

    pub fn load_bill(id: i64) -> impl std::future::Future<Output = Option<BillDetail>> + Send {
        send_wrapper::SendWrapper::new(async move { get_json(BILLS, &id.to_string()).await })
    }

    /// The PDF of bill `id` from the server (through the service worker).
    async fn fetch_pdf(id: i64) -> Option<web_sys::Blob> {
        let w = web_sys::window()?;
        let url = format!("/cuenta/recibos/{id}/pdf");
        let resp: web_sys::Response = wasm_bindgen_futures::JsFuture::from(w.fetch_with_str(&url))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
        let ct = resp.headers().get("content-type").ok()??;
        if !resp.ok() || !ct.starts_with("application/pdf") {
            return None;
        }
        wasm_bindgen_futures::JsFuture::from(resp.blob().ok()?)
            .await
            .ok()?
            .dyn_into()
            .ok()
    }

    async fn pdf_version(id: i64) -> Option<String> {
        let v = get(PDFS, &id.to_string()).await?;
        js_sys::Reflect::get(&v, &JsValue::from_str("version"))
            .ok()?
            .as_string()
    }

    /// Keep bill `d` and its PDF on the phone (the PDF is downloaded only when it is
    /// missing or changed). True when both are saved.
    pub async fn save_bill(d: &BillDetail) -> bool {
        let id = d.row.id;
        if !put_json(BILLS, &id.to_string(), d).await {
            return false;
        }
        if pdf_version(id).await.as_deref() == Some(d.pdf_key.as_str()) {
            return true;
        }
        let Some(blob) = fetch_pdf(id).await else {
            return false;
        };
        let rec = js_sys::Object::new();
        let _ = js_sys::Reflect::set(
            &rec,
            &JsValue::from_str("version"),
            &JsValue::from_str(&d.pdf_key),
        );
        let _ = js_sys::Reflect::set(&rec, &JsValue::from_str("blob"), &blob);
        put(PDFS, &id.to_string(), &rec).await
    }

    /// Keep only these bills (and their PDFs) on the phone.
    pub async fn keep_only_bills(ids: &[i64]) {
        let keep: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        let Some(db) = open().await else { return };
        let Ok(tx) = db.transaction(&[BILLS, PDFS], TransactionMode::ReadWrite) else {
            return;
        };
        for name in [BILLS, PDFS] {
            let Ok(store) = tx.store(name) else { continue };
            let Ok(keys) = store.get_all_keys(None, None).await else {
                continue;
            };
            for k in keys {
                if !k.as_string().is_some_and(|k| keep.contains(&k)) {
                    let _ = store.delete(k).await;
                }
            }
        }
        let _ = tx.done().await;
    }

    /// A `blob:` URL for the saved PDF of bill `id`.
    pub fn pdf_object_url(id: i64) -> impl std::future::Future<Output = Option<String>> + Send {
        send_wrapper::SendWrapper::new(async move {
            let v = get(PDFS, &id.to_string()).await?;
            let blob: web_sys::Blob = js_sys::Reflect::get(&v, &JsValue::from_str("blob"))
                .ok()?
                .dyn_into()
                .ok()?;
            web_sys::Url::create_object_url_with_blob(&blob).ok()
        })
    }

    /// Server-sent events of `url`; `on_message` gets each event's data and returns
    /// whether to keep listening.
    pub struct Watch(send_wrapper::SendWrapper<web_sys::EventSource>);

    impl Watch {
        pub fn close(&self) {
            self.0.close();
        }
    }

    pub fn watch_events(url: &str, on_message: impl Fn(String) -> bool + 'static) -> Option<Watch> {
        let es = web_sys::EventSource::new(url).ok()?;
        let es2 = es.clone();
        let f = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if let Some(data) = ev.data().as_string()
                && !on_message(data)
            {
                es2.close();
            }
        });
        es.set_onmessage(Some(f.as_ref().unchecked_ref()));
        f.forget();
        Some(Watch(send_wrapper::SendWrapper::new(es)))
    }

    pub async fn save_dashboard(d: &Dashboard) {
        let Ok(json) = serde_json::to_string(d) else {
            return;
        };
        let Some(db) = open().await else { return };
        let Ok(tx) = db.transaction(&[STORE], TransactionMode::ReadWrite) else {
            return;
        };
        let Ok(store) = tx.store(STORE) else { return };
        let _ = store
            .put(&JsValue::from_str(&json), Some(&JsValue::from_str(KEY)))
            .await;
        let _ = tx.done().await;
    }

    /// `Send` so it can be awaited inside `Suspend` (the browser is single-threaded).
    pub fn load_dashboard() -> impl std::future::Future<Output = Option<Dashboard>> + Send {
        send_wrapper::SendWrapper::new(load_dashboard_local())
    }

    async fn load_dashboard_local() -> Option<Dashboard> {
        let db = open().await?;
        let tx = db.transaction(&[STORE], TransactionMode::ReadOnly).ok()?;
        let store = tx.store(STORE).ok()?;
        let v = store.get(JsValue::from_str(KEY)).await.ok()??;
        serde_json::from_str(&v.as_string()?).ok()
    }

    pub async fn clear_private() {
        if let Some(db) = open().await
            && let Ok(tx) = db.transaction(&ALL_STORES, TransactionMode::ReadWrite)
        {
            for name in ALL_STORES {
                if let Ok(store) = tx.store(name) {
                    let _ = store.clear().await;
                }
            }
            let _ = tx.done().await;
        }
        if let Some(ctrl) =
            web_sys::window().and_then(|w| w.navigator().service_worker().controller())
        {
            let _ = ctrl.post_message(&JsValue::from_str("clear-private"));
        }
    }

    pub fn is_online() -> bool {
        web_sys::window()
            .map(|w| w.navigator().on_line())
            .unwrap_or(true)
    }

    /// Whether the server answers right now. `navigator.onLine` only knows about the
    /// device's link (and lies on "lie-fi"); the service worker answers `/healthz`
    /// with 503 when the network fails.
    pub async fn server_reachable() -> bool {
        let Some(w) = web_sys::window() else {
            return false;
        };
        let Ok(resp) = wasm_bindgen_futures::JsFuture::from(w.fetch_with_str("/healthz")).await
        else {
            return false;
        };
        resp.dyn_into::<web_sys::Response>()
            .map(|r| r.ok())
            .unwrap_or(false)
    }

    pub fn on_connectivity(cb: impl Fn(bool) + 'static) {
        let Some(w) = web_sys::window() else { return };
        let cb = std::rc::Rc::new(cb);
        for (ev, val) in [("online", true), ("offline", false)] {
            let cb = cb.clone();
            let f = Closure::<dyn Fn()>::new(move || cb(val));
            let _ = w.add_event_listener_with_callback(ev, f.as_ref().unchecked_ref());
            f.forget();
        }
    }

    thread_local! {
        static INSTALL_EVENT: RefCell<Option<web_sys::Event>> = const { RefCell::new(None) };
    }

    pub fn on_install_available(cb: impl Fn() + 'static) {
        let Some(w) = web_sys::window() else { return };
        let f = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
            // Keep the browser's own mini-infobar away; show our banner instead.
            e.prevent_default();
            INSTALL_EVENT.with(|s| *s.borrow_mut() = Some(e));
            cb();
        });
        let _ =
            w.add_event_listener_with_callback("beforeinstallprompt", f.as_ref().unchecked_ref());
        f.forget();
    }

    pub fn prompt_install() {
        INSTALL_EVENT.with(|s| {
            if let Some(e) = s.borrow_mut().take()
                && let Ok(p) = js_sys::Reflect::get(&e, &JsValue::from_str("prompt"))
                && let Some(f) = p.dyn_ref::<js_sys::Function>()
            {
                let _ = f.call0(&e);
            }
        });
    }

    const LARGE: &str = "letra-grande";

    pub fn large_text_saved() -> bool {
        let on = web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(LARGE).ok().flatten())
            .is_some_and(|v| v == "1");
        apply_large(on);
        on
    }

    pub fn set_large_text(on: bool) {
        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = s.set_item(LARGE, if on { "1" } else { "0" });
        }
        apply_large(on);
    }

    fn apply_large(on: bool) {
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = if on {
                el.class_list().add_1(LARGE)
            } else {
                el.class_list().remove_1(LARGE)
            };
        }
    }

    pub fn register_service_worker() {
        let Some(w) = web_sys::window() else { return };
        let container = w.navigator().service_worker();
        let opts = web_sys::RegistrationOptions::new();
        opts.set_type("module");
        opts.set_update_via_cache(web_sys::ServiceWorkerUpdateViaCache::None);
        let _ = container.register_with_options("/sw.js", &opts);
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use crate::api::{BillDetail, BillList, Dashboard};
    pub async fn save_dashboard(_: &Dashboard) {}
    pub async fn load_dashboard() -> Option<Dashboard> {
        None
    }
    pub async fn save_bill_list(_: &BillList) {}
    pub async fn load_bill_list() -> Option<BillList> {
        None
    }
    pub async fn load_bill(_: i64) -> Option<BillDetail> {
        None
    }
    pub async fn save_bill(_: &BillDetail) -> bool {
        false
    }
    pub async fn keep_only_bills(_: &[i64]) {}
    pub async fn pdf_object_url(_: i64) -> Option<String> {
        None
    }
    pub struct Watch;
    impl Watch {
        pub fn close(&self) {}
    }
    pub fn watch_events(_: &str, _: impl Fn(String) -> bool + 'static) -> Option<Watch> {
        None
    }
    pub async fn clear_private() {}
    pub fn is_online() -> bool {
        true
    }
    pub async fn server_reachable() -> bool {
        true
    }
    pub fn on_connectivity(_: impl Fn(bool) + 'static) {}
    pub fn on_install_available(_: impl Fn() + 'static) {}
    pub fn prompt_install() {}
    pub fn large_text_saved() -> bool {
        false
    }
    pub fn set_large_text(_: bool) {}
    pub fn register_service_worker() {}
}

pub use imp::*;
