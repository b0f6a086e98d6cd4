//! Meter ingest, the stored side (issue #6). Every source ends in [`record::record`]:
//! a batch of readings tied to meters, checked against each meter's neighbouring
//! readings (`ingest::validate`), deduplicated on (meter, second), stored with its
//! source and quality code, and the daily and per-period aggregates moved by exactly
//! what the batch changed — so billing and charts never scan raw readings.
//!
//! - [`uplink`]: ChirpStack `up` events (MQTT or HTTP) → device registry → readings;
//!   unknown devices and undecodable frames go to the quarantine, never dropped.
//! - [`route`]: a lecturista's route file in chunks, with a per-row report.
//! - [`self_read`]: a customer's reading from the app, once per idempotency key.
//! - [`integrations`]: per-integration secrets for the HTTP endpoint (hash kept only).
//!
//! **Invariants:** no HTTP, no MQTT, no Leptos: callers hand over bytes or values and
//! a `db` handle. Volumes are integer litres. Idempotent: replaying any input changes
//! nothing.

pub mod anomalies;
pub mod integrations;
pub mod record;
pub mod route;
pub mod self_read;
pub mod uplink;

pub use record::{Incoming, Outcome, Source, record};

/// The one error type of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] db::Error),
    /// Bad input, Spanish message for the sender.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
