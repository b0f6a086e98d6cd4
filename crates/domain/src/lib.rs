//! Domain value types for SUPRA Water.
//!
//! Every type in this crate can only hold a valid value: raw input (forms,
//! CSV imports, JSON) is parsed at the edge and rejected with a plain
//! Spanish (es-MX) message that can be shown directly to citizens or staff.
//!
//! The crate is pure (no I/O, no clock, no randomness) so it also compiles
//! for `wasm32-unknown-unknown` and is shared with the browser build.
//!
//! Storage conventions:
//! * [`Money`] is stored in the database as `i64` centavos ([`Money::centavos`]).
//! * [`M3`] is stored in the database as `i64` litres ([`M3::litres`]).
//! * Enums are stored as their snake_case code (`as_str()`).

pub mod consumption;
pub mod enums;
pub mod ids;
pub mod money;
pub mod text;

pub use enums::*;
pub use ids::*;
pub use money::*;
pub use text::{MONTHS_ES, MONTHS_ES_SHORT, normalize_search};

use serde::{Deserialize, Serialize};

/// The single error type of this crate: a value that failed validation.
///
/// `field` is a short, stable Spanish field key (e.g. `"contrato"`, `"rfc"`,
/// `"telefono"`) that UIs can use to attach the message to a form input;
/// `message` is a plain Spanish sentence meant for end users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct InvalidValue {
    /// Stable field key, e.g. `"contrato"`.
    pub field: String,
    /// Human readable message in Spanish (es-MX).
    pub message: String,
}

impl InvalidValue {
    /// Builds a new validation error for `field` with a Spanish `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_value_displays_message_only() {
        let e = InvalidValue::new("contrato", "Escribe tu número de contrato.");
        assert_eq!(e.to_string(), "Escribe tu número de contrato.");
        assert_eq!(e.field, "contrato");
    }

    #[test]
    fn invalid_value_serde_round_trip() {
        let e = InvalidValue::new("rfc", "mensaje");
        let json = serde_json::to_string(&e).expect("serialize");
        assert_eq!(json, r#"{"field":"rfc","message":"mensaje"}"#);
        let back: InvalidValue = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, e);
    }
}
