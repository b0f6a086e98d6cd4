//! Browser-only helpers: IndexedDB snapshot (rexie) of the dashboard, its alerts, the
//! consumption charts and the last bills with their PDFs; the queue of meter readings
//! taken without signal (store `lecturas`, sent when the signal comes back: `online`,
//! app start, Background Sync in the service worker); connectivity, install prompt,
//! large-text preference, service-worker messages, server-sent events. On the server
//! they are no-ops, so components can call them unconditionally from effects.

#[cfg(feature = "hydrate")]
mod imp {
    use std::cell::RefCell;

    use rexie::{ObjectStore, Rexie, TransactionMode};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    use crate::api::{
        AlertView, BillDetail, BillList, ConsumptionView, Dashboard, FlushSummary, PendingRead,
        QueuedRead, SELF_READ_URL, SendOutcome, is_final_refusal, litres_to_m3_text, m3_label,
    };

    const DB: &str = "supra";
    /// Version 2 added the bills and their PDFs, 3 the queue of readings; existing
    /// stores are kept (the service worker opens the same database).
    const DB_VERSION: u32 = 3;
    /// JSON snapshots: the dashboard (`KEY`) and the bills list (`LIST_KEY`).
    const STORE: &str = "snapshots";
    const KEY: &str = "dashboard";
    const LIST_KEY: &str = "bills";
    /// One bill's detail as JSON, keyed by invoice id.
    const BILLS: &str = "bills";
    /// One bill's PDF, keyed by invoice id: `{version, blob}`.
    const PDFS: &str = "pdfs";
    /// Meter readings waiting to be sent, keyed by their idempotency key (`clave`).
    /// Each record: `clave`, `contrato`, `litros` and `lectura` (exact m³ text), `fecha`
    /// (RFC 3339 or empty), `fecha_texto`, `foto` (`Uint8Array`) and `foto_tipo`,
    /// `estado` (`pendiente` | `rechazada`), `mensaje`, `campo`. The service worker
    /// (`sw/src/lib.rs`) reads and sends the same records.
    const READS: &str = "lecturas";
    const ALL_STORES: [&str; 4] = [STORE, BILLS, PDFS, READS];
    /// Snapshot keys of "Mi consumo" and of the dashboard's alerts.
    const CONSUMPTION_KEY: &str = "consumo";
    const ALERTS_KEY: &str = "alertas";
    /// Background Sync tag the service worker flushes the queue on.
    const SYNC_TAG: &str = "supra-lecturas";
    /// Window event (a `CustomEvent` whose `detail` is the number of readings just
    /// sent) fired whenever the queue changes.
    pub const READS_CHANGED: &str = "supra-lecturas";
    /// What the service worker posts to the pages after sending queued readings.
    const SW_READS_MESSAGE: &str = "lecturas-actualizadas";
    const PENDING: &str = "pendiente";
    const REFUSED: &str = "rechazada";

    async fn open() -> Option<Rexie> {
        Rexie::builder(DB)
            .version(DB_VERSION)
            .add_object_store(ObjectStore::new(STORE))
            .add_object_store(ObjectStore::new(BILLS))
            .add_object_store(ObjectStore::new(PDFS))
            .add_object_store(ObjectStore::new(READS))
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

    pub async fn save_consumption(v: &ConsumptionView) {
        put_json(STORE, CONSUMPTION_KEY, v).await;
    }

    pub fn load_consumption() -> impl std::future::Future<Output = Option<ConsumptionView>> + Send {
        send_wrapper::SendWrapper::new(get_json(STORE, CONSUMPTION_KEY))
    }

    pub async fn save_alerts(a: &[AlertView]) {
        put_json(STORE, ALERTS_KEY, &a).await;
    }

    pub fn load_alerts() -> impl std::future::Future<Output = Option<Vec<AlertView>>> + Send {
        send_wrapper::SendWrapper::new(get_json(STORE, ALERTS_KEY))
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

    // ------------------------------------------------------------ queued readings

    fn set(o: &js_sys::Object, k: &str, v: &JsValue) {
        let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), v);
    }

    fn text_of(o: &JsValue, k: &str) -> Option<String> {
        js_sys::Reflect::get(o, &JsValue::from_str(k))
            .ok()?
            .as_string()
    }

    fn record_of(r: &QueuedRead) -> js_sys::Object {
        let o = js_sys::Object::new();
        set(&o, "clave", &JsValue::from_str(&r.clave));
        set(
            &o,
            "contrato",
            &JsValue::from_str(&r.contract_id.to_string()),
        );
        set(&o, "litros", &JsValue::from_str(&r.litres.to_string()));
        set(
            &o,
            "lectura",
            &JsValue::from_str(&litres_to_m3_text(r.litres)),
        );
        set(&o, "fecha", &JsValue::from_str(&r.taken_at));
        set(&o, "fecha_texto", &JsValue::from_str(&r.taken_label));
        if let Some((bytes, kind)) = &r.photo {
            set(&o, "foto", &js_sys::Uint8Array::from(bytes.as_slice()));
            set(&o, "foto_tipo", &JsValue::from_str(kind));
        }
        set(&o, "estado", &JsValue::from_str(PENDING));
        set(&o, "guardada", &js_sys::Date::new_0().to_iso_string());
        o
    }

    fn queued_of(v: &JsValue) -> Option<QueuedRead> {
        let photo = js_sys::Reflect::get(v, &JsValue::from_str("foto"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Uint8Array>().ok())
            .map(|a| (a.to_vec(), text_of(v, "foto_tipo").unwrap_or_default()));
        Some(QueuedRead {
            clave: text_of(v, "clave")?,
            contract_id: text_of(v, "contrato")?.parse().ok()?,
            litres: text_of(v, "litros")?.parse().ok()?,
            taken_at: text_of(v, "fecha").unwrap_or_default(),
            taken_label: text_of(v, "fecha_texto").unwrap_or_default(),
            photo,
        })
    }

    async fn all_reads() -> Vec<JsValue> {
        let Some(db) = open().await else {
            return Vec::new();
        };
        let Ok(tx) = db.transaction(&[READS], TransactionMode::ReadOnly) else {
            return Vec::new();
        };
        let Ok(store) = tx.store(READS) else {
            return Vec::new();
        };
        store.get_all(None, None).await.unwrap_or_default()
    }

    /// Tell the pages (the list of saved readings) that the queue changed.
    fn announce(sent: u32) {
        let Some(w) = web_sys::window() else { return };
        let init = web_sys::CustomEventInit::new();
        init.set_detail(&JsValue::from(sent));
        if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(READS_CHANGED, &init) {
            let _ = w.dispatch_event(&ev);
        }
    }

    /// Keep a reading on the phone until it can be sent, and ask the service worker
    /// to send it when the signal comes back (Background Sync, where supported).
    pub async fn queue_self_read(r: &QueuedRead) -> bool {
        let ok = put(READS, &r.clave, &record_of(r)).await;
        if ok {
            request_background_sync();
            announce(0);
        }
        ok
    }

    /// The readings kept on this phone, oldest first.
    pub async fn pending_self_reads() -> Vec<PendingRead> {
        let mut list: Vec<(String, PendingRead)> = all_reads()
            .await
            .iter()
            .filter_map(|v| {
                let litres: i64 = text_of(v, "litros")?.parse().ok()?;
                Some((
                    text_of(v, "guardada").unwrap_or_default(),
                    PendingRead {
                        clave: text_of(v, "clave")?,
                        value: m3_label(litres),
                        taken_label: text_of(v, "fecha_texto").unwrap_or_default(),
                        refused: (text_of(v, "estado").as_deref() == Some(REFUSED))
                            .then(|| text_of(v, "mensaje").unwrap_or_default()),
                    },
                ))
            })
            .collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        list.into_iter().map(|(_, p)| p).collect()
    }

    /// Forget a saved reading (one the server refused, once the person has read why).
    pub async fn dismiss_self_read(clave: &str) {
        if let Some(db) = open().await
            && let Ok(tx) = db.transaction(&[READS], TransactionMode::ReadWrite)
        {
            if let Ok(store) = tx.store(READS) {
                let _ = store.delete(JsValue::from_str(clave)).await;
            }
            let _ = tx.done().await;
        }
        announce(0);
    }

    /// POST one reading (`multipart/form-data`, as the form without JavaScript would,
    /// asking for JSON). The server stores one reading per `clave`, so sending again
    /// is safe.
    pub async fn send_self_read(r: &QueuedRead) -> SendOutcome {
        let later = |m: &str| SendOutcome::Later {
            message: m.to_string(),
        };
        let no_signal = "Sin conexión.";
        let Some(w) = web_sys::window() else {
            return later(no_signal);
        };
        let Ok(form) = web_sys::FormData::new() else {
            return later(no_signal);
        };
        let _ = form.append_with_str("clave", &r.clave);
        let _ = form.append_with_str("contrato", &r.contract_id.to_string());
        let _ = form.append_with_str("lectura", &litres_to_m3_text(r.litres));
        let _ = form.append_with_str("fecha", &r.taken_at);
        if let Some((bytes, kind)) = &r.photo {
            let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
            let opts = web_sys::BlobPropertyBag::new();
            opts.set_type(kind);
            if let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts) {
                let _ = form.append_with_blob_and_filename("foto", &blob, "medidor");
            }
        }
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&form);
        if let Ok(h) = web_sys::Headers::new() {
            let _ = h.set("accept", "application/json");
            init.set_headers(&h);
        }
        let resp = match wasm_bindgen_futures::JsFuture::from(
            w.fetch_with_str_and_init(SELF_READ_URL, &init),
        )
        .await
        {
            Ok(r) => r.unchecked_into::<web_sys::Response>(),
            Err(_) => return later(no_signal),
        };
        let status = resp.status();
        let body = match resp.json() {
            Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
                .await
                .unwrap_or(JsValue::NULL),
            Err(_) => JsValue::NULL,
        };
        let text = |k: &str| text_of(&body, k);
        if (200..300).contains(&status) {
            return SendOutcome::Sent {
                receipt_url: text("recibo").unwrap_or_else(|| "/cuenta".into()),
            };
        }
        if is_final_refusal(status) {
            return SendOutcome::Refused {
                field: text("campo").unwrap_or_else(|| "lectura".into()),
                message: text("error").unwrap_or_else(|| "No pudimos aceptar esta lectura.".into()),
            };
        }
        later(
            &text("error")
                .unwrap_or_else(|| "No pudimos enviarla; lo intentaremos de nuevo.".into()),
        )
    }

    thread_local! {
        static FLUSHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Send every saved reading that is still pending, oldest first: sent ones leave
    /// the queue, refused ones stay with their message, and the pass stops at the
    /// first one that must wait (no signal, session ended).
    pub async fn flush_self_reads() -> FlushSummary {
        let mut sum = FlushSummary::default();
        if FLUSHING.with(|f| f.replace(true)) {
            return sum;
        }
        let mut items: Vec<(String, JsValue)> = all_reads()
            .await
            .into_iter()
            .filter(|v| text_of(v, "estado").as_deref() != Some(REFUSED))
            .map(|v| (text_of(&v, "guardada").unwrap_or_default(), v))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, v) in items {
            let Some(q) = queued_of(&v) else { continue };
            match send_self_read(&q).await {
                SendOutcome::Sent { .. } => {
                    sum.sent += 1;
                    if let Some(db) = open().await
                        && let Ok(tx) = db.transaction(&[READS], TransactionMode::ReadWrite)
                    {
                        if let Ok(store) = tx.store(READS) {
                            let _ = store.delete(JsValue::from_str(&q.clave)).await;
                        }
                        let _ = tx.done().await;
                    }
                }
                SendOutcome::Refused { field, message } => {
                    sum.refused += 1;
                    set(v.unchecked_ref(), "estado", &JsValue::from_str(REFUSED));
                    set(v.unchecked_ref(), "mensaje", &JsValue::from_str(&message));
                    set(v.unchecked_ref(), "campo", &JsValue::from_str(&field));
                    put(READS, &q.clave, &v).await;
                }
                SendOutcome::Later { .. } => {
                    sum.left += 1;
                    break;
                }
            }
        }
        FLUSHING.with(|f| f.set(false));
        if sum.sent > 0 || sum.refused > 0 {
            announce(sum.sent);
        }
        sum
    }

    /// Ask the service worker to send the queue when the signal comes back, even with
    /// the app closed (Background Sync; browsers without it rely on [`flush_self_reads`]
    /// at start and on `online`).
    pub fn request_background_sync() {
        let Some(w) = web_sys::window() else { return };
        let Ok(ready) = w.navigator().service_worker().ready() else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(reg) = wasm_bindgen_futures::JsFuture::from(ready).await else {
                return;
            };
            let Ok(sync) = js_sys::Reflect::get(&reg, &JsValue::from_str("sync")) else {
                return;
            };
            if sync.is_undefined() || sync.is_null() {
                return;
            }
            let Some(register) = js_sys::Reflect::get(&sync, &JsValue::from_str("register"))
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            else {
                return;
            };
            if let Ok(p) = register.call1(&sync, &JsValue::from_str(SYNC_TAG))
                && let Ok(p) = p.dyn_into::<js_sys::Promise>()
            {
                let _ = wasm_bindgen_futures::JsFuture::from(p).await;
            }
        });
    }

    /// At app start: send what is waiting, again whenever the signal comes back, and
    /// pass the service worker's "sent" messages on to the pages.
    pub fn start_self_read_sync() {
        let Some(w) = web_sys::window() else { return };
        let on_online = Closure::<dyn Fn()>::new(|| flush_with_retries(0));
        let _ = w.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        on_online.forget();
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(|ev: web_sys::MessageEvent| {
                let data = ev.data();
                if text_of(&data, "tipo").as_deref() == Some(SW_READS_MESSAGE) {
                    let sent = js_sys::Reflect::get(&data, &JsValue::from_str("enviadas"))
                        .ok()
                        .and_then(|v| v.as_f64())
                        .unwrap_or(0.0);
                    announce(if sent > 0.0 { sent as u32 } else { 0 });
                }
            });
        let _ = w
            .navigator()
            .service_worker()
            .add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        on_message.forget();
        wasm_bindgen_futures::spawn_local(async {
            let waiting = all_reads()
                .await
                .iter()
                .any(|v| text_of(v, "estado").as_deref() == Some(PENDING));
            if waiting {
                request_background_sync();
                if is_online() {
                    flush_with_retries(0);
                }
            }
        });
    }

    /// Send the queue; if some must wait (the link often comes back a moment after the
    /// `online` event), try again a few times, a little later each time.
    fn flush_with_retries(attempt: u32) {
        wasm_bindgen_futures::spawn_local(async move {
            let s = flush_self_reads().await;
            if s.left > 0
                && attempt < 4
                && is_online()
                && let Some(w) = web_sys::window()
            {
                let again = Closure::once_into_js(move || flush_with_retries(attempt + 1));
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                    again.unchecked_ref(),
                    2_000 * (attempt as i32 + 1),
                );
            }
        });
    }

    /// A random (v4) UUID: the idempotency key of one reading.
    pub fn new_idempotency_key() -> String {
        let mut b = [0u8; 16];
        let ok = web_sys::window()
            .and_then(|w| w.crypto().ok())
            .is_some_and(|c| c.get_random_values_with_u8_array(&mut b).is_ok());
        if !ok {
            for x in b.iter_mut() {
                *x = (js_sys::Math::random() * 256.0) as u8;
            }
        }
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    fn input_value(d: &js_sys::Date) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date(),
            d.get_hours(),
            d.get_minutes()
        )
    }

    /// Now and `days` ago in the phone's time, as `datetime-local` values.
    pub fn local_inputs(days: i64) -> (String, String) {
        let now = js_sys::Date::new_0();
        let then = js_sys::Date::new(&JsValue::from_f64(
            now.get_time() - days as f64 * 86_400_000.0,
        ));
        (input_value(&now), input_value(&then))
    }

    /// A `datetime-local` value (the phone's time) → (RFC 3339 UTC, "24/11/2026 10:15"),
    /// or why it cannot be used. Empty: now.
    pub fn taken_at(value: &str, max_age_days: i64) -> Result<(String, String), &'static str> {
        let now = js_sys::Date::new_0();
        let v = value.trim();
        let d = if v.is_empty() {
            now.clone()
        } else {
            js_sys::Date::new(&JsValue::from_str(v))
        };
        let t = d.get_time();
        if t.is_nan() {
            return Err("Escribe la fecha y la hora de la lectura, por ejemplo 24/11/2026 10:15.");
        }
        if t > now.get_time() + 5.0 * 60_000.0 {
            return Err("La fecha y la hora no pueden ser posteriores a este momento.");
        }
        if t < now.get_time() - max_age_days as f64 * 86_400_000.0 {
            return Err("Solo puedes enviar lecturas de los últimos 7 días.");
        }
        let label = format!(
            "{:02}/{:02}/{:04} {:02}:{:02}",
            d.get_date(),
            d.get_month() + 1,
            d.get_full_year(),
            d.get_hours(),
            d.get_minutes()
        );
        Ok((String::from(d.to_iso_string()), label))
    }

    /// The photo chosen in a file input: (bytes, content type), or why not.
    pub async fn read_photo(
        input: &web_sys::HtmlInputElement,
        max_bytes: usize,
    ) -> Result<Option<(Vec<u8>, String)>, &'static str> {
        let Some(file) = input.files().and_then(|f| f.item(0)) else {
            return Ok(None);
        };
        if file.size() > max_bytes as f64 {
            return Err("La foto pesa más de 5 MB; toma una más ligera.");
        }
        let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
            .await
            .map_err(|_| "No pudimos leer la foto; elige otra.")?;
        Ok(Some((js_sys::Uint8Array::new(&buf).to_vec(), file.type_())))
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
    use crate::api::{
        AlertView, BillDetail, BillList, ConsumptionView, Dashboard, FlushSummary, PendingRead,
        QueuedRead, SendOutcome,
    };
    pub const READS_CHANGED: &str = "supra-lecturas";
    pub async fn save_consumption(_: &ConsumptionView) {}
    pub async fn load_consumption() -> Option<ConsumptionView> {
        None
    }
    pub async fn save_alerts(_: &[AlertView]) {}
    pub async fn load_alerts() -> Option<Vec<AlertView>> {
        None
    }
    pub async fn queue_self_read(_: &QueuedRead) -> bool {
        false
    }
    pub async fn pending_self_reads() -> Vec<PendingRead> {
        Vec::new()
    }
    pub async fn dismiss_self_read(_: &str) {}
    pub async fn send_self_read(_: &QueuedRead) -> SendOutcome {
        SendOutcome::Later {
            message: String::new(),
        }
    }
    pub async fn flush_self_reads() -> FlushSummary {
        FlushSummary::default()
    }
    pub fn request_background_sync() {}
    pub fn start_self_read_sync() {}
    pub fn new_idempotency_key() -> String {
        String::new()
    }
    pub fn local_inputs(_: i64) -> (String, String) {
        (String::new(), String::new())
    }
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
