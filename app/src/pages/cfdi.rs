//! Staff CFDI pages: the list (status, filters, CSD and PAC status) and one document
//! (XML, retry, cancellation with SAT's motivo).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::staff::{StaffBar, staff_error};
use super::{Field, FormError, field_error, general_error};
use crate::api::*;
use crate::error::AppError;

const STATUSES: [(&str, &str); 6] = [
    ("", "Todos"),
    ("sellado", "Sellado, en cola para timbrar"),
    ("timbrado", "Timbrado"),
    ("rechazado", "Rechazado por el PAC"),
    ("cancelacion_en_proceso", "Cancelación en proceso"),
    ("cancelado", "Cancelado"),
];
const TIPOS: [(&str, &str); 4] = [
    ("", "Todos"),
    ("I", "Ingreso"),
    ("P", "Pago"),
    ("E", "Egreso"),
];

#[component]
pub fn StaffCfdiList() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let list = Resource::new(
        move || {
            (
                get("estado"),
                get("tipo"),
                get("periodo"),
                get("q"),
                get("pagina"),
            )
        },
        |(estado, tipo, periodo, q, pagina)| async move {
            list_cfdi(
                Some(estado),
                Some(tipo),
                Some(periodo),
                Some(q),
                pagina.parse().ok(),
            )
            .await
        },
    );
    view! {
        <Title text="Facturas electrónicas (CFDI)"/>
        <StaffBar/>
        <h1>"Facturas electrónicas (CFDI)"</h1>
        <Form method="GET" action="/personal/cfdi" attr:class="cfdi-filters" attr:role="search">
            <div class="field">
                <label for="estado">"Estado"</label>
                <select id="estado" name="estado">
                    {STATUSES.iter().map(|(v, l)| {
                        let v = *v;
                        view! { <option value=v selected=move || get("estado") == v>{*l}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="tipo">"Tipo"</label>
                <select id="tipo" name="tipo">
                    {TIPOS.iter().map(|(v, l)| {
                        let v = *v;
                        view! { <option value=v selected=move || get("tipo") == v>{*l}</option> }
                    }).collect_view()}
                </select>
            </div>
            <FilterInput id="periodo" label="Periodo (AAAA-MM)" value=get("periodo")/>
            <FilterInput id="q" label="UUID, RFC o Serie-Folio" value=get("q")/>
            <button type="submit" class="primary">"Filtrar"</button>
        </Form>
        <Transition fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(o) => view! { <Overview o query=query.get_untracked().to_query_string()/> }.into_any(),
                    Err(e @ AppError::Invalid { .. }) => view! {
                        <p role="alert" class="form-error" id="filtro-error">{e.to_string()}</p>
                    }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn FilterInput(id: &'static str, label: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=id type="text" value=value autocomplete="off" maxlength="40"/>
        </div>
    }
}

#[component]
fn Overview(o: CfdiOverview, query: String) -> impl IntoView {
    let page_link = move |page: i64| {
        let mut q: Vec<String> = query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("pagina="))
            .map(str::to_string)
            .collect();
        q.push(format!("pagina={page}"));
        format!("/personal/cfdi?{}", q.join("&"))
    };
    let (page, pages) = (o.page, o.pages);
    view! {
        <div class="grid">
            <section class="card" aria-labelledby="h-csd">
                <h2 id="h-csd">"Certificado de sello digital (CSD)"</h2>
                {match o.csd {
                    Ok(c) => view! {
                        {c.warning.then(|| view! {
                            <p class="notice warning" role="alert">{format!(
                                "El CSD vence en {} días: solicite uno nuevo al SAT antes del {}.",
                                c.days_left, c.valid_until)}</p>
                        })}
                        <dl class="facts">
                            <dt>"RFC"</dt><dd>{c.rfc}</dd>
                            <dt>"Número de certificado"</dt><dd>{c.no_certificado}</dd>
                            <dt>"Vigente hasta"</dt><dd>{format!("{} ({} días)", c.valid_until, c.days_left)}</dd>
                            <dt>"Emitido por"</dt><dd>{c.issuer}</dd>
                        </dl>
                    }.into_any(),
                    Err(e) => view! { <p class="notice warning" role="alert">{format!("Sin CSD: {e}")}</p> }.into_any(),
                }}
            </section>
            <section class="card" aria-labelledby="h-pac">
                <h2 id="h-pac">"Timbrado"</h2>
                <dl class="facts">
                    <dt>"PAC"</dt><dd>{o.pac}</dd>
                    {o.counts.into_iter().map(|c| view! { <dt>{c.label}</dt><dd>{c.count}</dd> }).collect_view()}
                </dl>
            </section>
        </div>
        <p role="status">{format!("{} {} · página {page} de {pages}", o.total,
            if o.total == 1 { "CFDI" } else { "CFDI en total" })}</p>
        {(!o.rows.is_empty()).then(|| view! {
            <table class="results">
                <thead><tr>
                    <th scope="col">"Serie-Folio"</th><th scope="col">"Tipo"</th>
                    <th scope="col">"Receptor"</th><th scope="col">"Total"</th>
                    <th scope="col">"Fecha"</th><th scope="col">"Estado"</th><th scope="col">"Folio fiscal (UUID)"</th>
                </tr></thead>
                <tbody>
                    {o.rows.into_iter().map(|r| view! {
                        <tr>
                            <td><a href=format!("/personal/cfdi/{}", r.id)>{r.serie_folio}</a></td>
                            <td>{r.tipo}</td><td>{r.receptor_rfc}</td><td class="num">{r.total}</td>
                            <td>{r.fecha}</td>
                            <td>{r.status_label}{r.pac.map(|p| view! { <br/><small>{p}</small> })}</td>
                            <td><small>{r.uuid.unwrap_or_default()}</small></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
        <nav class="pager" aria-label="Páginas">
            {(page > 1).then(|| view! { <a href=page_link(page - 1) rel="prev">"← Anteriores"</a> })}
            {(page < pages).then(|| view! { <a href=page_link(page + 1) rel="next">"Siguientes →"</a> })}
        </nav>
    }
}

#[component]
pub fn StaffCfdi() -> AnyView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let retry = ServerAction::<RetryCfdi>::new();
    let cancel = ServerAction::<CancelCfdi>::new();
    let doc = Resource::new(
        move || (id(), retry.version().get(), cancel.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_cfdi(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="CFDI"/>
        <StaffBar/>
        <p><a href="/personal/cfdi">"← Facturas electrónicas"</a></p>
        <Transition fallback=|| view! { <p>"Cargando el CFDI…"</p> }>
            {move || Suspend::new(async move {
                match doc.await {
                    Ok(d) => view! { <CfdiView d retry cancel/> }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn CfdiView(
    d: CfdiDetail,
    retry: ServerAction<RetryCfdi>,
    cancel: ServerAction<CancelCfdi>,
) -> impl IntoView {
    let r = d.row.clone();
    let id = r.id;
    view! {
        <h1>{format!("CFDI {} · {}", r.serie_folio, r.tipo)}</h1>
        <dl class="facts">
            <dt>"Estado"</dt><dd>{r.status_label.clone()}</dd>
            <dt>"Folio fiscal (UUID)"</dt><dd>{r.uuid.clone().unwrap_or_else(|| "Sin timbrar".into())}</dd>
            <dt>"Receptor"</dt><dd>{r.receptor_rfc.clone()}</dd>
            <dt>"Total"</dt><dd>{r.total.clone()}</dd>
            <dt>"Fecha"</dt><dd>{r.fecha.clone()}</dd>
            {r.pac.clone().map(|p| view! { <dt>"Respuesta del PAC"</dt><dd>{p}</dd> })}
        </dl>
        <p>
            <a class="button" rel="external" href=format!("/personal/cfdi/{id}/xml")>"Descargar XML"</a>
            {d.invoice_id.map(|i| view! { " " <a href=format!("/personal/recibos/{i}")>"Ver el recibo"</a> })}
        </p>
        {d.can_retry.then(|| view! {
            <section class="card" aria-labelledby="h-reintentar">
                <h2 id="h-reintentar">"Rechazado por el PAC"</h2>
                <p>"Corrija la causa (por ejemplo, los datos fiscales del usuario) y envíelo de nuevo."</p>
                <ActionForm action=retry attr:class="inline">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <FormError error=general_error(retry.value())/>
                    <button type="submit" class="primary">"Reintentar timbrado"</button>
                </ActionForm>
            </section>
        })}
        {move || matches!(retry.value().get(), Some(Ok(()))).then(|| view! {
            <p class="notice" role="status">"De vuelta en la cola: se enviará al PAC en unos segundos."</p>
        })}
        {d.can_cancel.then(|| view! { <CancelForm id motivos=d.motivos.clone() cancel/> })}
        {move || matches!(cancel.value().get(), Some(Ok(()))).then(|| view! {
            <p class="notice" role="status">"Solicitud registrada: se envía al SAT y aquí verá su avance."</p>
        })}
        {(!d.cancellations.is_empty()).then(|| view! {
            <section aria-labelledby="h-cancelaciones">
                <h2 id="h-cancelaciones">"Solicitudes de cancelación"</h2>
                <table class="results">
                    <thead><tr>
                        <th scope="col">"Fecha"</th><th scope="col">"Motivo"</th><th scope="col">"Nota"</th>
                        <th scope="col">"Estado"</th><th scope="col">"SAT"</th>
                    </tr></thead>
                    <tbody>
                        {d.cancellations.into_iter().map(|c| view! {
                            <tr>
                                <td>{c.requested_at}</td>
                                <td>{c.motivo}{c.folio_sustitucion.map(|s| view! { <br/><small>{format!("Sustituye: {s}")}</small> })}</td>
                                <td>{c.note}</td>
                                <td>{c.status}</td>
                                <td>{c.sat_estatus.unwrap_or_default()}{c.pac.map(|p| view! { <br/><small>{p}</small> })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })}
    }
}

#[component]
fn CancelForm(
    id: i64,
    motivos: Vec<(String, String)>,
    cancel: ServerAction<CancelCfdi>,
) -> impl IntoView {
    let value = cancel.value();
    let nota_error = field_error(value, "nota");
    let motivo_error = field_error(value, "motivo");
    view! {
        <section class="card" aria-labelledby="h-cancelar">
            <h2 id="h-cancelar">"Cancelar ante el SAT"</h2>
            <ActionForm action=cancel attr:class="stack" attr:novalidate=true>
                <input type="hidden" name="id" value=id.to_string()/>
                <FormError error=general_error(value)/>
                <div class="field" class:invalid=move || motivo_error.get().is_some()>
                    <label for="motivo">"Motivo (catálogo del SAT)"</label>
                    <select id="motivo" name="motivo"
                        aria-describedby=move || motivo_error.get().map(|_| "motivo-error")>
                        {motivos.into_iter().map(|(code, label)| view! {
                            <option value=code.clone() selected=code == "02">{label}</option>
                        }).collect_view()}
                    </select>
                    {move || motivo_error.get().map(|e| view! { <p class="field-error" id="motivo-error">{e}</p> })}
                </div>
                <Field id="sustituto" name="sustituto" label="Folio fiscal del CFDI que lo sustituye"
                    hint="Sólo para el motivo 01: el UUID del CFDI correcto, ya timbrado."
                    autocomplete="off" maxlength="36" required=false error=field_error(value, "sustituto")/>
                <div class="field" class:invalid=move || nota_error.get().is_some()>
                    <label for="nota">"Por qué se cancela"</label>
                    <p class="hint" id="nota-ayuda">"Obligatorio. Queda en la bitácora."</p>
                    <textarea id="nota" name="nota" rows="3" maxlength="500" required=true
                        aria-invalid=move || nota_error.get().is_some().to_string()
                        aria-describedby=move || if nota_error.get().is_some() { "nota-ayuda nota-error" } else { "nota-ayuda" }>
                    </textarea>
                    {move || nota_error.get().map(|e| view! { <p class="field-error" id="nota-error">{e}</p> })}
                </div>
                <button type="submit" class="danger">"Solicitar cancelación"</button>
            </ActionForm>
        </section>
    }
}
