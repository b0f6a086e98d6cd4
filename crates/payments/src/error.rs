use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can be wrong with a payment or a provider's message. Spanish: staff read these
/// in the unmatched queue and providers' payloads are logged with them.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Error {
    #[error("dato inválido en {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("firma inválida: {0}")]
    Signature(String),
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
