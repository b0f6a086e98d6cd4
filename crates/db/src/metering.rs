//! Meter ingest storage (issue #6): the device registry, quarantine, readings in bulk,
//! the daily and per-period aggregates, integration secrets and route-file batches.
//! Timestamps are stored to the second.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;

use crate::bulk::{self, Row};
use crate::sql_list::{in_ids, in_strs, json};
use crate::{Backend, Result, Scoped, on};

/// Reading qualities that measured the register (a chain of these gives consumption).
pub const MEASURED: &[&str] = &["valida", "vuelta", "reverso", "salto"];

/// What validation needs to know about a meter.
#[derive(Debug, Clone, FromRow)]
pub struct MeterRegister {
    pub id: i64,
    pub serial: String,
    pub digits: i32,
    pub diameter_mm: i32,
    pub active: bool,
}

const REGISTER_COLS: &str = "id, serial, digits, diameter_mm, active";

/// The meters with these ids (unknown ids are absent).
pub async fn registers_by_id(tx: &mut Scoped, ids: &[i64]) -> Result<Vec<MeterRegister>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {REGISTER_COLS} FROM meters WHERE tenant_id = $1 AND {}",
        in_ids(tx.backend(), "id", 2)
    );
    let arg = json(ids);
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(&arg)
        .fetch_all(c)
        .await?))
}

/// The meters with these serials (exact, already normalised).
pub async fn registers_by_serial(
    tx: &mut Scoped,
    serials: &[String],
) -> Result<Vec<MeterRegister>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {REGISTER_COLS} FROM meters WHERE tenant_id = $1 AND {}",
        in_strs(tx.backend(), "serial", 2)
    );
    let arg = json(serials);
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(&arg)
        .fetch_all(c)
        .await?))
}

/// devEui → meter id for the registered devices among `euis`.
pub async fn devices_by_eui(tx: &mut Scoped, euis: &[String]) -> Result<Vec<(String, i64)>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT dev_eui, meter_id FROM devices WHERE tenant_id = $1 AND {}",
        in_strs(tx.backend(), "dev_eui", 2)
    );
    let arg = json(euis);
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(&arg)
        .fetch_all(c)
        .await?))
}

/// Register (or move) a device to a meter.
pub async fn upsert_device(
    tx: &mut Scoped,
    dev_eui: &str,
    meter_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO devices (tenant_id, dev_eui, meter_id, created_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (tenant_id, dev_eui) DO UPDATE SET meter_id = excluded.meter_id";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(dev_eui)
        .bind(meter_id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Note that devices were heard from (latest time and frame counter).
pub async fn touch_devices(
    tx: &mut Scoped,
    seen: &[(String, DateTime<Utc>, Option<i64>)],
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE devices SET last_seen_at = $3, last_fcnt = COALESCE($4, last_fcnt)
        WHERE tenant_id = $1 AND dev_eui = $2
          AND (last_seen_at IS NULL OR last_seen_at < $3)";
    for (eui, at, fcnt) in seen {
        on!(tx, |c| sqlx::query(SQL)
            .bind(t)
            .bind(eui)
            .bind(*at)
            .bind(*fcnt)
            .execute(c)
            .await
            .map(|_| ())?);
    }
    Ok(())
}

/// A stored reading as the ingest chain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub meter_id: i64,
    pub at: DateTime<Utc>,
    pub litres: i64,
    pub quality: String,
}

/// Which stored readings a batch touches: for each `(meter, lo, hi)`, the latest measured
/// reading before `lo`, every reading in `[lo, hi]`, and the first measured one after
/// `hi`. In-order traffic gets just the previous reading.
pub async fn neighbourhood(
    tx: &mut Scoped,
    spans: &[(i64, DateTime<Utc>, DateTime<Utc>)],
) -> Result<Vec<Stored>> {
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let t = tx.tenant().0;
    let measured = MEASURED
        .iter()
        .map(|q| format!("'{q}'"))
        .collect::<Vec<_>>()
        .join(",");
    let fmt = |d: &DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    let json = serde_json::Value::Array(
        spans
            .iter()
            .map(|(m, lo, hi)| serde_json::json!([m, fmt(lo), fmt(hi)]))
            .collect(),
    )
    .to_string();
    let rows: Vec<(i64, DateTime<Utc>, i64, String)> = match tx.backend() {
        Backend::Sqlite => {
            // CROSS JOIN: SQLite keeps the batch as the outer loop (index lookups per
            // span); a plain JOIN let it scan `readings` and re-read the JSON per row.
            let sql = format!(
                "WITH b(meter, lo, hi) AS (SELECT value ->> 0, value ->> 1, value ->> 2
                                          FROM json_each($2))
                 SELECT r.meter_id, r.read_at, r.value_litres, r.quality
                 FROM b CROSS JOIN readings r ON r.rowid = (
                     SELECT rowid FROM readings WHERE tenant_id = $1 AND meter_id = b.meter
                       AND read_at < b.lo AND quality IN ({measured})
                     ORDER BY read_at DESC LIMIT 1)
                 UNION ALL
                 SELECT r.meter_id, r.read_at, r.value_litres, r.quality
                 FROM b CROSS JOIN readings r ON r.tenant_id = $1 AND r.meter_id = b.meter
                       AND r.read_at >= b.lo AND r.read_at <= b.hi
                 UNION ALL
                 SELECT r.meter_id, r.read_at, r.value_litres, r.quality
                 FROM b CROSS JOIN readings r ON r.rowid = (
                     SELECT rowid FROM readings WHERE tenant_id = $1 AND meter_id = b.meter
                       AND read_at > b.hi AND quality IN ({measured})
                     ORDER BY read_at ASC LIMIT 1)"
            );
            on!(tx, |c| sqlx::query_as(&sql)
                .bind(t)
                .bind(&json)
                .fetch_all(c)
                .await?)
        }
        Backend::Postgres => {
            let sql = format!(
                "WITH b AS (SELECT (e ->> 0)::bigint AS meter, (e ->> 1)::timestamptz AS lo,
                                   (e ->> 2)::timestamptz AS hi
                            FROM jsonb_array_elements($2::jsonb) e)
                 SELECT p.meter_id, p.read_at, p.value_litres, p.quality FROM b
                 CROSS JOIN LATERAL (
                     SELECT meter_id, read_at, value_litres, quality FROM readings
                     WHERE tenant_id = $1 AND meter_id = b.meter AND read_at < b.lo
                       AND quality IN ({measured})
                     ORDER BY read_at DESC LIMIT 1) p
                 UNION ALL
                 SELECT r.meter_id, r.read_at, r.value_litres, r.quality
                 FROM b JOIN readings r ON r.tenant_id = $1 AND r.meter_id = b.meter
                       AND r.read_at >= b.lo AND r.read_at <= b.hi
                 UNION ALL
                 SELECT n.meter_id, n.read_at, n.value_litres, n.quality FROM b
                 CROSS JOIN LATERAL (
                     SELECT meter_id, read_at, value_litres, quality FROM readings
                     WHERE tenant_id = $1 AND meter_id = b.meter AND read_at > b.hi
                       AND quality IN ({measured})
                     ORDER BY read_at ASC LIMIT 1) n"
            );
            on!(tx, |c| sqlx::query_as(&sql)
                .bind(t)
                .bind(&json)
                .fetch_all(c)
                .await?)
        }
    };
    Ok(rows
        .into_iter()
        .map(|(meter_id, at, litres, quality)| Stored {
            meter_id,
            at,
            litres,
            quality,
        })
        .collect())
}

/// Every stored reading of these meters, by meter then time (for rebuilding their
/// aggregates).
pub async fn readings_of_meters(tx: &mut Scoped, ids: &[i64]) -> Result<Vec<Stored>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT meter_id, read_at, value_litres, quality FROM readings
         WHERE tenant_id = $1 AND {} ORDER BY meter_id, read_at",
        in_ids(tx.backend(), "meter_id", 2)
    );
    let rows: Vec<(i64, DateTime<Utc>, i64, String)> = on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(json(ids))
        .fetch_all(c)
        .await?);
    Ok(rows
        .into_iter()
        .map(|(meter_id, at, litres, quality)| Stored {
            meter_id,
            at,
            litres,
            quality,
        })
        .collect())
}

/// Forget the daily and per-period aggregates of these meters.
pub async fn clear_aggregates(tx: &mut Scoped, ids: &[i64]) -> Result<()> {
    let t = tx.tenant().0;
    let ids_cond = in_ids(tx.backend(), "meter_id", 2);
    let arg = json(ids);
    for table in ["reading_daily", "reading_periods"] {
        let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND {ids_cond}");
        on!(tx, |c| {
            sqlx::query(&sql).bind(t).bind(&arg).execute(c).await?;
        });
    }
    Ok(())
}

/// The ids of a tenant's meters, in id order, after `after` (paging).
pub async fn meter_ids(tx: &mut Scoped, after: i64, limit: i64) -> Result<Vec<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id FROM meters WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// A reading to store.
#[derive(Debug, Clone)]
pub struct NewReading<'a> {
    pub meter_id: i64,
    pub period: i32,
    pub at: DateTime<Utc>,
    pub litres: i64,
    pub source: &'a str,
    pub quality: &'a str,
    pub alarms: i32,
}

/// Insert readings; a meter's second reading at the same second is ignored. Returns
/// `(meter_id, unix seconds)` of the rows actually inserted.
pub async fn insert_readings(
    tx: &mut Scoped,
    rows: &[NewReading<'_>],
    now: DateTime<Utc>,
) -> Result<Vec<(i64, i64)>> {
    let suffix = match tx.backend() {
        Backend::Sqlite => {
            "ON CONFLICT (tenant_id, meter_id, read_at) DO NOTHING
             RETURNING meter_id, unixepoch(read_at)"
        }
        Backend::Postgres => {
            "ON CONFLICT (tenant_id, meter_id, read_at) DO NOTHING
             RETURNING meter_id, extract(epoch FROM read_at)::bigint"
        }
    };
    let t = tx.tenant().0;
    bulk::batch_returning(
        tx,
        "readings",
        &[
            "tenant_id",
            "meter_id",
            "period",
            "read_at",
            "value_litres",
            "source",
            "quality",
            "alarms",
            "created_at",
        ],
        suffix,
        rows,
        |r: &mut Row<'_>, _, x| {
            r.push_i64(t)
                .push_i64(x.meter_id)
                .push_i32(x.period)
                .push_ts(x.at)
                .push_i64(x.litres)
                .push_str(x.source)
                .push_str(x.quality)
                .push_i32(x.alarms)
                .push_ts(now);
        },
    )
    .await
}

/// A change to one meter-day's aggregate.
#[derive(Debug, Clone)]
pub struct DailyDelta {
    pub meter_id: i64,
    pub day: NaiveDate,
    pub litres: i64,
    pub readings: i64,
    pub night_min_lph: Option<i64>,
}

/// Add deltas to the daily aggregates (night minimum: the lower of the two).
pub async fn add_daily(tx: &mut Scoped, deltas: &[DailyDelta]) -> Result<()> {
    let t = tx.tenant().0;
    let min = match tx.backend() {
        Backend::Sqlite => "min",
        Backend::Postgres => "least",
    };
    let suffix = format!(
        "ON CONFLICT (tenant_id, meter_id, day) DO UPDATE SET
           litres = reading_daily.litres + excluded.litres,
           readings = reading_daily.readings + excluded.readings,
           night_min_lph = CASE
             WHEN reading_daily.night_min_lph IS NULL THEN excluded.night_min_lph
             WHEN excluded.night_min_lph IS NULL THEN reading_daily.night_min_lph
             ELSE {min}(reading_daily.night_min_lph, excluded.night_min_lph) END"
    );
    bulk::batch_returning(
        tx,
        "reading_daily",
        &[
            "tenant_id",
            "meter_id",
            "day",
            "litres",
            "readings",
            "night_min_lph",
        ],
        &suffix,
        deltas,
        |r: &mut Row<'_>, _, d| {
            r.push_i64(t)
                .push_i64(d.meter_id)
                .push_date(d.day)
                .push_i64(d.litres)
                .push_i64(d.readings)
                .push_opt_i64(d.night_min_lph);
        },
    )
    .await?;
    Ok(())
}

/// A change to one meter-period's aggregate, with the latest billable reading seen.
#[derive(Debug, Clone)]
pub struct PeriodDelta {
    pub meter_id: i64,
    pub period: i32,
    pub litres: i64,
    pub readings: i64,
    pub last_at: DateTime<Utc>,
    pub last_litres: i64,
}

pub async fn add_periods(tx: &mut Scoped, deltas: &[PeriodDelta]) -> Result<()> {
    let t = tx.tenant().0;
    const SUFFIX: &str = "ON CONFLICT (tenant_id, meter_id, period) DO UPDATE SET
           litres = reading_periods.litres + excluded.litres,
           readings = reading_periods.readings + excluded.readings,
           last_litres = CASE WHEN excluded.last_read_at >= reading_periods.last_read_at
                              THEN excluded.last_litres ELSE reading_periods.last_litres END,
           last_read_at = CASE WHEN excluded.last_read_at >= reading_periods.last_read_at
                               THEN excluded.last_read_at ELSE reading_periods.last_read_at END";
    bulk::batch_returning(
        tx,
        "reading_periods",
        &[
            "tenant_id",
            "meter_id",
            "period",
            "litres",
            "readings",
            "last_read_at",
            "last_litres",
        ],
        SUFFIX,
        deltas,
        |r: &mut Row<'_>, _, d| {
            r.push_i64(t)
                .push_i64(d.meter_id)
                .push_i32(d.period)
                .push_i64(d.litres)
                .push_i64(d.readings)
                .push_ts(d.last_at)
                .push_i64(d.last_litres);
        },
    )
    .await?;
    Ok(())
}

/// Keep an uplink or row that names no known meter (once per `dedupe_key`).
/// Returns whether it was new.
#[allow(clippy::too_many_arguments)]
pub async fn quarantine(
    tx: &mut Scoped,
    source: &str,
    dedupe_key: &str,
    device: &str,
    reason: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO ingest_quarantine
        (tenant_id, source, dedupe_key, device, reason, payload, received_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (tenant_id, source, dedupe_key) DO NOTHING";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(source)
        .bind(dedupe_key)
        .bind(device)
        .bind(reason)
        .bind(payload)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, FromRow)]
pub struct QuarantineRow {
    pub id: i64,
    pub source: String,
    pub device: String,
    pub reason: String,
    pub payload: String,
    pub received_at: DateTime<Utc>,
}

/// Open quarantine entries, newest first.
pub async fn open_quarantine(tx: &mut Scoped, limit: i64) -> Result<Vec<QuarantineRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, source, device, reason, payload, received_at
        FROM ingest_quarantine WHERE tenant_id = $1 AND resolved_at IS NULL
        ORDER BY received_at DESC, id DESC LIMIT $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// The integration whose secret hashes to `sha256_hex`, if any; marks it used.
pub async fn integration_by_secret(
    tx: &mut Scoped,
    kind: &str,
    sha256_hex: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE ingest_integrations SET last_used_at = $4
        WHERE tenant_id = $1 AND kind = $2 AND secret_sha256 = $3 RETURNING name";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(kind)
        .bind(sha256_hex)
        .bind(now)
        .fetch_optional(c)
        .await?))
}

/// Create or re-key an integration.
pub async fn upsert_integration(
    tx: &mut Scoped,
    name: &str,
    kind: &str,
    sha256_hex: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO ingest_integrations
        (tenant_id, name, kind, secret_sha256, created_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (tenant_id, name) DO UPDATE SET kind = excluded.kind,
            secret_sha256 = excluded.secret_sha256";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(name)
        .bind(kind)
        .bind(sha256_hex)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// A day of one meter's consumption.
#[derive(Debug, Clone, FromRow)]
pub struct DailyRow {
    pub day: NaiveDate,
    pub litres: i64,
    pub readings: i64,
    pub night_min_lph: Option<i64>,
}

pub async fn daily(
    tx: &mut Scoped,
    meter_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DailyRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT day, litres, readings, night_min_lph FROM reading_daily
        WHERE tenant_id = $1 AND meter_id = $2 AND day >= $3 AND day <= $4 ORDER BY day";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(meter_id)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await?))
}

/// A billing period of one meter's consumption.
#[derive(Debug, Clone, FromRow)]
pub struct PeriodRow {
    pub period: i32,
    pub litres: i64,
    pub readings: i64,
    pub last_read_at: DateTime<Utc>,
    pub last_litres: i64,
}

pub async fn periods(tx: &mut Scoped, meter_id: i64, from: i32, to: i32) -> Result<Vec<PeriodRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT period, litres, readings, last_read_at, last_litres
        FROM reading_periods WHERE tenant_id = $1 AND meter_id = $2
          AND period >= $3 AND period <= $4 ORDER BY period";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(meter_id)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await?))
}

/// A stored reading for the staff meter page.
#[derive(Debug, Clone, FromRow)]
pub struct ReadingLine {
    pub read_at: DateTime<Utc>,
    pub value_litres: i64,
    pub source: String,
    pub quality: String,
    pub alarms: i32,
}

pub async fn readings_of(tx: &mut Scoped, meter_id: i64, limit: i64) -> Result<Vec<ReadingLine>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT read_at, value_litres, source, quality, alarms FROM readings
        WHERE tenant_id = $1 AND meter_id = $2 ORDER BY read_at DESC LIMIT $3";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(meter_id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// The tenant's active smart meters, `(id, serial)`, by id.
pub async fn smart_meters(tx: &mut Scoped) -> Result<Vec<(i64, String)>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, serial FROM meters
        WHERE tenant_id = $1 AND smart = TRUE AND active = TRUE ORDER BY id";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .fetch_all(c)
        .await?))
}

/// A route file's processing record.
#[derive(Debug, Clone, FromRow)]
pub struct BatchRow {
    pub id: i64,
    pub source: String,
    pub filename: String,
    pub uploaded_by: String,
    pub status: String,
    pub rows_total: i64,
    pub accepted: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const BATCH_COLS: &str = "id, source, filename, uploaded_by, status, rows_total, accepted,
    duplicates, rejected, error, started_at, finished_at";

pub async fn insert_batch(
    tx: &mut Scoped,
    source: &str,
    filename: &str,
    uploaded_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO ingest_batches
        (tenant_id, source, filename, uploaded_by, status, started_at)
        VALUES ($1, $2, $3, $4, 'procesando', $5) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(source)
        .bind(filename)
        .bind(uploaded_by)
        .bind(now)
        .fetch_one(c)
        .await?))
}

/// Add a chunk's counts to a batch.
pub async fn batch_progress(
    tx: &mut Scoped,
    id: i64,
    rows: i64,
    accepted: i64,
    duplicates: i64,
    rejected: i64,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE ingest_batches SET rows_total = rows_total + $3,
        accepted = accepted + $4, duplicates = duplicates + $5, rejected = rejected + $6
        WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(rows)
        .bind(accepted)
        .bind(duplicates)
        .bind(rejected)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Close a batch: `terminado` with its report, or `fallido` with the error.
pub async fn finish_batch(
    tx: &mut Scoped,
    id: i64,
    status: &str,
    report: Option<&str>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE ingest_batches SET status = $3, report = $4, error = $5,
        finished_at = $6 WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(status)
        .bind(report)
        .bind(error)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Batches left `procesando` by a stopped server become `interrumpido` (re-uploading
/// the file is safe: rows already stored come back as duplicates).
pub async fn interrupt_batches(tx: &mut Scoped, now: DateTime<Utc>) -> Result<u64> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE ingest_batches SET status = 'interrumpido', finished_at = $2,
        error = 'el servidor se detuvo; vuelva a subir el archivo (lo ya guardado no se repite)'
        WHERE tenant_id = $1 AND status = 'procesando'";
    Ok(on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected()))
}

pub async fn batches(tx: &mut Scoped, limit: i64) -> Result<Vec<BatchRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {BATCH_COLS} FROM ingest_batches WHERE tenant_id = $1
         ORDER BY started_at DESC, id DESC LIMIT $2"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

pub async fn batch(tx: &mut Scoped, id: i64) -> Result<Option<(BatchRow, Option<String>)>> {
    let t = tx.tenant().0;
    let sql = format!("SELECT {BATCH_COLS} FROM ingest_batches WHERE tenant_id = $1 AND id = $2");
    let Some(row): Option<BatchRow> = on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?)
    else {
        return Ok(None);
    };
    const REPORT: &str = "SELECT report FROM ingest_batches WHERE tenant_id = $1 AND id = $2";
    let report: Option<String> = on!(tx, |c| sqlx::query_scalar(REPORT)
        .bind(t)
        .bind(id)
        .fetch_one(c)
        .await?);
    Ok(Some((row, report)))
}

/// Add `n` readings from `source` to the current minute's rate.
pub async fn add_rate(tx: &mut Scoped, source: &str, n: i64, now: DateTime<Utc>) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let t = tx.tenant().0;
    let minute = DateTime::from_timestamp(now.timestamp() / 60 * 60, 0).unwrap_or(now);
    const SQL: &str = "INSERT INTO ingest_rates (tenant_id, minute, source, readings)
        VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, minute, source)
        DO UPDATE SET readings = ingest_rates.readings + excluded.readings";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(minute)
        .bind(source)
        .bind(n)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Readings stored per source since `since`.
pub async fn rates_since(tx: &mut Scoped, since: DateTime<Utc>) -> Result<Vec<(String, i64)>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT source, CAST(SUM(readings) AS BIGINT) FROM ingest_rates
        WHERE tenant_id = $1 AND minute >= $2 GROUP BY source ORDER BY source";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(since)
        .fetch_all(c)
        .await?))
}

/// Registered devices not heard from since `since` (or never), `(devEui, serial,
/// last seen)`, plus how many there are in all.
pub async fn silent_devices(
    tx: &mut Scoped,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<(i64, Vec<(String, String, Option<DateTime<Utc>>)>)> {
    let t = tx.tenant().0;
    const COUNT: &str = "SELECT COUNT(*) FROM devices
        WHERE tenant_id = $1 AND (last_seen_at IS NULL OR last_seen_at < $2)";
    const SQL: &str = "SELECT d.dev_eui, m.serial, d.last_seen_at FROM devices d
        JOIN meters m ON m.tenant_id = d.tenant_id AND m.id = d.meter_id
        WHERE d.tenant_id = $1 AND (d.last_seen_at IS NULL OR d.last_seen_at < $2)
        ORDER BY d.last_seen_at IS NOT NULL, d.last_seen_at, d.dev_eui LIMIT $3";
    let n: i64 = on!(tx, |c| sqlx::query_scalar(COUNT)
        .bind(t)
        .bind(since)
        .fetch_one(c)
        .await?);
    let rows = on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(since)
        .bind(limit)
        .fetch_all(c)
        .await?);
    Ok((n, rows))
}

/// A customer's reading as stored under its idempotency key.
#[derive(Debug, Clone, FromRow)]
pub struct SelfReadRow {
    pub id: i64,
    pub contract_id: i64,
    pub meter_id: i64,
    pub read_at: DateTime<Utc>,
    pub litres: i64,
    pub outcome: String,
    pub message: Option<String>,
    pub photo_type: Option<String>,
}

pub async fn self_read_by_key(tx: &mut Scoped, key: &str) -> Result<Option<SelfReadRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, contract_id, meter_id, read_at, litres, outcome, message,
        photo_type FROM self_reads WHERE tenant_id = $1 AND idem_key = $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(key)
        .fetch_optional(c)
        .await?))
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_self_read(
    tx: &mut Scoped,
    key: &str,
    contract_id: i64,
    meter_id: i64,
    read_at: DateTime<Utc>,
    litres: i64,
    outcome: &str,
    message: Option<&str>,
    photo: Option<(&[u8], &str)>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO self_reads (tenant_id, idem_key, contract_id, meter_id,
        read_at, litres, outcome, message, photo, photo_type, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(key)
        .bind(contract_id)
        .bind(meter_id)
        .bind(read_at)
        .bind(litres)
        .bind(outcome)
        .bind(message)
        .bind(photo.map(|p| p.0))
        .bind(photo.map(|p| p.1))
        .bind(now)
        .fetch_one(c)
        .await?))
}

/// A self-read's photo `(bytes, content type)`.
/// A meter's latest self-reads (accepted or not), newest first, for the staff meter page.
pub async fn self_reads_of_meter(
    tx: &mut Scoped,
    meter_id: i64,
    limit: i64,
) -> Result<Vec<SelfReadRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, contract_id, meter_id, read_at, litres, outcome, message,
        photo_type FROM self_reads WHERE tenant_id = $1 AND meter_id = $2
        ORDER BY read_at DESC, id DESC LIMIT $3";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(meter_id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

pub async fn self_read_photo(tx: &mut Scoped, id: i64) -> Result<Option<(Vec<u8>, String)>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT photo, photo_type FROM self_reads
        WHERE tenant_id = $1 AND id = $2 AND photo IS NOT NULL";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// A meter with its contract and LoRaWAN device, for the staff meter page.
#[derive(Debug, Clone, FromRow)]
pub struct MeterDetail {
    pub id: i64,
    pub serial: String,
    pub make: String,
    pub model: String,
    pub digits: i32,
    pub diameter_mm: i32,
    pub smart: bool,
    pub active: bool,
    pub contract_id: i64,
    pub contract_number: String,
    pub dev_eui: Option<String>,
}

pub async fn meter_detail(tx: &mut Scoped, id: i64) -> Result<Option<MeterDetail>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT m.id, m.serial, m.make, m.model, m.digits, m.diameter_mm,
            m.smart, m.active, m.contract_id, c.number AS contract_number,
            (SELECT d.dev_eui FROM devices d WHERE d.tenant_id = m.tenant_id
               AND d.meter_id = m.id ORDER BY d.id LIMIT 1) AS dev_eui
        FROM meters m JOIN contracts c ON c.tenant_id = m.tenant_id AND c.id = m.contract_id
        WHERE m.tenant_id = $1 AND m.id = $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// Recent periods of one meter, newest first.
pub async fn recent_periods(tx: &mut Scoped, meter_id: i64, limit: i64) -> Result<Vec<PeriodRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT period, litres, readings, last_read_at, last_litres
        FROM reading_periods WHERE tenant_id = $1 AND meter_id = $2
        ORDER BY period DESC LIMIT $3";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(meter_id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}
