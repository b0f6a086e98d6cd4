//! An STP simulator: it sends abonos the way STP notifies them (a JSON POST to the
//! configured webhook; STP does not sign them) and answers the conciliación service
//! (`POST /efws/API/conciliacion`) with the abonos of an operation day, page by page —
//! what the production client (`crates/stp`) reads for reconciliation.
//!
//! Controls (not STP's API): `POST /sim/abono` `{cuentaBeneficiario, monto,
//! nombreOrdenante?, deliver?, statement_monto?}` creates an abono, delivers it unless
//! `deliver` is false (a notification that never arrived) and lists it in the day's
//! statement — with `statement_monto` when the bank's record should disagree.
//! `referenciaNumerica` and `folioCodi` may be given too. `POST /sim/codi` `{qr}` is
//! the payer's banking app paying a CoDi QR: the QR's text names the CLABE, amount and
//! reference, and the abono arrives with a `folioCodi`.
//! `POST /sim/webhook` `{url}` sets where abonos go.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

const PAGE: usize = 100;

pub struct StpSim {
    http: reqwest::Client,
    state: Mutex<State_>,
}

#[derive(Default)]
struct State_ {
    webhook: Option<String>,
    next_id: u64,
    /// (fechaOperacion YYYYMMDD, abono as listed in the statement).
    statement: Vec<(String, Value)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl StpSim {
    pub fn new() -> Arc<StpSim> {
        Arc::new(StpSim {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            state: Mutex::new(State_ {
                next_id: 5_000_000,
                ..State_::default()
            }),
        })
    }

    pub fn set_webhook(&self, url: &str) {
        lock(&self.state).webhook = Some(url.to_string());
    }
}

pub fn router(sim: Arc<StpSim>) -> Router {
    Router::new()
        .route("/efws/API/conciliacion", post(conciliacion))
        .route("/sim/abono", post(sim_abono))
        .route("/sim/codi", post(sim_codi))
        .route("/sim/webhook", post(sim_webhook))
        .with_state(sim)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AbonoReq {
    cuenta_beneficiario: String,
    /// Pesos, as text ("123.45"): written into the JSON number verbatim.
    monto: String,
    #[serde(default)]
    nombre_ordenante: Option<String>,
    #[serde(default = "yes")]
    deliver: bool,
    #[serde(default, rename = "statement_monto")]
    statement_monto: Option<String>,
    #[serde(default)]
    referencia_numerica: Option<u32>,
    #[serde(default)]
    folio_codi: Option<String>,
}

fn yes() -> bool {
    true
}

fn abono_json(id: u64, fecha: &str, req: &AbonoReq, monto: &str) -> String {
    let ts = chrono::Utc::now().timestamp_millis();
    format!(
        r#"{{"id":{id},"fechaOperacion":{fecha},"institucionOrdenante":40012,"institucionBeneficiaria":90646,"claveRastreo":"SIMSTP{id}","monto":{monto},"nombreOrdenante":{},"tipoCuentaOrdenante":40,"cuentaOrdenante":"012180015555555557","rfcCurpOrdenante":"ND","nombreBeneficiario":"ORGANISMO","tipoCuentaBeneficiario":40,"cuentaBeneficiario":{},"conceptoPago":"PAGO AGUA","referenciaNumerica":{},"empresa":"SUPRA","tipoPago":1,"tsLiquidacion":{ts}{}}}"#,
        Value::from(
            req.nombre_ordenante
                .clone()
                .unwrap_or_else(|| "JUAN PEREZ".into())
        ),
        Value::from(req.cuenta_beneficiario.clone()),
        req.referencia_numerica.unwrap_or(1),
        req.folio_codi
            .as_ref()
            .map(|f| format!(",\"folioCodi\":{}", Value::from(f.clone())))
            .unwrap_or_default(),
    )
}

#[derive(Deserialize)]
struct CodiReq {
    qr: String,
}

/// The payer's banking app reads a CoDi QR and pays it by SPEI.
async fn sim_codi(State(sim): State<Arc<StpSim>>, Json(c): Json<CodiReq>) -> Response {
    let parsed: Option<(String, String, u32)> =
        serde_json::from_str::<Value>(&c.qr).ok().and_then(|v| {
            Some((
                v["cuentaBeneficiario"].as_str()?.to_string(),
                v["datosMC"]["monto"].as_str()?.to_string(),
                v["datosMC"]["referenciaNumerica"].as_str()?.parse().ok()?,
            ))
        });
    let Some((cuenta, monto, referencia)) = parsed else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "no es un código CoDi"})),
        )
            .into_response();
    };
    let folio: String = (0..10)
        .map(|_| char::from(b'0' + rand::random::<u8>() % 10))
        .collect();
    sim_abono(
        State(sim),
        Json(AbonoReq {
            cuenta_beneficiario: cuenta,
            monto,
            nombre_ordenante: None,
            deliver: true,
            statement_monto: None,
            referencia_numerica: Some(referencia),
            folio_codi: Some(folio),
        }),
    )
    .await
}

async fn sim_abono(State(sim): State<Arc<StpSim>>, Json(req): Json<AbonoReq>) -> Response {
    let ok = |m: &str| m.parse::<rust_decimal::Decimal>().is_ok();
    if !ok(&req.monto) || req.statement_monto.as_deref().is_some_and(|m| !ok(m)) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "monto no es un número"})),
        )
            .into_response();
    }
    let fecha = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Mexico_City)
        .format("%Y%m%d")
        .to_string();
    let (id, webhook) = {
        let mut st = lock(&sim.state);
        st.next_id += 1;
        (st.next_id, st.webhook.clone())
    };
    let sent = abono_json(id, &fecha, &req, &req.monto);
    let listed = abono_json(
        id,
        &fecha,
        &req,
        req.statement_monto.as_deref().unwrap_or(&req.monto),
    );
    lock(&sim.state).statement.push((
        fecha.clone(),
        serde_json::from_str(&listed).unwrap_or(Value::Null),
    ));
    let mut status = None;
    if req.deliver
        && let Some(url) = webhook
    {
        for attempt in 0..4u32 {
            match sim
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(sent.clone())
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => {
                    status = Some(r.status().as_u16());
                    break;
                }
                Ok(r) => status = Some(r.status().as_u16()),
                Err(_) => status = None,
            }
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
    }
    (
        StatusCode::OK,
        Json(json!({"id": id, "fechaOperacion": fecha, "delivered": status})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct WebhookReq {
    url: String,
}

async fn sim_webhook(State(sim): State<Arc<StpSim>>, Json(w): Json<WebhookReq>) -> StatusCode {
    sim.set_webhook(&w.url);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConciliacionReq {
    empresa: String,
    tipo_orden: String,
    fecha_operacion: String,
    #[serde(default)]
    page: usize,
}

async fn conciliacion(State(sim): State<Arc<StpSim>>, Json(q): Json<ConciliacionReq>) -> Response {
    if q.empresa.trim().is_empty() || q.tipo_orden != "R" {
        return (
            StatusCode::OK,
            Json(json!({"estado": -1, "mensaje": "Parámetros inválidos"})),
        )
            .into_response();
    }
    let st = lock(&sim.state);
    let day: Vec<&Value> = st
        .statement
        .iter()
        .filter(|(f, _)| *f == q.fecha_operacion)
        .map(|(_, v)| v)
        .collect();
    let total = day.len();
    let datos: Vec<&Value> = day.into_iter().skip(q.page * PAGE).take(PAGE).collect();
    (StatusCode::OK, Json(json!({"estado": 0, "mensaje": "Datos consultados correctamente", "datos": datos, "total": total}))).into_response()
}
