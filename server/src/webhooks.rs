//! Provider webhooks. Thin: find the tenant, hand the raw request to
//! `invoicing::webhooks` (verify, store once, queue), answer the way the provider
//! expects. Applying happens in the outbox worker, so providers are answered in
//! milliseconds and a crash after the answer loses nothing.
//!
//! - `POST /webhooks/stp/abono`: STP's inbound SPEI notification. STP does not sign
//!   abonos; production deployments restrict this path to STP's addresses (as STP
//!   configures the integration). Answered `{"mensaje":"confirmar"}` once stored — also
//!   when seen before (STP re-sends) and whatever CLABE it names (money that names no
//!   contract is kept for staff, never lost). Malformed: 400. Storage failure: 500, so
//!   STP delivers it again.
//! - `POST /webhooks/conekta`: signed by Conekta (`digest`); a bad signature is 401, a
//!   malformed or stale event 400, storage trouble 500 (Conekta delivers it again).

use app::ssr::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use invoicing::webhooks::{Accepted, Refused};

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    json(status, serde_json::json!({ "error": message }).to_string())
}

fn refused(provider: &str, e: Refused) -> Response {
    match e {
        Refused::Signature(m) => {
            tracing::warn!(provider, reason = %m, "webhook: bad signature");
            error(StatusCode::UNAUTHORIZED, &m)
        }
        e @ (Refused::Invalid(_) | Refused::Stale(_)) => {
            error(StatusCode::BAD_REQUEST, &e.to_string())
        }
        e @ Refused::NotConfigured => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Refused::Db(e) => {
            tracing::error!(provider, error = %e, "webhook: database");
            error(StatusCode::INTERNAL_SERVER_ERROR, "inténtelo de nuevo")
        }
    }
}

fn tenant(st: &AppState, headers: &HeaderMap) -> db::TenantId {
    st.tenant_for_host(headers.get(header::HOST).and_then(|v| v.to_str().ok()))
}

pub async fn stp_abono(State(st): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let tenant = tenant(&st, &headers);
    match invoicing::webhooks::accept_stp(&st.db, tenant, &body, chrono::Utc::now()).await {
        Ok(_) => {
            let r = payments::stp::Reply::Confirmar;
            json(
                StatusCode::from_u16(r.http_status()).unwrap_or(StatusCode::OK),
                r.body(),
            )
        }
        Err(e) => refused("stp", e),
    }
}

pub async fn conekta(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let tenant = tenant(&st, &headers);
    let digest = headers.get("digest").and_then(|v| v.to_str().ok());
    match invoicing::webhooks::accept_conekta(
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
        Err(e) => refused("conekta", e),
    }
}
