//! Domiciliación for staff (caja, facturación; admin always): mandates, the month's
//! batch file, the bank's results (posted as text or uploaded as a file). Thin:
//! authenticate, authorise, call `invoicing::domiciliacion`, map errors.

use axum::extract::{Multipart, Path, Request, State};
use axum::response::{IntoResponse, Response};
use invoicing::domiciliacion as dom;

use super::bills::{handler_error, peer_of};
use super::*;

const PAYMENTS: &[StaffRole] = &[StaffRole::Cajero, StaffRole::Facturacion];

fn money(c: i64) -> String {
    Money::from_centavos(c).format_mxn()
}

fn batch_view(b: db::domiciliacion::BatchRow) -> DebitBatchView {
    DebitBatchView {
        id: b.id,
        label: format!("{} · lote {}", b.month, b.seq),
        created_at: auth::format_local(b.created_at),
        item_count: b.item_count,
        total: money(b.total_centavos),
        status: match b.status.as_str() {
            "resultados" => "Con resultados del banco".into(),
            _ => "Generado".into(),
        },
        file_url: format!("/personal/domiciliacion/lotes/{}/archivo", b.id),
    }
}

fn results_view(r: &dom::ResultsReport) -> DebitResultsView {
    DebitResultsView {
        cobrados: r.cobrados,
        cobrado_total: money(r.cobrado_centavos),
        reintentos: r.reintentos,
        bajas: r.bajas,
        rechazados: r.rechazados,
        repetidos: r.repetidos,
        desconocidos: r.desconocidos,
    }
}

pub async fn overview() -> Result<DomiciliacionView, AppError> {
    let s = staff(PAYMENTS).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let mandates = db::domiciliacion::mandates(&mut tx, 500)
        .await?
        .into_iter()
        .map(|m| DebitMandateView {
            id: m.id,
            contract: m.contract_number,
            holder: m.holder,
            clabe_masked: dom::masked_clabe(&m.clabe),
            max: money(m.max_centavos),
            signed_on: m.signed_on.format("%Y-%m-%d").to_string(),
            active: m.status == "activo",
            status: match (m.status.as_str(), m.baja_reason) {
                ("activo", _) => "Activa".into(),
                (_, Some(why)) => format!("Baja: {why}"),
                _ => "Baja".into(),
            },
        })
        .collect();
    let batches = db::domiciliacion::batches(&mut tx, 24)
        .await?
        .into_iter()
        .map(batch_view)
        .collect();
    Ok(DomiciliacionView {
        mandates,
        batches,
        month: dom::month_of(invoicing::today()),
    })
}

pub async fn register(
    contrato: String,
    clabe: String,
    titular: String,
    maximo: String,
    firmado: String,
) -> Result<i64, AppError> {
    let s = staff(PAYMENTS).await?;
    let max_centavos = match Money::parse(&maximo) {
        Ok(m) => m.centavos(),
        Err(_) => {
            return fail(AppError::invalid(
                "maximo",
                "Escriba el monto máximo en pesos, por ejemplo 1500.00.",
            ));
        }
    };
    let Ok(signed_on) = chrono::NaiveDate::parse_from_str(firmado.trim(), "%Y-%m-%d") else {
        return fail(AppError::invalid(
            "firmado",
            "Escriba la fecha de firma como AAAA-MM-DD, por ejemplo 2026-11-20.",
        ));
    };
    let req = dom::MandateRequest {
        contract_number: &contrato,
        clabe: &clabe,
        holder: &titular,
        max_centavos,
        signed_on,
    };
    match dom::register(
        &s.r.st.db,
        s.r.tenant,
        &req,
        invoicing::Actor::Staff(s.id),
        invoicing::today(),
        Utc::now(),
    )
    .await
    {
        Ok(id) => Ok(id),
        Err(e) => fail(e.into()),
    }
}

pub async fn cancel(mandato: i64, motivo: String) -> Result<(), AppError> {
    let s = staff(PAYMENTS).await?;
    match dom::cancel(
        &s.r.st.db,
        s.r.tenant,
        mandato,
        &motivo,
        invoicing::Actor::Staff(s.id),
        Utc::now(),
    )
    .await
    {
        Ok(()) => Ok(()),
        Err(e) => fail(e.into()),
    }
}

pub async fn batch(mes: String) -> Result<DebitBatchView, AppError> {
    let s = staff(PAYMENTS).await?;
    match dom::build_batch(
        &s.r.st.db,
        s.r.tenant,
        &mes,
        invoicing::Actor::Staff(s.id),
        invoicing::today(),
        Utc::now(),
    )
    .await
    {
        Ok(b) => Ok(batch_view(b.batch)),
        Err(e) => fail(e.into()),
    }
}

async fn apply(
    st: &AppState,
    tenant: TenantId,
    staff_id: i64,
    text: &str,
) -> Result<DebitResultsView, AppError> {
    let r = dom::apply_results(
        &st.db,
        tenant,
        text,
        payments::domiciliacion::RetryPolicy::default(),
        invoicing::Actor::Staff(staff_id),
        invoicing::today(),
        Utc::now(),
    )
    .await?;
    Ok(results_view(&r))
}

pub async fn results(resultados: String) -> Result<DebitResultsView, AppError> {
    let s = staff(PAYMENTS).await?;
    match apply(&s.r.st, s.r.tenant, s.id, &resultados).await {
        Ok(v) => Ok(v),
        Err(e) => fail(e),
    }
}

/// `GET /personal/domiciliacion/lotes/{id}/archivo`: the batch file as generated.
pub async fn batch_file(State(st): State<AppState>, Path(id): Path<i64>, req: Request) -> Response {
    let h = req.headers().clone();
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let s = match staff_of(r, PAYMENTS).await {
        Ok(s) => s,
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    };
    let file = async {
        let mut tx = st.db.read(s.r.tenant).await?;
        db::domiciliacion::batch_file(&mut tx, id).await
    }
    .await;
    match file {
        Ok(Some((name, text))) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=us-ascii"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                        .unwrap_or(HeaderValue::from_static("attachment")),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                ),
            ],
            text,
        )
            .into_response(),
        Ok(None) => handler_error(AppError::NotFound, &h, "/personal/entrar"),
        Err(e) => handler_error(e.into(), &h, "/personal/entrar"),
    }
}

/// Percent-encode a query value.
pub(super) fn q(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /personal/domiciliacion/resultados` (multipart, field `archivo`): the bank's
/// results file uploaded from the page's form; back to the page with the counts (or
/// the error) in the address.
pub async fn upload_results(State(st): State<AppState>, req: Request) -> Response {
    let h = req.headers().clone();
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let s = match staff_of(r, PAYMENTS).await {
        Ok(s) => s,
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    };
    let back = |query: String| {
        (
            StatusCode::SEE_OTHER,
            [(
                header::LOCATION,
                format!("/personal/domiciliacion?{query}#resultados"),
            )],
        )
            .into_response()
    };
    let mut multipart =
        match <Multipart as axum::extract::FromRequest<()>>::from_request(req, &()).await {
            Ok(m) => m,
            Err(_) => {
                return back(format!(
                    "error_resultados={}",
                    q("Suba el archivo de resultados del banco.")
                ));
            }
        };
    let mut text = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("archivo") {
            text = field.text().await.ok();
        }
    }
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return back(format!(
            "error_resultados={}",
            q("Elija el archivo de resultados del banco.")
        ));
    };
    match apply(&st, s.r.tenant, s.id, &text).await {
        Ok(v) => back(format!(
            "cobrados={}&reintentos={}&bajas={}&rechazados={}&repetidos={}&desconocidos={}",
            v.cobrados, v.reintentos, v.bajas, v.rechazados, v.repetidos, v.desconocidos
        )),
        Err(e) => back(format!("error_resultados={}", q(&e.to_string()))),
    }
}
