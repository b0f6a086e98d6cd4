use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, Redirect};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::bills::StatusBadge;
use super::{Field, FormError, field_error, general_error};
use crate::api::*;
use crate::error::AppError;

#[component]
pub fn StaffLogin() -> impl IntoView {
    let login = ServerAction::<StaffLogin>::new();
    view! {
        <Title text="Acceso del personal"/>
        <h1>"Acceso del personal"</h1>
        <ActionForm action=login attr:class="stack" attr:novalidate=true>
            <FormError error=general_error(login.value())/>
            <Field id="correo" name="correo" label="Correo" kind="email" autocomplete="username"
                error=field_error(login.value(), "correo")/>
            <Field id="contrasena" name="contrasena" label="Contraseña" kind="password"
                autocomplete="current-password" error=field_error(login.value(), "contrasena")/>
            <button type="submit" class="primary">"Entrar"</button>
        </ActionForm>
    }
}

/// What to render for errors every staff page shares.
pub(crate) fn staff_error(e: AppError) -> AnyView {
    match e {
        AppError::Unauthorized => view! { <Redirect path="/personal/entrar"/> }.into_any(),
        other => view! { <p role="alert" class="form-error">{other.to_string()}</p> }.into_any(),
    }
}

#[component]
pub(crate) fn StaffBar() -> impl IntoView {
    let me = Resource::new(|| (), |_| staff_me());
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate("/personal/entrar", Default::default());
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(m) => view! {
                        <nav class="staff-bar" aria-label="Personal">
                            <StaffLink href="/personal" label="Buscar cuentas"/>
                            {m.can_bill.then(|| view! {
                                <StaffLink href="/personal/tarifas" label="Tarifas"/>
                                <StaffLink href="/personal/facturacion" label="Facturación"/>
                                <StaffLink href="/personal/cfdi" label="CFDI"/>
                            })}
                            {m.can_take_payments.then(|| view! {
                                <StaffLink href="/personal/caja" label="Caja"/>
                                <StaffLink href="/personal/pagos" label="Pagos"/>
                                <StaffLink href="/personal/conciliacion" label="Conciliación"/>
                                <StaffLink href="/personal/domiciliacion" label="Domiciliación"/>
                            })}
                            {m.can_read_meters.then(|| view! {
                                <StaffLink href="/personal/lecturas" label="Lecturas"/>
                                <StaffLink href="/personal/anomalias" label="Anomalías"/>
                            })}
                            {m.can_see_legacy.then(|| view! {
                                <StaffLink href="/personal/legado" label="AquaCIS"/>
                            })}
                            <span class="who">{m.name}" · "{m.role}</span>
                            <ActionForm action=logout attr:class="inline"><button type="submit">"Salir"</button></ActionForm>
                        </nav>
                    }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Suspense>
    }
}

/// A link of the staff bar; `aria-current` on the section being shown.
#[component]
fn StaffLink(href: &'static str, label: &'static str) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let current = move || {
        let p = location.pathname.get();
        let here = if href == "/personal" {
            p == "/personal" || p.starts_with("/personal/cuentas")
        } else {
            p.starts_with(href)
        };
        here.then_some("page")
    };
    view! { <a href=href aria-current=current>{label}</a> }
}

#[component]
pub fn StaffSearch() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let results = Resource::new(q, |q| async move {
        if q.trim().is_empty() {
            None
        } else {
            Some(search_accounts(q).await)
        }
    });
    view! {
        <Title text="Buscar cuentas"/>
        <StaffBar/>
        <h1>"Buscar cuentas"</h1>
        <Form method="GET" action="/personal" attr:class="search" attr:role="search">
            <label for="q">"Contrato, nombre, medidor, calle o teléfono"</label>
            <div class="row">
                <input id="q" name="q" type="search" value=q autocomplete="off" maxlength="100"/>
                <button type="submit" class="primary">"Buscar"</button>
            </div>
        </Form>
        <Suspense fallback=|| view! { <p>"Buscando…"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    None => ().into_any(),
                    Some(Err(e @ AppError::Invalid { .. })) => view! {
                        <p role="alert" class="form-error">{e.to_string()}</p>
                    }.into_any(),
                    Some(Err(e)) => staff_error(e),
                    Some(Ok(r)) if r.rows.is_empty() => view! {
                        <p role="status">"No encontramos cuentas para «"{r.query}"»."</p>
                    }.into_any(),
                    Some(Ok(r)) => view! {
                        <p role="status">{format!("{} {} para «{}»{}", r.rows.len(),
                            if r.rows.len() == 1 { "resultado" } else { "resultados" }, r.query,
                            if r.truncated { ". Hay más: escribe algo más específico." } else { "" })}</p>
                        <table class="results">
                            <thead><tr>
                                <th scope="col">"Contrato"</th><th scope="col">"Titular"</th>
                                <th scope="col">"Dirección"</th><th scope="col">"Medidor"</th>
                                <th scope="col">"Uso"</th><th scope="col">"Estado"</th>
                            </tr></thead>
                            <tbody>
                                {r.rows.into_iter().map(|row| view! {
                                    <tr>
                                        <td><a href=format!("/personal/cuentas/{}", row.contract_id)>{row.number}</a></td>
                                        <td>{row.titular}</td><td>{row.address}</td><td>{row.meter}</td>
                                        <td>{row.use_type}</td><td>{row.status}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn StaffAccount() -> AnyView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let account = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_account(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text="Cuenta"/>
        <StaffBar/>
        <Suspense fallback=|| view! { <p>"Cargando la cuenta…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(a) => view! { <AccountView a/> }.into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn AccountView(a: AccountDetail) -> AnyView {
    let d = a.dashboard.clone();
    view! {
        <h1>"Contrato " {d.number.clone()}</h1>
        <div class="grid">
            <section class="card" aria-labelledby="h-persona">
                <h2 id="h-persona">"Titular"</h2>
                <dl class="facts">
                    <dt>"Nombre"</dt><dd>{d.titular.clone()}</dd>
                    <dt>"Teléfono"</dt><dd>{a.phone.clone()}</dd>
                    <dt>"Correo"</dt><dd>{a.email.clone()}</dd>
                    <dt>"RFC"</dt><dd>{a.rfc.clone()}</dd>
                    <dt>"CURP"</dt><dd>{a.curp.clone()}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="h-toma">
                <h2 id="h-toma">"Toma"</h2>
                <dl class="facts">
                    <dt>"Dirección"</dt><dd>{d.address.clone()}</dd>
                    <dt>"Sector"</dt><dd>{a.sector.clone()}</dd>
                    <dt>"Tipo"</dt><dd>{a.toma.clone()}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="h-contrato">
                <h2 id="h-contrato">"Contrato"</h2>
                <dl class="facts">
                    <dt>"Uso"</dt><dd>{d.use_type.clone()}</dd>
                    <dt>"Clase de tarifa"</dt><dd>{a.tariff_class.clone()}</dd>
                    <dt>"Estado"</dt><dd>{d.status.clone()}</dd>
                    <dt>"Alta"</dt><dd>{a.start_date.clone()}</dd>
                    <dt>"Descuento (pensionado / INAPAM)"</dt><dd>{if a.vulnerable { "Sí" } else { "No" }}</dd>
                    <dt>"Saldo"</dt><dd>{d.balance.clone()}{if d.owes { " por pagar" } else { "" }}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="h-medidor">
                <h2 id="h-medidor">"Medidor"</h2>
                {match d.meter.clone() {
                    Some(m) => view! {
                        <dl class="facts">
                            <dt>"Serie"</dt><dd>{m.serial}</dd>
                            <dt>"Marca y modelo"</dt><dd>{m.make_model}</dd>
                            <dt>"Diámetro"</dt><dd>{m.diameter}</dd>
                            <dt>"Registro"</dt><dd>{m.details}</dd>
                        </dl>
                        <p><a href=format!("/personal/medidores/{}", m.id)>"Ver lecturas del medidor"</a></p>
                    }.into_any(),
                    None => view! { <p>"Sin medidor."</p> }.into_any(),
                }}
            </section>
        </div>
        <section aria-labelledby="h-lecturas">
            <h2 id="h-lecturas">"Lecturas"</h2>
            <table class="readings">
                <thead><tr>
                    <th scope="col">"Periodo"</th><th scope="col">"Fecha"</th><th scope="col">"Lectura"</th>
                    <th scope="col">"Consumo"</th><th scope="col">"Origen"</th><th scope="col">"Calidad"</th>
                </tr></thead>
                <tbody>
                    {a.all_readings.iter().map(|r| view! {
                        <tr>
                            <td>{r.period.clone()}</td><td>{r.date.clone()}</td><td>{r.value.clone()}</td>
                            <td>{r.consumption.clone()}</td><td>{r.source.clone()}</td><td>{r.quality.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section aria-labelledby="h-recibos">
            <h2 id="h-recibos">"Recibos"</h2>
            {if a.invoices.is_empty() {
                view! { <p>"Este contrato todavía no tiene recibos."</p> }.into_any()
            } else {
                view! {
                    <table class="invoices">
                        <thead><tr>
                            <th scope="col">"Periodo"</th><th scope="col">"Folio"</th><th scope="col">"Total"</th>
                            <th scope="col">"Estado"</th><th scope="col">"Vence"</th><th scope="col">"PDF"</th>
                        </tr></thead>
                        <tbody>
                            {a.invoices.iter().map(|b| view! {
                                <tr>
                                    <td><a href=format!("/personal/recibos/{}", b.id)>{b.period.clone()}</a></td>
                                    <td>{b.folio.clone()}</td><td>{b.total.clone()}</td>
                                    <td><StatusBadge status=b.status.clone() label=b.status_label.clone()/></td>
                                    <td>{b.due_date.clone()}</td>
                                    <td>
                                        <a href=format!("/personal/recibos/{}/pdf", b.id) rel="external">
                                            "PDF"<span class="visually-hidden">{format!(" del recibo de {}", b.period)}</span>
                                        </a>
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="h-bitacora">
            <h2 id="h-bitacora">"Bitácora"</h2>
            <ul class="events">
                {a.events.iter().map(|e| view! {
                    <li>{e.when.clone()}" · "{e.action.clone()}" · "{e.actor.clone()}</li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
