//! Consumption anomalies and field work orders (issue #6): the SQL of detection (over
//! the daily and per-period aggregates, never a scan of raw readings), of the staff
//! queue and of the customer's alert.
//!
//! An anomaly is stored once per `dedupe_key` (`ON CONFLICT DO NOTHING`), so detection
//! can run as often as it likes. Status: `abierta` until staff act on it, then
//! `revisada`, `descartada` (with a reason) or `orden_creada` (a work order exists).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;

use crate::sql_list::{in_ids, in_strs, json};
use crate::{Backend, Result, Scoped, on};

/// Status of an anomaly nobody has acted on yet.
pub const OPEN: &str = "abierta";
/// Staff looked at it; nothing else to do.
pub const REVIEWED: &str = "revisada";
/// Staff found it was not a problem (with a reason).
pub const DISMISSED: &str = "descartada";
/// A work order was created for it.
pub const WORK_ORDER: &str = "orden_creada";
/// Status of a new work order.
pub const WORK_ORDER_PENDING: &str = "pendiente";

/// Rows per statement of [`insert_many`].
const INSERT_CHUNK: usize = 500;

/// An anomaly to store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewAnomaly {
    pub meter_id: i64,
    pub contract_id: i64,
    pub kind: String,
    pub dedupe_key: String,
    /// Plain Spanish, for the customer.
    pub detail: String,
    /// JSON text with the numbers behind it.
    pub data: String,
}

/// Store `a` unless its `dedupe_key` is already known. Returns whether it was new.
pub async fn insert(tx: &mut Scoped, a: &NewAnomaly, now: DateTime<Utc>) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO anomalies
        (tenant_id, meter_id, contract_id, kind, dedupe_key, detail, data, status, detected_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, 'abierta', $8)
        ON CONFLICT (tenant_id, dedupe_key) DO NOTHING";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(a.meter_id)
        .bind(a.contract_id)
        .bind(&a.kind)
        .bind(&a.dedupe_key)
        .bind(&a.detail)
        .bind(&a.data)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// Store many anomalies, each unless its `dedupe_key` is already known. Returns
/// `(kind, dedupe_key)` of those that were new.
pub async fn insert_many(
    tx: &mut Scoped,
    rows: &[NewAnomaly],
    now: DateTime<Utc>,
) -> Result<Vec<(String, String)>> {
    let t = tx.tenant().0;
    // SQLite needs a WHERE in an INSERT … SELECT … ON CONFLICT (parsing ambiguity).
    let sql = match tx.backend() {
        Backend::Sqlite => {
            "INSERT INTO anomalies (tenant_id, meter_id, contract_id, kind, dedupe_key,
                                    detail, data, status, detected_at)
             SELECT $1, value ->> 'meter_id', value ->> 'contract_id', value ->> 'kind',
                    value ->> 'dedupe_key', value ->> 'detail', value ->> 'data', 'abierta', $3
             FROM json_each($2) WHERE true
             ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
             RETURNING kind, dedupe_key"
        }
        Backend::Postgres => {
            "INSERT INTO anomalies (tenant_id, meter_id, contract_id, kind, dedupe_key,
                                    detail, data, status, detected_at)
             SELECT $1, (e ->> 'meter_id')::bigint, (e ->> 'contract_id')::bigint,
                    e ->> 'kind', e ->> 'dedupe_key', e ->> 'detail', e ->> 'data',
                    'abierta', $3
             FROM jsonb_array_elements($2::jsonb) e
             ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
             RETURNING kind, dedupe_key"
        }
    };
    let mut out = Vec::new();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let arg = json(chunk);
        let got: Vec<(String, String)> = on!(tx, |c| sqlx::query_as(sql)
            .bind(t)
            .bind(&arg)
            .bind(now)
            .fetch_all(c)
            .await?);
        out.extend(got);
    }
    Ok(out)
}

/// A stored anomaly.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AnomalyRow {
    pub id: i64,
    pub meter_id: i64,
    pub contract_id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub detail: String,
    pub data: String,
    pub status: String,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub detected_at: DateTime<Utc>,
}

const COLS: &str = "id, meter_id, contract_id, kind, dedupe_key, detail, data, status,
    resolution, resolved_by, resolved_at, detected_at";

/// One anomaly by id.
pub async fn get(tx: &mut Scoped, id: i64) -> Result<Option<AnomalyRow>> {
    let t = tx.tenant().0;
    let sql = format!("SELECT {COLS} FROM anomalies WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// An open anomaly in the staff queue, with the contract number and meter serial.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StaffRow {
    pub id: i64,
    pub meter_id: i64,
    pub meter_serial: String,
    pub contract_id: i64,
    pub contract_number: String,
    pub kind: String,
    pub detail: String,
    pub data: String,
    pub detected_at: DateTime<Utc>,
}

/// Open anomalies, newest first.
pub async fn open_for_staff(tx: &mut Scoped, limit: i64) -> Result<Vec<StaffRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT a.id, a.meter_id, m.serial AS meter_serial, a.contract_id,
               c.number AS contract_number, a.kind, a.detail, a.data, a.detected_at
        FROM anomalies a
        JOIN meters m ON m.tenant_id = a.tenant_id AND m.id = a.meter_id
        JOIN contracts c ON c.tenant_id = a.tenant_id AND c.id = a.contract_id
        WHERE a.tenant_id = $1 AND a.status = 'abierta'
        ORDER BY a.detected_at DESC, a.id DESC LIMIT $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// A contract's anomalies detected since `since` that are open or have a work order
/// (the customer's alert), newest first.
pub async fn of_contract(
    tx: &mut Scoped,
    contract_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<AnomalyRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {COLS} FROM anomalies
         WHERE tenant_id = $1 AND contract_id = $2 AND status IN ('abierta', 'orden_creada')
           AND detected_at >= $3
         ORDER BY detected_at DESC, id DESC"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(contract_id)
        .bind(since)
        .fetch_all(c)
        .await?))
}

/// Close an open anomaly with `status` (`revisada`, `descartada`, `orden_creada`).
/// Returns `false` (and changes nothing) when it is not open (or does not exist).
pub async fn close(
    tx: &mut Scoped,
    id: i64,
    status: &str,
    resolution: Option<&str>,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE anomalies
        SET status = $3, resolution = $4, resolved_by = $5, resolved_at = $6
        WHERE tenant_id = $1 AND id = $2 AND status = 'abierta'";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(status)
        .bind(resolution)
        .bind(by)
        .bind(at)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// A field work order to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWorkOrder<'a> {
    pub contract_id: i64,
    pub meter_id: Option<i64>,
    pub anomaly_id: Option<i64>,
    pub kind: &'a str,
    pub description: &'a str,
    pub created_by: &'a str,
}

/// Create a work order (status `pendiente`); returns its id.
pub async fn insert_work_order(
    tx: &mut Scoped,
    w: &NewWorkOrder<'_>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO work_orders
        (tenant_id, contract_id, meter_id, anomaly_id, kind, description, status,
         created_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, 'pendiente', $7, $8) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(w.contract_id)
        .bind(w.meter_id)
        .bind(w.anomaly_id)
        .bind(w.kind)
        .bind(w.description)
        .bind(w.created_by)
        .bind(now)
        .fetch_one(c)
        .await?))
}

/// A stored work order.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct WorkOrderRow {
    pub id: i64,
    pub contract_id: i64,
    pub meter_id: Option<i64>,
    pub anomaly_id: Option<i64>,
    pub kind: String,
    pub description: String,
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A contract's work orders, newest first.
pub async fn work_orders_of_contract(
    tx: &mut Scoped,
    contract_id: i64,
) -> Result<Vec<WorkOrderRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, contract_id, meter_id, anomaly_id, kind, description,
               status, created_by, created_at
        FROM work_orders WHERE tenant_id = $1 AND contract_id = $2
        ORDER BY created_at DESC, id DESC";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(contract_id)
        .fetch_all(c)
        .await?))
}

// --- Detection: bounded batches over the aggregates ------------------------------------

/// An active meter as detection needs it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ScanMeter {
    pub id: i64,
    pub contract_id: i64,
    pub smart: bool,
    /// `activo`, `suspendido`, `cortado`, `baja`, …
    pub contract_status: String,
}

/// The next `limit` active meters with id above `after`, by id (keyset paging).
pub async fn meters_page(tx: &mut Scoped, after: i64, limit: i64) -> Result<Vec<ScanMeter>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT m.id, m.contract_id, m.smart, c.status AS contract_status
        FROM meters m JOIN contracts c ON c.tenant_id = m.tenant_id AND c.id = m.contract_id
        WHERE m.tenant_id = $1 AND m.active = TRUE AND m.id > $2
        ORDER BY m.id LIMIT $3";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// One meter-night: the lowest flow seen 02:00–05:00 of `day` (l/h), if any.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct NightRow {
    pub meter_id: i64,
    pub day: NaiveDate,
    pub night_min_lph: Option<i64>,
}

/// The daily aggregates of `meter_ids` for `from..=to`, by meter and day.
pub async fn nights(
    tx: &mut Scoped,
    meter_ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<NightRow>> {
    if meter_ids.is_empty() {
        return Ok(Vec::new());
    }
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT meter_id, day, night_min_lph FROM reading_daily
         WHERE tenant_id = $1 AND {} AND day >= $3 AND day <= $4
         ORDER BY meter_id, day",
        in_ids(tx.backend(), "meter_id", 2)
    );
    let ids = json(meter_ids);
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(&ids)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await?))
}

/// One meter-period's consumption.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PeriodLitres {
    pub meter_id: i64,
    pub period: i32,
    pub litres: i64,
    pub readings: i64,
}

/// The per-period aggregates of `meter_ids` for periods `from..=to` (YYYYMM).
pub async fn period_litres(
    tx: &mut Scoped,
    meter_ids: &[i64],
    from: i32,
    to: i32,
) -> Result<Vec<PeriodLitres>> {
    if meter_ids.is_empty() {
        return Ok(Vec::new());
    }
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT meter_id, period, litres, readings FROM reading_periods
         WHERE tenant_id = $1 AND {} AND period >= $3 AND period <= $4
         ORDER BY meter_id, period",
        in_ids(tx.backend(), "meter_id", 2)
    );
    let ids = json(meter_ids);
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(&ids)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await?))
}

/// A reading that carried alarm flags.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AlarmReading {
    pub meter_id: i64,
    pub read_at: DateTime<Utc>,
    pub alarms: i32,
}

/// Readings of `meter_ids` at or after `since` with any of the `mask` alarm bits set,
/// by meter and time.
pub async fn alarm_readings(
    tx: &mut Scoped,
    meter_ids: &[i64],
    since: DateTime<Utc>,
    mask: i32,
) -> Result<Vec<AlarmReading>> {
    if meter_ids.is_empty() {
        return Ok(Vec::new());
    }
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT meter_id, read_at, alarms FROM readings
         WHERE tenant_id = $1 AND {} AND read_at >= $3 AND (alarms & $4) <> 0
         ORDER BY meter_id, read_at",
        in_ids(tx.backend(), "meter_id", 2)
    );
    let ids = json(meter_ids);
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(&ids)
        .bind(since)
        .bind(mask)
        .fetch_all(c)
        .await?))
}

/// `(meter_id, kind)` of the open anomalies on `contract_ids` whose kind is in `kinds`
/// (by contract: the index detection can use).
pub async fn open_kinds(
    tx: &mut Scoped,
    contract_ids: &[i64],
    kinds: &[&str],
) -> Result<Vec<(i64, String)>> {
    if contract_ids.is_empty() || kinds.is_empty() {
        return Ok(Vec::new());
    }
    let t = tx.tenant().0;
    let backend = tx.backend();
    let sql = format!(
        "SELECT DISTINCT meter_id, kind FROM anomalies
         WHERE tenant_id = $1 AND {} AND status = 'abierta' AND {}",
        in_ids(backend, "contract_id", 2),
        in_strs(backend, "kind", 3)
    );
    let ids = json(contract_ids);
    let kinds = json(kinds);
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(&ids)
        .bind(&kinds)
        .fetch_all(c)
        .await?))
}
