//! Staff billing pages (facturación and administración): tariff versions and their
//! editor with "Simular recibo", billing runs with live progress, and one invoice with
//! its adjustments and credit notes.

use std::time::Duration;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::bills::{BillLineItem, BillView};
use super::staff::{StaffBar, staff_error};
use super::{Field, FormError, field_error, general_error};
use crate::api::*;
use crate::error::AppError;
use crate::offline;

fn id_param(name: &'static str) -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get(name).and_then(|s| s.parse::<i64>().ok()))
}

// ---------------------------------------------------------------- tariffs

#[component]
pub fn StaffTariffs() -> AnyView {
    let query = use_query_map();
    let saved = move || query.read().get("guardada").is_some();
    let list = Resource::new(|| (), |_| list_tariffs());
    view! {
        <Title text="Tarifas"/>
        <StaffBar/>
        <h1>"Tarifas"</h1>
        <Show when=saved>
            <p class="notice" role="status">"Tarifa guardada. Las corridas de facturación nuevas ya la usan."</p>
        </Show>
        <p><a class="button primary" href="/personal/tarifas/editar">"Nueva versión de tarifa"</a></p>
        <Suspense fallback=|| view! { <p>"Cargando las tarifas…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => view! { <p>"Todavía no hay tarifas guardadas."</p> }.into_any(),
                    Ok(rows) => view! {
                        <div class="card">
                            <table class="tariffs">
                                <caption class="visually-hidden">"Versiones de tarifa por uso, clase y fecha de inicio"</caption>
                                <thead><tr>
                                    <th scope="col">"Uso"</th><th scope="col">"Clase"</th>
                                    <th scope="col">"Vigente desde"</th><th scope="col">"Nombre"</th>
                                    <th scope="col">"Guardada"</th><th scope="col">"Acción"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|t| view! {
                                        <tr>
                                            <td>{t.use_label}</td><td>{t.class_label}</td><td>{t.valid_from}</td>
                                            <td>{t.name.clone()}</td><td>{t.saved_at}</td>
                                            <td>
                                                <a href=format!("/personal/tarifas/editar?id={}", t.id)>
                                                    "Editar"<span class="visually-hidden">{format!(" {}", t.name)}</span>
                                                </a>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// "Simular recibo" submitted without JavaScript (GET with `accion=simular`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SimArgs {
    toml: String,
    m3: String,
    dias: Option<String>,
    inapam: Option<String>,
}

#[component]
pub fn TariffEditor() -> AnyView {
    let query = use_query_map();
    let id = Memo::new(move |_| query.read().get("id").and_then(|s| s.parse::<i64>().ok()));
    let tariff = Resource::new(move || id.get(), get_tariff);
    let posted = Memo::new(move |_| {
        let q = query.read();
        (q.get("accion").as_deref() == Some("simular")).then(|| SimArgs {
            toml: q.get("toml").unwrap_or_default(),
            m3: q.get("m3").unwrap_or_default(),
            dias: q.get("dias"),
            inapam: q.get("inapam"),
        })
    });
    let first_sim = Resource::new(
        move || posted.get(),
        |a| async move {
            match a {
                Some(a) => Some(simulate_bill(a.toml, a.m3, a.dias, a.inapam).await),
                None => None,
            }
        },
    );
    view! {
        <Title text="Editar tarifa"/>
        <StaffBar/>
        <Suspense fallback=|| view! { <p>"Cargando la tarifa…"</p> }>
            {move || Suspend::new(async move {
                let t = tariff.await;
                let sim = first_sim.await;
                match t {
                    Ok(t) => view! { <EditorForm t posted=posted.get_untracked() first=sim/> }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn EditorForm(
    t: TariffEdit,
    posted: Option<SimArgs>,
    first: Option<Result<SimResult, AppError>>,
) -> AnyView {
    let save = ServerAction::<TariffSave>::new();
    let sim = ServerAction::<SimulateBill>::new();
    let initial_text = posted
        .as_ref()
        .map(|p| p.toml.clone())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| t.toml.clone());
    let text = RwSignal::new(initial_text.clone());
    let m3 = RwSignal::new(
        posted
            .as_ref()
            .map(|p| p.m3.clone())
            .unwrap_or_else(|| "20".into()),
    );
    let dias = RwSignal::new(
        posted
            .as_ref()
            .and_then(|p| p.dias.clone())
            .unwrap_or_default(),
    );
    let inapam = RwSignal::new(posted.as_ref().is_some_and(|p| p.inapam.is_some()));
    let first = StoredValue::new(first);
    let result = Signal::derive(move || sim.value().get().or_else(|| first.get_value()));
    let run_sim = move || {
        sim.dispatch(SimulateBill {
            toml: text.get_untracked(),
            m3: m3.get_untracked(),
            dias: Some(dias.get_untracked()),
            inapam: inapam.get_untracked().then(|| "on".to_string()),
        });
    };
    // Live preview: simulate 600 ms after the last change.
    let generation = RwSignal::new(0u64);
    let schedule = move || {
        let g = generation.get_untracked() + 1;
        generation.set(g);
        set_timeout(
            move || {
                if generation.get_untracked() == g {
                    run_sim();
                }
            },
            Duration::from_millis(600),
        );
    };
    let toml_error = field_error(save.value(), "toml");
    let sim_error = move |f: &'static str| {
        Signal::derive(move || {
            result
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.for_field(f))
        })
    };
    let heading = match &t.id {
        Some(_) => format!("Editar tarifa «{}»", t.name),
        None => "Nueva versión de tarifa".to_string(),
    };
    let save_path = <TariffSave as ServerFn>::PATH;
    view! {
        <h1>{heading}</h1>
        <form method="get" action="/personal/tarifas/editar" class="tariff-editor" novalidate=true
            on:submit=move |ev| {
                ev.prevent_default();
                run_sim();
            }>
            {t.id.map(|id| view! { <input type="hidden" name="id" value=id.to_string()/> })}
            <FormError error=general_error(save.value())/>
            <div class="field" class:invalid=move || toml_error.get().is_some()>
                <label for="toml">"Archivo de tarifa (TOML)"</label>
                <p class="hint" id="toml-ayuda">
                    "Uso, clase, fecha de inicio, cuota base, bloques, alcantarillado, descuentos e impuestos (formato en docs/tariffs.md). "
                    "Al guardar se valida: si algo está mal te decimos la línea o el campo."
                </p>
                <textarea id="toml" name="toml" rows="24" spellcheck="false" autocomplete="off"
                    aria-invalid=move || toml_error.get().is_some().to_string()
                    aria-describedby=move || if toml_error.get().is_some() { "toml-ayuda toml-error" } else { "toml-ayuda" }
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        schedule();
                    }>
                    {initial_text}
                </textarea>
                {move || toml_error.get().map(|e| view! { <p class="field-error" id="toml-error">{e}</p> })}
            </div>
            <fieldset class="simulate">
                <legend>"Simular recibo"</legend>
                <p class="hint">"Calcula un recibo con la tarifa escrita arriba, sin guardarla."</p>
                <div class="sim-inputs">
                    <SimInput id="sim-m3" name="m3" label="Consumo (m³)" inputmode="decimal" value=m3
                        error=sim_error("m3") on_change=schedule/>
                    <SimInput id="sim-dias" name="dias" label="Días de servicio (opcional)" inputmode="numeric" value=dias
                        error=sim_error("dias") on_change=schedule/>
                    <div class="field checkbox">
                        <input type="checkbox" id="sim-inapam" name="inapam" value="on" checked=inapam.get_untracked()
                            on:change=move |ev| {
                                inapam.set(event_target_checked(&ev));
                                schedule();
                            }/>
                        <label for="sim-inapam">"Con descuento INAPAM (adulto mayor)"</label>
                    </div>
                </div>
                <button type="submit" name="accion" value="simular">"Simular recibo"</button>
                <SimOutput result pending=sim.pending()/>
            </fieldset>
            <div class="actions">
                <button type="submit" class="primary" formmethod="post" formaction=save_path
                    on:click=move |ev| {
                        ev.prevent_default();
                        save.dispatch(TariffSave { toml: text.get_untracked() });
                    }>
                    "Validar y guardar"
                </button>
                <a href="/personal/tarifas">"Volver a las tarifas"</a>
            </div>
        </form>
    }
    .into_any()
}

#[component]
fn SimInput(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    inputmode: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> AnyView {
    let err_id = format!("{id}-error");
    let described = {
        let err_id = err_id.clone();
        move || error.get().is_some().then(|| err_id.clone())
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            <input id=id name=name type="text" inputmode=inputmode autocomplete="off" maxlength="12"
                value=value.get_untracked()
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    on_change();
                }/>
            {move || error.get().map(|e| view! { <p class="field-error" id=err_id.clone()>{e}</p> })}
        </div>
    }
    .into_any()
}

#[component]
fn SimOutput(
    #[prop(into)] result: Signal<Option<Result<SimResult, AppError>>>,
    #[prop(into)] pending: Signal<bool>,
) -> AnyView {
    view! {
        <div class="sim-result">
            <p class="sim-status" aria-live="polite">
                {move || match (pending.get(), result.get()) {
                    (true, _) => "Calculando…".to_string(),
                    (false, None) => "Escribe el consumo y pulsa «Simular recibo».".to_string(),
                    (false, Some(Ok(r))) => format!("Recibo simulado de {}: {} por {}.", r.period, r.total, r.billed_m3),
                    (false, Some(Err(e))) => match e {
                        AppError::Invalid { field, message } if field == "toml" => format!("No se puede simular: {message}"),
                        AppError::Invalid { .. } => "Revisa los datos de la simulación.".to_string(),
                        other => other.to_string(),
                    },
                }}
            </p>
            {move || result.get().and_then(|r| r.ok()).map(|r| view! {
                <h2 class="sim-title">{format!("{} · {} · {}", r.tariff_name, r.period, r.billed_m3)}</h2>
                <ul class="bill-lines sim-lines">
                    {r.lines.iter().map(|l| view! { <BillLineItem l=l.clone()/> }).collect_view()}
                </ul>
                <dl class="facts totals">
                    <dt>"Subtotal"</dt><dd>{r.subtotal.clone()}</dd>
                    <dt>"IVA"</dt><dd>{r.tax.clone()}</dd>
                    <dt>"Total"</dt><dd class="sim-total">{r.total.clone()}</dd>
                </dl>
            })}
        </div>
    }
    .into_any()
}

// ---------------------------------------------------------------- runs

#[component]
pub fn StaffBilling() -> AnyView {
    let data = Resource::new(|| (), |_| get_billing_overview());
    let start = ServerAction::<StartBillingRun>::new();
    view! {
        <Title text="Facturación"/>
        <StaffBar/>
        <h1>"Facturación"</h1>
        <Suspense fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => view! {
                        <section class="card" aria-labelledby="h-nueva">
                            <h2 id="h-nueva">"Nueva corrida"</h2>
                            <ActionForm action=start attr:class="stack" attr:novalidate=true>
                                <FormError error=general_error(start.value())/>
                                <Field id="periodo" name="periodo" label="Periodo (AAAA-MM)"
                                    hint="El mes que se factura, por ejemplo 2026-10. Los contratos que ya tienen su recibo de ese mes no se vuelven a facturar."
                                    autocomplete="off" maxlength="7" value=o.default_period.clone()
                                    error=field_error(start.value(), "periodo")/>
                                <button type="submit" class="primary">"Iniciar corrida"</button>
                            </ActionForm>
                        </section>
                        <section aria-labelledby="h-corridas">
                            <h2 id="h-corridas">"Corridas recientes"</h2>
                            {if o.runs.is_empty() {
                                view! { <p>"Todavía no hay corridas."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="card">
                                        <table class="runs">
                                            <thead><tr>
                                                <th scope="col">"Periodo"</th><th scope="col">"Estado"</th>
                                                <th scope="col">"Iniciada"</th><th scope="col">"Recibos nuevos"</th>
                                                <th scope="col">"Importe"</th>
                                            </tr></thead>
                                            <tbody>
                                                {o.runs.into_iter().map(|r| view! {
                                                    <tr>
                                                        <td><a href=format!("/personal/facturacion/corridas/{}", r.id)>{r.period}</a></td>
                                                        <td><span class=format!("badge badge-run-{}", r.status)>{r.status_label}</span></td>
                                                        <td>{r.started_at}</td><td>{r.invoices_issued}</td><td>{r.total}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
pub fn BillingRunPage() -> AnyView {
    let id = id_param("id");
    let run = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_run(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="Corrida de facturación"/>
        <StaffBar/>
        <Transition fallback=|| view! { <p>"Cargando la corrida…"</p> }>
            {move || Suspend::new(async move {
                match run.await {
                    Ok(r) => view! { <RunPageView r run/> }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn RunPageView(r: RunView, run: Resource<Result<RunView, AppError>>) -> AnyView {
    let live = RwSignal::new(r.progress.clone());
    let running = r.progress.status == "en_curso";
    let events = format!("/personal/facturacion/corridas/{}/eventos", r.id);
    Effect::new(move |_| {
        if !running {
            return;
        }
        let w = offline::watch_events(&events, move |data| {
            match serde_json::from_str::<RunProgress>(&data) {
                Ok(p) => {
                    let finished = p.status != "en_curso";
                    live.set(p);
                    if finished {
                        // Load the summary.
                        run.refetch();
                    }
                    !finished
                }
                Err(_) => true,
            }
        });
        on_cleanup(move || {
            if let Some(w) = w {
                w.close();
            }
        });
    });
    let self_link = format!("/personal/facturacion/corridas/{}", r.id);
    view! {
        <h1>{format!("Corrida de facturación · {}", r.period)}</h1>
        <section class="card" aria-labelledby="h-progreso">
            <h2 id="h-progreso">"Progreso"</h2>
            <p>"Estado: " <strong class="run-status">{move || live.get().status_label}</strong></p>
            <label for="avance">"Contratos procesados"</label>
            <progress id="avance" max=move || live.get().contracts_total.max(1).to_string()
                value=move || live.get().contracts_done.to_string()>
                {move || format!("{} %", live.get().pct)}
            </progress>
            <p class="progress-text" aria-live="polite">{move || live.get().text}</p>
            <dl class="facts">
                <dt>"Iniciada"</dt><dd>{r.started_at.clone()}</dd>
                <dt>"Terminada"</dt><dd>{r.finished_at.clone()}</dd>
            </dl>
            {running.then(|| view! {
                <p><a href=self_link.clone() rel="external">"Actualizar"</a></p>
            })}
        </section>
        {(!running).then(|| view! { <RunSummary r=r.clone()/> })}
        <p><a href="/personal/facturacion">"Volver a facturación"</a></p>
    }
    .into_any()
}

#[component]
fn RunSummary(r: RunView) -> AnyView {
    view! {
        <section class="card" aria-labelledby="h-resumen">
            <h2 id="h-resumen">"Resumen"</h2>
            <p class="notice run-headline" role="status">{r.headline.clone()}</p>
            {r.error.clone().map(|e| view! { <p class="form-error">{format!("Error: {e}")}</p> })}
            <dl class="facts run-summary">
                <dt>"Recibos nuevos emitidos"</dt><dd class="run-issued">{r.invoices_issued.clone()}</dd>
                <dt>"Ya tenían su recibo (no se duplica)"</dt><dd class="run-already">{r.already_issued.clone()}</dd>
                <dt>"Importe emitido"</dt><dd>{r.total.clone()}</dd>
                <dt>"Con consumo estimado"</dt><dd>{r.estimated.clone()}</dd>
                <dt>"Enviados a revisión"</dt><dd>{r.flagged.clone()}</dd>
                <dt>"Sin facturar"</dt><dd>{r.skipped.clone()}</dd>
            </dl>
            <h3>"Por tipo de uso"</h3>
            {if r.by_use.is_empty() {
                view! { <p>"Ningún recibo nuevo en esta corrida."</p> }.into_any()
            } else {
                view! {
                    <table class="by-use">
                        <thead><tr>
                            <th scope="col">"Uso"</th><th scope="col">"Recibos"</th><th scope="col">"m³ facturados"</th>
                            <th scope="col">"Estimados"</th><th scope="col">"Importe"</th>
                        </tr></thead>
                        <tbody>
                            {r.by_use.iter().map(|u| view! {
                                <tr>
                                    <th scope="row">{u.use_label.clone()}</th><td>{u.invoices.clone()}</td>
                                    <td>{u.m3.clone()}</td><td>{u.estimated.clone()}</td><td>{u.total.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <h3>"Sin facturar, por motivo"</h3>
            {if r.skipped_by_reason.is_empty() {
                view! { <p>"Ninguno."</p> }.into_any()
            } else {
                view! {
                    <table class="skipped">
                        <thead><tr><th scope="col">"Motivo"</th><th scope="col">"Contratos"</th></tr></thead>
                        <tbody>
                            {r.skipped_by_reason.iter().map(|c| view! {
                                <tr><th scope="row">{c.label.clone()}</th><td>{c.count.clone()}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="h-revision">
            <h2 id="h-revision">{format!("Para revisión ({})", r.reviews.len())}</h2>
            {if r.reviews.is_empty() {
                view! { <p>"No hay contratos en revisión para este periodo."</p> }.into_any()
            } else {
                view! {
                    <table class="reviews">
                        <thead><tr>
                            <th scope="col">"Contrato"</th><th scope="col">"Motivo"</th><th scope="col">"Detalle"</th>
                        </tr></thead>
                        <tbody>
                            {r.reviews.iter().map(|v| view! {
                                <tr>
                                    <td><a href=format!("/personal/cuentas/{}", v.contract_id)>{v.number.clone()}</a></td>
                                    <td>{v.reason.clone()}</td><td>{v.message.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

// ---------------------------------------------------------------- one invoice

#[component]
pub fn StaffInvoice() -> AnyView {
    let id = id_param("id");
    let adjust = ServerAction::<PostAdjustment>::new();
    let pay = ServerAction::<RecordPayment>::new();
    let bill = Resource::new(
        move || (id.get(), adjust.version().get(), pay.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_staff_bill(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="Recibo"/>
        <StaffBar/>
        <Transition fallback=|| view! { <p>"Cargando el recibo…"</p> }>
            {move || Suspend::new(async move {
                match bill.await {
                    Ok(b) => {
                        let d = b.detail;
                        let id = d.row.id;
                        view! {
                            <p><a href=format!("/personal/cuentas/{}", d.contract_id)>{format!("← Contrato {}", d.contract_number)}</a></p>
                            <h1>{format!("Recibo {} · {}", d.row.folio, d.row.period)}</h1>
                            <p>
                                <a class="button" rel="external" href=format!("/personal/recibos/{id}/pdf")>"Descargar recibo (PDF)"</a>
                                {b.cfdi_id.map(|c| view! { " " <a href=format!("/personal/cfdi/{c}")>"Ver su CFDI"</a> })}
                            </p>
                            <BillView d=d.clone()/>
                            <Payments lines=b.payments.clone()/>
                            {b.can_take_payment.then(|| view! {
                                <PaymentForm id formas=b.formas.clone() key=b.payment_key.clone() pay/>
                            })}
                            {b.can_adjust.then(|| view! { <AdjustForm id adjust/> })}
                        }.into_any()
                    }
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn AdjustForm(id: i64, adjust: ServerAction<PostAdjustment>) -> AnyView {
    let value = adjust.value();
    let motivo_error = field_error(value, "motivo");
    let tipo_error = field_error(value, "tipo");
    view! {
        <section class="card" aria-labelledby="h-ajuste">
            <h2 id="h-ajuste">"Ajuste o nota de crédito"</h2>
            <ActionForm action=adjust attr:class="stack" attr:novalidate=true>
                <input type="hidden" name="invoice_id" value=id.to_string()/>
                <FormError error=general_error(value)/>
                {move || matches!(value.get(), Some(Ok(()))).then(|| view! {
                    <p class="notice" role="status">"Registrado: ya se refleja en el recibo, en el saldo y en la bitácora."</p>
                })}
                <fieldset class="field choices" aria-describedby=move || tipo_error.get().map(|_| "tipo-error")>
                    <legend>"Tipo"</legend>
                    <label class="choice">
                        <input type="radio" name="tipo" value="nota_credito" checked=true/>
                        "Nota de crédito (abono a favor del usuario)"
                    </label>
                    <label class="choice">
                        <input type="radio" name="tipo" value="ajuste"/>
                        "Ajuste (cargo; con signo menos, abono)"
                    </label>
                    {move || tipo_error.get().map(|e| view! { <p class="field-error" id="tipo-error">{e}</p> })}
                </fieldset>
                <Field id="importe" name="importe" label="Importe (MXN)"
                    hint="Por ejemplo 150.00. En un ajuste, un importe negativo (−150.00) es un abono."
                    inputmode="decimal" autocomplete="off" maxlength="20"
                    error=field_error(value, "importe")/>
                <div class="field" class:invalid=move || motivo_error.get().is_some()>
                    <label for="motivo">"Motivo"</label>
                    <p class="hint" id="motivo-ayuda">"Obligatorio. Queda en el recibo y en la bitácora."</p>
                    <textarea id="motivo" name="motivo" rows="3" maxlength="300" required=true
                        aria-invalid=move || motivo_error.get().is_some().to_string()
                        aria-describedby=move || if motivo_error.get().is_some() { "motivo-ayuda motivo-error" } else { "motivo-ayuda" }>
                    </textarea>
                    {move || motivo_error.get().map(|e| view! { <p class="field-error" id="motivo-error">{e}</p> })}
                </div>
                <button type="submit" class="primary">"Registrar"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn Payments(lines: Vec<PaymentLine>) -> impl IntoView {
    (!lines.is_empty()).then(|| view! {
        <section aria-labelledby="h-pagos">
            <h2 id="h-pagos">"Pagos aplicados a este recibo"</h2>
            <table class="results">
                <thead><tr>
                    <th scope="col">"Parcialidad"</th><th scope="col">"Fecha"</th>
                    <th scope="col">"Forma de pago"</th><th scope="col">"Saldo anterior"</th>
                    <th scope="col">"Importe"</th><th scope="col">"Complemento de pago"</th>
                </tr></thead>
                <tbody>
                    {lines.into_iter().map(|p| view! {
                        <tr>
                            <td>{p.parcialidad}</td><td>{p.paid_at}</td><td>{p.forma}</td>
                            <td class="num">{p.saldo_anterior}</td><td class="num">{p.amount}</td>
                            <td><small>{p.complemento}</small></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    })
}

#[component]
fn PaymentForm(
    id: i64,
    formas: Vec<(String, String)>,
    key: String,
    pay: ServerAction<RecordPayment>,
) -> impl IntoView {
    let value = pay.value();
    let forma_error = field_error(value, "forma_pago");
    view! {
        <section class="card" aria-labelledby="h-pago">
            <h2 id="h-pago">"Registrar pago en ventanilla"</h2>
            <ActionForm action=pay attr:class="stack" attr:novalidate=true>
                <input type="hidden" name="invoice_id" value=id.to_string()/>
                <input type="hidden" name="clave" value=key/>
                <FormError error=general_error(value)/>
                {move || match value.get() {
                    Some(Ok(done)) => Some(view! {
                        <p class="notice" role="status">{format!(
                            "Pago registrado (parcialidad {}). Saldo del recibo: {}. El complemento de pago se emite en automático.",
                            done.parcialidad, done.saldo_insoluto)}</p>
                    }),
                    _ => None,
                }}
                <Field id="importe-pago" name="importe" label="Importe recibido (MXN)"
                    hint="Por ejemplo 150.00. Puede ser una parte del recibo."
                    inputmode="decimal" autocomplete="off" maxlength="20"
                    error=field_error(value, "importe")/>
                <div class="field" class:invalid=move || forma_error.get().is_some()>
                    <label for="forma">"Forma de pago"</label>
                    <select id="forma" name="forma"
                        aria-describedby=move || forma_error.get().map(|_| "forma-error")>
                        {formas.into_iter().map(|(code, label)| view! {
                            <option value=code>{label}</option>
                        }).collect_view()}
                    </select>
                    {move || forma_error.get().map(|e| view! { <p class="field-error" id="forma-error">{e}</p> })}
                </div>
                <Field id="operacion" name="operacion" label="Referencia u operación (opcional)"
                    hint="Número de cheque, de autorización de la tarjeta o de la transferencia."
                    autocomplete="off" maxlength="100" required=false
                    error=field_error(value, "num_operacion")/>
                <button type="submit" class="primary">"Registrar pago"</button>
            </ActionForm>
        </section>
    }
}
