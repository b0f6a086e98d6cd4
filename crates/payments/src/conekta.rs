//! Conekta webhooks: the signature and the fields we act on.
//!
//! Conekta signs each webhook with the RSA key whose public half it gave us when the
//! webhook key was created (`POST /webhook_keys`): header `digest` = base64 of an
//! RSASSA-PKCS1-v1_5 SHA-256 signature over the exact raw body. The body is verified
//! before it is parsed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::Value;
use sha2::Sha256;

use crate::{Error, Result};

/// The webhook public key (PEM: SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY").
pub fn public_key(pem: &str) -> Result<RsaPublicKey> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|e| Error::Signature(format!("llave pública de Conekta ilegible: {e}")))
}

/// Verify the `digest` header over the raw body.
pub fn verify(key: &RsaPublicKey, digest_header: &str, body: &[u8]) -> Result<()> {
    let sig = B64
        .decode(digest_header.trim())
        .map_err(|_| Error::Signature("el encabezado digest no es base64".into()))?;
    let sig = Signature::try_from(sig.as_slice()).map_err(|e| Error::Signature(e.to_string()))?;
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(body, &sig)
        .map_err(|_| Error::Signature("el digest no corresponde al cuerpo".into()))
}

/// What a webhook event tells us (order- or charge-level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event id: the idempotency key.
    pub id: String,
    /// e.g. `order.paid`, `charge.paid`, `order.expired`, `webhook_ping`.
    pub kind: String,
    /// The order id (`ord_…`), also for charge events.
    pub order_id: Option<String>,
    /// Amount in centavos (Conekta's integers).
    pub amount_centavos: Option<i64>,
    /// `metadata` of the order (our contract / invoice ids live here).
    pub metadata: serde_json::Map<String, Value>,
    /// The cash reference (OXXO) or CLABE (SPEI) of the first charge, if any.
    pub reference: Option<String>,
    pub created_at: Option<i64>,
}

impl Event {
    pub fn parse(body: &[u8]) -> Result<Event> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| Error::invalid("evento", format!("JSON no válido: {e}")))?;
        let str_at = |v: &Value, path: &[&str]| -> Option<String> {
            path.iter()
                .try_fold(v, |v, k| v.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let id =
            str_at(&v, &["id"]).ok_or_else(|| Error::invalid("id", "falta el id del evento"))?;
        let kind = str_at(&v, &["type"])
            .ok_or_else(|| Error::invalid("type", "falta el tipo del evento"))?;
        let object = v
            .get("data")
            .and_then(|d| d.get("object"))
            .cloned()
            .unwrap_or(Value::Null);
        let is_order = str_at(&object, &["object"]).as_deref() == Some("order");
        let order_id = if is_order {
            str_at(&object, &["id"])
        } else {
            str_at(&object, &["order_id"])
        };
        let amount_centavos = match object.get("amount") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| {
                Error::invalid("amount", "Conekta manda centavos enteros; llegó otra cosa")
            })?),
            Some(_) => return Err(Error::invalid("amount", "no es un número")),
        };
        let charge = if is_order {
            object
                .get("charges")
                .and_then(|c| c.get("data"))
                .and_then(|d| d.get(0))
                .cloned()
                .unwrap_or(Value::Null)
        } else {
            object.clone()
        };
        let reference = str_at(&charge, &["payment_method", "reference"])
            .or_else(|| str_at(&charge, &["payment_method", "clabe"]));
        Ok(Event {
            id,
            kind,
            order_id,
            amount_centavos,
            metadata: object
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            reference,
            created_at: v.get("created_at").and_then(Value::as_i64),
        })
    }

    /// The key that makes applying this event idempotent.
    pub fn dedupe_key(&self) -> String {
        format!("conekta:{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPrivateKey;
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::signature::{SignatureEncoding, Signer};

    const ORDER_PAID: &str = r#"{"id":"evt_2vXyz","type":"order.paid","livemode":false,
        "created_at":1795543200,"data":{"object":{"id":"ord_2vAbc","object":"order",
        "amount":45050,"currency":"MXN","payment_status":"paid",
        "metadata":{"contrato":"100428","recibo":"7781"},
        "charges":{"data":[{"id":"ch_1","object":"charge","amount":45050,"status":"paid",
        "payment_method":{"object":"cash_payment","type":"oxxo","reference":"93000262276908"}}]}},
        "previous_attributes":{}}}"#;

    #[test]
    fn a_signed_body_verifies_and_any_change_does_not() {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("key");
        let pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("pem");
        let public = public_key(&pem).expect("load");
        let digest = B64.encode(
            SigningKey::<Sha256>::new(key.clone())
                .sign(ORDER_PAID.as_bytes())
                .to_vec(),
        );
        verify(&public, &digest, ORDER_PAID.as_bytes()).expect("verifies");
        let tampered = ORDER_PAID.replace("45050", "95050");
        assert!(verify(&public, &digest, tampered.as_bytes()).is_err());
        assert!(verify(&public, "no-base64!", ORDER_PAID.as_bytes()).is_err());
        let other = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("key");
        let forged = B64.encode(
            SigningKey::<Sha256>::new(other)
                .sign(ORDER_PAID.as_bytes())
                .to_vec(),
        );
        assert!(verify(&public, &forged, ORDER_PAID.as_bytes()).is_err());
        assert!(public_key("-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----").is_err());
    }

    #[test]
    fn an_order_event_gives_amount_reference_and_metadata() {
        let e = Event::parse(ORDER_PAID.as_bytes()).expect("parse");
        assert_eq!(e.id, "evt_2vXyz");
        assert_eq!(e.kind, "order.paid");
        assert_eq!(e.order_id.as_deref(), Some("ord_2vAbc"));
        assert_eq!(e.amount_centavos, Some(45_050));
        assert_eq!(e.reference.as_deref(), Some("93000262276908"));
        assert_eq!(
            e.metadata.get("contrato").and_then(Value::as_str),
            Some("100428")
        );
        assert_eq!(e.dedupe_key(), "conekta:evt_2vXyz");
        // A fractional amount is not Conekta's format: refused, not rounded.
        let bad = ORDER_PAID.replace(
            "\"amount\":45050,\"currency\"",
            "\"amount\":450.5,\"currency\"",
        );
        assert!(Event::parse(bad.as_bytes()).is_err());
    }
}
