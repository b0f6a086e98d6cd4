//! The payment providers for `serve`: Conekta from the environment
//! (`CONEKTA_PRIVATE_KEY`, optional `CONEKTA_URL`; cards need `CONEKTA_PUBLIC_KEY`) and STP's conciliación (`STP_URL`,
//! `STP_EMPRESA`), or — in development when they are not configured — the Conekta and
//! STP simulators on local ports (the same clients, pointed at them by URL), whose
//! webhooks `serve` points at itself.

use std::sync::Arc;

use db::{Db, TenantId};

use crate::Config;
use crate::config::Mode;
use crate::sim::conekta::ConektaSim;
use crate::sim::stp::StpSim;

/// The development simulators and a Conekta client for them.
pub struct DevSims {
    pub conekta_sim: Arc<ConektaSim>,
    pub conekta_url: String,
    /// What the browser's Conekta.js tokenizes with.
    pub public_key: String,
    pub conekta: conekta::Conekta,
    pub stp_sim: Arc<StpSim>,
    pub stp_url: String,
}

pub async fn runtime(config: &Config) -> (invoicing::orders::Providers, Option<DevSims>) {
    let mut p = invoicing::orders::Providers {
        oxxo_days: config.payments.oxxo_days,
        max_event_age: chrono::Duration::hours(config.payments.max_event_age_hours),
        ..Default::default()
    };
    let configured = (conekta::Conekta::from_env(), stp::Stp::from_env());
    match configured {
        (Ok(c), Ok(s)) if c.is_some() || s.is_some() => {
            if let Some(c) = c {
                p.conekta_label = c.base_url().to_string();
                p.conekta = Some(c);
                p.checkout = checkout_from_env();
            }
            p.stp = s;
            return (p, None);
        }
        (Err(e), _) => {
            tracing::error!(error = %e, "Conekta configuration");
            return (p, None);
        }
        (_, Err(e)) => {
            tracing::error!(error = %e, "STP configuration");
            return (p, None);
        }
        _ => {}
    }
    if config.mode != Mode::Development {
        tracing::warn!(
            "no CONEKTA_PRIVATE_KEY nor STP_URL: OXXO, card and SPEI statements are off"
        );
        return (p, None);
    }
    match start_dev_sims().await {
        Ok(dev) => {
            tracing::info!(conekta = %dev.conekta_url, stp = %dev.stp_url, "payment simulators for development");
            p.conekta_label = format!("simulador local en {} (desarrollo)", dev.conekta_url);
            p.conekta = Some(dev.conekta.clone());
            p.checkout = Some(payments::conekta::Checkout {
                public_key: dev.public_key.clone(),
                script_url: format!("{}/conekta.js", dev.conekta_url),
            });
            p.stp = stp::Stp::new(&dev.stp_url, "SUPRA").ok();
            (p, Some(dev))
        }
        Err(e) => {
            tracing::error!(error = %e, "could not start the payment simulators");
            (p, None)
        }
    }
}

/// Cards are offered when Conekta's public key is configured (`CONEKTA_PUBLIC_KEY`;
/// `CONEKTA_JS_URL` overrides where Conekta.js is loaded from).
fn checkout_from_env() -> Option<payments::conekta::Checkout> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let public_key = var("CONEKTA_PUBLIC_KEY")?;
    Some(payments::conekta::Checkout {
        public_key,
        script_url: var("CONEKTA_JS_URL").unwrap_or_else(|| payments::conekta::CONEKTA_JS.into()),
    })
}

async fn start_dev_sims() -> anyhow::Result<DevSims> {
    let key = format!("key_{}", uuid::Uuid::new_v4().simple());
    let public_key = format!("key_pub_{}", uuid::Uuid::new_v4().simple());
    let conekta_sim = ConektaSim::new(&key, &public_key);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let conekta_url = format!("http://{}", listener.local_addr()?);
    conekta_sim.set_base_url(&conekta_url);
    let router = crate::sim::conekta::router(conekta_sim.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let stp_sim = StpSim::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let stp_url = format!("http://{}", listener.local_addr()?);
    let router = crate::sim::stp::router(stp_sim.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let conekta = conekta::Conekta::new(&conekta_url, &key)?;
    Ok(DevSims {
        conekta_sim,
        conekta_url,
        public_key,
        conekta,
        stp_sim,
        stp_url,
    })
}

/// Point Conekta's webhooks at `webhook_url` and store the key it signs them with:
/// `POST /webhook_keys` then `POST /webhooks`, as an operator does once in production
/// (`supra conekta setup`).
pub async fn setup_webhooks(
    db: &Db,
    tenant: TenantId,
    client: &conekta::Conekta,
    webhook_url: &str,
) -> anyhow::Result<String> {
    let key = client.create_webhook_key().await?;
    {
        let mut tx = db.write(tenant).await?;
        db::payments::save_conekta_webhook_key(
            &mut tx,
            &key.id,
            &key.public_key,
            chrono::Utc::now(),
        )
        .await?;
        tx.commit().await?;
    }
    client.create_webhook(webhook_url).await?;
    Ok(key.id)
}
