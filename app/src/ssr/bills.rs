//! Bills, tariffs, billing runs and adjustments: the server side of the billing pages
//! (server functions) and the plain axum handlers for the bill PDF and the run's
//! progress events. The work happens in `invoicing`, `billing` and `db::billing`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use invoicing::{InvoiceSummary, InvoiceView};

use super::*;

impl From<invoicing::Error> for AppError {
    fn from(e: invoicing::Error) -> Self {
        match e {
            invoicing::Error::NotFound => AppError::NotFound,
            invoicing::Error::Billing(b) => billing_invalid("toml", b),
            invoicing::Error::Invalid { field, message } => AppError::invalid(field, message),
            other => internal(other),
        }
    }
}

/// A `billing` validation error as a field error: the engine's field-level message
/// without the "campo «…»:" prefix when it is about `field` itself.
fn billing_invalid(field: &str, e: billing::BillingError) -> AppError {
    let msg = match &e {
        billing::BillingError::Syntax(m) => format!("El archivo no es TOML válido: {m}"),
        billing::BillingError::Invalid { field: f, message } if f == "periodo" => {
            capitalize(message)
        }
        other => capitalize(&other.to_string()),
    };
    AppError::invalid(field, msg)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `1843` → `"1,843"` (es-MX thousands separator).
pub(crate) fn int_mx(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A price per m³ as pesos: `"11.2"` → `"$11.20"`; more decimals are kept.
fn price_label(s: &str) -> String {
    match Money::parse(s) {
        Ok(m) => m.format_mxn(),
        Err(_) => format!("${s}"),
    }
}

fn quantity_label(q: &str, unit: &str) -> String {
    if unit.is_empty() {
        q.to_string()
    } else {
        format!("{q} {unit}")
    }
}

fn tax_label(code: &str) -> String {
    match code {
        "iva16" => "IVA 16 %",
        "iva0" => "IVA 0 %",
        "exento" => "Exento de IVA",
        _ => "No objeto de IVA",
    }
    .to_string()
}

pub(crate) fn bill_row(s: &InvoiceSummary) -> BillRow {
    BillRow {
        id: s.id,
        period: s.period_label.clone(),
        folio: s.folio.clone(),
        total: s.total.format_mxn(),
        unpaid: s.unpaid.format_mxn(),
        status: s.status.as_str().to_string(),
        status_label: s.status.label_es().to_string(),
        open: s.status.is_open(),
        issued_on: invoicing::date_es(s.issued_on),
        due_date: invoicing::date_es(s.due_date),
        m3: s.billed_m3.clone(),
        estimated: s.estimated,
    }
}

fn bill_detail(v: &InvoiceView) -> BillDetail {
    let reading = |r: &Option<invoicing::ReadingView>| {
        r.as_ref().map(|r| BillReading {
            date: r.date.clone(),
            // Already "390.91 m³" (M3::format).
            value: r.value_m3.clone(),
        })
    };
    let adjustments_total: i64 = v.adjustments.iter().map(|a| a.amount.centavos()).sum();
    BillDetail {
        row: bill_row(&v.summary),
        contract_id: v.contract_id,
        contract_number: v.contract_number.clone(),
        titular: v.titular.clone(),
        service_address: v.service_address.clone(),
        use_label: v.use_label.clone(),
        meter_serial: v.meter_serial.clone().unwrap_or_else(|| "—".into()),
        previous_reading: reading(&v.previous_reading),
        current_reading: reading(&v.current_reading),
        lines: v
            .lines
            .iter()
            .map(|l| BillLineRow {
                concept: l.concept.clone(),
                description: l.description.clone(),
                quantity: quantity_label(&l.quantity, &l.unit),
                amount: l.amount.format_mxn(),
                tax_label: l.tax_label.clone(),
                tax_amount: l.tax_amount.format_mxn(),
                estimated: l.estimated,
                steps: l
                    .steps
                    .iter()
                    .map(|s| StepRow {
                        description: s.description.clone(),
                        quantity: s
                            .quantity_m3
                            .as_ref()
                            .map(|q| format!("{q} m³"))
                            .unwrap_or_default(),
                        unit_price: s.unit_price.as_deref().map(price_label).unwrap_or_default(),
                        amount: s.amount.format_mxn(),
                    })
                    .collect(),
            })
            .collect(),
        adjustments: v
            .adjustments
            .iter()
            .map(|a| AdjustmentRow {
                kind: invoicing::adjustment_label(&a.kind).to_string(),
                amount: a.amount.format_mxn(),
                reason: a.reason.clone(),
                date: a.created_at.clone(),
            })
            .collect(),
        previous_balance: v.previous_balance.format_mxn(),
        subtotal: v.subtotal.format_mxn(),
        tax: v.tax.format_mxn(),
        total: v.summary.total.format_mxn(),
        amount_due: v.amount_due.format_mxn(),
        tariff_names: v.tariff_names.clone(),
        pdf_key: format!(
            "{}:{}:{}:{}",
            v.summary.folio,
            v.adjustments.len(),
            adjustments_total,
            v.cfdi_uuid.as_deref().unwrap_or("")
        ),
        cfdi_uuid: v.cfdi_uuid.clone(),
        fetched_at: auth::format_local(Utc::now()),
    }
}

// ---------------------------------------------------------------- citizen

/// How many bills a citizen keeps on the phone for offline use.
const OFFLINE_BILLS: usize = 6;

pub async fn bills() -> Result<BillList, AppError> {
    let (_, contract_id, r) = citizen().await?;
    let list = match invoicing::invoice_list(&r.st.db, r.tenant, contract_id, 36).await {
        Ok(l) => l,
        Err(e) => return fail(e.into()),
    };
    let number = {
        let mut tx = r.st.db.read(r.tenant).await?;
        repo::account_by_id(&mut tx, contract_id)
            .await?
            .map(|a| a.number)
            .unwrap_or_default()
    };
    let pending: Vec<&InvoiceSummary> = list.iter().filter(|s| s.status.is_open()).collect();
    let pending_total: i64 = pending.iter().map(|s| s.unpaid.centavos()).sum();
    Ok(BillList {
        contract_id,
        contract_number: number,
        pending_count: pending.len(),
        pending_total: Money::from_centavos(pending_total).format_mxn(),
        rows: list.iter().map(bill_row).collect(),
        fetched_at: auth::format_local(Utc::now()),
    })
}

/// The invoice `id` if the citizen may see it (its contract is linked to them),
/// else not found — never someone else's bill, and no hint that it exists.
async fn citizen_invoice(r: &Req, citizen_id: i64, id: i64) -> Result<InvoiceView, AppError> {
    let mut tx = r.st.db.read(r.tenant).await?;
    let Some(inv) = db::billing::invoice_by_id(&mut tx, id).await? else {
        return Err(AppError::NotFound);
    };
    if !repo::citizen_has_contract(&mut tx, citizen_id, inv.contract_id).await? {
        return Err(AppError::NotFound);
    }
    drop(tx);
    Ok(invoicing::invoice_view(&r.st.db, r.tenant, id, Some(inv.contract_id)).await?)
}

pub async fn bill(id: i64) -> Result<BillDetail, AppError> {
    let (citizen_id, _, r) = citizen().await?;
    match citizen_invoice(&r, citizen_id, id).await {
        Ok(v) => Ok(bill_detail(&v)),
        Err(e) => fail(e),
    }
}

pub async fn bills_offline() -> Result<Vec<BillDetail>, AppError> {
    let (_, contract_id, r) = citizen().await?;
    let list = match invoicing::invoice_list(&r.st.db, r.tenant, contract_id, OFFLINE_BILLS as i64)
        .await
    {
        Ok(l) => l,
        Err(e) => return fail(e.into()),
    };
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let v = invoicing::invoice_view(&r.st.db, r.tenant, s.id, Some(contract_id)).await?;
        out.push(bill_detail(&v));
    }
    Ok(out)
}

// ---------------------------------------------------------------- plain handlers

fn accepts_html(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// An error answer of a plain handler: a browser that is not signed in goes to the
/// sign-in page; anything else gets the status and the Spanish message.
pub(super) fn handler_error(e: AppError, h: &HeaderMap, sign_in: &'static str) -> Response {
    if e == AppError::Unauthorized && accepts_html(h) {
        return (StatusCode::FOUND, [(header::LOCATION, sign_in)]).into_response();
    }
    (
        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.to_string(),
    )
        .into_response()
}

pub(super) fn peer_of(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

async fn pdf_response(st: &AppState, tenant: TenantId, v: InvoiceView) -> Response {
    let utility = match invoicing::utility_info(&st.db, tenant).await {
        Ok(u) => u,
        Err(e) => return handler_error(e.into(), &HeaderMap::new(), "/"),
    };
    let folio: String = v
        .summary
        .folio
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let bytes = match tokio::task::spawn_blocking(move || invoicing::render_pdf(&v, &utility)).await
    {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return handler_error(internal(e), &HeaderMap::new(), "/"),
        Err(e) => return handler_error(internal(e), &HeaderMap::new(), "/"),
    };
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"recibo-{folio}.pdf\""),
            ),
            // The phone keeps its copy (service worker / IndexedDB), always revalidated.
            (header::CACHE_CONTROL, "private, no-cache".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /cuenta/recibos/{id}/pdf`: a bill of the signed-in citizen (active or linked
/// contract), else 404.
pub async fn citizen_pdf(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let h = req.headers();
    let r = Req::from_headers(st.clone(), h, peer_of(&req));
    let (citizen_id, _) = match citizen_of(&r).await {
        Ok(c) => c,
        Err(e) => return handler_error(e, h, "/entrar"),
    };
    match citizen_invoice(&r, citizen_id, id).await {
        Ok(v) => pdf_response(&st, r.tenant, v).await,
        Err(e) => handler_error(e, h, "/entrar"),
    }
}

/// `GET /personal/recibos/{id}/pdf`: any staff role. Audited.
pub async fn staff_pdf(State(st): State<AppState>, Path(id): Path<i64>, req: Request) -> Response {
    let h = req.headers().clone();
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let s = match staff_of(r, StaffRole::ALL).await {
        Ok(s) => s,
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    };
    let v = match invoicing::invoice_view(&st.db, s.r.tenant, id, None).await {
        Ok(v) => v,
        Err(e) => return handler_error(e.into(), &h, "/personal/entrar"),
    };
    if let Err(e) = audit(
        &s,
        "invoice.pdf_viewed",
        Some(("contract", v.contract_id)),
        serde_json::json!({"invoice_id": id, "folio": v.summary.folio}),
    )
    .await
    {
        return handler_error(e, &h, "/personal/entrar");
    }
    pdf_response(&st, s.r.tenant, v).await
}

pub(super) fn xml_response(name: &str, xml: String) -> Response {
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (
        [
            (
                header::CONTENT_TYPE,
                "application/xml; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-cache".to_string()),
        ],
        xml,
    )
        .into_response()
}

fn no_cfdi() -> AppError {
    AppError::Invalid {
        field: "cfdi".into(),
        message: "Este recibo todavía no tiene factura electrónica (CFDI) timbrada.".into(),
    }
}

/// `GET /cuenta/recibos/{id}/cfdi.xml`: the stamped CFDI of a bill of the signed-in
/// citizen; 404 when it is not theirs or not stamped yet.
pub async fn citizen_xml(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let h = req.headers();
    let r = Req::from_headers(st.clone(), h, peer_of(&req));
    let (citizen_id, _) = match citizen_of(&r).await {
        Ok(c) => c,
        Err(e) => return handler_error(e, h, "/entrar"),
    };
    if let Err(e) = citizen_invoice(&r, citizen_id, id).await {
        return handler_error(e, h, "/entrar");
    }
    match invoicing::fiscal::invoice_xml(&st.db, r.tenant, id, true).await {
        Ok(Some((name, xml))) => xml_response(&name, xml),
        Ok(None) => not_found_with(no_cfdi()),
        Err(e) => handler_error(e.into(), h, "/entrar"),
    }
}

/// `GET /personal/recibos/{id}/cfdi.xml`: any staff role; the sealed XML while the PAC
/// has not stamped it. Audited.
pub async fn staff_xml(State(st): State<AppState>, Path(id): Path<i64>, req: Request) -> Response {
    let h = req.headers().clone();
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let s = match staff_of(r, StaffRole::ALL).await {
        Ok(s) => s,
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    };
    let found = match invoicing::fiscal::invoice_xml(&st.db, s.r.tenant, id, false).await {
        Ok(Some(f)) => f,
        Ok(None) => return not_found_with(no_cfdi()),
        Err(e) => return handler_error(e.into(), &h, "/personal/entrar"),
    };
    if let Err(e) = audit(
        &s,
        "invoice.cfdi_xml_downloaded",
        None,
        serde_json::json!({"invoice_id": id, "file": found.0}),
    )
    .await
    {
        return handler_error(e, &h, "/personal/entrar");
    }
    xml_response(&found.0, found.1)
}

fn not_found_with(e: AppError) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.to_string(),
    )
        .into_response()
}

/// `GET /personal/facturacion/corridas/{id}/eventos`: Server-Sent Events with the
/// run's progress (JSON [`RunProgress`]) every ~500 ms until it is no longer running.
pub async fn run_events(State(st): State<AppState>, Path(id): Path<i64>, req: Request) -> Response {
    let h = req.headers().clone();
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let s = match staff_of(r, BILLING).await {
        Ok(s) => s,
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    };
    let (db, tenant) = (st.db.clone(), s.r.tenant);
    match load_run(&db, tenant, id).await {
        Ok(Some(_)) => {}
        Ok(None) => return handler_error(AppError::NotFound, &h, "/personal/entrar"),
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    }
    // (first event?, finished?, polls left): at most one hour of polling.
    let stream = futures::stream::unfold((true, false, 7_200u32), move |(first, done, left)| {
        let db = db.clone();
        async move {
            if done || left == 0 {
                return None;
            }
            if !first {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let (event, finished) = match load_run(&db, tenant, id).await {
                Ok(Some(run)) => {
                    let p = progress(&run);
                    let finished = p.status != "en_curso";
                    (Event::default().json_data(&p).ok()?, finished)
                }
                _ => return None,
            };
            Some((Ok::<Event, Infallible>(event), (false, finished, left - 1)))
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

// ---------------------------------------------------------------- staff: invoices

pub async fn staff_bill(id: i64) -> Result<StaffBill, AppError> {
    let s = staff(StaffRole::ALL).await?;
    match invoicing::invoice_view(&s.r.st.db, s.r.tenant, id, None).await {
        Ok(v) => {
            let (st, tenant) = (s.r.st.clone(), s.r.tenant);
            let cfdi_id = {
                let mut tx = st.db.read(tenant).await?;
                db::cfdi::document_of_invoice(&mut tx, id)
                    .await?
                    .map(|d| d.id)
            };
            Ok(StaffBill {
                detail: bill_detail(&v),
                can_adjust: can_bill(s.role),
                cfdi_id,
                payments: super::cfdi::payment_lines(&st, tenant, id).await?,
                can_take_payment: super::cfdi::can_take_payment(s.role),
                formas: invoicing::complemento::FORMAS_DE_PAGO
                    .iter()
                    .map(|(c, l)| (c.to_string(), format!("{c} · {l}")))
                    .collect(),
                payment_key: format!("caja-{id}-{}", Utc::now().timestamp_micros()),
            })
        }
        Err(e) => fail(e.into()),
    }
}

/// Validated adjustment: (kind, signed centavos, reason).
fn validate_adjustment(
    tipo: &str,
    importe: &str,
    motivo: &str,
) -> Result<(&'static str, i64, String), AppError> {
    let kind = match tipo.trim() {
        "ajuste" => "ajuste",
        "nota_credito" => "nota_credito",
        _ => {
            return Err(AppError::invalid(
                "tipo",
                "Elige si es un ajuste o una nota de crédito.",
            ));
        }
    };
    let amount = Money::parse(importe).map_err(|e| AppError::invalid("importe", e.message))?;
    if amount.is_zero() {
        return Err(AppError::invalid(
            "importe",
            "El importe no puede ser cero.",
        ));
    }
    // A credit note is always in the customer's favour: stored negative.
    let centavos = if kind == "nota_credito" {
        -amount.centavos().abs()
    } else {
        amount.centavos()
    };
    let reason = motivo.trim();
    if reason.chars().count() < 5 {
        return Err(AppError::invalid(
            "motivo",
            "Escribe el motivo (al menos 5 letras): queda en el recibo y en la bitácora.",
        ));
    }
    if reason.chars().count() > 300 {
        return Err(AppError::invalid(
            "motivo",
            "Escribe el motivo en menos de 300 caracteres.",
        ));
    }
    Ok((kind, centavos, reason.to_string()))
}

pub async fn adjust(
    invoice_id: i64,
    tipo: String,
    importe: String,
    motivo: String,
) -> Result<(), AppError> {
    let s = staff(BILLING).await?;
    let (kind, centavos, reason) = match validate_adjustment(&tipo, &importe, &motivo) {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let now = Utc::now();
    let mut tx = s.r.st.db.write(s.r.tenant).await?;
    let Some(inv) = db::billing::invoice_by_id(&mut tx, invoice_id).await? else {
        return fail(AppError::NotFound);
    };
    if inv.cancelled {
        return fail(AppError::invalid(
            "importe",
            "El recibo está cancelado: no admite ajustes.",
        ));
    }
    let current = inv.total_centavos + inv.adjustments_centavos;
    if current + centavos < 0 {
        return fail(AppError::invalid(
            "importe",
            format!(
                "El abono no puede ser mayor que el importe del recibo ({}).",
                Money::from_centavos(current).format_mxn()
            ),
        ));
    }
    let label = invoicing::adjustment_label(kind);
    let description = format!("{label} al recibo {}: {reason}", inv.folio);
    let adj_id = db::billing::insert_adjustment(
        &mut tx,
        &db::billing::NewAdjustment {
            invoice_id,
            contract_id: inv.contract_id,
            kind,
            amount_centavos: centavos,
            reason: &reason,
            staff_id: s.id,
            ledger_description: &description,
            today: invoicing::today(),
            now,
        },
    )
    .await?;
    repo::record_event(
        &mut tx,
        repo::NewEvent {
            actor_kind: "staff",
            actor_id: Some(s.id),
            action: "invoice.adjusted",
            subject_kind: Some("contract"),
            subject_id: Some(inv.contract_id),
            data: serde_json::json!({"invoice_id": invoice_id, "folio": inv.folio,
                "adjustment_id": adj_id, "kind": kind, "amount_centavos": centavos,
                "reason": reason}),
            ip: Some(&s.r.ip),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- staff: tariffs

pub async fn tariffs() -> Result<Vec<TariffVersionRow>, AppError> {
    let s = staff(BILLING).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let rows = db::billing::tariffs(&mut tx).await?;
    Ok(rows
        .into_iter()
        .map(|t| TariffVersionRow {
            id: t.id,
            use_label: label::<UseType>(&t.use_type, |u| u.label_es()),
            class_label: label::<TariffClass>(&t.tariff_class, |c| c.label_es()),
            valid_from: invoicing::date_es(t.valid_from),
            name: t.name,
            saved_at: auth::format_local(t.created_at),
        })
        .collect())
}

/// A new tariff file starts from this (valid) example.
const TARIFF_TEMPLATE: &str = r#"# Nueva versión de tarifa. Formato: docs/tariffs.md
name = "Doméstico popular 2027"
use_type = "domestico"
class = "popular"
valid_from = "2027-01-01"
period = "mensual"
block_mode = "incremental"
volume = "whole"

# Cuota base: incluye los primeros 10 m³ del mes.
[base]
amount = 80.00
covers_m3 = 10

[[blocks]]
up_to_m3 = 10
price_per_m3 = 0

[[blocks]]
up_to_m3 = 20
price_per_m3 = 11.50

[[blocks]]
price_per_m3 = 17.00

[sewer]
percent_of_water = 25
"#;

pub async fn tariff(id: Option<i64>) -> Result<TariffEdit, AppError> {
    let s = staff(BILLING).await?;
    let Some(id) = id else {
        return Ok(TariffEdit {
            id: None,
            name: String::new(),
            toml: TARIFF_TEMPLATE.to_string(),
        });
    };
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    match db::billing::tariff_by_id(&mut tx, id).await? {
        Some(t) => Ok(TariffEdit {
            id: Some(t.id),
            name: t.name,
            toml: t.source_toml,
        }),
        None => fail(AppError::NotFound),
    }
}

const MAX_TARIFF_BYTES: usize = 64 * 1024;

fn check_toml_size(toml: &str) -> Result<(), AppError> {
    if toml.trim().is_empty() {
        return Err(AppError::invalid(
            "toml",
            "Escribe o pega el archivo de la tarifa.",
        ));
    }
    if toml.len() > MAX_TARIFF_BYTES {
        return Err(AppError::invalid(
            "toml",
            "El archivo es demasiado grande (máximo 64 KB).",
        ));
    }
    Ok(())
}

pub async fn tariff_save(toml: String) -> Result<(), AppError> {
    let s = staff(BILLING).await?;
    if let Err(e) = check_toml_size(&toml) {
        return fail(e);
    }
    // Browsers send form text with CRLF line ends; store what people typed.
    let toml = toml.replace("\r\n", "\n");
    match invoicing::save_tariff(&s.r.st.db, s.r.tenant, &toml, invoicing::Actor::Staff(s.id)).await
    {
        Ok(id) => {
            redirect(&format!("/personal/tarifas?guardada={id}"));
            Ok(())
        }
        Err(e) => fail(e.into()),
    }
}

/// The month the simulation bills: the tariff's first whole month.
fn simulation_period(valid_from: NaiveDate) -> Result<billing::Period, billing::BillingError> {
    let first = if valid_from.day() == 1 {
        valid_from
    } else {
        valid_from
            .with_day(1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .unwrap_or(valid_from)
    };
    billing::Period::month(first.year(), first.month())
}

fn simulate_inner(
    toml: &str,
    m3: &str,
    dias: Option<&str>,
    inapam: bool,
) -> Result<SimResult, AppError> {
    check_toml_size(toml)?;
    let tariff = billing::Tariff::from_toml(toml).map_err(|e| billing_invalid("toml", e))?;
    // M3::parse speaks of meter readings; here it is a consumption.
    let m3 = M3::parse(m3).map_err(|_| {
        AppError::invalid(
            "m3",
            "Escribe el consumo en m³ (sin signo, hasta 3 decimales), por ejemplo 25 o 25.5.",
        )
    })?;
    let days = match dias.map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match d.parse::<u32>() {
            Ok(n) if (1..=366).contains(&n) => Some(n),
            _ => {
                return Err(AppError::invalid(
                    "dias",
                    "Escribe los días de servicio como un número entre 1 y 366, o déjalo vacío.",
                ));
            }
        },
    };
    let period = simulation_period(tariff.valid_from).map_err(|e| billing_invalid("toml", e))?;
    let programs = if inapam {
        vec!["inapam".to_string()]
    } else {
        Vec::new()
    };
    let name = tariff.name.clone();
    let tariffs = [tariff];
    let bill = billing::compute_bill(&billing::BillInput {
        tariffs: &tariffs,
        period,
        service_days: days,
        metering: billing::Metering::Metered(m3.value()),
        estimated: false,
        programs: &programs,
        overdue_balance: Money::ZERO,
        fees: &[],
    })
    .map_err(|e| billing_invalid("toml", e))?;
    Ok(SimResult {
        tariff_name: name,
        period: period.label_es(),
        billed_m3: format!("{} m³", bill.billed_m3.normalize()),
        lines: bill
            .lines
            .iter()
            .map(|l| BillLineRow {
                concept: l.concept.label_es().to_string(),
                description: l.description.clone(),
                quantity: quantity_label(&l.quantity.normalize().to_string(), &l.unit),
                amount: l.amount.format_mxn(),
                tax_label: tax_label(l.tax.as_str()),
                tax_amount: l.tax_amount.format_mxn(),
                estimated: l.estimated,
                steps: l
                    .steps
                    .iter()
                    .map(|s| StepRow {
                        description: s.description.clone(),
                        quantity: s
                            .quantity_m3
                            .map(|q| format!("{} m³", q.normalize()))
                            .unwrap_or_default(),
                        unit_price: s
                            .unit_price
                            .map(|p| price_label(&p.normalize().to_string()))
                            .unwrap_or_default(),
                        amount: s.amount.format_mxn(),
                    })
                    .collect(),
            })
            .collect(),
        subtotal: bill.subtotal.format_mxn(),
        tax: bill.tax.format_mxn(),
        total: bill.total.format_mxn(),
    })
}

pub async fn simulate(
    toml: String,
    m3: String,
    dias: Option<String>,
    inapam: Option<String>,
) -> Result<SimResult, AppError> {
    staff(BILLING).await?;
    let inapam = inapam.is_some_and(|v| !v.is_empty() && v != "false");
    match simulate_inner(&toml, &m3, dias.as_deref(), inapam) {
        Ok(r) => Ok(r),
        Err(e) => fail(e),
    }
}

// ---------------------------------------------------------------- staff: runs

async fn load_run(
    db: &Db,
    tenant: TenantId,
    id: i64,
) -> Result<Option<db::billing::RunRow>, AppError> {
    let mut tx = db.read(tenant).await?;
    Ok(db::billing::run_by_id(&mut tx, id).await?)
}

fn run_status_label(s: &str) -> &'static str {
    match s {
        "en_curso" => "En curso",
        "terminada" => "Terminada",
        "fallida" => "Fallida",
        _ => "Desconocido",
    }
}

fn period_code(key: i32) -> String {
    format!("{}-{:02}", key / 100, key % 100)
}

fn progress(r: &db::billing::RunRow) -> RunProgress {
    let total = r.contracts_total.max(0);
    let done = r.contracts_done.max(0);
    let pct = if r.status == "terminada" {
        100
    } else if total > 0 {
        u8::try_from((done * 100 / total).clamp(0, 100)).unwrap_or(0)
    } else {
        0
    };
    let text = format!(
        "{}: procesados {} de {} contratos ({pct} %) · {} {} nuevos.",
        run_status_label(&r.status),
        int_mx(done),
        int_mx(total),
        int_mx(r.invoices_issued),
        if r.invoices_issued == 1 {
            "recibo"
        } else {
            "recibos"
        }
    );
    RunProgress {
        status: r.status.clone(),
        status_label: run_status_label(&r.status).to_string(),
        contracts_total: total,
        contracts_done: done,
        pct,
        text,
    }
}

fn skip_label(code: &str) -> String {
    match code {
        "ya_emitida" => "Ya tenían su recibo (no se duplica)",
        "en_revision" => "En revisión",
        "inactivo" => "Contrato inactivo",
        "sin_servicio" => "Sin servicio en el periodo",
        "sin_tarifa" => "Sin tarifa para su uso y clase",
        other => other,
    }
    .to_string()
}

fn review_label(code: &str) -> String {
    match code {
        "negativo" => "Consumo negativo",
        "sin_consumo" => "Sin consumo varios periodos",
        "salto" => "Consumo muy alto",
        "sin_historial" => "Sin historial para estimar",
        other => other,
    }
    .to_string()
}

fn previous_month(today: NaiveDate) -> String {
    let (y, m) = if today.month() == 1 {
        (today.year() - 1, 12)
    } else {
        (today.year(), today.month() - 1)
    };
    format!("{y}-{m:02}")
}

pub async fn billing_overview() -> Result<BillingOverview, AppError> {
    let s = staff(BILLING).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let runs = db::billing::recent_runs(&mut tx, 20).await?;
    Ok(BillingOverview {
        default_period: previous_month(invoicing::today()),
        runs: runs
            .into_iter()
            .map(|r| RunListRow {
                id: r.id,
                period: invoicing::period_label(r.period),
                status: r.status.clone(),
                status_label: run_status_label(&r.status).to_string(),
                started_at: auth::format_local(r.started_at),
                invoices_issued: int_mx(r.invoices_issued),
                total: Money::from_centavos(r.total_centavos).format_mxn(),
            })
            .collect(),
    })
}

fn parse_period(periodo: &str) -> Result<billing::Period, AppError> {
    let p: billing::Period = periodo.parse().map_err(|e| billing_invalid("periodo", e))?;
    let today = invoicing::today();
    if p.end > today {
        return Err(AppError::invalid(
            "periodo",
            format!(
                "El periodo {} todavía no termina: solo se facturan meses cerrados.",
                p.label_es()
            ),
        ));
    }
    Ok(p)
}

pub async fn start_run(periodo: String) -> Result<(), AppError> {
    let s = staff(BILLING).await?;
    let period = match parse_period(&periodo) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let key = invoicing::period_key(&period);
    {
        let mut tx = s.r.st.db.read(s.r.tenant).await?;
        let running = db::billing::recent_runs(&mut tx, 50).await?;
        if let Some(r) = running
            .iter()
            .find(|r| r.period == key && r.status == "en_curso")
        {
            // The same period is being billed right now: watch that run instead.
            redirect(&format!("/personal/facturacion/corridas/{}", r.id));
            return Ok(());
        }
    }
    let st = s.r.st.clone();
    let tenant = s.r.tenant;
    let actor = invoicing::Actor::Staff(s.id);
    let run_id = match invoicing::start_run(&st.db, tenant, &period, actor).await {
        Ok(id) => id,
        Err(e) => return fail(e.into()),
    };
    let opts = invoicing::RunOptions {
        issued_on: None,
        actor,
        settings: st.billing.clone(),
    };
    let db = st.db.clone();
    tokio::spawn(async move {
        match invoicing::run_period(&db, tenant, period, run_id, &opts, |_| {}).await {
            Ok(sum) => tracing::info!(
                run_id,
                period = sum.period,
                issued = sum.counters.invoices_issued,
                seconds = sum.seconds,
                "billing run finished"
            ),
            Err(e) => tracing::error!(run_id, error = %e, "billing run failed"),
        }
    });
    redirect(&format!("/personal/facturacion/corridas/{run_id}"));
    Ok(())
}

/// `summary` JSON of a run: `{by_use: {use: UseTotals}, skipped: {reason: n}}`.
#[derive(Debug, Default, serde::Deserialize)]
struct RunSummaryJson {
    #[serde(default)]
    by_use: std::collections::BTreeMap<String, invoicing::UseTotals>,
    #[serde(default)]
    skipped: std::collections::BTreeMap<String, i64>,
}

pub async fn run_view(id: i64) -> Result<RunView, AppError> {
    let s = staff(BILLING).await?;
    let Some(run) = load_run(&s.r.st.db, s.r.tenant, id).await? else {
        return fail(AppError::NotFound);
    };
    let summary: RunSummaryJson = serde_json::from_value(run.summary.0.clone()).unwrap_or_default();
    let reviews = if run.status == "en_curso" {
        Vec::new()
    } else {
        let mut tx = s.r.st.db.read(s.r.tenant).await?;
        db::billing::open_reviews(&mut tx, Some(run.period), 500).await?
    };
    let already = summary.skipped.get("ya_emitida").copied().unwrap_or(0);
    let period = invoicing::period_label(run.period);
    let headline = match run.status.as_str() {
        "en_curso" => format!("Facturando {period}…"),
        "fallida" => format!("La corrida de {period} se detuvo por un error."),
        _ if run.invoices_issued == 0 && already > 0 => format!(
            "No se emitió ningún recibo nuevo: {} contratos ya tenían su recibo de {period}.",
            int_mx(already)
        ),
        _ => format!(
            "Se emitieron {} recibos nuevos de {period} por {}.",
            int_mx(run.invoices_issued),
            Money::from_centavos(run.total_centavos).format_mxn()
        ),
    };
    Ok(RunView {
        id: run.id,
        period: format!("{period} ({})", period_code(run.period)),
        started_at: auth::format_local(run.started_at),
        finished_at: run
            .finished_at
            .map(auth::format_local)
            .unwrap_or_else(|| "—".into()),
        progress: progress(&run),
        invoices_issued: int_mx(run.invoices_issued),
        already_issued: int_mx(already),
        total: Money::from_centavos(run.total_centavos).format_mxn(),
        estimated: int_mx(run.estimated),
        flagged: int_mx(run.flagged),
        skipped: int_mx(run.skipped),
        headline,
        by_use: summary
            .by_use
            .iter()
            .map(|(u, t)| UseTotalsRow {
                use_label: label::<UseType>(u, |x| x.label_es()),
                invoices: int_mx(t.invoices),
                m3: M3::from_litres(t.billed_litres).format(),
                estimated: int_mx(t.estimated),
                total: Money::from_centavos(t.total_centavos).format_mxn(),
            })
            .collect(),
        skipped_by_reason: summary
            .skipped
            .iter()
            .map(|(k, n)| CountRow {
                label: skip_label(k),
                count: int_mx(*n),
            })
            .collect(),
        reviews: reviews
            .into_iter()
            .map(|r| ReviewItem {
                contract_id: r.contract_id,
                number: r.number,
                reason: review_label(&r.reason),
                message: r.message,
            })
            .collect(),
        error: run.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(int_mx(0), "0");
        assert_eq!(int_mx(999), "999");
        assert_eq!(int_mx(1_843), "1,843");
        assert_eq!(int_mx(-1_234_567), "-1,234,567");
    }

    #[test]
    fn previous_month_wraps() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).expect("date");
        assert_eq!(previous_month(d(2026, 11, 24)), "2026-10");
        assert_eq!(previous_month(d(2027, 1, 5)), "2026-12");
    }

    #[test]
    fn adjustments_are_validated() {
        assert_eq!(
            validate_adjustment("nota_credito", "150.00", "Fuga reparada").map(|v| v.1),
            Ok(-15_000)
        );
        assert_eq!(
            validate_adjustment("ajuste", "-20", "Error de lectura").map(|v| v.1),
            Ok(-2_000)
        );
        assert!(
            validate_adjustment("ajuste", "0", "Error de lectura")
                .unwrap_err()
                .for_field("importe")
                .is_some()
        );
        assert!(
            validate_adjustment("ajuste", "10", " ")
                .unwrap_err()
                .for_field("motivo")
                .is_some()
        );
        assert!(
            validate_adjustment("regalo", "10", "Motivo largo")
                .unwrap_err()
                .for_field("tipo")
                .is_some()
        );
    }

    #[test]
    fn template_simulates() {
        let r = simulate_inner(TARIFF_TEMPLATE, "25", None, true).expect("template is valid");
        assert!(!r.lines.is_empty());
        assert_eq!(r.period, "enero 2027");
        let e = simulate_inner("name = ", "25", None, false).unwrap_err();
        assert!(e.for_field("toml").is_some());
        let e = simulate_inner(TARIFF_TEMPLATE, "mucho", None, false).unwrap_err();
        assert!(e.for_field("m3").is_some());
        let e = simulate_inner(TARIFF_TEMPLATE, "5", Some("0"), false).unwrap_err();
        assert!(e.for_field("dias").is_some());
        let negative = TARIFF_TEMPLATE.replacen("price_per_m3 = 11.50", "price_per_m3 = -5", 1);
        let msg = simulate_inner(&negative, "5", None, false)
            .unwrap_err()
            .for_field("toml")
            .expect("a toml error");
        assert!(msg.contains("price_per_m3"), "{msg}");
        assert!(msg.contains("no puede ser negativo"), "{msg}");
        let msg = simulate_inner("name = ", "5", None, false)
            .unwrap_err()
            .for_field("toml")
            .expect("a toml error");
        assert!(msg.starts_with("El archivo no es TOML válido"), "{msg}");
    }

    #[test]
    fn periods_in_the_future_are_refused() {
        assert!(
            parse_period("2026-13")
                .unwrap_err()
                .for_field("periodo")
                .is_some()
        );
        assert!(
            parse_period("2999-01")
                .unwrap_err()
                .for_field("periodo")
                .is_some()
        );
        assert!(parse_period("2020-01").is_ok());
    }
}
