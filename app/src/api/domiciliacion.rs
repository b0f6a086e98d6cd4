//! Domiciliación (pago automático) for staff: mandates, the month's batch file and the
//! bank's results. Thin: everything happens in `crate::ssr::domiciliacion`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One mandate as staff see it (the CLABE masked but for its last 4 digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebitMandateView {
    pub id: i64,
    pub contract: String,
    pub holder: String,
    pub clabe_masked: String,
    pub max: String,
    pub signed_on: String,
    pub active: bool,
    pub status: String,
}

/// One batch file handed (or to be handed) to the bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebitBatchView {
    pub id: i64,
    /// `2026-12 · lote 1`.
    pub label: String,
    pub created_at: String,
    pub item_count: i64,
    pub total: String,
    pub status: String,
    pub file_url: String,
}

/// The page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomiciliacionView {
    pub mandates: Vec<DebitMandateView>,
    pub batches: Vec<DebitBatchView>,
    /// The current month, `AAAA-MM`, to fill the batch form.
    pub month: String,
}

/// What a results file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebitResultsView {
    pub cobrados: i64,
    pub cobrado_total: String,
    pub reintentos: i64,
    pub bajas: i64,
    pub rechazados: i64,
    pub repetidos: i64,
    pub desconocidos: i64,
}

#[server(endpoint = "staff/debit_overview")]
pub async fn debit_overview() -> Result<DomiciliacionView, AppError> {
    crate::ssr::domiciliacion::overview().await
}

/// Register a mandate: `maximo` in pesos, `firmado` AAAA-MM-DD. Returns its id.
#[server(endpoint = "staff/debit_register")]
pub async fn register_mandate(
    contrato: String,
    clabe: String,
    titular: String,
    maximo: String,
    firmado: String,
) -> Result<i64, AppError> {
    crate::ssr::domiciliacion::register(contrato, clabe, titular, maximo, firmado).await
}

#[server(endpoint = "staff/debit_cancel")]
pub async fn cancel_mandate(mandato: i64, motivo: String) -> Result<(), AppError> {
    crate::ssr::domiciliacion::cancel(mandato, motivo).await
}

/// The month's batch (AAAA-MM): made now, or the one already made.
#[server(endpoint = "staff/debit_batch")]
pub async fn generate_debit_batch(mes: String) -> Result<DebitBatchView, AppError> {
    crate::ssr::domiciliacion::batch(mes).await
}

/// Apply the bank's results file (its text).
#[server(endpoint = "staff/debit_results")]
pub async fn apply_debit_results(resultados: String) -> Result<DebitResultsView, AppError> {
    crate::ssr::domiciliacion::results(resultados).await
}
