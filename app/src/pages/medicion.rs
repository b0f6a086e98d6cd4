//! Staff: meter readings. The ingest monitor (rate by source, silent devices,
//! quarantine, route files with the upload form), a route file's report, a meter's raw
//! readings with their quality, and the anomalies queue.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::staff::{StaffBar, staff_error};
use super::{FormError, general_error};
use crate::api::*;

fn id_param(name: &'static str) -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get(name).and_then(|s| s.parse::<i64>().ok()))
}

#[component]
pub fn StaffIngest() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(|| (), |_| ingest_monitor());
    let error = move || query.read().get("error");
    view! {
        <Title text="Lecturas"/>
        <StaffBar/>
        <h1>"Lecturas"</h1>
        <p>"Lo que llega de los medidores: telemetría (LoRaWAN), rutas de los lecturistas y lecturas de los usuarios. "
           <a href="/personal/anomalias">"Ver anomalías"</a></p>
        <section class="card" id="rutas" aria-labelledby="h-ruta">
            <h2 id="h-ruta">"Subir una ruta de lecturista"</h2>
            <p>"Archivo CSV con las columnas medidor, lectura (m³), fecha y observación (por ejemplo «sin acceso» o «medidor dañado»). Se procesa aparte: puede seguir trabajando."</p>
            {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <form method="post" action="/personal/lecturas/rutas" enctype="multipart/form-data" class="stack">
                <div class="field">
                    <label for="archivo">"Archivo de la ruta"</label>
                    <p class="hint" id="archivo-ayuda">"CSV separado por comas o punto y coma, en UTF-8."</p>
                    <input id="archivo" name="archivo" type="file" accept=".csv,text/csv" required aria-describedby="archivo-ayuda"/>
                </div>
                <button type="submit">"Subir ruta"</button>
            </form>
        </section>
        <Transition fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <Monitor d/> }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn Monitor(d: IngestMonitorView) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="h-ritmo">
            <h2 id="h-ritmo">"Lecturas por minuto (última hora)"</h2>
            {if d.rates.is_empty() {
                view! { <p>"No llegaron lecturas en la última hora."</p> }.into_any()
            } else {
                view! {
                    <table class="rates">
                        <thead><tr><th scope="col">"Origen"</th><th scope="col">"Por minuto"</th><th scope="col">"En la hora"</th></tr></thead>
                        <tbody>
                            {d.rates.into_iter().map(|r| view! {
                                <tr><td>{r.source}</td><td>{r.per_minute}</td><td>{r.last_hour}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="h-lotes">
            <h2 id="h-lotes">"Rutas recientes"</h2>
            {if d.batches.is_empty() {
                view! { <p>"Aún no se han subido rutas."</p> }.into_any()
            } else {
                view! {
                    <table class="batches">
                        <thead><tr>
                            <th scope="col">"Archivo"</th><th scope="col">"Estado"</th><th scope="col">"Filas"</th>
                            <th scope="col">"Aceptadas"</th><th scope="col">"Repetidas"</th><th scope="col">"Rechazadas"</th>
                        </tr></thead>
                        <tbody>
                            {d.batches.into_iter().map(|b| view! {
                                <tr>
                                    <td><a href=format!("/personal/lecturas/lotes/{}", b.id)>{b.filename.clone()}</a>
                                        <br/><span class="small">{format!("{} · {}", b.started, b.uploaded_by)}</span></td>
                                    <td>{b.status.clone()}</td><td>{b.rows}</td><td>{b.accepted}</td>
                                    <td>{b.duplicates}</td><td>{b.rejected}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="h-silencio">
            <h2 id="h-silencio">"Medidores sin reportar en 24 horas"</h2>
            <p>{format!("{} dispositivos registrados no han enviado lecturas en las últimas 24 horas.", d.silent_total)}</p>
            {(!d.silent.is_empty()).then(|| view! {
                <table class="silent">
                    <thead><tr><th scope="col">"Dispositivo (DevEUI)"</th><th scope="col">"Medidor"</th><th scope="col">"Último reporte"</th></tr></thead>
                    <tbody>
                        {d.silent.into_iter().map(|s| view! {
                            <tr><td><code>{s.dev_eui}</code></td><td>{s.serial}</td><td>{s.last_seen}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
        <section class="card" aria-labelledby="h-cuarentena">
            <h2 id="h-cuarentena">"Cuarentena"</h2>
            <p>"Mensajes que no se pudieron asignar a un medidor (dispositivo no registrado, datos ilegibles, fecha imposible). Se guardan para revisarlos."</p>
            {if d.quarantine.is_empty() {
                view! { <p>"Nada en cuarentena."</p> }.into_any()
            } else {
                view! {
                    <table class="quarantine">
                        <thead><tr><th scope="col">"Recibido"</th><th scope="col">"Vía"</th><th scope="col">"Dispositivo"</th><th scope="col">"Motivo"</th></tr></thead>
                        <tbody>
                            {d.quarantine.into_iter().map(|q| view! {
                                <tr><td>{q.received}</td><td>{q.source}</td><td><code>{q.device}</code></td><td>{q.reason}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn StaffRouteBatch() -> impl IntoView {
    let id = id_param("id");
    let data = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => route_batch(id).await,
                None => Err(crate::error::AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="Ruta de lecturista"/>
        <StaffBar/>
        <p><a href="/personal/lecturas">"← Lecturas"</a></p>
        <Transition fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => {
                        let b = d.batch.clone();
                        view! {
                            {(!b.finished).then(|| view! { <Meta http_equiv="refresh" content="3"/> })}
                            <h1>{format!("Ruta «{}»", b.filename)}</h1>
                            <section class="card" aria-labelledby="h-resumen">
                                <h2 id="h-resumen">"Resumen"</h2>
                                <p role="status">{if b.finished {
                                    format!("{}: {} filas; {} aceptadas, {} repetidas, {} rechazadas.",
                                        b.status, b.rows, b.accepted, b.duplicates, b.rejected)
                                } else {
                                    format!("Procesando… {} filas hasta ahora. Esta página se actualiza sola.", b.rows)
                                }}</p>
                                {b.error.clone().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                                {d.report_url.clone().map(|u| view! {
                                    <p><a href=u download>"Descargar el reporte por fila (CSV)"</a></p>
                                })}
                            </section>
                            {(!d.issues.is_empty()).then(|| view! {
                                <section class="card" aria-labelledby="h-problemas">
                                    <h2 id="h-problemas">"Filas rechazadas o repetidas"</h2>
                                    <table class="route-report">
                                        <thead><tr><th scope="col">"Línea"</th><th scope="col">"Medidor"</th><th scope="col">"Resultado"</th><th scope="col">"Detalle"</th></tr></thead>
                                        <tbody>
                                            {d.issues.into_iter().map(|l| view! {
                                                <tr><td>{l.line}</td><td>{l.serial}</td><td>{l.outcome}</td><td>{l.detail}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </section>
                            })}
                        }.into_any()
                    }
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn StaffMeter() -> impl IntoView {
    let id = id_param("id");
    let data = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => meter_page(id).await,
                None => Err(crate::error::AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="Medidor"/>
        <StaffBar/>
        <Transition fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(m) => view! {
                        <p><a href=format!("/personal/cuentas/{}", m.contract_id)>{format!("← Contrato {}", m.contract)}</a></p>
                        <h1>{format!("Medidor {}", m.serial)}</h1>
                        <section class="card" aria-labelledby="h-datos">
                            <h2 id="h-datos">"Datos"</h2>
                            <dl class="facts">
                                <dt>"Marca y modelo"</dt><dd>{m.make_model.clone()}</dd>
                                <dt>"Registro"</dt><dd>{m.register.clone()}</dd>
                                <dt>"Dispositivo LoRaWAN"</dt><dd>{m.device.clone().unwrap_or_else(|| "Ninguno".into())}</dd>
                            </dl>
                        </section>
                        {(!m.periods.is_empty()).then(|| view! {
                            <section class="card" aria-labelledby="h-periodos">
                                <h2 id="h-periodos">"Consumo por periodo"</h2>
                                <table class="periods">
                                    <thead><tr><th scope="col">"Periodo"</th><th scope="col">"Consumo"</th><th scope="col">"Lecturas"</th></tr></thead>
                                    <tbody>
                                        {m.periods.clone().into_iter().map(|p| view! {
                                            <tr><td>{p.period}</td><td>{p.consumption}</td><td>{p.readings}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        })}
                        {(!m.self_reads.is_empty()).then(|| view! {
                            <section class="card" aria-labelledby="h-ciudadano">
                                <h2 id="h-ciudadano">"Lecturas enviadas por el usuario"</h2>
                                <table class="self-reads">
                                    <thead><tr>
                                        <th scope="col">"Fecha"</th><th scope="col">"Lectura (m³)"</th>
                                        <th scope="col">"Resultado"</th><th scope="col">"Foto"</th>
                                    </tr></thead>
                                    <tbody>
                                        {m.self_reads.clone().into_iter().map(|r| view! {
                                            <tr class:flagged=!r.accepted>
                                                <td>{r.date.clone()}</td><td>{r.value}</td><td>{r.outcome}</td>
                                                <td>{match r.photo_url {
                                                    Some(url) => view! {
                                                        <a href=url target="_blank" rel="noopener">
                                                            {format!("Ver foto del {}", r.date)}
                                                        </a>
                                                    }.into_any(),
                                                    None => view! { "Sin foto" }.into_any(),
                                                }}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        })}
                        <section aria-labelledby="h-lecturas">
                            <h2 id="h-lecturas">"Lecturas recibidas"</h2>
                            <table class="meter-readings">
                                <caption>"Lecturas"</caption>
                                <thead><tr>
                                    <th scope="col">"Fecha"</th><th scope="col">"Lectura (m³)"</th><th scope="col">"Origen"</th>
                                    <th scope="col">"Calidad"</th><th scope="col">"Alarmas"</th>
                                </tr></thead>
                                <tbody>
                                    {m.readings.into_iter().map(|r| view! {
                                        <tr class:flagged=r.flagged>
                                            <td>{r.date}</td><td>{r.value}</td><td>{r.source}</td>
                                            <td>{r.quality}</td><td>{r.alarms}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn StaffAnomalies() -> impl IntoView {
    let review = ServerAction::<ReviewAnomaly>::new();
    let detect = ServerAction::<DetectAnomalies>::new();
    let data = Resource::new(
        move || (review.version().get(), detect.version().get()),
        |_| anomalies_queue(),
    );
    let reviewed = review.value();
    view! {
        <Title text="Anomalías"/>
        <StaffBar/>
        <h1>"Anomalías de consumo"</h1>
        <p>"Posibles fugas, consumos altos, medidores detenidos y alarmas de los medidores. El usuario ve la alerta en su cuenta."</p>
        <section class="card" aria-labelledby="h-buscar">
            <h2 id="h-buscar">"Buscar anomalías"</h2>
            <p>"El sistema las busca cada hora; puede hacerlo ahora."</p>
            {move || detect.value().get().and_then(|r| r.ok()).map(|m| view! { <p class="notice" role="status">{m}</p> })}
            <ActionForm action=detect attr:class="inline"><button type="submit">"Buscar ahora"</button></ActionForm>
        </section>
        {move || reviewed.get().and_then(|r| r.ok()).map(|m| view! { <p class="notice" role="status">{m}</p> })}
        <FormError error=general_error(reviewed)/>
        <Transition fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) if list.is_empty() => view! { <p>"No hay anomalías abiertas."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="anomalies">
                            {list.into_iter().map(|a| {
                                let motivo = format!("motivo-{}", a.id);
                                let desc = format!("descripcion-{}", a.id);
                                view! {
                                    <li class="card">
                                        <h2>{format!("{} · contrato {}", a.kind, a.contract)}</h2>
                                        <p>{a.detail.clone()}</p>
                                        <p class="small">{format!("Detectada {} · medidor ", a.detected)}
                                            <a href=format!("/personal/medidores/{}", a.meter_id)>{a.serial.clone()}</a>
                                            " · "<a href=format!("/personal/cuentas/{}", a.contract_id)>"cuenta"</a></p>
                                        <ActionForm action=review attr:class="stack">
                                            <input type="hidden" name="anomalia" value=a.id.to_string()/>
                                            <input type="hidden" name="accion" value="orden"/>
                                            <div class="field">
                                                <label for=desc.clone()>"Instrucciones para la cuadrilla (opcional)"</label>
                                                <input id=desc.clone() name="descripcion" type="text" autocomplete="off"/>
                                            </div>
                                            <button type="submit">"Crear orden de trabajo"</button>
                                        </ActionForm>
                                        <ActionForm action=review attr:class="inline">
                                            <input type="hidden" name="anomalia" value=a.id.to_string()/>
                                            <input type="hidden" name="accion" value="revisada"/>
                                            <button type="submit">"Marcar como revisada"</button>
                                        </ActionForm>
                                        <ActionForm action=review attr:class="stack">
                                            <input type="hidden" name="anomalia" value=a.id.to_string()/>
                                            <input type="hidden" name="accion" value="descartada"/>
                                            <div class="field">
                                                <label for=motivo.clone()>"Motivo para descartar"</label>
                                                <input id=motivo.clone() name="motivo" type="text" autocomplete="off"/>
                                            </div>
                                            <button type="submit">"Descartar"</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
}
