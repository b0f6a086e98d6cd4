//! The TimbreFiscalDigital of a stamped CFDI: its data for the printed representation,
//! the cadena original del complemento de certificación, and SAT's verification URL.

use rust_decimal::Decimal;

use crate::{Error, Result};

/// What the printed representation of a stamped CFDI shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    pub uuid: String,
    pub fecha_timbrado: String,
    pub rfc_prov_certif: String,
    pub no_certificado: String,
    pub no_certificado_sat: String,
    pub sello_cfd: String,
    pub sello_sat: String,
    pub emisor_rfc: String,
    pub receptor_rfc: String,
    pub total: Decimal,
}

impl Stamped {
    /// `||1.1|UUID|FechaTimbrado|RfcProvCertif|[Leyenda|]SelloCFD|NoCertificadoSAT||`
    pub fn cadena_tfd(&self) -> String {
        format!(
            "||1.1|{}|{}|{}|{}|{}||",
            self.uuid,
            self.fecha_timbrado,
            self.rfc_prov_certif,
            self.sello_cfd,
            self.no_certificado_sat
        )
    }

    /// SAT's verification URL (Anexo 20): id, re, rr, tt (the total with up to 6
    /// decimals, trailing zeros dropped) and fe (the last 8 characters of the sello).
    pub fn verification_url(&self) -> String {
        let mut tt = format!("{:.6}", self.total);
        while tt.ends_with('0') && !tt.ends_with(".0") {
            tt.pop();
        }
        let fe: String = {
            let chars: Vec<char> = self.sello_cfd.chars().collect();
            chars[chars.len().saturating_sub(8)..].iter().collect()
        };
        format!(
            "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id={}&re={}&rr={}&tt={tt}&fe={}",
            self.uuid,
            self.emisor_rfc.replace('&', "%26"),
            self.receptor_rfc.replace('&', "%26"),
            fe.replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        )
    }
}

/// Read the stamp of a stamped CFDI.
pub fn parse(xml: &str) -> Result<Stamped> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| Error::invalid("XML", e.to_string()))?;
    let root = doc.root_element();
    let tfd = root
        .descendants()
        .find(|n| n.tag_name().name() == "TimbreFiscalDigital")
        .ok_or_else(|| Error::invalid("TimbreFiscalDigital", "el CFDI no está timbrado"))?;
    let child_attr = |name: &str, attr: &str| {
        root.children()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .and_then(|n| n.attribute(attr))
            .unwrap_or_default()
            .to_string()
    };
    let a = |n: &roxmltree::Node<'_, '_>, k: &str| n.attribute(k).unwrap_or_default().to_string();
    Ok(Stamped {
        uuid: a(&tfd, "UUID"),
        fecha_timbrado: a(&tfd, "FechaTimbrado"),
        rfc_prov_certif: a(&tfd, "RfcProvCertif"),
        no_certificado: a(&root, "NoCertificado"),
        no_certificado_sat: a(&tfd, "NoCertificadoSAT"),
        sello_cfd: a(&tfd, "SelloCFD"),
        sello_sat: a(&tfd, "SelloSAT"),
        emisor_rfc: child_attr("Emisor", "Rfc"),
        receptor_rfc: child_attr("Receptor", "Rfc"),
        total: a(&root, "Total")
            .parse()
            .map_err(|_| Error::invalid("Total", "no es un número"))?,
    })
}
