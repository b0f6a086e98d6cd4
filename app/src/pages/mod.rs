//! Pages. Citizen pages are phone-first; staff pages are desktop-first. Every form
//! field has a label and shows its error next to it (`aria-describedby`).

mod billing;
mod bills;
mod caja;
mod cfdi;
mod citizen;
mod cobro;
mod conciliacion;
mod consumo;
mod domiciliacion;
mod lectura;
mod legado;
mod medicion;
mod pagos;
mod staff;

pub use billing::*;
pub use bills::{CitizenBill, CitizenBills};
pub use caja::StaffCash;
pub use cfdi::{StaffCfdi, StaffCfdiList};
pub use citizen::*;
pub use cobro::StaffUnmatched;
pub use conciliacion::StaffReconciliation;
pub use consumo::CitizenConsumption;
pub use domiciliacion::StaffDomiciliacion;
pub use lectura::{CitizenSelfRead, CitizenSelfReadReceipt};
pub use legado::StaffLegacy;
pub use medicion::{StaffAnomalies, StaffIngest, StaffMeter, StaffRouteBatch};
pub use pagos::{CardReturn, CitizenPay, CitizenPayments};
pub use staff::*;

use leptos::prelude::*;

use crate::error::AppError;

/// A labelled input with hint and error message wired for screen readers.
#[component]
pub fn Field(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] maxlength: Option<&'static str>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(default = false)] autofocus: bool,
    #[prop(default = true)] required: bool,
) -> impl IntoView {
    let hint_id = format!("{id}-ayuda");
    let err_id = format!("{id}-error");
    let described = {
        let (hint_id, err_id) = (hint_id.clone(), err_id.clone());
        move || {
            let mut v = vec![];
            if hint.is_some() {
                v.push(hint_id.clone());
            }
            if error.get().is_some() {
                v.push(err_id.clone());
            }
            (!v.is_empty()).then(|| v.join(" "))
        }
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                inputmode=inputmode
                maxlength=maxlength
                value=value
                autofocus=autofocus
                required=required
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
            />
            {move || error.get().map(|e| view! { <p class="field-error" id=err_id.clone()>{e}</p> })}
        </div>
    }
}

/// General (not field-specific) error of a form, announced to screen readers.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div role="alert" class="form-error-slot">
            {move || error.get().map(|e| view! { <p class="form-error">{e}</p> })}
        </div>
    }
}

pub(crate) fn field_error<T: Clone + Send + Sync + 'static>(
    value: impl Into<Signal<Option<Result<T, AppError>>>>,
    field: &'static str,
) -> Signal<Option<String>> {
    let value = value.into();
    Signal::derive(move || {
        value
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.for_field(field))
    })
}

pub(crate) fn general_error<T: Clone + Send + Sync + 'static>(
    value: impl Into<Signal<Option<Result<T, AppError>>>>,
) -> Signal<Option<String>> {
    let value = value.into();
    Signal::derive(move || value.get().and_then(|r| r.err()).and_then(|e| e.general()))
}

#[component]
pub fn Home() -> impl IntoView {
    view! {
        <leptos_meta::Title text=""/>
        <h1>"Tu servicio de agua, en tu teléfono"</h1>
        <p class="lead">"Consulta tu saldo, tus recibos y tu consumo. Funciona aunque no tengas señal."</p>
        <p><a class="button primary" href="/entrar">"Entrar con mi número de contrato"</a></p>
        <p class="small"><a href="/personal/entrar">"Acceso para personal de la CEA"</a></p>
    }
}
