//! Configuration: defaults, then an optional TOML file (`--config` or `SUPRA_CONFIG`),
//! then `SUPRA_*` environment variables, then `DATABASE_URL`.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Demo/development: seeds a demo utility on first start, shows `/dev/outbox`,
    /// logs one-time codes.
    Development,
    /// No demo data, no dev pages, secure cookies, a configured secret is required.
    Production,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub mode: Mode,
    /// `postgres://…` for PostgreSQL, `sqlite:…` or unset for `./data/supra.db`.
    pub database_url: Option<String>,
    /// Address to listen on; defaults to Leptos's `site-addr` (127.0.0.1:3000).
    pub listen: Option<String>,
    /// Slug of the tenant served when the Host header matches no tenant hostname.
    pub tenant: String,
    /// Hex secret (≥ 32 bytes) keying one-time codes. Required in production.
    pub secret: Option<String>,
    /// Contracts in the demo utility seeded on first start (development only).
    pub demo_contracts: usize,
    pub demo_seed: u64,
    /// Password of the seeded staff users (development only).
    pub demo_password: String,
    /// Send cookies with `Secure` (defaults to on in production).
    pub secure_cookies: Option<bool>,
    /// `json` for one JSON object per log line.
    pub log_format: Option<String>,
    pub billing: BillingConfig,
    pub cfdi: CfdiConfig,
    pub payments: PaymentsConfig,
    pub ingest: IngestConfig,
    /// `[mqtt]`: the broker ChirpStack publishes uplinks to. Absent: no MQTT consumer
    /// (set at least `SUPRA_MQTT__HOST` to turn it on).
    pub mqtt: Option<crate::mqtt::MqttConfig>,
    /// `[legacy]`: the AquaCIS bridge (`AQUACIS_URL` and credentials from the environment).
    pub legacy: crate::legacy_rt::LegacyConfig,
}

/// `[ingest]`: the anomaly rules' thresholds and how often they run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestConfig {
    /// Minutes between runs of the anomaly detection (0: never; `supra ingest detect`).
    pub detect_every_minutes: u64,
    /// A night counts toward a leak when its lowest flow is above this, l/h.
    pub night_threshold_lph: i64,
    /// Consecutive such nights that make a leak.
    pub nights: u32,
    /// A period is high use at this % of the 6-period average (120, 150 or 200).
    pub high_use_percent: u32,
    /// Complete periods at zero that make a stuck meter.
    pub stuck_periods: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        let d = metering::anomalies::Settings::default();
        IngestConfig {
            detect_every_minutes: 60,
            night_threshold_lph: d.night_threshold_lph,
            nights: d.nights,
            high_use_percent: d.high_use_percent,
            stuck_periods: d.stuck_periods,
        }
    }
}

impl IngestConfig {
    pub fn settings(&self) -> metering::anomalies::Settings {
        metering::anomalies::Settings {
            night_threshold_lph: self.night_threshold_lph,
            nights: self.nights,
            high_use_percent: self.high_use_percent,
            stuck_periods: self.stuck_periods,
        }
    }
}

/// `[payments]`: how references are issued (provider keys come from the
/// environment: `CONEKTA_PRIVATE_KEY`, `CONEKTA_URL`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentsConfig {
    /// Days an OXXO reference stays valid.
    pub oxxo_days: i64,
    /// Webhook events older than this many hours are refused.
    pub max_event_age_hours: i64,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            oxxo_days: 30,
            max_event_age_hours: 72,
        }
    }
}

/// `[cfdi]`: where the utility's CSD lives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CfdiConfig {
    /// Directory with one folder per tenant slug holding `csd.cer`, `csd.key` and
    /// `password.txt` (the CSD SAT issued to the utility; mount secrets here). In
    /// development a self-made CSD is generated there on first use.
    pub csd_dir: String,
}

impl Default for CfdiConfig {
    fn default() -> Self {
        CfdiConfig {
            csd_dir: "./data/csd".into(),
        }
    }
}

/// `[billing]`: the utility's billing rules that are not part of a tariff.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BillingConfig {
    /// Days from the issue date to the due date.
    pub due_days: i64,
    /// Flag consumption above this factor × the average of the last valid periods.
    pub jump_factor: String,
    /// Flag a zero consumption when it is the Nth consecutive zero period.
    pub zero_periods: u32,
    /// Contracts per chunk of a billing run.
    pub chunk: i64,
}

impl Default for BillingConfig {
    fn default() -> Self {
        BillingConfig {
            due_days: 15,
            jump_factor: "3".into(),
            zero_periods: 3,
            chunk: 2000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Development,
            database_url: None,
            listen: None,
            tenant: "cea-qro".into(),
            secret: None,
            demo_contracts: 2000,
            demo_seed: 42,
            demo_password: "agua-demo-2026".into(),
            secure_cookies: None,
            log_format: None,
            billing: BillingConfig::default(),
            cfdi: CfdiConfig::default(),
            payments: PaymentsConfig::default(),
            ingest: IngestConfig::default(),
            mqtt: None,
            legacy: crate::legacy_rt::LegacyConfig::default(),
        }
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("SUPRA_CONFIG").map(Into::into));
        if let Some(path) = file {
            anyhow::ensure!(path.exists(), "config file {} not found", path.display());
            f = f.merge(Toml::file(path));
        }
        let c: Config = f
            .merge(Env::prefixed("SUPRA_").ignore(&["config"]).split("__"))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()?;
        anyhow::ensure!(
            c.billing
                .jump_factor
                .parse::<rust_decimal::Decimal>()
                .is_ok_and(|f| f > rust_decimal::Decimal::ONE),
            "billing.jump_factor must be a number greater than 1 (got {})",
            c.billing.jump_factor
        );
        if c.mode == Mode::Production {
            anyhow::ensure!(
                c.secret
                    .as_deref()
                    .is_some_and(|s| s.len() >= 64 && hex::decode(s).is_ok()),
                "production mode needs SUPRA_SECRET: at least 32 random bytes in hex (e.g. `openssl rand -hex 32`)"
            );
        }
        Ok(c)
    }

    /// The billing engine's settings from `[billing]`.
    pub fn billing_settings(&self) -> invoicing::Settings {
        let d = invoicing::Settings::default();
        invoicing::Settings {
            due_days: self.billing.due_days,
            review: billing::ReviewPolicy {
                jump_factor: self
                    .billing
                    .jump_factor
                    .parse()
                    .unwrap_or(d.review.jump_factor),
                zero_periods: self.billing.zero_periods,
                ..d.review
            },
            chunk: self.billing.chunk,
            issue_cfdi: true,
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or(self.mode == Mode::Production)
    }

    /// The code-MAC key: the configured secret, or a random one per process in development.
    pub fn code_key(&self) -> Vec<u8> {
        match self.secret.as_deref().and_then(|s| hex::decode(s).ok()) {
            Some(k) => k,
            None => {
                use rand::RngCore;
                let mut k = vec![0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut k);
                k
            }
        }
    }
}
