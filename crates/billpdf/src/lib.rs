//! Bill PDF renderer for SUPRA Water.
//!
//! [`render`] turns a [`BillDocument`] — plain, already formatted data — into
//! the bytes of a Letter-size PDF in Spanish: utility header, contract and
//! service data, readings and consumption, a 12-period consumption chart, the
//! charged lines with their taxes, totals, a "¿Cómo se calculó?" breakdown
//! and a payment section (OXXO reference, SPEI CLABE, CoDi, CFDI UUID when
//! given; a neutral note otherwise). Long text is wrapped or cut with "…";
//! many lines flow onto further pages with a continuation header.
//!
//! The text is set in DejaVu Sans (regular and bold, vendored in `fonts/`
//! with its licence) and only the glyphs a bill uses are embedded.
//! Output is deterministic: the same document always gives the same bytes
//! (no timestamps; the document id is a hash of the page content).
//!
//! The crate knows nothing about databases, HTTP or billing rules: every
//! amount, date and quantity arrives as the string to print.

mod bill;
mod canvas;
mod fonts;
mod pdf;
pub mod receipt;
pub mod sample;

use rust_decimal::Decimal;

/// Everything printed on one bill. Strings are printed as given (money
/// already formatted, e.g. "$1,234.56"; dates already in Spanish).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillDocument {
    pub utility_name: String,
    pub utility_rfc: Option<String>,
    pub utility_address: String,
    pub utility_phone: Option<String>,
    pub contract_number: String,
    pub titular: String,
    pub service_address: String,
    /// e.g. "Doméstico · media".
    pub use_label: String,
    /// e.g. "octubre 2026".
    pub period_label: String,
    pub issue_date: String,
    pub due_date: String,
    pub folio: String,
    pub meter_serial: Option<String>,
    pub previous_reading: Option<ReadingRow>,
    pub current_reading: Option<ReadingRow>,
    /// The consumption number; " m³" is appended unless it already ends in a unit.
    pub consumption_m3: String,
    /// Prints a clear "Consumo estimado" badge when true.
    pub estimated: bool,
    /// Oldest first; the last bar is the current period. Only the last 12 are drawn.
    pub history: Vec<HistoryBar>,
    pub lines: Vec<DocLine>,
    /// The "¿Cómo se calculó?" rows (base charge, consumption blocks, …).
    pub how: Vec<HowRow>,
    pub previous_balance: String,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
    pub amount_due: String,
    pub payment: PaymentInfo,
    /// A note printed in its own box (review, estimate explanation, …).
    pub notice: Option<String>,
    /// The stamped CFDI: with it the PDF is also the CFDI's printed representation.
    pub fiscal: Option<FiscalInfo>,
}

/// The fiscal data of a stamped CFDI, as SAT asks the printed representation to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FiscalInfo {
    pub uuid: String,
    pub fecha_timbrado: String,
    pub rfc_prov_certif: String,
    pub no_certificado: String,
    pub no_certificado_sat: String,
    pub sello_cfd: String,
    pub sello_sat: String,
    /// Cadena original del complemento de certificación digital del SAT.
    pub cadena_tfd: String,
    /// SAT's verification URL, drawn as a QR code.
    pub verification_url: String,
}

/// One meter reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadingRow {
    pub date: String,
    pub value: String,
}

/// One bar of the consumption chart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryBar {
    /// Short month label, e.g. "oct".
    pub label: String,
    /// Consumption in m³; only used for the bar height and its label.
    pub m3: Decimal,
}

/// One charged line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocLine {
    pub description: String,
    pub quantity: String,
    pub amount: String,
    /// e.g. "IVA 16 %", "IVA 0 %", "Exento".
    pub tax_label: String,
    pub tax_amount: String,
}

/// One row of the "¿Cómo se calculó?" block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HowRow {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount: String,
}

/// Payment references; each is printed only when present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentInfo {
    pub oxxo_reference: Option<String>,
    pub clabe: Option<String>,
    pub codi_payload: Option<String>,
    pub cfdi_uuid: Option<String>,
}

/// Why a bill could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The embedded font could not be parsed or subset.
    #[error("font error: {0}")]
    Font(String),
    /// The PDF could not be assembled or written.
    #[error("PDF error: {0}")]
    Pdf(String),
}

/// Renders `doc` as a Letter-size PDF (612 × 792 pt, one page or more).
///
/// Deterministic: equal documents give byte-identical output.
pub fn render(doc: &BillDocument) -> Result<Vec<u8>, RenderError> {
    let fonts = fonts::fonts()?;
    let pages = bill::layout(doc, fonts);
    let title = format!(
        "Recibo de agua {} · Contrato {}",
        doc.period_label, doc.contract_number
    );
    pdf::write(
        &pages,
        fonts,
        &title,
        &doc.utility_name,
        (canvas::PAGE_W, canvas::PAGE_H),
    )
}
