//! Ventanilla: a cashier's session at the office counter. Opened with a float; each
//! payment (cash or cheque) goes to a contract through [`crate::cobro::apply`] like
//! any other payment — oldest bill first, once per submit — and prints an 80 mm
//! receipt; the corte de caja totals the session per method and records what the
//! cashier counted, with a note required when it does not match.

use chrono::{DateTime, Utc};
use db::payments::CashSessionRow;
use db::{Db, TenantId};
use domain::Money;

use crate::cobro::{Outcome, Received};
use crate::orders::invalid;
use crate::{Error, Result};

/// How the citizen pays at the counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CounterMethod {
    Efectivo,
    Cheque { number: String },
}

impl CounterMethod {
    pub fn channel(&self) -> &'static str {
        match self {
            CounterMethod::Efectivo => "efectivo",
            CounterMethod::Cheque { .. } => "cheque",
        }
    }
}

pub fn method_label(channel: &str) -> &'static str {
    match channel {
        "efectivo" => "Efectivo",
        "cheque" => "Cheque",
        _ => "Otro",
    }
}

/// Open a session with `float_centavos` in the drawer.
pub async fn open(
    db: &Db,
    tenant: TenantId,
    staff_id: i64,
    float_centavos: i64,
    now: DateTime<Utc>,
) -> Result<CashSessionRow> {
    if float_centavos < 0 {
        return Err(invalid("fondo", "el fondo de caja no puede ser negativo"));
    }
    let mut tx = db.write(tenant).await?;
    let Some(id) = db::payments::open_cash_session(&mut tx, staff_id, float_centavos, now).await?
    else {
        return Err(invalid(
            "fondo",
            "ya tiene una caja abierta; ciérrela con su corte primero",
        ));
    };
    audit(
        &mut tx,
        staff_id,
        "cash_session.opened",
        id,
        serde_json::json!({"fondo_centavos": float_centavos}),
        now,
    )
    .await?;
    let row = db::payments::cash_session(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// A counter payment to record.
#[derive(Debug, Clone)]
pub struct CounterPayment {
    pub contract_number: String,
    pub amount_centavos: i64,
    pub method: CounterMethod,
    /// From the form: one payment per submit.
    pub idempotency_key: String,
}

/// What the counter took: the stored payment and where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub received_id: i64,
    pub contract_id: i64,
    pub applied: Vec<(i64, i64)>,
    pub credit_centavos: i64,
}

/// Take a payment in the cashier's open session.
pub async fn take(
    db: &Db,
    tenant: TenantId,
    staff_id: i64,
    p: &CounterPayment,
    now: DateTime<Utc>,
) -> Result<Taken> {
    if p.amount_centavos <= 0 {
        return Err(invalid("importe", "escriba un importe mayor que cero"));
    }
    if p.idempotency_key.trim().is_empty() {
        return Err(invalid(
            "clave",
            "falta la clave del cobro; recargue la página",
        ));
    }
    let number = p.contract_number.trim();
    if let CounterMethod::Cheque { number } = &p.method
        && (number.trim().is_empty() || number.len() > 30)
    {
        return Err(invalid("cheque", "escriba el número del cheque"));
    }
    let (session, contact, blocked) = {
        let mut tx = db.read(tenant).await?;
        let session = db::payments::open_session_of(&mut tx, staff_id).await?;
        let contact = db::repo::contract_contact(&mut tx, number).await?;
        let blocked = match &contact {
            Some(c) => db::payments::collection_block(&mut tx, c.contract_id).await?,
            None => None,
        };
        (session, contact, blocked)
    };
    let Some(session) = session else {
        return Err(invalid("contrato", "abra su caja antes de cobrar"));
    };
    let Some(contact) = contact else {
        return Err(invalid("contrato", "no existe un contrato con ese número"));
    };
    if let Some(why) = blocked {
        return Err(invalid(
            "contrato",
            format!("el cobro de este contrato está detenido: {why}"),
        ));
    }
    let key = format!("caja:{}", p.idempotency_key.trim());
    let reference = format!("caja {}", session.id);
    let received = Received {
        channel: p.method.channel(),
        dedupe_key: key.clone(),
        contract_id: Some(contact.contract_id),
        unmatched_reason: None,
        amount_centavos: p.amount_centavos,
        forma_pago: crate::cobro::forma_of_channel(p.method.channel()),
        paid_at: now,
        reference: &reference,
        payer: "ventanilla",
        num_operacion: match &p.method {
            CounterMethod::Cheque { number } => Some(number.trim().to_string()),
            CounterMethod::Efectivo => None,
        },
        payload: "{}",
        cash_session_id: Some(session.id),
    };
    let outcome = crate::cobro::apply(db, tenant, &received, now).await?;
    match outcome {
        Outcome::Applied {
            received_id,
            applied,
            credit_centavos,
        } => {
            let mut tx = db.write(tenant).await?;
            audit(
                &mut tx,
                staff_id,
                "cash_payment.taken",
                received_id,
                serde_json::json!({
                "sesion": session.id, "contrato": number, "importe_centavos": p.amount_centavos,
                "forma": p.method.channel()}),
                now,
            )
            .await?;
            tx.commit().await?;
            Ok(Taken {
                received_id,
                contract_id: contact.contract_id,
                applied,
                credit_centavos,
            })
        }
        // The same submit again: the payment it recorded.
        Outcome::Duplicate => {
            let mut tx = db.read(tenant).await?;
            let r = db::payments::received_by_key(&mut tx, &key)
                .await?
                .ok_or(Error::NotFound)?;
            Ok(Taken {
                received_id: r.id,
                contract_id: r.contract_id.unwrap_or(contact.contract_id),
                applied: vec![],
                credit_centavos: 0,
            })
        }
        Outcome::Unmatched { .. } => Err(invalid(
            "contrato",
            "el cobro de este contrato está detenido",
        )),
    }
}

/// The corte de caja of a session: totals per method and the cash expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corte {
    pub session: CashSessionRow,
    /// (channel, count, centavos), cash first.
    pub totals: Vec<(String, i64, i64)>,
    pub total_centavos: i64,
    /// Float + cash taken: what the drawer should hold.
    pub expected_cash_centavos: i64,
}

pub async fn corte(tx: &mut db::Scoped, session_id: i64) -> Result<Corte> {
    let session = db::payments::cash_session(tx, session_id)
        .await?
        .ok_or(Error::NotFound)?;
    let payments = db::payments::session_payments(tx, session_id).await?;
    let mut totals: Vec<(String, i64, i64)> = vec![];
    for channel in ["efectivo", "cheque"] {
        let of: Vec<_> = payments.iter().filter(|p| p.channel == channel).collect();
        totals.push((
            channel.to_string(),
            of.len() as i64,
            of.iter().map(|p| p.amount_centavos).sum(),
        ));
    }
    let cash = totals[0].2;
    Ok(Corte {
        total_centavos: totals.iter().map(|t| t.2).sum(),
        expected_cash_centavos: session.opening_float_centavos + cash,
        totals,
        session,
    })
}

/// Close the cashier's session with what they counted in cash. A difference needs a
/// note (it goes to the audit log with the corte).
pub async fn close(
    db: &Db,
    tenant: TenantId,
    staff_id: i64,
    counted_cash_centavos: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Corte> {
    if counted_cash_centavos < 0 {
        return Err(invalid(
            "contado",
            "el efectivo contado no puede ser negativo",
        ));
    }
    let mut tx = db.write(tenant).await?;
    let Some(session) = db::payments::open_session_of(&mut tx, staff_id).await? else {
        return Err(invalid("contado", "no tiene una caja abierta"));
    };
    let c = corte(&mut tx, session.id).await?;
    let difference = counted_cash_centavos - c.expected_cash_centavos;
    let note = note.trim();
    if difference != 0 && note.chars().count() < 5 {
        return Err(invalid(
            "nota",
            format!(
                "el efectivo contado difiere en {} del esperado; explique la diferencia",
                Money::from_centavos(difference).format_mxn()
            ),
        ));
    }
    let note = (!note.is_empty()).then_some(note);
    if !db::payments::close_cash_session(
        &mut tx,
        session.id,
        c.expected_cash_centavos,
        counted_cash_centavos,
        note,
        now,
    )
    .await?
    {
        return Err(invalid("contado", "la caja ya estaba cerrada"));
    }
    audit(
        &mut tx,
        staff_id,
        "cash_session.closed",
        session.id,
        serde_json::json!({
        "esperado_centavos": c.expected_cash_centavos, "contado_centavos": counted_cash_centavos,
        "diferencia_centavos": difference, "nota": note,
        "totales": c.totals}),
        now,
    )
    .await?;
    let closed = corte(&mut tx, session.id).await?;
    tx.commit().await?;
    Ok(closed)
}

async fn audit(
    tx: &mut db::Scoped,
    staff_id: i64,
    action: &'static str,
    subject: i64,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    db::repo::record_event(
        tx,
        db::repo::NewEvent {
            actor_kind: "staff",
            actor_id: Some(staff_id),
            action,
            subject_kind: Some(if action.starts_with("cash_session") {
                "cash_session"
            } else {
                "payment"
            }),
            subject_id: Some(subject),
            data,
            ip: None,
            now,
        },
    )
    .await?;
    Ok(())
}

/// A payment's channel as printed on receipts and lists.
pub fn channel_label(channel: &str) -> &'static str {
    match channel {
        "efectivo" => "Efectivo en ventanilla",
        "cheque" => "Cheque en ventanilla",
        "ventanilla" => "En ventanilla",
        "oxxo" => "Efectivo en OXXO",
        "spei" => "Transferencia SPEI",
        "codi" => "CoDi",
        "card" => "Tarjeta",
        "domiciliacion" => "Domiciliación bancaria",
        _ => "Otro",
    }
}

/// The 80 mm receipt of an applied payment: a counter payment (folio of its cash
/// session, the cashier who took it) or one a provider reported (`cashier` None).
/// `contract` limits it to that contract's payments.
pub async fn receipt(
    db: &Db,
    tenant: TenantId,
    received_id: i64,
    cashier: Option<&str>,
    contract: Option<i64>,
) -> Result<Vec<u8>> {
    let mut tx = db.read(tenant).await?;
    let r = db::payments::received_by_id(&mut tx, received_id)
        .await?
        .ok_or(Error::NotFound)?;
    let contract_id = r.contract_id.ok_or(Error::NotFound)?;
    if r.status != "aplicado" || contract.is_some_and(|c| c != contract_id) {
        return Err(Error::NotFound);
    }
    let folio = match r.cash_session_id {
        Some(session) => format!("CAJA-{session}-{:06}", r.id),
        None => format!("PAGO-{:08}", r.id),
    };
    let account = db::repo::account_by_id(&mut tx, contract_id)
        .await?
        .ok_or(Error::NotFound)?;
    let parts = match r.ledger_entry_id {
        Some(e) => db::cfdi::applications_of_entry(&mut tx, e).await?,
        None => vec![],
    };
    let mut applied = vec![];
    let mut applied_total = 0;
    for (invoice_id, centavos) in parts {
        let label = match db::billing::invoice_by_id(&mut tx, invoice_id).await? {
            Some(inv) => format!("Recibo {}", crate::period_label(inv.period)),
            None => format!("Recibo {invoice_id}"),
        };
        applied_total += centavos;
        applied.push((label, Money::from_centavos(centavos).format_mxn()));
    }
    let credit = r.amount_centavos - applied_total;
    let issuer = db::cfdi::issuer(&mut tx).await?;
    let tenant_row = db::repo::list_tenants(db)
        .await?
        .into_iter()
        .find(|t| t.id == tenant.0);
    let balance = Money::from_centavos(account.balance_centavos);
    let doc = billpdf::receipt::ReceiptDocument {
        utility_name: tenant_row.map(|t| t.name).unwrap_or_default(),
        utility_rfc: issuer.map(|i| i.rfc),
        folio,
        date: crate::local_datetime_es(r.received_at),
        cashier: cashier.unwrap_or("Pago en línea").to_string(),
        contract_number: account.number.clone(),
        titular: account.full_name.clone(),
        method: channel_label(&r.channel).to_string(),
        amount: Money::from_centavos(r.amount_centavos).format_mxn(),
        applied,
        credit: (credit > 0).then(|| Money::from_centavos(credit).format_mxn()),
        balance_after: if balance.is_negative() {
            format!("{} a favor", (-balance).format_mxn())
        } else {
            balance.format_mxn()
        },
        footer: "Conserve este recibo. Su pago ya está aplicado a su cuenta; la factura electrónica (CFDI) llega con el complemento de pago.".into(),
    };
    billpdf::receipt::render_receipt(&doc).map_err(|e| Error::Pdf(e.to_string()))
}
