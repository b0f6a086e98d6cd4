//! Row types. Field types decode identically on SQLite and PostgreSQL
//! (`i64` for BIGINT ids/centavos/litres, `i32` for INTEGER, `bool`, chrono types).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Tenant {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub short_name: String,
    pub hostname: Option<String>,
}

/// Everything the citizen dashboard and the staff account page show about a contract.
#[derive(Debug, Clone, FromRow)]
pub struct AccountRow {
    pub contract_id: i64,
    pub number: String,
    pub use_type: String,
    pub tariff_class: String,
    pub status: String,
    pub start_date: NaiveDate,
    pub vulnerable: bool,
    pub person_id: i64,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub rfc: Option<String>,
    pub curp: Option<String>,
    pub street: String,
    pub ext_number: String,
    pub int_number: Option<String>,
    pub colonia: String,
    pub municipio: String,
    pub cp: String,
    pub sector_name: Option<String>,
    pub toma_id: i64,
    pub toma_kind: String,
    pub toma_diameter_mm: i32,
    /// Derived from the ledger (positive = the customer owes).
    pub balance_centavos: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct MeterRow {
    pub id: i64,
    pub serial: String,
    pub make: String,
    pub model: String,
    pub diameter_mm: i32,
    pub digits: i32,
    pub multiplier: i32,
    pub installed_on: NaiveDate,
    pub smart: bool,
}

#[derive(Debug, Clone, FromRow)]
pub struct ReadingRow {
    pub id: i64,
    pub meter_id: i64,
    pub period: i32,
    pub read_at: DateTime<Utc>,
    pub value_litres: i64,
    pub source: String,
    pub quality: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct SearchHit {
    pub contract_id: i64,
    pub number: String,
    pub full_name: String,
    pub street: String,
    pub ext_number: String,
    pub colonia: String,
    pub municipio: String,
    pub status: String,
    pub use_type: String,
    pub meter_serial: Option<String>,
}

/// Contract summary used by sign-in (to know where to send the code).
#[derive(Debug, Clone, FromRow)]
pub struct ContractContact {
    pub contract_id: i64,
    pub number: String,
    pub status: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct OtpChallenge {
    pub id: i64,
    pub contract_id: i64,
    pub purpose: String,
    pub citizen_id: Option<i64>,
    pub code_hash: String,
    pub channel: String,
    pub destination_masked: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, FromRow)]
pub struct StaffUser {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, FromRow)]
pub struct Session {
    pub id: i64,
    pub kind: String,
    pub citizen_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub active_contract_id: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    // staff details (NULL for citizens)
    pub staff_email: Option<String>,
    pub staff_name: Option<String>,
    pub staff_role: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct LinkedContract {
    pub contract_id: i64,
    pub number: String,
    pub street: String,
    pub ext_number: String,
    pub colonia: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub payload: sqlx::types::Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// A dead letter since then: not retried until staff replay it.
    pub dead_at: Option<DateTime<Utc>>,
    /// A non-idempotent effect went out then; its outcome is unknown until delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, FromRow)]
pub struct DomainEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<i64>,
    pub data: sqlx::types::Json<serde_json::Value>,
    pub ip: Option<String>,
}
