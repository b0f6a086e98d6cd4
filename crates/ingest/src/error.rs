use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is wrong with an uplink or a reading (Spanish: staff read these in the
/// quarantine and in CSV reports).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Error {
    #[error("dato inválido en {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
