//! The AquaCIS client: one HTTP connection pool, a UsernameToken on every call, a
//! timeout per call, retries with exponential backoff and jitter for reads only (a
//! write is sent once; its caller decides, knowing the outcome may be unknown), and a
//! circuit breaker per service so a dead service costs nothing but a check.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::ops::{self, Operation, Reply};
use crate::wire::{self, Credentials};
use crate::{Error, Result, Service};

#[derive(Debug, Clone)]
pub struct Config {
    /// `https://aquacis-cf.ceaqueretaro.gob.mx`, or the simulator's URL.
    pub base_url: String,
    pub credentials: Credentials,
    /// Per call, connection included.
    pub timeout: Duration,
    /// Extra attempts for reads.
    pub read_retries: u32,
    /// First backoff; doubled each time, with up to 50 % jitter.
    pub backoff: Duration,
    /// Consecutive failures that open a service's breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker refuses calls before letting one through.
    pub breaker_cooldown: Duration,
}

impl Config {
    pub fn new(base_url: &str, username: &str, password: &str) -> Self {
        Config {
            base_url: base_url.trim_end_matches('/').to_owned(),
            credentials: Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
            },
            timeout: Duration::from_secs(10),
            read_retries: 2,
            backoff: Duration::from_millis(200),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    /// The cool-down is over: one call is let through to test the service.
    HalfOpen,
}

impl BreakerState {
    pub fn label(self) -> &'static str {
        match self {
            BreakerState::Closed => "cerrado",
            BreakerState::Open => "abierto",
            BreakerState::HalfOpen => "semiabierto",
        }
    }
}

/// One service's circuit breaker.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<BreakerInner>,
}

#[derive(Debug)]
struct BreakerInner {
    failures: u32,
    opened_at: Option<Instant>,
    trial_in_flight: bool,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(BreakerInner {
                failures: 0,
                opened_at: None,
                trial_in_flight: false,
            }),
        }
    }

    pub fn state(&self) -> BreakerState {
        let g = self.inner.lock().expect("breaker");
        match g.opened_at {
            None => BreakerState::Closed,
            Some(t) if t.elapsed() >= self.cooldown => BreakerState::HalfOpen,
            Some(_) => BreakerState::Open,
        }
    }

    /// May a call go out now? In half-open, only one at a time.
    pub fn permit(&self) -> bool {
        let mut g = self.inner.lock().expect("breaker");
        match g.opened_at {
            None => true,
            Some(t) if t.elapsed() >= self.cooldown && !g.trial_in_flight => {
                g.trial_in_flight = true;
                true
            }
            Some(_) => false,
        }
    }

    pub fn success(&self) {
        let mut g = self.inner.lock().expect("breaker");
        g.failures = 0;
        g.opened_at = None;
        g.trial_in_flight = false;
    }

    pub fn failure(&self) {
        let mut g = self.inner.lock().expect("breaker");
        g.failures += 1;
        if g.trial_in_flight || g.failures >= self.threshold {
            g.opened_at = Some(Instant::now());
        }
        g.trial_in_flight = false;
    }
}

/// What the health page shows for one service.
#[derive(Debug, Clone)]
pub struct ServiceHealth {
    pub service: Service,
    pub breaker: BreakerState,
    pub calls: u64,
    pub failures: u64,
    /// Over the last calls (up to 1,000), in milliseconds.
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    pub p99_ms: Option<u64>,
    pub last_error: Option<(DateTime<Utc>, String)>,
}

#[derive(Debug, Default)]
struct Stats {
    calls: u64,
    failures: u64,
    latencies_ms: VecDeque<u64>,
    last_error: Option<(DateTime<Utc>, String)>,
}

const WINDOW: usize = 1000;

pub struct Client {
    http: reqwest::Client,
    config: Config,
    breakers: Vec<Breaker>,
    stats: Vec<Mutex<Stats>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.config.base_url)
            .finish()
    }
}

impl Client {
    pub fn new(config: Config) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent("SUPRA-Water/legacy-bridge")
            .build()
            .map_err(|e| Error::Invalid(format!("cliente HTTP: {e}")))?;
        let breakers = Service::ALL
            .iter()
            .map(|_| Breaker::new(config.breaker_threshold, config.breaker_cooldown))
            .collect();
        let stats = Service::ALL.iter().map(|_| Mutex::default()).collect();
        Ok(Client {
            http,
            config,
            breakers,
            stats,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    pub fn breaker(&self, service: Service) -> &Breaker {
        &self.breakers[service.index()]
    }

    /// Call an operation. Reads are retried on transient failures; a `codigoError`
    /// becomes [`Error::Rejected`].
    pub async fn call<O: Operation>(&self, op: &O) -> Result<O::Response> {
        let attempts = if O::READ {
            self.config.read_retries + 1
        } else {
            1
        };
        let mut last = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                let base = self.config.backoff * 2u32.saturating_pow(attempt - 1);
                let jitter = base.mul_f64(rand::random::<f64>() * 0.5);
                tokio::time::sleep(base + jitter).await;
            }
            match self.once(op).await {
                Err(e) if e.is_transient() && !matches!(e, Error::CircuitOpen { .. }) => {
                    last = Some(e)
                }
                other => return other,
            }
        }
        Err(last.expect("at least one attempt"))
    }

    async fn once<O: Operation>(&self, op: &O) -> Result<O::Response> {
        let service = O::SERVICE;
        let breaker = self.breaker(service);
        if !breaker.permit() {
            return Err(Error::CircuitOpen {
                service: service.ws_name(),
            });
        }
        let started = Instant::now();
        let outcome = self.exchange(op).await;
        let elapsed = started.elapsed();
        metrics::histogram!("legacy_call_seconds", "service" => service.ws_name(), "operation" => O::NAME)
            .record(elapsed.as_secs_f64());
        // A fault or a codigoError is an answer: the service is up.
        let down = matches!(&outcome, Err(e) if e.is_transient());
        if down {
            breaker.failure();
        } else {
            breaker.success();
        }
        {
            let mut s = self.stats[service.index()].lock().expect("stats");
            s.calls += 1;
            if s.latencies_ms.len() == WINDOW {
                s.latencies_ms.pop_front();
            }
            s.latencies_ms.push_back(elapsed.as_millis() as u64);
            if let Err(e) = &outcome {
                if down {
                    s.failures += 1;
                }
                s.last_error = Some((Utc::now(), e.to_string()));
            }
        }
        if down {
            tracing::warn!(operation = O::NAME, error = ?outcome.as_ref().err(), "AquaCIS call failed");
        }
        let resp = outcome?;
        let code = resp.error_code();
        if !code.is_ok() {
            return Err(Error::Rejected {
                code: code.clone(),
                message: resp.error_text().unwrap_or("").trim().to_owned(),
            });
        }
        Ok(resp)
    }

    async fn exchange<O: Operation>(&self, op: &O) -> Result<O::Response> {
        let service = O::SERVICE;
        let unavailable = |message: String| Error::Unavailable {
            service: service.ws_name(),
            message,
        };
        let body = wire::request(op, Some(&self.config.credentials), Utc::now())?;
        let resp = self
            .http
            .post(format!("{}{}", self.config.base_url, service.path()))
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", format!("\"{}\"", O::NAME))
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable(describe(&e)))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| unavailable(describe(&e)))?;
        // SOAP 1.1 faults come with a 500; any other 5xx without a SOAP body is an
        // outage (a proxy's error page, an overloaded container).
        match wire::read_response::<O>(&text) {
            Err(Error::Protocol(m)) if status.is_server_error() => {
                Err(unavailable(format!("HTTP {}: {m}", status.as_u16())))
            }
            Err(Error::Protocol(m)) if !status.is_success() => {
                Err(Error::Protocol(format!("HTTP {}: {m}", status.as_u16())))
            }
            other => other,
        }
    }

    /// Create a work order for the meter's service point. AquaCIS throws a
    /// NullPointerException when `idPtoServicio` is missing, so it is always resolved
    /// first (`getPuntoServicioPorContador`) and checked.
    pub async fn create_work_order(
        &self,
        meter_serial: &str,
        tipo: &str,
        descripcion: &str,
        referencia_externa: &str,
    ) -> Result<ops::OrdenTrabajo> {
        let punto = self
            .call(&ops::GetPuntoServicioPorContador {
                numero_serie: meter_serial.to_owned(),
            })
            .await?;
        let id = punto.id_pto_servicio.filter(|id| *id > 0).ok_or_else(|| {
            Error::Invalid(format!(
                "el medidor {meter_serial} no tiene punto de servicio en AquaCIS; no se puede crear la orden"
            ))
        })?;
        let resp = self
            .call(&ops::CrearOrdenTrabajo {
                id_pto_servicio: Some(id),
                tipo: tipo.to_owned(),
                descripcion: descripcion.to_owned(),
                referencia_externa: referencia_externa.to_owned(),
            })
            .await?;
        resp.orden
            .ok_or_else(|| Error::Protocol("crearOrdenTrabajo sin orden".into()))
    }

    pub fn health(&self) -> Vec<ServiceHealth> {
        Service::ALL
            .iter()
            .map(|&service| {
                let s = self.stats[service.index()].lock().expect("stats");
                let mut sorted: Vec<u64> = s.latencies_ms.iter().copied().collect();
                sorted.sort_unstable();
                let pct = |p: f64| {
                    (!sorted.is_empty()).then(|| {
                        let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
                        sorted[i - 1]
                    })
                };
                ServiceHealth {
                    service,
                    breaker: self.breaker(service).state(),
                    calls: s.calls,
                    failures: s.failures,
                    p50_ms: pct(0.50),
                    p95_ms: pct(0.95),
                    p99_ms: pct(0.99),
                    last_error: s.last_error.clone(),
                }
            })
            .collect()
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "tiempo de espera agotado".into()
    } else if e.is_connect() {
        "no se pudo conectar".into()
    } else if e.is_body() || e.is_decode() {
        "la conexión se cortó a mitad de la respuesta".into()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_opens_after_threshold_and_lets_one_trial_through() {
        let b = Breaker::new(3, Duration::from_millis(50));
        for _ in 0..2 {
            assert!(b.permit());
            b.failure();
        }
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.permit());
        b.failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.permit());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.permit(), "one trial after the cool-down");
        assert!(!b.permit(), "only one trial at a time");
        b.failure();
        assert_eq!(b.state(), BreakerState::Open, "a failed trial re-opens it");
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.permit());
        b.success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.permit() && b.permit());
    }
}
