//! Staff: the bridge to AquaCIS. Health per service (breaker, latency), cache, the
//! outbox towards AquaCIS with its dead letters (replay), the last nightly sync with
//! its reconciliation and quarantine, and the source-of-truth switches (admin).

use leptos::prelude::*;
use leptos_meta::Title;

use super::FormError;
use super::general_error;
use super::staff::{StaffBar, staff_error};
use crate::api::*;

#[component]
pub fn StaffLegacy() -> impl IntoView {
    let switch = ServerAction::<SetLegacyDomain>::new();
    let replay = ServerAction::<ReplayDeadLetter>::new();
    let sync = ServerAction::<RunLegacySync>::new();
    let data = Resource::new(
        move || {
            (
                switch.version().get(),
                replay.version().get(),
                sync.version().get(),
            )
        },
        |_| legacy_bridge(),
    );
    let messages = move || {
        [
            switch.value().get(),
            replay.value().get(),
            sync.value().get(),
        ]
        .into_iter()
        .flatten()
        .filter_map(|r| r.ok())
        .collect::<Vec<_>>()
    };
    view! {
        <Title text="Sistema anterior (AquaCIS)"/>
        <StaffBar/>
        <h1>"Sistema anterior (AquaCIS)"</h1>
        <p>"Mientras dura la migración, AquaCIS sigue guardando parte de la información. Aquí se ve si responde, qué falta por enviarle y qué trajo la sincronización nocturna."</p>
        {move || messages().into_iter().map(|m| view! { <p class="notice" role="status">{m}</p> }).collect_view()}
        <FormError error=general_error(switch.value())/>
        <FormError error=general_error(replay.value())/>
        <FormError error=general_error(sync.value())/>
        <Transition fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <Bridge d switch replay sync/> }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn Bridge(
    d: LegacyBridgeView,
    switch: ServerAction<SetLegacyDomain>,
    replay: ServerAction<ReplayDeadLetter>,
    sync: ServerAction<RunLegacySync>,
) -> impl IntoView {
    let admin = d.can_switch;
    view! {
        <section class="card" aria-labelledby="h-servicios">
            <h2 id="h-servicios">"Servicios"</h2>
            {if d.configured {
                view! {
                    <p class="small">{format!("Conectado a {}", d.url)}</p>
                    <table>
                        <caption class="visually-hidden">"Estado de cada servicio de AquaCIS"</caption>
                        <thead><tr>
                            <th scope="col">"Servicio"</th><th scope="col">"Circuito"</th>
                            <th scope="col">"Llamadas"</th><th scope="col">"Fallas"</th>
                            <th scope="col">"p50"</th><th scope="col">"p95"</th><th scope="col">"p99"</th>
                            <th scope="col">"Último error"</th>
                        </tr></thead>
                        <tbody>
                            {d.services.into_iter().map(|s| view! {
                                <tr class:flagged=!s.healthy>
                                    <th scope="row">{s.name}<br/><span class="small">{s.ws_name}</span></th>
                                    <td class="breaker">{s.breaker}</td>
                                    <td>{s.calls}</td><td>{s.failures}</td>
                                    <td>{s.p50}</td><td>{s.p95}</td><td>{s.p99}</td>
                                    <td>{s.last_error.unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p>{format!("Caché de consultas: {}", d.cache)}</p>
                }.into_any()
            } else {
                view! { <p>"No hay conexión con AquaCIS configurada (AQUACIS_URL). Todo se lee y se guarda en SUPRA."</p> }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="h-envios">
            <h2 id="h-envios">"Envíos a AquaCIS"</h2>
            <p class="outbox-depth">{format!("Pendientes: {} · Sin entregar (requieren revisión): {}", d.waiting, d.dead_total)}</p>
            {if d.dead.is_empty() {
                view! { <p>"No hay envíos detenidos."</p> }.into_any()
            } else {
                view! {
                    <ul class="dead-letters">
                        {d.dead.into_iter().map(|x| view! {
                            <li class="card">
                                <p><strong>{x.summary}</strong></p>
                                <p class="small">{format!("Creado {} · detenido {} · {} intentos", x.created, x.dead_since, x.attempts)}</p>
                                <p>{format!("Motivo: {}", x.error)}</p>
                                {admin.then(|| view! {
                                    <ActionForm action=replay attr:class="inline">
                                        <input type="hidden" name="id" value=x.id.to_string()/>
                                        <button type="submit">"Reenviar"</button>
                                    </ActionForm>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="h-sync">
            <h2 id="h-sync">"Sincronización nocturna"</h2>
            {admin.then(|| view! {
                <ActionForm action=sync attr:class="inline"><button type="submit">"Sincronizar ahora"</button></ActionForm>
            })}
            {match d.last_sync {
                None => view! { <p>"Todavía no se ha sincronizado."</p> }.into_any(),
                Some(r) => view! {
                    <p class="sync-status">{format!("{} · inició {}{}", r.status, r.started, r.finished.map(|f| format!(" · terminó {f}")).unwrap_or_default())}</p>
                    <p>{format!("Contratos revisados: {} · importados: {} · en cuarentena: {} · lecturas nuevas: {}", r.seen, r.imported, r.quarantined, r.readings)}</p>
                    <ul>{r.reconciliation.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                    {(!r.mismatches.is_empty()).then(|| view! {
                        <table>
                            <caption>"Saldos distintos"</caption>
                            <thead><tr><th scope="col">"Contrato"</th><th scope="col">"SUPRA"</th><th scope="col">"AquaCIS"</th></tr></thead>
                            <tbody>{r.mismatches.into_iter().map(|(n, s, l)| view! {
                                <tr><th scope="row">{n}</th><td>{s}</td><td>{l}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    })}
                    {(!r.quarantine.is_empty()).then(|| view! {
                        <table class="legacy-quarantine">
                            <caption>"Registros en cuarentena"</caption>
                            <thead><tr><th scope="col">"Tipo"</th><th scope="col">"Clave"</th><th scope="col">"Motivo"</th></tr></thead>
                            <tbody>{r.quarantine.into_iter().map(|q| view! {
                                <tr><td>{q.entity}</td><th scope="row">{q.key}</th><td>{q.reason}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    })}
                }.into_any(),
            }}
        </section>
        <section class="card" aria-labelledby="h-fuente">
            <h2 id="h-fuente">"Dónde está la información"</h2>
            <p>"Para cada tema: de dónde se consulta y a dónde se guardan los cambios. Cada cambio queda registrado."</p>
            <ul class="domains">
                {d.domains.into_iter().map(|x| {
                    let reads_id = format!("lecturas-{}", x.domain);
                    let writes_id = format!("escrituras-{}", x.domain);
                    let reads = x.reads.clone();
                    let writes = x.writes.clone();
                    view! {
                        <li class="card">
                            <h3>{x.label.clone()}</h3>
                            <p class="small">{format!("Último cambio: {}", x.updated)}</p>
                            {if admin {
                                view! {
                                    <ActionForm action=switch attr:class="stack">
                                        <input type="hidden" name="dominio" value=x.domain.clone()/>
                                        <div class="field">
                                            <label for=reads_id.clone()>{format!("Consultar {} en", x.label.to_lowercase())}</label>
                                            <select id=reads_id.clone() name="lecturas">
                                                <option value="supra" selected=reads == "supra">"SUPRA"</option>
                                                <option value="legado" selected=reads == "legado">"AquaCIS"</option>
                                            </select>
                                        </div>
                                        <div class="field">
                                            <label for=writes_id.clone()>{format!("Guardar cambios de {} en", x.label.to_lowercase())}</label>
                                            <select id=writes_id.clone() name="escrituras">
                                                <option value="supra" selected=writes == "supra">"SUPRA"</option>
                                                <option value="legado" selected=writes == "legado">"AquaCIS"</option>
                                                <option value="ambos" selected=writes == "ambos">"Ambos"</option>
                                            </select>
                                        </div>
                                        <button type="submit">{format!("Guardar {}", x.label.to_lowercase())}</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! {
                                    <p>{format!("Consultar en: {} · Guardar en: {}", label(&reads), label(&writes))}</p>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

fn label(v: &str) -> &'static str {
    match v {
        "legado" => "AquaCIS",
        "ambos" => "ambos",
        _ => "SUPRA",
    }
}
