//! Data shapes shared by server and browser, and the server functions. Everything a
//! page shows is formatted on the server (es-MX, America/Mexico_City) so the browser
//! bundle carries no time-zone or number-formatting tables.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterView {
    pub serial: String,
    pub make_model: String,
    pub diameter: String,
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingView {
    pub period: String,
    pub date: String,
    pub value: String,
    pub source: String,
    pub quality: String,
    pub consumption: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodView {
    pub label: String,
    pub m3: String,
    /// Bar length 0-100 relative to the largest period shown.
    pub bar_pct: u8,
    pub estimated: bool,
    pub flagged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedView {
    pub contract_id: i64,
    pub number: String,
    pub address: String,
}

/// The citizen dashboard; stored in IndexedDB as-is for offline use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub contract_id: i64,
    pub number: String,
    pub titular: String,
    pub address: String,
    pub use_type: String,
    pub status: String,
    pub meter: Option<MeterView>,
    pub readings: Vec<ReadingView>,
    pub consumption: Vec<PeriodView>,
    pub balance: String,
    pub owes: bool,
    pub linked: Vec<LinkedView>,
    pub fetched_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeSentView {
    pub contract: String,
    pub destination: String,
    pub minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffProfile {
    pub name: String,
    pub email: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRow {
    pub contract_id: i64,
    pub number: String,
    pub titular: String,
    pub address: String,
    pub meter: String,
    pub status: String,
    pub use_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    pub query: String,
    pub rows: Vec<SearchRow>,
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub when: String,
    pub action: String,
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub dashboard: Dashboard,
    pub phone: String,
    pub email: String,
    pub rfc: String,
    pub curp: String,
    pub tariff_class: String,
    pub start_date: String,
    pub vulnerable: bool,
    pub toma: String,
    pub sector: String,
    pub all_readings: Vec<ReadingView>,
    pub events: Vec<AuditView>,
}

/// Step 1 of citizen sign-in: send a code to the phone/e-mail on file.
#[server(endpoint = "citizen/request_code")]
pub async fn request_code(contrato: String) -> Result<CodeSentView, AppError> {
    crate::ssr::request_code(contrato, None).await
}

/// Step 2: check the code; on success sets the session cookie and goes to /cuenta.
#[server(endpoint = "citizen/verify_code")]
pub async fn verify_code(contrato: String, codigo: String) -> Result<(), AppError> {
    crate::ssr::verify_code(contrato, codigo, false).await
}

/// Link another contract to the signed-in citizen (step 1).
#[server(endpoint = "citizen/link_request")]
pub async fn link_request(contrato: String) -> Result<CodeSentView, AppError> {
    let s = crate::ssr::citizen().await?;
    crate::ssr::request_code(contrato, Some(s.0)).await
}

/// Link another contract (step 2).
#[server(endpoint = "citizen/link_verify")]
pub async fn link_verify(contrato: String, codigo: String) -> Result<(), AppError> {
    crate::ssr::verify_code(contrato, codigo, true).await
}

#[server(endpoint = "citizen/dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    crate::ssr::dashboard().await
}

#[server(endpoint = "citizen/switch")]
pub async fn switch_contract(contract_id: i64) -> Result<(), AppError> {
    crate::ssr::switch_contract(contract_id).await
}

#[server(endpoint = "session/logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::ssr::logout().await
}

#[server(endpoint = "staff/login")]
pub async fn staff_login(correo: String, contrasena: String) -> Result<(), AppError> {
    crate::ssr::staff_login(correo, contrasena).await
}

#[server(endpoint = "staff/me")]
pub async fn staff_me() -> Result<StaffProfile, AppError> {
    crate::ssr::staff_me().await
}

#[server(endpoint = "staff/search")]
pub async fn search_accounts(q: String) -> Result<SearchResult, AppError> {
    crate::ssr::search(q).await
}

#[server(endpoint = "staff/account")]
pub async fn get_account(contract_id: i64) -> Result<AccountDetail, AppError> {
    crate::ssr::account(contract_id).await
}
