//! Conekta (API v2.x), spoken in its published JSON wire format: `Authorization:
//! Bearer <private key>`, `Accept: application/vnd.conekta-v2.2.0+json`,
//! `Accept-Language: es` (customer-facing messages come back in Spanish), amounts in
//! integer centavos. The wire types are `payments::conekta`.
//!
//! - [`Conekta::create_order`]: an OXXO cash reference, a SPEI CLABE or a card charge
//!   (3-D Secure answers with a redirect). Not retried: a second POST would be a
//!   second order. A declined card comes back as [`Error::Declined`] with Conekta's
//!   own customer message.
//! - [`Conekta::order`]: the order as Conekta has it now — what a webhook is checked
//!   against (defence in depth, as Conekta's own plugins do). Retried with backoff.
//! - [`Conekta::create_webhook_key`], [`Conekta::create_webhook`]: set-up.
//!
//! The same client talks to `https://api.conekta.io` or to the simulator in this
//! repository (`CONEKTA_URL`); there is no other code path.

use std::time::Duration;

use payments::conekta::{ApiError, Order, OrderRequest, WebhookKey};
use thiserror::Error;

pub const PRODUCTION_URL: &str = "https://api.conekta.io";
pub const ACCEPT: &str = "application/vnd.conekta-v2.2.0+json";

#[derive(Debug, Error)]
pub enum Error {
    /// The card (or bank) said no; `message` is Conekta's message for the customer.
    #[error("{message}")]
    Declined { code: String, message: String },
    /// Conekta refused the request (bad parameter, key): not worth repeating as is.
    #[error("Conekta rechazó la solicitud: {message}")]
    Rejected {
        kind: String,
        param: Option<String>,
        message: String,
    },
    /// Conekta could not be reached or failed on its side (after retries for reads).
    #[error("Conekta no respondió: {0}")]
    Transient(String),
    /// Not found (an order id Conekta does not know).
    #[error("Conekta no conoce {0}")]
    NotFound(String),
    #[error("respuesta de Conekta ilegible: {0}")]
    Protocol(String),
    #[error("configuración de Conekta: {0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Conekta {
    http: reqwest::Client,
    base: String,
    private_key: String,
    attempts: u32,
    first_delay: Duration,
}

impl std::fmt::Debug for Conekta {
    // Never print the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conekta")
            .field("base", &self.base)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl Conekta {
    pub fn new(base: &str, private_key: &str) -> Result<Conekta> {
        if private_key.trim().is_empty() {
            return Err(Error::Config("falta la llave privada".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Conekta {
            http,
            base: base.trim_end_matches('/').to_string(),
            private_key: private_key.trim().to_string(),
            attempts: 4,
            first_delay: Duration::from_millis(300),
        })
    }

    /// From the environment: `CONEKTA_PRIVATE_KEY` (required) and `CONEKTA_URL`
    /// (default `https://api.conekta.io`). `Ok(None)` when no key is set.
    pub fn from_env() -> Result<Option<Conekta>> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let Some(key) = var("CONEKTA_PRIVATE_KEY") else {
            return Ok(None);
        };
        let base = var("CONEKTA_URL").unwrap_or_else(|| PRODUCTION_URL.into());
        Self::new(&base, &key).map(Some)
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.private_key)
            .header(reqwest::header::ACCEPT, ACCEPT)
            .header(reqwest::header::ACCEPT_LANGUAGE, "es")
    }

    /// Create an order. Sent once: a transient failure is returned, not repeated.
    pub async fn create_order(&self, order: &OrderRequest) -> Result<Order> {
        let resp = self
            .request(reqwest::Method::POST, "/orders")
            .json(order)
            .send()
            .await
            .map_err(|e| Error::Transient(e.to_string()))?;
        read(resp, "la orden").await
    }

    /// The order as Conekta has it now (retried on transient failures).
    pub async fn order(&self, id: &str) -> Result<Order> {
        let path = format!("/orders/{id}");
        self.with_retries(|| async {
            let resp = self
                .request(reqwest::Method::GET, &path)
                .send()
                .await
                .map_err(|e| Error::Transient(e.to_string()))?;
            read(resp, id).await
        })
        .await
    }

    /// `POST /webhook_keys`: a new key pair; Conekta keeps the private half and signs
    /// webhooks with it. Store the public key to verify them.
    pub async fn create_webhook_key(&self) -> Result<WebhookKey> {
        let resp = self
            .request(reqwest::Method::POST, "/webhook_keys")
            .json(&serde_json::json!({"active": true}))
            .send()
            .await
            .map_err(|e| Error::Transient(e.to_string()))?;
        read(resp, "la llave de webhooks").await
    }

    /// `POST /webhooks`: where Conekta delivers events.
    pub async fn create_webhook(&self, url: &str) -> Result<()> {
        let resp = self
            .request(reqwest::Method::POST, "/webhooks")
            .json(&serde_json::json!({"url": url, "synchronous": false}))
            .send()
            .await
            .map_err(|e| Error::Transient(e.to_string()))?;
        let _: serde_json::Value = read(resp, "el webhook").await?;
        Ok(())
    }

    async fn with_retries<T, F, Fut>(&self, mut call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut delay = self.first_delay;
        let mut attempt = 1;
        loop {
            match call().await {
                Err(Error::Transient(e)) if attempt < self.attempts => {
                    tracing::warn!(attempt, error = %e, "Conekta: transient failure, retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

async fn read<T: serde::de::DeserializeOwned>(resp: reqwest::Response, what: &str) -> Result<T> {
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| Error::Transient(e.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| Error::Protocol(e.to_string()));
    }
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(Error::Transient(format!("HTTP {status}")));
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(Error::NotFound(what.to_string()));
    }
    let err: ApiError = serde_json::from_slice(&body)
        .map_err(|e| Error::Protocol(format!("HTTP {status}: {e}")))?;
    let detail = err.details.first();
    let message = detail
        .map(|d| d.message.clone())
        .unwrap_or_else(|| err.kind.clone());
    if err.kind == "processing_error" || status == reqwest::StatusCode::PAYMENT_REQUIRED {
        return Err(Error::Declined {
            code: detail.map(|d| d.code.clone()).unwrap_or_default(),
            message,
        });
    }
    Err(Error::Rejected {
        kind: err.kind,
        param: detail.and_then(|d| d.param.clone()),
        message,
    })
}
