//! The AquaCIS bridge for staff: its health (breakers, latency, cache, outbox, dead
//! letters, last sync) and the per-domain source-of-truth switches (admin only,
//! audited). Thin: everything happens in `crate::ssr::legado`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyServiceView {
    pub name: String,
    pub ws_name: String,
    /// "cerrado", "abierto", "semiabierto".
    pub breaker: String,
    pub healthy: bool,
    pub calls: u64,
    pub failures: u64,
    /// "35 ms" or "—".
    pub p50: String,
    pub p95: String,
    pub p99: String,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterView {
    pub id: i64,
    pub kind: String,
    pub created: String,
    pub dead_since: String,
    pub attempts: i32,
    pub error: String,
    /// What it was about ("avisarPago 100234 $845.10 SUPRA-77").
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyQuarantineView {
    pub entity: String,
    pub key: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRunView {
    pub id: i64,
    pub started: String,
    pub finished: Option<String>,
    /// "Terminada", "En curso", "Falló: …".
    pub status: String,
    pub seen: i64,
    pub imported: i64,
    pub quarantined: i64,
    pub readings: i64,
    pub watermark: Option<String>,
    /// Lines of the reconciliation ("Contratos en ambos: 1,998", …).
    pub reconciliation: Vec<String>,
    /// (contract, SUPRA, AquaCIS) formatted.
    pub mismatches: Vec<(String, String, String)>,
    pub quarantine: Vec<LegacyQuarantineView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainView {
    pub domain: String,
    pub label: String,
    /// "supra" | "legado".
    pub reads: String,
    /// "supra" | "legado" | "ambos".
    pub writes: String,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyBridgeView {
    pub configured: bool,
    pub url: String,
    pub services: Vec<LegacyServiceView>,
    pub cache: String,
    pub waiting: i64,
    pub dead_total: i64,
    pub dead: Vec<DeadLetterView>,
    pub last_sync: Option<SyncRunView>,
    pub domains: Vec<DomainView>,
    /// Admin: may change the switches and run the sync.
    pub can_switch: bool,
}

#[server(endpoint = "staff/legacy_bridge")]
pub async fn legacy_bridge() -> Result<LegacyBridgeView, AppError> {
    crate::ssr::legado::bridge_view().await
}

#[server(endpoint = "staff/legacy_domain")]
pub async fn set_legacy_domain(
    dominio: String,
    lecturas: String,
    escrituras: String,
) -> Result<String, AppError> {
    crate::ssr::legado::set_domain(dominio, lecturas, escrituras).await
}

#[server(endpoint = "staff/legacy_replay")]
pub async fn replay_dead_letter(id: i64) -> Result<String, AppError> {
    crate::ssr::legado::replay(id).await
}

#[server(endpoint = "staff/legacy_sync")]
pub async fn run_legacy_sync() -> Result<String, AppError> {
    crate::ssr::legado::sync_now().await
}
