//! Browser-only helpers: IndexedDB snapshot (rexie), connectivity, install prompt,
//! large-text preference, service-worker messages. On the server they are no-ops,
//! so components can call them unconditionally from effects.

#[cfg(feature = "hydrate")]
mod imp {
    use std::cell::RefCell;

    use rexie::{ObjectStore, Rexie, TransactionMode};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    use crate::api::Dashboard;

    const DB: &str = "supra";
    const STORE: &str = "snapshots";
    const KEY: &str = "dashboard";

    async fn open() -> Option<Rexie> {
        Rexie::builder(DB)
            .version(1)
            .add_object_store(ObjectStore::new(STORE))
            .build()
            .await
            .ok()
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
            && let Ok(tx) = db.transaction(&[STORE], TransactionMode::ReadWrite)
        {
            if let Ok(store) = tx.store(STORE) {
                let _ = store.clear().await;
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
    use crate::api::Dashboard;
    pub async fn save_dashboard(_: &Dashboard) {}
    pub async fn load_dashboard() -> Option<Dashboard> {
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
