//! Citizen: "Pagar". Choose how much (the current bill, the whole balance, another
//! amount) and how (cash at OXXO first — it is how most people pay — or a SPEI
//! transfer to the contract's own CLABE); get the reference with its barcode, share it
//! by WhatsApp or save the image; see earlier references and their status.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::{FormError, field_error, general_error};
use crate::api::*;
use crate::error::AppError;

#[component]
pub fn CitizenPay() -> AnyView {
    let query = use_query_map();
    let recibo = move || {
        query
            .read()
            .get("recibo")
            .and_then(|v| v.parse::<i64>().ok())
    };
    let pay = ServerAction::<CreatePayment>::new();
    let data = Resource::new(
        move || (recibo(), pay.version().get()),
        |(r, _)| pay_options(r),
    );
    view! {
        <Title text="Pagar"/>
        <p><a href="/cuenta">"← Mi cuenta"</a></p>
        <h1>"Pagar"</h1>
        <p><a href="/cuenta/pagos">"Ver mis pagos y recibos"</a></p>
        {move || pay.value().get().and_then(Result::ok).map(|o| view! { <ReferenceCard o/> })}
        <Suspense fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(c) => view! { <PayForm c=c.clone() pay/> <OrderList c/> }.into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path="/entrar"/> }.into_any(),
                    Err(AppError::Offline) => view! {
                        <p role="status">"Sin conexión. Tus referencias pendientes están en "
                            <a href="/cuenta">"tu cuenta"</a>"; para generar una nueva necesitas señal."</p>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn PayForm(c: PayChoices, pay: ServerAction<CreatePayment>) -> impl IntoView {
    let value = pay.value();
    let opcion_error = field_error(value, "opcion");
    let metodo_error = field_error(value, "metodo");
    let otro_error = field_error(value, "otro");
    let none_owed = c.bill.is_none() && c.balance.is_none();
    let no_method =
        !c.oxxo_available && c.spei_clabe.is_none() && !c.spei_by_conekta && !c.card_available;
    view! {
        <section class="card" aria-labelledby="h-pagar">
            <h2 id="h-pagar">{format!("Contrato {}", c.number)}</h2>
            <FormError error=general_error(value)/>
            <ActionForm action=pay attr:class="stack" attr:novalidate=true>
                <input type="hidden" name="clave" value=c.clave.clone()/>
                <fieldset class="field choices" class:invalid=move || opcion_error.get().is_some()
                    aria-describedby=move || opcion_error.get().map(|_| "opcion-error")>
                    <legend>"¿Cuánto quieres pagar?"</legend>
                    {c.bill.clone().map(|(id, label, amount)| view! {
                        <input type="hidden" name="recibo" value=id.to_string()/>
                        <label class="choice">
                            <input type="radio" name="opcion" value="recibo" checked=true/>
                            {format!("{label}: {amount}")}
                        </label>
                    })}
                    {c.balance.clone().map(|b| view! {
                        <label class="choice">
                            <input type="radio" name="opcion" value="saldo" checked=c.bill.is_none()/>
                            {format!("Todo mi saldo: {b}")}
                        </label>
                    })}
                    <label class="choice">
                        <input type="radio" name="opcion" value="otro" checked=none_owed/>
                        "Otra cantidad"
                    </label>
                    {move || opcion_error.get().map(|e| view! { <p class="field-error" id="opcion-error">{e}</p> })}
                </fieldset>
                <div class="field" class:invalid=move || otro_error.get().is_some()>
                    <label for="otro">"Importe en pesos, si elegiste otra cantidad"</label>
                    <input id="otro" name="otro" type="text" inputmode="decimal" autocomplete="off" maxlength="12"
                        aria-invalid=move || otro_error.get().is_some().to_string()
                        aria-describedby=move || otro_error.get().map(|_| "otro-error")/>
                    {move || otro_error.get().map(|e| view! { <p class="field-error" id="otro-error">{e}</p> })}
                </div>
                <fieldset class="field choices" class:invalid=move || metodo_error.get().is_some()
                    aria-describedby=move || metodo_error.get().map(|_| "metodo-error")>
                    <legend>"¿Cómo quieres pagar?"</legend>
                    {c.oxxo_available.then(|| view! {
                        <label class="choice">
                            <input type="radio" name="metodo" value="oxxo" checked=true/>
                            "Efectivo en OXXO (hasta $10,000.00 por referencia)"
                        </label>
                    })}
                    {(c.spei_clabe.is_some() || c.spei_by_conekta).then(|| view! {
                        <label class="choice">
                            <input type="radio" name="metodo" value="spei" checked=!c.oxxo_available/>
                            "Transferencia SPEI desde la app de tu banco"
                        </label>
                    })}
                    {c.spei_clabe.is_some().then(|| view! {
                        <label class="choice">
                            <input type="radio" name="metodo" value="codi"/>
                            "CoDi: código QR para pagar desde la app de tu banco"
                        </label>
                    })}
                    {c.card_available.then(|| view! {
                        <label class="choice">
                            <input type="radio" name="metodo" value="tarjeta"/>
                            "Tarjeta de débito o crédito"
                        </label>
                    })}
                    {no_method.then(|| view! { <p>"Por ahora solo puedes pagar en las oficinas del organismo."</p> })}
                    {move || metodo_error.get().map(|e| view! { <p class="field-error" id="metodo-error">{e}</p> })}
                </fieldset>
                <button type="submit" class="primary" disabled=no_method>"Continuar"</button>
            </ActionForm>
        </section>
    }
}

/// What to pay with: the OXXO reference and its barcode, or the CLABE.
#[component]
fn ReferenceCard(o: PaymentOrderView) -> impl IntoView {
    if let Some(step) = o.card.clone() {
        return view! { <CardForm step amount=o.amount.clone()/> }.into_any();
    }
    let share = share_url(&o.share_text);
    let reference = o.reference.clone().unwrap_or_default();
    if o.channel == "spei" {
        return view! {
            <section class="card reference-card" aria-labelledby="h-referencia">
                <h2 id="h-referencia">"Transfiere por SPEI"</h2>
                <p>{if o.id == 0 {
                    "Desde la app de tu banco, a esta CLABE, que es solo de tu contrato:"
                } else {
                    "Desde la app de tu banco, a esta CLABE, que es solo para este pago:"
                }}</p>
                <p class="clabe"><code>{o.clabe.clone().unwrap_or(reference)}</code></p>
                <dl class="facts">
                    <dt>"Banco"</dt><dd>"STP"</dd>
                    <dt>"Importe"</dt><dd class="amount">{o.amount.clone()}</dd>
                    {o.expires.clone().map(|e| view! { <dt>"Vence"</dt><dd>{e}</dd> })}
                </dl>
                <p class="small">"Tu pago se aplica solo, en minutos, a tus recibos más antiguos."</p>
                <p><a class="button" href=share rel="external noopener" target="_blank">"Compartir por WhatsApp"</a></p>
            </section>
        }
        .into_any();
    }
    if o.channel == "codi" {
        let qr = format!("/cuenta/pagos/{}/codi.png", o.id);
        return view! {
            <section class="card reference-card" aria-labelledby="h-referencia">
                <h2 id="h-referencia">"Paga con CoDi"</h2>
                <p>"Abre la app de tu banco, elige CoDi (o «Cobrar y pagar con QR») y escanea este código. El importe y la referencia ya van incluidos."</p>
                <img class="qr" src=qr.clone() alt=format!("Código QR CoDi por {}, referencia {}", o.amount, reference) width="222" height="222"/>
                <dl class="facts">
                    <dt>"Importe"</dt><dd class="amount">{o.amount.clone()}</dd>
                    <dt>"Referencia"</dt><dd><code class="codi-reference">{reference.clone()}</code></dd>
                    <dt>"CLABE"</dt><dd><code class="codi-clabe">{o.clabe.clone().unwrap_or_default()}</code></dd>
                    <dt>"Vence"</dt><dd>{o.expires.clone().unwrap_or_else(|| "—".into())}</dd>
                </dl>
                <p class="small">"Si pagas desde otro teléfono, guarda la imagen y ábrela ahí. Tu pago se aplica solo, en minutos."</p>
                <p class="actions">
                    <a class="button" href=qr download=format!("codi-{reference}.png") rel="external">"Guardar imagen"</a>
                </p>
            </section>
        }
        .into_any();
    }
    let img = format!("/cuenta/pagos/{}/codigo.png", o.id);
    let alt = format!("Código de barras de la referencia {reference}");
    let file = format!("referencia-{}.png", reference.replace(' ', ""));
    view! {
        <section class="card reference-card" aria-labelledby="h-referencia">
            <h2 id="h-referencia">"Tu referencia para pagar en OXXO"</h2>
            <p class="reference"><code>{reference.clone()}</code></p>
            <img class="barcode" src=img.clone() alt=alt width="420" height="90"/>
            <dl class="facts">
                <dt>"Importe"</dt><dd class="amount">{o.amount.clone()}</dd>
                <dt>"Vence"</dt><dd>{o.expires.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Estado"</dt><dd class="order-status">{o.status_label.clone()}</dd>
            </dl>
            <p>"Muestra la referencia en la caja de cualquier OXXO y paga en efectivo. OXXO cobra una comisión por el servicio. Tu pago se aplica solo en cuanto OXXO lo confirma."</p>
            <p class="actions">
                <a class="button" href=share rel="external noopener" target="_blank">"Compartir por WhatsApp"</a>
                " "
                <a class="button" href=img download=file rel="external">"Guardar imagen"</a>
            </p>
        </section>
    }
    .into_any()
}

/// The card's details. The inputs have no `name`: the form is never posted; the card
/// goes from this page to Conekta (Conekta.js), and only the token comes to us.
#[component]
fn CardForm(step: CardStep, amount: String) -> impl IntoView {
    use crate::card::{CardError, CardInput};
    let charge = ServerAction::<PayByCard>::new();
    let nombre = NodeRef::<leptos::html::Input>::new();
    let numero = NodeRef::<leptos::html::Input>::new();
    let vence = NodeRef::<leptos::html::Input>::new();
    let cvv = NodeRef::<leptos::html::Input>::new();
    let card_error = RwSignal::new(None::<CardError>);
    let busy = RwSignal::new(false);
    let value = charge.value();
    let server_error = field_error(value, "tarjeta");
    let general = move || {
        card_error
            .get()
            .filter(|e| e.field.is_none())
            .map(|e| e.message)
            .or_else(|| server_error.get())
    };
    // A charge that needs 3-D Secure goes to the bank's page; one that does not is
    // approved and shows as pending until Conekta confirms it.
    Effect::new(move |_| {
        if let Some(Ok(o)) = value.get() {
            if let Some(url) = o.redirect_url {
                let _ = window().location().set_href(&url);
            } else {
                busy.set(false);
            }
        } else if let Some(Err(_)) = value.get() {
            busy.set(false);
        }
    });
    let step_submit = step.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let read = |r: NodeRef<leptos::html::Input>| r.get().map(|i| i.value()).unwrap_or_default();
        let card = CardInput {
            name: read(nombre),
            number: read(numero),
            expiry: read(vence),
            cvc: read(cvv),
        };
        card_error.set(None);
        busy.set(true);
        let step = step_submit.clone();
        leptos::task::spawn_local(async move {
            match crate::card::tokenize(&step.script_url, &step.public_key, &card).await {
                Ok(token) => {
                    charge.dispatch(PayByCard {
                        importe_centavos: step.importe_centavos,
                        recibo: step.recibo,
                        clave: step.clave.clone(),
                        token,
                    });
                }
                Err(e) => {
                    card_error.set(Some(e));
                    busy.set(false);
                }
            }
        });
    };
    let field = move |id: &'static str,
                      label: &'static str,
                      node: NodeRef<leptos::html::Input>,
                      autocomplete: &'static str,
                      inputmode: &'static str,
                      maxlength: &'static str| {
        let err = Memo::new(move |_| {
            card_error
                .get()
                .filter(|e| e.field == Some(id))
                .map(|e| e.message)
        });
        let err_id = format!("{id}-error");
        let err_id2 = err_id.clone();
        view! {
            <div class="field" class:invalid=move || err.get().is_some()>
                <label for=id>{label}</label>
                <input id=id type="text" node_ref=node autocomplete=autocomplete inputmode=inputmode maxlength=maxlength
                    aria-invalid=move || err.get().is_some().to_string()
                    aria-describedby=move || err.get().map(|_| err_id.clone())/>
                {move || err.get().map(|e| view! { <p class="field-error" id=err_id2.clone()>{e}</p> })}
            </div>
        }
    };
    view! {
        <section class="card reference-card" aria-labelledby="h-tarjeta">
            <h2 id="h-tarjeta">"Paga con tarjeta"</h2>
            <p>{format!("Importe: {amount}")}</p>
            <p class="small">"Los datos de tu tarjeta van directo al procesador de pagos (Conekta); el organismo no los recibe ni los guarda. Tu banco puede pedirte confirmar el cargo."</p>
            {move || general().map(|e| view! { <p role="alert" class="form-error">{e}</p> })}
            {move || value.get().and_then(Result::ok).filter(|o| o.redirect_url.is_none()).map(|o| view! {
                <p role="status" class="order-status">{format!("{}: {}", o.status_label, o.amount)}</p>
            })}
            <form class="stack" novalidate=true on:submit=on_submit>
                {field("nombre", "Nombre como aparece en la tarjeta", nombre, "cc-name", "text", "60")}
                {field("numero", "Número de tarjeta", numero, "cc-number", "numeric", "23")}
                {field("vence", "Vencimiento (MM/AA)", vence, "cc-exp", "numeric", "7")}
                {field("cvv", "Código de seguridad (CVV)", cvv, "cc-csc", "numeric", "4")}
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Procesando…" } else { "Pagar" }}
                </button>
            </form>
            <p><a href="/cuenta/pagar">"Elegir otra forma de pago"</a></p>
        </section>
    }
}

/// Back from the bank's 3-D Secure page (`?order_id=…`): what became of the payment,
/// read from our records and Conekta — never from the query string's status.
#[component]
pub fn CardReturn() -> AnyView {
    let query = use_query_map();
    let order_id = move || query.read().get("order_id").unwrap_or_default();
    let data = Resource::new(order_id, card_result);
    view! {
        <Title text="Pago con tarjeta"/>
        <p><a href="/cuenta">"← Mi cuenta"</a></p>
        <h1>"Pago con tarjeta"</h1>
        <Suspense fallback=|| view! { <p>"Consultando tu pago…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) => {
                        let again = r.status == "rechazado";
                        let receipt = r.receipt_id.map(|id| view! {
                            <p><a class="button" href=format!("/cuenta/pagos/{id}/recibo.pdf") rel="external" target="_blank">
                                "Ver recibo"<span class="visually-hidden">" (PDF, se abre en otra pestaña)"</span></a></p>
                        });
                        view! {
                            <section class=format!("card card-result card-{}", r.status) aria-labelledby="h-resultado">
                                <h2 id="h-resultado">{match r.status.as_str() {
                                    "confirmado" => "Pago aplicado",
                                    "aprobado" => "Pago aprobado",
                                    "rechazado" => "Pago no realizado",
                                    _ => "Pago en proceso",
                                }}</h2>
                                <p role="status">{r.message.clone()}</p>
                                {receipt}
                                {again.then(|| view! { <p><a class="button primary" href="/cuenta/pagar">"Intentar de nuevo"</a></p> })}
                                <p><a href="/cuenta">"Ver mi saldo"</a></p>
                            </section>
                        }.into_any()
                    }
                    Err(AppError::Unauthorized) => view! { <Redirect path="/entrar"/> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <p role="alert" class="form-error">"No encontramos ese pago. Revisa tus pagos en "<a href="/cuenta/pagos">"Mis pagos"</a>"."</p>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// `https://wa.me/?text=…` (WhatsApp's share link).
fn share_url(text: &str) -> String {
    format!("https://wa.me/?text={}", urlencoding::encode(text))
}

#[component]
fn OrderList(c: PayChoices) -> impl IntoView {
    (!c.orders.is_empty()).then(|| view! {
        <section class="card" aria-labelledby="h-referencias">
            <h2 id="h-referencias">"Tus referencias de pago"</h2>
            <table class="orders">
                <thead><tr>
                    <th scope="col">"Referencia"</th><th scope="col">"Importe"</th><th scope="col">"Estado"</th>
                </tr></thead>
                <tbody>
                    {c.orders.into_iter().map(|o| view! {
                        <tr class=format!("order-{}", o.status)>
                            <td><code>{o.reference.clone().unwrap_or_default()}</code>
                                <br/><span class="small">{format!("{} · {}", o.channel_label, o.created)}</span></td>
                            <td>{o.amount.clone()}</td>
                            <td>{o.status_label.clone()}
                                {o.expires.clone().filter(|_| o.status == "pendiente").map(|e| view! { <br/><span class="small">{format!("vence el {e}")}</span> })}
                                {(o.status == "vencido").then(|| view! { <br/><a href="#h-pagar">"Genera otra arriba"</a> })}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    })
}

/// The citizen's payment history, with a receipt per payment and a CSV export.
#[component]
pub fn CitizenPayments() -> AnyView {
    let data = Resource::new(|| (), |_| payment_history());
    view! {
        <Title text="Mis pagos"/>
        <p><a href="/cuenta">"← Mi cuenta"</a></p>
        <h1>"Mis pagos"</h1>
        <Suspense fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(rows) if rows.is_empty() => view! { <p role="status">"Aún no hay pagos registrados en este contrato."</p> }.into_any(),
                    Ok(rows) => view! {
                        <p><a class="button" href="/cuenta/pagos.csv" rel="external" download="">"Descargar historial (CSV)"</a></p>
                        <table class="payments">
                            <thead><tr>
                                <th scope="col">"Fecha"</th><th scope="col">"Forma de pago"</th>
                                <th scope="col">"Importe"</th><th scope="col">"Recibo"</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|p| view! {
                                    <tr>
                                        <td>{p.date.clone()}</td><td>{p.method}</td><td>{p.amount}</td>
                                        <td><a href=format!("/cuenta/pagos/{}/recibo.pdf", p.id) rel="external" target="_blank">
                                            {format!("Recibo del {}", p.date)}<span class="visually-hidden">" (PDF, se abre en otra pestaña)"</span>
                                        </a></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path="/entrar"/> }.into_any(),
                    Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}
