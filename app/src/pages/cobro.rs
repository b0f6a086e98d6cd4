//! Staff: payments that name no contract, and assigning them.

use leptos::prelude::*;
use leptos_meta::Title;

use super::staff::{StaffBar, staff_error};
use super::{Field, FormError, field_error, general_error};
use crate::api::*;

#[component]
pub fn StaffUnmatched() -> impl IntoView {
    let assign = ServerAction::<AssignPayment>::new();
    let list = Resource::new(move || assign.version().get(), |_| list_unmatched());
    // Which card was sent last: its errors show next to its fields only.
    let last = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if let Some(i) = assign.input().get() {
            last.set(Some(i.id));
        }
    });
    view! {
        <Title text="Pagos"/>
        <StaffBar/>
        <h1>"Pagos"</h1>
        <PaymentSearch/>
        <h2>"Pagos sin asignar"</h2>
        <p>"Pagos recibidos cuya referencia no corresponde a ningún contrato. Asígnelos cuando sepa de quién son; queda en la bitácora."</p>
        {move || matches!(assign.value().get(), Some(Ok(()))).then(|| view! {
            <p class="notice" role="status">"Pago asignado: ya se aplicó a los recibos del contrato."</p>
        })}
        <FormError error=general_error(assign.value())/>
        <Transition fallback=|| view! { <p>"Cargando…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => view! { <p role="status">"No hay pagos sin asignar."</p> }.into_any(),
                    Ok(rows) => rows.into_iter().map(|p| view! { <UnmatchedCard p assign last/> }).collect_view().into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn UnmatchedCard(
    p: UnmatchedRow,
    assign: ServerAction<AssignPayment>,
    last: RwSignal<Option<i64>>,
) -> impl IntoView {
    let value = assign.value();
    let id = p.id;
    // Errors belong to the card whose form was sent.
    let mine = move || last.get().is_none_or(|l| l == id);
    let contrato_error = field_error(value, "contrato");
    let nota_error = field_error(value, "nota");
    let c_err = Signal::derive(move || contrato_error.get().filter(|_| mine()));
    let n_err = Signal::derive(move || nota_error.get().filter(|_| mine()));
    let (cid, nid) = (format!("contrato-{id}"), format!("nota-{id}"));
    let (cerr, nerr) = (format!("contrato-{id}-error"), format!("nota-{id}-error"));
    let heading = format!("pago-{id}");
    let labelled = heading.clone();
    let (cfor, nfor) = (cid.clone(), nid.clone());
    view! {
        <section class="card" aria-labelledby=labelled>
            <h3 id=heading>{format!("{} · {} · {}", p.channel, p.amount, p.received_at)}</h3>
            <dl class="facts">
                <dt>"Referencia"</dt><dd>{p.reference}</dd>
                <dt>"Ordenante"</dt><dd>{p.payer}</dd>
                <dt>"Motivo"</dt><dd>{p.reason}</dd>
            </dl>
            <ActionForm action=assign attr:class="stack" attr:novalidate=true>
                <input type="hidden" name="id" value=id.to_string()/>
                <div class="field" class:invalid=move || c_err.get().is_some()>
                    <label for=cfor>"Número de contrato"</label>
                    <input id=cid name="contrato" type="text" inputmode="numeric" autocomplete="off" maxlength="20" required=true
                        aria-invalid=move || c_err.get().is_some().to_string()
                        aria-describedby={let e = cerr.clone(); move || c_err.get().map(|_| e.clone())}/>
                    {let e = cerr.clone(); move || c_err.get().map(|m| view! { <p class="field-error" id=e.clone()>{m}</p> })}
                </div>
                <div class="field" class:invalid=move || n_err.get().is_some()>
                    <label for=nfor>"Cómo lo identificó"</label>
                    <input id=nid name="nota" type="text" autocomplete="off" maxlength="300" required=true
                        aria-invalid=move || n_err.get().is_some().to_string()
                        aria-describedby={let e = nerr.clone(); move || n_err.get().map(|_| e.clone())}/>
                    {let e = nerr.clone(); move || n_err.get().map(|m| view! { <p class="field-error" id=e.clone()>{m}</p> })}
                </div>
                <button type="submit" class="primary">"Asignar"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn PaymentSearch() -> impl IntoView {
    let search = ServerAction::<SearchPayments>::new();
    let value = search.value();
    view! {
        <section class="card" aria-labelledby="h-buscar-pagos">
            <h2 id="h-buscar-pagos">"Buscar pagos"</h2>
            <ActionForm action=search attr:class="stack" attr:novalidate=true>
                <Field id="q" name="q" label="Contrato, referencia, CLABE o clave del proveedor" autocomplete="off"
                    maxlength="60" error=field_error(value, "q")/>
                <button type="submit">"Buscar"</button>
            </ActionForm>
            {move || match value.get() {
                Some(Ok(rows)) if rows.is_empty() => Some(view! { <p role="status">"Ningún pago coincide."</p> }.into_any()),
                Some(Ok(rows)) => Some(view! {
                    <p role="status">{format!("{} pagos encontrados.", rows.len())}</p>
                    <table class="payments">
                        <thead><tr>
                            <th scope="col">"Fecha"</th><th scope="col">"Forma"</th><th scope="col">"Contrato"</th>
                            <th scope="col">"Importe"</th><th scope="col">"Referencia"</th><th scope="col">"Estado"</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|p| view! {
                                <tr><td>{p.date}</td><td>{p.channel}</td><td>{p.contract}</td><td>{p.amount}</td>
                                    <td><code>{p.reference}</code></td><td>{p.status}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()),
                _ => None,
            }}
        </section>
    }
}
