//! Router and cross-cutting HTTP concerns: CSRF (origin check), security and cache
//! headers, metrics, health, and the development-only message outbox page.

use std::sync::OnceLock;
use std::time::Instant;

use app::ssr::AppState;
use app::{App, shell};
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let ctx_state = state.clone();
    let fn_state = state.clone();
    let mut r = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_page))
        .route("/cuenta/recibos/{id}/pdf", get(app::ssr::citizen_pdf))
        .route("/personal/recibos/{id}/pdf", get(app::ssr::staff_pdf))
        .route("/cuenta/recibos/{id}/cfdi.xml", get(app::ssr::citizen_xml))
        .route("/personal/recibos/{id}/cfdi.xml", get(app::ssr::staff_xml))
        .route("/personal/cfdi/{id}/xml", get(app::ssr::staff_cfdi_xml))
        .route(
            "/cuenta/pagos/{id}/codigo.png",
            get(app::ssr::pagos::barcode),
        )
        .route("/cuenta/pagos/{id}/codi.png", get(app::ssr::pagos::codi_qr))
        .route("/cuenta/pagos.csv", get(app::ssr::pagos::history_csv))
        .route(
            "/cuenta/pagos/{id}/recibo.pdf",
            get(app::ssr::pagos::receipt),
        )
        .route(
            "/personal/caja/recibos/{id}/pdf",
            get(app::ssr::caja::receipt_pdf),
        )
        .route(
            "/personal/domiciliacion/lotes/{id}/archivo",
            get(app::ssr::domiciliacion::batch_file),
        )
        .route(
            "/personal/domiciliacion/resultados",
            axum::routing::post(app::ssr::domiciliacion::upload_results),
        )
        .route(
            "/webhooks/stp/abono",
            axum::routing::post(crate::webhooks::stp_abono),
        )
        .route(
            "/webhooks/conekta",
            axum::routing::post(crate::webhooks::conekta),
        )
        .route(
            "/cuenta/lectura",
            axum::routing::post(app::ssr::lecturas::submit)
                .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024)),
        )
        .route(
            "/personal/lecturas/rutas",
            axum::routing::post(app::ssr::medicion::upload_route)
                .layer(axum::extract::DefaultBodyLimit::max(50 * 1024 * 1024)),
        )
        .route(
            "/personal/lecturas/lotes/{id}/reporte.csv",
            get(app::ssr::medicion::route_report),
        )
        .route(
            "/personal/lecturas/fotos/{id}",
            get(app::ssr::medicion::self_read_photo),
        )
        .route(
            "/ingest/chirpstack",
            axum::routing::post(crate::ingest::chirpstack),
        )
        .route(
            "/personal/facturacion/corridas/{id}/eventos",
            get(app::ssr::run_events),
        )
        .route(
            "/api/{*fn_name}",
            axum::routing::post(move |req: Request| {
                let st = fn_state.clone();
                async move {
                    leptos_axum::handle_server_fns_with_context(
                        move || provide_context(st.clone()),
                        req,
                    )
                    .await
                }
            }),
        );
    // The REST v2 facade over AquaCIS (`/api/v2/aquasis/…`) and its OpenAPI document.
    r = r.merge(crate::aquasis_api::router());
    if state.dev_mode {
        r = r
            .route("/dev/outbox", get(dev_outbox))
            .route("/dev/simuladores", get(dev_simulators));
    }
    let opts = state.leptos_options.clone();
    r.leptos_routes_with_context(
        &state,
        routes,
        move || provide_context(ctx_state.clone()),
        {
            let opts = opts.clone();
            move || shell(opts.clone())
        },
    )
    .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
    .layer(middleware::from_fn(error_status))
    .layer(middleware::from_fn(headers))
    .layer(middleware::from_fn(csrf))
    .layer(middleware::from_fn(track_metrics))
    .layer(CompressionLayer::new())
    .layer(TraceLayer::new_for_http())
    .with_state(state)
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

fn prometheus() -> &'static PrometheusHandle {
    static H: OnceLock<PrometheusHandle> = OnceLock::new();
    H.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full("http_request_duration_seconds".into()),
                &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
            )
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (tests run several servers in one
        // process): then this handle simply renders what it has.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

async fn metrics_page() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        prometheus().render(),
    )
        .into_response()
}

async fn track_metrics(req: Request, next: Next) -> Response {
    let _ = prometheus();
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| {
            if req.uri().path().starts_with("/api/") {
                "/api".into()
            } else {
                "other".into()
            }
        });
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    res
}

/// Cross-site request forgery protection for state-changing requests: browsers send
/// `Sec-Fetch-Site` (or at least `Origin`) and a cross-site form post or fetch is
/// refused. Together with SameSite=Lax cookies this covers every server function.
async fn csrf(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let cross = match h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some("null") => true,
            Some(origin) => origin.split("://").nth(1).is_none_or(|o| o != host),
            None => false, // not a browser: no ambient cookies to abuse
        },
    };
    if cross {
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":"Solicitud rechazada: no viene de esta página."}"#,
        )
            .into_response();
    }
    next.run(req).await
}

/// Server functions whose arguments do not even deserialize answer with the
/// framework's default 500; the body is our `AppError`, so give it its real status
/// (bad input is a 4xx, never a 500).
async fn error_status(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !api || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(e) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Security headers everywhere; revalidation for static assets (the service worker
/// is the offline cache, the HTTP cache only saves bytes with 304s).
async fn headers(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if path.starts_with("/pkg/") || path.starts_with("/sw") || path == "/manifest.webmanifest" {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    } else if path.starts_with("/personal")
        || path.starts_with("/dev/")
        || path.starts_with("/api/")
    {
        // Staff pages and API answers are never kept on the device.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Development only: where the provider simulators listen (to play the OXXO till).
async fn dev_simulators(State(st): State<AppState>) -> Response {
    axum::Json(serde_json::json!({
        "conekta": st.payments.conekta.as_ref().map(|c| c.base_url().to_string()),
        "stp": st.payments.stp.as_ref().map(|c| c.base_url().to_string()),
        "aquacis": st.legacy.as_ref().map(|b| b.client().base_url().to_string()),
    }))
    .into_response()
}

/// Development only: the messages the outbox would send (one-time codes).
async fn dev_outbox(State(st): State<AppState>, req: Request) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let tenant = st.tenant_for_host(host);
    let items = match st.db.read(tenant).await {
        Ok(mut tx) => db::repo::outbox_recent(&mut tx, "notify.", 50).await,
        Err(e) => Err(e),
    };
    let items = match items {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(error = %e, "dev outbox");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
        }
    };
    let mut rows = String::new();
    for i in items {
        let p = &i.payload.0;
        let s = |k: &str| escape(p.get(k).and_then(|v| v.as_str()).unwrap_or(""));
        let text = s("text");
        let code: String = text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or("")
            .to_string();
        rows.push_str(&format!(
            "<tr data-contract=\"{contract}\"><td>{when}</td><td>{kind}</td><td>{contract}</td><td>{to}</td>\
             <td><code class=\"otp\">{code}</code></td><td>{text}</td><td>{status}</td></tr>",
            when = escape(&auth::format_local(i.created_at)),
            kind = escape(&i.kind),
            contract = s("contract"),
            to = s("to_masked"),
            status = if i.delivered_at.is_some() { "entregado" } else { "en cola" },
        ));
    }
    Html(format!(
        r#"<!DOCTYPE html><html lang="es-MX"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mensajes enviados (desarrollo) · Mi Agua</title><link rel="stylesheet" href="/pkg/supra.css"></head>
<body><main id="contenido"><h1>Mensajes enviados (solo en desarrollo)</h1>
<p>Estos mensajes irían por SMS o correo. Esta página no existe en producción.</p>
<table><caption>Últimos 50 mensajes</caption><thead><tr><th scope="col">Fecha</th><th scope="col">Canal</th>
<th scope="col">Contrato</th><th scope="col">Para</th><th scope="col">Código</th><th scope="col">Texto</th>
<th scope="col">Estado</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>"#
    ))
    .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
