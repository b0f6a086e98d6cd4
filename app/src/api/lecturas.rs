//! The citizen's meter (issue #6): sending a reading ("Enviar mi lectura", also queued
//! on the phone without signal), the consumption charts ("Mi consumo") and the in-app
//! alerts of the dashboard. Thin: everything happens in `crate::ssr::lecturas`; the
//! reading itself is posted (multipart, with its photo) to `POST /cuenta/lectura`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Where the reading form posts (multipart: `clave`, `contrato`, `lectura`, `fecha`,
/// `foto`). Answers JSON when asked (`Accept: application/json`), else a 303 to the
/// receipt or the form again with the message next to its field (422).
pub const SELF_READ_URL: &str = "/cuenta/lectura";
/// The largest photo the server takes (the engine's limit).
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;
/// How old a reading sent later may be (the engine's limit; older ones are dated now).
pub const MAX_AGE_DAYS: i64 = 7;

/// A message for one field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

/// What the reading form needs. Also built from the saved dashboard when offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfReadForm {
    pub contract_id: i64,
    pub number: String,
    /// The meter's serial; `None`: the contract has no meter (nothing to send).
    pub meter_serial: Option<String>,
    /// "1,234.5 m³ el 3 nov 2026": the last reading we have, to compare with.
    pub last_reading: Option<String>,
    /// A fresh idempotency key for the form posted without JavaScript.
    pub clave: String,
    /// Now, local time, as a `datetime-local` value (`2026-11-24T10:15`).
    pub now_local: String,
    /// `MAX_AGE_DAYS` ago, same format (the field's `min`).
    pub oldest_local: String,
    /// What was typed, when the form comes back with an error.
    pub lectura: String,
    pub fecha: String,
    /// The error of the previous post (the form posted without JavaScript).
    pub error: Option<FieldMessage>,
}

/// The answer to a reading: the same for the same key, however often it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfReadReceipt {
    pub accepted: bool,
    pub message: String,
    pub contract: String,
    /// "1,234.567 m³".
    pub value: String,
    /// "24 nov 2026, 10:15".
    pub date: String,
}

/// One bar of the consumption chart (one billing period), formatted on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumptionPeriod {
    /// "nov 2026".
    pub label: String,
    /// "noviembre 2026".
    pub long_label: String,
    /// The period is still running.
    pub current: bool,
    /// "12.5 m³"; `None`: no reading in that period.
    pub m3: Option<String>,
    /// Bar height relative to the largest value shown, 0–1000.
    pub height: u16,
    /// The same period a year earlier.
    pub last_year: Option<String>,
    /// The area's average for the period.
    pub area: Option<String>,
    pub area_height: Option<u16>,
}

/// One bar of the daily chart (smart meters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumptionDay {
    /// "24 nov".
    pub label: String,
    /// "martes 24 de noviembre".
    pub long_label: String,
    /// "0.35 m³"; `None`: the meter sent nothing that day.
    pub m3: Option<String>,
    /// Litres, for the text alternative ("350 litros").
    pub litres: Option<String>,
    pub height: u16,
}

/// "Mi consumo"; stored in IndexedDB as-is for offline use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumptionView {
    pub contract_id: i64,
    pub number: String,
    pub has_meter: bool,
    /// Oldest first: the current period and the 12 before it.
    pub periods: Vec<ConsumptionPeriod>,
    /// "tu colonia Centro" / "tu sector Norte", when the area has enough neighbours.
    pub area_label: Option<String>,
    /// The chart's description (`<desc>`): range, highest, lowest.
    pub chart_desc: String,
    /// Plain sentences comparing the latest period with last year and the area.
    pub comparison: Vec<String>,
    /// The last 30 days, for smart meters.
    pub daily: Option<Vec<ConsumptionDay>>,
    pub daily_desc: Option<String>,
    pub fetched_at: String,
}

/// An alert about the contract ("Posible fuga: …").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: i64,
    /// "Posible fuga".
    pub title: String,
    pub detail: String,
    /// "24 nov 2026".
    pub detected: String,
    /// What to do, or that someone is coming.
    pub advice: String,
    /// Leak, burst: shown first and marked.
    pub urgent: bool,
}

/// The reading form for the signed-in citizen's contract.
#[server(endpoint = "citizen/self_read_form")]
pub async fn get_self_read_form() -> Result<SelfReadForm, AppError> {
    crate::ssr::lecturas::form().await
}

/// The answer to a reading already sent (`clave`: its idempotency key).
#[server(endpoint = "citizen/self_read_receipt")]
pub async fn get_self_read_receipt(clave: String) -> Result<SelfReadReceipt, AppError> {
    crate::ssr::lecturas::receipt(clave).await
}

/// "Mi consumo": the last 13 periods with last year's and the area's, and the last 30
/// days of a smart meter.
#[server(endpoint = "citizen/consumption")]
pub async fn get_consumption() -> Result<ConsumptionView, AppError> {
    crate::ssr::lecturas::consumption().await
}

/// The contract's alerts (anomalies of the last 90 days still open or being fixed).
#[server(endpoint = "citizen/alerts")]
pub async fn get_alerts() -> Result<Vec<AlertView>, AppError> {
    crate::ssr::lecturas::alerts().await
}

/// A meter reading as typed, in exact litres: `"1234"`, `"1234.5"`, `"1234,567"`,
/// optionally followed by `m3`/`m³`; at most 3 decimals. Integer arithmetic only (the
/// server parses again with `domain::M3::parse`; a test keeps the two in agreement).
pub fn parse_litres(s: &str) -> Result<u64, &'static str> {
    const EXAMPLE: &str = "Escribe la lectura en metros cúbicos, por ejemplo 123 o 123.5.";
    let mut t = s.trim();
    for suffix in ["m³", "M³", "m3", "M3"] {
        if let Some(r) = t.strip_suffix(suffix) {
            t = r.trim_end();
            break;
        }
    }
    if t.is_empty() {
        return Err("Escribe la lectura del medidor.");
    }
    if t.starts_with('-') {
        return Err("La lectura no puede ser negativa.");
    }
    let (int, frac) = match t.split_once(['.', ',']) {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(EXAMPLE);
    }
    if frac.len() > 3 {
        return Err("La lectura admite como máximo 3 decimales (litros).");
    }
    if int.len() > 15 {
        return Err("La lectura es demasiado grande.");
    }
    let whole: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| EXAMPLE)?
    };
    let mut part: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| EXAMPLE)?
    };
    for _ in frac.len()..3 {
        part *= 10;
    }
    Ok(whole * 1000 + part)
}

/// Litres as the exact m³ text the server parses: `1234567` → `"1234.567"`.
pub fn litres_to_m3_text(litres: u64) -> String {
    format!("{}.{:03}", litres / 1000, litres % 1000)
}

/// Litres in m³ as people read them in Mexico: `1234500` → `"1,234.5 m³"` (thousands
/// with commas, no trailing zeros).
pub fn m3_label(litres: i64) -> String {
    let abs = litres.unsigned_abs();
    let whole = (abs / 1000).to_string();
    let frac = format!("{:03}", abs % 1000);
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3 + 8);
    if litres < 0 {
        grouped.push('-');
    }
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if !frac.is_empty() {
        grouped.push('.');
        grouped.push_str(frac);
    }
    grouped.push_str(" m³");
    grouped
}

/// A reading kept on this phone until it can be sent (IndexedDB store `lecturas`; the
/// service worker sends the same records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRead {
    /// The idempotency key: the server stores one reading per key.
    pub clave: String,
    pub contract_id: i64,
    pub litres: u64,
    /// When it was taken, RFC 3339 (UTC), or empty for "now".
    pub taken_at: String,
    /// "24/11/2026 10:15", as typed, for the list.
    pub taken_label: String,
    /// The photo's bytes and content type.
    pub photo: Option<(Vec<u8>, String)>,
}

/// A queued reading as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRead {
    pub clave: String,
    /// "1,234.5 m³".
    pub value: String,
    pub taken_label: String,
    /// The server refused it for good (e.g. lower than the last reading): why.
    pub refused: Option<String>,
}

/// What became of sending one reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Stored (now or before, under the same key): where its receipt is.
    Sent { receipt_url: String },
    /// Refused for good; the message belongs next to `field`.
    Refused { field: String, message: String },
    /// Not now (no signal, session ended, server trouble): keep it and try later.
    Later { message: String },
}

/// What one pass over the queue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushSummary {
    pub sent: u32,
    pub refused: u32,
    /// Still waiting (no signal, session ended…).
    pub left: u32,
}

/// HTTP answers to a queued reading that are final: it will never be accepted as it
/// is, so it leaves the queue (with its message). 401, 408, 429 and 5xx are retried.
pub fn is_final_refusal(status: u16) -> bool {
    matches!(status, 400 | 403 | 404 | 409 | 413 | 415 | 422)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litres_are_exact() {
        assert_eq!(parse_litres("1234"), Ok(1_234_000));
        assert_eq!(parse_litres(" 1234.5 "), Ok(1_234_500));
        assert_eq!(parse_litres("1234,567"), Ok(1_234_567));
        assert_eq!(parse_litres("0.001 m³"), Ok(1));
        assert_eq!(parse_litres(".5"), Ok(500));
        assert_eq!(parse_litres("12m3"), Ok(12_000));
        assert!(parse_litres("").is_err());
        assert!(parse_litres("-3").is_err());
        assert!(parse_litres("1.2345").is_err());
        assert!(parse_litres("1,234.5").is_err());
        assert!(parse_litres("12a").is_err());
        assert!(parse_litres("9999999999999999").is_err());
        assert_eq!(parse_litres("999999999999999"), Ok(999_999_999_999_999_000));
    }

    #[test]
    fn labels() {
        assert_eq!(m3_label(1_234_500), "1,234.5 m³");
        assert_eq!(m3_label(23_000), "23 m³");
        assert_eq!(m3_label(1), "0.001 m³");
        assert_eq!(m3_label(0), "0 m³");
        assert_eq!(m3_label(-2_500), "-2.5 m³");
        assert_eq!(m3_label(1_000_000_000), "1,000,000 m³");
        assert_eq!(litres_to_m3_text(1_234_567), "1234.567");
        assert_eq!(litres_to_m3_text(5), "0.005");
        for l in [0u64, 1, 999, 1000, 1_234_567, 99_999_999] {
            assert_eq!(parse_litres(&litres_to_m3_text(l)), Ok(l));
        }
    }

    /// The browser's parser and the server's (`domain::M3::parse`) agree.
    #[cfg(feature = "ssr")]
    #[test]
    fn agrees_with_the_server() {
        for s in [
            "0",
            "1",
            "12.5",
            "12,5",
            "0.001",
            ".25",
            "5.",
            "1234.567",
            "1234.5678",
            "12 m³",
            "12m3",
            "",
            " ",
            "-1",
            "1.2.3",
            "abc",
            "1,234.5",
            "999999999999999",
            "9999999999999999",
            "m3",
        ] {
            let ours = parse_litres(s).ok();
            let server = domain::M3::parse(s)
                .ok()
                .and_then(|m| u64::try_from(m.litres()).ok());
            assert_eq!(ours, server, "{s:?}");
        }
    }
}
