//! Meter ingest, the pure parts (issue #6). Sources (MQTT, HTTP, CSV, self-reads) and
//! storage are wired elsewhere; everything here is plain functions over values:
//!
//! - [`chirpstack`]: ChirpStack v4's `up` event (JSON, lowerCamelCase) as it arrives by
//!   MQTT (`application/<id>/device/<devEui>/event/up`) or the HTTP integration
//!   (`POST …?event=up`).
//! - [`payload`]: a water meter's uplink as a cumulative volume in litres plus alarm
//!   flags — ChirpStack's decoded `object` when the device profile has a codec, else the
//!   raw frame (Axioma Qalcosonic W1 enhanced frame, fPort 100).
//! - [`validate`]: a reading against the meter's previous one: future timestamps
//!   refused, rollover at the register's digit limit, reverse flow and implausible
//!   jumps flagged with a quality code (never silently dropped).
//! - [`route`]: a lecturista's route file (CSV from a handheld or a spreadsheet), read
//!   lazily row by row into exact litres and UTC times with a per-row verdict, and the
//!   per-row report staff download.
//!
//! **Invariants:** no database, no network, no clock (callers pass `now`), no floats
//! for volumes (integer litres).

pub mod chirpstack;
pub mod payload;
pub mod route;
pub mod validate;

mod error;

pub use error::{Error, Result};
