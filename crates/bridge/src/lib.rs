//! The strangler fig around AquaCIS. While the migration lasts, each domain (contracts,
//! readings, debt, work orders, payments, customer data) has its truth in one place,
//! switched at run time by an admin (`settings`):
//!
//! - **reads** come from SUPRA's store or from AquaCIS through a cache ([`read`]): fresh
//!   within the TTL, else asked again; when AquaCIS does not answer, the last answer is
//!   served with its date (`Cached::stale`), so the citizen's dashboard still renders;
//! - **writes** go to SUPRA, to AquaCIS or to both. Those for AquaCIS are outbox rows
//!   written in the transaction that causes them (`invoicing::cobro` writes
//!   `legacy.avisar_pago`) and sent by [`deliver`] exactly once: a non-idempotent call
//!   is marked as sent before it goes out, and any later attempt first asks AquaCIS
//!   whether it arrived. Refusals and exhausted retries become dead letters that staff
//!   replay.
//!
//! The nightly [`sync`] imports what changed in AquaCIS since the last watermark and
//! reconciles balances.

pub mod settings;
pub mod sync;

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use db::models::OutboxItem;
use db::{Db, TenantId};
use legacy::ops;
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

pub use settings::{Domain, ReadFrom, Setting, WriteTo};

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] db::Error),
    #[error(transparent)]
    Legacy(#[from] legacy::Error),
    /// Bad input from staff; Spanish, for the form.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Outbox kinds for AquaCIS (all start with `legacy.`).
pub const KIND_PREFIX: &str = "legacy.";
pub const AVISAR_PAGO: &str = db::legacy::AVISAR_PAGO;
pub const CREAR_OT: &str = db::legacy::CREAR_OT;
pub const CAMBIAR_EMAIL: &str = "legacy.cambiar_email";
pub const LECTURA: &str = db::legacy::LECTURA;

/// How the bridge behaves; from `[legacy]` in the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a cached read is served without asking AquaCIS again.
    pub cache_ttl: chrono::Duration,
    /// First retry of a failed write; doubled per attempt up to `retry_max`.
    pub retry_base: chrono::Duration,
    pub retry_max: chrono::Duration,
    /// Attempts before a write becomes a dead letter.
    pub max_attempts: i32,
    /// How long a sent-but-unconfirmed write is left alone before it is checked.
    pub lease: chrono::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cache_ttl: chrono::Duration::minutes(5),
            retry_base: chrono::Duration::seconds(30),
            retry_max: chrono::Duration::hours(1),
            max_attempts: 12,
            lease: chrono::Duration::minutes(2),
        }
    }
}

/// The bridge as `serve` runs it: the AquaCIS client, its settings and counters.
pub struct Bridge {
    client: legacy::Client,
    pub settings: Settings,
    hits: AtomicU64,
    misses: AtomicU64,
    stale: AtomicU64,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("client", &self.client)
            .finish()
    }
}

/// The cache's counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Served stale because AquaCIS did not answer.
    pub stale: u64,
}

impl CacheStats {
    /// Hits (fresh or stale) over all reads, in percent.
    pub fn hit_rate(&self) -> Option<u64> {
        let all = self.hits + self.misses + self.stale;
        (all > 0).then(|| (self.hits + self.stale) * 100 / all)
    }
}

impl Bridge {
    pub fn new(client: legacy::Client, settings: Settings) -> Self {
        Bridge {
            client,
            settings,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stale: AtomicU64::new(0),
        }
    }
    pub fn client(&self) -> &legacy::Client {
        &self.client
    }
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            stale: self.stale.load(Ordering::Relaxed),
        }
    }
}

/// A read's answer and how old it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached<T> {
    pub value: T,
    /// When AquaCIS gave this answer.
    pub fetched_at: DateTime<Utc>,
    /// AquaCIS did not answer now; this is the last answer it gave.
    pub stale: bool,
}

/// Read from AquaCIS through the cache (only operations that read).
pub async fn read<O>(
    db: &Db,
    tenant: TenantId,
    bridge: &Bridge,
    op: &O,
    now: DateTime<Utc>,
) -> Result<Cached<O::Response>>
where
    O: legacy::Operation,
    O::Response: Serialize + DeserializeOwned,
{
    debug_assert!(O::READ, "only reads are cached");
    let key = format!(
        "{}:{}",
        O::NAME,
        serde_json::to_string(op).expect("a request serializes")
    );
    let cached = {
        let mut tx = db.read(tenant).await?;
        db::legacy::cache_get(&mut tx, &key).await?
    };
    let cached = cached.and_then(|(body, at)| {
        serde_json::from_str::<O::Response>(&body)
            .ok()
            .map(|v| (v, at))
    });
    if let Some((value, at)) = &cached
        && now - *at < bridge.settings.cache_ttl
    {
        bridge.hits.fetch_add(1, Ordering::Relaxed);
        return Ok(Cached {
            value: value.clone(),
            fetched_at: *at,
            stale: false,
        });
    }
    match bridge.client.call(op).await {
        Ok(value) => {
            bridge.misses.fetch_add(1, Ordering::Relaxed);
            let body = serde_json::to_string(&value).expect("a response serializes");
            let mut tx = db.write(tenant).await?;
            db::legacy::cache_put(&mut tx, &key, &body, now).await?;
            tx.commit().await?;
            Ok(Cached {
                value,
                fetched_at: now,
                stale: false,
            })
        }
        Err(e) if e.is_transient() => match cached {
            Some((value, at)) => {
                bridge.stale.fetch_add(1, Ordering::Relaxed);
                tracing::info!(operation = O::NAME, error = %e, "AquaCIS down: served from cache");
                Ok(Cached {
                    value,
                    fetched_at: at,
                    stale: true,
                })
            }
            None => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// A contract's debt as AquaCIS keeps it (through the cache).
pub async fn debt(
    db: &Db,
    tenant: TenantId,
    bridge: &Bridge,
    contract: &str,
    now: DateTime<Utc>,
) -> Result<Cached<ops::DeudaResponse>> {
    read(
        db,
        tenant,
        bridge,
        &ops::GetDeuda {
            num_contrato: contract.to_owned(),
        },
        now,
    )
    .await
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered(String),
    /// Try again at this time.
    Retry(String, DateTime<Utc>),
    /// Not attempted (AquaCIS's breaker is open): later, without counting an attempt.
    Postponed(String, DateTime<Utc>),
    /// A dead letter: staff must look.
    Dead(String),
}

/// Deliver one `legacy.*` outbox row and record the outcome on it (`None`: another
/// dispatcher has it). Exactly once:
/// before a call that AquaCIS does not deduplicate, the row is marked as sent (and
/// leased); an attempt on a row marked so first looks for the effect in AquaCIS
/// (`consultaHistoricoActuacionesContrato` for `avisarPago`) and only sends it again
/// when it is not there.
pub async fn deliver(
    db: &Db,
    tenant: TenantId,
    bridge: &Bridge,
    item: &OutboxItem,
    now: DateTime<Utc>,
) -> Result<Option<Delivery>> {
    // One dispatcher at a time per row (several `serve` processes may run).
    {
        let mut tx = db.write(tenant).await?;
        let claimed = db::repo::outbox_claim(&mut tx, item.id, now, bridge.settings.lease).await?;
        tx.commit().await?;
        if !claimed {
            return Ok(None);
        }
    }
    let outcome = attempt(db, tenant, bridge, item, now).await;
    let delivery = match outcome {
        Ok(summary) => Delivery::Delivered(summary),
        Err(Error::Legacy(e @ legacy::Error::CircuitOpen { .. })) => {
            Delivery::Postponed(e.to_string(), now + bridge.settings.retry_base)
        }
        Err(Error::Legacy(e)) if e.is_transient() => {
            let tries = item.attempts + 1;
            if tries >= bridge.settings.max_attempts {
                Delivery::Dead(format!("{e} (tras {tries} intentos)"))
            } else {
                let wait = (bridge.settings.retry_base
                    * 2i32.saturating_pow(item.attempts.clamp(0, 20) as u32))
                .min(bridge.settings.retry_max);
                Delivery::Retry(e.to_string(), now + wait)
            }
        }
        Err(Error::Db(e)) => return Err(Error::Db(e)),
        Err(e) => Delivery::Dead(e.to_string()),
    };
    let mut tx = db.write(tenant).await?;
    match &delivery {
        Delivery::Delivered(s) => {
            db::repo::outbox_delivered(&mut tx, item.id, now, None).await?;
            tracing::info!(kind = %item.kind, summary = %s, "AquaCIS effect delivered");
        }
        Delivery::Retry(e, at) => {
            db::repo::outbox_failed(&mut tx, item.id, e, *at).await?;
            tracing::warn!(kind = %item.kind, error = %e, "AquaCIS effect failed; will retry");
        }
        Delivery::Postponed(e, at) => {
            db::repo::outbox_postpone(&mut tx, item.id, e, *at).await?;
        }
        Delivery::Dead(e) => {
            db::repo::outbox_dead(&mut tx, item.id, e, now).await?;
            tracing::error!(kind = %item.kind, error = %e, "AquaCIS effect is a dead letter");
        }
    }
    tx.commit().await?;
    Ok(Some(delivery))
}

fn payload<T: DeserializeOwned>(item: &OutboxItem) -> Result<T> {
    serde_json::from_value(item.payload.0.clone()).map_err(|e| Error::Invalid {
        field: "payload",
        message: format!("contenido ilegible en {}: {e}", item.kind),
    })
}

async fn mark_sent(db: &Db, tenant: TenantId, item: &OutboxItem, now: DateTime<Utc>) -> Result<()> {
    let mut tx = db.write(tenant).await?;
    db::repo::outbox_sending(&mut tx, item.id, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn attempt(
    db: &Db,
    tenant: TenantId,
    bridge: &Bridge,
    item: &OutboxItem,
    now: DateTime<Utc>,
) -> Result<String> {
    let client = &bridge.client;
    match item.kind.as_str() {
        AVISAR_PAGO => {
            let notice: ops::AvisarPago = payload(item)?;
            if item.sent_at.is_some() {
                // It may have arrived: look before sending it again.
                let history = client
                    .call(&ops::ConsultaHistoricoActuacionesContrato {
                        num_contrato: notice.num_contrato.clone(),
                    })
                    .await?;
                if history.actuaciones.iter().any(|a| {
                    a.tipo == "AVISO_PAGO"
                        && a.referencia.as_deref() == Some(notice.referencia_externa.as_str())
                }) {
                    return Ok(format!(
                        "{} ya estaba en AquaCIS",
                        notice.referencia_externa
                    ));
                }
            }
            mark_sent(db, tenant, item, now).await?;
            let r = client.call(&notice).await?;
            Ok(format!(
                "{} avisado (pago AquaCIS {})",
                notice.referencia_externa,
                r.id_pago.map_or("?".into(), |i| i.to_string())
            ))
        }
        CREAR_OT => {
            #[derive(serde::Deserialize)]
            struct Ot {
                numero_serie: String,
                tipo: String,
                descripcion: String,
                referencia: String,
            }
            let ot: Ot = payload(item)?;
            if item.sent_at.is_some() {
                // AquaCIS cannot be asked for an order by our reference: a second
                // order would send a second crew. Staff check and replay by hand.
                return Err(Error::Invalid {
                    field: "orden",
                    message: format!(
                        "la orden {} pudo haberse creado en AquaCIS sin confirmación; verifique antes de reenviar",
                        ot.referencia
                    ),
                });
            }
            mark_sent(db, tenant, item, now).await?;
            let o = client
                .create_work_order(&ot.numero_serie, &ot.tipo, &ot.descripcion, &ot.referencia)
                .await?;
            Ok(format!("orden AquaCIS {}", o.ot_id))
        }
        LECTURA => {
            let reading: ops::SolicitudIntroduccionLectura = payload(item)?;
            if item.sent_at.is_some() {
                // No way to ask AquaCIS for it: a second request would be a second
                // reading. Staff check and replay by hand.
                return Err(Error::Invalid {
                    field: "lectura",
                    message: format!(
                        "la lectura del contrato {} pudo haber llegado a AquaCIS sin confirmación; verifique antes de reenviar",
                        reading.num_contrato
                    ),
                });
            }
            mark_sent(db, tenant, item, now).await?;
            let r = client.call(&reading).await?;
            Ok(format!(
                "lectura de {} enviada (solicitud {})",
                reading.num_contrato,
                r.num_solicitud.map_or("?".into(), |n| n.to_string())
            ))
        }
        CAMBIAR_EMAIL => {
            // Setting the same address twice is harmless: a plain retry.
            let change: ops::CambiarEmailNotificacionPersona = payload(item)?;
            client.call(&change).await?;
            Ok(format!("correo de {} actualizado", change.nif))
        }
        other => Err(Error::Invalid {
            field: "kind",
            message: format!("efecto desconocido para AquaCIS: {other}"),
        }),
    }
}

/// Staff (or the CLI, `None`) replay a dead letter (audited). False if it is not one.
pub async fn replay(
    db: &Db,
    tenant: TenantId,
    outbox_id: i64,
    staff_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = db.write(tenant).await?;
    let ok = db::repo::outbox_replay(&mut tx, outbox_id, now).await?;
    if ok {
        db::repo::record_event(
            &mut tx,
            db::repo::NewEvent {
                actor_kind: if staff_id.is_some() {
                    "staff"
                } else {
                    "system"
                },
                actor_id: staff_id,
                action: "legacy.dead_letter.replayed",
                subject_kind: Some("outbox"),
                subject_id: Some(outbox_id),
                data: serde_json::json!({}),
                ip: None,
                now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ok)
}
