/// The one error type of the `auth` crate. `Validation` and `RateLimited` carry a
/// plain-Spanish message meant for the person at the screen.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("{message}")]
    RateLimited { message: String },
    #[error("no autorizado")]
    Unauthorized,
    #[error(transparent)]
    Db(#[from] db::Error),
    #[error("internal: {0}")]
    Internal(String),
}

impl AuthError {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        AuthError::Validation {
            field,
            message: message.into(),
        }
    }
}

impl From<domain::InvalidValue> for AuthError {
    fn from(e: domain::InvalidValue) -> Self {
        let field = match e.field.as_str() {
            "contrato" => "contrato",
            "correo" => "correo",
            "telefono" => "telefono",
            _ => "valor",
        };
        AuthError::Validation {
            field,
            message: e.message,
        }
    }
}
