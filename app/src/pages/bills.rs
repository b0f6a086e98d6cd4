//! The citizen's bills: list with a paid/unpaid filter, one bill in detail with its
//! PDF. Online they come from the server; the list, the last 6 bills and their PDFs
//! are kept in IndexedDB and shown from there without signal.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::*;
use crate::error::AppError;
use crate::offline;

/// Whether the server answers: `navigator.onLine`, its events, and the `/healthz`
/// probe (the service worker answers it 503 without network, so a page served from
/// its cache knows it is offline).
pub(crate) fn use_online() -> RwSignal<bool> {
    let online = RwSignal::new(true);
    Effect::new(move |_| {
        online.set(offline::is_online());
        offline::on_connectivity(move |v| {
            if v {
                spawn_local(async move { online.set(offline::server_reachable().await) });
            } else {
                online.set(false);
            }
        });
        spawn_local(async move {
            if !offline::server_reachable().await {
                online.set(false);
            }
        });
    });
    online
}

#[component]
pub(crate) fn OfflineBanner(online: RwSignal<bool>, fetched: String) -> impl IntoView {
    view! {
        <Show when=move || !online.get()>
            <p class="offline-banner" role="status">"Sin conexión · actualizado el " {fetched.clone()}</p>
        </Show>
    }
}

/// The `?estado=` filter of the bills list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BillFilter {
    Pending,
    Paid,
    All,
}

impl BillFilter {
    pub(crate) fn from_query(v: Option<&str>) -> Self {
        match v {
            Some("pendientes") => BillFilter::Pending,
            Some("pagados") => BillFilter::Paid,
            _ => BillFilter::All,
        }
    }
    fn code(self) -> &'static str {
        match self {
            BillFilter::Pending => "pendientes",
            BillFilter::Paid => "pagados",
            BillFilter::All => "todos",
        }
    }
    fn label(self) -> &'static str {
        match self {
            BillFilter::Pending => "Por pagar",
            BillFilter::Paid => "Pagados",
            BillFilter::All => "Todos",
        }
    }
    fn matches(self, r: &BillRow) -> bool {
        match self {
            BillFilter::Pending => r.open,
            BillFilter::Paid => r.status == "pagada",
            BillFilter::All => true,
        }
    }
    fn empty_message(self) -> &'static str {
        match self {
            BillFilter::Pending => "No tienes recibos por pagar.",
            BillFilter::Paid => "Todavía no hay recibos pagados.",
            BillFilter::All => "Todavía no hay recibos para este contrato.",
        }
    }
}

/// Status in words, never by colour alone.
#[component]
pub(crate) fn StatusBadge(status: String, label: String) -> impl IntoView {
    view! { <span class=format!("badge badge-{status}")>{label}</span> }
}

/// Keep the list, the newest bills and their PDFs on this phone (browser only).
#[cfg(feature = "hydrate")]
fn save_for_offline(list: BillList, saved: RwSignal<Option<usize>>) {
    spawn_local(async move {
        if !offline::is_online() {
            return;
        }
        offline::save_bill_list(&list).await;
        let Ok(details) = get_bills_offline().await else {
            return;
        };
        let mut ok = 0;
        for d in &details {
            if offline::save_bill(d).await {
                ok += 1;
            }
        }
        let ids: Vec<i64> = details.iter().map(|d| d.row.id).collect();
        offline::keep_only_bills(&ids).await;
        saved.set(Some(ok));
    });
}

#[component]
pub fn CitizenBills() -> AnyView {
    let data = Resource::new(|| (), |_| get_bills());
    let online = use_online();
    let saved = RwSignal::new(None::<usize>);
    view! {
        <Title text="Mis recibos"/>
        <Suspense fallback=|| view! { <p>"Cargando tus recibos…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(l) => {
                        #[cfg(feature = "hydrate")]
                        save_for_offline(l.clone(), saved);
                        view! { <BillListView l online saved/> }.into_any()
                    }
                    Err(AppError::Unauthorized) => view! { <Redirect path="/entrar"/> }.into_any(),
                    Err(AppError::Offline) => match offline::load_bill_list().await {
                        Some(l) => {
                            online.set(false);
                            view! { <BillListView l online saved/> }.into_any()
                        }
                        None => view! { <NoSavedBills/> }.into_any(),
                    },
                    Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn NoSavedBills() -> impl IntoView {
    view! {
        <h1>"Sin conexión"</h1>
        <p>"No hay recibos guardados en este teléfono. Cuando tengas señal, abre tus recibos y los guardaremos para consultarlos sin conexión."</p>
        <p><a class="button" href="/cuenta/recibos">"Intentar de nuevo"</a></p>
    }
}

#[component]
pub(crate) fn BillListView(
    l: BillList,
    online: RwSignal<bool>,
    saved: RwSignal<Option<usize>>,
) -> AnyView {
    let query = use_query_map();
    let filter = Memo::new(move |_| BillFilter::from_query(query.read().get("estado").as_deref()));
    let rows = StoredValue::new(l.rows.clone());
    let summary = if l.pending_count == 0 {
        "No tienes recibos por pagar.".to_string()
    } else {
        format!(
            "{} {} por pagar · {}",
            l.pending_count,
            if l.pending_count == 1 {
                "recibo"
            } else {
                "recibos"
            },
            l.pending_total
        )
    };
    view! {
        <OfflineBanner online fetched=l.fetched_at.clone()/>
        <h1>"Mis recibos"</h1>
        <p class="lead">"Contrato " <span class="contract-number">{l.contract_number.clone()}</span></p>
        <p class="pending-summary">{summary}</p>
        <nav class="filters" aria-label="Filtrar recibos">
            <ul>
                {[BillFilter::Pending, BillFilter::Paid, BillFilter::All].into_iter().map(|f| view! {
                    <li>
                        <a href=format!("/cuenta/recibos?estado={}", f.code())
                            class="button"
                            aria-current=move || (filter.get() == f).then_some("page")>
                            {f.label()}
                        </a>
                    </li>
                }).collect_view()}
            </ul>
        </nav>
        {move || {
            let f = filter.get();
            let shown: Vec<BillRow> = rows.with_value(|r| r.iter().filter(|b| f.matches(b)).cloned().collect());
            if shown.is_empty() {
                view! { <p class="notice" role="status">{f.empty_message()}</p> }.into_any()
            } else {
                view! {
                    <div class="card">
                        <table class="bills">
                            <caption class="visually-hidden">{format!("Recibos: {}", f.label().to_lowercase())}</caption>
                            <thead><tr>
                                <th scope="col">"Periodo"</th>
                                <th scope="col">"Total"</th>
                                <th scope="col">"Estado"</th>
                                <th scope="col">"Vence"</th>
                            </tr></thead>
                            <tbody>
                                {shown.into_iter().map(|b| view! {
                                    <tr>
                                        <th scope="row"><a href=format!("/cuenta/recibos/{}", b.id)>{b.period.clone()}</a></th>
                                        <td>{b.total.clone()}</td>
                                        <td><StatusBadge status=b.status.clone() label=b.status_label.clone()/></td>
                                        <td>{b.due_date.clone()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }
        }}
        {move || saved.get().filter(|n| *n > 0).map(|n| view! {
            <p class="saved-note">{format!("{n} recibos guardados en este teléfono para consultarlos sin conexión.")}</p>
        })}
        <p><a href="/cuenta">"Volver a mi cuenta"</a></p>
    }
    .into_any()
}

#[component]
pub fn CitizenBill() -> AnyView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let data = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_bill(id).await,
            None => Err(AppError::NotFound),
        }
    });
    let online = use_online();
    let saved = RwSignal::new(false);
    view! {
        <Title text="Recibo"/>
        <Suspense fallback=|| view! { <p>"Cargando tu recibo…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => {
                        #[cfg(feature = "hydrate")]
                        {
                            let save = d.clone();
                            spawn_local(async move {
                                if offline::is_online() && offline::save_bill(&save).await {
                                    saved.set(true);
                                }
                            });
                        }
                        view! { <CitizenBillView d online saved/> }.into_any()
                    }
                    Err(AppError::Unauthorized) => view! { <Redirect path="/entrar"/> }.into_any(),
                    Err(AppError::Offline) => match offline::load_bill(id().unwrap_or_default()).await {
                        Some(d) => {
                            online.set(false);
                            view! { <CitizenBillView d online saved/> }.into_any()
                        }
                        None => view! { <NoSavedBills/> }.into_any(),
                    },
                    Err(e) => view! {
                        <h1>"Recibo"</h1>
                        <p role="alert" class="form-error">{e.to_string()}</p>
                        <p><a href="/cuenta/recibos">"Ver mis recibos"</a></p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
pub(crate) fn CitizenBillView(
    d: BillDetail,
    online: RwSignal<bool>,
    saved: RwSignal<bool>,
) -> AnyView {
    let id = d.row.id;
    let server_url = format!("/cuenta/recibos/{id}/pdf");
    let href = RwSignal::new(server_url.clone());
    let cached_pdf = RwSignal::new(None::<bool>);
    // Without signal the link opens the copy saved on this phone.
    Effect::new(move |_| {
        if !online.get() {
            spawn_local(async move {
                match offline::pdf_object_url(id).await {
                    Some(url) => {
                        href.set(url);
                        cached_pdf.set(Some(true));
                    }
                    None => cached_pdf.set(Some(false)),
                }
            });
        }
    });
    let title = format!("Recibo de {}", d.row.period);
    view! {
        <Title text=title.clone()/>
        <OfflineBanner online fetched=d.fetched_at.clone()/>
        <p><a href="/cuenta/recibos">"← Mis recibos"</a></p>
        <h1>{title}</h1>
        <BillView d=d.clone()/>
        {d.row.open.then(|| view! {
            <p><a class="button primary" href=format!("/cuenta/pagar?recibo={id}")>"Pagar este recibo"</a></p>
        })}
        <section class="card" aria-labelledby="h-pdf">
            <h2 id="h-pdf">"Recibo en PDF"</h2>
            <p>
                <a class="button primary pdf-link" href=move || href.get() type="application/pdf"
                    target="_blank" rel="external noopener">
                    "Descargar recibo (PDF)"
                    <span class="visually-hidden">" (se abre en otra pestaña)"</span>
                </a>
            </p>
            {move || match cached_pdf.get() {
                Some(true) => Some(view! { <p class="small">"Se abre la copia guardada en este teléfono."</p> }.into_any()),
                Some(false) => Some(view! { <p class="small">"El PDF de este recibo no está guardado en este teléfono; descárgalo cuando tengas señal."</p> }.into_any()),
                None => None,
            }}
            {move || saved.get().then(|| view! {
                <p class="saved-note">"Guardado en este teléfono para consultarlo sin conexión."</p>
            })}
        </section>
        {d.cfdi_uuid.clone().map(|uuid| view! {
            <section class="card" aria-labelledby="h-cfdi">
                <h2 id="h-cfdi">"Factura electrónica (CFDI)"</h2>
                <p>"Folio fiscal: " <code>{uuid}</code></p>
                <p>
                    <a class="button" href=format!("/cuenta/recibos/{id}/cfdi.xml") rel="external" download="">
                        "Descargar XML del CFDI"
                    </a>
                </p>
            </section>
        })}
    }
    .into_any()
}

/// A bill as both citizens and staff see it: facts, readings, lines with their
/// "¿Cómo se calculó?", adjustments and totals.
#[component]
pub(crate) fn BillView(d: BillDetail) -> AnyView {
    let r = d.row.clone();
    let estimated = r.estimated;
    view! {
        <section class="card bill-summary" aria-labelledby="h-pagar">
            <h2 id="h-pagar">"Total a pagar"</h2>
            <p class="balance" class:owes=r.open>
                <span class="amount">{d.amount_due.clone()}</span>
                " "
                <StatusBadge status=r.status.clone() label=r.status_label.clone()/>
            </p>
            <dl class="facts">
                <dt>"Fecha límite de pago"</dt><dd class="due-date">{r.due_date.clone()}</dd>
                <dt>"Pendiente de este recibo"</dt><dd>{r.unpaid.clone()}</dd>
                <dt>"Folio"</dt><dd class="folio">{r.folio.clone()}</dd>
                <dt>"Emitido"</dt><dd>{r.issued_on.clone()}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="h-servicio">
            <h2 id="h-servicio">"Servicio"</h2>
            <dl class="facts">
                <dt>"Contrato"</dt><dd>{d.contract_number.clone()}</dd>
                <dt>"Titular"</dt><dd>{d.titular.clone()}</dd>
                <dt>"Dirección"</dt><dd>{d.service_address.clone()}</dd>
                <dt>"Uso y tarifa"</dt><dd>{d.use_label.clone()}</dd>
                <dt>"Medidor"</dt><dd>{d.meter_serial.clone()}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="h-consumo-recibo">
            <h2 id="h-consumo-recibo">"Lecturas y consumo"</h2>
            {estimated.then(|| view! {
                <p class="notice estimated"><strong>"Consumo estimado. "</strong>
                    "No fue posible tomar la lectura este periodo; se ajustará con la próxima lectura real."</p>
            })}
            <dl class="facts">
                <dt>"Lectura anterior"</dt>
                <dd>{d.previous_reading.clone().map(|x| format!("{} · {}", x.value, x.date)).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Lectura actual"</dt>
                <dd>{d.current_reading.clone().map(|x| format!("{} · {}", x.value, x.date)).unwrap_or_else(|| "—".into())}</dd>
                <dt>{if estimated { "Consumo estimado" } else { "Consumo facturado" }}</dt>
                <dd class="billed-m3">{r.m3.clone()}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="h-conceptos">
            <h2 id="h-conceptos">"Conceptos"</h2>
            <ul class="bill-lines">
                {d.lines.iter().map(|l| view! { <BillLineItem l=l.clone()/> }).collect_view()}
            </ul>
        </section>
        {(!d.adjustments.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="h-ajustes">
                <h2 id="h-ajustes">"Ajustes y notas de crédito"</h2>
                <table class="adjustments">
                    <thead><tr><th scope="col">"Fecha"</th><th scope="col">"Tipo"</th><th scope="col">"Motivo"</th><th scope="col">"Importe"</th></tr></thead>
                    <tbody>
                        {d.adjustments.iter().map(|a| view! {
                            <tr><td>{a.date.clone()}</td><td>{a.kind.clone()}</td><td>{a.reason.clone()}</td><td>{a.amount.clone()}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })}
        <section class="card" aria-labelledby="h-totales">
            <h2 id="h-totales">"Totales"</h2>
            <dl class="facts totals">
                <dt>"Subtotal"</dt><dd>{d.subtotal.clone()}</dd>
                <dt>"IVA"</dt><dd>{d.tax.clone()}</dd>
                <dt>"Total del periodo"</dt><dd class="bill-total">{d.total.clone()}</dd>
                <dt>"Saldo anterior"</dt><dd>{d.previous_balance.clone()}</dd>
                <dt>"Total a pagar"</dt><dd class="amount-due">{d.amount_due.clone()}</dd>
                <dt>"Fecha límite de pago"</dt><dd>{r.due_date.clone()}</dd>
            </dl>
            <p class="small">{format!("Tarifa aplicada: {}", d.tariff_names)}</p>
        </section>
    }
    .into_any()
}

/// One concept of a bill with its tax and its explanation.
#[component]
pub(crate) fn BillLineItem(l: BillLineRow) -> AnyView {
    let has_steps = !l.steps.is_empty();
    view! {
        <li class="bill-line">
            <div class="line-head">
                <span class="line-desc">{l.description.clone()}</span>
                <span class="line-amount">{l.amount.clone()}</span>
            </div>
            <p class="line-meta">
                {if l.description.starts_with(&l.concept) {
                    format!("{} · {}: {}", l.quantity, l.tax_label, l.tax_amount)
                } else {
                    format!("{} · {} · {}: {}", l.concept, l.quantity, l.tax_label, l.tax_amount)
                }}
                {l.estimated.then(|| view! { " " <span class="tag">"(estimado)"</span> })}
            </p>
            {has_steps.then(|| view! {
                <details class="how">
                    <summary>"¿Cómo se calculó?"</summary>
                    <table>
                        <thead><tr>
                            <th scope="col">"Cálculo"</th><th scope="col">"m³"</th>
                            <th scope="col">"Precio"</th><th scope="col">"Importe"</th>
                        </tr></thead>
                        <tbody>
                            {l.steps.iter().map(|s| view! {
                                <tr>
                                    <td>{s.description.clone()}</td><td>{s.quantity.clone()}</td>
                                    <td>{s.unit_price.clone()}</td><td>{s.amount.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </details>
            })}
        </li>
    }
    .into_any()
}
