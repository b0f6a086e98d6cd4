//! Meter ingest over HTTP. Thin: authenticate, hand the raw event to `metering`,
//! answer.
//!
//! `POST /ingest/chirpstack?event=up`: ChirpStack v4's HTTP integration, JSON encoding.
//! ChirpStack does not sign requests; the integration is configured with the header
//! `Authorization: Bearer <secret>` (a secret issued by `supra ingest integration`).
//! Other events (`join`, `status`, `log`, …) are acknowledged and ignored. ChirpStack
//! does not retry, so the endpoint stores before answering and is idempotent
//! (`deduplicationId`, and (meter, time) for the reading).
//!
//! Answers: 200 stored or already stored; 202 kept in quarantine (unknown device,
//! undecodable frame); 422 a reading that cannot be right (kept in quarantine too);
//! 401 no or wrong secret; 415 protobuf encoding; 500 storage trouble.

use std::collections::HashMap;
use std::time::Duration;

use app::ssr::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use db::{Db, TenantId};
use metering::Outcome;
use metering::uplink::Fate;
use tokio::sync::watch;

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    reply(status, serde_json::json!({ "error": message }))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

pub async fn chirpstack(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tenant = st.tenant_for_host(headers.get(header::HOST).and_then(|v| v.to_str().ok()));
    let now = chrono::Utc::now();
    let Some(secret) = bearer(&headers) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Falta el encabezado Authorization: Bearer <secreto> de la integración.",
        );
    };
    match metering::integrations::authenticate(&st.db, tenant, secret, now).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "El secreto de la integración no es válido.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "ingest: integration lookup");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "Inténtelo de nuevo.");
        }
    }
    let event = q.get("event").map(String::as_str).unwrap_or("");
    if event != "up" {
        return reply(StatusCode::OK, serde_json::json!({ "ignorado": event }));
    }
    let protobuf = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/octet-stream"));
    if protobuf {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Configure la integración HTTP de ChirpStack con codificación JSON.",
        );
    }
    match metering::uplink::ingest(&st.db, tenant, "http", &[&body], now).await {
        Ok(fates) => match fates.into_iter().next() {
            Some(Fate::Recorded(Outcome::Accepted { quality })) => {
                metrics::counter!("ingest_readings_total", "source" => "http").increment(1);
                reply(
                    StatusCode::OK,
                    serde_json::json!({ "resultado": "guardada", "calidad": quality }),
                )
            }
            Some(Fate::Recorded(Outcome::Duplicate)) | None => reply(
                StatusCode::OK,
                serde_json::json!({ "resultado": "duplicada" }),
            ),
            Some(Fate::Recorded(Outcome::Rejected { field, message })) => reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::json!({ "error": message, "campo": field, "resultado": "cuarentena" }),
            ),
            Some(Fate::Quarantined(reason)) => reply(
                StatusCode::ACCEPTED,
                serde_json::json!({ "resultado": "cuarentena", "motivo": reason }),
            ),
        },
        Err(e) => {
            tracing::error!(error = %e, "ingest: storage");
            error(StatusCode::INTERNAL_SERVER_ERROR, "Inténtelo de nuevo.")
        }
    }
}

/// The MQTT consumer's handler: each ChirpStack `up` event through `metering::uplink`
/// for the broker's utility. Stored or quarantined is handled (acknowledged); only a
/// storage failure leaves the message unacknowledged, to be retried.
pub struct MqttIngest {
    pub db: Db,
    pub tenant: TenantId,
}

impl crate::mqtt::Handler for MqttIngest {
    async fn handle(&self, messages: &[crate::mqtt::Message]) -> anyhow::Result<()> {
        // The subscription is to `up` events; anything else published under it is not
        // a reading.
        let events: Vec<&[u8]> = messages
            .iter()
            .filter(|m| {
                ingest::chirpstack::topic_parts(&m.topic).is_none_or(|(_, _, event)| event == "up")
            })
            .map(|m| m.payload.as_slice())
            .collect();
        if events.is_empty() {
            return Ok(());
        }
        let fates =
            metering::uplink::ingest(&self.db, self.tenant, "mqtt", &events, Utc::now()).await?;
        for f in fates {
            let outcome = match f {
                Fate::Recorded(Outcome::Accepted { .. }) => "guardada",
                Fate::Recorded(Outcome::Duplicate) => "duplicada",
                Fate::Recorded(Outcome::Rejected { .. }) | Fate::Quarantined(_) => "cuarentena",
            };
            metrics::counter!("ingest_mqtt_total", "resultado" => outcome).increment(1);
        }
        Ok(())
    }
}

/// On start: route batches a stopped server left half-done are marked interrupted.
pub async fn on_start(db: &Db, tenants: &[TenantId]) -> anyhow::Result<()> {
    for &t in tenants {
        let mut tx = db.write(t).await?;
        let n = db::metering::interrupt_batches(&mut tx, Utc::now()).await?;
        tx.commit().await?;
        if n > 0 {
            tracing::warn!(
                tenant = t.0,
                batches = n,
                "ingest: route batches interrupted by the last stop"
            );
        }
    }
    Ok(())
}

/// Run the anomaly rules for every tenant every `every`, until `stop`. A run that fails
/// is logged and retried at the next tick (detection is idempotent).
pub async fn detect_loop(
    db: Db,
    tenants: Vec<TenantId>,
    settings: metering::anomalies::Settings,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        for &t in &tenants {
            match metering::anomalies::detect(&db, t, &settings, Utc::now()).await {
                Ok(s) => {
                    tracing::info!(
                        tenant = t.0,
                        meters = s.meters,
                        new = s.total(),
                        "anomalies: detection run"
                    )
                }
                Err(e) => {
                    tracing::error!(tenant = t.0, error = %e, "anomalies: detection run failed")
                }
            }
        }
    }
}
