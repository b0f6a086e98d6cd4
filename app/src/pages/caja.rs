//! Staff: the cashier's desk (ventanilla). Open the drawer with a float, take cash or
//! cheque payments (each prints an 80 mm receipt), close with the corte de caja.

use leptos::prelude::*;
use leptos_meta::Title;

use super::staff::{StaffBar, staff_error};
use super::{Field, FormError, field_error, general_error};
use crate::api::*;

#[component]
pub fn StaffCash() -> impl IntoView {
    let open = ServerAction::<OpenCash>::new();
    let take = ServerAction::<TakeCash>::new();
    let close = ServerAction::<CloseCash>::new();
    let desk = Resource::new(
        move || {
            (
                open.version().get(),
                take.version().get(),
                close.version().get(),
            )
        },
        |_| cash_desk(),
    );
    view! {
        <Title text="Caja"/>
        <StaffBar/>
        <h1>"Caja"</h1>
        {move || take.value().get().and_then(Result::ok).map(|t| view! {
            <p class="notice" role="status">
                {format!("Cobro registrado: {} al contrato {}. ", t.amount, t.contract)}
                <a href=format!("/personal/caja/recibos/{}/pdf", t.id) target="_blank" rel="external noopener">
                    "Imprimir recibo (PDF)"<span class="visually-hidden">" (se abre en otra pestaña)"</span>
                </a>
            </p>
        })}
        <Transition fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match desk.await {
                    Ok(d) => match d.open.clone() {
                        None => view! { <OpenForm open/> {d.last_corte.map(|c| view! { <CorteCard c/> })} }.into_any(),
                        Some(s) => view! { <Desk d s take close/> }.into_any(),
                    },
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn OpenForm(open: ServerAction<OpenCash>) -> impl IntoView {
    let value = open.value();
    view! {
        <section class="card" aria-labelledby="h-abrir">
            <h2 id="h-abrir">"Abrir caja"</h2>
            <p>"Cuente el efectivo con el que empieza el día y escríbalo como fondo."</p>
            <FormError error=general_error(value)/>
            <ActionForm action=open attr:class="stack" attr:novalidate=true>
                <Field id="fondo" name="fondo" label="Fondo inicial en efectivo (pesos)" inputmode="decimal"
                    autocomplete="off" maxlength="12" error=field_error(value, "fondo")/>
                <button type="submit" class="primary">"Abrir caja"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Desk(
    d: CashDeskView,
    s: CashSessionView,
    take: ServerAction<TakeCash>,
    close: ServerAction<CloseCash>,
) -> impl IntoView {
    let tv = take.value();
    let cv = close.value();
    let forma_error = field_error(tv, "forma");
    view! {
        <p>{format!("Caja abierta el {} con fondo de {}.", s.opened_at, s.float)}</p>
        <section class="card" aria-labelledby="h-cobrar">
            <h2 id="h-cobrar">"Cobrar"</h2>
            <FormError error=general_error(tv)/>
            <ActionForm action=take attr:class="stack" attr:novalidate=true>
                <input type="hidden" name="clave" value=d.clave.clone()/>
                <Field id="contrato" name="contrato" label="Número de contrato" inputmode="numeric"
                    autocomplete="off" maxlength="20" error=field_error(tv, "contrato")/>
                <Field id="importe" name="importe" label="Importe recibido (pesos)" inputmode="decimal"
                    autocomplete="off" maxlength="12" error=field_error(tv, "importe")/>
                <fieldset class="field choices" class:invalid=move || forma_error.get().is_some()
                    aria-describedby=move || forma_error.get().map(|_| "forma-error")>
                    <legend>"Forma de pago"</legend>
                    <label class="choice"><input type="radio" name="forma" value="efectivo" checked=true/>"Efectivo"</label>
                    <label class="choice"><input type="radio" name="forma" value="cheque"/>"Cheque"</label>
                    {move || forma_error.get().map(|e| view! { <p class="field-error" id="forma-error">{e}</p> })}
                </fieldset>
                <Field id="cheque" name="cheque" label="Número de cheque (si paga con cheque)" autocomplete="off"
                    maxlength="30" required=false error=field_error(tv, "cheque")/>
                <button type="submit" class="primary">"Registrar cobro"</button>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="h-cobros">
            <h2 id="h-cobros">"Cobros de esta caja"</h2>
            {if d.payments.is_empty() {
                view! { <p>"Aún no hay cobros."</p> }.into_any()
            } else {
                view! {
                    <table>
                        <thead><tr>
                            <th scope="col">"Hora"</th><th scope="col">"Contrato"</th><th scope="col">"Forma"</th>
                            <th scope="col">"Importe"</th><th scope="col">"Recibo"</th>
                        </tr></thead>
                        <tbody>
                            {d.payments.into_iter().map(|p| view! {
                                <tr>
                                    <td>{p.time}</td><td>{p.contract.clone()}</td><td>{p.method}</td><td>{p.amount}</td>
                                    <td><a href=format!("/personal/caja/recibos/{}/pdf", p.id) target="_blank" rel="external noopener">
                                        {format!("Recibo del contrato {}", p.contract)}
                                    </a></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="h-corte">
            <h2 id="h-corte">"Corte de caja"</h2>
            <p>"Cuente el efectivo de la caja (incluido el fondo). Si no coincide con lo esperado, explique la diferencia."</p>
            <FormError error=general_error(cv)/>
            <ActionForm action=close attr:class="stack" attr:novalidate=true>
                <Field id="contado" name="contado" label="Efectivo contado (pesos)" inputmode="decimal"
                    autocomplete="off" maxlength="12" error=field_error(cv, "contado")/>
                <Field id="nota" name="nota" label="Nota (obligatoria si hay diferencia)" autocomplete="off"
                    maxlength="300" required=false error=field_error(cv, "nota")/>
                <button type="submit">"Cerrar caja"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn CorteCard(c: CorteView) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="h-ultimo-corte">
            <h2 id="h-ultimo-corte">"Último corte de caja"</h2>
            <p>{format!("Caja abierta el {} y cerrada el {}.", c.opened_at, c.closed_at)}</p>
            <table class="corte">
                <thead><tr><th scope="col">"Forma"</th><th scope="col">"Cobros"</th><th scope="col">"Importe"</th></tr></thead>
                <tbody>
                    {c.totals.into_iter().map(|(m, n, a)| view! { <tr><td>{m}</td><td>{n}</td><td>{a}</td></tr> }).collect_view()}
                </tbody>
                <tfoot><tr><th scope="row">"Total"</th><td></td><td>{c.total}</td></tr></tfoot>
            </table>
            <dl class="facts">
                <dt>"Fondo inicial"</dt><dd>{c.float}</dd>
                <dt>"Efectivo esperado"</dt><dd>{c.expected_cash}</dd>
                <dt>"Efectivo contado"</dt><dd>{c.counted_cash}</dd>
                <dt>"Diferencia"</dt><dd class="discrepancy" class:warn=!c.balanced>{c.discrepancy}</dd>
                {(!c.note.is_empty()).then(|| view! { <dt>"Nota"</dt><dd>{c.note.clone()}</dd> })}
            </dl>
        </section>
    }
}
