//! Citizen: "Enviar mi lectura". The reading in m³ (exact litres), when it was taken
//! and an optional photo of the meter. Without JavaScript the form posts to
//! `POST /cuenta/lectura` (303 to the receipt, or back here with the message next to
//! its field). With JavaScript it is sent with a fresh idempotency key; without signal
//! it is kept on the phone ("Guardada; se enviará cuando tengas señal") and sent when
//! the signal comes back — by this page, at app start or by the service worker — once,
//! whatever happens, because the server stores one reading per key.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::FormError;
use super::bills::{OfflineBanner, use_online};
use crate::api::*;
use crate::error::AppError;
use crate::offline;

/// The form from what the phone saved (the dashboard), when the server cannot be
/// reached: the reading can still be taken and queued.
pub(crate) fn form_from_dashboard(d: &Dashboard) -> SelfReadForm {
    SelfReadForm {
        contract_id: d.contract_id,
        number: d.number.clone(),
        meter_serial: d.meter.as_ref().map(|m| m.serial.clone()),
        last_reading: d
            .readings
            .first()
            .map(|r| format!("{} el {}", r.value, r.date)),
        clave: String::new(),
        now_local: String::new(),
        oldest_local: String::new(),
        lectura: String::new(),
        fecha: String::new(),
        error: None,
    }
}

#[component]
pub fn CitizenSelfRead() -> AnyView {
    let data = Resource::new(|| (), |_| get_self_read_form());
    let online = use_online();
    view! {
        <Title text="Enviar mi lectura"/>
        <Suspense fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(f) => view! { <SelfReadPage f online fetched=None/> }.into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path="/entrar"/> }.into_any(),
                    Err(AppError::Offline) => match offline::load_dashboard().await {
                        Some(d) => {
                            online.set(false);
                            let fetched = Some(d.fetched_at.clone());
                            view! { <SelfReadPage f=form_from_dashboard(&d) online fetched/> }.into_any()
                        }
                        None => view! { <NoSavedAccount/> }.into_any(),
                    },
                    Err(e) => view! {
                        <h1>"Enviar mi lectura"</h1>
                        <p role="alert" class="form-error">{e.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
pub(crate) fn NoSavedAccount() -> impl IntoView {
    view! {
        <h1>"Sin conexión"</h1>
        <p>"No hay datos de tu cuenta guardados en este teléfono. Cuando tengas señal, entra a tu cuenta y la guardaremos para usarla sin conexión."</p>
        <p><a class="button" href="/cuenta">"Intentar de nuevo"</a></p>
    }
}

/// One field of the form: label, hint, the control, and its error next to it
/// (`aria-describedby`).
fn described(id: &str, hint: bool, error: Option<String>) -> Option<String> {
    let mut v = vec![];
    if hint {
        v.push(format!("{id}-ayuda"));
    }
    if error.is_some() {
        v.push(format!("{id}-error"));
    }
    (!v.is_empty()).then(|| v.join(" "))
}

/// The form and the readings saved on this phone. `fetched`: the form comes from the
/// saved dashboard (offline), updated then.
#[component]
pub(crate) fn SelfReadPage(
    f: SelfReadForm,
    online: RwSignal<bool>,
    fetched: Option<String>,
) -> AnyView {
    let error = RwSignal::new(f.error.clone());
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let pending = RwSignal::new(Vec::<PendingRead>::new());
    let lectura = NodeRef::<leptos::html::Input>::new();
    let fecha = NodeRef::<leptos::html::Input>::new();
    let foto = NodeRef::<leptos::html::Input>::new();
    let field_error = move |field: &'static str| {
        Signal::derive(move || error.get().filter(|e| e.field == field).map(|e| e.message))
    };
    let lectura_error = field_error("lectura");
    let fecha_error = field_error("fecha");
    let foto_error = field_error("foto");
    let general = Signal::derive(move || {
        error
            .get()
            .filter(|e| !matches!(e.field.as_str(), "lectura" | "fecha" | "foto"))
            .map(|e| e.message)
    });
    let echoed = f.error.is_some();
    // In the browser: the date defaults to the phone's now (the page may come from the
    // cache), and the list of saved readings follows the queue.
    Effect::new(move |_| {
        let refresh = move || {
            leptos::task::spawn_local(async move {
                let list = offline::pending_self_reads().await;
                let _ = pending.try_set(list);
            });
        };
        refresh();
        if !echoed && let Some(input) = fecha.get_untracked() {
            let (now, oldest) = offline::local_inputs(MAX_AGE_DAYS);
            input.set_value(&now);
            let _ = input.set_attribute("max", &now);
            let _ = input.set_attribute("min", &oldest);
        }
        let handle = window_event_listener_untyped(offline::READS_CHANGED, move |ev| {
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                let sent = ev
                    .dyn_ref::<web_sys::CustomEvent>()
                    .and_then(|c| c.detail().as_f64())
                    .unwrap_or(0.0) as u32;
                if sent > 0 {
                    let _ = status.try_set(Some(if sent == 1 {
                        "Enviamos tu lectura guardada.".to_string()
                    } else {
                        format!("Enviamos {sent} lecturas guardadas.")
                    }));
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = ev;
            refresh();
        });
        on_cleanup(move || handle.remove());
    });
    let navigate = leptos_router::hooks::use_navigate();
    let contract_id = f.contract_id;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            let text = lectura.get().map(|i| i.value()).unwrap_or_default();
            let litres = match parse_litres(&text) {
                Ok(l) => l,
                Err(m) => {
                    error.set(Some(FieldMessage {
                        field: "lectura".into(),
                        message: m.into(),
                    }));
                    if let Some(i) = lectura.get() {
                        let _ = i.focus();
                    }
                    return;
                }
            };
            let when = fecha.get().map(|i| i.value()).unwrap_or_default();
            let (taken_at, taken_label) = match offline::taken_at(&when, MAX_AGE_DAYS) {
                Ok(t) => t,
                Err(m) => {
                    error.set(Some(FieldMessage {
                        field: "fecha".into(),
                        message: m.into(),
                    }));
                    if let Some(i) = fecha.get() {
                        let _ = i.focus();
                    }
                    return;
                }
            };
            let photo_input = foto.get();
            error.set(None);
            status.set(None);
            busy.set(true);
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                let photo = match photo_input.as_ref() {
                    Some(i) => offline::read_photo(i, MAX_PHOTO_BYTES).await,
                    None => Ok(None),
                };
                let photo = match photo {
                    Ok(p) => p,
                    Err(m) => {
                        error.set(Some(FieldMessage {
                            field: "foto".into(),
                            message: m.into(),
                        }));
                        busy.set(false);
                        return;
                    }
                };
                let item = QueuedRead {
                    clave: offline::new_idempotency_key(),
                    contract_id,
                    litres,
                    taken_at,
                    taken_label,
                    photo,
                };
                let mut saved_note = "Guardada; se enviará cuando tengas señal.".to_string();
                if offline::is_online() {
                    status.set(Some("Enviando tu lectura…".into()));
                    match offline::send_self_read(&item).await {
                        SendOutcome::Sent { receipt_url } => {
                            navigate(&receipt_url, Default::default());
                            return;
                        }
                        SendOutcome::Refused { field, message } => {
                            error.set(Some(FieldMessage { field, message }));
                            status.set(None);
                            busy.set(false);
                            return;
                        }
                        SendOutcome::Later { message } => {
                            if offline::server_reachable().await {
                                saved_note = format!(
                                    "Guardada en este teléfono; la enviaremos después. {message}"
                                );
                            } else {
                                online.set(false);
                            }
                        }
                    }
                } else {
                    online.set(false);
                }
                if offline::queue_self_read(&item).await {
                    status.set(Some(saved_note));
                    if let Some(i) = lectura.get_untracked() {
                        i.set_value("");
                    }
                    if let Some(i) = photo_input {
                        i.set_value("");
                    }
                } else {
                    status.set(None);
                    error.set(Some(FieldMessage {
                        field: "form".into(),
                        message: "No pudimos guardar la lectura en este teléfono. Inténtalo cuando tengas señal.".into(),
                    }));
                }
                busy.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&navigate, contract_id, lectura, fecha, foto);
    };
    let send_now = move |_| {
        status.set(Some("Enviando tus lecturas guardadas…".into()));
        leptos::task::spawn_local(async move {
            let s = offline::flush_self_reads().await;
            if s.sent == 0 {
                let _ = status.try_set(Some(if s.refused > 0 {
                    "Revisa las lecturas que no se aceptaron.".to_string()
                } else {
                    "Todavía no se pudieron enviar; lo intentaremos cuando tengas señal."
                        .to_string()
                }));
            }
        });
    };
    let has_meter = f.meter_serial.is_some();
    view! {
        {fetched.map(|fetched| view! { <OfflineBanner online fetched/> })}
        <p><a href="/cuenta">"← Mi cuenta"</a></p>
        <h1>"Enviar mi lectura"</h1>
        <p class="lead">"Contrato " <span class="contract-number">{f.number.clone()}</span></p>
        <div role="status" class="status-slot">
            {move || status.get().map(|s| view! { <p class="notice self-read-status">{s}</p> })}
        </div>
        {if has_meter {
            view! {
                <section class="card" aria-labelledby="h-lectura">
                    <h2 id="h-lectura">{format!("Medidor {}", f.meter_serial.clone().unwrap_or_default())}</h2>
                    {f.last_reading.clone().map(|l| view! { <p>"Tu última lectura registrada: " <strong class="last-reading">{l}</strong></p> })}
                    <FormError error=general/>
                    <form method="post" action=SELF_READ_URL enctype="multipart/form-data" class="stack"
                        novalidate=true on:submit=on_submit>
                        <input type="hidden" name="clave" value=f.clave.clone()/>
                        <input type="hidden" name="contrato" value=f.contract_id.to_string()/>
                        <div class="field" class:invalid=move || lectura_error.get().is_some()>
                            <label for="lectura">"Lectura del medidor (m³)"</label>
                            <p class="hint" id="lectura-ayuda">"Escribe los números negros; los rojos van después del punto (litros). Ejemplo: 1234.567"</p>
                            <input id="lectura" name="lectura" type="text" inputmode="decimal" autocomplete="off"
                                maxlength="20" required=true value=f.lectura.clone() node_ref=lectura
                                autofocus=f.error.as_ref().is_some_and(|e| e.field == "lectura")
                                aria-invalid=move || lectura_error.get().is_some().to_string()
                                aria-describedby=move || described("lectura", true, lectura_error.get())/>
                            {move || lectura_error.get().map(|e| view! { <p class="field-error" id="lectura-error">{e}</p> })}
                        </div>
                        <div class="field" class:invalid=move || fecha_error.get().is_some()>
                            <label for="fecha">"Fecha y hora de la lectura"</label>
                            <p class="hint" id="fecha-ayuda">"Cámbiala si la tomaste antes (hasta 7 días)."</p>
                            <input id="fecha" name="fecha" type="datetime-local" value=f.fecha.clone()
                                max=f.now_local.clone() min=f.oldest_local.clone() node_ref=fecha
                                aria-invalid=move || fecha_error.get().is_some().to_string()
                                aria-describedby=move || described("fecha", true, fecha_error.get())/>
                            {move || fecha_error.get().map(|e| view! { <p class="field-error" id="fecha-error">{e}</p> })}
                        </div>
                        <div class="field" class:invalid=move || foto_error.get().is_some()>
                            <label for="foto">"Foto del medidor (opcional)"</label>
                            <p class="hint" id="foto-ayuda">"Que se vean bien los números. JPG, PNG o WebP de hasta 5 MB."</p>
                            <input id="foto" name="foto" type="file" accept="image/jpeg,image/png,image/webp"
                                capture="environment" node_ref=foto
                                aria-invalid=move || foto_error.get().is_some().to_string()
                                aria-describedby=move || described("foto", true, foto_error.get())/>
                            {move || foto_error.get().map(|e| view! { <p class="field-error" id="foto-error">{e}</p> })}
                        </div>
                        <button type="submit" class="primary" disabled=move || busy.get()>
                            {move || if busy.get() { "Enviando…" } else { "Enviar lectura" }}
                        </button>
                    </form>
                </section>
            }.into_any()
        } else {
            view! { <p class="notice">"Tu toma no tiene medidor registrado; no hace falta enviar lectura."</p> }.into_any()
        }}
        {move || {
            let list = pending.get();
            (!list.is_empty()).then(|| view! {
                <section class="card" aria-labelledby="h-guardadas">
                    <h2 id="h-guardadas">"Lecturas guardadas en este teléfono"</h2>
                    <ul class="queued-reads">
                        {list.into_iter().map(|p| {
                            let clave = p.clave.clone();
                            view! {
                                <li class="queued-read">
                                    <strong>{p.value.clone()}</strong>
                                    {format!(" · {}", p.taken_label)}
                                    {match p.refused.clone() {
                                        None => view! { <span class="tag">" · Pendiente de enviar"</span> }.into_any(),
                                        Some(m) => view! {
                                            <p class="field-error">{format!("No se aceptó: {m}")}</p>
                                            <button type="button" on:click=move |_| {
                                                let clave = clave.clone();
                                                leptos::task::spawn_local(async move { offline::dismiss_self_read(&clave).await });
                                            }>"Quitar de la lista"</button>
                                        }.into_any(),
                                    }}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <button type="button" on:click=send_now disabled=move || !online.get()>"Enviar ahora"</button>
                </section>
            })
        }}
        <p><a href="/cuenta/consumo">"Ver mi consumo"</a></p>
    }
    .into_any()
}

/// After a reading was sent (`?clave=`): what the server answered.
#[component]
pub fn CitizenSelfReadReceipt() -> AnyView {
    let query = use_query_map();
    let data = Resource::new(
        move || query.read().get("clave").unwrap_or_default(),
        get_self_read_receipt,
    );
    view! {
        <Title text="Lectura enviada"/>
        <p><a href="/cuenta">"← Mi cuenta"</a></p>
        <Suspense fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) => view! {
                        <h1>{if r.accepted { "Recibimos tu lectura" } else { "No aceptamos tu lectura" }}</h1>
                        <p role="status" class="notice self-read-receipt">{r.message.clone()}</p>
                        <section class="card" aria-labelledby="h-detalle">
                            <h2 id="h-detalle">"Detalle"</h2>
                            <dl class="facts">
                                <dt>"Contrato"</dt><dd>{r.contract.clone()}</dd>
                                <dt>"Lectura"</dt><dd class="receipt-value">{r.value.clone()}</dd>
                                <dt>"Fecha y hora"</dt><dd>{r.date.clone()}</dd>
                            </dl>
                        </section>
                        <p class="actions">
                            <a class="button primary" href="/cuenta/consumo">"Ver mi consumo"</a>
                            <a class="button" href="/cuenta">"Volver a mi cuenta"</a>
                        </p>
                    }.into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path="/entrar"/> }.into_any(),
                    Err(e) => view! {
                        <h1>"Lectura"</h1>
                        <p role="alert" class="form-error">{e.to_string()}</p>
                        <p><a href="/cuenta/lectura">"Enviar mi lectura"</a></p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}
