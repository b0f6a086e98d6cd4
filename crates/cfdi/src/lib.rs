//! CFDI 4.0, the Mexican electronic invoice (SAT's Anexo 20).
//!
//! - [`model`]: the `Comprobante` and its parts, built only through
//!   [`model::ComprobanteBuilder`], which computes SubTotal, Descuento, the tax summary
//!   and Total from the concepts with SAT's decimal rules, so a built document is
//!   internally consistent to the centavo.
//! - [`xml`]: the XML document (namespaces, schema locations, attribute order of the XSD).
//! - [`cadena`]: the cadena original, produced in Rust; tests prove it byte-identical to
//!   SAT's `cadenaoriginal_4_0.xslt`.
//! - [`pagos`]: the CFDI of type P with the Complemento de Pagos 2.0.
//! - [`csd`]: the Certificado de Sello Digital (`.cer` + password-protected `.key`),
//!   NoCertificado, and the sello (RSA PKCS#1 v1.5 with SHA-256 over the cadena).
//!
//! Architecture invariant: no I/O except reading CSD files the caller names, no database,
//! no HTTP. Amounts are `rust_decimal::Decimal`; nothing here uses floating point.

pub mod cadena;
pub mod cancelacion;
pub mod csd;
pub mod model;
pub mod pagos;
pub mod tfd;
pub mod xml;

mod error;
mod text;

pub use error::{Error, Result};
pub use model::{
    Comprobante, ComprobanteBuilder, Concepto, ConceptoInput, Emisor, Impuesto, InformacionGlobal,
    MetodoPago, ObjetoImp, Receptor, Tax, TipoDeComprobante,
};

/// Seal a built comprobante: set NoCertificado and Certificado from the CSD, compute the
/// cadena original and sign it. Returns the signed XML bytes and the cadena.
pub fn seal(mut comprobante: Comprobante, csd: &csd::Csd) -> Result<Sealed> {
    csd.check_issuer(&comprobante)?;
    comprobante.no_certificado = csd.certificate().no_certificado().to_string();
    comprobante.certificado = csd.certificate().base64();
    let cadena = cadena::of(&comprobante);
    comprobante.sello = csd.sign(cadena.as_bytes())?;
    // Verify our own signature before anyone else sees the document.
    csd.certificate()
        .verify(cadena.as_bytes(), &comprobante.sello)?;
    let xml = xml::to_string(&comprobante);
    Ok(Sealed {
        comprobante,
        cadena,
        xml,
    })
}

/// A sealed CFDI: the document, its cadena original and its XML.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub comprobante: Comprobante,
    pub cadena: String,
    pub xml: String,
}
