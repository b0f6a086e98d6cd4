//! Identity: citizens sign in with contract number + a 6-digit code sent to the phone
//! or e-mail on file; staff sign in with e-mail + password (argon2). Both get a
//! server-side session whose random token travels in a cookie (only its SHA-256 is
//! stored).
//!
//! Invariants: no HTTP, cookies or Leptos here — callers pass the client IP and `now`
//! and receive typed outcomes with plain-Spanish messages. Every outcome that matters
//! is written to the audit trail (`domain_events`) in the same transaction, and the
//! code message is enqueued in the outbox in that transaction too.

mod error;
pub mod otp;
pub mod password;
pub mod session;
pub mod staff;

pub use error::AuthError;
pub use otp::{CitizenSignedIn, CodeSent, Purpose};
pub use session::{Actor, NewSessionToken, SessionInfo};

use chrono::Duration;

/// Policy knobs. Defaults follow the issue: 6 digits, 5-minute expiry, 3 attempts,
/// then a cool-down.
#[derive(Debug, Clone)]
pub struct Policy {
    pub code_ttl: Duration,
    pub max_attempts: i32,
    pub cooldown: Duration,
    /// Codes a contract may request in `contract_window`.
    pub codes_per_contract: i64,
    pub contract_window: Duration,
    /// Codes one IP may request in `ip_window` (a cyber café or a carrier NAT serves
    /// many people, so this is generous).
    pub codes_per_ip: i64,
    pub ip_window: Duration,
    pub citizen_session: Duration,
    pub staff_session: Duration,
    pub staff_max_failures: i32,
    pub staff_lockout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            code_ttl: Duration::minutes(5),
            max_attempts: 3,
            cooldown: Duration::minutes(15),
            codes_per_contract: 3,
            contract_window: Duration::minutes(15),
            codes_per_ip: 30,
            ip_window: Duration::hours(1),
            citizen_session: Duration::days(30),
            staff_session: Duration::hours(8),
            staff_max_failures: 5,
            staff_lockout: Duration::minutes(15),
        }
    }
}

/// Server secrets used by this crate.
#[derive(Clone)]
pub struct Secrets {
    /// Key of the HMAC that stores one-time codes (a leaked table cannot be brute
    /// forced offline without it).
    pub code_key: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

/// Everything the flows need.
#[derive(Clone, Debug)]
pub struct Auth {
    pub db: db::Db,
    pub policy: Policy,
    pub secrets: Secrets,
}

/// Format a UTC instant the way people in Querétaro read it: "23 nov 2026, 14:05".
pub fn format_local(t: chrono::DateTime<chrono::Utc>) -> String {
    domain_time::format_mx(t)
}

mod domain_time {
    use chrono::{DateTime, Datelike, Timelike, Utc};
    use domain::MONTHS_ES_SHORT as MONTHS;
    pub fn format_mx(t: DateTime<Utc>) -> String {
        let l = t.with_timezone(&chrono_tz::America::Mexico_City);
        format!(
            "{} {} {}, {:02}:{:02}",
            l.day(),
            MONTHS[l.month0() as usize],
            l.year(),
            l.hour(),
            l.minute()
        )
    }
}
