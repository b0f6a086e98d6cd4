//! Payments received from providers (issue #5, first channel: SPEI abonos through STP),
//! applied to a contract exactly once.
//!
//! One transaction per payment: the `payments_received` row (unique dedupe key — the
//! provider's event or abono id — so a repeated, reordered or concurrent delivery of
//! the same event changes nothing), one ledger `pago` entry, its parts applied to the
//! contract's open bills oldest first (`payments::allocate`; each part an
//! `invoice_payments` row with its NumParcialidad and the bill's balance before it, so
//! the Complemento de Pago follows), the audit event and a fiscal-worker wake-up. What
//! no bill takes stays in the ledger as credit for the next bill. A payment whose
//! reference names no contract, or names one whose collection is stopped
//! (`collection_blocks`), is kept, unmatched, for staff — never dropped.

use chrono::{DateTime, Utc};
use db::cfdi::NewPayment;
use db::payments::NewReceived;
use db::repo::{NewEvent, record_event};
use db::{Db, TenantId};

use crate::fiscal::{local_fecha, wake_fiscal_worker};
use crate::{Error, Result};

/// A payment a provider reported.
#[derive(Debug, Clone)]
pub struct Received<'a> {
    /// 'spei', 'codi', 'oxxo', 'card', …
    pub channel: &'a str,
    /// Provider-scoped id, e.g. `stp:3091264`.
    pub dedupe_key: String,
    /// The contract the reference names; `None` with `unmatched_reason` otherwise.
    pub contract_id: Option<i64>,
    pub unmatched_reason: Option<String>,
    pub amount_centavos: i64,
    /// c_FormaPago for the complement (03 transferencia for SPEI/CoDi).
    pub forma_pago: &'a str,
    pub paid_at: DateTime<Utc>,
    /// The CLABE or reference it was paid to.
    pub reference: &'a str,
    pub payer: &'a str,
    /// SPEI clave de rastreo, OXXO authorization…
    pub num_operacion: Option<String>,
    /// The provider's message as received.
    pub payload: &'a str,
    /// The cashier's session, for counter payments.
    pub cash_session_id: Option<i64>,
}

/// What became of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Outcome {
    Applied {
        received_id: i64,
        /// (invoice id, centavos).
        applied: Vec<(i64, i64)>,
        credit_centavos: i64,
    },
    /// Seen before: nothing changed.
    Duplicate,
    /// Kept for staff.
    Unmatched { received_id: i64 },
}

pub async fn apply(
    db: &Db,
    tenant: TenantId,
    r: &Received<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    apply_inner(db, tenant, r, None, None, now).await
}

/// [`apply`] to one bill the staff chose (its page at the counter, `supra cfdi pay`)
/// instead of the oldest ones; what the bill does not take stays as credit.
/// `recorded_by` is the staff member, kept on the bill's payment.
pub async fn apply_to_bill(
    db: &Db,
    tenant: TenantId,
    r: &Received<'_>,
    invoice_id: i64,
    recorded_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    apply_inner(db, tenant, r, Some(invoice_id), recorded_by, now).await
}

async fn apply_inner(
    db: &Db,
    tenant: TenantId,
    r: &Received<'_>,
    bill: Option<i64>,
    recorded_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    if r.amount_centavos <= 0 {
        return Err(Error::Invalid {
            field: "monto",
            message: "el importe debe ser mayor que cero".into(),
        });
    }
    let mut tx = db.write(tenant).await?;
    if let Some(id) = r.contract_id {
        db::payments::lock_contract(&mut tx, id).await?;
    }
    if db::payments::received_by_key(&mut tx, &r.dedupe_key)
        .await?
        .is_some()
    {
        return Ok(Outcome::Duplicate);
    }
    // Collection stopped for the contract: the money is kept for staff to resolve.
    let blocked = match r.contract_id {
        Some(id) => db::payments::collection_block(&mut tx, id)
            .await?
            .map(|why| format!("cobro detenido para el contrato: {why}")),
        None => None,
    };
    let account = match (r.contract_id, &blocked) {
        (Some(id), None) => db::repo::account_by_id(&mut tx, id).await?,
        _ => None,
    };
    let Some(account) = account else {
        let reason = blocked
            .or_else(|| r.unmatched_reason.clone())
            .unwrap_or_else(|| "la referencia no corresponde a ningún contrato".into());
        let Some(id) = db::payments::insert_received(
            &mut tx,
            &row(r, "sin_asignar", None, Some(&reason), None),
            now,
        )
        .await?
        else {
            return Ok(Outcome::Duplicate);
        };
        audit(
            &mut tx,
            id,
            None,
            r,
            serde_json::json!({"sin_asignar": reason}),
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Outcome::Unmatched { received_id: id });
    };
    let contract_id = account.contract_id;
    let mut p = posting(r);
    p.bill = bill;
    p.recorded_by = recorded_by;
    let (entry, allocation) = post(&mut tx, &account, &p, now).await?;
    let Some(received_id) = db::payments::insert_received(
        &mut tx,
        &row(r, "aplicado", Some(contract_id), None, Some(entry)),
        now,
    )
    .await?
    else {
        // A concurrent delivery of the same event won: roll ours back.
        return Ok(Outcome::Duplicate);
    };
    audit(
        &mut tx,
        received_id,
        Some(contract_id),
        r,
        serde_json::json!({"aplicado": allocation.applied, "saldo_a_favor": allocation.credit_centavos}),
        now,
    )
    .await?;
    if !allocation.applied.is_empty() {
        wake_fiscal_worker(&mut tx, &format!("cobro:{received_id}"), now).await?;
    }
    tx.commit().await?;
    Ok(Outcome::Applied {
        received_id,
        applied: allocation.applied,
        credit_centavos: allocation.credit_centavos,
    })
}

/// What posting a payment to a contract needs.
struct Posting<'a> {
    channel: &'a str,
    amount_centavos: i64,
    forma_pago: &'a str,
    paid_at: DateTime<Utc>,
    reference: &'a str,
    num_operacion: Option<String>,
    /// Prefix of the applications' idempotency keys.
    key: &'a str,
    /// Only this bill takes the payment (chosen by staff); else the oldest open ones.
    bill: Option<i64>,
    recorded_by: Option<i64>,
}

fn posting<'a>(r: &'a Received<'a>) -> Posting<'a> {
    Posting {
        channel: r.channel,
        amount_centavos: r.amount_centavos,
        forma_pago: r.forma_pago,
        paid_at: r.paid_at,
        reference: r.reference,
        num_operacion: r.num_operacion.clone(),
        key: &r.dedupe_key,
        bill: None,
        recorded_by: None,
    }
}

/// One ledger entry for the payment, split over the contract's open bills oldest first
/// (each part an `invoice_payments` row with its NumParcialidad and the bill's unpaid
/// amount before it). Returns the ledger entry and the allocation.
async fn post(
    tx: &mut db::Scoped,
    account: &db::models::AccountRow,
    p: &Posting<'_>,
    now: DateTime<Utc>,
) -> Result<(i64, payments::allocate::Allocation)> {
    let contract_id = account.contract_id;
    let open = match p.bill {
        // The bill staff chose: what it still owes by its own payments (the chain its
        // Complementos de Pago follow).
        Some(bill) => {
            let inv = db::billing::invoice_by_id(tx, bill)
                .await?
                .filter(|i| i.contract_id == contract_id && !i.cancelled)
                .ok_or(Error::NotFound)?;
            vec![payments::allocate::OpenBill {
                invoice_id: bill,
                due_date: inv.due_date,
                owed_centavos: chain_owed(tx, &inv).await?.max(0),
            }]
        }
        None => open_bills(tx, account).await?,
    };
    let allocation = payments::allocate::allocate(&open, p.amount_centavos);
    let paid_on = local_fecha(p.paid_at).date_naive();
    let description = format!(
        "Pago {} ({})",
        channel_label(p.channel),
        p.num_operacion.as_deref().unwrap_or(p.reference)
    );
    let entry = db::cfdi::insert_ledger_payment(
        tx,
        contract_id,
        p.amount_centavos,
        &description,
        paid_on,
        now,
    )
    .await?;
    for &(invoice_id, part) in &allocation.applied {
        let unpaid = open
            .iter()
            .find(|b| b.invoice_id == invoice_id)
            .map_or(part, |b| b.owed_centavos);
        let previous = db::cfdi::payments_of_invoice(tx, invoice_id).await?;
        db::cfdi::insert_application(
            tx,
            &NewPayment {
                contract_id,
                invoice_id,
                amount_centavos: part,
                forma_pago: p.forma_pago.to_string(),
                paid_at: p.paid_at,
                paid_on,
                num_operacion: p.num_operacion.clone(),
                idempotency_key: format!("{}#{invoice_id}", p.key),
                recorded_by: p.recorded_by,
                description: String::new(),
            },
            entry,
            previous.len() as i32 + 1,
            unpaid,
            now,
        )
        .await?;
    }
    notify_legacy(tx, account, p, entry, paid_on, now).await?;
    Ok((entry, allocation))
}

/// What a bill still owes by its own payments: its total less every application so
/// far (the chain its Complementos de Pago follow; ImpSaldoAnt of the next one).
pub(crate) async fn chain_owed(tx: &mut db::Scoped, inv: &db::billing::InvoiceRow) -> Result<i64> {
    let paid: i64 = db::cfdi::payments_of_invoice(tx, inv.id)
        .await?
        .iter()
        .map(|p| p.amount_centavos)
        .sum();
    Ok(inv.total_centavos - paid)
}

/// The contract's bills with what is still unpaid of each, as the citizen sees them
/// (the ledger balance spread over the newest bills; cancelled ones left out).
pub async fn open_bills(
    tx: &mut db::Scoped,
    account: &db::models::AccountRow,
) -> Result<Vec<payments::allocate::OpenBill>> {
    let bills = db::billing::invoices_of_contract(tx, account.contract_id, 1_000).await?;
    let statuses = crate::derive_statuses(account.balance_centavos, &bills, crate::today());
    Ok(bills
        .iter()
        .zip(&statuses)
        .filter(|(b, _)| !b.cancelled)
        .map(|(b, (_, unpaid))| payments::allocate::OpenBill {
            invoice_id: b.id,
            due_date: b.due_date,
            owed_centavos: *unpaid,
        })
        .collect())
}

/// Staff assign an unmatched payment to a contract (audited with their note): it is
/// then posted like any other payment. Refused when it is no longer unmatched.
pub async fn assign(
    db: &Db,
    tenant: TenantId,
    received_id: i64,
    contract_number: &str,
    note: &str,
    actor: crate::Actor,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let invalid = |field: &'static str, message: &str| Error::Invalid {
        field,
        message: message.into(),
    };
    let note = note.trim();
    if note.chars().count() < 5 {
        return Err(invalid(
            "nota",
            "escriba cómo identificó al contrato (al menos 5 caracteres); queda en la bitácora",
        ));
    }
    let number = contract_number.trim();
    let mut tx = db.write(tenant).await?;
    let Some(contact) = db::repo::contract_contact(&mut tx, number).await? else {
        return Err(invalid("contrato", "no existe un contrato con ese número"));
    };
    db::payments::lock_contract(&mut tx, contact.contract_id).await?;
    let Some(received) = db::payments::received_by_id(&mut tx, received_id).await? else {
        return Err(Error::NotFound);
    };
    if received.status != "sin_asignar" {
        return Err(invalid("contrato", "este pago ya fue asignado"));
    }
    let Some(account) = db::repo::account_by_id(&mut tx, contact.contract_id).await? else {
        return Err(Error::NotFound);
    };
    let p = Posting {
        channel: &received.channel,
        amount_centavos: received.amount_centavos,
        forma_pago: forma_of_channel(&received.channel),
        paid_at: received.received_at,
        reference: &received.reference,
        num_operacion: None,
        key: &received.dedupe_key,
        bill: None,
        recorded_by: actor.id(),
    };
    let (entry, allocation) = post(&mut tx, &account, &p, now).await?;
    if !db::payments::mark_assigned(&mut tx, received_id, account.contract_id, entry, note).await? {
        return Err(invalid("contrato", "este pago ya fue asignado"));
    }
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "payment.assigned",
            subject_kind: Some("payment"),
            subject_id: Some(received_id),
            data: serde_json::json!({"contrato": number, "nota": note,
                "aplicado": allocation.applied, "saldo_a_favor": allocation.credit_centavos}),
            ip: None,
            now,
        },
    )
    .await?;
    if !allocation.applied.is_empty() {
        wake_fiscal_worker(&mut tx, &format!("cobro:{received_id}"), now).await?;
    }
    tx.commit().await?;
    Ok(Outcome::Applied {
        received_id,
        applied: allocation.applied,
        credit_centavos: allocation.credit_centavos,
    })
}

/// c_FormaPago of a channel (for the Complemento de Pago).
pub(crate) fn forma_of_channel(channel: &str) -> &'static str {
    match channel {
        "oxxo" | "efectivo" => "01",
        "cheque" => "02",
        "card" => "04",
        // Domiciliación: the bank moves the money from the payer's CLABE account to the
        // utility's by electronic transfer, so SAT's c_FormaPago is 03 (Transferencia
        // electrónica de fondos); 28 would be a debit *card*, which it is not.
        "domiciliacion" => "03",
        _ => "03",
    }
}

fn row<'a>(
    r: &'a Received<'a>,
    status: &'a str,
    contract_id: Option<i64>,
    reason: Option<&'a str>,
    ledger_entry_id: Option<i64>,
) -> NewReceived<'a> {
    NewReceived {
        channel: r.channel,
        dedupe_key: &r.dedupe_key,
        contract_id,
        amount_centavos: r.amount_centavos,
        received_at: r.paid_at,
        reference: r.reference,
        payer: r.payer,
        status,
        reason,
        ledger_entry_id,
        payload: r.payload,
        cash_session_id: r.cash_session_id,
    }
}

/// The contract's CLABE referenciada for SPEI transfers, when the utility has an STP
/// prefix configured.
pub async fn spei_clabe(tx: &mut db::Scoped, contract_id: i64) -> Result<Option<String>> {
    let Some(prefix) = db::payments::stp_prefix(tx).await? else {
        return Ok(None);
    };
    Ok(payments::clabe::for_contract(&prefix, contract_id)
        .ok()
        .map(|c| c.as_str().to_string()))
}

fn channel_label(channel: &str) -> &'static str {
    match channel {
        "spei" => "SPEI",
        "codi" => "CoDi",
        "oxxo" => "en OXXO",
        "card" => "con tarjeta",
        "efectivo" => "en efectivo en ventanilla",
        "ventanilla" => "en ventanilla",
        "cheque" => "con cheque en ventanilla",
        "domiciliacion" => "por domiciliación",
        _ => "recibido",
    }
}

async fn audit(
    tx: &mut db::Scoped,
    received_id: i64,
    contract_id: Option<i64>,
    r: &Received<'_>,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut data = data;
    if let Some(m) = data.as_object_mut() {
        m.insert("canal".into(), r.channel.into());
        m.insert("clave".into(), r.dedupe_key.clone().into());
        m.insert("importe_centavos".into(), r.amount_centavos.into());
        m.insert("contrato".into(), contract_id.into());
    }
    record_event(
        tx,
        NewEvent {
            actor_kind: "system",
            actor_id: None,
            action: "payment.received",
            subject_kind: Some("payment"),
            subject_id: Some(received_id),
            data,
            ip: None,
            now,
        },
    )
    .await?;
    Ok(())
}

/// An STP abono as a [`Received`] payment: the CLABE it was sent to names the contract
/// (under the utility's STP prefix, check digit first).
pub fn from_stp_abono<'a>(
    a: &'a payments::stp::Abono,
    stp_prefix: &str,
    payload: &'a str,
) -> Received<'a> {
    let contract_id = payments::clabe::contract_of(stp_prefix, &a.cuenta_beneficiario);
    let paid_at = a
        .ts_liquidacion
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .unwrap_or_else(Utc::now);
    Received {
        channel: if a.folio_codi.is_some() {
            "codi"
        } else {
            "spei"
        },
        dedupe_key: a.dedupe_key(),
        contract_id,
        unmatched_reason: contract_id.is_none().then(|| {
            format!(
                "la CLABE {} no es una CLABE referenciada de este organismo",
                a.cuenta_beneficiario
            )
        }),
        amount_centavos: a.centavos,
        forma_pago: "03",
        paid_at,
        reference: &a.cuenta_beneficiario,
        payer: &a.nombre_ordenante,
        num_operacion: Some(a.clave_rastreo.clone()),
        payload,
        cash_session_id: None,
    }
}

/// While AquaCIS still keeps the debt, it must hear of every payment SUPRA applies:
/// when the `pagos` domain writes to legacy, an `avisarPago` goes into the outbox in
/// the payment's own transaction, keyed by the ledger entry (once per payment). The
/// bridge (`bridge::deliver`) sends it exactly once.
async fn notify_legacy(
    tx: &mut db::Scoped,
    account: &db::models::AccountRow,
    p: &Posting<'_>,
    entry: i64,
    paid_on: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    if !db::legacy::writes_to_legacy(tx, "pagos").await? {
        return Ok(());
    }
    let notice = serde_json::json!({
        "numContrato": account.number,
        "importe": domain::Money::from_centavos(p.amount_centavos).amount().to_string(),
        "fechaPago": paid_on.to_string(),
        "formaPago": p.forma_pago,
        "referenciaExterna": format!("SUPRA-{entry}"),
    });
    db::repo::enqueue(
        tx,
        db::legacy::AVISAR_PAGO,
        &format!("{}:{entry}", db::legacy::AVISAR_PAGO),
        &notice,
        now,
    )
    .await?;
    Ok(())
}
