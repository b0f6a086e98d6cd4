//! Billing storage: tariff versions, billing runs, invoices and their lines, staff
//! adjustments and the review queue. Batch functions work on a contiguous range of
//! contract ids so a 400,000-contract cycle is a few hundred statements, not millions.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::FromRow;
use sqlx::types::Json;

use crate::bulk::{batch, batch_returning};
use crate::{Result, Scoped, on};

// ---------------------------------------------------------------- tariffs

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct TariffRow {
    pub id: i64,
    pub use_type: String,
    pub tariff_class: String,
    pub valid_from: NaiveDate,
    pub name: String,
    pub source_toml: String,
    pub created_at: DateTime<Utc>,
}

const TARIFF_COLS: &str = "id, use_type, tariff_class, valid_from, name, source_toml, created_at";

pub async fn tariffs(tx: &mut Scoped) -> Result<Vec<TariffRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {TARIFF_COLS} FROM tariffs WHERE tenant_id = $1
         ORDER BY use_type, tariff_class, valid_from"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .fetch_all(c)
        .await?))
}

pub async fn tariff_by_id(tx: &mut Scoped, id: i64) -> Result<Option<TariffRow>> {
    let t = tx.tenant().0;
    let sql = format!("SELECT {TARIFF_COLS} FROM tariffs WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

pub struct NewTariff<'a> {
    pub use_type: &'a str,
    pub tariff_class: &'a str,
    pub valid_from: NaiveDate,
    pub name: &'a str,
    pub source_toml: &'a str,
    pub created_by: Option<i64>,
    pub now: DateTime<Utc>,
}

/// Insert a tariff version, or replace the one with the same use type, class and
/// `valid_from` (a corrected transcription of the same gazette publication).
pub async fn save_tariff(tx: &mut Scoped, n: &NewTariff<'_>) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO tariffs
        (tenant_id, use_type, tariff_class, valid_from, name, source_toml, created_at, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (tenant_id, use_type, tariff_class, valid_from) DO UPDATE
        SET name = excluded.name, source_toml = excluded.source_toml,
            created_at = excluded.created_at, created_by = excluded.created_by
        RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(n.use_type)
        .bind(n.tariff_class)
        .bind(n.valid_from)
        .bind(n.name)
        .bind(n.source_toml)
        .bind(n.now)
        .bind(n.created_by)
        .fetch_one(c)
        .await?))
}

// ---------------------------------------------------------------- runs

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct RunRow {
    pub id: i64,
    pub period: i32,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub contracts_total: i64,
    pub contracts_done: i64,
    pub invoices_issued: i64,
    pub estimated: i64,
    pub flagged: i64,
    pub skipped: i64,
    pub total_centavos: i64,
    pub summary: Json<Value>,
    pub error: Option<String>,
}

const RUN_COLS: &str =
    "id, period, status, started_at, finished_at, contracts_total, contracts_done,
    invoices_issued, estimated, flagged, skipped, total_centavos, summary, error";

pub async fn create_run(
    tx: &mut Scoped,
    period: i32,
    contracts_total: i64,
    started_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO billing_runs (tenant_id, period, status, started_at, started_by, contracts_total)
        VALUES ($1, $2, 'en_curso', $3, $4, $5) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(period)
        .bind(now)
        .bind(started_by)
        .bind(contracts_total)
        .fetch_one(c)
        .await?))
}

/// Progress counters of a run (absolute values, written after each chunk).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunCounters {
    pub contracts_done: i64,
    pub invoices_issued: i64,
    pub estimated: i64,
    pub flagged: i64,
    pub skipped: i64,
    pub total_centavos: i64,
}

pub async fn update_run(
    tx: &mut Scoped,
    id: i64,
    c: &RunCounters,
    summary: &Value,
    finished: Option<(&str, DateTime<Utc>, Option<&str>)>,
) -> Result<()> {
    let t = tx.tenant().0;
    let (status, finished_at, error) = match finished {
        Some((s, at, e)) => (s, Some(at), e),
        None => ("en_curso", None, None),
    };
    const SQL: &str = "UPDATE billing_runs SET contracts_done = $3, invoices_issued = $4,
        estimated = $5, flagged = $6, skipped = $7, total_centavos = $8, summary = $9,
        status = $10, finished_at = $11, error = $12
        WHERE tenant_id = $1 AND id = $2";
    on!(tx, |conn| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(c.contracts_done)
        .bind(c.invoices_issued)
        .bind(c.estimated)
        .bind(c.flagged)
        .bind(c.skipped)
        .bind(c.total_centavos)
        .bind(Json(summary))
        .bind(status)
        .bind(finished_at)
        .bind(error)
        .execute(conn)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn run_by_id(tx: &mut Scoped, id: i64) -> Result<Option<RunRow>> {
    let t = tx.tenant().0;
    let sql = format!("SELECT {RUN_COLS} FROM billing_runs WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

pub async fn recent_runs(tx: &mut Scoped, limit: i64) -> Result<Vec<RunRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {RUN_COLS} FROM billing_runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

// ---------------------------------------------------------------- batch inputs

/// A contract as the billing run needs it, with its active meter (if any) and ledger
/// balance.
#[derive(Debug, Clone, FromRow)]
pub struct BillableContract {
    pub contract_id: i64,
    pub number: String,
    pub use_type: String,
    pub tariff_class: String,
    pub status: String,
    pub start_date: NaiveDate,
    pub vulnerable: bool,
    pub meter_id: Option<i64>,
    pub digits: Option<i32>,
    pub multiplier: Option<i32>,
    pub balance_centavos: i64,
}

/// Contract ids of the tenant in `[lo, hi]` order, for chunking a run.
pub async fn contract_id_bounds(tx: &mut Scoped) -> Result<(i64, i64, i64)> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT CAST(COALESCE(MIN(id), 0) AS BIGINT), CAST(COALESCE(MAX(id), -1) AS BIGINT),
        CAST(COUNT(*) AS BIGINT) FROM contracts WHERE tenant_id = $1";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .fetch_one(c)
        .await?))
}

/// Contracts with id in `[lo, hi]`.
pub async fn billable_contracts(
    tx: &mut Scoped,
    lo: i64,
    hi: i64,
) -> Result<Vec<BillableContract>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT c.id AS contract_id, c.number, c.use_type, c.tariff_class, c.status,
            c.start_date, c.vulnerable, m.id AS meter_id, m.digits, m.multiplier,
            CAST(COALESCE(b.balance, 0) AS BIGINT) AS balance_centavos
        FROM contracts c
        LEFT JOIN meters m ON m.tenant_id = c.tenant_id AND m.contract_id = c.id AND m.active = TRUE
            AND m.id = (SELECT MAX(m2.id) FROM meters m2 WHERE m2.tenant_id = c.tenant_id
                        AND m2.contract_id = c.id AND m2.active = TRUE)
        LEFT JOIN (SELECT contract_id, SUM(amount_centavos) AS balance FROM ledger_entries
                   WHERE tenant_id = $1 AND contract_id BETWEEN $2 AND $3 GROUP BY contract_id) b
            ON b.contract_id = c.id
        WHERE c.tenant_id = $1 AND c.id BETWEEN $2 AND $3
        ORDER BY c.id";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(lo)
        .bind(hi)
        .fetch_all(c)
        .await?))
}

#[derive(Debug, Clone, FromRow)]
pub struct MeterReading {
    pub contract_id: i64,
    pub meter_id: i64,
    pub period: i32,
    pub read_at: DateTime<Utc>,
    pub value_litres: i64,
    pub quality: String,
}

/// Readings of the active meters of contracts in `[lo, hi]` for periods in
/// `[from_period, to_period]`, by contract then time.
///
/// The database packs each meter's readings into one JSON array (one row per meter
/// instead of one per reading): sqlx hands rows from its SQLite worker thread one at a
/// time, and at ~12 readings per meter that hand-off dominated a 400,000-contract run.
pub async fn readings_for_range(
    tx: &mut Scoped,
    lo: i64,
    hi: i64,
    from_period: i32,
    to_period: i32,
) -> Result<Vec<MeterReading>> {
    let t = tx.tenant().0;
    const SQLITE: &str = "SELECT m.contract_id, m.id,
        json_group_array(json_array(r.period, r.read_at, r.value_litres, r.quality)
                         ORDER BY r.read_at)
        FROM meters m JOIN readings r ON r.tenant_id = m.tenant_id AND r.meter_id = m.id
        WHERE m.tenant_id = $1 AND m.contract_id BETWEEN $2 AND $3 AND m.active = TRUE
          AND r.period BETWEEN $4 AND $5
        GROUP BY m.contract_id, m.id ORDER BY m.contract_id, m.id";
    const POSTGRES: &str = "SELECT m.contract_id, m.id,
        json_agg(json_build_array(r.period, r.read_at, r.value_litres, r.quality)
                 ORDER BY r.read_at)::text
        FROM meters m JOIN readings r ON r.tenant_id = m.tenant_id AND r.meter_id = m.id
        WHERE m.tenant_id = $1 AND m.contract_id BETWEEN $2 AND $3 AND m.active = TRUE
          AND r.period BETWEEN $4 AND $5
        GROUP BY m.contract_id, m.id ORDER BY m.contract_id, m.id";
    let sql = match tx.backend() {
        crate::Backend::Sqlite => SQLITE,
        crate::Backend::Postgres => POSTGRES,
    };
    let packed: Vec<(i64, i64, String)> = on!(tx, |c| sqlx::query_as(sql)
        .bind(t)
        .bind(lo)
        .bind(hi)
        .bind(from_period)
        .bind(to_period)
        .fetch_all(c)
        .await?);
    let mut out = Vec::new();
    for (contract_id, meter_id, json) in packed {
        let readings: Vec<(i32, DateTime<Utc>, i64, String)> = serde_json::from_str(&json)
            .map_err(|e| crate::Error::Config(format!("readings of meter {meter_id}: {e}")))?;
        out.extend(
            readings
                .into_iter()
                .map(|(period, read_at, value_litres, quality)| MeterReading {
                    contract_id,
                    meter_id,
                    period,
                    read_at,
                    value_litres,
                    quality,
                }),
        );
    }
    Ok(out)
}

/// What the previous invoices of a contract carry into the next period.
#[derive(Debug, Clone, FromRow)]
pub struct PriorInvoice {
    pub contract_id: i64,
    pub period: i32,
    pub billed_litres: i64,
    pub estimated: bool,
    pub carry_litres: i64,
    pub cancelled: bool,
}

/// Invoices of contracts in `[lo, hi]` for periods in `[from_period, to_period]`.
pub async fn invoices_for_range(
    tx: &mut Scoped,
    lo: i64,
    hi: i64,
    from_period: i32,
    to_period: i32,
) -> Result<Vec<PriorInvoice>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT contract_id, period, billed_litres, estimated, carry_litres, cancelled
        FROM invoices WHERE tenant_id = $1 AND contract_id BETWEEN $2 AND $3
          AND period BETWEEN $4 AND $5
        ORDER BY contract_id, period";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(lo)
        .bind(hi)
        .bind(from_period)
        .bind(to_period)
        .fetch_all(c)
        .await?))
}

/// Contract ids in `[lo, hi]` with an open review for `period`.
pub async fn reviews_for_range(tx: &mut Scoped, lo: i64, hi: i64, period: i32) -> Result<Vec<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT contract_id FROM billing_reviews
        WHERE tenant_id = $1 AND contract_id BETWEEN $2 AND $3 AND period = $4";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(lo)
        .bind(hi)
        .bind(period)
        .fetch_all(c)
        .await?))
}

// ---------------------------------------------------------------- issuing

#[derive(Debug, Clone)]
pub struct NewInvoice {
    pub contract_id: i64,
    pub period: i32,
    pub folio: String,
    pub issued_on: NaiveDate,
    pub due_date: NaiveDate,
    pub use_type: String,
    pub tariff_class: String,
    pub meter_id: Option<i64>,
    pub prev_reading_litres: Option<i64>,
    pub prev_read_at: Option<DateTime<Utc>>,
    pub curr_reading_litres: Option<i64>,
    pub curr_read_at: Option<DateTime<Utc>>,
    pub billed_litres: i64,
    pub estimated: bool,
    pub carry_litres: i64,
    pub previous_balance_centavos: i64,
    pub subtotal_centavos: i64,
    pub tax_centavos: i64,
    pub total_centavos: i64,
    pub tariff_names: String,
    pub run_id: Option<i64>,
    pub lines: Vec<NewLine>,
    pub ledger_description: String,
}

#[derive(Debug, Clone)]
pub struct NewLine {
    pub concept: String,
    pub description: String,
    pub quantity: String,
    pub unit: String,
    pub unit_price: Option<String>,
    pub amount_centavos: i64,
    pub tax: String,
    pub tax_centavos: i64,
    pub clave_prod_serv: String,
    pub clave_unidad: String,
    pub estimated: bool,
    pub steps: Value,
}

pub struct NewReview {
    pub contract_id: i64,
    pub period: i32,
    pub reason: String,
    pub message: String,
    pub measured_litres: Option<i64>,
    pub average_litres: Option<i64>,
}

/// Insert invoices (with their lines and ledger charges) that do not exist yet.
/// An invoice that already exists for its contract and period is left untouched, so
/// re-running a period — even concurrently — issues nothing twice. Returns the
/// contract ids that were actually issued now.
pub async fn issue_invoices(
    tx: &mut Scoped,
    invoices: &[NewInvoice],
    now: DateTime<Utc>,
) -> Result<Vec<(i64, i64)>> {
    if invoices.is_empty() {
        return Ok(Vec::new());
    }
    let t = tx.tenant().0;
    let inserted = batch_returning(
        tx,
        "invoices",
        &[
            "tenant_id",
            "contract_id",
            "period",
            "folio",
            "issued_on",
            "due_date",
            "use_type",
            "tariff_class",
            "meter_id",
            "prev_reading_litres",
            "prev_read_at",
            "curr_reading_litres",
            "curr_read_at",
            "billed_litres",
            "estimated",
            "carry_litres",
            "previous_balance_centavos",
            "subtotal_centavos",
            "tax_centavos",
            "total_centavos",
            "tariff_names",
            "run_id",
            "created_at",
        ],
        // No conflict target: an invoice is unique by (contract, period) and by folio, and
        // PostgreSQL only turns a violation of the *named* index into DO NOTHING — two
        // concurrent runs would otherwise fail on the folio index.
        "ON CONFLICT DO NOTHING RETURNING id, contract_id",
        invoices,
        |q, _, inv| {
            q.push_i64(t)
                .push_i64(inv.contract_id)
                .push_i32(inv.period)
                .push_str(&inv.folio)
                .push_date(inv.issued_on)
                .push_date(inv.due_date)
                .push_str(&inv.use_type)
                .push_str(&inv.tariff_class)
                .push_opt_i64(inv.meter_id)
                .push_opt_i64(inv.prev_reading_litres)
                .push_opt_ts(inv.prev_read_at)
                .push_opt_i64(inv.curr_reading_litres)
                .push_opt_ts(inv.curr_read_at)
                .push_i64(inv.billed_litres)
                .push_bool(inv.estimated)
                .push_i64(inv.carry_litres)
                .push_i64(inv.previous_balance_centavos)
                .push_i64(inv.subtotal_centavos)
                .push_i64(inv.tax_centavos)
                .push_i64(inv.total_centavos)
                .push_str(&inv.tariff_names)
                .push_opt_i64(inv.run_id)
                .push_ts(now);
        },
    )
    .await?;
    if inserted.is_empty() {
        return Ok(inserted);
    }
    let by_contract: std::collections::HashMap<i64, i64> =
        inserted.iter().map(|&(id, c)| (c, id)).collect();
    let issued: Vec<(i64, &NewInvoice)> = invoices
        .iter()
        .filter_map(|inv| by_contract.get(&inv.contract_id).map(|&id| (id, inv)))
        .collect();
    let lines: Vec<(i64, usize, &NewLine)> = issued
        .iter()
        .flat_map(|(id, inv)| inv.lines.iter().enumerate().map(move |(i, l)| (*id, i, l)))
        .collect();
    batch(
        tx,
        "invoice_lines",
        &[
            "tenant_id",
            "invoice_id",
            "seq",
            "concept",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "amount_centavos",
            "tax",
            "tax_centavos",
            "clave_prod_serv",
            "clave_unidad",
            "estimated",
            "steps",
        ],
        &lines,
        |q, _, (id, seq, l)| {
            q.push_i64(t)
                .push_i64(*id)
                .push_i32(*seq as i32 + 1)
                .push_str(&l.concept)
                .push_str(&l.description)
                .push_str(&l.quantity)
                .push_str(&l.unit)
                .push_opt_str(l.unit_price.as_deref())
                .push_i64(l.amount_centavos)
                .push_str(&l.tax)
                .push_i64(l.tax_centavos)
                .push_str(&l.clave_prod_serv)
                .push_str(&l.clave_unidad)
                .push_bool(l.estimated)
                .push_json(&l.steps);
        },
    )
    .await?;
    batch(
        tx,
        "ledger_entries",
        &[
            "tenant_id",
            "contract_id",
            "kind",
            "amount_centavos",
            "description",
            "occurred_on",
            "created_at",
        ],
        &issued,
        |q, _, (_, inv)| {
            q.push_i64(t)
                .push_i64(inv.contract_id)
                .push_str("factura")
                .push_i64(inv.total_centavos)
                .push_str(&inv.ledger_description)
                .push_date(inv.issued_on)
                .push_ts(now);
        },
    )
    .await?;
    Ok(inserted)
}

/// Record reviews (ignoring ones that already exist for the contract and period).
pub async fn insert_reviews(
    tx: &mut Scoped,
    reviews: &[NewReview],
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    batch_returning(
        tx,
        "billing_reviews",
        &[
            "tenant_id",
            "contract_id",
            "period",
            "reason",
            "message",
            "measured_litres",
            "average_litres",
            "status",
            "created_at",
        ],
        "ON CONFLICT (tenant_id, contract_id, period) DO NOTHING",
        reviews,
        |q, _, r| {
            q.push_i64(t)
                .push_i64(r.contract_id)
                .push_i32(r.period)
                .push_str(&r.reason)
                .push_str(&r.message)
                .push_opt_i64(r.measured_litres)
                .push_opt_i64(r.average_litres)
                .push_str("abierta")
                .push_ts(now);
        },
    )
    .await
    .map(|_| ())
}

// ---------------------------------------------------------------- reading invoices

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct InvoiceRow {
    pub id: i64,
    pub contract_id: i64,
    pub period: i32,
    pub folio: String,
    pub issued_on: NaiveDate,
    pub due_date: NaiveDate,
    pub cancelled: bool,
    pub use_type: String,
    pub tariff_class: String,
    pub meter_id: Option<i64>,
    pub prev_reading_litres: Option<i64>,
    pub prev_read_at: Option<DateTime<Utc>>,
    pub curr_reading_litres: Option<i64>,
    pub curr_read_at: Option<DateTime<Utc>>,
    pub billed_litres: i64,
    pub estimated: bool,
    pub previous_balance_centavos: i64,
    pub subtotal_centavos: i64,
    pub tax_centavos: i64,
    pub total_centavos: i64,
    pub tariff_names: String,
    pub cfdi_uuid: Option<String>,
    /// Sum of staff adjustments and credit notes (negative = in the customer's favour).
    pub adjustments_centavos: i64,
}

const INVOICE_SELECT: &str = "SELECT i.id, i.contract_id, i.period, i.folio, i.issued_on, i.due_date,
    i.cancelled, i.use_type, i.tariff_class, i.meter_id, i.prev_reading_litres, i.prev_read_at,
    i.curr_reading_litres, i.curr_read_at, i.billed_litres, i.estimated,
    i.previous_balance_centavos, i.subtotal_centavos, i.tax_centavos, i.total_centavos,
    i.tariff_names, i.cfdi_uuid,
    CAST(COALESCE((SELECT SUM(a.amount_centavos) FROM invoice_adjustments a
        WHERE a.tenant_id = i.tenant_id AND a.invoice_id = i.id), 0) AS BIGINT) AS adjustments_centavos
    FROM invoices i";

/// Invoices of a contract, newest period first.
pub async fn invoices_of_contract(
    tx: &mut Scoped,
    contract_id: i64,
    limit: i64,
) -> Result<Vec<InvoiceRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "{INVOICE_SELECT} WHERE i.tenant_id = $1 AND i.contract_id = $2 ORDER BY i.period DESC LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(contract_id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

pub async fn invoice_by_id(tx: &mut Scoped, id: i64) -> Result<Option<InvoiceRow>> {
    let t = tx.tenant().0;
    let sql = format!("{INVOICE_SELECT} WHERE i.tenant_id = $1 AND i.id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// A period's invoices with ids in `[lo, hi]`, by id (bulk reads for CFDI issuing).
pub async fn invoices_in_id_range(
    tx: &mut Scoped,
    period: i32,
    lo: i64,
    hi: i64,
) -> Result<Vec<InvoiceRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "{INVOICE_SELECT} WHERE i.tenant_id = $1 AND i.period = $2 AND i.id BETWEEN $3 AND $4
        ORDER BY i.id"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(period)
        .bind(lo)
        .bind(hi)
        .fetch_all(c)
        .await?))
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct LineRow {
    pub seq: i32,
    pub concept: String,
    pub description: String,
    pub quantity: String,
    pub unit: String,
    pub unit_price: Option<String>,
    pub amount_centavos: i64,
    pub tax: String,
    pub tax_centavos: i64,
    pub clave_prod_serv: String,
    pub clave_unidad: String,
    pub estimated: bool,
    pub steps: Json<Value>,
}

pub async fn invoice_lines(tx: &mut Scoped, invoice_id: i64) -> Result<Vec<LineRow>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT seq, concept, description, quantity, unit, unit_price, amount_centavos,
        tax, tax_centavos, clave_prod_serv, clave_unidad, estimated, steps
        FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = $2 ORDER BY seq";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(invoice_id)
        .fetch_all(c)
        .await?))
}

/// The lines of the invoices with ids in `[lo, hi]` as (invoice id, line), by invoice
/// and seq.
pub async fn lines_in_invoice_range(
    tx: &mut Scoped,
    lo: i64,
    hi: i64,
) -> Result<Vec<(i64, LineRow)>> {
    #[derive(FromRow)]
    struct Row {
        invoice_id: i64,
        #[sqlx(flatten)]
        line: LineRow,
    }
    let t = tx.tenant().0;
    const SQL: &str = "SELECT invoice_id, seq, concept, description, quantity, unit, unit_price,
        amount_centavos, tax, tax_centavos, clave_prod_serv, clave_unidad, estimated, steps
        FROM invoice_lines WHERE tenant_id = $1 AND invoice_id BETWEEN $2 AND $3
        ORDER BY invoice_id, seq";
    let rows: Vec<Row> = on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(lo)
        .bind(hi)
        .fetch_all(c)
        .await?);
    Ok(rows.into_iter().map(|r| (r.invoice_id, r.line)).collect())
}

/// Billed m³ (litres) per period of a contract, oldest first: the bar chart.
pub async fn billed_history(
    tx: &mut Scoped,
    contract_id: i64,
    up_to_period: i32,
    limit: i64,
) -> Result<Vec<(i32, i64, bool)>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT period, billed_litres, estimated FROM invoices
        WHERE tenant_id = $1 AND contract_id = $2 AND period <= $3 AND cancelled = FALSE
        ORDER BY period DESC LIMIT $4";
    let mut rows: Vec<(i32, i64, bool)> = on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(contract_id)
        .bind(up_to_period)
        .bind(limit)
        .fetch_all(c)
        .await?);
    rows.reverse();
    Ok(rows)
}

// ---------------------------------------------------------------- adjustments

pub struct NewAdjustment<'a> {
    pub invoice_id: i64,
    pub contract_id: i64,
    pub kind: &'a str,
    pub amount_centavos: i64,
    pub reason: &'a str,
    pub staff_id: i64,
    pub ledger_description: &'a str,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

/// Record an adjustment or credit note and post it to the ledger, in one transaction.
pub async fn insert_adjustment(tx: &mut Scoped, a: &NewAdjustment<'_>) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO invoice_adjustments
        (tenant_id, invoice_id, kind, amount_centavos, reason, staff_id, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let id: i64 = on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(a.invoice_id)
        .bind(a.kind)
        .bind(a.amount_centavos)
        .bind(a.reason)
        .bind(a.staff_id)
        .bind(a.now)
        .fetch_one(c)
        .await?);
    const LEDGER: &str = "INSERT INTO ledger_entries
        (tenant_id, contract_id, kind, amount_centavos, description, occurred_on, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on!(tx, |c| sqlx::query(LEDGER)
        .bind(t)
        .bind(a.contract_id)
        .bind(a.kind)
        .bind(a.amount_centavos)
        .bind(a.ledger_description)
        .bind(a.today)
        .bind(a.now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(id)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AdjustmentRow {
    pub id: i64,
    pub kind: String,
    pub amount_centavos: i64,
    pub reason: String,
    pub staff_id: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn adjustments_of_invoice(
    tx: &mut Scoped,
    invoice_id: i64,
) -> Result<Vec<AdjustmentRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, kind, amount_centavos, reason, staff_id, created_at
        FROM invoice_adjustments WHERE tenant_id = $1 AND invoice_id = $2 ORDER BY id";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(invoice_id)
        .fetch_all(c)
        .await?))
}

// ---------------------------------------------------------------- reviews

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ReviewRow {
    pub id: i64,
    pub contract_id: i64,
    pub number: String,
    pub period: i32,
    pub reason: String,
    pub message: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

pub async fn open_reviews(
    tx: &mut Scoped,
    period: Option<i32>,
    limit: i64,
) -> Result<Vec<ReviewRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT r.id, r.contract_id, c.number, r.period, r.reason, r.message, r.status, r.created_at
        FROM billing_reviews r JOIN contracts c ON c.tenant_id = r.tenant_id AND c.id = r.contract_id
        WHERE r.tenant_id = $1 AND r.status = 'abierta' AND ($2 IS NULL OR r.period = $2)
        ORDER BY r.period DESC, r.id LIMIT $3";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(period)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Benchmarks only (a throw-away SQLite database): forget every invoice, run, review
/// and invoice ledger charge so the same period can be billed again. Refuses to run
/// on PostgreSQL, where issued invoices are never deleted.
/// With `keep_runs`, the `billing_runs` rows stay (a baseline re-inserts invoices that
/// reference them).
pub async fn bench_reset(tx: &mut Scoped, keep_runs: bool) -> Result<()> {
    if tx.backend() != crate::Backend::Sqlite {
        return Err(crate::Error::Config(
            "bench_reset is for SQLite bench databases".into(),
        ));
    }
    let t = tx.tenant().0;
    for sql in [
        "DELETE FROM invoice_lines WHERE tenant_id = $1",
        "DELETE FROM invoice_adjustments WHERE tenant_id = $1",
        "DELETE FROM invoices WHERE tenant_id = $1",
        "DELETE FROM billing_reviews WHERE tenant_id = $1",
        "DELETE FROM billing_runs WHERE tenant_id = $1",
        "DELETE FROM ledger_entries WHERE tenant_id = $1 AND kind = 'factura'",
    ] {
        if keep_runs && sql.contains("billing_runs") {
            continue;
        }
        on!(tx, |c| sqlx::query(sql)
            .bind(t)
            .execute(c)
            .await
            .map(|_| ())?);
    }
    Ok(())
}

/// Insert a meter reading (ignored if the meter already has one at that instant).
/// Returns the new id, or `None` when it was a duplicate.
#[allow(clippy::too_many_arguments)]
pub async fn insert_reading(
    tx: &mut Scoped,
    meter_id: i64,
    period: i32,
    read_at: DateTime<Utc>,
    value_litres: i64,
    source: &str,
    quality: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO readings
        (tenant_id, meter_id, period, read_at, value_litres, source, quality, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (tenant_id, meter_id, read_at) DO NOTHING RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(meter_id)
        .bind(period)
        .bind(read_at)
        .bind(value_litres)
        .bind(source)
        .bind(quality)
        .bind(now)
        .fetch_optional(c)
        .await?))
}
