//! The outbox dispatcher: delivers side effects written by transactions, at least
//! once per row and at most once per `dedupe_key` (the unique key makes enqueueing
//! idempotent; `outbox_delivered` only marks an undelivered row).
//!
//! Channels arrive with the notifications engine (#8). Until then, in development
//! messages are "delivered" to the dev outbox page and the log; in production they
//! stay queued (retried every few minutes) — never dropped.

use std::time::Duration;

use chrono::Utc;
use db::{Db, TenantId, repo};

use crate::config::Mode;

/// Rows taken per tick.
const BATCH: i64 = 100;

/// What the dispatcher hands each kind of row to.
pub struct Deliverers {
    pub mode: Mode,
    pub billing: invoicing::Settings,
    pub fiscal: std::sync::Arc<invoicing::fiscal::Runtime>,
    pub payments: std::sync::Arc<invoicing::orders::Providers>,
    /// The AquaCIS bridge, when there is one (`legacy.*` rows wait otherwise).
    pub legacy: Option<std::sync::Arc<bridge::Bridge>>,
}

pub async fn run(
    db: Db,
    tenants: Vec<TenantId>,
    d: Deliverers,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut scheduled: Option<std::time::Instant> = None;
    loop {
        // Once an hour: queue yesterday's reconciliation (idempotent per day).
        if (d.payments.conekta.is_some() || d.payments.stp.is_some())
            && scheduled.is_none_or(|t| t.elapsed() > Duration::from_secs(3600))
        {
            for t in &tenants {
                if let Err(e) =
                    invoicing::conciliacion::schedule_yesterday(&db, *t, Utc::now()).await
                {
                    tracing::warn!(error = %e, tenant = %t, "could not schedule reconciliation");
                }
            }
            scheduled = Some(std::time::Instant::now());
        }
        let mut busy = false;
        for t in &tenants {
            match tick(&db, *t, &d).await {
                Ok(n) => busy |= n >= BATCH as usize,
                Err(e) => tracing::warn!(error = %e, tenant = %t, "outbox tick failed"),
            }
        }
        if busy {
            // A full batch: more is probably due; go on without waiting.
            if *stop.borrow() {
                return;
            }
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Deliver what is due for one tenant. Returns how many rows were handled.
pub async fn tick(db: &Db, tenant: TenantId, d: &Deliverers) -> db::Result<usize> {
    let (mode, billing, fiscal, payments) = (d.mode, &d.billing, &*d.fiscal, &*d.payments);
    let legacy = d.legacy.as_deref();
    let now = Utc::now();
    let mut tx = db.read(tenant).await?;
    let due = repo::outbox_due(&mut tx, now, BATCH).await?;
    drop(tx);
    let n = due.len();
    for item in due {
        // AquaCIS effects: the bridge sends each exactly once and records the outcome
        // (delivered, retry later, or a dead letter). Without a bridge they wait.
        if item.kind.starts_with(bridge::KIND_PREFIX) {
            match legacy {
                Some(b) => match bridge::deliver(db, tenant, b, &item, Utc::now()).await {
                    Ok(_) => {}
                    Err(bridge::Error::Db(e)) => return Err(e),
                    Err(e) => tracing::warn!(kind = %item.kind, error = %e, "AquaCIS effect"),
                },
                None => {
                    let mut tx = db.write(tenant).await?;
                    repo::outbox_failed(
                        &mut tx,
                        item.id,
                        "no hay conexión con AquaCIS configurada (AQUACIS_URL)",
                        now + chrono::Duration::minutes(5),
                    )
                    .await?;
                    tx.commit().await?;
                }
            }
            continue;
        }
        // Engine-driven kinds: each step is idempotent (driven by stored state and
        // unique keys), so a crash between the work and marking the row delivered only
        // repeats a no-op.
        let handled = if item.kind == "billing.bill_contract" {
            let o = invoicing::deliver_bill_contract(db, tenant, &item.payload.0, billing).await;
            Some((
                o.map(|o| format!("{o:?}")).map_err(|e| e.to_string()),
                chrono::Duration::minutes(1),
            ))
        } else if item.kind == invoicing::fiscal::PROCESS
            || item.kind == invoicing::fiscal::ISSUE_PERIOD
        {
            // Back off 1, 2, 4 … 32 minutes: a cancellation may wait days for the
            // receptor; a missing PAC is not fixed in a minute.
            let o =
                invoicing::fiscal::deliver(db, tenant, fiscal, &item.kind, &item.payload.0).await;
            Some((
                o.map(|v| v.to_string()),
                chrono::Duration::minutes(1 << item.attempts.clamp(0, 5)),
            ))
        } else if item.kind == invoicing::conciliacion::RECONCILE {
            let o =
                invoicing::conciliacion::deliver(db, tenant, payments, &item.payload.0, now).await;
            Some((o.map_err(|e| e.to_string()), chrono::Duration::minutes(15)))
        } else if item.kind == invoicing::webhooks::WEBHOOK {
            // A stored provider webhook: the payment's key is the provider's event or
            // order, so a retry applies nothing twice. 5 s, 10 s … ~21 min.
            let o = invoicing::webhooks::process(db, tenant, payments, &item.payload.0, now).await;
            Some((
                o.map_err(|e| e.to_string()),
                chrono::Duration::seconds(5 << item.attempts.clamp(0, 8)),
            ))
        } else {
            None
        };
        if let Some((outcome, wait)) = handled {
            let mut tx = db.write(tenant).await?;
            match outcome {
                Ok(summary) => {
                    tracing::info!(kind = %item.kind, %summary, "outbox item done");
                    repo::outbox_delivered(&mut tx, item.id, now, None).await?;
                }
                Err(e) => {
                    tracing::warn!(kind = %item.kind, error = %e, "outbox item failed; will retry");
                    repo::outbox_failed(&mut tx, item.id, &e, now + wait).await?;
                }
            }
            tx.commit().await?;
            continue;
        }
        let mut tx = db.write(tenant).await?;
        match (item.kind.as_str(), mode) {
            (k, Mode::Development) if k.starts_with("notify.") => {
                let text = item
                    .payload
                    .0
                    .get("text")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let to = item
                    .payload
                    .0
                    .get("to_masked")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                tracing::info!(kind = %item.kind, to, text, "dev outbox: message delivered to /dev/outbox");
                repo::outbox_delivered(&mut tx, item.id, now, None).await?;
            }
            _ => {
                repo::outbox_failed(
                    &mut tx,
                    item.id,
                    "no delivery channel configured for this kind yet",
                    now + chrono::Duration::minutes(5),
                )
                .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(n)
}
