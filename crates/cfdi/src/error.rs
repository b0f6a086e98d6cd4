use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong building or sealing a CFDI. Messages are Spanish because
/// staff read them in the CFDI queue.
#[derive(Debug, Error)]
pub enum Error {
    /// A value that SAT's rules do not allow (field name, reason).
    #[error("dato inválido en {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The certificate (.cer) could not be read.
    #[error("certificado (.cer) ilegible: {0}")]
    Certificate(String),
    /// The private key (.key) could not be read or decrypted.
    #[error("llave privada (.key) ilegible o contraseña incorrecta: {0}")]
    Key(String),
    /// The .cer and .key are not a pair.
    #[error("la llave privada no corresponde al certificado")]
    KeyMismatch,
    /// The document's issuer or date does not fit the certificate.
    #[error("el CSD no sirve para este comprobante: {0}")]
    NotCovered(String),
    /// Signing failed, or a sello does not verify.
    #[error("sello inválido: {0}")]
    Sello(String),
    /// Reading a CSD file failed.
    #[error("no se pudo leer {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
