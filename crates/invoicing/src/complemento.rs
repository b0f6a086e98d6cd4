//! Payments against bills and their Complemento de Pago 2.0.
//!
//! [`record_payment`] takes a payment for one bill at the counter: it checks the bill
//! (not cancelled, collection not stopped, no more than it owes) and applies it through
//! `cobro::apply_to_bill` — the one way payments are applied: ledger entry, the
//! application with its NumParcialidad and the bill's balance before it,
//! `payments_received`, the audit event and the fiscal worker's wake-up, in one
//! transaction. The same idempotency key never records twice.
//!
//! [`issue_complements`] then seals a CFDI of type P for every payment whose bill has a
//! stamped PPD CFDI and no complement yet (a payment recorded before its bill was stamped
//! gets its complement once it is). The P document goes to the bill's receptor, relates
//! the bill's UUID, and its ImpSaldoAnt/ImpPagado/ImpSaldoInsoluto chain across
//! parcialidades because the balance before each payment was fixed when it was recorded.

use chrono::{DateTime, Datelike, Utc};
use db::cfdi::{NewDocument, PaymentRow};
use db::{Db, TenantId};
use rust_decimal::Decimal;

use crate::fiscal::{emisor, issuer_of, local_fecha};
use crate::{Actor, Error, Result};

/// c_FormaPago values a counter payment may carry.
pub const FORMAS_DE_PAGO: [(&str, &str); 6] = [
    ("01", "Efectivo"),
    ("02", "Cheque nominativo"),
    ("03", "Transferencia electrónica de fondos"),
    ("04", "Tarjeta de crédito"),
    ("28", "Tarjeta de débito"),
    ("05", "Monedero electrónico"),
];

/// A payment to apply to one bill.
#[derive(Debug, Clone)]
pub struct PaymentInput {
    pub invoice_id: i64,
    pub amount: domain::Money,
    /// c_FormaPago.
    pub forma_pago: String,
    pub paid_at: DateTime<Utc>,
    pub num_operacion: Option<String>,
    /// The same key twice records one payment (a double click, a retried request).
    pub idempotency_key: String,
}

/// What [`record_payment`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentRecorded {
    pub payment_id: i64,
    pub num_parcialidad: i32,
    pub saldo_anterior_centavos: i64,
    pub saldo_insoluto_centavos: i64,
    /// The key had been used: nothing new was recorded.
    pub duplicate: bool,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field,
        message: message.into(),
    }
}

fn recorded(p: &PaymentRow, duplicate: bool) -> PaymentRecorded {
    PaymentRecorded {
        payment_id: p.id,
        num_parcialidad: p.num_parcialidad,
        saldo_anterior_centavos: p.saldo_anterior_centavos,
        saldo_insoluto_centavos: p.saldo_anterior_centavos - p.amount_centavos,
        duplicate,
    }
}

/// Apply a payment to a bill (see the module docs).
pub async fn record_payment(
    db: &Db,
    tenant: TenantId,
    input: &PaymentInput,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<PaymentRecorded> {
    let amount = input.amount.centavos();
    if amount <= 0 {
        return Err(invalid(
            "importe",
            "el importe del pago debe ser mayor que cero",
        ));
    }
    if !FORMAS_DE_PAGO.iter().any(|(c, _)| *c == input.forma_pago) {
        return Err(invalid(
            "forma_pago",
            format!(
                "«{}» no es una forma de pago aceptada en ventanilla",
                input.forma_pago
            ),
        ));
    }
    let key = input.idempotency_key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(invalid("idempotency_key", "falta la clave única del pago"));
    }
    if input.paid_at > now + chrono::Duration::minutes(5) {
        return Err(invalid(
            "fecha_pago",
            "la fecha del pago no puede estar en el futuro",
        ));
    }
    let num_operacion = input
        .num_operacion
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if num_operacion.as_ref().is_some_and(|n| n.len() > 100) {
        return Err(invalid(
            "num_operacion",
            "el número de operación es demasiado largo",
        ));
    }
    let dedupe_key = format!("ventanilla:{key}");
    let application_key = format!("{dedupe_key}#{}", input.invoice_id);
    let (inv, saldo) = {
        let mut tx = db.read(tenant).await?;
        if db::payments::received_by_key(&mut tx, &dedupe_key)
            .await?
            .is_some()
        {
            return match db::cfdi::payment_by_key(&mut tx, &application_key).await? {
                Some(p) if p.amount_centavos == amount => Ok(recorded(&p, true)),
                _ => Err(invalid(
                    "idempotency_key",
                    "esa clave ya se usó para otro pago; recargue la página",
                )),
            };
        }
        let inv = db::billing::invoice_by_id(&mut tx, input.invoice_id)
            .await?
            .ok_or(Error::NotFound)?;
        if inv.cancelled {
            return Err(invalid(
                "recibo",
                "el recibo está cancelado; no admite pagos",
            ));
        }
        if let Some(why) = db::payments::collection_block(&mut tx, inv.contract_id).await? {
            return Err(invalid(
                "recibo",
                format!("el cobro de este contrato está detenido ({why})"),
            ));
        }
        let saldo = crate::cobro::chain_owed(&mut tx, &inv).await?;
        (inv, saldo)
    };
    if saldo <= 0 {
        return Err(invalid("importe", "este recibo ya está pagado"));
    }
    if amount > saldo {
        return Err(invalid(
            "importe",
            format!(
                "el pago de {} es mayor que el saldo del recibo ({})",
                domain::Money::from_centavos(amount),
                domain::Money::from_centavos(saldo)
            ),
        ));
    }
    // Through the one way payments are applied (`cobro`): ledger entry, the bill's
    // application with its NumParcialidad, `payments_received` (history, receipts,
    // search, reconciliation), audit and the fiscal worker's wake-up, in one
    // transaction.
    let channel = match input.forma_pago.as_str() {
        "01" => "efectivo",
        "02" => "cheque",
        _ => "ventanilla",
    };
    let received = crate::cobro::Received {
        channel,
        dedupe_key: dedupe_key.clone(),
        contract_id: Some(inv.contract_id),
        unmatched_reason: None,
        amount_centavos: amount,
        forma_pago: &input.forma_pago,
        paid_at: input.paid_at,
        reference: &inv.folio,
        payer: "",
        num_operacion,
        payload: "",
        cash_session_id: None,
    };
    let outcome = crate::cobro::apply_to_bill(
        db,
        tenant,
        &received,
        inv.id,
        match actor {
            Actor::Staff(id) => Some(id),
            Actor::System => None,
        },
        now,
    )
    .await?;
    let duplicate = match outcome {
        crate::cobro::Outcome::Applied { .. } => false,
        crate::cobro::Outcome::Duplicate => true,
        crate::cobro::Outcome::Unmatched { .. } => {
            return Err(invalid(
                "recibo",
                "el cobro de este contrato se detuvo mientras se registraba; el pago quedó para revisión en Pagos",
            ));
        }
    };
    let mut tx = db.read(tenant).await?;
    let p = db::cfdi::payment_by_key(&mut tx, &application_key)
        .await?
        .filter(|p| p.amount_centavos == amount)
        .ok_or_else(|| {
            invalid(
                "idempotency_key",
                "esa clave ya se usó para otro pago; recargue la página",
            )
        })?;
    Ok(recorded(&p, duplicate))
}

/// What [`issue_complements`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ComplementSummary {
    pub sealed: usize,
    /// Payments of bills whose CFDI is PUE or in a factura global: no complement.
    pub not_required: usize,
    /// (payment id, reason).
    pub failed: Vec<(i64, String)>,
}

/// Seal the Complemento de Pago of every payment that needs one and has none (see the
/// module docs). Idempotent: one P document per payment (unique index).
pub async fn issue_complements(
    db: &Db,
    tenant: TenantId,
    csd: &cfdi::csd::Csd,
    now: DateTime<Utc>,
) -> Result<ComplementSummary> {
    let mut summary = ComplementSummary::default();
    let pending = {
        let mut tx = db.read(tenant).await?;
        db::cfdi::payments_awaiting_complement(&mut tx, 500).await?
    };
    if pending.is_empty() {
        return Ok(summary);
    }
    let issuer = issuer_of(db, tenant).await?;
    for (p, invoice_xml) in pending {
        let paid = match cfdi::pagos::paid_invoice(&invoice_xml) {
            Ok(x) => x,
            Err(e) => {
                summary.failed.push((p.id, e.to_string()));
                continue;
            }
        };
        if paid.metodo_pago != "PPD" {
            summary.not_required += 1;
            continue;
        }
        let mut tx = db.write(tenant).await?;
        let folio = db::cfdi::take_folios(&mut tx, &issuer.serie_pago, 1).await?;
        let built = build(&issuer, &p, paid, folio, now).and_then(|c| Ok(cfdi::seal(c, csd)?));
        match built {
            Ok(s) => {
                let fecha_pago = local_fecha(p.paid_at);
                let doc = NewDocument {
                    tipo: "P",
                    invoice_id: None,
                    period: fecha_pago.year() * 100 + fecha_pago.month() as i32,
                    serie: issuer.serie_pago.clone(),
                    folio: folio.to_string(),
                    fecha: cfdi::xml::fecha(s.comprobante.fecha),
                    receptor_rfc: s.comprobante.receptor.rfc.as_str().to_string(),
                    total_centavos: p.amount_centavos,
                    sealed_xml: s.xml,
                    payment_id: Some(p.id),
                };
                let n = db::cfdi::insert_documents(&mut tx, &[doc], now).await?;
                tx.commit().await?;
                summary.sealed += n.len();
            }
            Err(e) => {
                drop(tx);
                summary.failed.push((p.id, e.to_string()));
            }
        }
    }
    Ok(summary)
}

fn build(
    issuer: &db::cfdi::Issuer,
    p: &PaymentRow,
    paid: cfdi::pagos::PaidInvoice,
    folio: i64,
    now: DateTime<Utc>,
) -> Result<cfdi::Comprobante> {
    let monto = Decimal::new(p.amount_centavos, 2);
    let pago = cfdi::pagos::PagoInput {
        fecha_pago: local_fecha(p.paid_at).naive_local(),
        forma_de_pago: p.forma_pago.clone(),
        monto,
        num_operacion: p.num_operacion.clone(),
        doctos: vec![cfdi::pagos::DoctoInput {
            id_documento: paid.uuid,
            serie: paid.serie,
            folio: paid.folio,
            num_parcialidad: u32::try_from(p.num_parcialidad).unwrap_or(1),
            imp_saldo_ant: Decimal::new(p.saldo_anterior_centavos, 2),
            imp_pagado: monto,
            invoice_total: paid.total,
            invoice_traslados: paid.traslados,
        }],
    };
    Ok(cfdi::pagos::comprobante(
        emisor(issuer)?,
        paid.receptor,
        issuer.lugar_expedicion.clone(),
        local_fecha(now),
        Some((issuer.serie_pago.clone(), folio.to_string())),
        vec![pago],
    )?)
}

/// The payments of a bill with their complements, for the staff bill page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentView {
    pub id: i64,
    pub amount_centavos: i64,
    pub forma_pago: String,
    pub paid_at: DateTime<Utc>,
    pub num_parcialidad: i32,
    pub saldo_anterior_centavos: i64,
    /// Status of the Complemento de Pago ('sellado', 'timbrado', …), if issued.
    pub complemento_status: Option<String>,
    pub complemento_uuid: Option<String>,
}

pub async fn payments_of_invoice(
    db: &Db,
    tenant: TenantId,
    invoice_id: i64,
) -> Result<Vec<PaymentView>> {
    let mut tx = db.read(tenant).await?;
    let mut out = Vec::new();
    for p in db::cfdi::payments_of_invoice(&mut tx, invoice_id).await? {
        let doc = db::cfdi::document_of_payment(&mut tx, p.id).await?;
        out.push(PaymentView {
            id: p.id,
            amount_centavos: p.amount_centavos,
            forma_pago: p.forma_pago,
            paid_at: p.paid_at,
            num_parcialidad: p.num_parcialidad,
            saldo_anterior_centavos: p.saldo_anterior_centavos,
            complemento_status: doc.as_ref().map(|d| d.status.clone()),
            complemento_uuid: doc.and_then(|d| d.uuid),
        });
    }
    Ok(out)
}
