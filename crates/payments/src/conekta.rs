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

/// Conekta's side of the signature, for the simulator and tests: a webhook key pair
/// whose public half is handed out as PEM (like `POST /webhook_keys`).
pub struct WebhookSigner {
    key: rsa::pkcs1v15::SigningKey<Sha256>,
    public_pem: String,
}

impl WebhookSigner {
    /// A fresh 2048-bit key.
    pub fn generate() -> Result<WebhookSigner> {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .map_err(|e| Error::Signature(e.to_string()))?;
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::Signature(e.to_string()))?;
        Ok(WebhookSigner {
            key: rsa::pkcs1v15::SigningKey::<Sha256>::new(private),
            public_pem,
        })
    }

    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The `digest` header for `body`.
    pub fn sign(&self, body: &[u8]) -> String {
        use rsa::signature::{SignatureEncoding, Signer};
        B64.encode(self.key.sign(body).to_vec())
    }
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

    /// Whether the event says money arrived (order- or charge-level).
    pub fn is_paid(&self) -> bool {
        matches!(self.kind.as_str(), "order.paid" | "charge.paid")
    }

    /// The key that makes applying a payment idempotent: the order, not the event —
    /// Conekta reports one payment with both `charge.paid` and `order.paid`, each
    /// with its own event id, and may deliver either more than once.
    pub fn payment_key(&self) -> Option<String> {
        self.order_id.as_ref().map(|o| format!("conekta:{o}"))
    }
}

/// The most a single OXXO reference may collect (Conekta's cash limit), in centavos.
pub const OXXO_MAX_CENTAVOS: i64 = 1_000_000;

/// `POST /orders`: what we ask Conekta for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderRequest {
    pub currency: String,
    pub customer_info: CustomerInfo,
    pub line_items: Vec<LineItem>,
    /// Our ids (tenant, contract, bill): scalar values only.
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
    pub charges: Vec<ChargeRequest>,
    /// 3-D Secure for card charges: `smart` | `strict` | `not_strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub three_ds_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomerInfo {
    pub name: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineItem {
    pub name: String,
    /// Centavos.
    pub unit_price: i64,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChargeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    pub payment_method: MethodRequest,
}

/// The payment method of a charge request (`type` tagged, Conekta 2.x names).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MethodRequest {
    /// OXXO and other cash stores; `expires_at` in Unix seconds.
    #[serde(alias = "oxxo_cash")]
    Cash {
        expires_at: i64,
    },
    Spei {
        expires_at: i64,
    },
    /// A single-use token made in the browser by Conekta's JS (`tok_…`).
    Card {
        token_id: String,
    },
}

impl OrderRequest {
    /// One order for `amount_centavos` paid with `method`, described by `concept`.
    pub fn new(
        customer: CustomerInfo,
        concept: &str,
        amount_centavos: i64,
        method: MethodRequest,
        metadata: serde_json::Map<String, Value>,
    ) -> Result<OrderRequest> {
        if amount_centavos <= 0 {
            return Err(Error::invalid("importe", "debe ser mayor que cero"));
        }
        if matches!(method, MethodRequest::Cash { .. }) && amount_centavos > OXXO_MAX_CENTAVOS {
            return Err(Error::invalid(
                "importe",
                "en OXXO se pagan hasta $10,000.00 por referencia",
            ));
        }
        let three_ds = matches!(method, MethodRequest::Card { .. });
        Ok(OrderRequest {
            currency: "MXN".into(),
            customer_info: customer,
            line_items: vec![LineItem {
                name: concept.chars().take(250).collect(),
                unit_price: amount_centavos,
                quantity: 1,
            }],
            metadata,
            charges: vec![ChargeRequest {
                amount: None,
                payment_method: method,
            }],
            three_ds_mode: three_ds.then(|| "smart".to_string()),
            return_url: None,
        })
    }

    /// The order total: Σ unit_price × quantity (centavos).
    pub fn total_centavos(&self) -> i64 {
        self.line_items
            .iter()
            .map(|l| l.unit_price * i64::from(l.quantity))
            .sum()
    }
}

/// An order as Conekta returns it (the fields we use).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    pub id: String,
    #[serde(default = "order_object")]
    pub object: String,
    /// Centavos.
    pub amount: i64,
    pub currency: String,
    /// pending_payment, paid, expired, canceled, declined, refunded, …
    pub payment_status: String,
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
    pub charges: ChargeList,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_action: Option<NextAction>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub livemode: bool,
}

fn order_object() -> String {
    "order".into()
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChargeList {
    #[serde(default = "list_object")]
    pub object: String,
    pub data: Vec<Charge>,
}

fn list_object() -> String {
    "list".into()
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Charge {
    pub id: String,
    #[serde(default)]
    pub object: String,
    pub amount: i64,
    /// pending_payment, paid, declined, expired, …
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    pub payment_method: ChargeMethod,
}

/// `charge.payment_method` in a response: cash (`cash_payment`), SPEI
/// (`bank_transfer_payment`) or card (`card_payment`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChargeMethod {
    #[serde(default)]
    pub object: String,
    /// `oxxo`, `cash`, `spei`, `credit`, `debit`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clabe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NextAction {
    #[serde(rename = "type")]
    pub kind: String,
    pub redirect_to_url: RedirectToUrl,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RedirectToUrl {
    pub url: String,
    pub return_url: String,
}

impl Order {
    pub fn first_charge(&self) -> Option<&Charge> {
        self.charges.data.first()
    }
    pub fn is_paid(&self) -> bool {
        self.payment_status == "paid"
    }
}

/// Conekta's error body (`object: "error"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiError {
    #[serde(default = "error_object")]
    pub object: String,
    /// `parameter_validation_error`, `processing_error`, `authentication_error`, …
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub log_id: String,
    #[serde(default)]
    pub details: Vec<ErrorDetail>,
}

fn error_object() -> String {
    "error".into()
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorDetail {
    /// For the customer (Spanish with `Accept-Language: es`).
    pub message: String,
    #[serde(default)]
    pub debug_message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    #[serde(default)]
    pub code: String,
}

/// `POST /webhook_keys` answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookKey {
    pub id: String,
    #[serde(default)]
    pub active: bool,
    pub public_key: String,
    #[serde(default)]
    pub created_at: i64,
}

/// `POST /tokens` (made by Conekta.js in the citizen's browser with the public key):
/// the card as typed. It never reaches our server — only the answer's `id` does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenRequest {
    pub card: CardDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CardDetails {
    pub number: String,
    pub name: String,
    pub exp_month: String,
    pub exp_year: String,
    pub cvc: String,
}

/// `POST /tokens` answer: a single-use token (`tok_…`) to charge with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Token {
    pub id: String,
    pub object: String,
    #[serde(default)]
    pub used: bool,
    #[serde(default)]
    pub livemode: bool,
}

/// Conekta.js reports a refused card to the page as this (`message_to_purchaser` is
/// Spanish and meant for the payer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenError {
    pub object: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub message_to_purchaser: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    #[serde(default)]
    pub code: String,
}

/// Where the citizen's browser tokenizes cards: Conekta.js and the public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// `key_…` public key (safe to show; it can only make tokens).
    pub public_key: String,
    /// Conekta.js, e.g. `https://cdn.conekta.io/js/latest/conekta.js`.
    pub script_url: String,
}

/// Conekta's published Conekta.js.
pub const CONEKTA_JS: &str = "https://cdn.conekta.io/js/latest/conekta.js";

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
        assert_eq!(e.payment_key().as_deref(), Some("conekta:ord_2vAbc"));
        assert!(e.is_paid());
        // A fractional amount is not Conekta's format: refused, not rounded.
        let bad = ORDER_PAID.replace(
            "\"amount\":45050,\"currency\"",
            "\"amount\":450.5,\"currency\"",
        );
        assert!(Event::parse(bad.as_bytes()).is_err());
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    /// An OXXO order as Conekta's API reference shows it (2.x), trimmed.
    const OXXO_ORDER: &str = r#"{"livemode":false,"amount":45050,"currency":"MXN",
        "payment_status":"pending_payment","amount_refunded":0,
        "customer_info":{"email":"ana@example.com","phone":"+524421234567","name":"Ana","object":"customer_info"},
        "object":"order","id":"ord_2tUigJ8DgBhbp6w5D","metadata":{"contrato":"100428"},
        "created_at":1795543200,"updated_at":1795543200,
        "line_items":{"object":"list","has_more":false,"total":1,"data":[{"name":"Recibo","unit_price":45050,"quantity":1,"object":"line_item","id":"line_item_2tUigJ8DgBhbp6w5C","parent_id":"ord_2tUigJ8DgBhbp6w5D","metadata":{},"antifraud_info":{}}]},
        "charges":{"object":"list","has_more":false,"total":1,"data":[{"id":"5b3a5d62e0bb2c0e9df6e7d7",
          "livemode":false,"created_at":1795543200,"currency":"MXN","device_fingerprint":null,
          "payment_method":{"service_name":"OxxoPay","barcode_url":"https://s3.amazonaws.com/cash_payment_barcodes/93000262276908.png",
          "object":"cash_payment","type":"oxxo","expires_at":1798135200,"store_name":"OXXO","reference":"93000262276908"},
          "object":"charge","description":"Payment from order","status":"pending_payment","amount":45050,
          "fee":1740,"customer_id":"","order_id":"ord_2tUigJ8DgBhbp6w5D"}]}}"#;

    #[test]
    fn conektas_oxxo_order_reads() {
        let o: Order = serde_json::from_str(OXXO_ORDER).expect("order");
        assert_eq!(o.id, "ord_2tUigJ8DgBhbp6w5D");
        assert_eq!(o.amount, 45_050);
        assert!(!o.is_paid());
        let c = o.first_charge().expect("charge");
        assert_eq!(c.payment_method.object, "cash_payment");
        assert_eq!(c.payment_method.kind, "oxxo");
        assert_eq!(
            c.payment_method.reference.as_deref(),
            Some("93000262276908")
        );
        assert_eq!(c.payment_method.expires_at, Some(1_798_135_200));
    }

    #[test]
    fn an_oxxo_request_is_conektas_shape_and_bounded() {
        let customer = CustomerInfo {
            name: "Ana".into(),
            email: "ana@example.com".into(),
            phone: "+524421234567".into(),
        };
        let r = OrderRequest::new(
            customer.clone(),
            "Recibo 2026-10",
            45_050,
            MethodRequest::Cash {
                expires_at: 1_798_135_200,
            },
            serde_json::Map::new(),
        )
        .expect("request");
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(v["currency"], "MXN");
        assert_eq!(v["line_items"][0]["unit_price"], 45_050);
        assert_eq!(v["charges"][0]["payment_method"]["type"], "cash");
        assert_eq!(
            v["charges"][0]["payment_method"]["expires_at"],
            1_798_135_200
        );
        assert!(v.get("three_ds_mode").is_none());
        assert_eq!(r.total_centavos(), 45_050);
        // The legacy 2.0 name is read too.
        let legacy: MethodRequest =
            serde_json::from_str(r#"{"type":"oxxo_cash","expires_at":1}"#).expect("legacy");
        assert_eq!(legacy, MethodRequest::Cash { expires_at: 1 });
        // Over the OXXO limit, and zero: refused with the reason.
        let over = OrderRequest::new(
            customer.clone(),
            "x",
            OXXO_MAX_CENTAVOS + 1,
            MethodRequest::Cash { expires_at: 1 },
            serde_json::Map::new(),
        );
        assert!(matches!(
            over,
            Err(Error::Invalid {
                field: "importe",
                ..
            })
        ));
        let exactly = OrderRequest::new(
            customer.clone(),
            "x",
            OXXO_MAX_CENTAVOS,
            MethodRequest::Cash { expires_at: 1 },
            serde_json::Map::new(),
        );
        assert!(exactly.is_ok());
        assert!(
            OrderRequest::new(
                customer.clone(),
                "x",
                0,
                MethodRequest::Spei { expires_at: 1 },
                serde_json::Map::new()
            )
            .is_err()
        );
        // A card order asks for 3-D Secure.
        let card = OrderRequest::new(
            customer,
            "x",
            OXXO_MAX_CENTAVOS * 3,
            MethodRequest::Card {
                token_id: "tok_test_visa_4242".into(),
            },
            serde_json::Map::new(),
        )
        .expect("card");
        assert_eq!(card.three_ds_mode.as_deref(), Some("smart"));
    }

    #[test]
    fn conektas_error_body_reads() {
        let e: ApiError = serde_json::from_str(
            r#"{"object":"error","type":"processing_error","log_id":"507f1f77bcf86cd799439011",
            "details":[{"debug_message":"The card was declined.","message":"La tarjeta fue declinada.",
            "code":"conekta.errors.processing.bank.declined"}]}"#,
        )
        .expect("error");
        assert_eq!(e.kind, "processing_error");
        assert_eq!(e.details[0].message, "La tarjeta fue declinada.");
    }
}
