//! Provider webhooks. Thin: find the tenant, parse the provider's message, call the
//! engine, answer the way the provider expects.
//!
//! `POST /webhooks/stp/abono`: STP's inbound SPEI notification. STP does not sign
//! abonos; production deployments restrict this path to STP's addresses (as STP
//! configures the integration). The abono is applied in one short transaction and
//! answered `{"mensaje":"confirmar"}` — also when it was seen before (STP re-sends) and
//! when its CLABE is not ours (kept for staff, never lost). A storage failure answers
//! 500 so STP delivers it again.
//!
//! `POST /webhooks/conekta`: signed by Conekta; verified, stored and queued, then
//! answered (see [`conekta`]).

use app::ssr::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    json(status, serde_json::json!({ "error": message }).to_string())
}

pub async fn stp_abono(State(st): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let tenant = st.tenant_for_host(headers.get(header::HOST).and_then(|v| v.to_str().ok()));
    let abono = match payments::stp::Abono::parse(&body) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let prefix = {
        let mut tx = match st.db.read(tenant).await {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(error = %e, "STP abono: database");
                return error(StatusCode::INTERNAL_SERVER_ERROR, "inténtelo de nuevo");
            }
        };
        match db::payments::stp_prefix(&mut tx).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "el organismo no tiene configurado su prefijo STP",
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "STP abono: database");
                return error(StatusCode::INTERNAL_SERVER_ERROR, "inténtelo de nuevo");
            }
        }
    };
    let received = invoicing::cobro::from_stp_abono(&abono, &prefix, &body);
    match invoicing::cobro::apply(&st.db, tenant, &received, chrono::Utc::now()).await {
        Ok(outcome) => {
            tracing::info!(abono = %abono.id, ?outcome, "STP abono");
            let r = payments::stp::Reply::Confirmar;
            json(
                StatusCode::from_u16(r.http_status()).unwrap_or(StatusCode::OK),
                r.body(),
            )
        }
        Err(invoicing::Error::Invalid { message, .. }) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, &message)
        }
        Err(e) => {
            tracing::error!(abono = %abono.id, error = %e, "STP abono not applied");
            error(StatusCode::INTERNAL_SERVER_ERROR, "inténtelo de nuevo")
        }
    }
}

/// `POST /webhooks/conekta`: verified against the utility's Conekta key, stored once
/// per event id with its outbox row, and answered 200 at once; the outbox worker
/// applies it (`invoicing::orders::process`). A bad signature is 401, a malformed or
/// stale event 400, storage trouble 500 (Conekta delivers it again).
pub async fn conekta(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use invoicing::orders::{Accepted, Refused};
    let tenant = st.tenant_for_host(headers.get(header::HOST).and_then(|v| v.to_str().ok()));
    let digest = headers.get("digest").and_then(|v| v.to_str().ok());
    match invoicing::orders::accept_conekta(
        &st.db,
        tenant,
        &st.payments,
        digest,
        &body,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(a) => json(
            StatusCode::OK,
            serde_json::json!({ "recibido": true, "nuevo": matches!(a, Accepted::Queued(_)) })
                .to_string(),
        ),
        Err(Refused::Signature(m)) => {
            tracing::warn!(reason = %m, "Conekta webhook: bad signature");
            error(StatusCode::UNAUTHORIZED, &m)
        }
        Err(e @ (Refused::Invalid(_) | Refused::Stale(_))) => {
            error(StatusCode::BAD_REQUEST, &e.to_string())
        }
        Err(e @ Refused::NotConfigured) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(Refused::Db(e)) => {
            tracing::error!(error = %e, "Conekta webhook: database");
            error(StatusCode::INTERNAL_SERVER_ERROR, "inténtelo de nuevo")
        }
    }
}
