//! Finkok, the PAC (proveedor autorizado de certificación) that stamps CFDIs, spoken to
//! in its published SOAP 1.1 wire format: operations POSTed to
//! `{base}/servicios/soap/stamp` with `SOAPAction: "<operation>"`, request children in
//! `http://facturacion.finkok.com/stamp`, result children in
//! `apps.services.soap.core.views`.
//!
//! - `stamp` sends the sealed XML (base64). A stamped answer carries the stamped XML as
//!   escaped text; it is returned exactly as received.
//! - Incidencia 307 ("El CFDI contiene un timbre previo") means the document was
//!   stamped before: when the answer has no XML, the previous stamp is fetched with
//!   `stamped` (Finkok may take a moment to find it, so that is polled briefly).
//! - Timeouts, connection errors and 5xx are transient and retried with exponential
//!   backoff; anything else the PAC rejects comes back as [`Outcome::Rejected`] with
//!   its code and message, for the staff queue.
//!
//! The same client talks to the real service (`FINKOK_ENVIRONMENT=sandbox|production`)
//! or to the simulator in this repository (`FINKOK_URL`); there is no other code path.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use thiserror::Error;

pub const NS_STAMP: &str = "http://facturacion.finkok.com/stamp";
pub const NS_CANCEL: &str = "http://facturacion.finkok.com/cancel";
pub const NS_RESULT: &str = "apps.services.soap.core.views";
pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SANDBOX_URL: &str = "https://demo-facturacion.finkok.com";
pub const PRODUCTION_URL: &str = "https://facturacion.finkok.com";

/// Finkok's code for "already stamped".
pub const PREVIOUSLY_STAMPED: &str = "307";

#[derive(Debug, Error)]
pub enum Error {
    /// The PAC could not be reached or failed on its side (after the retries).
    #[error("el PAC no respondió: {0}")]
    Transient(String),
    /// The answer was not what Finkok's WSDL describes.
    #[error("respuesta del PAC ilegible: {0}")]
    Protocol(String),
    #[error("configuración del PAC: {0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A stamp: the TimbreFiscalDigital's data and the stamped XML exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub uuid: String,
    pub xml: String,
    pub fecha: String,
    pub no_certificado_sat: String,
    pub sat_seal: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stamped(Stamp),
    /// Permanent: the document must be fixed (or the account) before trying again.
    Rejected {
        code: String,
        message: String,
    },
}

/// What SAT said about one UUID of a cancellation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolioStatus {
    pub uuid: String,
    /// 201 requested, 202 requested before, 203/205/207/208/`no_cancelable` refused.
    pub estatus_uuid: String,
    pub estatus_cancelacion: String,
}

impl FolioStatus {
    /// SAT took the request (now or before): the cancellation is in process.
    pub fn accepted(&self) -> bool {
        matches!(self.estatus_uuid.as_str(), "201" | "202")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The request reached SAT: per-UUID codes and SAT's acuse (XML, as received).
    Answered {
        folios: Vec<FolioStatus>,
        acuse: String,
        fecha: String,
    },
    /// The whole request was refused (e.g. 711 certificate error, 798 wait, 799 too many).
    Rejected { code: String, message: String },
}

/// SAT's consulta de estado of a CFDI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SatStatus {
    pub codigo_estatus: String,
    /// "Vigente" or "Cancelado" ("No Encontrado" for an unknown UUID).
    pub estado: String,
    pub es_cancelable: String,
    /// "", "En proceso", "Plazo vencido", "Cancelado con aceptación", "Cancelado sin
    /// aceptación" or "Solicitud rechazada".
    pub estatus_cancelacion: String,
}

/// Retry policy for transient failures.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            first_delay: Duration::from_millis(500),
        }
    }
}

#[derive(Clone)]
pub struct Finkok {
    http: reqwest::Client,
    base: String,
    username: String,
    password: String,
    retry: Retry,
}

impl std::fmt::Debug for Finkok {
    // Never print the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finkok")
            .field("base", &self.base)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Finkok {
    pub fn new(base: &str, username: &str, password: &str, retry: Retry) -> Result<Finkok> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Finkok {
            http,
            base: base.trim_end_matches('/').to_string(),
            username: username.into(),
            password: password.into(),
            retry,
        })
    }

    /// From the environment: `FINKOK_URL` (e.g. the simulator) or
    /// `FINKOK_ENVIRONMENT=sandbox|production`, plus `FINKOK_USERNAME` and
    /// `FINKOK_PASSWORD`.
    pub fn from_env() -> Result<Finkok> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let base = match (var("FINKOK_URL"), var("FINKOK_ENVIRONMENT").as_deref()) {
            (Some(url), _) => url,
            (None, Some("production")) => PRODUCTION_URL.into(),
            (None, Some("sandbox") | None) => SANDBOX_URL.into(),
            (None, Some(other)) => {
                return Err(Error::Config(format!(
                    "FINKOK_ENVIRONMENT debe ser sandbox o production, no «{other}»"
                )));
            }
        };
        let user =
            var("FINKOK_USERNAME").ok_or_else(|| Error::Config("falta FINKOK_USERNAME".into()))?;
        let pass =
            var("FINKOK_PASSWORD").ok_or_else(|| Error::Config("falta FINKOK_PASSWORD".into()))?;
        Self::new(&base, &user, &pass, Retry::default())
    }

    /// Stamp a sealed CFDI. Safe to call again for the same document: the PAC answers
    /// 307 and the existing stamp is returned, never a second one.
    pub async fn stamp(&self, sealed_xml: &str) -> Result<Outcome> {
        let answer = self.call("stamp", sealed_xml).await?;
        match answer {
            Answer::Stamp(s) => Ok(Outcome::Stamped(s)),
            Answer::Incident { code, .. } if code == PREVIOUSLY_STAMPED => {
                // Finkok may answer 307 without the XML; fetch the previous stamp.
                for attempt in 0..10 {
                    if let Some(s) = self.stamped(sealed_xml).await? {
                        return Ok(Outcome::Stamped(s));
                    }
                    tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
                }
                Err(Error::Transient(
                    "el PAC dice que ya está timbrado pero aún no entrega el timbre".into(),
                ))
            }
            Answer::Incident { code, message } => Ok(Outcome::Rejected { code, message }),
        }
    }

    /// The previous stamp of a document, if the PAC has one.
    pub async fn stamped(&self, sealed_xml: &str) -> Result<Option<Stamp>> {
        match self.call("stamped", sealed_xml).await? {
            Answer::Stamp(s) => Ok(Some(s)),
            Answer::Incident { .. } => Ok(None),
        }
    }

    async fn call(&self, op: &'static str, xml: &str) -> Result<Answer> {
        let body = envelope(op, xml, &self.username, &self.password);
        let text = self.post("stamp", op, body).await?;
        parse_answer(op, &text)
    }

    /// Ask SAT, through the PAC, to cancel what a signed `<Cancelacion>` names (one UUID
    /// per request, as Finkok advises). Asking again for a UUID already requested is
    /// harmless (folio code 202), so transient failures are retried.
    pub async fn cancel_signature(&self, signed_cancelacion: &str) -> Result<CancelOutcome> {
        use quick_xml::escape::escape as esc;
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\" xmlns:can=\"{NS_CANCEL}\">\
<soapenv:Header/><soapenv:Body><can:cancel_signature><can:xml>{}</can:xml>\
<can:username>{}</can:username><can:password>{}</can:password>\
<can:store_pending>false</can:store_pending></can:cancel_signature>\
</soapenv:Body></soapenv:Envelope>",
            B64.encode(signed_cancelacion.as_bytes()),
            esc(&self.username),
            esc(&self.password)
        );
        let text = self.post("cancel", "cancel_signature", body).await?;
        parse_cancel(&text)
    }

    /// SAT's view of a CFDI (Vigente/Cancelado, whether and how it can be cancelled, the
    /// state of a cancellation). The acuse of a request is not the cancellation itself:
    /// this is what says it happened.
    pub async fn get_sat_status(
        &self,
        rfc_emisor: &str,
        rfc_receptor: &str,
        uuid: &str,
        total: &str,
    ) -> Result<SatStatus> {
        use quick_xml::escape::escape as esc;
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\" xmlns:can=\"{NS_CANCEL}\">\
<soapenv:Header/><soapenv:Body><can:get_sat_status>\
<can:username>{}</can:username><can:password>{}</can:password>\
<can:taxpayer_id>{}</can:taxpayer_id><can:rtaxpayer_id>{}</can:rtaxpayer_id>\
<can:uuid>{}</can:uuid><can:total>{}</can:total></can:get_sat_status>\
</soapenv:Body></soapenv:Envelope>",
            esc(&self.username),
            esc(&self.password),
            esc(rfc_emisor),
            esc(rfc_receptor),
            esc(uuid),
            esc(total)
        );
        let text = self.post("cancel", "get_sat_status", body).await?;
        parse_sat_status(&text)
    }

    /// POST one SOAP request to `{base}/servicios/soap/{service}`, retrying transient
    /// failures with exponential backoff. Returns the answer's text (a SOAP fault is an
    /// answer).
    async fn post(&self, service: &str, op: &'static str, body: String) -> Result<String> {
        let url = format!("{}/servicios/soap/{service}", self.base);
        let mut delay = self.retry.first_delay;
        let mut last = String::new();
        for attempt in 1..=self.retry.attempts.max(1) {
            let sent = self
                .http
                .post(&url)
                .header("Content-Type", "text/xml; charset=utf-8")
                .header("SOAPAction", format!("\"{op}\""))
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_server_error() && !is_soap_fault(&r) => {
                    last = format!("HTTP {}", r.status());
                }
                Ok(r) => {
                    let status = r.status();
                    let text = r
                        .text()
                        .await
                        .map_err(|e| Error::Transient(e.to_string()))?;
                    if status.is_client_error() {
                        return Err(Error::Protocol(format!(
                            "HTTP {status}: {}",
                            snippet(&text)
                        )));
                    }
                    return Ok(text);
                }
                Err(e) => last = e.to_string(),
            }
            if attempt < self.retry.attempts {
                tracing::warn!(op, attempt, error = %last, "PAC call failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        Err(Error::Transient(last))
    }
}

fn is_soap_fault(r: &reqwest::Response) -> bool {
    // A SOAP 1.1 fault comes with HTTP 500 and is an answer, not an outage; it is told
    // apart by its XML content type.
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("xml"))
}

fn snippet(s: &str) -> String {
    s.chars().take(200).collect()
}

/// The SOAP request of `op` (`stamp`, `stamped`, `quick_stamp`).
pub fn envelope(op: &str, xml: &str, username: &str, password: &str) -> String {
    use quick_xml::escape::escape as esc;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\" xmlns:stam=\"{NS_STAMP}\">\
<soapenv:Header/><soapenv:Body><stam:{op}><stam:xml>{}</stam:xml>\
<stam:username>{}</stam:username><stam:password>{}</stam:password></stam:{op}>\
</soapenv:Body></soapenv:Envelope>",
        B64.encode(xml.as_bytes()),
        esc(username),
        esc(password)
    )
}

enum Answer {
    Stamp(Stamp),
    Incident { code: String, message: String },
}

fn parse_answer(op: &str, text: &str) -> Result<Answer> {
    let doc = roxmltree::Document::parse(text).map_err(|e| Error::Protocol(e.to_string()))?;
    if let Some(fault) = doc.descendants().find(|n| n.tag_name().name() == "Fault") {
        let get = |name: &str| {
            fault
                .descendants()
                .find(|n| n.tag_name().name() == name)
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_string()
        };
        return Ok(Answer::Incident {
            code: get("faultcode"),
            message: get("faultstring"),
        });
    }
    let result_name = format!("{op}Result");
    let result = doc
        .descendants()
        .find(|n| n.tag_name().name() == result_name)
        .ok_or_else(|| Error::Protocol(format!("no hay {result_name}")))?;
    let field = |name: &str| {
        result
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(str::to_string)
            .filter(|s| !s.trim().is_empty())
    };
    if let Some(incident) = result
        .descendants()
        .find(|n| n.tag_name().name() == "Incidencia")
    {
        let get = |name: &str| {
            incident
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == name)
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_string()
        };
        let code = get("CodigoError");
        // 307 may still carry the previous stamp.
        if code != PREVIOUSLY_STAMPED || field("xml").is_none() {
            return Ok(Answer::Incident {
                code,
                message: get("MensajeIncidencia"),
            });
        }
    }
    match (field("xml"), field("UUID")) {
        (Some(xml), Some(uuid)) => Ok(Answer::Stamp(Stamp {
            uuid,
            xml,
            fecha: field("Fecha").unwrap_or_default(),
            no_certificado_sat: field("NoCertificadoSAT").unwrap_or_default(),
            sat_seal: field("SatSeal").unwrap_or_default(),
        })),
        _ => Ok(Answer::Incident {
            code: field("CodEstatus").unwrap_or_else(|| "sin_timbre".into()),
            message: "el PAC no devolvió timbre".into(),
        }),
    }
}

fn parse_cancel(text: &str) -> Result<CancelOutcome> {
    let doc = roxmltree::Document::parse(text).map_err(|e| Error::Protocol(e.to_string()))?;
    if let Some(fault) = doc.descendants().find(|n| n.tag_name().name() == "Fault") {
        return Ok(CancelOutcome::Rejected {
            code: text_of(fault, "faultcode"),
            message: text_of(fault, "faultstring"),
        });
    }
    let result = doc
        .descendants()
        .find(|n| n.tag_name().name() == "cancel_signatureResult")
        .ok_or_else(|| Error::Protocol("no hay cancel_signatureResult".into()))?;
    let acuse = text_of(result, "Acuse");
    let mut folios: Vec<FolioStatus> = result
        .descendants()
        .filter(|n| n.tag_name().name() == "Folio")
        .map(|f| FolioStatus {
            uuid: text_of(f, "UUID"),
            estatus_uuid: text_of(f, "EstatusUUID"),
            estatus_cancelacion: text_of(f, "EstatusCancelacion"),
        })
        .collect();
    if folios.is_empty() && !acuse.is_empty() {
        // Finkok's demo sometimes answers with empty Folios: the codes are then only in
        // SAT's acuse.
        if let Ok(a) = roxmltree::Document::parse(&acuse) {
            folios = a
                .descendants()
                .filter(|n| n.tag_name().name() == "Folios")
                .map(|f| FolioStatus {
                    uuid: text_of(f, "UUID"),
                    estatus_uuid: text_of(f, "EstatusUUID"),
                    estatus_cancelacion: String::new(),
                })
                .collect();
        }
    }
    if folios.is_empty() {
        let code = text_of(result, "CodEstatus");
        return Ok(CancelOutcome::Rejected {
            message: if code.is_empty() {
                "el PAC no devolvió el estado de la solicitud".into()
            } else {
                code.clone()
            },
            code: code
                .split_whitespace()
                .next()
                .unwrap_or("sin_respuesta")
                .to_string(),
        });
    }
    Ok(CancelOutcome::Answered {
        folios,
        acuse,
        fecha: text_of(result, "Fecha"),
    })
}

fn parse_sat_status(text: &str) -> Result<SatStatus> {
    let doc = roxmltree::Document::parse(text).map_err(|e| Error::Protocol(e.to_string()))?;
    if let Some(fault) = doc.descendants().find(|n| n.tag_name().name() == "Fault") {
        return Err(Error::Protocol(text_of(fault, "faultstring")));
    }
    let sat = doc
        .descendants()
        .find(|n| n.tag_name().name() == "sat")
        .ok_or_else(|| {
            let error = doc
                .descendants()
                .find(|n| n.tag_name().name() == "error")
                .and_then(|n| n.text())
                .unwrap_or("no hay sat en get_sat_statusResult");
            Error::Protocol(error.to_string())
        })?;
    Ok(SatStatus {
        codigo_estatus: text_of(sat, "CodigoEstatus"),
        estado: text_of(sat, "Estado"),
        es_cancelable: text_of(sat, "EsCancelable"),
        estatus_cancelacion: text_of(sat, "EstatusCancelacion"),
    })
}

/// The text of the first descendant element called `name` ("" when absent).
fn text_of(n: roxmltree::Node<'_, '_>, name: &str) -> String {
    n.descendants()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .and_then(|c| c.text())
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_carries_the_xml_in_base64_and_escapes_credentials() {
        let e = envelope("stamp", "<a>ñ</a>", "user@x.mx", "p<&>\"");
        assert!(
            e.contains("<stam:stamp><stam:xml>PGE+w7E8L2E+</stam:xml>"),
            "{e}"
        );
        assert!(e.contains("<stam:password>p&lt;&amp;&gt;&quot;</stam:password>"));
        roxmltree::Document::parse(&e).expect("well-formed");
    }

    #[test]
    fn a_stamp_answer_keeps_the_xml_exactly() {
        let answer = format!(
            r#"<senv:Envelope xmlns:senv="{NS_SOAP}" xmlns:tns="{NS_STAMP}" xmlns:s0="{NS_RESULT}"><senv:Body><tns:stampResponse><tns:stampResult><s0:xml>&lt;?xml version="1.0"?&gt;&lt;cfdi:Comprobante/&gt;</s0:xml><s0:UUID>6F35D3B5-3651-5370-BC2C-14CDBE384CD7</s0:UUID><s0:Fecha>2026-11-24T10:00:00</s0:Fecha><s0:CodEstatus>Comprobante timbrado satisfactoriamente</s0:CodEstatus><s0:SatSeal>abc</s0:SatSeal><s0:NoCertificadoSAT>30001000000500003456</s0:NoCertificadoSAT><s0:Incidencias/></tns:stampResult></tns:stampResponse></senv:Body></senv:Envelope>"#
        );
        match parse_answer("stamp", &answer).ok() {
            Some(Answer::Stamp(s)) => {
                assert_eq!(s.xml, r#"<?xml version="1.0"?><cfdi:Comprobante/>"#);
                assert_eq!(s.uuid, "6F35D3B5-3651-5370-BC2C-14CDBE384CD7");
            }
            _ => panic!("expected a stamp"),
        }
    }

    #[test]
    fn an_empty_folios_answer_takes_the_codes_from_the_acuse() {
        let answer = format!(
            r#"<senv:Envelope xmlns:senv="{NS_SOAP}" xmlns:tns="{NS_CANCEL}" xmlns:s0="{NS_RESULT}"><senv:Body><tns:cancel_signatureResponse><tns:cancel_signatureResult><s0:Folios/><s0:Acuse>&lt;Acuse Fecha="2026-11-24T10:00:00" RfcEmisor="CEA800101QR2"&gt;&lt;Folios&gt;&lt;UUID&gt;5FB2822E-396D-4725-8521-CDC4BDD20CCF&lt;/UUID&gt;&lt;EstatusUUID&gt;201&lt;/EstatusUUID&gt;&lt;/Folios&gt;&lt;/Acuse&gt;</s0:Acuse><s0:Fecha>2026-11-24T10:00:01</s0:Fecha><s0:RfcEmisor>CEA800101QR2</s0:RfcEmisor></tns:cancel_signatureResult></tns:cancel_signatureResponse></senv:Body></senv:Envelope>"#
        );
        match parse_cancel(&answer).ok() {
            Some(CancelOutcome::Answered { folios, acuse, .. }) => {
                assert_eq!(folios.len(), 1);
                assert_eq!(folios[0].uuid, "5FB2822E-396D-4725-8521-CDC4BDD20CCF");
                assert!(folios[0].accepted());
                assert!(acuse.starts_with("<Acuse "));
            }
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    #[test]
    fn an_incident_is_a_rejection_with_code_and_message() {
        let answer = format!(
            r#"<senv:Envelope xmlns:senv="{NS_SOAP}" xmlns:tns="{NS_STAMP}" xmlns:s0="{NS_RESULT}"><senv:Body><tns:stampResponse><tns:stampResult><s0:Incidencias><s0:Incidencia><s0:CodigoError>302</s0:CodigoError><s0:MensajeIncidencia>Sello mal formado o inválido</s0:MensajeIncidencia></s0:Incidencia></s0:Incidencias></tns:stampResult></tns:stampResponse></senv:Body></senv:Envelope>"#
        );
        match parse_answer("stamp", &answer).ok() {
            Some(Answer::Incident { code, message }) => {
                assert_eq!(code, "302");
                assert!(message.contains("Sello"));
            }
            _ => panic!("expected an incident"),
        }
    }
}
