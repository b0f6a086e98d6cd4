//! Domiciliación (direct debit): mandates, the monthly batches handed to the bank and
//! one item per debit asked for (with the bank's result).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;

use crate::{Result, Scoped, on};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct MandateRow {
    pub id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    pub clabe: String,
    pub holder: String,
    pub max_centavos: i64,
    pub signed_on: NaiveDate,
    /// 'activo' | 'baja'.
    pub status: String,
    pub baja_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

const MANDATE_COLUMNS: &str = "m.id, m.contract_id, c.number AS contract_number, m.clabe,
    m.holder, m.max_centavos, m.signed_on, m.status, m.baja_reason, m.created_at";
const MANDATE_FROM: &str = "FROM debit_mandates m
    JOIN contracts c ON c.tenant_id = m.tenant_id AND c.id = m.contract_id";

#[derive(Debug, Clone)]
pub struct NewMandate<'a> {
    pub contract_id: i64,
    pub clabe: &'a str,
    pub holder: &'a str,
    pub max_centavos: i64,
    pub signed_on: NaiveDate,
    pub created_by: Option<i64>,
}

/// Store an active mandate. `None` when the contract already has an active one.
pub async fn insert_mandate(
    tx: &mut Scoped,
    m: &NewMandate<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO debit_mandates (tenant_id, contract_id, clabe, holder,
        max_centavos, signed_on, status, created_by, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, 'activo', $7, $8, $8)
        ON CONFLICT DO NOTHING RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(m.contract_id)
        .bind(m.clabe)
        .bind(m.holder)
        .bind(m.max_centavos)
        .bind(m.signed_on)
        .bind(m.created_by)
        .bind(now)
        .fetch_optional(c)
        .await?))
}

pub async fn mandate(tx: &mut Scoped, id: i64) -> Result<Option<MandateRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {MANDATE_COLUMNS} {MANDATE_FROM} WHERE m.tenant_id = $1 AND m.id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// Every mandate, active first, newest first.
pub async fn mandates(tx: &mut Scoped, limit: i64) -> Result<Vec<MandateRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {MANDATE_COLUMNS} {MANDATE_FROM} WHERE m.tenant_id = $1
        ORDER BY CASE WHEN m.status = 'activo' THEN 0 ELSE 1 END, m.id DESC LIMIT $2"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Active mandates, oldest first (the batch's order).
pub async fn active_mandates(tx: &mut Scoped) -> Result<Vec<MandateRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {MANDATE_COLUMNS} {MANDATE_FROM} WHERE m.tenant_id = $1 AND m.status = 'activo'
        ORDER BY m.id"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .fetch_all(c)
        .await?))
}

/// Deactivate a mandate. False when it was not active.
pub async fn deactivate_mandate(
    tx: &mut Scoped,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE debit_mandates SET status = 'baja', baja_reason = $3, updated_at = $4
        WHERE tenant_id = $1 AND id = $2 AND status = 'activo'";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(reason)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct BatchRow {
    pub id: i64,
    pub month: String,
    pub seq: i64,
    pub created_at: DateTime<Utc>,
    pub charge_date: NaiveDate,
    pub layout: String,
    pub file_name: String,
    pub item_count: i64,
    pub total_centavos: i64,
    /// 'generado' | 'resultados'.
    pub status: String,
}

const BATCH_COLUMNS: &str = "id, month, seq, created_at, charge_date, layout, file_name,
    item_count, total_centavos, status";

#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub month: &'a str,
    pub seq: i64,
    pub charge_date: NaiveDate,
    pub layout: &'a str,
    pub created_by: Option<i64>,
}

/// A batch row without its file yet (see [`finish_batch`]).
pub async fn insert_batch(tx: &mut Scoped, b: &NewBatch<'_>, now: DateTime<Utc>) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO debit_batches (tenant_id, month, seq, created_at, charge_date,
        layout, file_name, file_text, item_count, total_centavos, status, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, '', '', 0, 0, 'generado', $7) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(b.month)
        .bind(b.seq)
        .bind(now)
        .bind(b.charge_date)
        .bind(b.layout)
        .bind(b.created_by)
        .fetch_one(c)
        .await?))
}

/// The batch's file and totals, written once its items are in.
pub async fn finish_batch(
    tx: &mut Scoped,
    id: i64,
    file_name: &str,
    file_text: &str,
    item_count: i64,
    total_centavos: i64,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE debit_batches SET file_name = $3, file_text = $4, item_count = $5,
        total_centavos = $6 WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(file_name)
        .bind(file_text)
        .bind(item_count)
        .bind(total_centavos)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn mark_batch_results(tx: &mut Scoped, id: i64) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str =
        "UPDATE debit_batches SET status = 'resultados' WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn batch(tx: &mut Scoped, id: i64) -> Result<Option<BatchRow>> {
    let t = tx.tenant().0;
    let sql = format!("SELECT {BATCH_COLUMNS} FROM debit_batches WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// The file exactly as generated.
pub async fn batch_file(tx: &mut Scoped, id: i64) -> Result<Option<(String, String)>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT file_name, file_text FROM debit_batches WHERE tenant_id = $1 AND id = $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// The month's batches, first one first.
pub async fn batches_of_month(tx: &mut Scoped, month: &str) -> Result<Vec<BatchRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {BATCH_COLUMNS} FROM debit_batches WHERE tenant_id = $1 AND month = $2 ORDER BY seq"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(month)
        .fetch_all(c)
        .await?))
}

/// Newest first.
pub async fn batches(tx: &mut Scoped, limit: i64) -> Result<Vec<BatchRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {BATCH_COLUMNS} FROM debit_batches WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ItemRow {
    pub id: i64,
    pub batch_id: i64,
    pub mandate_id: i64,
    pub contract_id: i64,
    pub amount_centavos: i64,
    pub attempt: i64,
    pub retry_of: Option<i64>,
    pub reference: String,
    /// 'pendiente' | 'cobrado' | 'rechazado' | 'reintento' | 'omitido'.
    pub status: String,
    pub result_code: Option<String>,
    pub result_message: Option<String>,
    pub received_id: Option<i64>,
    pub retry_on: Option<NaiveDate>,
}

const ITEM_COLUMNS: &str = "id, batch_id, mandate_id, contract_id, amount_centavos, attempt,
    retry_of, reference, status, result_code, result_message, received_id, retry_on";

#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub batch_id: i64,
    pub mandate_id: i64,
    pub contract_id: i64,
    pub amount_centavos: i64,
    pub attempt: i64,
    pub retry_of: Option<i64>,
    pub reference: &'a str,
}

pub async fn insert_item(tx: &mut Scoped, i: &NewItem<'_>, now: DateTime<Utc>) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO debit_items (tenant_id, batch_id, mandate_id, contract_id,
        amount_centavos, attempt, retry_of, reference, status, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pendiente', $9) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(i.batch_id)
        .bind(i.mandate_id)
        .bind(i.contract_id)
        .bind(i.amount_centavos)
        .bind(i.attempt)
        .bind(i.retry_of)
        .bind(i.reference)
        .bind(now)
        .fetch_one(c)
        .await?))
}

pub async fn item_by_reference(tx: &mut Scoped, reference: &str) -> Result<Option<ItemRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {ITEM_COLUMNS} FROM debit_items WHERE tenant_id = $1 AND reference = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(reference)
        .fetch_optional(c)
        .await?))
}

pub async fn items_of_batch(tx: &mut Scoped, batch_id: i64) -> Result<Vec<ItemRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM debit_items WHERE tenant_id = $1 AND batch_id = $2 ORDER BY id"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(batch_id)
        .fetch_all(c)
        .await?))
}

/// A mandate's most recent item, if any.
pub async fn last_item_of_mandate(tx: &mut Scoped, mandate_id: i64) -> Result<Option<ItemRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM debit_items WHERE tenant_id = $1 AND mandate_id = $2
        ORDER BY id DESC LIMIT 1"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(mandate_id)
        .fetch_optional(c)
        .await?))
}

/// Whether the mandate already has an item in one of the month's batches.
pub async fn mandate_in_month(tx: &mut Scoped, mandate_id: i64, month: &str) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT COUNT(*) FROM debit_items i
        JOIN debit_batches b ON b.tenant_id = i.tenant_id AND b.id = i.batch_id
        WHERE i.tenant_id = $1 AND i.mandate_id = $2 AND b.month = $3";
    let n: i64 = on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(mandate_id)
        .bind(month)
        .fetch_one(c)
        .await?);
    Ok(n > 0)
}

/// The bank's result for a pending item. False when it was no longer pending (a
/// results file read twice changes nothing).
#[allow(clippy::too_many_arguments)]
pub async fn settle_item(
    tx: &mut Scoped,
    id: i64,
    status: &str,
    result_code: &str,
    result_message: &str,
    received_id: Option<i64>,
    retry_on: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE debit_items SET status = $3, result_code = $4, result_message = $5,
        received_id = $6, retry_on = $7, updated_at = $8
        WHERE tenant_id = $1 AND id = $2 AND status = 'pendiente'";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(status)
        .bind(result_code)
        .bind(result_message)
        .bind(received_id)
        .bind(retry_on)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// A retry that will not be made (nothing owed any more, or the mandate ended).
pub async fn drop_retry(tx: &mut Scoped, id: i64, why: &str, now: DateTime<Utc>) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str =
        "UPDATE debit_items SET status = 'omitido', result_message = $3, updated_at = $4
        WHERE tenant_id = $1 AND id = $2 AND status = 'reintento'";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(why)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}
