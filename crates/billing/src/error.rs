use chrono::{Datelike, NaiveDate};

use crate::bill::FeeKind;

/// The one error type of the crate. Every message is plain Spanish (es-MX) and
/// says where the problem is: a TOML syntax error carries line and column, a
/// semantic error names the field (`blocks[2].up_to_m3`, `sewer`, `taxes.water`…).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    /// The tariff file is not valid TOML or a value has the wrong type
    /// (message from the TOML parser, with line and column).
    #[error("{0}")]
    Syntax(String),
    /// A field (of a tariff file or of the bill input) has an invalid value.
    #[error("campo «{field}»: {message}")]
    Invalid { field: String, message: String },
    /// The bill input carried no tariff version at all.
    #[error("No se recibió ninguna versión de tarifa para la cuenta.")]
    NoTariffs,
    /// No tariff version is in force on the first day of the period.
    #[error(
        "No hay tarifa vigente para el uso «{use_type}», clase «{class}» al {}: la versión más antigua recibida empieza después.",
        fecha_es(*date)
    )]
    NoTariffInForce {
        use_type: String,
        class: String,
        date: NaiveDate,
    },
    /// A fee was requested but the tariff in force does not define it.
    #[error(
        "La tarifa «{tariff}» no define el cargo de {} (falta `{}` en la tabla [fees]).",
        fee.label_es(),
        fee.as_str()
    )]
    MissingFee { tariff: String, fee: FeeKind },
}

/// Kept for the first slice's callers: tariff errors are [`BillingError`]s.
pub type TariffError = BillingError;

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> BillingError {
    BillingError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

pub(crate) fn mes(month: u32) -> &'static str {
    usize::try_from(month)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| domain::MONTHS_ES.get(i))
        .copied()
        .unwrap_or("")
}

/// "16 de octubre de 2026".
pub(crate) fn fecha_es(d: NaiveDate) -> String {
    format!("{} de {} de {}", d.day(), mes(d.month()), d.year())
}
