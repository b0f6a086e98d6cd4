//! Meter readings for staff (campo, atención, facturación; admin always): the ingest
//! monitor, route files (upload, progress, report), a meter's raw readings, the
//! anomalies queue. Thin: authenticate, authorise, call `metering`, map errors.

use axum::extract::{Multipart, Path, Request, State};
use axum::response::{IntoResponse, Response};
use domain::ReadingQuality;
use ingest::payload::Alarms;

use super::bills::{handler_error, peer_of};
use super::*;

pub const METERS: &[StaffRole] = &[
    StaffRole::Campo,
    StaffRole::Atencion,
    StaffRole::Facturacion,
];

impl From<metering::Error> for AppError {
    fn from(e: metering::Error) -> Self {
        match e {
            metering::Error::Invalid { field, message } => AppError::invalid(field, message),
            other => internal(other),
        }
    }
}

fn m3(litres: i64) -> String {
    M3::from_litres(litres).value().to_string()
}

fn source_label(code: &str) -> String {
    code.parse::<ReadingSource>()
        .map(|s| s.label_es().to_string())
        .unwrap_or_else(|_| code.to_string())
}

fn quality_label(code: &str) -> String {
    code.parse::<ReadingQuality>()
        .map(|s| s.label_es().to_string())
        .unwrap_or_else(|_| code.replace('_', " "))
}

fn alarms_label(bits: i32) -> String {
    let a = Alarms::from_bits(u8::try_from(bits).unwrap_or(0));
    [
        (a.leak, "fuga"),
        (a.burst, "ruptura"),
        (a.reverse_flow, "flujo inverso"),
        (a.tamper, "manipulación"),
        (a.dry, "tubería vacía"),
        (a.low_battery, "batería baja"),
        (a.fault, "falla"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, l)| *l)
    .collect::<Vec<_>>()
    .join(", ")
}

fn batch_view(b: db::metering::BatchRow) -> RouteBatchView {
    RouteBatchView {
        id: b.id,
        filename: b.filename,
        uploaded_by: b.uploaded_by,
        started: auth::format_local(b.started_at),
        status: match b.status.as_str() {
            "procesando" => "Procesando…".into(),
            "terminado" => "Terminado".into(),
            "fallido" => "No se pudo leer".into(),
            "interrumpido" => "Interrumpido".into(),
            other => other.into(),
        },
        finished: b.status != "procesando",
        rows: b.rows_total,
        accepted: b.accepted,
        duplicates: b.duplicates,
        rejected: b.rejected,
        error: b.error,
    }
}

pub async fn monitor() -> Result<IngestMonitorView, AppError> {
    let s = staff(METERS).await?;
    let now = chrono::Utc::now();
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let rates = db::metering::rates_since(&mut tx, now - chrono::Duration::hours(1))
        .await?
        .into_iter()
        .map(|(source, n)| IngestRateView {
            source: source_label(&source),
            last_hour: n,
            per_minute: format!("{}.{}", n / 60, (n % 60) * 10 / 60),
        })
        .collect();
    let (silent_total, silent) =
        db::metering::silent_devices(&mut tx, now - chrono::Duration::hours(24), 50).await?;
    let quarantine = db::metering::open_quarantine(&mut tx, 50)
        .await?
        .into_iter()
        .map(|q| QuarantineView {
            received: auth::format_local(q.received_at),
            source: q.source,
            device: q.device,
            reason: q.reason,
        })
        .collect();
    let batches = db::metering::batches(&mut tx, 20)
        .await?
        .into_iter()
        .map(batch_view)
        .collect();
    Ok(IngestMonitorView {
        rates,
        silent_total,
        silent: silent
            .into_iter()
            .map(|(dev_eui, serial, seen)| SilentDeviceView {
                dev_eui,
                serial,
                last_seen: seen
                    .map(auth::format_local)
                    .unwrap_or_else(|| "Nunca".into()),
            })
            .collect(),
        quarantine,
        batches,
    })
}

pub async fn batch(id: i64) -> Result<RouteBatchDetail, AppError> {
    let s = staff(METERS).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let Some((b, report)) = db::metering::batch(&mut tx, id).await? else {
        return fail(AppError::NotFound);
    };
    let mut issues = Vec::new();
    if let Some(r) = &report {
        let mut rd = csv::Reader::from_reader(r.trim_start_matches('\u{feff}').as_bytes());
        for rec in rd.records().flatten() {
            let outcome = rec.get(2).unwrap_or("");
            if matches!(outcome, "rechazada" | "duplicada") {
                issues.push(RouteReportLineView {
                    line: rec.get(0).unwrap_or("").into(),
                    serial: rec.get(1).unwrap_or("").into(),
                    outcome: outcome.into(),
                    detail: rec.get(3).unwrap_or("").into(),
                });
                if issues.len() == 500 {
                    break;
                }
            }
        }
    }
    Ok(RouteBatchDetail {
        report_url: report
            .is_some()
            .then(|| format!("/personal/lecturas/lotes/{id}/reporte.csv")),
        batch: batch_view(b),
        issues,
    })
}

pub async fn meter(id: i64) -> Result<MeterPageView, AppError> {
    let s = staff(METERS).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let Some(m) = db::metering::meter_detail(&mut tx, id).await? else {
        return fail(AppError::NotFound);
    };
    let readings = db::metering::readings_of(&mut tx, id, 500)
        .await?
        .into_iter()
        .map(|r| MeterReadingView {
            date: auth::format_local(r.read_at),
            value: m3(r.value_litres),
            source: source_label(&r.source),
            flagged: !ingest::validate::billable(&r.quality),
            quality: quality_label(&r.quality),
            alarms: alarms_label(r.alarms),
        })
        .collect();
    let periods = db::metering::recent_periods(&mut tx, id, 12)
        .await?
        .into_iter()
        .map(|p| MeterPeriodView {
            period: format!("{}-{:02}", p.period / 100, p.period % 100),
            consumption: format!("{} m³", m3(p.litres)),
            readings: p.readings,
        })
        .collect();
    let self_reads = db::metering::self_reads_of_meter(&mut tx, id, 20)
        .await?
        .into_iter()
        .map(|r| SelfReadView {
            date: auth::format_local(r.read_at),
            value: m3(r.litres),
            accepted: r.outcome == "aceptada",
            outcome: if r.outcome == "aceptada" {
                "Aceptada".into()
            } else {
                format!("Rechazada: {}", r.message.unwrap_or_default())
            },
            photo_url: r
                .photo_type
                .is_some()
                .then(|| format!("/personal/lecturas/fotos/{}", r.id)),
        })
        .collect();
    Ok(MeterPageView {
        id: m.id,
        serial: m.serial,
        make_model: format!("{} {}", m.make, m.model),
        register: format!(
            "{} dígitos, {} mm{}{}",
            m.digits,
            m.diameter_mm,
            if m.smart { ", telemetría" } else { "" },
            if m.active { "" } else { ", dado de baja" }
        ),
        contract_id: m.contract_id,
        contract: m.contract_number,
        device: m.dev_eui,
        periods,
        readings,
        self_reads,
    })
}

pub async fn anomalies() -> Result<Vec<AnomalyView>, AppError> {
    let s = staff(METERS).await?;
    Ok(
        metering::anomalies::open_for_staff(&s.r.st.db, s.r.tenant, 200)
            .await?
            .into_iter()
            .map(|a| AnomalyView {
                id: a.id,
                kind: metering::anomalies::Kind::from_code(&a.kind)
                    .map(|k| k.title().to_string())
                    .unwrap_or(a.kind),
                contract_id: a.contract_id,
                contract: a.contract_number,
                meter_id: a.meter_id,
                serial: a.meter_serial,
                detail: a.detail,
                detected: auth::format_local(a.detected_at),
            })
            .collect(),
    )
}

pub async fn review(
    id: i64,
    action: String,
    reason: String,
    description: String,
) -> Result<String, AppError> {
    use metering::anomalies::Action;
    let s = staff(METERS).await?;
    let action = match action.as_str() {
        "revisada" => Action::Reviewed,
        "descartada" => Action::Dismissed { reason },
        "orden" => Action::WorkOrder { description },
        _ => {
            return fail(AppError::invalid(
                "accion",
                "Elija qué hacer con la anomalía.",
            ));
        }
    };
    let by = format!("{} <{}>", s.name, s.email);
    match metering::anomalies::review(&s.r.st.db, s.r.tenant, id, action, &by, chrono::Utc::now())
        .await
    {
        Ok(Some(order)) => Ok(format!("Se creó la orden de trabajo {order}.")),
        Ok(None) => Ok("Listo.".into()),
        Err(e) => fail(e.into()),
    }
}

pub async fn detect() -> Result<String, AppError> {
    let s = staff(METERS).await?;
    let settings = s.r.st.anomalies;
    let sum =
        metering::anomalies::detect(&s.r.st.db, s.r.tenant, &settings, chrono::Utc::now()).await?;
    Ok(format!(
        "Se revisaron {} medidores; {} anomalías nuevas.",
        sum.meters,
        sum.total()
    ))
}

/// `POST /personal/lecturas/rutas` (multipart, field `archivo`): a lecturista's route
/// file. Processed in the background in chunks (a 100,000-row file does not hold the
/// server); answers at once with a redirect to the batch's page, which shows progress
/// and then the per-row report.
pub async fn upload_route(State(st): State<AppState>, req: Request) -> Response {
    let h = req.headers().clone();
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let s = match staff_of(r, METERS).await {
        Ok(s) => s,
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    };
    let wants_json = h
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let refuse = |message: &str| {
        if wants_json {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::json!({ "error": message, "campo": "archivo" }).to_string(),
            )
                .into_response()
        } else {
            (
                StatusCode::SEE_OTHER,
                [(
                    header::LOCATION,
                    format!(
                        "/personal/lecturas?error={}#rutas",
                        super::domiciliacion::q(message)
                    ),
                )],
            )
                .into_response()
        }
    };
    let Ok(mut multipart) =
        <Multipart as axum::extract::FromRequest<()>>::from_request(req, &()).await
    else {
        return refuse("Suba el archivo de la ruta (CSV).");
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("archivo") {
            let name = field.file_name().unwrap_or("ruta.csv").to_string();
            match field.bytes().await {
                Ok(b) => file = Some((name, b.to_vec())),
                Err(_) => return refuse("El archivo es demasiado grande (máximo 50 MB)."),
            }
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refuse("Elija el archivo de la ruta (CSV).");
    };
    let now = chrono::Utc::now();
    let by = format!("{} <{}>", s.name, s.email);
    let id = match metering::route::open(&st.db, s.r.tenant, &name, &by, now).await {
        Ok(id) => id,
        Err(e) => return handler_error(e.into(), &h, "/personal/entrar"),
    };
    let (db, tenant) = (st.db.clone(), s.r.tenant);
    tokio::spawn(async move {
        match metering::route::process(&db, tenant, id, &bytes, now).await {
            Ok(sum) => tracing::info!(batch = id, rows = sum.rows, "route file processed"),
            Err(e) => tracing::warn!(batch = id, error = %e, "route file refused"),
        }
    });
    if wants_json {
        return (
            StatusCode::ACCEPTED,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({ "lote": id, "url": format!("/personal/lecturas/lotes/{id}") })
                .to_string(),
        )
            .into_response();
    }
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("/personal/lecturas/lotes/{id}"))],
    )
        .into_response()
}

/// A file for staff with the meter roles: sign-in checked, `load` run in the tenant's
/// read transaction, 404 when it finds nothing.
async fn staff_file<T>(
    st: AppState,
    req: Request,
    load: impl AsyncFnOnce(&mut db::Scoped) -> Result<Option<T>, db::Error>,
    respond: impl FnOnce(T) -> Response,
) -> Response {
    let h = req.headers().clone();
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let s = match staff_of(r, METERS).await {
        Ok(s) => s,
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    };
    let found = async {
        let mut tx = st.db.read(s.r.tenant).await?;
        load(&mut tx).await
    }
    .await;
    match found {
        Ok(Some(v)) => respond(v),
        Ok(None) => handler_error(AppError::NotFound, &h, "/personal/entrar"),
        Err(e) => handler_error(e.into(), &h, "/personal/entrar"),
    }
}

/// `GET /personal/lecturas/fotos/{id}`: the photo a customer sent with a reading.
pub async fn self_read_photo(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    staff_file(
        st,
        req,
        async |tx| db::metering::self_read_photo(tx, id).await,
        |(bytes, kind)| {
            (
                [
                    (header::CONTENT_TYPE, kind),
                    (header::CACHE_CONTROL, "private, no-store".to_string()),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                ],
                bytes,
            )
                .into_response()
        },
    )
    .await
}

/// `GET /personal/lecturas/lotes/{id}/reporte.csv`: the full per-row report.
pub async fn route_report(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    staff_file(
        st,
        req,
        async |tx| Ok(db::metering::batch(tx, id).await?.and_then(|(_, r)| r)),
        |report| {
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"reporte-ruta-{id}.csv\""),
                    ),
                ],
                report,
            )
                .into_response()
        },
    )
    .await
}
