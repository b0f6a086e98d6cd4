//! STP, the SPEI participant that receives the utility's transfers: its conciliación
//! service, which lists the abonos of an operation day (`POST
//! {base}/efws/API/conciliacion` with `{empresa, tipoOrden: "R", fechaOperacion,
//! page}`; answer `{estado, mensaje, datos: [abono…], total}`), read page by page.
//! Each abono is returned as its raw JSON, to be parsed exactly like a webhook
//! (`payments::stp::Abono::parse`).
//!
//! STP signs requests with the company key (`firma`); the cadena for conciliación is
//! UNCONFIRMED (see `../shared/reference/integrations.md`), so production access is
//! by STP's IP allow-list and mTLS, as STP configures it. The same client talks to
//! STP or to the simulator in this repository (`STP_URL`).

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("STP no respondió: {0}")]
    Transient(String),
    #[error("STP rechazó la consulta: {0}")]
    Rejected(String),
    #[error("respuesta de STP ilegible: {0}")]
    Protocol(String),
    #[error("configuración de STP: {0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone)]
pub struct Stp {
    http: reqwest::Client,
    base: String,
    empresa: String,
}

#[derive(serde::Deserialize)]
struct Page {
    estado: i64,
    #[serde(default)]
    mensaje: String,
    #[serde(default)]
    datos: Vec<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    total: Option<usize>,
}

impl Stp {
    pub fn new(base: &str, empresa: &str) -> Result<Stp> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Stp {
            http,
            base: base.trim_end_matches('/').to_string(),
            empresa: empresa.to_string(),
        })
    }

    /// From the environment: `STP_URL` and `STP_EMPRESA`; `Ok(None)` when unset.
    pub fn from_env() -> Result<Option<Stp>> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        match (var("STP_URL"), var("STP_EMPRESA")) {
            (Some(url), Some(empresa)) => Self::new(&url, &empresa).map(Some),
            (None, None) => Ok(None),
            _ => Err(Error::Config("STP_URL y STP_EMPRESA van juntos".into())),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Every abono received on `fecha` (operation day), as raw JSON.
    pub async fn received_on(&self, fecha: chrono::NaiveDate) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for page in 0..10_000 {
            let p = self.page(fecha, page).await?;
            let n = p.datos.len();
            out.extend(p.datos.into_iter().map(|r| r.get().to_string()));
            if n == 0 || p.total.is_some_and(|t| out.len() >= t) {
                break;
            }
        }
        Ok(out)
    }

    async fn page(&self, fecha: chrono::NaiveDate, page: usize) -> Result<Page> {
        let body = serde_json::json!({
            "empresa": self.empresa,
            "tipoOrden": "R",
            "fechaOperacion": fecha.format("%Y%m%d").to_string(),
            "page": page,
        });
        let mut delay = Duration::from_millis(300);
        for attempt in 1..=4 {
            let r = self
                .http
                .post(format!("{}/efws/API/conciliacion", self.base))
                .json(&body)
                .send()
                .await;
            match r {
                Ok(resp) if resp.status().is_success() => {
                    let p: Page = resp
                        .json()
                        .await
                        .map_err(|e| Error::Protocol(e.to_string()))?;
                    if p.estado != 0 {
                        return Err(Error::Rejected(p.mensaje));
                    }
                    return Ok(p);
                }
                Ok(resp) if resp.status().is_client_error() => {
                    return Err(Error::Rejected(format!("HTTP {}", resp.status())));
                }
                Ok(resp) if attempt == 4 => {
                    return Err(Error::Transient(format!("HTTP {}", resp.status())));
                }
                Err(e) if attempt == 4 => return Err(Error::Transient(e.to_string())),
                _ => {
                    tracing::warn!(attempt, "STP conciliación: transient failure, retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
        Err(Error::Transient("sin respuesta".into()))
    }
}
