//! Staff passwords: argon2id with the crate's default (OWASP-recommended) parameters.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use crate::AuthError;

pub fn hash(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Internal(format!("argon2: {e}")))
}

pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Minimal policy for new staff passwords.
pub fn check_strength(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < 12 {
        return Err(AuthError::field(
            "contrasena",
            "La contraseña debe tener al menos 12 caracteres.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_and_verify() {
        let h = super::hash("correcto-caballo-bateria").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correcto-caballo-bateria", &h));
        assert!(!super::verify("incorrecto", &h));
        assert!(!super::verify("x", "not a hash"));
    }

    #[test]
    fn strength() {
        assert!(super::check_strength("corta").is_err());
        assert!(super::check_strength("suficientemente-larga").is_ok());
    }
}
