use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::bills::{BillListView, CitizenBillView, OfflineBanner, use_online};
use super::consumo::ConsumptionPage;
use super::lectura::{SelfReadPage, form_from_dashboard};
use super::{Field, FormError, field_error, general_error};
use crate::api::*;
use crate::error::AppError;
use crate::offline;

/// The two steps (contract number → code) for any pair of server actions whose first
/// step answers `CodeSentView`: one view for signing in and for linking a contract.
macro_rules! code_steps {
    ($request:expr, $verify:expr) => {{
        let (request, verify) = ($request, $verify);
        move || match request.value().get().and_then(|r| r.ok()) {
            None => view! {
                <ActionForm action=request attr:class="stack" attr:novalidate=true>
                    <StepOneFields request=request.value()/>
                </ActionForm>
            }
            .into_any(),
            Some(sent) => view! {
                <ActionForm action=verify attr:class="stack" attr:novalidate=true>
                    <StepTwoFields sent verify=verify.value()/>
                </ActionForm>
            }
            .into_any(),
        }
    }};
}

/// Contract number + code, in two steps on one page.
#[component]
pub fn CitizenLogin() -> impl IntoView {
    let steps = code_steps!(
        ServerAction::<RequestCode>::new(),
        ServerAction::<VerifyCode>::new()
    );
    view! {
        <Title text="Entrar"/>
        <h1>"Entrar a mi cuenta"</h1>
        {steps}
    }
}

/// Link another contract to the signed-in account.
#[component]
pub fn LinkContract() -> impl IntoView {
    let steps = code_steps!(
        ServerAction::<LinkRequest>::new(),
        ServerAction::<LinkVerify>::new()
    );
    view! {
        <Title text="Agregar contrato"/>
        <h1>"Agregar otro contrato"</h1>
        <p>"Te enviaremos un código al teléfono registrado en ese contrato."</p>
        {steps}
        <p><a href="/cuenta">"Volver a mi cuenta"</a></p>
    }
}

#[component]
fn StepOneFields(
    #[prop(into)] request: Signal<Option<Result<CodeSentView, AppError>>>,
) -> impl IntoView {
    view! {
        <FormError error=general_error(request)/>
        <Field id="contrato" name="contrato" label="Número de contrato"
            hint="Está en la parte de arriba de tu recibo de agua."
            inputmode="numeric" autocomplete="username" maxlength="20"
            error=field_error(request, "contrato")/>
        <button type="submit" class="primary">"Enviarme un código"</button>
    }
}

#[component]
fn StepTwoFields(
    sent: CodeSentView,
    #[prop(into)] verify: Signal<Option<Result<(), AppError>>>,
) -> impl IntoView {
    let message = format!(
        "Te enviamos un código de 6 números al {}. Vence en {} minutos.",
        sent.destination, sent.minutes
    );
    view! {
        <p class="notice" role="status">{message}</p>
        <input type="hidden" name="contrato" value=sent.contract.clone()/>
        <FormError error=general_error(verify)/>
        <Field id="codigo" name="codigo" label="Código de 6 números"
            inputmode="numeric" autocomplete="one-time-code" maxlength="6" autofocus=true
            error=field_error(verify, "codigo")/>
        <button type="submit" class="primary">"Entrar"</button>
        <p class="small">"¿No te llegó? Espera un minuto y vuelve a "<a href="">"pedir un código"</a>"."</p>
    }
}

/// The citizen dashboard: from the server when online, from IndexedDB when not, with
/// the contract's alerts ("Posible fuga: …").
#[component]
pub fn CitizenDashboard() -> AnyView {
    let data = Resource::new(|| (), |_| get_dashboard());
    let alerts = Resource::new(|| (), |_| get_alerts());
    // The page may have come from the service worker's cache: ask the server.
    let online = use_online();
    view! {
        <Title text="Mi cuenta"/>
        <Suspense fallback=|| view! { <p>"Cargando tu cuenta…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => {
                        let alerts = match alerts.await {
                            Ok(a) => a,
                            Err(AppError::Offline) => offline::load_alerts().await.unwrap_or_default(),
                            Err(_) => Vec::new(),
                        };
                        // Keep the latest copy for offline use (browser only).
                        #[cfg(feature = "hydrate")]
                        {
                            let save = d.clone();
                            let save_alerts = alerts.clone();
                            spawn_local(async move {
                                if offline::is_online() {
                                    offline::save_dashboard(&save).await;
                                    offline::save_alerts(&save_alerts).await;
                                }
                            });
                        }
                        view! { <DashboardView d online alerts/> }.into_any()
                    }
                    Err(AppError::Unauthorized) => view! { <Redirect path="/entrar"/> }.into_any(),
                    Err(AppError::Offline) => match offline::load_dashboard().await {
                        Some(d) => {
                            online.set(false);
                            let alerts = offline::load_alerts().await.unwrap_or_default();
                            view! { <DashboardView d online alerts/> }.into_any()
                        }
                        None => view! { <NoSavedData/> }.into_any(),
                    },
                    Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// What the offline page shows: the page the person asked for (`?ruta=`, set by the
/// service worker), from what this phone saved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Saved {
    Dashboard(Option<Box<Dashboard>>, Vec<AlertView>),
    Bills(Option<Box<BillList>>),
    Bill(Option<Box<BillDetail>>),
    /// The reading form, from the saved dashboard (the reading is queued).
    SelfRead(Option<Box<Dashboard>>),
    Consumption(Option<Box<ConsumptionView>>),
}

async fn load_saved(ruta: Option<String>) -> Saved {
    let path = ruta.as_deref().unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = path.trim_end_matches('/');
    if path == "/cuenta/lectura" {
        return Saved::SelfRead(offline::load_dashboard().await.map(Box::new));
    }
    if path == "/cuenta/consumo" {
        return Saved::Consumption(offline::load_consumption().await.map(Box::new));
    }
    let rest = path.strip_prefix("/cuenta/recibos");
    match rest {
        Some("") => Saved::Bills(offline::load_bill_list().await.map(Box::new)),
        Some(id) => match id.trim_start_matches('/').parse::<i64>() {
            Ok(id) => Saved::Bill(offline::load_bill(id).await.map(Box::new)),
            Err(_) => Saved::Bills(offline::load_bill_list().await.map(Box::new)),
        },
        None => Saved::Dashboard(
            offline::load_dashboard().await.map(Box::new),
            offline::load_alerts().await.unwrap_or_default(),
        ),
    }
}

/// Shown by the service worker for pages it has no copy of while offline: the saved
/// dashboard, or the saved bills when the person asked for them.
#[component]
pub fn OfflinePage() -> AnyView {
    let query = use_query_map();
    let saved = LocalResource::new(move || load_saved(query.read().get("ruta")));
    let online = RwSignal::new(false);
    let bill_saved = RwSignal::new(false);
    let list_saved = RwSignal::new(None::<usize>);
    view! {
        <Title text="Sin conexión"/>
        <Suspense fallback=|| view! { <h1>"Sin conexión"</h1> }>
            {move || Suspend::new(async move {
                match saved.await {
                    Saved::Dashboard(Some(d), alerts) => view! { <DashboardView d=*d online alerts/> }.into_any(),
                    Saved::SelfRead(Some(d)) => {
                        let fetched = Some(d.fetched_at.clone());
                        view! { <SelfReadPage f=form_from_dashboard(&d) online fetched/> }.into_any()
                    }
                    Saved::Consumption(Some(v)) => view! { <ConsumptionPage v=*v online/> }.into_any(),
                    Saved::Bills(Some(l)) => view! { <BillListView l=*l online saved=list_saved/> }.into_any(),
                    Saved::Bill(Some(d)) => view! { <CitizenBillView d=*d online saved=bill_saved/> }.into_any(),
                    _ => view! { <NoSavedData/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn NoSavedData() -> impl IntoView {
    view! {
        <h1>"Sin conexión"</h1>
        <p>"No hay datos guardados en este teléfono. Cuando tengas señal, entra a tu cuenta y la guardaremos para consultarla sin conexión."</p>
        <p><a class="button" href="/cuenta">"Intentar de nuevo"</a></p>
    }
}

#[component]
pub fn DashboardView(
    d: Dashboard,
    online: RwSignal<bool>,
    #[prop(optional)] alerts: Vec<AlertView>,
) -> AnyView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            spawn_local(async move {
                offline::clear_private().await;
                let navigate = leptos_router::hooks::use_navigate();
                navigate("/", Default::default());
            });
        }
    });
    let switch = ServerAction::<SwitchContract>::new();
    let fetched = d.fetched_at.clone();
    let multiple = d.linked.len() > 1;
    let current = d.contract_id;
    let linked = d.linked.clone();
    view! {
        <OfflineBanner online fetched=fetched/>
        <h1>"Mi cuenta"</h1>
        <Alerts alerts has_meter=d.meter.is_some()/>
        <section class="card" aria-labelledby="h-contrato">
            <h2 id="h-contrato">"Contrato " <span class="contract-number">{d.number.clone()}</span></h2>
            <dl class="facts">
                <dt>"Titular"</dt><dd>{d.titular.clone()}</dd>
                <dt>"Dirección del servicio"</dt><dd class="service-address">{d.address.clone()}</dd>
                <dt>"Uso"</dt><dd>{d.use_type.clone()}</dd>
                <dt>"Estado"</dt><dd>{d.status.clone()}</dd>
            </dl>
            {multiple.then(|| view! {
                <ActionForm action=switch attr:class="inline">
                    <label for="cambiar-contrato">"Ver otro contrato"</label>
                    <select id="cambiar-contrato" name="contract_id">
                        {linked.iter().map(|l| view! {
                            <option value=l.contract_id.to_string() selected=l.contract_id == current>
                                {format!("{} · {}", l.number, l.address)}
                            </option>
                        }).collect_view()}
                    </select>
                    <button type="submit">"Cambiar"</button>
                </ActionForm>
            })}
            <p><a href="/cuenta/agregar">"Agregar otro contrato"</a></p>
        </section>
        <section class="card" aria-labelledby="h-saldo">
            <h2 id="h-saldo">"Saldo"</h2>
            <p class="balance" class:owes=d.owes class:credit=d.credit>
                <span class="amount">{d.balance.clone()}</span>
                " "
                <span>{if d.owes { "por pagar" } else if d.credit { "a tu favor" } else { "sin adeudo" }}</span>
            </p>
            {d.legacy_balance.clone().map(|l| if l.unavailable {
                view! {
                    <p class="notice stale" role="status">
                        "No pudimos consultar el sistema comercial. Este es el saldo registrado en SUPRA y puede no incluir movimientos recientes."
                    </p>
                }.into_any()
            } else if l.stale {
                view! {
                    <p class="notice stale" role="status">
                        {format!("No pudimos consultar el sistema comercial. Saldo al {}; puede no incluir pagos recientes.", l.as_of)}
                    </p>
                }.into_any()
            } else {
                view! { <p class="small">{format!("Saldo del sistema comercial al {}.", l.as_of)}</p> }.into_any()
            })}
            <p class="actions">
                <a class="button primary" href="/cuenta/pagar">"Pagar"</a>
                " "
                <a class="button" href="/cuenta/recibos">"Ver mis recibos"</a>
            </p>
            {(!d.pending_payments.is_empty()).then(|| view! {
                <section class="pending-payments" aria-labelledby="h-pendientes">
                    <h3 id="h-pendientes">"Referencias por pagar en OXXO"</h3>
                    <ul>
                        {d.pending_payments.iter().map(|o| view! {
                            <li>
                                <code class="reference">{o.reference.clone().unwrap_or_default()}</code>
                                {format!(" · {} · vence el {}", o.amount, o.expires.clone().unwrap_or_default())}
                            </li>
                        }).collect_view()}
                    </ul>
                    <p class="small">"Muéstrala en la caja de cualquier OXXO. La guardamos en este teléfono para verla sin señal."</p>
                </section>
            })}
            {d.spei_clabe.clone().map(|clabe| view! {
                <section class="spei" aria-labelledby="h-spei">
                    <h3 id="h-spei">"Paga por transferencia (SPEI)"</h3>
                    <p>"Desde la app de tu banco, a esta CLABE, que es sólo de tu contrato:"</p>
                    <p class="clabe"><code>{clabe}</code></p>
                    <p class="small">"Banco: STP. Tu pago se aplica solo, en minutos, a tus recibos más antiguos."</p>
                </section>
            })}
        </section>
        <section class="card" aria-labelledby="h-medidor">
            <h2 id="h-medidor">"Medidor"</h2>
            {match d.meter.clone() {
                Some(m) => view! {
                    <dl class="facts">
                        <dt>"Número de serie"</dt><dd class="meter-serial">{m.serial}</dd>
                        <dt>"Marca y modelo"</dt><dd>{m.make_model}</dd>
                        <dt>"Diámetro"</dt><dd>{m.diameter}</dd>
                    </dl>
                    <p class="actions">
                        <a class="button primary" href="/cuenta/lectura">"Enviar mi lectura"</a>
                        <a class="button" href="/cuenta/consumo">"Ver mi consumo"</a>
                    </p>
                }.into_any(),
                None => view! { <p>"Tu toma no tiene medidor registrado."</p> }.into_any(),
            }}
        </section>
        <section class="card" aria-labelledby="h-lecturas">
            <h2 id="h-lecturas">"Últimas lecturas"</h2>
            <table>
                <thead><tr><th scope="col">"Fecha"</th><th scope="col">"Lectura"</th><th scope="col">"Tipo"</th></tr></thead>
                <tbody>
                    {d.readings.iter().map(|r| view! {
                        <tr><td>{r.date.clone()}</td><td>{r.value.clone()}</td><td>{r.quality.clone()}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card" aria-labelledby="h-consumo">
            <h2 id="h-consumo">"Consumo de los últimos 12 meses"</h2>
            <table class="consumption">
                <caption class="visually-hidden">"Metros cúbicos por mes; los meses estimados se marcan."</caption>
                <thead><tr><th scope="col">"Mes"</th><th scope="col">"Consumo"</th></tr></thead>
                <tbody>
                    {d.consumption.iter().map(|p| {
                        let style = format!("width: {}%", p.bar_pct);
                        view! {
                            <tr>
                                <th scope="row">{p.label.clone()}</th>
                                <td>
                                    <span class="bar-track" aria-hidden="true"><span class="bar" style=style></span></span>
                                    <span class="m3">{p.m3.clone()}</span>
                                    {p.estimated.then(|| view! { <span class="tag">" estimado"</span> })}
                                    {p.flagged.then(|| view! { <span class="tag warn">" en revisión"</span> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <ActionForm action=logout>
            <button type="submit">"Salir"</button>
        </ActionForm>
    }
    .into_any()
}

/// The contract's alerts (leaks first), in a live region so a screen reader announces
/// them; each says what to do. Shown only when there is one.
#[component]
fn Alerts(alerts: Vec<AlertView>, has_meter: bool) -> impl IntoView {
    let urgent = alerts.iter().any(|a| a.urgent);
    (!alerts.is_empty()).then(|| {
        view! {
            <section class="card alerts" class:urgent=urgent aria-labelledby="h-avisos">
                <h2 id="h-avisos">"Avisos sobre tu consumo"</h2>
                <div role="status">
                    <ul class="alert-list">
                        {alerts.into_iter().map(|a| view! {
                            <li class="notice warning alert-item" class:urgent=a.urgent>
                                <p><strong class="alert-title">{format!("{}: ", a.title)}</strong>{a.detail}</p>
                                <p class="small">{format!("Detectado el {}. {}", a.detected, a.advice)}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
                <p class="actions">
                    {has_meter.then(|| view! { <a class="button primary" href="/cuenta/lectura">"Enviar mi lectura"</a> })}
                    <a class="button" href="/cuenta/consumo">"Ver mi consumo"</a>
                </p>
            </section>
        }
    })
}
