//! Read models of invoices for pages, the bill PDF and (later) CFDI: what a citizen or
//! staff member sees, with the status derived from the ledger.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use db::billing::InvoiceRow;
use db::{Db, TenantId};
use domain::{M3, Money};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Invoice status. Payments are ledger entries; an invoice's status is derived by
/// allocating the contract's outstanding balance to its newest invoices (payments
/// settle the oldest debt first), so it can never disagree with the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Emitida,
    Pagada,
    Parcial,
    Vencida,
    Cancelada,
}

impl InvoiceStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            InvoiceStatus::Emitida => "emitida",
            InvoiceStatus::Pagada => "pagada",
            InvoiceStatus::Parcial => "parcial",
            InvoiceStatus::Vencida => "vencida",
            InvoiceStatus::Cancelada => "cancelada",
        }
    }
    pub fn label_es(&self) -> &'static str {
        match self {
            InvoiceStatus::Emitida => "Por pagar",
            InvoiceStatus::Pagada => "Pagado",
            InvoiceStatus::Parcial => "Pago parcial",
            InvoiceStatus::Vencida => "Vencido",
            InvoiceStatus::Cancelada => "Cancelado",
        }
    }
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            InvoiceStatus::Emitida | InvoiceStatus::Parcial | InvoiceStatus::Vencida
        )
    }
}

/// Status and unpaid amount of each invoice (given newest first) for a contract
/// whose ledger balance is `balance_centavos`.
pub fn derive_statuses(
    balance_centavos: i64,
    invoices_newest_first: &[InvoiceRow],
    today: NaiveDate,
) -> Vec<(InvoiceStatus, i64)> {
    let mut remaining = balance_centavos.max(0);
    invoices_newest_first
        .iter()
        .map(|inv| {
            if inv.cancelled {
                return (InvoiceStatus::Cancelada, 0);
            }
            let amount = (inv.total_centavos + inv.adjustments_centavos).max(0);
            let unpaid = amount.min(remaining);
            remaining -= unpaid;
            let status = if unpaid == 0 {
                InvoiceStatus::Pagada
            } else if unpaid < amount {
                InvoiceStatus::Parcial
            } else if inv.due_date < today {
                InvoiceStatus::Vencida
            } else {
                InvoiceStatus::Emitida
            };
            (status, unpaid)
        })
        .collect()
}

/// "24 nov 2026, 10:42" in Mexico City time.
pub fn local_datetime_es(t: DateTime<Utc>) -> String {
    use chrono::Timelike;
    use domain::MONTHS_ES_SHORT as SHORT;
    let l = t.with_timezone(&chrono_tz::America::Mexico_City);
    format!(
        "{} {} {}, {:02}:{:02}",
        l.day(),
        SHORT[l.month0() as usize],
        l.year(),
        l.hour(),
        l.minute()
    )
}

pub fn period_label(key: i32) -> String {
    use domain::MONTHS_ES as MONTHS;
    let m = (key % 100).clamp(1, 12) as usize;
    format!("{} {}", MONTHS[m - 1], key / 100)
}

fn short_month(key: i32) -> String {
    use domain::MONTHS_ES_SHORT as M;
    M[((key % 100).clamp(1, 12) - 1) as usize].to_string()
}

pub fn date_es(d: NaiveDate) -> String {
    use domain::MONTHS_ES_SHORT as M;
    format!("{} {} {}", d.day(), M[d.month0() as usize], d.year())
}

/// One invoice in a list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InvoiceSummary {
    pub id: i64,
    pub period: i32,
    pub period_label: String,
    pub folio: String,
    pub issued_on: NaiveDate,
    pub due_date: NaiveDate,
    pub total: Money,
    pub unpaid: Money,
    pub status: InvoiceStatus,
    pub billed_m3: String,
    pub estimated: bool,
}

/// Invoices of a contract, newest first, with derived status.
pub async fn invoice_list(
    db: &Db,
    tenant: TenantId,
    contract_id: i64,
    limit: i64,
) -> Result<Vec<InvoiceSummary>> {
    let mut tx = db.read(tenant).await?;
    let account = db::repo::account_by_id(&mut tx, contract_id)
        .await?
        .ok_or(Error::NotFound)?;
    // All invoices are needed to allocate the balance; the list is then cut.
    let rows = db::billing::invoices_of_contract(&mut tx, contract_id, 1_000).await?;
    let st = derive_statuses(account.balance_centavos, &rows, crate::today());
    Ok(rows
        .iter()
        .zip(st)
        .take(limit.max(0) as usize)
        .map(|(r, (status, unpaid))| summary(r, status, unpaid))
        .collect())
}

fn summary(r: &InvoiceRow, status: InvoiceStatus, unpaid: i64) -> InvoiceSummary {
    InvoiceSummary {
        id: r.id,
        period: r.period,
        period_label: period_label(r.period),
        folio: r.folio.clone(),
        issued_on: r.issued_on,
        due_date: r.due_date,
        total: Money::from_centavos(r.total_centavos + r.adjustments_centavos),
        unpaid: Money::from_centavos(unpaid),
        status,
        billed_m3: M3::from_litres(r.billed_litres).format(),
        estimated: r.estimated,
    }
}

/// One row of the "¿Cómo se calculó?" breakdown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepView {
    pub description: String,
    pub quantity_m3: Option<String>,
    pub unit_price: Option<String>,
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LineView {
    pub concept: String,
    pub description: String,
    pub quantity: String,
    pub unit: String,
    pub unit_price: Option<String>,
    pub amount: Money,
    pub tax: String,
    pub tax_label: String,
    pub tax_amount: Money,
    pub clave_prod_serv: String,
    pub clave_unidad: String,
    pub estimated: bool,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdjustmentView {
    pub kind: String,
    pub amount: Money,
    pub reason: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReadingView {
    pub date: String,
    pub value_m3: String,
}

/// Everything a bill shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InvoiceView {
    pub summary: InvoiceSummary,
    pub contract_id: i64,
    pub contract_number: String,
    pub titular: String,
    pub service_address: String,
    pub use_label: String,
    pub meter_serial: Option<String>,
    pub previous_reading: Option<ReadingView>,
    pub current_reading: Option<ReadingView>,
    pub lines: Vec<LineView>,
    pub adjustments: Vec<AdjustmentView>,
    pub previous_balance: Money,
    pub subtotal: Money,
    pub tax: Money,
    pub amount_due: Money,
    pub tariff_names: String,
    pub history: Vec<(String, String, bool)>,
    pub cfdi_uuid: Option<String>,
    /// The stamp, when the bill's CFDI is stamped (its printed representation).
    #[serde(default)]
    pub fiscal: Option<FiscalView>,
}

/// A stamped CFDI's data for the printed representation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FiscalView {
    pub uuid: String,
    pub fecha_timbrado: String,
    pub rfc_prov_certif: String,
    pub no_certificado: String,
    pub no_certificado_sat: String,
    pub sello_cfd: String,
    pub sello_sat: String,
    pub cadena_tfd: String,
    pub verification_url: String,
}

impl FiscalView {
    fn of(stamped_xml: &str) -> Option<FiscalView> {
        let s = cfdi::tfd::parse(stamped_xml).ok()?;
        Some(FiscalView {
            cadena_tfd: s.cadena_tfd(),
            verification_url: s.verification_url(),
            uuid: s.uuid,
            fecha_timbrado: s.fecha_timbrado,
            rfc_prov_certif: s.rfc_prov_certif,
            no_certificado: s.no_certificado,
            no_certificado_sat: s.no_certificado_sat,
            sello_cfd: s.sello_cfd,
            sello_sat: s.sello_sat,
        })
    }
}

fn tax_label(tax: &str) -> String {
    match tax {
        "iva16" => "IVA 16 %",
        "iva0" => "IVA 0 %",
        "exento" => "Exento",
        _ => "No objeto de IVA",
    }
    .to_string()
}

fn concept_label(concept: &str) -> &'static str {
    match concept {
        "agua" => "Agua potable",
        "alcantarillado" => "Alcantarillado",
        "saneamiento" => "Saneamiento",
        "descuento" => "Descuento",
        "recargos" => "Recargos",
        "reconexion" => "Reconexión",
        "multa" => "Multa",
        _ => "Otro concepto",
    }
}

/// The full invoice. `contract_scope`: when `Some`, the invoice must belong to that
/// contract (citizens), otherwise it is "not found" — never another person's bill.
pub async fn invoice_view(
    db: &Db,
    tenant: TenantId,
    invoice_id: i64,
    contract_scope: Option<i64>,
) -> Result<InvoiceView> {
    let mut tx = db.read(tenant).await?;
    let inv = db::billing::invoice_by_id(&mut tx, invoice_id)
        .await?
        .ok_or(Error::NotFound)?;
    if contract_scope.is_some_and(|c| c != inv.contract_id) {
        return Err(Error::NotFound);
    }
    let account = db::repo::account_by_id(&mut tx, inv.contract_id)
        .await?
        .ok_or(Error::NotFound)?;
    let all = db::billing::invoices_of_contract(&mut tx, inv.contract_id, 1_000).await?;
    let statuses = derive_statuses(account.balance_centavos, &all, crate::today());
    let (status, unpaid) = all
        .iter()
        .zip(statuses)
        .find(|(r, _)| r.id == inv.id)
        .map(|(_, s)| s)
        .unwrap_or((InvoiceStatus::Emitida, inv.total_centavos));
    let lines = db::billing::invoice_lines(&mut tx, inv.id).await?;
    let adjustments = db::billing::adjustments_of_invoice(&mut tx, inv.id).await?;
    let history = db::billing::billed_history(&mut tx, inv.contract_id, inv.period, 12).await?;
    let meter_serial = match inv.meter_id {
        Some(_) => db::repo::meters_of_contract(&mut tx, inv.contract_id)
            .await?
            .into_iter()
            .find(|m| Some(m.id) == inv.meter_id)
            .map(|m| m.serial),
        None => None,
    };
    let fiscal = db::cfdi::document_of_invoice(&mut tx, inv.id)
        .await?
        .and_then(|d| d.stamped_xml)
        .and_then(|xml| FiscalView::of(&xml));
    drop(tx);
    let reading = |litres: Option<i64>, at: Option<chrono::DateTime<chrono::Utc>>| {
        litres.zip(at).map(|(l, at)| ReadingView {
            date: date_es(
                at.with_timezone(&chrono_tz::America::Mexico_City)
                    .date_naive(),
            ),
            value_m3: M3::from_litres(l).format(),
        })
    };
    let mut address = format!("{} {}", account.street, account.ext_number);
    if let Some(i) = &account.int_number {
        address.push_str(&format!(" int. {i}"));
    }
    address.push_str(&format!(
        ", {}, {}, C.P. {}",
        account.colonia, account.municipio, account.cp
    ));
    let use_label = format!(
        "{} · {}",
        account
            .use_type
            .parse::<domain::UseType>()
            .map_or(account.use_type.clone(), |u| u.label_es().to_string()),
        account
            .tariff_class
            .parse::<domain::TariffClass>()
            .map_or(account.tariff_class.clone(), |c| c.label_es().to_string()),
    );
    let lines = lines
        .into_iter()
        .map(|l| {
            let steps: Vec<StepRaw> = serde_json::from_value(l.steps.0.clone()).unwrap_or_default();
            LineView {
                concept: concept_label(&l.concept).to_string(),
                description: l.description,
                quantity: l.quantity,
                unit: l.unit,
                unit_price: l.unit_price,
                amount: Money::from_centavos(l.amount_centavos),
                tax_label: tax_label(&l.tax),
                tax: l.tax,
                tax_amount: Money::from_centavos(l.tax_centavos),
                clave_prod_serv: l.clave_prod_serv,
                clave_unidad: l.clave_unidad,
                estimated: l.estimated,
                steps: steps
                    .into_iter()
                    .map(|s| StepView {
                        description: s.description,
                        quantity_m3: s.quantity_m3,
                        unit_price: s.unit_price,
                        amount: s.amount,
                    })
                    .collect(),
            }
        })
        .collect();
    let adjustments_total = inv.adjustments_centavos;
    Ok(InvoiceView {
        summary: summary(&inv, status, unpaid),
        contract_id: inv.contract_id,
        contract_number: account.number,
        titular: account.full_name,
        service_address: address,
        use_label,
        meter_serial,
        previous_reading: reading(inv.prev_reading_litres, inv.prev_read_at),
        current_reading: reading(inv.curr_reading_litres, inv.curr_read_at),
        lines,
        adjustments: adjustments
            .into_iter()
            .map(|a| AdjustmentView {
                kind: a.kind,
                amount: Money::from_centavos(a.amount_centavos),
                reason: a.reason,
                created_at: date_es(
                    a.created_at
                        .with_timezone(&chrono_tz::America::Mexico_City)
                        .date_naive(),
                ),
            })
            .collect(),
        previous_balance: Money::from_centavos(inv.previous_balance_centavos),
        subtotal: Money::from_centavos(inv.subtotal_centavos),
        tax: Money::from_centavos(inv.tax_centavos),
        amount_due: Money::from_centavos(
            (inv.previous_balance_centavos + inv.total_centavos + adjustments_total).max(0),
        ),
        tariff_names: inv.tariff_names,
        history: history
            .into_iter()
            .map(|(p, l, e)| (short_month(p), M3::from_litres(l).value().to_string(), e))
            .collect(),
        cfdi_uuid: inv.cfdi_uuid,
        fiscal,
    })
}

/// The stored shape of a breakdown row (billing::Step serialised).
#[derive(Debug, Default, Deserialize)]
struct StepRaw {
    description: String,
    quantity_m3: Option<String>,
    unit_price: Option<String>,
    amount: Money,
}

/// Utility details printed on the bill header.
#[derive(Debug, Clone)]
pub struct UtilityInfo {
    pub name: String,
    pub rfc: Option<String>,
    pub address: String,
    pub phone: Option<String>,
}

/// The bill PDF of an invoice (deterministic bytes for the same invoice).
pub fn render_pdf(v: &InvoiceView, utility: &UtilityInfo) -> Result<Vec<u8>> {
    use billpdf::*;
    let money = |m: Money| m.format_mxn();
    let doc = BillDocument {
        utility_name: utility.name.clone(),
        utility_rfc: utility.rfc.clone(),
        utility_address: utility.address.clone(),
        utility_phone: utility.phone.clone(),
        contract_number: v.contract_number.clone(),
        titular: v.titular.clone(),
        service_address: v.service_address.clone(),
        use_label: v.use_label.clone(),
        period_label: v.summary.period_label.clone(),
        issue_date: date_es(v.summary.issued_on),
        due_date: date_es(v.summary.due_date),
        folio: v.summary.folio.clone(),
        meter_serial: v.meter_serial.clone(),
        previous_reading: v.previous_reading.as_ref().map(|r| ReadingRow {
            date: r.date.clone(),
            value: r.value_m3.clone(),
        }),
        current_reading: v.current_reading.as_ref().map(|r| ReadingRow {
            date: r.date.clone(),
            value: r.value_m3.clone(),
        }),
        consumption_m3: v.summary.billed_m3.clone(),
        estimated: v.summary.estimated,
        history: v
            .history
            .iter()
            .map(|(label, m3, _)| HistoryBar {
                label: label.clone(),
                m3: m3.parse().unwrap_or_default(),
            })
            .collect(),
        lines: v
            .lines
            .iter()
            .map(|l| DocLine {
                description: l.description.clone(),
                quantity: format!("{} {}", l.quantity, l.unit),
                amount: money(l.amount),
                tax_label: l.tax_label.clone(),
                tax_amount: money(l.tax_amount),
            })
            .chain(v.adjustments.iter().map(|a| DocLine {
                description: format!("{}: {}", adjustment_label(&a.kind), a.reason),
                quantity: String::new(),
                amount: money(a.amount),
                tax_label: String::new(),
                tax_amount: String::new(),
            }))
            .collect(),
        how: v
            .lines
            .iter()
            .flat_map(|l| l.steps.iter())
            .map(|s| HowRow {
                description: s.description.clone(),
                quantity: s
                    .quantity_m3
                    .as_ref()
                    .map(|q| format!("{q} m³"))
                    .unwrap_or_default(),
                unit_price: s
                    .unit_price
                    .as_ref()
                    .and_then(|p| Money::parse(p).ok())
                    .map(money)
                    .unwrap_or_default(),
                amount: money(s.amount),
            })
            .collect(),
        previous_balance: money(v.previous_balance),
        subtotal: money(v.subtotal),
        tax: money(v.tax),
        total: money(v.summary.total),
        amount_due: money(v.amount_due),
        payment: PaymentInfo {
            oxxo_reference: None,
            clabe: None,
            codi_payload: None,
            cfdi_uuid: v.cfdi_uuid.clone(),
        },
        fiscal: v.fiscal.as_ref().map(|f| billpdf::FiscalInfo {
            uuid: f.uuid.clone(),
            fecha_timbrado: f.fecha_timbrado.clone(),
            rfc_prov_certif: f.rfc_prov_certif.clone(),
            no_certificado: f.no_certificado.clone(),
            no_certificado_sat: f.no_certificado_sat.clone(),
            sello_cfd: f.sello_cfd.clone(),
            sello_sat: f.sello_sat.clone(),
            cadena_tfd: f.cadena_tfd.clone(),
            verification_url: f.verification_url.clone(),
        }),
        notice: v.summary.estimated.then(|| {
            "Consumo estimado: no fue posible tomar la lectura este periodo. Se ajustará con la próxima lectura real.".to_string()
        }),
    };
    billpdf::render(&doc).map_err(|e| Error::Pdf(e.to_string()))
}

pub fn adjustment_label(kind: &str) -> &'static str {
    match kind {
        "nota_credito" => "Nota de crédito",
        _ => "Ajuste",
    }
}

/// The issuer block of the bill. The fiscal profile (RFC, régimen, lugar de
/// expedición) arrives with CFDI; until then the bill shows the utility's name.
pub async fn utility_info(db: &Db, tenant: TenantId) -> Result<UtilityInfo> {
    let t = db::repo::list_tenants(db)
        .await?
        .into_iter()
        .find(|t| t.id == tenant.0)
        .ok_or(Error::NotFound)?;
    Ok(UtilityInfo {
        name: t.name,
        rfc: None,
        address: t.short_name,
        phone: None,
    })
}
