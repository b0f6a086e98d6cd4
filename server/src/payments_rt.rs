//! The payment providers for `serve`: Conekta from the environment
//! (`CONEKTA_PRIVATE_KEY`, optional `CONEKTA_URL`), or — in development when none is
//! configured — the Conekta simulator on a local port (the same client, pointed at it
//! by URL), whose webhooks `serve` points at itself.

use std::sync::Arc;

use db::{Db, TenantId};

use crate::Config;
use crate::config::Mode;
use crate::sim::conekta::ConektaSim;

/// The development Conekta simulator and a client for it.
pub struct DevConekta {
    pub sim: Arc<ConektaSim>,
    pub url: String,
    pub client: conekta::Conekta,
}

pub async fn runtime(config: &Config) -> (invoicing::orders::Providers, Option<DevConekta>) {
    let mut p = invoicing::orders::Providers {
        oxxo_days: config.payments.oxxo_days,
        max_event_age: chrono::Duration::hours(config.payments.max_event_age_hours),
        ..Default::default()
    };
    match conekta::Conekta::from_env() {
        Ok(Some(c)) => {
            p.conekta_label = c.base_url().to_string();
            p.conekta = Some(c);
            return (p, None);
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "Conekta configuration");
            return (p, None);
        }
    }
    if config.mode != Mode::Development {
        tracing::warn!("no CONEKTA_PRIVATE_KEY: OXXO and card payments are off");
        return (p, None);
    }
    match start_dev_conekta().await {
        Ok(dev) => {
            tracing::info!(url = %dev.url, "Conekta simulator for development");
            p.conekta_label = format!("simulador local en {} (desarrollo)", dev.url);
            p.conekta = Some(dev.client.clone());
            (p, Some(dev))
        }
        Err(e) => {
            tracing::error!(error = %e, "could not start the Conekta simulator");
            (p, None)
        }
    }
}

async fn start_dev_conekta() -> anyhow::Result<DevConekta> {
    let key = format!("key_{}", uuid::Uuid::new_v4().simple());
    let sim = ConektaSim::new(&key);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    sim.set_base_url(&url);
    let router = crate::sim::conekta::router(sim.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = conekta::Conekta::new(&url, &key)?;
    Ok(DevConekta { sim, url, client })
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
