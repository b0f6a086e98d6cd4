//! The AquaCIS bridge's tables: where each domain's truth lives, the read cache, the
//! nightly sync's runs, its mirror of AquaCIS's contracts and its quarantine.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::{Result, Scoped, on};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct DomainRow {
    pub domain: String,
    pub reads: String,
    pub writes: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<i64>,
}

pub async fn domains(tx: &mut Scoped) -> Result<Vec<DomainRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT domain, reads, writes, updated_at, updated_by FROM legacy_domains
        WHERE tenant_id = $1 ORDER BY domain";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .fetch_all(c)
        .await?))
}

pub async fn domain(tx: &mut Scoped, domain: &str) -> Result<Option<DomainRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT domain, reads, writes, updated_at, updated_by FROM legacy_domains
        WHERE tenant_id = $1 AND domain = $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(domain)
        .fetch_optional(c)
        .await?))
}

pub async fn set_domain(
    tx: &mut Scoped,
    domain: &str,
    reads: &str,
    writes: &str,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO legacy_domains (tenant_id, domain, reads, writes, updated_at, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (tenant_id, domain) DO UPDATE SET reads = excluded.reads,
            writes = excluded.writes, updated_at = excluded.updated_at, updated_by = excluded.updated_by";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(domain)
        .bind(reads)
        .bind(writes)
        .bind(now)
        .bind(by)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// A cached answer: the typed response as JSON and when AquaCIS gave it.
pub async fn cache_get(tx: &mut Scoped, key: &str) -> Result<Option<(String, DateTime<Utc>)>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT body, fetched_at FROM legacy_cache WHERE tenant_id = $1 AND cache_key = $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(key)
        .fetch_optional(c)
        .await?))
}

pub async fn cache_put(tx: &mut Scoped, key: &str, body: &str, now: DateTime<Utc>) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO legacy_cache (tenant_id, cache_key, body, fetched_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (tenant_id, cache_key) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(key)
        .bind(body)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

// ---------------------------------------------------------------- nightly sync

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct SyncRun {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub watermark_from: Option<String>,
    pub watermark_to: Option<String>,
    pub status: String,
    pub seen: i64,
    pub imported: i64,
    pub quarantined: i64,
    pub readings: i64,
    pub error: Option<String>,
    pub report: Option<String>,
}

const RUN_COLS: &str = "id, started_at, finished_at, watermark_from, watermark_to, status,
    seen, imported, quarantined, readings, error, report";

/// The watermark to start from: where the last finished run stopped.
pub async fn last_watermark(tx: &mut Scoped) -> Result<Option<String>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT watermark_to FROM legacy_sync_runs
        WHERE tenant_id = $1 AND status = 'terminada' AND watermark_to IS NOT NULL
        ORDER BY id DESC LIMIT 1";
    Ok(on!(tx, |c| sqlx::query_scalar::<_, Option<String>>(SQL)
        .bind(t)
        .fetch_optional(c)
        .await?)
    .flatten())
}

pub async fn start_run(tx: &mut Scoped, from: Option<&str>, now: DateTime<Utc>) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO legacy_sync_runs (tenant_id, started_at, watermark_from, status)
        VALUES ($1, $2, $3, 'en_curso') RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(now)
        .bind(from)
        .fetch_one(c)
        .await?))
}

#[derive(Debug, Clone, Default)]
pub struct RunCounts {
    pub seen: i64,
    pub imported: i64,
    pub quarantined: i64,
    pub readings: i64,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Finish<'a> {
    /// `terminada` | `fallida`.
    pub status: &'a str,
    pub watermark_to: Option<&'a str>,
    pub counts: &'a RunCounts,
    pub error: Option<&'a str>,
    pub report: Option<&'a str>,
}

pub async fn finish_run(
    tx: &mut Scoped,
    id: i64,
    f: &Finish<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str =
        "UPDATE legacy_sync_runs SET finished_at = $3, status = $4, watermark_to = $5,
        seen = $6, imported = $7, quarantined = $8, readings = $9, error = $10, report = $11
        WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(now)
        .bind(f.status)
        .bind(f.watermark_to)
        .bind(f.counts.seen)
        .bind(f.counts.imported)
        .bind(f.counts.quarantined)
        .bind(f.counts.readings)
        .bind(f.error)
        .bind(f.report)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn runs(tx: &mut Scoped, limit: i64) -> Result<Vec<SyncRun>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {RUN_COLS} FROM legacy_sync_runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// What AquaCIS says of one contract, as imported.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct LegacyContract {
    pub number: String,
    pub nif: String,
    pub holder: String,
    pub status: String,
    pub use_type: String,
    pub meter_serial: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub debt_centavos: i64,
}

pub async fn upsert_contract(
    tx: &mut Scoped,
    c: &LegacyContract,
    run_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO legacy_contracts (tenant_id, number, nif, holder, status, use_type,
            meter_serial, email, phone, debt_centavos, synced_at, run_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (tenant_id, number) DO UPDATE SET nif = excluded.nif, holder = excluded.holder,
            status = excluded.status, use_type = excluded.use_type, meter_serial = excluded.meter_serial,
            email = excluded.email, phone = excluded.phone, debt_centavos = excluded.debt_centavos,
            synced_at = excluded.synced_at, run_id = excluded.run_id";
    on!(tx, |x| sqlx::query(SQL)
        .bind(t)
        .bind(&c.number)
        .bind(&c.nif)
        .bind(&c.holder)
        .bind(&c.status)
        .bind(&c.use_type)
        .bind(&c.meter_serial)
        .bind(&c.email)
        .bind(&c.phone)
        .bind(c.debt_centavos)
        .bind(now)
        .bind(run_id)
        .execute(x)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn quarantine(
    tx: &mut Scoped,
    run_id: i64,
    entity: &str,
    key: &str,
    reason: &str,
    raw: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO legacy_quarantine (tenant_id, run_id, entity, legacy_key, reason, raw, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(run_id)
        .bind(entity)
        .bind(key)
        .bind(reason)
        .bind(raw)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct QuarantineRow {
    pub id: i64,
    pub entity: String,
    pub legacy_key: String,
    pub reason: String,
    pub raw: String,
}

pub async fn quarantined(tx: &mut Scoped, run_id: i64) -> Result<Vec<QuarantineRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, entity, legacy_key, reason, raw FROM legacy_quarantine
        WHERE tenant_id = $1 AND run_id = $2 ORDER BY id";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(run_id)
        .fetch_all(c)
        .await?))
}

/// One contract compared: SUPRA's ledger balance against AquaCIS's debt.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct Compared {
    pub number: String,
    pub supra_centavos: Option<i64>,
    pub legacy_centavos: Option<i64>,
}

/// Every contract either side knows, with both balances (None: unknown on that side).
pub async fn compare_balances(tx: &mut Scoped) -> Result<Vec<Compared>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT number, CAST(SUM(s) AS BIGINT) AS supra_centavos, CAST(SUM(l) AS BIGINT) AS legacy_centavos FROM (
            SELECT c.number AS number,
                (SELECT CAST(COALESCE(SUM(e.amount_centavos), 0) AS BIGINT) FROM ledger_entries e
                  WHERE e.tenant_id = c.tenant_id AND e.contract_id = c.id) AS s,
                NULL AS l
            FROM contracts c WHERE c.tenant_id = $1
            UNION ALL
            SELECT number, NULL, debt_centavos FROM legacy_contracts WHERE tenant_id = $1
        ) x GROUP BY number ORDER BY number";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .fetch_all(c)
        .await?))
}

/// The outbox kind of a payment notice to AquaCIS (`avisarPago`).
pub const AVISAR_PAGO: &str = "legacy.avisar_pago";
/// The outbox kind of a customer's reading for AquaCIS (`solicitudIntroduccionLectura`).
pub const LECTURA: &str = "legacy.lectura";
/// The outbox kind of a work order to create in AquaCIS (`crearOrdenTrabajo`).
pub const CREAR_OT: &str = "legacy.crear_ot";

/// Does this domain's writes go to AquaCIS (`legado` or `ambos`)? No row: SUPRA only.
pub async fn writes_to_legacy(tx: &mut Scoped, domain: &str) -> Result<bool> {
    Ok(self::domain(tx, domain)
        .await?
        .is_some_and(|d| d.writes != "supra"))
}

/// Does the meter have any reading in `[from, to)`? (AquaCIS keeps dates, not times:
/// a legacy reading for a day SUPRA already has is the same reading.)
pub async fn has_reading_between(
    tx: &mut Scoped,
    meter_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM readings
        WHERE tenant_id = $1 AND meter_id = $2 AND read_at >= $3 AND read_at < $4";
    let n: i64 = on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(meter_id)
        .bind(from)
        .bind(to)
        .fetch_one(c)
        .await?);
    Ok(n > 0)
}
