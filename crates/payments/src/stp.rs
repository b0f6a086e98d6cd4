//! STP (SPEI): the inbound abono notification, our replies, and the cadena original and
//! `firma` of outbound payment orders (`ordenPago/registra`).
//!
//! Amounts arrive as JSON numbers in pesos (`"monto": 1234.50`). They are read from the
//! raw JSON text straight into a `Decimal` — never through a float — and must have at
//! most two decimals.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDate;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

use crate::{Error, Result};

/// STP's institution id (Banxico) for SPEI.
pub const INSTITUCION_STP: &str = "90646";

/// An inbound SPEI deposit (abono) as STP notifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abono {
    /// STP's id of the abono: the idempotency key.
    pub id: String,
    pub fecha_operacion: NaiveDate,
    pub institucion_ordenante: String,
    pub clave_rastreo: String,
    pub monto: Decimal,
    /// `monto` in centavos (exact: at most two decimals are accepted).
    pub centavos: i64,
    pub nombre_ordenante: String,
    pub cuenta_ordenante: String,
    /// The CLABE the money was sent to (ours: it names the contract).
    pub cuenta_beneficiario: String,
    pub concepto_pago: String,
    pub referencia_numerica: Option<String>,
    /// Present when the abono is a CoDi payment.
    pub folio_codi: Option<String>,
    /// Settlement time, epoch milliseconds.
    pub ts_liquidacion: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    fecha_operacion: &'a RawValue,
    institucion_ordenante: &'a RawValue,
    clave_rastreo: String,
    monto: &'a RawValue,
    #[serde(default)]
    nombre_ordenante: Option<String>,
    #[serde(default)]
    cuenta_ordenante: Option<String>,
    cuenta_beneficiario: String,
    #[serde(default)]
    concepto_pago: Option<String>,
    #[serde(default)]
    referencia_numerica: Option<&'a RawValue>,
    #[serde(default)]
    folio_codi: Option<String>,
    #[serde(default)]
    ts_liquidacion: Option<&'a RawValue>,
}

/// A JSON scalar (number or string) as its text.
fn scalar(v: &RawValue) -> String {
    let t = v.get().trim();
    t.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t)
        .to_string()
}

impl Abono {
    pub fn parse(body: &str) -> Result<Abono> {
        let r: Raw<'_> = serde_json::from_str(body)
            .map_err(|e| Error::invalid("abono", format!("JSON no válido: {e}")))?;
        let monto_text = scalar(r.monto);
        let monto: Decimal = monto_text
            .parse()
            .map_err(|_| Error::invalid("monto", format!("«{monto_text}» no es un importe")))?;
        if monto <= Decimal::ZERO || monto.scale() > 2 {
            return Err(Error::invalid(
                "monto",
                format!("«{monto_text}» debe ser mayor que cero y con a lo más 2 decimales"),
            ));
        }
        let centavos = (monto * Decimal::from(100))
            .to_i64()
            .filter(|c| *c <= 100_000_000_000_000)
            .ok_or_else(|| {
                Error::invalid("monto", format!("«{monto_text}» es demasiado grande"))
            })?;
        let fecha = scalar(r.fecha_operacion);
        let fecha_operacion = NaiveDate::parse_from_str(&fecha, "%Y%m%d")
            .map_err(|_| Error::invalid("fechaOperacion", format!("«{fecha}» no es AAAAMMDD")))?;
        let id = scalar(r.id);
        if id.is_empty() {
            return Err(Error::invalid("id", "falta el id del abono"));
        }
        Ok(Abono {
            id,
            fecha_operacion,
            institucion_ordenante: scalar(r.institucion_ordenante),
            clave_rastreo: r.clave_rastreo,
            monto,
            centavos,
            nombre_ordenante: r.nombre_ordenante.unwrap_or_default(),
            cuenta_ordenante: r.cuenta_ordenante.unwrap_or_default(),
            cuenta_beneficiario: r.cuenta_beneficiario,
            concepto_pago: r.concepto_pago.unwrap_or_default(),
            referencia_numerica: r.referencia_numerica.map(scalar).filter(|s| s != "null"),
            folio_codi: r.folio_codi.filter(|s| !s.is_empty()),
            ts_liquidacion: r.ts_liquidacion.and_then(|v| scalar(v).parse().ok()),
        })
    }

    /// The key that makes applying this abono idempotent.
    pub fn dedupe_key(&self) -> String {
        format!("stp:{}", self.id)
    }
}

/// Why we return an abono to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Devolucion {
    /// 1: the CLABE is not one of ours (or fails its check digit).
    CuentaInexistente,
    /// 2: the account is blocked or the amount is over its limit.
    CuentaBloqueada,
}

/// Our answer to an abono: accept it, or have STP return it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Confirmar,
    Devolver(Devolucion),
}

impl Reply {
    pub fn http_status(self) -> u16 {
        match self {
            Reply::Confirmar => 200,
            Reply::Devolver(_) => 400,
        }
    }

    pub fn body(self) -> String {
        match self {
            Reply::Confirmar => r#"{"mensaje":"confirmar"}"#.into(),
            Reply::Devolver(d) => {
                let id = match d {
                    Devolucion::CuentaInexistente => 1,
                    Devolucion::CuentaBloqueada => 2,
                };
                format!(r#"{{"mensaje":"devolver","id":{id}}}"#)
            }
        }
    }
}

/// Text as STP accepts it: ASCII without accents, at most `max` characters.
pub fn texto(s: &str, max: usize) -> String {
    s.nfd()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

/// An outbound payment order, the 34 fields of STP's cadena original in their order
/// (absent = empty). Amounts are written with exactly two decimals; enums as numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrdenPago {
    pub institucion_contraparte: String,
    pub empresa: String,
    pub fecha_operacion: String,
    pub folio_origen: String,
    pub clave_rastreo: String,
    pub institucion_operante: String,
    pub monto: Option<Decimal>,
    pub tipo_pago: String,
    pub tipo_cuenta_ordenante: String,
    pub nombre_ordenante: String,
    pub cuenta_ordenante: String,
    pub rfc_curp_ordenante: String,
    pub tipo_cuenta_beneficiario: String,
    pub nombre_beneficiario: String,
    pub cuenta_beneficiario: String,
    pub rfc_curp_beneficiario: String,
    pub email_beneficiario: String,
    pub tipo_cuenta_beneficiario2: String,
    pub nombre_beneficiario2: String,
    pub cuenta_beneficiario2: String,
    pub rfc_curp_beneficiario2: String,
    pub concepto_pago: String,
    pub concepto_pago2: String,
    pub clave_cat_usuario1: String,
    pub clave_cat_usuario2: String,
    pub clave_pago: String,
    pub referencia_cobranza: String,
    pub referencia_numerica: String,
    pub tipo_operacion: String,
    pub topologia: String,
    pub usuario: String,
    pub medio_entrega: String,
    pub prioridad: String,
    pub iva: Option<Decimal>,
}

impl OrdenPago {
    /// `||f1|f2|…|f34||`.
    pub fn cadena_original(&self) -> String {
        let money = |m: &Option<Decimal>| m.map(|d| format!("{:.2}", d)).unwrap_or_default();
        let fields = [
            self.institucion_contraparte.clone(),
            self.empresa.clone(),
            self.fecha_operacion.clone(),
            self.folio_origen.clone(),
            self.clave_rastreo.clone(),
            self.institucion_operante.clone(),
            money(&self.monto),
            self.tipo_pago.clone(),
            self.tipo_cuenta_ordenante.clone(),
            self.nombre_ordenante.clone(),
            self.cuenta_ordenante.clone(),
            self.rfc_curp_ordenante.clone(),
            self.tipo_cuenta_beneficiario.clone(),
            self.nombre_beneficiario.clone(),
            self.cuenta_beneficiario.clone(),
            self.rfc_curp_beneficiario.clone(),
            self.email_beneficiario.clone(),
            self.tipo_cuenta_beneficiario2.clone(),
            self.nombre_beneficiario2.clone(),
            self.cuenta_beneficiario2.clone(),
            self.rfc_curp_beneficiario2.clone(),
            self.concepto_pago.clone(),
            self.concepto_pago2.clone(),
            self.clave_cat_usuario1.clone(),
            self.clave_cat_usuario2.clone(),
            self.clave_pago.clone(),
            self.referencia_cobranza.clone(),
            self.referencia_numerica.clone(),
            self.tipo_operacion.clone(),
            self.topologia.clone(),
            self.usuario.clone(),
            self.medio_entrega.clone(),
            self.prioridad.clone(),
            money(&self.iva),
        ];
        format!("||{}||", fields.join("|"))
    }

    /// `firma`: base64 of the RSA PKCS#1 v1.5 SHA-256 signature of the cadena.
    pub fn firma(&self, key: &RsaPrivateKey) -> String {
        let signer = SigningKey::<Sha256>::new(key.clone());
        B64.encode(signer.sign(self.cadena_original().as_bytes()).to_vec())
    }

    /// Check a `firma` with the company's public key.
    pub fn verify(&self, key: &RsaPublicKey, firma: &str) -> Result<()> {
        let sig = B64
            .decode(firma.trim())
            .map_err(|e| Error::Signature(format!("no es base64: {e}")))?;
        let sig =
            Signature::try_from(sig.as_slice()).map_err(|e| Error::Signature(e.to_string()))?;
        VerifyingKey::<Sha256>::new(key.clone())
            .verify(self.cadena_original().as_bytes(), &sig)
            .map_err(|_| Error::Signature("la firma no corresponde a la orden".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABONO: &str = r#"{"id":3091264,"fechaOperacion":20261124,"institucionOrdenante":40012,
        "institucionBeneficiaria":90646,"claveRastreo":"MBAN01002611240001","monto":1234.50,
        "nombreOrdenante":"JUAN PÉREZ","tipoCuentaOrdenante":40,"cuentaOrdenante":"012180015555555557",
        "rfcCurpOrdenante":"ND","nombreBeneficiario":"CEA QUERETARO","tipoCuentaBeneficiario":40,
        "cuentaBeneficiario":"646180123400000428","nombreBeneficiario2":null,"tipoCuentaBeneficiario2":null,
        "cuentaBeneficiario2":null,"rfcCurpBeneficiario":"ND","conceptoPago":"PAGO AGUA",
        "referenciaNumerica":1234567,"empresa":"CEAQRO","tipoPago":1,"tsLiquidacion":1795543200000,
        "folioCodi":null}"#;

    #[test]
    fn an_abono_keeps_its_amount_exact() {
        let a = Abono::parse(ABONO).expect("parse");
        assert_eq!(a.id, "3091264");
        assert_eq!(a.monto, Decimal::new(123450, 2));
        assert_eq!(a.centavos, 123_450);
        assert_eq!(
            a.fecha_operacion,
            NaiveDate::from_ymd_opt(2026, 11, 24).expect("date")
        );
        assert_eq!(a.institucion_ordenante, "40012");
        assert_eq!(a.referencia_numerica.as_deref(), Some("1234567"));
        assert_eq!(a.folio_codi, None);
        assert_eq!(a.dedupe_key(), "stp:3091264");
        // Amounts a float would blur stay exact.
        let a = Abono::parse(&ABONO.replace("1234.50", "0.29")).expect("parse");
        assert_eq!(a.centavos, 29);
        let a = Abono::parse(&ABONO.replace("1234.50", "9999999.99")).expect("parse");
        assert_eq!(a.centavos, 999_999_999);
        let a = Abono::parse(&ABONO.replace("1234.50", "15")).expect("parse");
        assert_eq!(a.centavos, 1_500);
    }

    #[test]
    fn bad_abonos_are_refused_with_the_field() {
        for (from, to, field) in [
            ("1234.50", "12.345", "monto"),
            ("1234.50", "-5", "monto"),
            ("1234.50", "0", "monto"),
            ("20261124", "20261324", "fechaOperacion"),
        ] {
            match Abono::parse(&ABONO.replace(from, to)) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field, "{to}"),
                other => panic!("{to}: {other:?}"),
            }
        }
        assert!(Abono::parse("{").is_err());
    }

    #[test]
    fn replies_are_stps_json() {
        assert_eq!(Reply::Confirmar.body(), r#"{"mensaje":"confirmar"}"#);
        assert_eq!(Reply::Confirmar.http_status(), 200);
        let r = Reply::Devolver(Devolucion::CuentaInexistente);
        assert_eq!(r.body(), r#"{"mensaje":"devolver","id":1}"#);
        assert_eq!(r.http_status(), 400);
    }

    #[test]
    fn the_cadena_original_matches_stps_published_vector() {
        let o = OrdenPago {
            institucion_contraparte: "40072".into(),
            empresa: "TAMIZI".into(),
            clave_rastreo: "CR1564969083".into(),
            institucion_operante: "90646".into(),
            monto: Some(Decimal::new(120, 2)),
            tipo_pago: "1".into(),
            tipo_cuenta_ordenante: "40".into(),
            cuenta_ordenante: "646180110400000007".into(),
            tipo_cuenta_beneficiario: "40".into(),
            nombre_beneficiario: "Ricardo Sanchez".into(),
            cuenta_beneficiario: "072691004495711499".into(),
            rfc_curp_beneficiario: "ND".into(),
            concepto_pago: "Prueba".into(),
            referencia_numerica: "5273144".into(),
            topologia: "T".into(),
            medio_entrega: "3".into(),
            prioridad: "0".into(),
            ..OrdenPago::default()
        };
        assert_eq!(
            o.cadena_original(),
            "||40072|TAMIZI|||CR1564969083|90646|1.20|1|40||646180110400000007||40|Ricardo Sanchez|072691004495711499|ND||||||Prueba||||||5273144||T||3|0|||"
        );
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("key");
        let firma = o.firma(&key);
        o.verify(&key.to_public_key(), &firma).expect("verifies");
        let other = OrdenPago {
            monto: Some(Decimal::new(121, 2)),
            ..o.clone()
        };
        assert!(other.verify(&key.to_public_key(), &firma).is_err());
    }

    #[test]
    fn text_is_ascii_without_accents_and_bounded() {
        assert_eq!(texto("José Núñez Peña", 39), "Jose Nunez Pena");
        assert_eq!(texto(&"A".repeat(50), 39).len(), 39);
    }
}
