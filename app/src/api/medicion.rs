//! Meter readings for staff (campo, atención, facturación): the ingest monitor, route
//! files, a meter's raw readings, the anomalies queue. Thin: everything happens in
//! `crate::ssr::medicion`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Readings stored per minute from one source over the last hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestRateView {
    pub source: String,
    pub last_hour: i64,
    /// Average per minute over the hour, one decimal (e.g. `12.5`).
    pub per_minute: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilentDeviceView {
    pub dev_eui: String,
    pub serial: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineView {
    pub received: String,
    pub source: String,
    pub device: String,
    pub reason: String,
}

/// A route file and how its processing went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteBatchView {
    pub id: i64,
    pub filename: String,
    pub uploaded_by: String,
    pub started: String,
    pub status: String,
    pub finished: bool,
    pub rows: i64,
    pub accepted: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestMonitorView {
    pub rates: Vec<IngestRateView>,
    pub silent_total: i64,
    pub silent: Vec<SilentDeviceView>,
    pub quarantine: Vec<QuarantineView>,
    pub batches: Vec<RouteBatchView>,
}

/// One row of a route file's report that was not simply accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteReportLineView {
    pub line: String,
    pub serial: String,
    pub outcome: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteBatchDetail {
    pub batch: RouteBatchView,
    /// Rejected and duplicate rows (the first 500); the full report is the CSV.
    pub issues: Vec<RouteReportLineView>,
    pub report_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterReadingView {
    pub date: String,
    /// `1234.567` m³.
    pub value: String,
    pub source: String,
    pub quality: String,
    /// Flagged qualities (reverse flow, impossible jump, no reading) are highlighted.
    pub flagged: bool,
    pub alarms: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterPeriodView {
    pub period: String,
    pub consumption: String,
    pub readings: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterPageView {
    pub id: i64,
    pub serial: String,
    pub make_model: String,
    pub register: String,
    pub contract_id: i64,
    pub contract: String,
    pub device: Option<String>,
    pub periods: Vec<MeterPeriodView>,
    pub readings: Vec<MeterReadingView>,
    /// The customer's own readings sent from the app, newest first.
    pub self_reads: Vec<SelfReadView>,
}

/// A reading the customer sent from the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfReadView {
    pub date: String,
    pub value: String,
    /// "Aceptada" or the refusal's reason.
    pub outcome: String,
    pub accepted: bool,
    /// `/personal/lecturas/fotos/{id}` when it came with a photo.
    pub photo_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnomalyView {
    pub id: i64,
    pub kind: String,
    pub contract_id: i64,
    pub contract: String,
    pub meter_id: i64,
    pub serial: String,
    pub detail: String,
    pub detected: String,
}

#[server(endpoint = "staff/ingest_monitor")]
pub async fn ingest_monitor() -> Result<IngestMonitorView, AppError> {
    crate::ssr::medicion::monitor().await
}

#[server(endpoint = "staff/route_batch")]
pub async fn route_batch(lote: i64) -> Result<RouteBatchDetail, AppError> {
    crate::ssr::medicion::batch(lote).await
}

#[server(endpoint = "staff/meter_page")]
pub async fn meter_page(medidor: i64) -> Result<MeterPageView, AppError> {
    crate::ssr::medicion::meter(medidor).await
}

#[server(endpoint = "staff/anomalies")]
pub async fn anomalies_queue() -> Result<Vec<AnomalyView>, AppError> {
    crate::ssr::medicion::anomalies().await
}

/// Act on an anomaly: `accion` = `revisada`, `descartada` (needs `motivo`) or `orden`
/// (a work order, with an optional `descripcion`).
#[server(endpoint = "staff/anomaly_review")]
pub async fn review_anomaly(
    anomalia: i64,
    accion: String,
    #[server(default)] motivo: String,
    #[server(default)] descripcion: String,
) -> Result<String, AppError> {
    crate::ssr::medicion::review(anomalia, accion, motivo, descripcion).await
}

/// Look for anomalies now (otherwise the server does it every hour).
#[server(endpoint = "staff/anomalies_detect")]
pub async fn detect_anomalies() -> Result<String, AppError> {
    crate::ssr::medicion::detect().await
}
