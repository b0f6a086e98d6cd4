//! The MQTT consumer for ChirpStack v4 uplinks.
//!
//! ChirpStack publishes each device event as JSON to
//! `application/<application_id>/device/<dev_eui>/event/<event>`; we subscribe to the
//! `up` events with QoS 1 on a persistent session (`clean_session = false`, a fixed
//! client id) and acknowledge a message only after the [`Handler`] stored it, so the
//! broker keeps — and after a reconnect redelivers — everything not yet handled.
//! Delivery is at least once: the handler must be idempotent (storage dedupes).
//!
//! Broker side, for nothing to be lost: ChirpStack must publish with QoS 1
//! (`[integration.mqtt] qos = 1`; the broker delivers at the lower of the publish and
//! subscribe QoS), and the broker must persist sessions (Mosquitto: `persistence true`)
//! and queue enough for an offline client (`max_queued_messages`).
//!
//! Two tasks: this loop polls the connection (keep-alive, reconnects, re-subscribes on
//! every ConnAck) and never waits on the handler; a worker hands the handler what has
//! arrived — in arrival order, up to [`BATCH`] messages at a time, so one storage
//! transaction serves many uplinks — retrying a failed batch with backoff before
//! taking the next. (The broker's in-flight window for the client — Mosquitto's
//! `max_inflight_messages`, 20 by default — bounds a batch too.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use rumqttc::{
    AsyncClient, Event, MqttOptions, Outgoing, Packet, Publish, QoS, SubscribeReasonCode,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

/// First wait after a failure (connection or handler); doubles up to the maximum.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Largest packet accepted: a ChirpStack uplink heard by many gateways is a few KiB;
/// a packet over the limit drops the connection (and would be redelivered forever).
const MAX_PACKET: usize = 1024 * 1024;
/// Most messages handed to the handler at once.
pub const BATCH: usize = 500;

/// `[mqtt]`: the broker ChirpStack publishes to.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    /// Identifies the persistent session on the broker: keep it stable across restarts
    /// and unique per consumer (two consumers with one id take the session from each
    /// other in a loop).
    pub client_id: String,
    pub topic_filter: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Seconds between pings when idle; a broker that does not answer is reconnected.
    pub keep_alive_secs: u64,
    /// Slug of the utility whose devices publish on this broker (default: the
    /// server's default tenant).
    pub tenant: Option<String>,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            host: "127.0.0.1".into(),
            port: 1883,
            client_id: "supra-ingest".into(),
            topic_filter: "application/+/device/+/event/up".into(),
            username: None,
            password: None,
            keep_alive_secs: 30,
            tenant: None,
        }
    }
}

impl std::fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("topic_filter", &self.topic_filter)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("tenant", &self.tenant)
            .finish()
    }
}

/// One message as received.
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
}

/// What to do with the messages that arrived.
pub trait Handler: Send + Sync + 'static {
    /// `Ok(())`: all durably handled (stored, or quarantined if malformed) — they are
    /// acknowledged. `Err`: not handled (e.g. the database is down) — none is
    /// acknowledged and the same batch is retried with backoff.
    fn handle(&self, messages: &[Message]) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Consume until `stop` becomes true (or its sender is dropped). Keeps reconnecting
/// while the broker is unreachable; fails only on a bad configuration or if the
/// handler panicked.
pub async fn run(
    cfg: MqttConfig,
    handler: impl Handler,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    anyhow::ensure!(!cfg.client_id.is_empty(), "mqtt: client_id is required");
    anyhow::ensure!(
        !cfg.topic_filter.is_empty(),
        "mqtt: topic_filter is required"
    );
    if stopped(&stop) {
        return Ok(());
    }
    let mut opts = MqttOptions::new(&cfg.client_id, &cfg.host, cfg.port);
    opts.set_keep_alive(Duration::from_secs(cfg.keep_alive_secs.max(1)))
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_max_packet_size(MAX_PACKET, MAX_PACKET);
    if let Some(user) = &cfg.username {
        opts.set_credentials(user, cfg.password.clone().unwrap_or_default());
    }
    let (client, mut eventloop) = AsyncClient::new(opts, 64);
    // Bumped on every connect and disconnect; each message carries the value it
    // arrived under, and is acknowledged only on that same connection.
    let connection = Arc::new(AtomicU64::new(0));
    // Unbounded so that polling never waits on the handler; what is in it is bounded
    // by the broker's in-flight window for this client (messages not yet acked).
    let (tx, rx) = mpsc::unbounded_channel();
    let mut worker = tokio::spawn(work(
        handler,
        client.clone(),
        connection.clone(),
        rx,
        stop.clone(),
    ));
    tracing::info!(host = %cfg.host, port = cfg.port, client_id = %cfg.client_id, topic = %cfg.topic_filter, "mqtt: connecting");

    let mut backoff = BACKOFF_MIN;
    let mut connected_before = false;
    loop {
        // `poll` is never cancelled (a cancelled write would corrupt the stream); on
        // stop the worker sends DISCONNECT, which wakes it.
        let event = eventloop.poll().await;
        if worker.is_finished() && !stopped(&stop) {
            let _ = (&mut worker)
                .await
                .map_err(|e| tracing::error!(error = %e, "mqtt: handler task died"));
            anyhow::bail!("mqtt: the handler task ended unexpectedly");
        }
        match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                connection.fetch_add(1, Ordering::SeqCst);
                backoff = BACKOFF_MIN;
                if connected_before {
                    metrics::counter!("mqtt_reconnects_total").increment(1);
                }
                connected_before = true;
                tracing::info!(session_present = ack.session_present, "mqtt: connected");
                // The session normally keeps the subscription; subscribing again is
                // harmless and covers a broker that lost it.
                subscribe(&client, &cfg.topic_filter);
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, SubscribeReasonCode::Failure))
                {
                    tracing::error!(topic = %cfg.topic_filter, "mqtt: the broker refused the subscription");
                } else {
                    tracing::debug!(topic = %cfg.topic_filter, codes = ?ack.return_codes, "mqtt: subscribed");
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                metrics::counter!("mqtt_messages_total").increment(1);
                tracing::trace!(topic = %publish.topic, pkid = publish.pkid, dup = publish.dup, "mqtt: message");
                let _ = tx.send((connection.load(Ordering::SeqCst), publish));
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) if stopped(&stop) => break,
            Ok(_) => {}
            Err(e) => {
                connection.fetch_add(1, Ordering::SeqCst);
                if stopped(&stop) {
                    break;
                }
                tracing::warn!(error = %e, retry_in = ?backoff, "mqtt: connection failed");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => break,
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
    drop(tx);
    worker.await.context("mqtt: handler task")?;
    tracing::info!("mqtt: stopped");
    Ok(())
}

/// Queue a SUBSCRIBE without waiting: this task is the one that drains the queue.
fn subscribe(client: &AsyncClient, filter: &str) {
    if client.try_subscribe(filter, QoS::AtLeastOnce).is_err() {
        let (client, filter) = (client.clone(), filter.to_owned());
        tokio::spawn(async move {
            if let Err(e) = client.subscribe(filter, QoS::AtLeastOnce).await {
                tracing::warn!(error = %e, "mqtt: could not queue the subscription");
            }
        });
    }
}

fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Handle messages in order; acknowledge each once handled.
async fn work(
    handler: impl Handler,
    client: AsyncClient,
    connection: Arc<AtomicU64>,
    mut rx: mpsc::UnboundedReceiver<(u64, Publish)>,
    mut stop: watch::Receiver<bool>,
) {
    let mut batch: Vec<(u64, Publish)> = Vec::with_capacity(BATCH);
    'messages: loop {
        batch.clear();
        tokio::select! {
            m = rx.recv() => match m {
                Some(m) => batch.push(m),
                None => break,
            },
            _ = stop.changed() => break,
        }
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let messages: Vec<Message> = batch
            .iter()
            .map(|(_, p)| Message {
                topic: p.topic.clone(),
                payload: p.payload.to_vec(),
            })
            .collect();
        let mut backoff = BACKOFF_MIN;
        loop {
            let outcome = tokio::select! {
                r = handler.handle(&messages) => r,
                _ = stop.changed() => break 'messages,
            };
            match outcome {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(messages = messages.len(), error = %e, retry_in = ?backoff, "mqtt: messages not handled; will retry");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => break 'messages,
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        for (arrived_on, publish) in &batch {
            // A message from an earlier connection is not acknowledged: the broker
            // redelivers it on the current one (handled again; storage dedupes), and
            // its packet id here may already name another message.
            if connection.load(Ordering::SeqCst) != *arrived_on {
                tracing::debug!(topic = %publish.topic, pkid = publish.pkid, "mqtt: handled after a reconnect; the redelivery will be acked");
                continue;
            }
            tokio::select! {
                r = client.ack(publish) => if let Err(e) = r {
                    tracing::warn!(error = %e, "mqtt: could not queue an ack");
                },
                _ = stop.changed() => break 'messages,
            }
        }
    }
    // Wakes the polling loop, which flushes the acks queued before this and ends.
    let _ = tokio::time::timeout(Duration::from_secs(5), client.disconnect()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_subscribe_to_chirpstack_uplinks() {
        let c = MqttConfig::default();
        assert_eq!(c.topic_filter, "application/+/device/+/event/up");
        let c = MqttConfig {
            password: Some("secreto".into()),
            ..c
        };
        assert!(!format!("{c:?}").contains("secreto"));
    }
}
