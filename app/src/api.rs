//! Data shapes shared by server and browser, and the server functions. Everything a
//! page shows is formatted on the server (es-MX, America/Mexico_City) so the browser
//! bundle carries no time-zone or number-formatting tables.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

mod domiciliacion;
pub use domiciliacion::*;
mod lecturas;
pub use lecturas::*;
mod legado;
pub use legado::*;
mod medicion;
pub use medicion::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterView {
    /// The meter's id (staff link to its readings).
    #[serde(default)]
    pub id: i64,
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
    /// The contract has paid ahead: `balance` is in its favour.
    #[serde(default)]
    pub credit: bool,
    pub linked: Vec<LinkedView>,
    pub fetched_at: String,
    /// The contract's CLABE for SPEI transfers, when the utility receives them.
    #[serde(default)]
    pub spei_clabe: Option<String>,
    /// OXXO references still to pay (shown offline too).
    #[serde(default)]
    pub pending_payments: Vec<PaymentOrderView>,
    /// The balance came from AquaCIS (the utility's legacy system), as of when.
    #[serde(default)]
    pub legacy_balance: Option<LegacyBalance>,
}

/// Where a balance read from AquaCIS stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyBalance {
    /// "24 nov 2026 a las 10:32".
    pub as_of: String,
    /// AquaCIS did not answer: this is its last answer (or, if `unavailable`, SUPRA's).
    pub stale: bool,
    /// No answer from AquaCIS at all: the balance is SUPRA's own.
    pub unavailable: bool,
}

/// A payment reference (OXXO) or card charge the citizen asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOrderView {
    pub id: i64,
    /// 'oxxo' | 'card' | 'spei' | 'codi'.
    pub channel: String,
    pub channel_label: String,
    pub amount: String,
    /// The reference as printed for the cashier, in groups of four digits.
    pub reference: Option<String>,
    pub expires: Option<String>,
    /// 'pendiente' | 'confirmado' | 'vencido' | 'rechazado' | 'cancelado'.
    pub status: String,
    pub status_label: String,
    /// 3-D Secure: where the browser must go to finish a card payment.
    pub redirect_url: Option<String>,
    pub created: String,
    /// Text for "Compartir por WhatsApp".
    pub share_text: String,
    /// Paying by card: the amount is chosen, the card is typed next (nothing is
    /// charged yet).
    #[serde(default)]
    pub card: Option<CardStep>,
    /// SPEI and CoDi: the contract's CLABE the money goes to.
    #[serde(default)]
    pub clabe: Option<String>,
}

/// The second step of a card payment: what the card form needs. The card itself goes
/// from the browser to Conekta (Conekta.js); only the token reaches us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardStep {
    pub importe_centavos: i64,
    pub recibo: Option<i64>,
    pub clave: String,
    pub public_key: String,
    pub script_url: String,
}

/// A card payment after 3-D Secure, read back from our records and Conekta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardPaymentStatus {
    /// 'confirmado' | 'aprobado' | 'rechazado' | 'pendiente'.
    pub status: String,
    pub amount: String,
    pub message: String,
    /// The receipt, once the payment is applied.
    pub receipt_id: Option<i64>,
}

/// What the citizen can pay, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayChoices {
    pub number: String,
    /// The bill proposed as "recibo actual" (the one asked for, else the oldest open
    /// one): (id, label, unpaid amount).
    pub bill: Option<(i64, String, String)>,
    /// The whole balance when something is owed.
    pub balance: Option<String>,
    pub spei_clabe: Option<String>,
    /// Without a CLABE of its own, SPEI still works with a CLABE per payment (Conekta).
    #[serde(default)]
    pub spei_by_conekta: bool,
    pub oxxo_available: bool,
    /// Card payments are offered (Conekta.js and a public key are configured).
    #[serde(default)]
    pub card_available: bool,
    /// A fresh key for the form: one submit, one reference.
    pub clave: String,
    pub orders: Vec<PaymentOrderView>,
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
    /// Facturación or administración: tariffs, billing runs, adjustments.
    pub can_bill: bool,
    /// Caja, facturación or administración: payments.
    #[serde(default)]
    pub can_take_payments: bool,
    /// Campo, atención, facturación or administración: readings, ingest, anomalies.
    #[serde(default)]
    pub can_read_meters: bool,
    /// Atención, facturación or administración: the AquaCIS bridge's page.
    #[serde(default)]
    pub can_see_legacy: bool,
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
    pub invoices: Vec<BillRow>,
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

// ---------------------------------------------------------------- bills (citizen and staff)

/// One bill in a list. Every field is formatted on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillRow {
    pub id: i64,
    /// "octubre 2026".
    pub period: String,
    pub folio: String,
    pub total: String,
    /// What is still unpaid of this bill.
    pub unpaid: String,
    /// Status code: emitida, pagada, parcial, vencida, cancelada.
    pub status: String,
    /// Status in words ("Por pagar", "Pagado"…).
    pub status_label: String,
    /// Still to be paid (emitida, parcial, vencida).
    pub open: bool,
    pub issued_on: String,
    pub due_date: String,
    pub m3: String,
    pub estimated: bool,
}

/// The citizen's bills; stored in IndexedDB as-is for offline use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillList {
    pub contract_id: i64,
    pub contract_number: String,
    pub rows: Vec<BillRow>,
    pub pending_count: usize,
    pub pending_total: String,
    pub fetched_at: String,
}

/// One row of "¿Cómo se calculó?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRow {
    pub description: String,
    /// "10 m³" or empty.
    pub quantity: String,
    /// "$11.20" or empty.
    pub unit_price: String,
    pub amount: String,
}

/// One line (concept) of a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLineRow {
    pub concept: String,
    pub description: String,
    /// "23 m³", "1 servicio".
    pub quantity: String,
    pub amount: String,
    pub tax_label: String,
    pub tax_amount: String,
    pub estimated: bool,
    pub steps: Vec<StepRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentRow {
    pub kind: String,
    pub amount: String,
    pub reason: String,
    pub date: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillReading {
    pub date: String,
    pub value: String,
}

/// Everything a bill shows; stored in IndexedDB as-is (the last 6) for offline use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillDetail {
    pub row: BillRow,
    pub contract_id: i64,
    pub contract_number: String,
    pub titular: String,
    pub service_address: String,
    pub use_label: String,
    pub meter_serial: String,
    pub previous_reading: Option<BillReading>,
    pub current_reading: Option<BillReading>,
    pub lines: Vec<BillLineRow>,
    pub adjustments: Vec<AdjustmentRow>,
    pub previous_balance: String,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
    pub amount_due: String,
    pub tariff_names: String,
    /// Changes whenever the PDF would change (the offline copy is refreshed then).
    pub pdf_key: String,
    pub fetched_at: String,
    /// Folio fiscal of the stamped CFDI (absent in copies saved before CFDI existed).
    #[serde(default)]
    pub cfdi_uuid: Option<String>,
}

/// Bills of the signed-in citizen's active contract, newest first.
#[server(endpoint = "citizen/bills")]
pub async fn get_bills() -> Result<BillList, AppError> {
    crate::ssr::bills::bills().await
}

/// One bill of the signed-in citizen (active or linked contract).
#[server(endpoint = "citizen/bill")]
pub async fn get_bill(id: i64) -> Result<BillDetail, AppError> {
    crate::ssr::bills::bill(id).await
}

/// The newest bills with all their detail, to keep on the phone for offline use.
#[server(endpoint = "citizen/bills_offline")]
pub async fn get_bills_offline() -> Result<Vec<BillDetail>, AppError> {
    crate::ssr::bills::bills_offline().await
}

// ---------------------------------------------------------------- staff: billing

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffVersionRow {
    pub id: i64,
    pub use_label: String,
    pub class_label: String,
    pub valid_from: String,
    pub name: String,
    pub saved_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffEdit {
    pub id: Option<i64>,
    pub name: String,
    pub toml: String,
}

/// The result of "Simular recibo".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimResult {
    pub tariff_name: String,
    pub period: String,
    pub billed_m3: String,
    pub lines: Vec<BillLineRow>,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunListRow {
    pub id: i64,
    pub period: String,
    pub status: String,
    pub status_label: String,
    pub started_at: String,
    pub invoices_issued: String,
    pub total: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingOverview {
    /// The previous month, `AAAA-MM`.
    pub default_period: String,
    pub runs: Vec<RunListRow>,
}

/// Live progress of a billing run (the SSE events carry this as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProgress {
    pub status: String,
    pub status_label: String,
    pub contracts_total: i64,
    pub contracts_done: i64,
    pub pct: u8,
    /// "Procesados 1,200 de 2,000 contratos (60 %) · 1,100 recibos nuevos".
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseTotalsRow {
    pub use_label: String,
    pub invoices: String,
    pub m3: String,
    pub estimated: String,
    pub total: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    pub label: String,
    pub count: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub contract_id: i64,
    pub number: String,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub period: String,
    pub started_at: String,
    pub finished_at: String,
    pub progress: RunProgress,
    pub invoices_issued: String,
    pub already_issued: String,
    pub total: String,
    pub estimated: String,
    pub flagged: String,
    pub skipped: String,
    /// One sentence for the person at the screen.
    pub headline: String,
    pub by_use: Vec<UseTotalsRow>,
    pub skipped_by_reason: Vec<CountRow>,
    pub reviews: Vec<ReviewItem>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffBill {
    pub detail: BillDetail,
    pub can_adjust: bool,
    /// The bill's CFDI (for the link to its page).
    pub cfdi_id: Option<i64>,
    pub payments: Vec<PaymentLine>,
    pub can_take_payment: bool,
    /// (c_FormaPago, label) a counter payment may use.
    pub formas: Vec<(String, String)>,
    /// A fresh idempotency key for the payment form.
    pub payment_key: String,
}

#[server(endpoint = "staff/tariffs")]
pub async fn list_tariffs() -> Result<Vec<TariffVersionRow>, AppError> {
    crate::ssr::bills::tariffs().await
}

#[server(endpoint = "staff/tariff")]
pub async fn get_tariff(id: Option<i64>) -> Result<TariffEdit, AppError> {
    crate::ssr::bills::tariff(id).await
}

/// Validate and store a tariff version; goes to the list on success.
#[server(endpoint = "staff/tariff_save")]
pub async fn tariff_save(toml: String) -> Result<(), AppError> {
    crate::ssr::bills::tariff_save(toml).await
}

/// "Simular recibo": the bill for `m3` under the tariff in `toml` (not stored).
#[server(endpoint = "staff/tariff_simulate")]
pub async fn simulate_bill(
    toml: String,
    m3: String,
    dias: Option<String>,
    inapam: Option<String>,
) -> Result<SimResult, AppError> {
    crate::ssr::bills::simulate(toml, m3, dias, inapam).await
}

#[server(endpoint = "staff/billing")]
pub async fn get_billing_overview() -> Result<BillingOverview, AppError> {
    crate::ssr::bills::billing_overview().await
}

/// Start a billing run for `periodo` (AAAA-MM); goes to its progress page.
#[server(endpoint = "staff/billing_start")]
pub async fn start_billing_run(periodo: String) -> Result<(), AppError> {
    crate::ssr::bills::start_run(periodo).await
}

#[server(endpoint = "staff/billing_run")]
pub async fn get_run(id: i64) -> Result<RunView, AppError> {
    crate::ssr::bills::run_view(id).await
}

#[server(endpoint = "staff/invoice")]
pub async fn get_staff_bill(id: i64) -> Result<StaffBill, AppError> {
    crate::ssr::bills::staff_bill(id).await
}

/// An adjustment (`ajuste`, + or −) or credit note (`nota_credito`) on an invoice.
#[server(endpoint = "staff/adjust")]
pub async fn post_adjustment(
    invoice_id: i64,
    tipo: String,
    importe: String,
    motivo: String,
) -> Result<(), AppError> {
    crate::ssr::bills::adjust(invoice_id, tipo, importe, motivo).await
}

// ---------------------------------------------------------------------------------------
// CFDI (staff)

/// One CFDI in the staff list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CfdiRow {
    pub id: i64,
    pub tipo: String,
    pub serie_folio: String,
    pub receptor_rfc: String,
    pub total: String,
    pub fecha: String,
    /// 'sellado', 'timbrado', 'rechazado', 'cancelacion_en_proceso', 'cancelado'.
    pub status: String,
    pub status_label: String,
    pub uuid: Option<String>,
    /// The PAC's code and message of a rejection or the last failure.
    pub pac: Option<String>,
}

/// The utility's CSD as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsdStatus {
    pub rfc: String,
    pub no_certificado: String,
    pub issuer: String,
    pub valid_until: String,
    pub days_left: i64,
    /// Expires within 90 days: request a new one from SAT.
    pub warning: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CfdiOverview {
    /// `Err` text when the CSD could not be loaded.
    pub csd: Result<CsdStatus, String>,
    pub pac: String,
    pub counts: Vec<CountRow>,
    pub rows: Vec<CfdiRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationLine {
    pub motivo: String,
    pub folio_sustitucion: Option<String>,
    pub note: String,
    pub status: String,
    pub sat_estatus: Option<String>,
    pub pac: Option<String>,
    pub requested_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CfdiDetail {
    pub row: CfdiRow,
    pub invoice_id: Option<i64>,
    pub can_retry: bool,
    pub can_cancel: bool,
    /// (code, description) of SAT's motivos.
    pub motivos: Vec<(String, String)>,
    pub cancellations: Vec<CancellationLine>,
}

/// The CFDI list with filters (`estado`, `tipo`, `periodo` AAAA-MM, `q` = UUID, RFC or
/// Serie-Folio) and the CSD and PAC status.
#[server(endpoint = "staff/cfdi")]
pub async fn list_cfdi(
    estado: Option<String>,
    tipo: Option<String>,
    periodo: Option<String>,
    q: Option<String>,
    pagina: Option<i64>,
) -> Result<CfdiOverview, AppError> {
    crate::ssr::cfdi::list(estado, tipo, periodo, q, pagina).await
}

#[server(endpoint = "staff/cfdi_detail")]
pub async fn get_cfdi(id: i64) -> Result<CfdiDetail, AppError> {
    crate::ssr::cfdi::detail(id).await
}

/// Send a rejected CFDI to the PAC again (after fixing its cause).
#[server(endpoint = "staff/cfdi_retry")]
pub async fn retry_cfdi(id: i64) -> Result<(), AppError> {
    crate::ssr::cfdi::retry(id).await
}

/// Ask SAT to cancel a stamped CFDI with a motivo (01 needs the replacement's UUID).
#[server(endpoint = "staff/cfdi_cancel")]
pub async fn cancel_cfdi(
    id: i64,
    motivo: String,
    sustituto: String,
    nota: String,
) -> Result<(), AppError> {
    crate::ssr::cfdi::cancel(id, motivo, sustituto, nota).await
}

/// A payment at the counter, applied to one bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLine {
    pub parcialidad: i32,
    pub amount: String,
    pub forma: String,
    pub paid_at: String,
    pub saldo_anterior: String,
    pub complemento: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDone {
    pub parcialidad: i32,
    pub saldo_insoluto: String,
}

/// Record a payment against a bill (caja, facturación). `clave` makes a repeated
/// submission of the same form record one payment.
#[server(endpoint = "staff/payment")]
pub async fn record_payment(
    invoice_id: i64,
    importe: String,
    forma: String,
    operacion: String,
    #[server(default)] clave: String,
) -> Result<PaymentDone, AppError> {
    crate::ssr::cfdi::record_payment(invoice_id, importe, forma, operacion, clave).await
}

// ---------------------------------------------------------------------------------------
// Payments (staff)

/// A payment a provider reported that names no contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedRow {
    pub id: i64,
    pub channel: String,
    pub amount: String,
    pub received_at: String,
    pub reference: String,
    pub payer: String,
    pub reason: String,
}

#[server(endpoint = "staff/unmatched")]
pub async fn list_unmatched() -> Result<Vec<UnmatchedRow>, AppError> {
    crate::ssr::cobro::unmatched().await
}

/// Assign an unmatched payment to a contract (by its number), with a note for the audit.
#[server(endpoint = "staff/assign_payment")]
pub async fn assign_payment(id: i64, contrato: String, nota: String) -> Result<(), AppError> {
    crate::ssr::cobro::assign(id, contrato, nota).await
}

/// The pay page's options; `recibo` proposes that bill as "recibo actual".
#[server(endpoint = "citizen/pay_options")]
pub async fn pay_options(recibo: Option<i64>) -> Result<PayChoices, AppError> {
    crate::ssr::pagos::options(recibo).await
}

/// Ask for a way to pay: `metodo` oxxo | spei; `opcion` recibo | saldo | otro (then
/// `otro` is the amount in pesos); `clave` makes a repeated submit one reference.
#[server(endpoint = "citizen/pay")]
pub async fn create_payment(
    metodo: String,
    opcion: String,
    otro: Option<String>,
    recibo: Option<i64>,
    #[server(default)] clave: String,
) -> Result<PaymentOrderView, AppError> {
    crate::ssr::pagos::create(metodo, opcion, otro, recibo, clave).await
}

/// Charge a card: `token` is what Conekta.js made in the browser from the card; the
/// amount and `clave` come from the first step ([`CardStep`]). The answer carries the
/// 3-D Secure page to go to, or a declined card's message as a field error.
#[server(endpoint = "citizen/pay_card")]
pub async fn pay_by_card(
    importe_centavos: i64,
    recibo: Option<i64>,
    #[server(default)] clave: String,
    token: String,
) -> Result<PaymentOrderView, AppError> {
    crate::ssr::pagos::pay_card(importe_centavos, recibo, clave, token).await
}

/// Back from 3-D Secure: where the card payment `order_id` stands.
#[server(endpoint = "citizen/card_result")]
pub async fn card_result(order_id: String) -> Result<CardPaymentStatus, AppError> {
    crate::ssr::pagos::card_result(order_id).await
}

/// The cashier's desk: their open session (if any), what it took, the last corte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashDeskView {
    pub open: Option<CashSessionView>,
    pub payments: Vec<CashPaymentRow>,
    /// A fresh key for the payment form: one submit, one payment.
    pub clave: String,
    pub last_corte: Option<CorteView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashSessionView {
    pub id: i64,
    pub opened_at: String,
    pub float: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashPaymentRow {
    pub id: i64,
    pub time: String,
    pub contract: String,
    pub method: String,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorteView {
    pub session_id: i64,
    pub opened_at: String,
    pub closed_at: String,
    /// (method, payments, amount).
    pub totals: Vec<(String, i64, String)>,
    pub total: String,
    pub float: String,
    pub expected_cash: String,
    pub counted_cash: String,
    pub discrepancy: String,
    pub balanced: bool,
    pub note: String,
}

/// A payment taken at the counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashTaken {
    pub id: i64,
    pub contract: String,
    pub amount: String,
}

#[server(endpoint = "staff/cash")]
pub async fn cash_desk() -> Result<CashDeskView, AppError> {
    crate::ssr::caja::desk().await
}

/// Open the cashier's session with `fondo` pesos in the drawer.
#[server(endpoint = "staff/cash_open")]
pub async fn open_cash(fondo: String) -> Result<(), AppError> {
    crate::ssr::caja::open(fondo).await
}

/// Take a payment: `forma` efectivo | cheque (then `cheque` is its number).
#[server(endpoint = "staff/cash_take")]
pub async fn take_cash(
    contrato: String,
    importe: String,
    forma: String,
    cheque: Option<String>,
    #[server(default)] clave: String,
) -> Result<CashTaken, AppError> {
    crate::ssr::caja::take(contrato, importe, forma, cheque, clave).await
}

/// Close the session (corte de caja) with the cash counted.
#[server(endpoint = "staff/cash_close")]
pub async fn close_cash(contado: String, nota: String) -> Result<CorteView, AppError> {
    crate::ssr::caja::close(contado, nota).await
}

/// One reconciliation run (a provider, a day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconRunView {
    pub id: i64,
    pub provider: String,
    pub day: String,
    pub ran_at: String,
    pub statement_count: i64,
    pub ours_count: i64,
    pub matched: i64,
    pub issues: i64,
    pub error: Option<String>,
}

/// One difference found by a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconItemView {
    pub kind: String,
    pub kind_label: String,
    pub key: String,
    pub reference: String,
    pub statement_amount: String,
    pub ours_amount: String,
}

#[server(endpoint = "staff/reconciliations")]
pub async fn reconciliations() -> Result<Vec<ReconRunView>, AppError> {
    crate::ssr::conciliacion::runs().await
}

#[server(endpoint = "staff/reconciliation_items")]
pub async fn reconciliation_items(
    corrida: i64,
) -> Result<(ReconRunView, Vec<ReconItemView>), AppError> {
    crate::ssr::conciliacion::items(corrida).await
}

/// Reconcile every provider for `dia` (AAAA-MM-DD) now.
#[server(endpoint = "staff/reconcile")]
pub async fn reconcile_now(dia: String) -> Result<usize, AppError> {
    crate::ssr::conciliacion::run(dia).await
}

/// One applied payment in the citizen's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentHistoryRow {
    pub id: i64,
    pub date: String,
    pub method: String,
    pub amount: String,
    pub reference: String,
}

#[server(endpoint = "citizen/payments")]
pub async fn payment_history() -> Result<Vec<PaymentHistoryRow>, AppError> {
    crate::ssr::pagos::history().await
}

/// A payment found by staff search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSearchRow {
    pub id: i64,
    pub date: String,
    pub channel: String,
    pub contract: String,
    pub amount: String,
    pub reference: String,
    pub status: String,
}

/// Search payments by contract number, reference/CLABE or provider id.
#[server(endpoint = "staff/search_payments")]
pub async fn search_payments(q: String) -> Result<Vec<PaymentSearchRow>, AppError> {
    crate::ssr::cobro::search(q).await
}
