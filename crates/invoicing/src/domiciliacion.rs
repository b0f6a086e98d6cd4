//! Domiciliación (pago automático): staff register the payer's signed mandate, each
//! month a batch file asks the bank to debit what every contract with an active
//! mandate owes (capped by the mandate's maximum), and the bank's results file is
//! applied.
//!
//! - [`register`] / [`cancel`]: one active mandate per contract; the CLABE's check
//!   digit, the maximum and the signing date are checked (`payments::domiciliacion`).
//! - [`build_batch`]: one transaction; per active mandate, the contract's balance
//!   capped by the maximum becomes an item (nothing owed, collection stopped, or a
//!   debit still waiting for the bank's answer: no item), plus the retries that are
//!   due. Idempotent: a mandate gets one first attempt per month, so running the same
//!   month again with nothing new returns the month's latest batch; something new
//!   (a retry that fell due, a mandate registered since) makes the month's next batch.
//!   The file is exported with the layout ([`FixedWidthV1`]) and stored as handed over.
//! - [`apply_results`]: per result, a paid debit goes through `cobro::apply` keyed
//!   `domiciliacion:<reference>` (a results file read twice changes nothing);
//!   insufficient funds are retried per [`RetryPolicy`]; a closed account or an
//!   invalid CLABE deactivates the mandate and enqueues `notify.domiciliacion_baja`
//!   in the same transaction.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use db::domiciliacion::{BatchRow, NewBatch, NewItem, NewMandate};
use db::repo::{NewEvent, record_event};
use db::{Db, TenantId};
use payments::domiciliacion::{
    BankLayout, BatchHeader, DebitLine, FixedWidthV1, Mandate, Next, Outcome, RetryPolicy,
    next_step,
};
use serde::Serialize;

use crate::cobro::{self, Received};
use crate::{Actor, Error, Result};

/// The payment channel of a direct debit.
pub const CHANNEL: &str = "domiciliacion";
/// Outbox kind telling the payer their mandate was deactivated.
pub const NOTIFY_BAJA: &str = "notify.domiciliacion_baja";

fn invalid(field: &'static str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field,
        message: message.into(),
    }
}

/// What staff typed to register a mandate.
#[derive(Debug, Clone)]
pub struct MandateRequest<'a> {
    pub contract_number: &'a str,
    pub clabe: &'a str,
    pub holder: &'a str,
    pub max_centavos: i64,
    pub signed_on: NaiveDate,
}

/// The CLABE's error in staff's words (usted).
fn clabe_error(clabe: &str) -> Option<Error> {
    let digits: String = clabe
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.parse::<domain::Clabe>().is_ok() {
        return None;
    }
    Some(invalid(
        "clabe",
        if digits.is_empty() {
            "Escriba la CLABE de la cuenta que se va a cargar."
        } else if digits.len() != 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            "La CLABE tiene 18 dígitos."
        } else {
            "El dígito verificador de la CLABE no coincide; revise que esté bien escrita."
        },
    ))
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

/// Register a mandate for a contract (audited). Returns its id.
pub async fn register(
    db: &Db,
    tenant: TenantId,
    req: &MandateRequest<'_>,
    actor: Actor,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64> {
    let number = req.contract_number.trim();
    if number.is_empty() {
        return Err(invalid("contrato", "Escriba el número de contrato."));
    }
    if let Some(e) = clabe_error(req.clabe) {
        return Err(e);
    }
    let clabe: String = req
        .clabe
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let mandate = Mandate::new(&clabe, req.holder, req.max_centavos, req.signed_on, today)
        .map_err(|e| match e {
            payments::Error::Invalid { field, reason } => invalid(field, capitalized(&reason)),
            other => invalid("clabe", other.to_string()),
        })?;
    let mut tx = db.write(tenant).await?;
    let Some(contract) = db::repo::contract_contact(&mut tx, number).await? else {
        return Err(invalid("contrato", "No existe un contrato con ese número."));
    };
    let Some(id) = db::domiciliacion::insert_mandate(
        &mut tx,
        &NewMandate {
            contract_id: contract.contract_id,
            clabe: mandate.clabe.as_str(),
            holder: &mandate.holder,
            max_centavos: mandate.max_centavos,
            signed_on: mandate.signed_on,
            created_by: actor.id(),
        },
        now,
    )
    .await?
    else {
        return Err(invalid(
            "contrato",
            "Este contrato ya tiene una domiciliación activa; dé de baja la anterior primero.",
        ));
    };
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "debit_mandate.registered",
            subject_kind: Some("debit_mandate"),
            subject_id: Some(id),
            data: serde_json::json!({"contrato": number,
                "clabe_final": &mandate.clabe.as_str()[14..],
                "maximo_centavos": mandate.max_centavos, "firmado": mandate.signed_on}),
            ip: None,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Staff end a mandate at the payer's request (audited).
pub async fn cancel(
    db: &Db,
    tenant: TenantId,
    mandate_id: i64,
    reason: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let reason = reason.trim();
    let reason = if reason.is_empty() {
        "a petición del titular"
    } else {
        reason
    };
    let mut tx = db.write(tenant).await?;
    if db::domiciliacion::mandate(&mut tx, mandate_id)
        .await?
        .is_none()
    {
        return Err(Error::NotFound);
    }
    if !db::domiciliacion::deactivate_mandate(&mut tx, mandate_id, reason, now).await? {
        return Err(invalid(
            "mandato",
            "Esta domiciliación ya estaba dada de baja.",
        ));
    }
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "debit_mandate.cancelled",
            subject_kind: Some("debit_mandate"),
            subject_id: Some(mandate_id),
            data: serde_json::json!({"motivo": reason}),
            ip: None,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `AAAA-MM` → the month's first day.
pub fn parse_month(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
        .ok()
        .filter(|_| s.trim().len() == 7)
        .ok_or_else(|| invalid("mes", "Escriba el mes como AAAA-MM, por ejemplo 2026-12."))
}

/// A batch and whether this call made it.
#[derive(Debug, Clone)]
pub struct Built {
    pub batch: BatchRow,
    pub created: bool,
}

/// The month's batch (see the module's documentation). `today` decides which retries
/// are due and the charge date (the month's first day, or today if later).
pub async fn build_batch(
    db: &Db,
    tenant: TenantId,
    month: &str,
    actor: Actor,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Built> {
    let first = parse_month(month)?;
    let month = first.format("%Y-%m").to_string();
    let emisora = db::repo::list_tenants(db)
        .await?
        .into_iter()
        .find(|t| t.id == tenant.0)
        .map(|t| t.slug)
        .ok_or(Error::NotFound)?;
    let mut tx = db.write(tenant).await?;
    let existing = db::domiciliacion::batches_of_month(&mut tx, &month).await?;

    struct Candidate {
        mandate: db::domiciliacion::MandateRow,
        clabe: domain::Clabe,
        attempt: i64,
        retry_of: Option<i64>,
        centavos: i64,
    }
    let mut candidates = Vec::new();
    for m in db::domiciliacion::active_mandates(&mut tx).await? {
        let last = db::domiciliacion::last_item_of_mandate(&mut tx, m.id).await?;
        let (attempt, retry_of) = match &last {
            // Still waiting for the bank: never ask twice.
            Some(l) if l.status == "pendiente" => continue,
            Some(l) if l.status == "reintento" => match l.retry_on {
                Some(d) if d <= today => (l.attempt + 1, Some(l.id)),
                _ => continue,
            },
            _ => {
                if db::domiciliacion::mandate_in_month(&mut tx, m.id, &month).await? {
                    continue;
                }
                (1, None)
            }
        };
        let blocked = db::payments::collection_block(&mut tx, m.contract_id)
            .await?
            .is_some();
        let owed = match db::repo::account_by_id(&mut tx, m.contract_id).await? {
            Some(a) if !blocked => a.balance_centavos,
            _ => 0,
        };
        let Ok(clabe) = m.clabe.parse::<domain::Clabe>() else {
            continue;
        };
        let terms = Mandate {
            clabe: clabe.clone(),
            holder: m.holder.clone(),
            max_centavos: m.max_centavos,
            signed_on: m.signed_on,
        };
        match terms.debit_for(owed) {
            Some(centavos) => candidates.push(Candidate {
                mandate: m,
                clabe,
                attempt,
                retry_of,
                centavos,
            }),
            None => {
                if let Some(id) = retry_of {
                    db::domiciliacion::drop_retry(&mut tx, id, "sin saldo por cobrar", now).await?;
                }
            }
        }
    }
    if candidates.is_empty()
        && let Some(last) = existing.last()
    {
        tx.commit().await?;
        return Ok(Built {
            batch: last.clone(),
            created: false,
        });
    }
    let seq = existing.len() as i64 + 1;
    let charge_date = first.max(today);
    let layout = FixedWidthV1;
    let batch_id = db::domiciliacion::insert_batch(
        &mut tx,
        &NewBatch {
            month: &month,
            seq,
            charge_date,
            layout: layout.name(),
            created_by: actor.id(),
        },
        now,
    )
    .await
    .map_err(|e| {
        if e.is_unique_violation() {
            // Another run for the same month got there first (PostgreSQL).
            invalid(
                "mes",
                "Otro lote de este mes se está generando en este momento; intente de nuevo.",
            )
        } else {
            e.into()
        }
    })?;
    let mut lines = Vec::with_capacity(candidates.len());
    for c in &candidates {
        let reference = format!("D{}B{}A{}", c.mandate.id, batch_id, c.attempt);
        db::domiciliacion::insert_item(
            &mut tx,
            &NewItem {
                batch_id,
                mandate_id: c.mandate.id,
                contract_id: c.mandate.contract_id,
                amount_centavos: c.centavos,
                attempt: c.attempt,
                retry_of: c.retry_of,
                reference: &reference,
            },
            now,
        )
        .await?;
        lines.push(DebitLine {
            reference,
            clabe: c.clabe.clone(),
            holder: c.mandate.holder.clone(),
            centavos: c.centavos,
        });
    }
    let header = BatchHeader {
        emisora,
        batch: u32::try_from(batch_id).unwrap_or(u32::MAX),
        charge_date,
    };
    let file = layout
        .export(&header, &lines)
        .map_err(|e| invalid("mes", e.to_string()))?;
    let total: i64 = lines.iter().map(|l| l.centavos).sum();
    let file_name = format!("domiciliacion-{month}-{seq}.txt");
    db::domiciliacion::finish_batch(
        &mut tx,
        batch_id,
        &file_name,
        &file,
        lines.len() as i64,
        total,
    )
    .await?;
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "debit_batch.generated",
            subject_kind: Some("debit_batch"),
            subject_id: Some(batch_id),
            data: serde_json::json!({"mes": month, "lote": seq, "cargos": lines.len(),
                "total_centavos": total}),
            ip: None,
            now,
        },
    )
    .await?;
    let batch = db::domiciliacion::batch(&mut tx, batch_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(Built {
        batch,
        created: true,
    })
}

/// What a results file did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResultsReport {
    /// Paid debits applied to their contracts.
    pub cobrados: i64,
    pub cobrado_centavos: i64,
    /// Insufficient funds, to be retried.
    pub reintentos: i64,
    /// Mandates deactivated (closed account, invalid CLABE).
    pub bajas: i64,
    /// Rejected for good (this debit only).
    pub rechazados: i64,
    /// Results for debits already settled (the same file read again).
    pub repetidos: i64,
    /// References that name none of our debits.
    pub desconocidos: i64,
}

fn code_of(o: &Outcome) -> &str {
    match o {
        Outcome::Cobrado => "00",
        Outcome::FondosInsuficientes => "01",
        Outcome::CuentaCancelada => "02",
        Outcome::ClabeInvalida => "03",
        Outcome::Rechazado(c) => c,
    }
}

/// Apply the bank's results file (audited per file).
pub async fn apply_results(
    db: &Db,
    tenant: TenantId,
    text: &str,
    policy: RetryPolicy,
    actor: Actor,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ResultsReport> {
    let results = FixedWidthV1.parse_results(text).map_err(|e| match e {
        payments::Error::Invalid { reason, .. } => invalid(
            "resultados",
            format!("El archivo de resultados no se pudo leer: {reason}."),
        ),
        other => invalid("resultados", other.to_string()),
    })?;
    if results.is_empty() {
        return Err(invalid(
            "resultados",
            "El archivo no tiene renglones de resultado (R); revise que sea el archivo del banco.",
        ));
    }
    let mut report = ResultsReport::default();
    let mut batches = std::collections::BTreeSet::new();
    for r in &results {
        let (item, mandate) = {
            let mut tx = db.read(tenant).await?;
            let Some(item) = db::domiciliacion::item_by_reference(&mut tx, &r.reference).await?
            else {
                report.desconocidos += 1;
                continue;
            };
            let mandate = db::domiciliacion::mandate(&mut tx, item.mandate_id).await?;
            (item, mandate)
        };
        if item.status != "pendiente" {
            report.repetidos += 1;
            continue;
        }
        let Some(mandate) = mandate else {
            report.desconocidos += 1;
            continue;
        };
        batches.insert(item.batch_id);
        let code = code_of(&r.outcome);
        let attempt = u32::try_from(item.attempt).unwrap_or(u32::MAX);
        match next_step(&r.outcome, attempt, policy, today) {
            Next::Apply => {
                let key = format!("{CHANNEL}:{}", item.reference);
                let payload =
                    serde_json::json!({"referencia": item.reference, "codigo": code}).to_string();
                let received = Received {
                    channel: CHANNEL,
                    dedupe_key: key.clone(),
                    contract_id: Some(item.contract_id),
                    unmatched_reason: None,
                    amount_centavos: item.amount_centavos,
                    forma_pago: cobro::forma_of_channel(CHANNEL),
                    paid_at: now,
                    reference: &item.reference,
                    payer: &mandate.holder,
                    num_operacion: Some(item.reference.clone()),
                    payload: &payload,
                    cash_session_id: None,
                };
                let received_id = match cobro::apply(db, tenant, &received, now).await? {
                    cobro::Outcome::Applied { received_id, .. }
                    | cobro::Outcome::Unmatched { received_id } => Some(received_id),
                    // Applied before (a crash between the payment and this item).
                    cobro::Outcome::Duplicate => {
                        let mut tx = db.read(tenant).await?;
                        db::payments::received_by_key(&mut tx, &key)
                            .await?
                            .map(|p| p.id)
                    }
                };
                let mut tx = db.write(tenant).await?;
                if db::domiciliacion::settle_item(
                    &mut tx,
                    item.id,
                    "cobrado",
                    code,
                    "cobrado",
                    received_id,
                    None,
                    now,
                )
                .await?
                {
                    report.cobrados += 1;
                    report.cobrado_centavos += item.amount_centavos;
                } else {
                    report.repetidos += 1;
                }
                tx.commit().await?;
            }
            Next::RetryOn(day) => {
                let mut tx = db.write(tenant).await?;
                if db::domiciliacion::settle_item(
                    &mut tx,
                    item.id,
                    "reintento",
                    code,
                    &format!("fondos insuficientes; se reintentará desde el {day}"),
                    None,
                    Some(day),
                    now,
                )
                .await?
                {
                    report.reintentos += 1;
                } else {
                    report.repetidos += 1;
                }
                tx.commit().await?;
            }
            Next::Failed(why) => {
                let mut tx = db.write(tenant).await?;
                if db::domiciliacion::settle_item(
                    &mut tx,
                    item.id,
                    "rechazado",
                    code,
                    &why,
                    None,
                    None,
                    now,
                )
                .await?
                {
                    report.rechazados += 1;
                } else {
                    report.repetidos += 1;
                }
                tx.commit().await?;
            }
            Next::Deactivate(why) => {
                let mut tx = db.write(tenant).await?;
                if !db::domiciliacion::settle_item(
                    &mut tx,
                    item.id,
                    "rechazado",
                    code,
                    why,
                    None,
                    None,
                    now,
                )
                .await?
                {
                    report.repetidos += 1;
                    continue;
                }
                if db::domiciliacion::deactivate_mandate(&mut tx, mandate.id, why, now).await? {
                    notify_baja(&mut tx, &mandate, why, now).await?;
                }
                report.bajas += 1;
                tx.commit().await?;
            }
        }
    }
    let mut tx = db.write(tenant).await?;
    for b in &batches {
        db::domiciliacion::mark_batch_results(&mut tx, *b).await?;
    }
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "debit_results.applied",
            subject_kind: Some("debit_batch"),
            subject_id: batches.iter().next().copied(),
            data: serde_json::to_value(&report).unwrap_or_default(),
            ip: None,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// Tell the payer (in the caller's transaction) their mandate ended, and audit it.
async fn notify_baja(
    tx: &mut db::Scoped,
    m: &db::domiciliacion::MandateRow,
    why: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let contact = db::repo::contract_contact(tx, &m.contract_number).await?;
    let phone = contact
        .as_ref()
        .and_then(|c| c.phone.as_deref())
        .and_then(|p| p.parse::<domain::PhoneMx>().ok());
    let email = contact.as_ref().and_then(|c| c.email.clone());
    let (to, to_masked) = match (&phone, &email) {
        (Some(p), _) => (p.to_string(), p.masked()),
        (None, Some(e)) => (
            e.clone(),
            e.parse::<domain::Email>()
                .map(|e| e.masked())
                .unwrap_or_default(),
        ),
        (None, None) => (String::new(), String::new()),
    };
    let text = format!(
        "SUPRA Agua: el pago automático del contrato {} con la cuenta terminada en {} se dio de baja porque {why}. Para seguir pagando así registra otra cuenta en la oficina; también puedes pagar en OXXO, por SPEI o en línea.",
        m.contract_number,
        m.clabe.get(14..).unwrap_or(""),
    );
    db::repo::enqueue(
        tx,
        NOTIFY_BAJA,
        &format!("domiciliacion_baja:{}", m.id),
        &serde_json::json!({
            "to": to,
            "to_masked": to_masked,
            "contract": m.contract_number,
            "purpose": "domiciliacion_baja",
            "text": text,
        }),
        now,
    )
    .await?;
    record_event(
        tx,
        NewEvent {
            actor_kind: "system",
            actor_id: None,
            action: "debit_mandate.deactivated",
            subject_kind: Some("debit_mandate"),
            subject_id: Some(m.id),
            data: serde_json::json!({"motivo": why, "contrato": m.contract_number}),
            ip: None,
            now,
        },
    )
    .await?;
    Ok(())
}

/// Mask a CLABE for display: only its last 4 digits.
pub fn masked_clabe(clabe: &str) -> String {
    format!("•••• {}", clabe.get(14..).unwrap_or(""))
}

/// Year and month of a date as `AAAA-MM`.
pub fn month_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}
