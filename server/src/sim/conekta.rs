//! A Conekta simulator that speaks Conekta's API v2 JSON, so the production client
//! (`crates/conekta`) is pointed at it by URL (`CONEKTA_URL`):
//!
//! - `POST /orders` (Bearer private key; `Accept: application/vnd.conekta-v2…`): cash
//!   (OXXO: a 14-digit reference, at most $10,000.00), SPEI (an STP CLABE) and card.
//!   Card tokens behave like Conekta's test tokens: `tok_test_card_declined` and
//!   `tok_test_insufficient_funds` are declined (HTTP 402, `processing_error`, Spanish
//!   message); others are charged — with `three_ds_mode` the answer carries
//!   `next_action.redirect_to_url` to the simulator's 3-D Secure page, which authorises
//!   (or the cardholder cancels) and returns the browser to `return_url`.
//! - `GET /conekta.js` and `POST /tokens` (public key; CORS): what the citizen's
//!   browser uses to turn a card into a single-use token. Conekta's sandbox numbers
//!   (4242… approved, 4000000000000002 declined, 4000000000000127 insufficient funds)
//!   become the matching test tokens; a number failing Luhn, a past expiry or a bad
//!   CVC is refused with a Spanish `message_to_purchaser`.
//! - `GET /orders/{id}`; `POST /webhook_keys` (a fresh RSA key; events are signed with
//!   the newest one: header `digest` = base64 RSA PKCS#1 v1.5 SHA-256 over the body);
//!   `POST /webhooks` (where events go).
//! - Controls (not Conekta's API): `POST /sim/pay` `{reference|order_id, duplicate,
//!   reorder}` pays an order as an OXXO cashier would and delivers `charge.paid` and
//!   `order.paid` (each `duplicate` times, `order.paid` first when `reorder`; with
//!   `hold` it answers the signed events instead, for the caller to deliver);
//!   `POST /sim/expire` `{order_id}` expires one (`order.expired`); `POST /sim/decline`
//!   `{n}` declines the next n card charges; `POST /sim/delay` `{ms}` delays webhook
//!   deliveries; `GET /sim/statement?date=YYYY-MM-DD` lists the charges paid that day
//!   (for reconciliation); `GET /sim/orders` lists every order.
//!
//! Deliveries retry a failed endpoint a few times with backoff, as Conekta does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::{Datelike, Utc};
use payments::conekta::{
    ApiError, Charge, ChargeList, ChargeMethod, ErrorDetail, MethodRequest, NextAction, Order,
    OrderRequest, RedirectToUrl, Token, TokenError, TokenRequest, WebhookKey, WebhookSigner,
};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, CorsLayer};

pub struct ConektaSim {
    private_key: String,
    /// What the browser's Conekta.js sends to `POST /tokens`.
    public_key: String,
    /// This simulator's own address, for 3-D Secure redirect pages.
    base_url: Mutex<String>,
    http: reqwest::Client,
    state: Mutex<SimState>,
}

#[derive(Default)]
struct SimState {
    orders: HashMap<String, Order>,
    order_seq: Vec<String>,
    signer: Option<(String, Arc<WebhookSigner>)>,
    webhooks: Vec<String>,
    decline_next: u32,
    delay_ms: u64,
}

impl ConektaSim {
    pub fn new(private_key: &str, public_key: &str) -> Arc<ConektaSim> {
        Arc::new(ConektaSim {
            private_key: private_key.to_string(),
            public_key: public_key.to_string(),
            base_url: Mutex::new(String::new()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            state: Mutex::new(SimState::default()),
        })
    }

    /// Tell the simulator where it is served (for 3-D Secure links).
    pub fn set_base_url(&self, url: &str) {
        *lock(&self.base_url) = url.trim_end_matches('/').to_string();
    }

    /// Where webhooks go (what `POST /webhooks` does), for set-ups without the API.
    pub fn add_webhook(&self, url: &str) {
        let mut st = lock(&self.state);
        if !st.webhooks.iter().any(|u| u == url) {
            st.webhooks.push(url.to_string());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn router(sim: Arc<ConektaSim>) -> Router {
    Router::new()
        // What Conekta.js does in the citizen's browser: a page on our origin calls
        // the provider's origin, so these two answer CORS.
        .route(
            "/tokens",
            post(create_token).layer(
                CorsLayer::new()
                    .allow_origin(AllowOrigin::mirror_request())
                    .allow_methods([Method::POST])
                    .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT]),
            ),
        )
        .route("/conekta.js", get(conekta_js))
        .route("/orders", post(create_order))
        .route("/orders/{id}", get(get_order))
        .route("/webhook_keys", post(create_webhook_key))
        .route("/webhooks", post(create_webhook))
        .route("/3ds/{id}", get(three_ds_page))
        .route("/3ds/{id}/{decision}", post(three_ds_decide))
        .route("/sim/pay", post(sim_pay))
        .route("/sim/expire", post(sim_expire))
        .route("/sim/decline", post(sim_decline))
        .route("/sim/delay", post(sim_delay))
        .route("/sim/statement", get(sim_statement))
        .route("/sim/orders", get(sim_orders))
        .with_state(sim)
}

fn api_error(
    status: StatusCode,
    kind: &str,
    message: &str,
    code: &str,
    param: Option<&str>,
) -> Response {
    let e = ApiError {
        object: "error".into(),
        kind: kind.into(),
        log_id: hex::encode(rand::random::<[u8; 12]>()),
        details: vec![ErrorDetail {
            message: message.into(),
            debug_message: message.into(),
            param: param.map(str::to_string),
            code: code.into(),
        }],
    };
    (status, Json(e)).into_response()
}

/// The error answer when the request lacks Conekta's credentials or API version.
fn refused(sim: &ConektaSim, headers: &HeaderMap) -> Option<Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(sim.private_key.as_str()) {
        return Some(api_error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "Acceso no autorizado.",
            "conekta.errors.authentication.missing_key",
            None,
        ));
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !accept.contains("application/vnd.conekta-v2") {
        return Some(api_error(
            StatusCode::BAD_REQUEST,
            "parameter_validation_error",
            "Falta la versión de la API en el encabezado Accept.",
            "conekta.errors.parameter_validation.api_version",
            None,
        ));
    }
    None
}

fn random_digits(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

fn random_id(prefix: &str) -> String {
    let mut rng = rand::thread_rng();
    let s: String = (0..17)
        .map(|_| char::from(rng.sample(rand::distributions::Alphanumeric)))
        .collect();
    format!("{prefix}{s}")
}

async fn create_order(
    State(sim): State<Arc<ConektaSim>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(r) = refused(&sim, &headers) {
        return r;
    }
    let req: OrderRequest = match serde_json::from_str(&body) {
        Ok(r) => r,
        Err(e) => {
            return api_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "parameter_validation_error",
                &format!("La solicitud no es válida: {e}"),
                "conekta.errors.parameter_validation.request",
                None,
            );
        }
    };
    if req.currency != "MXN" {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_validation_error",
            "La moneda debe ser MXN.",
            "conekta.errors.parameter_validation.currency",
            Some("currency"),
        );
    }
    if req.line_items.is_empty() || req.charges.is_empty() {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_validation_error",
            "La orden necesita al menos un producto y un cargo.",
            "conekta.errors.parameter_validation.empty",
            Some("line_items"),
        );
    }
    if req.customer_info.name.is_empty()
        || req.customer_info.email.is_empty()
        || req.customer_info.phone.is_empty()
    {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_validation_error",
            "Faltan datos del cliente (nombre, correo, teléfono).",
            "conekta.errors.parameter_validation.customer_info",
            Some("customer_info"),
        );
    }
    let amount = req.total_centavos();
    let charge_req = &req.charges[0];
    let now = Utc::now().timestamp();
    let order_id = random_id("ord_");
    let base = lock(&sim.base_url).clone();
    let (method, status, next_action) = match &charge_req.payment_method {
        MethodRequest::Cash { expires_at } => {
            if amount > payments::conekta::OXXO_MAX_CENTAVOS {
                return api_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "parameter_validation_error",
                    "El monto máximo para pagos en efectivo es de $10,000.00 MXN.",
                    "conekta.errors.parameter_validation.charge.amount.oxxo",
                    Some("amount"),
                );
            }
            if *expires_at <= now {
                return api_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "parameter_validation_error",
                    "La fecha de expiración debe ser futura.",
                    "conekta.errors.parameter_validation.expires_at",
                    Some("expires_at"),
                );
            }
            let reference = format!("9300{}", random_digits(10));
            (
                ChargeMethod {
                    object: "cash_payment".into(),
                    kind: "oxxo".into(),
                    barcode_url: Some(format!("{base}/barcodes/{reference}.png")),
                    reference: Some(reference),
                    expires_at: Some(*expires_at),
                    ..ChargeMethod::default()
                },
                "pending_payment",
                None,
            )
        }
        MethodRequest::Spei { expires_at } => (
            ChargeMethod {
                object: "bank_transfer_payment".into(),
                kind: "spei".into(),
                clabe: Some(
                    domain::Clabe::from_17_digits(&format!("646180{}", random_digits(11)))
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                ),
                expires_at: Some(*expires_at),
                ..ChargeMethod::default()
            },
            "pending_payment",
            None,
        ),
        MethodRequest::Card { token_id } => {
            let declined = {
                let mut st = lock(&sim.state);
                let forced = st.decline_next > 0;
                if forced {
                    st.decline_next -= 1;
                }
                forced
            };
            match token_id.as_str() {
                "tok_test_card_declined" => {
                    return declined_card(
                        "La tarjeta fue declinada por el banco emisor.",
                        "conekta.errors.processing.bank.declined",
                    );
                }
                "tok_test_insufficient_funds" => {
                    return declined_card(
                        "La tarjeta no tiene fondos suficientes.",
                        "conekta.errors.processing.bank.insufficient_funds",
                    );
                }
                _ if declined => {
                    return declined_card(
                        "La tarjeta fue declinada por el banco emisor.",
                        "conekta.errors.processing.bank.declined",
                    );
                }
                t if !t.starts_with("tok_") => {
                    return api_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "parameter_validation_error",
                        "El token de la tarjeta no es válido.",
                        "conekta.errors.parameter_validation.token",
                        Some("token_id"),
                    );
                }
                _ => {}
            }
            let method = ChargeMethod {
                object: "card_payment".into(),
                kind: "credit".into(),
                last4: Some("4242".into()),
                ..ChargeMethod::default()
            };
            match (&req.three_ds_mode, &req.return_url) {
                (Some(_), Some(ret)) => (
                    method,
                    "pending_payment",
                    Some(NextAction {
                        kind: "redirect_to_url".into(),
                        redirect_to_url: RedirectToUrl {
                            url: format!("{base}/3ds/{order_id}"),
                            return_url: ret.clone(),
                        },
                    }),
                ),
                _ => (method, "paid", None),
            }
        }
    };
    let paid = status == "paid";
    let order = Order {
        id: order_id.clone(),
        object: "order".into(),
        amount,
        currency: "MXN".into(),
        payment_status: status.into(),
        metadata: req.metadata.clone(),
        charges: ChargeList {
            object: "list".into(),
            data: vec![Charge {
                id: hex::encode(rand::random::<[u8; 12]>()),
                object: "charge".into(),
                amount,
                status: status.into(),
                order_id: Some(order_id.clone()),
                paid_at: paid.then_some(now),
                failure_code: None,
                failure_message: None,
                payment_method: method,
            }],
        },
        next_action,
        created_at: now,
        livemode: false,
    };
    {
        let mut st = lock(&sim.state);
        st.orders.insert(order_id.clone(), order.clone());
        st.order_seq.push(order_id.clone());
    }
    if paid {
        let s = sim.clone();
        let o = order.clone();
        tokio::spawn(async move { s.deliver_paid(&o, 1, false).await });
    }
    (StatusCode::OK, Json(order)).into_response()
}

/// `POST /tokens` as Conekta answers it: the public key (Bearer, or Basic with the
/// key as user name, as older Conekta.js sends it), the card checked the way an issuer
/// would (Luhn, expiry, CVC), and a single-use token. Conekta's sandbox numbers map to
/// its server-side test tokens so a declined card declines when charged.
async fn create_token(
    State(sim): State<Arc<ConektaSim>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let key = match auth.split_once(' ') {
        Some(("Bearer", k)) => k.to_string(),
        Some(("Basic", b)) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .map(|s| s.trim_end_matches(':').to_string())
            .unwrap_or_default(),
        _ => String::new(),
    };
    if key != sim.public_key {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "No pudimos validar tu tarjeta. Inténtalo más tarde.",
            None,
            "conekta.errors.authentication.missing_key",
        );
    }
    let req: TokenRequest = match serde_json::from_str(&body) {
        Ok(r) => r,
        Err(_) => {
            return token_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "parameter_validation_error",
                "Faltan datos de la tarjeta.",
                Some("card"),
                "conekta.errors.parameter_validation.card",
            );
        }
    };
    let card = &req.card;
    let number: String = card.number.chars().filter(|c| !c.is_whitespace()).collect();
    if card.name.trim().is_empty() {
        return token_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_validation_error",
            "Escribe el nombre como aparece en la tarjeta.",
            Some("card[name]"),
            "conekta.errors.parameter_validation.card.name",
        );
    }
    if !(13..=19).contains(&number.len())
        || !number.chars().all(|c| c.is_ascii_digit())
        || !luhn::valid(&number)
    {
        return token_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_validation_error",
            "El número de tarjeta no es válido.",
            Some("card[number]"),
            "conekta.errors.parameter_validation.card.number",
        );
    }
    let today = Utc::now().date_naive();
    let month = card
        .exp_month
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|m| (1..=12).contains(m));
    let year = card
        .exp_year
        .trim()
        .parse::<i32>()
        .ok()
        .map(|y| if y < 100 { 2000 + y } else { y });
    let current = |y: i32, m: u32| (y, m) >= (today.year(), today.month());
    if !matches!((year, month), (Some(y), Some(m)) if current(y, m)) {
        return token_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_validation_error",
            "La fecha de vencimiento no es válida o la tarjeta ya venció.",
            Some("card[exp_month]"),
            "conekta.errors.parameter_validation.card.expiration",
        );
    }
    let cvc = card.cvc.trim();
    if !(3..=4).contains(&cvc.len()) || !cvc.chars().all(|c| c.is_ascii_digit()) {
        return token_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_validation_error",
            "El código de seguridad (CVV) no es válido.",
            Some("card[cvc]"),
            "conekta.errors.parameter_validation.card.cvc",
        );
    }
    let id = match number.as_str() {
        "4000000000000002" => "tok_test_card_declined".to_string(),
        "4000000000000127" => "tok_test_insufficient_funds".to_string(),
        "4242424242424242" => "tok_test_visa_4242".to_string(),
        _ => random_id("tok_"),
    };
    let token = Token {
        id,
        object: "token".into(),
        used: false,
        livemode: false,
    };
    (StatusCode::OK, Json(token)).into_response()
}

fn token_error(
    status: StatusCode,
    kind: &str,
    message: &str,
    param: Option<&str>,
    code: &str,
) -> Response {
    let e = TokenError {
        object: "error".into(),
        kind: kind.into(),
        message_to_purchaser: message.into(),
        param: param.map(str::to_string),
        code: code.into(),
    };
    (status, Json(e)).into_response()
}

/// Conekta.js as pages use it: `Conekta.setPublicKey(key)` then
/// `Conekta.Token.create({card: {...}}, onToken, onError)`. It posts the card straight
/// to this origin's `/tokens`; the page gets `{id}` or `{message_to_purchaser}`.
async fn conekta_js(State(sim): State<Arc<ConektaSim>>) -> Response {
    let base = lock(&sim.base_url).clone();
    let js = CONEKTA_JS_TEMPLATE.replace("__BASE__", &base);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        js,
    )
        .into_response()
}

const CONEKTA_JS_TEMPLATE: &str = r#"(function () {
  var base = "__BASE__";
  var key = null;
  function fail(onError, message, param) {
    onError({ object: "error", type: "parameter_validation_error", message_to_purchaser: message, param: param || null });
  }
  window.Conekta = {
    setPublicKey: function (k) { key = k; },
    getPublicKey: function () { return key; },
    Token: {
      create: function (params, onToken, onError) {
        if (!key) { fail(onError, "Falta la llave pública de Conekta."); return; }
        fetch(base + "/tokens", {
          method: "POST",
          mode: "cors",
          headers: { "Content-Type": "application/json", "Accept": "application/vnd.conekta-v2.2.0+json",
                     "Authorization": "Basic " + btoa(key + ":") },
          body: JSON.stringify({ card: params.card })
        }).then(function (r) { return r.json(); })
          .then(function (b) { if (b && b.object === "token") { onToken(b); } else { onError(b); } })
          .catch(function () { fail(onError, "No pudimos comunicarnos con el procesador de pagos. Revisa tu conexión."); });
      }
    }
  };
})();
"#;

fn declined_card(message: &str, code: &str) -> Response {
    api_error(
        StatusCode::PAYMENT_REQUIRED,
        "processing_error",
        message,
        code,
        None,
    )
}

async fn get_order(
    State(sim): State<Arc<ConektaSim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = refused(&sim, &headers) {
        return r;
    }
    match lock(&sim.state).orders.get(&id) {
        Some(o) => (StatusCode::OK, Json(o.clone())).into_response(),
        None => api_error(
            StatusCode::NOT_FOUND,
            "resource_not_found_error",
            "El recurso no fue encontrado.",
            "conekta.errors.resource_not_found.entity",
            Some("id"),
        ),
    }
}

async fn create_webhook_key(State(sim): State<Arc<ConektaSim>>, headers: HeaderMap) -> Response {
    if let Some(r) = refused(&sim, &headers) {
        return r;
    }
    let signer = match tokio::task::spawn_blocking(WebhookSigner::generate).await {
        Ok(Ok(s)) => Arc::new(s),
        _ => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let id = random_id("");
    let key = WebhookKey {
        id: id.clone(),
        active: true,
        public_key: signer.public_pem().to_string(),
        created_at: Utc::now().timestamp(),
    };
    lock(&sim.state).signer = Some((id, signer));
    (StatusCode::OK, Json(key)).into_response()
}

#[derive(Deserialize)]
struct WebhookReq {
    url: String,
}

async fn create_webhook(
    State(sim): State<Arc<ConektaSim>>,
    headers: HeaderMap,
    Json(w): Json<WebhookReq>,
) -> Response {
    if let Some(r) = refused(&sim, &headers) {
        return r;
    }
    sim.add_webhook(&w.url);
    let id = random_id("");
    (
        StatusCode::OK,
        Json(json!({"id": id, "url": w.url, "status": "listening", "object": "webhook"})),
    )
        .into_response()
}

impl ConektaSim {
    /// Mark an order paid now. `None` when unknown; the order as it is otherwise.
    fn mark_paid(&self, order_id: &str) -> Option<Order> {
        let mut st = lock(&self.state);
        let o = st.orders.get_mut(order_id)?;
        if o.payment_status != "paid" {
            o.payment_status = "paid".into();
            let now = Utc::now().timestamp();
            for c in &mut o.charges.data {
                c.status = "paid".into();
                c.paid_at = Some(now);
                if c.payment_method.object == "cash_payment" {
                    c.payment_method.auth_code = Some(random_digits(8));
                }
            }
        }
        Some(o.clone())
    }

    /// `charge.paid` then `order.paid` for an order (the other way round when
    /// `reorder`).
    fn paid_events(&self, order: &Order, reorder: bool) -> Vec<Value> {
        let mut events = vec![];
        if let Some(c) = order.first_charge() {
            events.push(self.event(
                "charge.paid",
                serde_json::to_value(c).unwrap_or(Value::Null),
            ));
        }
        events.push(self.event(
            "order.paid",
            serde_json::to_value(order).unwrap_or(Value::Null),
        ));
        if reorder {
            events.reverse();
        }
        events
    }

    /// Deliver `charge.paid` and `order.paid` for an order, each `copies` times.
    async fn deliver_paid(&self, order: &Order, copies: u32, reorder: bool) -> Vec<u16> {
        let events = self.paid_events(order, reorder);
        let mut statuses = vec![];
        for e in &events {
            for _ in 0..copies.max(1) {
                statuses.extend(self.deliver(e).await);
            }
        }
        statuses
    }

    fn event(&self, kind: &str, object: Value) -> Value {
        json!({
            "id": random_id("evt_"),
            "type": kind,
            "livemode": false,
            "created_at": Utc::now().timestamp(),
            "data": {"object": object, "previous_attributes": {}},
            "webhook_status": "pending",
            "object": "event",
        })
    }

    /// POST one event to every webhook, signed; retried on failure. The HTTP
    /// statuses the endpoints answered last.
    async fn deliver(&self, event: &Value) -> Vec<u16> {
        let (urls, signer, delay) = {
            let st = lock(&self.state);
            (st.webhooks.clone(), st.signer.clone(), st.delay_ms)
        };
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let body = event.to_string();
        let digest = signer.map(|(_, s)| s.sign(body.as_bytes()));
        let mut out = vec![];
        for url in urls {
            let mut status = 0;
            for attempt in 0..4u32 {
                let mut req = self
                    .http
                    .post(&url)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
                if let Some(d) = &digest {
                    req = req.header("digest", d);
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        status = r.status().as_u16();
                        break;
                    }
                    Ok(r) => status = r.status().as_u16(),
                    Err(_) => status = 0,
                }
                if status != 0 && status < 500 && status != 429 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            out.push(status);
        }
        out
    }
}

#[derive(Deserialize, Default)]
struct PayReq {
    reference: Option<String>,
    order_id: Option<String>,
    #[serde(default)]
    duplicate: Option<u32>,
    #[serde(default)]
    reorder: bool,
    /// Do not deliver: answer the signed events (`held: [{body, digest}]`) for the
    /// caller to deliver as it likes (storms, replays).
    #[serde(default)]
    hold: bool,
}

async fn sim_pay(State(sim): State<Arc<ConektaSim>>, Json(p): Json<PayReq>) -> Response {
    let id = match (&p.order_id, &p.reference) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(r)) => lock(&sim.state)
            .orders
            .values()
            .find(|o| {
                o.first_charge()
                    .and_then(|c| c.payment_method.reference.as_deref())
                    == Some(r.as_str())
            })
            .map(|o| o.id.clone()),
        _ => None,
    };
    let Some(order) = id.and_then(|id| sim.mark_paid(&id)) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "referencia u orden desconocida"})),
        )
            .into_response();
    };
    if p.hold {
        let signer = lock(&sim.state).signer.clone();
        let held: Vec<Value> = sim
            .paid_events(&order, p.reorder)
            .iter()
            .map(|e| {
                let body = e.to_string();
                let digest = signer.as_ref().map(|(_, s)| s.sign(body.as_bytes()));
                json!({"body": body, "digest": digest})
            })
            .collect();
        return (
            StatusCode::OK,
            Json(json!({"order_id": order.id, "amount": order.amount, "held": held})),
        )
            .into_response();
    }
    let statuses = sim
        .deliver_paid(&order, p.duplicate.unwrap_or(1), p.reorder)
        .await;
    (
        StatusCode::OK,
        Json(json!({"order_id": order.id, "amount": order.amount, "deliveries": statuses})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct ExpireReq {
    order_id: String,
}

async fn sim_expire(State(sim): State<Arc<ConektaSim>>, Json(e): Json<ExpireReq>) -> Response {
    let order = {
        let mut st = lock(&sim.state);
        let Some(o) = st.orders.get_mut(&e.order_id) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        if o.payment_status == "pending_payment" {
            o.payment_status = "expired".into();
            for c in &mut o.charges.data {
                c.status = "expired".into();
            }
        }
        o.clone()
    };
    let ev = sim.event(
        "order.expired",
        serde_json::to_value(&order).unwrap_or(Value::Null),
    );
    let statuses = sim.deliver(&ev).await;
    (
        StatusCode::OK,
        Json(json!({"order_id": order.id, "deliveries": statuses})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct CountReq {
    n: Option<u32>,
    ms: Option<u64>,
}

async fn sim_decline(State(sim): State<Arc<ConektaSim>>, Json(c): Json<CountReq>) -> StatusCode {
    lock(&sim.state).decline_next = c.n.unwrap_or(1);
    StatusCode::NO_CONTENT
}

async fn sim_delay(State(sim): State<Arc<ConektaSim>>, Json(c): Json<CountReq>) -> StatusCode {
    lock(&sim.state).delay_ms = c.ms.unwrap_or(0);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct StatementQuery {
    date: chrono::NaiveDate,
}

/// The charges paid on a day (Mexico City time), as a provider statement.
async fn sim_statement(
    State(sim): State<Arc<ConektaSim>>,
    Query(q): Query<StatementQuery>,
) -> Response {
    let st = lock(&sim.state);
    let rows: Vec<Value> = st
        .order_seq
        .iter()
        .filter_map(|id| st.orders.get(id))
        .flat_map(|o| o.charges.data.iter().map(move |c| (o, c)))
        .filter_map(|(o, c)| {
            let paid = chrono::DateTime::<Utc>::from_timestamp(c.paid_at?, 0)?;
            let local = paid
                .with_timezone(&chrono_tz::America::Mexico_City)
                .date_naive();
            (local == q.date).then(|| {
                json!({
                    "order_id": o.id, "charge_id": c.id, "amount": c.amount,
                    "paid_at": c.paid_at, "method": c.payment_method.kind,
                    "reference": c.payment_method.reference,
                })
            })
        })
        .collect();
    (
        StatusCode::OK,
        Json(json!({"date": q.date, "object": "list", "data": rows})),
    )
        .into_response()
}

async fn sim_orders(State(sim): State<Arc<ConektaSim>>) -> Response {
    let st = lock(&sim.state);
    let orders: Vec<&Order> = st
        .order_seq
        .iter()
        .filter_map(|id| st.orders.get(id))
        .collect();
    (StatusCode::OK, Json(json!({"data": orders}))).into_response()
}

/// The 3-D Secure challenge page (the issuing bank's, simulated).
async fn three_ds_page(State(sim): State<Arc<ConektaSim>>, Path(id): Path<String>) -> Response {
    let known = lock(&sim.state).orders.get(&id).map(|o| o.amount);
    let Some(amount) = known else {
        return (StatusCode::NOT_FOUND, "orden desconocida").into_response();
    };
    let pesos = domain::Money::from_centavos(amount).format_mxn();
    Html(format!(
        r#"<!doctype html><html lang="es-MX"><head><meta charset="utf-8"><title>Verificación 3-D Secure</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Verificación de su banco</h1><p>Autorice el cargo de {pesos} a su tarjeta terminación 4242.</p>
<form method="post" action="/3ds/{id}/autorizar"><button type="submit">Autorizar</button></form>
<form method="post" action="/3ds/{id}/cancelar"><button type="submit">Cancelar</button></form></main></body></html>"#
    ))
    .into_response()
}

async fn three_ds_decide(
    State(sim): State<Arc<ConektaSim>>,
    Path((id, decision)): Path<(String, String)>,
) -> Response {
    let return_url = lock(&sim.state).orders.get(&id).and_then(|o| {
        o.next_action
            .as_ref()
            .map(|n| n.redirect_to_url.return_url.clone())
    });
    let Some(return_url) = return_url else {
        return (StatusCode::NOT_FOUND, "orden desconocida").into_response();
    };
    let status = if decision == "autorizar" {
        if let Some(order) = sim.mark_paid(&id) {
            sim.deliver_paid(&order, 1, false).await;
        }
        "paid"
    } else {
        {
            let mut st = lock(&sim.state);
            if let Some(o) = st.orders.get_mut(&id) {
                o.payment_status = "declined".into();
                for c in &mut o.charges.data {
                    c.status = "declined".into();
                    c.failure_message = Some("El titular canceló la verificación.".into());
                }
            }
        }
        let order = lock(&sim.state).orders.get(&id).cloned();
        if let Some(o) = order {
            let ev = sim.event(
                "order.declined",
                serde_json::to_value(&o).unwrap_or(Value::Null),
            );
            sim.deliver(&ev).await;
        }
        "declined"
    };
    let sep = if return_url.contains('?') { '&' } else { '?' };
    Redirect::to(&format!(
        "{return_url}{sep}order_id={id}&payment_status={status}"
    ))
    .into_response()
}
