//! Certificado de Sello Digital: the issuer's X.509 certificate (`.cer`, DER) and its
//! RSA private key (`.key`, PKCS#8 `EncryptedPrivateKeyInfo`, DER, password-protected).
//!
//! The sello is RSA PKCS#1 v1.5 with SHA-256 over the UTF-8 cadena original, in base64.
//! NoCertificado is the certificate's serial number, whose bytes are 20 ASCII digits.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::Certificate as X509;
use x509_cert::der::{Decode, Encode};

use crate::model::Comprobante;
use crate::{Error, Result};

/// OID of x500UniqueIdentifier, where SAT writes "RFC / RFC del representante".
const OID_UNIQUE_ID: &str = "2.5.4.45";
/// OID of organizationName (the taxpayer's name as registered).
const OID_ORGANIZATION: &str = "2.5.4.10";
/// OID of commonName.
const OID_COMMON_NAME: &str = "2.5.4.3";

/// A parsed issuer certificate.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    no_certificado: String,
    rfc: String,
    name: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    public_key: RsaPublicKey,
    issuer_name: String,
    serial_decimal: String,
}

impl Certificate {
    /// Parse a `.cer` (DER).
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        let bad = |e: &dyn std::fmt::Display| Error::Certificate(e.to_string());
        let cert = X509::from_der(der).map_err(|e| bad(&e))?;
        let tbs = &cert.tbs_certificate;
        let serial = tbs.serial_number.as_bytes();
        let no_certificado = std::str::from_utf8(serial)
            .ok()
            .filter(|s| s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                Error::Certificate(
                    "el número de serie no son 20 dígitos ASCII (¿es un certificado del SAT?)"
                        .into(),
                )
            })?
            .to_string();
        let mut rfc = None;
        let mut organization = None;
        let mut common_name = None;
        for rdn in tbs.subject.0.iter() {
            for atv in rdn.0.iter() {
                let oid = atv.oid.to_string();
                let text = std::str::from_utf8(atv.value.value()).ok().map(str::trim);
                match oid.as_str() {
                    OID_UNIQUE_ID => {
                        rfc = text
                            .and_then(|t| t.split('/').next())
                            .map(|t| t.trim().to_string())
                    }
                    OID_ORGANIZATION => organization = text.map(str::to_string),
                    OID_COMMON_NAME => common_name = text.map(str::to_string),
                    _ => {}
                }
            }
        }
        let rfc = rfc.ok_or_else(|| Error::Certificate("no trae el RFC del titular".into()))?;
        let name = organization.or(common_name).unwrap_or_default();
        let spki = tbs.subject_public_key_info.to_der().map_err(|e| bad(&e))?;
        let public_key = RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| Error::Certificate(format!("la llave pública no es RSA: {e}")))?;
        let time = |t: x509_cert::time::Time| {
            DateTime::<Utc>::from_timestamp(t.to_unix_duration().as_secs() as i64, 0)
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        Ok(Certificate {
            der: der.to_vec(),
            no_certificado,
            rfc,
            name,
            not_before: time(tbs.validity.not_before),
            not_after: time(tbs.validity.not_after),
            public_key,
            issuer_name: tbs.issuer.to_string(),
            serial_decimal: rsa::BigUint::from_bytes_be(serial).to_string(),
        })
    }

    /// The 20-digit NoCertificado.
    pub fn no_certificado(&self) -> &str {
        &self.no_certificado
    }

    /// The certificate in base64 (the `Certificado` attribute).
    pub fn base64(&self) -> String {
        B64.encode(&self.der)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The holder's RFC.
    pub fn rfc(&self) -> &str {
        &self.rfc
    }

    /// The holder's name as in the certificate (may include the régimen de capital).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn not_before(&self) -> DateTime<Utc> {
        self.not_before
    }

    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    /// True when the certificate expires within `days` of `now` (or has expired).
    pub fn expires_within(&self, now: DateTime<Utc>, days: i64) -> bool {
        self.not_after - now <= chrono::Duration::days(days)
    }

    /// The issuer's distinguished name (RFC 4514), for XMLDSig's X509IssuerName.
    pub fn issuer_name(&self) -> &str {
        &self.issuer_name
    }

    /// The serial number as a decimal integer, for XMLDSig's X509SerialNumber.
    pub fn serial_decimal(&self) -> &str {
        &self.serial_decimal
    }

    /// Verify a base64 RSA-SHA1 signature (XMLDSig's rsa-sha1, used by SAT's
    /// cancellation requests).
    pub fn verify_sha1(&self, data: &[u8], signature_b64: &str) -> Result<()> {
        let sig = B64
            .decode(signature_b64.trim())
            .map_err(|e| Error::Sello(format!("no es base64: {e}")))?;
        let digest = Sha1::digest(data);
        self.public_key
            .verify(Pkcs1v15Sign::new::<Sha1>(), &digest, &sig)
            .map_err(|_| Error::Sello("la firma no corresponde al documento".into()))
    }

    /// Verify a base64 sello over `data` (PKCS#1 v1.5, SHA-256).
    pub fn verify(&self, data: &[u8], sello_b64: &str) -> Result<()> {
        let sig = B64
            .decode(sello_b64.trim())
            .map_err(|e| Error::Sello(format!("no es base64: {e}")))?;
        let digest = Sha256::digest(data);
        self.public_key
            .verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
            .map_err(|_| Error::Sello("no corresponde a la cadena original".into()))
    }
}

/// The issuer's certificate and private key, checked to be a pair.
#[derive(Debug, Clone)]
pub struct Csd {
    certificate: Certificate,
    key: RsaPrivateKey,
}

impl Csd {
    /// From the `.cer` and `.key` bytes and the key's password.
    pub fn from_der(cer: &[u8], key: &[u8], password: &str) -> Result<Csd> {
        let certificate = Certificate::from_der(cer)?;
        let key =
            RsaPrivateKey::from_pkcs8_encrypted_der(key, password.trim_end_matches(['\r', '\n']))
                .map_err(|e| Error::Key(e.to_string()))?;
        Self::new(certificate, key)
    }

    /// From files: the `.cer`, the `.key` and a file holding the password.
    pub fn from_files(cer: &Path, key: &Path, password_file: &Path) -> Result<Csd> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| Error::Io {
                path: p.display().to_string(),
                source,
            })
        };
        let password = String::from_utf8(read(password_file)?)
            .map_err(|_| Error::Key("la contraseña no es texto UTF-8".into()))?;
        Self::from_der(&read(cer)?, &read(key)?, &password)
    }

    /// Pair a certificate with an already decrypted key.
    pub fn new(certificate: Certificate, key: RsaPrivateKey) -> Result<Csd> {
        if key.n() != certificate.public_key.n() || key.e() != certificate.public_key.e() {
            return Err(Error::KeyMismatch);
        }
        Ok(Csd { certificate, key })
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Sign `data`; the sello in base64.
    pub fn sign(&self, data: &[u8]) -> Result<String> {
        let digest = Sha256::digest(data);
        let sig = self
            .key
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .map_err(|e| Error::Sello(e.to_string()))?;
        Ok(B64.encode(sig))
    }

    /// Sign `data` with RSA-SHA1 (XMLDSig's rsa-sha1); base64.
    pub fn sign_sha1(&self, data: &[u8]) -> Result<String> {
        let digest = Sha1::digest(data);
        let sig = self
            .key
            .sign(Pkcs1v15Sign::new::<Sha1>(), &digest)
            .map_err(|e| Error::Sello(e.to_string()))?;
        Ok(B64.encode(sig))
    }

    /// The document's issuer must be the certificate's holder and its Fecha inside the
    /// certificate's validity.
    pub fn check_issuer(&self, c: &Comprobante) -> Result<()> {
        if c.emisor.rfc.as_str() != self.certificate.rfc {
            return Err(Error::NotCovered(format!(
                "el RFC del emisor {} no es el del certificado {}",
                c.emisor.rfc.as_str(),
                self.certificate.rfc
            )));
        }
        let at = c.fecha.with_timezone(&Utc);
        if at < self.certificate.not_before || at > self.certificate.not_after {
            return Err(Error::NotCovered(format!(
                "la fecha {} está fuera de la vigencia del certificado ({} a {})",
                crate::xml::fecha(c.fecha),
                self.certificate.not_before.format("%Y-%m-%d"),
                self.certificate.not_after.format("%Y-%m-%d")
            )));
        }
        Ok(())
    }
}

/// A self-made CSD for a demo utility or a simulator: RSA-2048, self-signed, the serial
/// is `no_certificado` as ASCII digits, and the subject carries the RFC where SAT puts it
/// (x500UniqueIdentifier) and says plainly that SAT did not issue it. Returns the
/// certificate (DER) and the key as PKCS#8 encrypted with `password` (DER), the same
/// shapes as the `.cer` and `.key` files SAT hands out.
pub fn generate_self_signed(
    rfc: &str,
    name: &str,
    no_certificado: &str,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    password: &str,
) -> Result<(Vec<u8>, Vec<u8>)> {
    use rsa::pkcs8::EncodePrivateKey;
    use std::str::FromStr;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::name::Name;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::SubjectPublicKeyInfoOwned;
    use x509_cert::time::{Time, Validity};

    let gen_err =
        |e: &dyn std::fmt::Display| Error::Certificate(format!("no se pudo generar: {e}"));
    if no_certificado.len() != 20 || !no_certificado.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid("NoCertificado", "deben ser 20 dígitos"));
    }
    let clean = |s: &str| s.replace([',', '+', '=', '"', '\\', '<', '>', ';', '#'], " ");
    let mut rng = rand::thread_rng();
    let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| gen_err(&e))?;
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
    let spki = SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).map_err(|e| gen_err(&e))?;
    let subject = Name::from_str(&format!(
        "CN={} (CSD de prueba no emitido por el SAT),O={},2.5.4.45={} / ,OU=SUPRA demo",
        clean(name),
        clean(name),
        clean(rfc)
    ))
    .map_err(|e| gen_err(&e))?;
    let time = |t: DateTime<Utc>| {
        let st =
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.timestamp().max(0) as u64);
        Time::try_from(st).map_err(|e| gen_err(&e))
    };
    let validity = Validity {
        not_before: time(not_before)?,
        not_after: time(not_after)?,
    };
    let serial = SerialNumber::new(no_certificado.as_bytes()).map_err(|e| gen_err(&e))?;
    let builder = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signer)
        .map_err(|e| gen_err(&e))?;
    let cert = builder
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|e| gen_err(&e))?;
    let der = cert.to_der().map_err(|e| gen_err(&e))?;
    let key_der = key
        .to_pkcs8_encrypted_der(&mut rng, password)
        .map_err(|e| Error::Key(e.to_string()))?;
    Ok((der, key_der.as_bytes().to_vec()))
}
