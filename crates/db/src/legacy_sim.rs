//! A read-only snapshot of one tenant for the AquaCIS simulator (`supra sim aquacis
//! --seed-db` and the development server): contracts with their titular and address,
//! the ledger balance, meters, the newest invoices and readings per contract. A few
//! bulk statements, the same SQL text on SQLite and PostgreSQL; money stays integer
//! centavos here (the simulator converts).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;

use crate::{Result, Scoped, on};

/// A contract with its titular, service address and ledger balance.
#[derive(Debug, Clone, FromRow)]
pub struct SimContract {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub use_type: String,
    pub start_date: NaiveDate,
    /// The toma: AquaCIS's punto de servicio.
    pub toma_id: i64,
    pub person_id: i64,
    pub full_name: String,
    pub given_names: String,
    pub surname1: String,
    pub surname2: String,
    pub rfc: Option<String>,
    pub curp: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub street: String,
    pub ext_number: String,
    pub int_number: Option<String>,
    pub colonia: String,
    pub municipio: String,
    pub cp: String,
    /// Sum of the ledger: positive = owed.
    pub balance_centavos: i64,
}

/// A meter, active or replaced, with the toma it measures.
#[derive(Debug, Clone, FromRow)]
pub struct SimMeter {
    pub id: i64,
    pub contract_id: i64,
    pub toma_id: i64,
    pub serial: String,
    pub make: String,
    pub model: String,
    pub diameter_mm: i32,
    pub digits: i32,
    pub installed_on: NaiveDate,
    pub active: bool,
}

/// One of a contract's newest invoices.
#[derive(Debug, Clone, FromRow)]
pub struct SimInvoice {
    pub contract_id: i64,
    pub folio: String,
    /// `YYYYMM`.
    pub period: i32,
    pub issued_on: NaiveDate,
    pub due_date: NaiveDate,
    pub cancelled: bool,
    pub total_centavos: i64,
    /// Staff adjustments and credit notes (negative = in the customer's favour).
    pub adjustments_centavos: i64,
}

/// One of a contract's newest readings (any of its meters).
#[derive(Debug, Clone, FromRow)]
pub struct SimReading {
    pub contract_id: i64,
    pub meter_id: i64,
    pub read_at: DateTime<Utc>,
    pub value_litres: i64,
    pub source: String,
    pub quality: String,
}

/// Everything the simulator loads for one tenant.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// By contract number.
    pub contracts: Vec<SimContract>,
    /// By contract, oldest installation first.
    pub meters: Vec<SimMeter>,
    /// By contract, newest period first.
    pub invoices: Vec<SimInvoice>,
    /// By contract, oldest first.
    pub readings: Vec<SimReading>,
}

/// The tenant's contracts, by number.
pub async fn contracts(tx: &mut Scoped) -> Result<Vec<SimContract>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT c.id, c.number, c.status, c.use_type, c.start_date, c.toma_id,
            p.id AS person_id, p.full_name, p.given_names, p.surname1, p.surname2,
            p.rfc, p.curp, p.email, p.phone,
            a.street, a.ext_number, a.int_number, a.colonia, a.municipio, a.cp,
            CAST(COALESCE(l.balance, 0) AS BIGINT) AS balance_centavos
        FROM contracts c
        JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
        JOIN tomas tm ON tm.tenant_id = c.tenant_id AND tm.id = c.toma_id
        JOIN addresses a ON a.tenant_id = tm.tenant_id AND a.id = tm.address_id
        LEFT JOIN (SELECT contract_id, SUM(amount_centavos) AS balance FROM ledger_entries
                   WHERE tenant_id = $1 GROUP BY contract_id) l ON l.contract_id = c.id
        WHERE c.tenant_id = $1
        ORDER BY c.number";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .fetch_all(c)
        .await?))
}

/// Every meter of the tenant (replaced ones too), by contract and installation date.
pub async fn meters(tx: &mut Scoped) -> Result<Vec<SimMeter>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT m.id, m.contract_id, c.toma_id, m.serial, m.make, m.model,
            m.diameter_mm, m.digits, m.installed_on, m.active
        FROM meters m
        JOIN contracts c ON c.tenant_id = m.tenant_id AND c.id = m.contract_id
        WHERE m.tenant_id = $1
        ORDER BY m.contract_id, m.installed_on, m.id";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .fetch_all(c)
        .await?))
}

/// The newest `per_contract` invoices of every contract, newest period first.
pub async fn invoices(tx: &mut Scoped, per_contract: i64) -> Result<Vec<SimInvoice>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT contract_id, folio, period, issued_on, due_date, cancelled,
            total_centavos, adjustments_centavos
        FROM (SELECT i.contract_id, i.folio, i.period, i.issued_on, i.due_date, i.cancelled,
                i.total_centavos,
                CAST(COALESCE((SELECT SUM(a.amount_centavos) FROM invoice_adjustments a
                    WHERE a.tenant_id = i.tenant_id AND a.invoice_id = i.id), 0) AS BIGINT)
                    AS adjustments_centavos,
                ROW_NUMBER() OVER (PARTITION BY i.contract_id ORDER BY i.period DESC) AS rn
            FROM invoices i WHERE i.tenant_id = $1) x
        WHERE rn <= $2
        ORDER BY contract_id, period DESC";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(per_contract)
        .fetch_all(c)
        .await?))
}

/// The newest `per_contract` readings of every contract (over all its meters), oldest
/// first.
pub async fn readings(tx: &mut Scoped, per_contract: i64) -> Result<Vec<SimReading>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT contract_id, meter_id, read_at, value_litres, source, quality
        FROM (SELECT m.contract_id, r.meter_id, r.read_at, r.value_litres, r.source, r.quality,
                ROW_NUMBER() OVER (PARTITION BY m.contract_id ORDER BY r.read_at DESC) AS rn
            FROM readings r
            JOIN meters m ON m.tenant_id = r.tenant_id AND m.id = r.meter_id
            WHERE r.tenant_id = $1) x
        WHERE rn <= $2
        ORDER BY contract_id, read_at";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(per_contract)
        .fetch_all(c)
        .await?))
}

/// The whole snapshot in one read transaction.
pub async fn snapshot(
    tx: &mut Scoped,
    invoices_per_contract: i64,
    readings_per_contract: i64,
) -> Result<Snapshot> {
    Ok(Snapshot {
        contracts: contracts(tx).await?,
        meters: meters(tx).await?,
        invoices: invoices(tx, invoices_per_contract).await?,
        readings: readings(tx, readings_per_contract).await?,
    })
}
