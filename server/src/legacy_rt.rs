//! The bridge to AquaCIS for `serve`: the client from the environment
//! (`AQUACIS_URL`, `AQUACIS_USERNAME`, `AQUACIS_PASSWORD`), or — in development when it
//! is not configured — the AquaCIS simulator on a local port, seeded from the demo
//! utility (the same client, pointed at it by URL). Also the nightly sync's schedule.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Timelike, Utc};
use db::{Db, TenantId};
use serde::{Deserialize, Serialize};

use crate::Config;
use crate::config::Mode;

/// `[legacy]`: how the bridge behaves (credentials come from the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LegacyConfig {
    /// Seconds a cached AquaCIS read is served without asking again.
    pub cache_ttl_secs: i64,
    /// Per call, milliseconds.
    pub timeout_ms: u64,
    /// First retry of a failed write, seconds (doubled per attempt, at most an hour).
    pub retry_base_secs: i64,
    /// Attempts before a write becomes a dead letter.
    pub max_attempts: i32,
    /// Hour (Querétaro time) of the nightly sync; negative: never (`supra legacy sync`).
    pub sync_hour: i32,
    /// Consecutive failures that open a service's circuit breaker.
    pub breaker_threshold: u32,
    /// Milliseconds an open breaker waits before letting one call through.
    pub breaker_cooldown_ms: u64,
}

impl Default for LegacyConfig {
    fn default() -> Self {
        let d = bridge::Settings::default();
        LegacyConfig {
            cache_ttl_secs: d.cache_ttl.num_seconds(),
            timeout_ms: 10_000,
            retry_base_secs: d.retry_base.num_seconds(),
            max_attempts: d.max_attempts,
            sync_hour: 2,
            breaker_threshold: 5,
            breaker_cooldown_ms: 30_000,
        }
    }
}

impl LegacyConfig {
    pub fn settings(&self) -> bridge::Settings {
        bridge::Settings {
            cache_ttl: chrono::Duration::seconds(self.cache_ttl_secs.max(0)),
            retry_base: chrono::Duration::seconds(self.retry_base_secs.max(1)),
            max_attempts: self.max_attempts.max(1),
            ..Default::default()
        }
    }

    /// The client for `url` with these settings.
    pub fn bridge(
        &self,
        url: &str,
        username: &str,
        password: &str,
    ) -> anyhow::Result<bridge::Bridge> {
        let mut c = legacy::Config::new(url, username, password);
        c.timeout = Duration::from_millis(self.timeout_ms.max(100));
        c.breaker_threshold = self.breaker_threshold.max(1);
        c.breaker_cooldown = Duration::from_millis(self.breaker_cooldown_ms);
        Ok(bridge::Bridge::new(
            legacy::Client::new(c)?,
            self.settings(),
        ))
    }
}

/// The development simulator's credentials.
pub const DEV_USER: &str = "supra";
pub const DEV_PASSWORD: &str = "aquacis-demo-2026";

/// The bridge from the environment; in development without it, the simulator.
pub async fn runtime(
    config: &Config,
    db: &Db,
    tenant: TenantId,
) -> anyhow::Result<
    Option<(
        Arc<bridge::Bridge>,
        Option<Arc<crate::sim::aquacis::AquacisSim>>,
    )>,
> {
    if let Ok(url) = std::env::var("AQUACIS_URL") {
        let user = std::env::var("AQUACIS_USERNAME").unwrap_or_default();
        let pass = std::env::var("AQUACIS_PASSWORD").unwrap_or_default();
        anyhow::ensure!(
            !user.is_empty() && !pass.is_empty(),
            "AQUACIS_URL needs AQUACIS_USERNAME and AQUACIS_PASSWORD (WS-Security)"
        );
        tracing::info!(%url, "AquaCIS bridge");
        return Ok(Some((
            Arc::new(config.legacy.bridge(&url, &user, &pass)?),
            None,
        )));
    }
    if config.mode != Mode::Development {
        tracing::info!("no AQUACIS_URL: the AquaCIS bridge is off");
        return Ok(None);
    }
    let sim = crate::sim::aquacis::AquacisSim::new(DEV_USER, DEV_PASSWORD);
    let n = sim.seed_from_db(db, tenant).await?;
    let url = crate::sim::aquacis::spawn(sim.clone()).await?;
    tracing::info!(%url, contracts = n, "AquaCIS simulator (development)");
    Ok(Some((
        Arc::new(config.legacy.bridge(&url, DEV_USER, DEV_PASSWORD)?),
        Some(sim),
    )))
}

/// Run the nightly sync once a day at `hour` (Querétaro time) for every tenant.
pub async fn sync_loop(
    db: Db,
    tenants: Vec<TenantId>,
    bridge: Arc<bridge::Bridge>,
    hour: u32,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut last_day = None;
    loop {
        let local = Utc::now().with_timezone(&chrono_tz::America::Mexico_City);
        let today = local.date_naive();
        if local.hour() == hour && last_day != Some(today) {
            last_day = Some(today);
            for t in &tenants {
                match bridge::sync::run(&db, *t, &bridge, Utc::now()).await {
                    Ok(r) => tracing::info!(
                        tenant = %t, seen = r.seen, imported = r.imported,
                        quarantined = r.quarantined, readings = r.readings,
                        different = r.reconciliation.balances_different,
                        "AquaCIS nightly sync done"
                    ),
                    Err(e) => {
                        tracing::error!(tenant = %t, error = %e, "AquaCIS nightly sync failed")
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.changed() => return,
        }
    }
}
