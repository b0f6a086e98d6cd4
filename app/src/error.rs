use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// The one error type of server functions. Messages are plain Spanish for the person
/// at the screen; `field` names the form field the message belongs next to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    TooMany(String),
    #[error("Tu sesión terminó. Vuelve a entrar.")]
    Unauthorized,
    #[error("No tienes permiso para ver esto.")]
    Forbidden,
    #[error("No encontramos lo que buscas.")]
    NotFound,
    /// The request never reached the server (no signal): the client falls back to
    /// what it saved.
    #[error("Sin conexión. Revisa tu señal e inténtalo de nuevo.")]
    Offline,
    #[error("Algo salió mal de nuestro lado. Inténtalo de nuevo en unos minutos.")]
    Internal,
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The message for `field`, if this error belongs to it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// A message not tied to one field (shown above the form).
    pub fn general(&self) -> Option<String> {
        match self {
            AppError::Invalid { .. } => None,
            other => Some(other.to_string()),
        }
    }

    /// HTTP status for the response carrying this error (never 500 for bad input).
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } => 422,
            AppError::TooMany(_) => 429,
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Offline => 503,
            AppError::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => AppError::Offline,
            // Arguments that do not even deserialize are bad input, not a crash.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => AppError::invalid(
                "form",
                "Faltan datos en el formulario. Revísalo e inténtalo de nuevo.",
            ),
            _ => AppError::Internal,
        }
    }
}
