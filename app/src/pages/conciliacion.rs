//! Staff: reconciliation. Each day and provider, our payments against the provider's
//! statement; the differences in detail; a day run again on demand.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::staff::{StaffBar, staff_error};
use super::{Field, FormError, field_error, general_error};
use crate::api::*;

#[component]
pub fn StaffReconciliation() -> impl IntoView {
    let query = use_query_map();
    let run = move || {
        query
            .read()
            .get("corrida")
            .and_then(|v| v.parse::<i64>().ok())
    };
    let now = ServerAction::<ReconcileNow>::new();
    let runs = Resource::new(move || now.version().get(), |_| reconciliations());
    let detail = Resource::new(run, |r| async move {
        match r {
            Some(id) => reconciliation_items(id).await.map(Some),
            None => Ok(None),
        }
    });
    let value = now.value();
    view! {
        <Title text="Conciliación de pagos"/>
        <StaffBar/>
        <h1>"Conciliación de pagos"</h1>
        <p>"Cada día se comparan los pagos registrados con el estado de cuenta de cada proveedor. Las diferencias no cambian saldos: revíselas aquí."</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(Some((r, items))) => view! { <RunDetail r items/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => staff_error(e),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="h-conciliar">
            <h2 id="h-conciliar">"Conciliar un día"</h2>
            {move || matches!(value.get(), Some(Ok(_))).then(|| view! { <p class="notice" role="status">"Conciliación terminada."</p> })}
            <FormError error=general_error(value)/>
            <ActionForm action=now attr:class="stack" attr:novalidate=true>
                <Field id="dia" name="dia" label="Día (AAAA-MM-DD)" autocomplete="off" maxlength="10"
                    error=field_error(value, "dia")/>
                <button type="submit">"Conciliar"</button>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="h-corridas">
            <h2 id="h-corridas">"Conciliaciones recientes"</h2>
            <Transition fallback=|| view! { <p>"Cargando…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(rs) if rs.is_empty() => view! { <p>"Aún no hay conciliaciones."</p> }.into_any(),
                        Ok(rs) => view! {
                            <table class="runs">
                                <thead><tr>
                                    <th scope="col">"Día"</th><th scope="col">"Proveedor"</th>
                                    <th scope="col">"Estado de cuenta"</th><th scope="col">"Nuestros"</th>
                                    <th scope="col">"Coinciden"</th><th scope="col">"Diferencias"</th>
                                </tr></thead>
                                <tbody>
                                    {rs.into_iter().map(|r| view! {
                                        <tr>
                                            <td><a href=format!("/personal/conciliacion?corrida={}", r.id)>{format!("{} · {}", r.day, r.provider)}</a></td>
                                            <td>{r.provider.clone()}</td>
                                            <td>{r.statement_count}</td><td>{r.ours_count}</td><td>{r.matched}</td>
                                            <td>{match r.error.clone() {
                                                Some(e) => format!("No se obtuvo el estado de cuenta: {e}"),
                                                None => r.issues.to_string(),
                                            }}</td>
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

#[component]
fn RunDetail(r: ReconRunView, items: Vec<ReconItemView>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="h-detalle">
            <h2 id="h-detalle">{format!("{} · {}", r.provider, r.day)}</h2>
            <p>{format!("{} en el estado de cuenta, {} nuestros, {} coinciden; conciliado el {}.",
                r.statement_count, r.ours_count, r.matched, r.ran_at)}</p>
            {if items.is_empty() {
                view! { <p role="status">"Sin diferencias."</p> }.into_any()
            } else {
                view! {
                    <table class="recon-items">
                        <thead><tr>
                            <th scope="col">"Diferencia"</th><th scope="col">"Pago"</th>
                            <th scope="col">"Estado de cuenta"</th><th scope="col">"Nuestro registro"</th>
                        </tr></thead>
                        <tbody>
                            {items.into_iter().map(|i| view! {
                                <tr class=format!("recon-{}", i.kind)>
                                    <td>{i.kind_label}</td>
                                    <td><code>{i.key}</code><br/><span class="small">{i.reference}</span></td>
                                    <td>{i.statement_amount}</td><td>{i.ours_amount}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
