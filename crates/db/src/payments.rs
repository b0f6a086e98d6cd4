//! Payments received from providers: each once (dedupe key), applied to a contract's
//! ledger or waiting, unmatched, for staff.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::{Result, Scoped, on};

/// A payment a provider reported.
#[derive(Debug, Clone)]
pub struct NewReceived<'a> {
    pub channel: &'a str,
    pub dedupe_key: &'a str,
    pub contract_id: Option<i64>,
    pub amount_centavos: i64,
    pub received_at: DateTime<Utc>,
    pub reference: &'a str,
    pub payer: &'a str,
    /// 'aplicado' or 'sin_asignar'.
    pub status: &'a str,
    pub reason: Option<&'a str>,
    pub ledger_entry_id: Option<i64>,
    /// The provider's message as received.
    pub payload: &'a str,
}

/// Store it unless its dedupe key is known. `None` = a duplicate (nothing written).
pub async fn insert_received(
    tx: &mut Scoped,
    r: &NewReceived<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO payments_received (tenant_id, channel, dedupe_key,
        contract_id, amount_centavos, received_at, reference, payer, status, reason,
        ledger_entry_id, payload, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT DO NOTHING RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(r.channel)
        .bind(r.dedupe_key)
        .bind(r.contract_id)
        .bind(r.amount_centavos)
        .bind(r.received_at)
        .bind(r.reference)
        .bind(r.payer)
        .bind(r.status)
        .bind(r.reason)
        .bind(r.ledger_entry_id)
        .bind(r.payload)
        .bind(now)
        .fetch_optional(c)
        .await?))
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReceivedRow {
    pub id: i64,
    pub channel: String,
    pub dedupe_key: String,
    pub contract_id: Option<i64>,
    pub amount_centavos: i64,
    pub received_at: DateTime<Utc>,
    pub reference: String,
    pub payer: String,
    pub status: String,
    pub reason: Option<String>,
}

const COLUMNS: &str = "id, channel, dedupe_key, contract_id, amount_centavos, received_at,
    reference, payer, status, reason";

pub async fn received_by_key(tx: &mut Scoped, key: &str) -> Result<Option<ReceivedRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {COLUMNS} FROM payments_received WHERE tenant_id = $1 AND dedupe_key = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(key)
        .fetch_optional(c)
        .await?))
}

/// Payments in `status`, newest first.
pub async fn received_with_status(
    tx: &mut Scoped,
    status: &str,
    limit: i64,
) -> Result<Vec<ReceivedRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {COLUMNS} FROM payments_received WHERE tenant_id = $1 AND status = $2
        ORDER BY id DESC LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(status)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// The utility's STP prefix, if configured.
pub async fn stp_prefix(tx: &mut Scoped) -> Result<Option<String>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT stp_prefix FROM payment_settings WHERE tenant_id = $1";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .fetch_optional(c)
        .await?))
}

pub async fn save_stp_prefix(tx: &mut Scoped, prefix: &str, now: DateTime<Utc>) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO payment_settings (tenant_id, stp_prefix, updated_at)
        VALUES ($1, $2, $3)
        ON CONFLICT (tenant_id) DO UPDATE SET stp_prefix = excluded.stp_prefix,
            updated_at = excluded.updated_at";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(prefix)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Serialise payments of one contract until the transaction ends: on PostgreSQL a row
/// lock on the contract (two payments would otherwise read the same balance and claim the
/// same NumParcialidad); SQLite already runs one writer at a time.
pub async fn lock_contract(tx: &mut Scoped, contract_id: i64) -> Result<()> {
    if tx.backend() == crate::Backend::Postgres {
        let t = tx.tenant().0;
        const SQL: &str = "SELECT id FROM contracts WHERE tenant_id = $1 AND id = $2 FOR UPDATE";
        on!(tx, |c| sqlx::query(SQL)
            .bind(t)
            .bind(contract_id)
            .fetch_optional(c)
            .await
            .map(|_| ())?);
    }
    Ok(())
}

pub async fn received_by_id(tx: &mut Scoped, id: i64) -> Result<Option<ReceivedRow>> {
    let t = tx.tenant().0;
    let sql = format!("SELECT {COLUMNS} FROM payments_received WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// An unmatched payment assigned by staff. False when it was no longer unmatched.
pub async fn mark_assigned(
    tx: &mut Scoped,
    id: i64,
    contract_id: i64,
    ledger_entry_id: i64,
    note: &str,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE payments_received SET status = 'aplicado', contract_id = $3,
        ledger_entry_id = $4, reason = $5
        WHERE tenant_id = $1 AND id = $2 AND status = 'sin_asignar'";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(contract_id)
        .bind(ledger_entry_id)
        .bind(note)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}
