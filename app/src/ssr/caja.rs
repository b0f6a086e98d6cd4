//! Ventanilla for staff (caja, facturación; admin always): open a cash session, take
//! payments, print the 80 mm receipt, close with the corte. Thin: authenticate,
//! authorise, call `invoicing::caja`, map errors.

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};

use super::bills::{handler_error, peer_of};
use super::*;

const CASHIERS: &[StaffRole] = &[StaffRole::Cajero, StaffRole::Facturacion];

fn money(c: i64) -> String {
    Money::from_centavos(c).format_mxn()
}

fn pesos(field: &'static str, s: &str) -> Result<i64, AppError> {
    match Money::parse(s) {
        Ok(m) => Ok(m.centavos()),
        Err(e) => Err(AppError::invalid(field, e.message)),
    }
}

fn corte_view(c: &invoicing::caja::Corte) -> CorteView {
    let s = &c.session;
    let counted = s.counted_cash_centavos.unwrap_or(0);
    let difference = s.discrepancy_centavos.unwrap_or(0);
    CorteView {
        session_id: s.id,
        opened_at: auth::format_local(s.opened_at),
        closed_at: s.closed_at.map(auth::format_local).unwrap_or_default(),
        totals: c
            .totals
            .iter()
            .map(|(ch, n, cents)| {
                (
                    invoicing::caja::method_label(ch).to_string(),
                    *n,
                    money(*cents),
                )
            })
            .collect(),
        total: money(c.total_centavos),
        float: money(s.opening_float_centavos),
        expected_cash: money(c.expected_cash_centavos),
        counted_cash: money(counted),
        discrepancy: money(difference),
        balanced: difference == 0,
        note: s.note.clone().unwrap_or_default(),
    }
}

pub async fn desk() -> Result<CashDeskView, AppError> {
    let s = staff(CASHIERS).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let open = db::payments::open_session_of(&mut tx, s.id).await?;
    let mut payments = vec![];
    if let Some(o) = &open {
        for p in db::payments::session_payments(&mut tx, o.id).await? {
            let contract = match p.contract_id {
                Some(id) => repo::account_by_id(&mut tx, id)
                    .await?
                    .map(|a| a.number)
                    .unwrap_or_default(),
                None => String::new(),
            };
            payments.push(CashPaymentRow {
                id: p.id,
                time: auth::format_local(p.received_at),
                contract,
                method: invoicing::caja::method_label(&p.channel).into(),
                amount: money(p.amount_centavos),
            });
        }
    }
    let last_corte = match db::payments::cash_sessions_of(&mut tx, s.id, 5)
        .await?
        .into_iter()
        .find(|x| x.status == "cerrada")
    {
        Some(closed) => Some(corte_view(
            &invoicing::caja::corte(&mut tx, closed.id).await?,
        )),
        None => None,
    };
    Ok(CashDeskView {
        open: open.map(|o| CashSessionView {
            id: o.id,
            opened_at: auth::format_local(o.opened_at),
            float: money(o.opening_float_centavos),
        }),
        payments,
        clave: uuid::Uuid::new_v4().to_string(),
        last_corte,
    })
}

fn engine_error<T>(e: invoicing::Error) -> Result<T, AppError> {
    fail(super::cfdi::spanish_sentence(e.into()))
}

pub async fn open(fondo: String) -> Result<(), AppError> {
    let s = staff(CASHIERS).await?;
    let float = match pesos("fondo", if fondo.trim().is_empty() { "0" } else { &fondo }) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    match invoicing::caja::open(&s.r.st.db, s.r.tenant, s.id, float, Utc::now()).await {
        Ok(_) => Ok(()),
        Err(e) => engine_error(e),
    }
}

pub async fn take(
    contrato: String,
    importe: String,
    forma: String,
    cheque: Option<String>,
    clave: String,
) -> Result<CashTaken, AppError> {
    let s = staff(CASHIERS).await?;
    let clave = idempotency_key(clave).await?;
    let amount = match pesos("importe", &importe) {
        Ok(c) if c > 0 => c,
        Ok(_) => {
            return fail(AppError::invalid(
                "importe",
                "Escriba un importe mayor que cero.",
            ));
        }
        Err(e) => return fail(e),
    };
    let method = match forma.as_str() {
        "efectivo" => invoicing::caja::CounterMethod::Efectivo,
        "cheque" => invoicing::caja::CounterMethod::Cheque {
            number: cheque.unwrap_or_default(),
        },
        _ => return fail(AppError::invalid("forma", "Elija efectivo o cheque.")),
    };
    let p = invoicing::caja::CounterPayment {
        contract_number: contrato.trim().to_string(),
        amount_centavos: amount,
        method,
        idempotency_key: clave,
    };
    match invoicing::caja::take(&s.r.st.db, s.r.tenant, s.id, &p, Utc::now()).await {
        Ok(t) => Ok(CashTaken {
            id: t.received_id,
            contract: p.contract_number,
            amount: money(amount),
        }),
        Err(e) => engine_error(e),
    }
}

pub async fn close(contado: String, nota: String) -> Result<CorteView, AppError> {
    let s = staff(CASHIERS).await?;
    let counted = match pesos("contado", &contado) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    match invoicing::caja::close(&s.r.st.db, s.r.tenant, s.id, counted, &nota, Utc::now()).await {
        Ok(c) => Ok(corte_view(&c)),
        Err(e) => engine_error(e),
    }
}

/// `GET /personal/caja/recibos/{id}/pdf`: the 80 mm receipt of a counter payment.
pub async fn receipt_pdf(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let h = req.headers().clone();
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let s = match staff_of(r, CASHIERS).await {
        Ok(s) => s,
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    };
    match invoicing::caja::receipt(&st.db, s.r.tenant, id, Some(&s.name), None).await {
        Ok(pdf) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pdf"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!("inline; filename=\"recibo-caja-{id}.pdf\""))
                        .unwrap_or(HeaderValue::from_static("inline")),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                ),
            ],
            pdf,
        )
            .into_response(),
        Err(e) => handler_error(e.into(), &h, "/personal/entrar"),
    }
}
