//! SAT's cancellation request: a `<Cancelacion>` document signed with the issuer's CSD
//! as an enveloped XMLDSig (C14N 1.0 without comments, rsa-sha1, sha1 digest), the
//! shape Finkok's `cancel_signature` forwards to SAT.
//!
//! The document has a fixed, attribute-only shape, so it is written directly in its
//! canonical form (attributes in C14N order, empty elements as start-end pairs, no
//! whitespace): the bytes signed are the bytes sent. Tests prove both canonical forms
//! (the document without its signature, and `SignedInfo`) equal what libxml2's C14N
//! (`xmllint --c14n`) makes of them, and that `xmlsec1 --verify` accepts the signature.
//! [`verify`] parses a received request and checks digest and signature against the
//! certificate it carries — what a PAC does before forwarding it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDateTime;
use sha1::{Digest, Sha1};

use crate::csd::{Certificate, Csd};
use crate::{Error, Result};

pub const NS_CANCELACION: &str = "http://cancelacfd.sat.gob.mx";
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// SAT's reasons for cancelling (Anexo 20, guía de llenado de cancelación).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Motivo {
    /// 01: issued with errors, with a relation: a replacement CFDI exists.
    ConRelacion,
    /// 02: issued with errors, without a relation.
    SinRelacion,
    /// 03: the operation was not carried out.
    NoSeLlevoACabo,
    /// 04: a nominative operation included in a factura global.
    FacturaGlobal,
}

impl Motivo {
    pub const ALL: [Motivo; 4] = [
        Motivo::ConRelacion,
        Motivo::SinRelacion,
        Motivo::NoSeLlevoACabo,
        Motivo::FacturaGlobal,
    ];

    pub fn parse(code: &str) -> Result<Motivo> {
        match code.trim() {
            "01" => Ok(Motivo::ConRelacion),
            "02" => Ok(Motivo::SinRelacion),
            "03" => Ok(Motivo::NoSeLlevoACabo),
            "04" => Ok(Motivo::FacturaGlobal),
            other => Err(Error::invalid(
                "Motivo",
                format!("«{other}» no es un motivo del SAT (01, 02, 03 o 04)"),
            )),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Motivo::ConRelacion => "01",
            Motivo::SinRelacion => "02",
            Motivo::NoSeLlevoACabo => "03",
            Motivo::FacturaGlobal => "04",
        }
    }

    /// The reason as SAT words it, for staff.
    pub fn description(self) -> &'static str {
        match self {
            Motivo::ConRelacion => "Comprobante emitido con errores con relación",
            Motivo::SinRelacion => "Comprobante emitido con errores sin relación",
            Motivo::NoSeLlevoACabo => "No se llevó a cabo la operación",
            Motivo::FacturaGlobal => "Operación nominativa relacionada en una factura global",
        }
    }
}

/// One UUID to cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folio {
    uuid: String,
    motivo: Motivo,
    folio_sustitucion: Option<String>,
}

impl Folio {
    /// Motivo 01 requires the UUID of the replacement CFDI; the others must not carry one.
    pub fn new(uuid: &str, motivo: Motivo, folio_sustitucion: Option<&str>) -> Result<Folio> {
        let uuid = parse_uuid("UUID", uuid)?;
        let folio_sustitucion = match (motivo, folio_sustitucion.map(str::trim)) {
            (Motivo::ConRelacion, Some(s)) if !s.is_empty() => {
                let s = parse_uuid("FolioSustitucion", s)?;
                if s == uuid {
                    return Err(Error::invalid(
                        "FolioSustitucion",
                        "el CFDI que sustituye no puede ser el mismo que se cancela",
                    ));
                }
                Some(s)
            }
            (Motivo::ConRelacion, _) => {
                return Err(Error::invalid(
                    "FolioSustitucion",
                    "el motivo 01 requiere el folio fiscal (UUID) del CFDI que lo sustituye",
                ));
            }
            (_, Some(s)) if !s.is_empty() => {
                return Err(Error::invalid(
                    "FolioSustitucion",
                    "sólo el motivo 01 lleva folio de sustitución",
                ));
            }
            _ => None,
        };
        Ok(Folio {
            uuid,
            motivo,
            folio_sustitucion,
        })
    }

    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    pub fn motivo(&self) -> Motivo {
        self.motivo
    }

    pub fn folio_sustitucion(&self) -> Option<&str> {
        self.folio_sustitucion.as_deref()
    }
}

/// A UUID as SAT writes it: 8-4-4-4-12 hexadecimal digits, upper case.
fn parse_uuid(field: &'static str, s: &str) -> Result<String> {
    let s = s.trim();
    let groups: Vec<&str> = s.split('-').collect();
    let ok = groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    if !ok {
        return Err(Error::invalid(
            field,
            format!("«{s}» no es un folio fiscal (UUID de 36 caracteres)"),
        ));
    }
    Ok(s.to_ascii_uppercase())
}

/// A cancellation request before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelacion {
    pub rfc_emisor: String,
    /// Local time of the issuer, like a comprobante's Fecha.
    pub fecha: NaiveDateTime,
    pub folios: Vec<Folio>,
}

impl Cancelacion {
    /// The document without its signature, in canonical form: what the digest covers.
    pub fn canonical(&self) -> String {
        self.document("")
    }

    fn document(&self, signature: &str) -> String {
        let mut s = format!(
            r#"<Cancelacion xmlns="{NS_CANCELACION}" Fecha="{}" RfcEmisor="{}"><Folios>"#,
            self.fecha.format("%Y-%m-%dT%H:%M:%S"),
            attr(&self.rfc_emisor)
        );
        for f in &self.folios {
            // C14N orders unqualified attributes by name: FolioSustitucion, Motivo, UUID.
            s.push_str("<Folio ");
            if let Some(sust) = &f.folio_sustitucion {
                s.push_str(&format!(r#"FolioSustitucion="{sust}" "#));
            }
            s.push_str(&format!(
                r#"Motivo="{}" UUID="{}"></Folio>"#,
                f.motivo.code(),
                f.uuid
            ));
        }
        s.push_str("</Folios>");
        s.push_str(signature);
        s.push_str("</Cancelacion>");
        s
    }

    /// Sign with the issuer's CSD: the complete request, ready to base64 and send.
    pub fn sign(&self, csd: &Csd) -> Result<String> {
        let cert = csd.certificate();
        if cert.rfc() != self.rfc_emisor {
            return Err(Error::NotCovered(format!(
                "el RFC emisor {} no es el del certificado {}",
                self.rfc_emisor,
                cert.rfc()
            )));
        }
        if self.folios.is_empty() {
            return Err(Error::invalid("Folios", "no hay folios que cancelar"));
        }
        let digest = B64.encode(Sha1::digest(self.canonical().as_bytes()));
        let signed_info = signed_info(&digest);
        let value = csd.sign_sha1(signed_info.as_bytes())?;
        // Inside the document SignedInfo inherits xmlns from Signature, so its canonical
        // form (above) and its serialisation here differ only by that declaration.
        let inner = signed_info.replacen(&format!(r#" xmlns="{NS_DSIG}""#), "", 1);
        let signature = format!(
            r#"<Signature xmlns="{NS_DSIG}">{inner}<SignatureValue>{value}</SignatureValue><KeyInfo><X509Data><X509IssuerSerial><X509IssuerName>{}</X509IssuerName><X509SerialNumber>{}</X509SerialNumber></X509IssuerSerial><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></Signature>"#,
            text(cert.issuer_name()),
            cert.serial_decimal(),
            cert.base64()
        );
        Ok(self.document(&signature))
    }
}

/// `SignedInfo` in canonical form (standing alone, so with its namespace declaration).
pub fn signed_info(digest_b64: &str) -> String {
    format!(
        r#"<SignedInfo xmlns="{NS_DSIG}"><CanonicalizationMethod Algorithm="{C14N}"></CanonicalizationMethod><SignatureMethod Algorithm="{RSA_SHA1}"></SignatureMethod><Reference URI=""><Transforms><Transform Algorithm="{ENVELOPED}"></Transform></Transforms><DigestMethod Algorithm="{SHA1}"></DigestMethod><DigestValue>{digest_b64}</DigestValue></Reference></SignedInfo>"#
    )
}

/// A verified request: what it asks and who signed it.
#[derive(Debug, Clone)]
pub struct Verified {
    pub cancelacion: Cancelacion,
    pub certificate: Certificate,
}

/// Parse a signed request and check it: the digest covers exactly this request, the
/// signature verifies with the certificate it carries, and that certificate belongs to
/// RfcEmisor. Accepts only the algorithms SAT uses.
pub fn verify(xml: &str) -> Result<Verified> {
    let bad = |reason: String| Error::invalid("Cancelacion", reason);
    let doc = roxmltree::Document::parse(xml).map_err(|e| bad(format!("XML mal formado: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Cancelacion"
        || root.tag_name().namespace() != Some(NS_CANCELACION)
    {
        return Err(bad("el elemento raíz no es Cancelacion del SAT".into()));
    }
    let rfc_emisor = root
        .attribute("RfcEmisor")
        .ok_or_else(|| bad("falta RfcEmisor".into()))?
        .to_string();
    let fecha = root
        .attribute("Fecha")
        .and_then(|f| NaiveDateTime::parse_from_str(f, "%Y-%m-%dT%H:%M:%S").ok())
        .ok_or_else(|| bad("Fecha ausente o sin el formato AAAA-MM-DDThh:mm:ss".into()))?;
    let folios_node =
        child(root, "Folios", NS_CANCELACION).ok_or_else(|| bad("faltan Folios".into()))?;
    let mut folios = Vec::new();
    for f in folios_node.children().filter(|c| c.is_element()) {
        let motivo = Motivo::parse(f.attribute("Motivo").unwrap_or(""))?;
        folios.push(Folio::new(
            f.attribute("UUID").unwrap_or(""),
            motivo,
            f.attribute("FolioSustitucion"),
        )?);
    }
    let cancelacion = Cancelacion {
        rfc_emisor,
        fecha,
        folios,
    };
    let sig = child(root, "Signature", NS_DSIG).ok_or_else(|| bad("no está firmada".into()))?;
    let text_of = |parent: roxmltree::Node<'_, '_>, path: &[&str]| -> Option<String> {
        let mut n = parent;
        for p in path {
            n = child(n, p, NS_DSIG)?;
        }
        Some(n.text().unwrap_or("").split_whitespace().collect())
    };
    let si = child(sig, "SignedInfo", NS_DSIG).ok_or_else(|| bad("falta SignedInfo".into()))?;
    let algorithm = |path: &[&str]| -> Option<String> {
        let mut n = si;
        for p in path {
            n = child(n, p, NS_DSIG)?;
        }
        n.attribute("Algorithm").map(str::to_string)
    };
    let expected = [
        (&["CanonicalizationMethod"][..], C14N),
        (&["SignatureMethod"][..], RSA_SHA1),
        (&["Reference", "DigestMethod"][..], SHA1),
        (&["Reference", "Transforms", "Transform"][..], ENVELOPED),
    ];
    for (path, alg) in expected {
        if algorithm(path).as_deref() != Some(alg) {
            return Err(bad(format!("{} debe ser {alg}", path.join("/"))));
        }
    }
    let digest = text_of(si, &["Reference", "DigestValue"])
        .ok_or_else(|| bad("falta DigestValue".into()))?;
    if digest != B64.encode(Sha1::digest(cancelacion.canonical().as_bytes())) {
        return Err(Error::Sello(
            "el DigestValue no corresponde a la solicitud (¿se modificó después de firmarla?)"
                .into(),
        ));
    }
    let cert_b64 = text_of(sig, &["KeyInfo", "X509Data", "X509Certificate"])
        .ok_or_else(|| bad("falta el certificado (X509Certificate)".into()))?;
    let der = B64
        .decode(cert_b64)
        .map_err(|e| bad(format!("el certificado no es base64: {e}")))?;
    let certificate = Certificate::from_der(&der)?;
    let value =
        text_of(sig, &["SignatureValue"]).ok_or_else(|| bad("falta SignatureValue".into()))?;
    certificate.verify_sha1(signed_info(&digest).as_bytes(), &value)?;
    if certificate.rfc() != cancelacion.rfc_emisor {
        return Err(Error::NotCovered(format!(
            "el certificado es de {} y la solicitud de {}",
            certificate.rfc(),
            cancelacion.rfc_emisor
        )));
    }
    Ok(Verified {
        cancelacion,
        certificate,
    })
}

fn child<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    name: &str,
    ns: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

/// C14N attribute-value escaping.
fn attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
        .replace('\t', "&#x9;")
        .replace('\n', "&#xA;")
        .replace('\r', "&#xD;")
}

/// C14N text escaping.
fn text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\r', "&#xD;")
}
