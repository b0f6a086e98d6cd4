//! Staff: domiciliación (pago automático). The mandates (CLABE masked), a form to
//! register one, the month's batch file for the bank, and the bank's results file.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::staff::{StaffBar, staff_error};
use super::{Field, FormError, field_error, general_error};
use crate::api::*;

#[component]
pub fn StaffDomiciliacion() -> impl IntoView {
    let query = use_query_map();
    let register = ServerAction::<RegisterMandate>::new();
    let generate = ServerAction::<GenerateDebitBatch>::new();
    let cancel = ServerAction::<CancelMandate>::new();
    let data = Resource::new(
        move || {
            (
                register.version().get(),
                generate.version().get(),
                cancel.version().get(),
            )
        },
        |_| debit_overview(),
    );
    let registered = register.value();
    let generated = generate.value();
    let outcome = move || {
        let q = query.read();
        let n = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
        if let Some(e) = q.get("error_resultados") {
            return Some(Err(e));
        }
        n("cobrados").map(|c| {
            Ok(format!(
                "Resultados aplicados: {c} cobrados, {} por reintentar, {} domiciliaciones dadas de baja, {} rechazados, {} ya aplicados antes, {} referencias desconocidas.",
                n("reintentos").unwrap_or(0),
                n("bajas").unwrap_or(0),
                n("rechazados").unwrap_or(0),
                n("repetidos").unwrap_or(0),
                n("desconocidos").unwrap_or(0),
            ))
        })
    };
    view! {
        <Title text="Domiciliación"/>
        <StaffBar/>
        <h1>"Domiciliación (pago automático)"</h1>
        <p>"Cada mes se pide al banco cargar a cada cuenta domiciliada lo que debe el contrato, sin pasar del máximo que firmó el titular."</p>
        <section class="card" aria-labelledby="h-lote">
            <h2 id="h-lote">"Lote del mes"</h2>
            {move || generated.get().and_then(|r| r.ok()).map(|b| view! {
                <p class="notice" role="status">
                    {format!("Lote {}: {} cargos por {}. ", b.label, b.item_count, b.total)}
                    <a href=b.file_url.clone() download>"Descargar archivo para el banco"</a>
                </p>
            })}
            <FormError error=general_error(generated)/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let month = data.await.map(|d| d.month).unwrap_or_default();
                    view! {
                        <ActionForm action=generate attr:class="stack" attr:novalidate=true>
                            <Field id="mes" name="mes" label="Mes (AAAA-MM)" autocomplete="off" maxlength="7"
                                value=month error=field_error(generated, "mes")/>
                            <button type="submit">"Generar lote del mes"</button>
                        </ActionForm>
                    }
                })}
            </Transition>
        </section>
        <section class="card" id="resultados" aria-labelledby="h-resultados">
            <h2 id="h-resultados">"Resultados del banco"</h2>
            {move || outcome().map(|o| match o {
                Ok(msg) => view! { <p class="notice" role="status">{msg}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
            <form method="post" action="/personal/domiciliacion/resultados" enctype="multipart/form-data" class="stack">
                <div class="field">
                    <label for="archivo">"Archivo de resultados"</label>
                    <p class="hint" id="archivo-ayuda">"El archivo que devolvió el banco después de aplicar el lote."</p>
                    <input id="archivo" name="archivo" type="file" required aria-describedby="archivo-ayuda"/>
                </div>
                <button type="submit">"Aplicar resultados"</button>
            </form>
        </section>
        <section class="card" aria-labelledby="h-alta">
            <h2 id="h-alta">"Registrar una domiciliación"</h2>
            {move || matches!(registered.get(), Some(Ok(_))).then(|| view! { <p class="notice" role="status">"Domiciliación registrada."</p> })}
            <FormError error=general_error(registered)/>
            <ActionForm action=register attr:class="stack" attr:novalidate=true>
                <Field id="contrato" name="contrato" label="Número de contrato" autocomplete="off"
                    error=field_error(registered, "contrato")/>
                <Field id="clabe" name="clabe" label="CLABE de la cuenta a cargar" inputmode="numeric" maxlength="22"
                    hint="18 dígitos." autocomplete="off" error=field_error(registered, "clabe")/>
                <Field id="titular" name="titular" label="Titular de la cuenta" autocomplete="off"
                    error=field_error(registered, "titular")/>
                <Field id="maximo" name="maximo" label="Monto máximo por cargo (pesos)" inputmode="decimal"
                    autocomplete="off" error=field_error(registered, "maximo")/>
                <Field id="firmado" name="firmado" label="Fecha de firma (AAAA-MM-DD)" autocomplete="off" maxlength="10"
                    error=field_error(registered, "firmado")/>
                <button type="submit">"Registrar"</button>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="h-mandatos">
            <h2 id="h-mandatos">"Domiciliaciones"</h2>
            <FormError error=general_error(cancel.value())/>
            <Transition fallback=|| view! { <p>"Cargando…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) if d.mandates.is_empty() => view! { <p>"Aún no hay domiciliaciones."</p> }.into_any(),
                        Ok(d) => view! {
                            <table class="mandates">
                                <thead><tr>
                                    <th scope="col">"Contrato"</th><th scope="col">"Titular y cuenta"</th>
                                    <th scope="col">"Máximo"</th><th scope="col">"Estado"</th>
                                </tr></thead>
                                <tbody>
                                    {d.mandates.into_iter().map(|m| view! {
                                        <tr>
                                            <td>{m.contract.clone()}</td>
                                            <td>{m.holder.clone()}<br/><span class="small">{format!("CLABE {}", m.clabe_masked)}</span></td>
                                            <td>{m.max.clone()}</td>
                                            <td>
                                                {m.status.clone()}
                                                {m.active.then(|| view! {
                                                    <ActionForm action=cancel attr:class="inline">
                                                        <input type="hidden" name="mandato" value=m.id.to_string()/>
                                                        <input type="hidden" name="motivo" value="a petición del titular"/>
                                                        <button type="submit" aria-label=format!("Dar de baja la domiciliación del contrato {}", m.contract)>"Dar de baja"</button>
                                                    </ActionForm>
                                                })}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => staff_error(e),
                    }
                })}
            </Transition>
        </section>
        <section class="card" aria-labelledby="h-lotes">
            <h2 id="h-lotes">"Lotes generados"</h2>
            <Transition fallback=|| view! { <p>"Cargando…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) if d.batches.is_empty() => view! { <p>"Aún no hay lotes."</p> }.into_any(),
                        Ok(d) => view! {
                            <table class="batches">
                                <thead><tr>
                                    <th scope="col">"Lote"</th><th scope="col">"Cargos"</th>
                                    <th scope="col">"Total"</th><th scope="col">"Estado"</th>
                                </tr></thead>
                                <tbody>
                                    {d.batches.into_iter().map(|b| view! {
                                        <tr>
                                            <td><a href=b.file_url.clone() download>{b.label.clone()}</a><br/><span class="small">{b.created_at.clone()}</span></td>
                                            <td>{b.item_count}</td><td>{b.total.clone()}</td><td>{b.status.clone()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => staff_error(e),
                    }
                })}
            </Transition>
        </section>
    }
}
