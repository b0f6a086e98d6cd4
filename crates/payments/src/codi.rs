//! CoDi (Cobro Digital, Banxico): a payment request the payer's banking app reads from
//! a QR code and pays by SPEI. The request carries Banxico's `datosMC` fields — amount,
//! a numeric reference (at most 7 digits), a concept in Banxico's Anexo G character set
//! and an expiry — plus the account to pay: the contract's own CLABE referenciada, so
//! the money lands where SPEI transfers for the contract land and is applied the same
//! way (`folioCodi` marks it as CoDi; `referenciaNumerica` names the request).
//!
//! The QR's text is [`MensajeCobro::qr_text`]. Banxico's registered CoDi participants
//! receive a signed `cadenaMC` for the same fields (its inner layout is not public);
//! when the utility's participant issues it, that string is what the QR carries.

use chrono::{DateTime, Utc};
use domain::{Clabe, Money};
use unicode_normalization::UnicodeNormalization;

use crate::{Error, Result};

/// Longest concept Banxico accepts.
pub const CONCEPTO_LEN: usize = 40;
/// Largest `referenciaNumerica` (7 digits).
pub const MAX_REFERENCIA: u32 = 9_999_999;

/// A CoDi payment request for one amount to one CLABE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MensajeCobro {
    pub monto_centavos: i64,
    pub referencia: u32,
    pub concepto: String,
    pub vigencia: Option<DateTime<Utc>>,
    pub cuenta: Clabe,
    pub beneficiario: String,
}

/// Banxico Anexo G: A–Z a–z 0–9 space ! " # $ % & ' ( ) * + , - . / : ; ? @ \ _ and
/// á é í ó ú ñ Ñ ¿ ¡. Anything else becomes its unaccented letter or a space.
pub fn concepto(text: &str) -> String {
    const EXTRA: &str = "áéíóúñÑ¿¡";
    const PUNCT: &str = "!\"#$%&'()*+,-./:;?@\\_ ";
    let kept: String = text
        .chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || PUNCT.contains(c) || EXTRA.contains(c) {
                vec![c]
            } else {
                // É → E, ü → u; other symbols → space.
                let base: Vec<char> = c.nfd().filter(char::is_ascii_alphanumeric).collect();
                if base.is_empty() { vec![' '] } else { base }
            }
        })
        .collect();
    kept.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(CONCEPTO_LEN)
        .collect()
}

impl MensajeCobro {
    pub fn new(
        monto_centavos: i64,
        referencia: u32,
        concepto_text: &str,
        vigencia: Option<DateTime<Utc>>,
        cuenta: Clabe,
        beneficiario: &str,
    ) -> Result<MensajeCobro> {
        if monto_centavos <= 0 {
            return Err(Error::invalid(
                "monto",
                "el importe debe ser mayor que cero",
            ));
        }
        if referencia == 0 || referencia > MAX_REFERENCIA {
            return Err(Error::invalid(
                "referencia",
                "la referencia numérica tiene de 1 a 7 dígitos",
            ));
        }
        let text = concepto(concepto_text);
        if text.is_empty() {
            return Err(Error::invalid("concepto", "falta el concepto del cobro"));
        }
        Ok(MensajeCobro {
            monto_centavos,
            referencia,
            concepto: text,
            vigencia,
            cuenta,
            beneficiario: concepto(beneficiario),
        })
    }

    /// The text the QR code carries: Banxico's `datosMC` names, amount in pesos with
    /// two decimals, `vigencia` in epoch milliseconds (0 = no expiry).
    pub fn qr_text(&self) -> String {
        let monto = Money::from_centavos(self.monto_centavos);
        serde_json::json!({
            "TYP": "CoDi",
            "datosMC": {
                "monto": format!("{}", monto.amount().round_dp(2)),
                "referenciaNumerica": self.referencia.to_string(),
                "concepto": self.concepto,
                "vigencia": self.vigencia.map_or(0, |v| v.timestamp_millis()),
            },
            "cuentaBeneficiario": self.cuenta.as_str(),
            "nombreBeneficiario": self.beneficiario,
        })
        .to_string()
    }
}

/// A QR code of `text` as a grayscale PNG, `module_px` pixels per module with the
/// standard 4-module quiet zone (error correction M, like bank apps expect).
pub fn qr_png(text: &str, module_px: u32) -> Result<Vec<u8>> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| Error::invalid("qr", e.to_string()))?;
    let n = code.width();
    let colors = code.to_colors();
    let px = module_px.clamp(1, 20) as usize;
    let quiet = 4;
    let side = (n + 2 * quiet) * px;
    let mut image = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i % n + quiet, i / n + quiet);
            for y in my * px..(my + 1) * px {
                image[y * side + mx * px..y * side + (mx + 1) * px].fill(0);
            }
        }
    }
    let side32 = u32::try_from(side).map_err(|_| Error::invalid("qr", "demasiado grande"))?;
    crate::barcode::gray_png(side32, side32, &image).map_err(|e| Error::invalid("qr", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clabe() -> Clabe {
        "646180110400000007".parse::<Clabe>().expect("valid")
    }

    #[test]
    fn the_concept_keeps_banxicos_characters_only() {
        assert_eq!(
            concepto("Agua — contrato 100428 (nov.)"),
            "Agua contrato 100428 (nov.)"
        );
        assert_eq!(concepto("Niño Ñandú ¿ok?"), "Niño Ñandú ¿ok?");
        assert_eq!(concepto("Émile Ünger"), "Emile Unger");
        assert_eq!(concepto(&"x".repeat(60)).len(), CONCEPTO_LEN);
    }

    #[test]
    fn bad_requests_are_refused() {
        assert!(MensajeCobro::new(0, 1, "Agua", None, clabe(), "CEA").is_err());
        assert!(MensajeCobro::new(100, 0, "Agua", None, clabe(), "CEA").is_err());
        assert!(MensajeCobro::new(100, 10_000_000, "Agua", None, clabe(), "CEA").is_err());
        assert!(MensajeCobro::new(100, 5, "—", None, clabe(), "CEA").is_err());
    }

    /// The PNG decodes (with an independent QR reader) to the request's text, which
    /// names the amount, reference and CLABE.
    #[test]
    fn the_qr_reads_back() {
        let vigencia = DateTime::<Utc>::from_timestamp(1_795_543_200, 0);
        let m = MensajeCobro::new(
            25_050,
            5_273_144,
            "Agua contrato 100428",
            vigencia,
            clabe(),
            "CEA Querétaro",
        )
        .expect("valid");
        let text = m.qr_text();
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["datosMC"]["monto"], "250.50");
        assert_eq!(v["datosMC"]["referenciaNumerica"], "5273144");
        assert_eq!(v["datosMC"]["vigencia"], 1_795_543_200_000_i64);
        assert_eq!(v["cuentaBeneficiario"], "646180110400000007");
        let png = qr_png(&text, 4).expect("png");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        let (w, h) = (info.width as usize, info.height as usize);
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().expect("decodes");
        assert_eq!(content, text);
    }
}
