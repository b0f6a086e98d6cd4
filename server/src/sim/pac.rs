//! A PAC simulator that speaks Finkok's SOAP (`/servicios/soap/stamp`, operations
//! `stamp`, `quick_stamp`, `stamped`), so the production client can be pointed at it by
//! URL (`FINKOK_URL`). It checks what a PAC checks and answers with Finkok's incident
//! codes:
//!
//! - 300 bad credentials; 301 malformed XML (or, given SAT's schema bundle, invalid
//!   against the XSD — checked with `xmllint`); 705 a document already carrying a TFD;
//! - 302 sello that does not verify over the cadena original; 303 NoCertificado or RFC
//!   not matching the embedded certificate; 305 Fecha outside the certificate's
//!   validity; 401 Fecha older than 72 h or in the future;
//! - 307 "El CFDI contiene un timbre previo" for a document stamped before (`stamp`
//!   returns the previous stamp with it; `quick_stamp` returns 307 without XML, the
//!   quirk clients must handle by calling `stamped`).
//!
//! A stamp adds a TimbreFiscalDigital 1.1 (UUID v4, FechaTimbrado, RfcProvCertif,
//! SelloCFD, NoCertificadoSAT, SelloSAT signed with the simulator's own key, whose
//! certificate is served at `/sim/certificado.cer`). `POST /sim/fallas?n=K` makes the next
//! K calls fail with HTTP 503 (to exercise retries).
//!
//! The cancel service (`/servicios/soap/cancel`) takes `cancel_signature` — it verifies
//! the request's XMLDSig with the certificate it carries ([`cfdi::cancelacion::verify`];
//! 711 when it does not verify) and answers per UUID 201 (requested), 202 (requested
//! before), 203 (not the issuer's) or 205 (unknown) with an acuse — and `get_sat_status`,
//! which reports Vigente/Cancelado and the cancellation's progress: documents to público
//! en general cancel at once ("sin aceptación"); others stay "En proceso" until the
//! second query, then "Cancelado con aceptación", unless
//! `POST /sim/rechazar?uuid=…` made the receptor refuse ("Solicitud rechazada").

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, NaiveDateTime, Utc};
use pac::{NS_CANCEL, NS_RESULT, NS_SOAP, NS_STAMP};
use quick_xml::escape::escape as esc;
use sha2::{Digest, Sha256};

/// The simulator's RFC as proveedor de certificación.
pub const RFC_PROV_CERTIF: &str = "SPR190613I52";
const NO_CERTIFICADO_SAT: &str = "30001000000500009999";

pub struct PacSim {
    username: String,
    password: String,
    /// SAT's CFDI schema bundle (`cfdi40-bundle.xsd`), when XSD checks are wanted.
    xsd: Option<PathBuf>,
    csd: cfdi::csd::Csd,
    state: Mutex<SimState>,
}

#[derive(Default)]
struct SimState {
    /// SHA-256 of the sealed XML → the stamped XML and its UUID.
    stamped: HashMap<[u8; 32], (String, String, String)>,
    /// UUID → what SAT knows of a stamped document, for cancellation and status.
    documents: HashMap<String, SatDocument>,
    fail_next: u32,
}

struct SatDocument {
    emisor_rfc: String,
    receptor_rfc: String,
    total: rust_decimal::Decimal,
    cancellation: Option<Cancellation>,
}

impl SatDocument {
    /// The simulator's simplification of SAT's rules: documents to público en general
    /// cancel without the receptor's acceptance; every other one needs it (SAT also
    /// spares totals up to 1,000 pesos and documents cancelled within 24 h).
    fn without_acceptance(&self) -> bool {
        self.receptor_rfc == "XAXX010101000"
    }
}

struct Cancellation {
    /// Status queries answered since the request; a request that needs the receptor's
    /// acceptance is accepted on the second query unless `/sim/rechazar` said no.
    queries: u32,
    rejected_by_receptor: bool,
}

impl PacSim {
    pub fn new(
        username: &str,
        password: &str,
        xsd: Option<PathBuf>,
    ) -> anyhow::Result<Arc<PacSim>> {
        let now = Utc::now();
        let (cer, key) = cfdi::csd::generate_self_signed(
            RFC_PROV_CERTIF,
            "SIMULADOR PAC SUPRA",
            NO_CERTIFICADO_SAT,
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(3650),
            "simulador",
        )?;
        Ok(Arc::new(PacSim {
            username: username.into(),
            password: password.into(),
            xsd,
            csd: cfdi::csd::Csd::from_der(&cer, &key, "simulador")?,
            state: Mutex::new(SimState::default()),
        }))
    }

    /// How many documents have been stamped.
    pub fn stamped_count(&self) -> usize {
        self.lock().stamped.len()
    }

    /// A 503 while `/sim/fallas` asked for failures.
    fn simulated_outage(&self) -> Option<Response> {
        let mut st = self.lock();
        (st.fail_next > 0).then(|| {
            st.fail_next -= 1;
            (StatusCode::SERVICE_UNAVAILABLE, "simulated outage").into_response()
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SimState> {
        // A poisoned lock only means a panic elsewhere; the map is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn router(sim: Arc<PacSim>) -> Router {
    Router::new()
        .route("/servicios/soap/stamp", post(soap))
        .route("/servicios/soap/stamp.wsdl", post(soap))
        .route("/servicios/soap/cancel", post(soap_cancel))
        .route("/servicios/soap/cancel.wsdl", post(soap_cancel))
        .route("/sim/certificado.cer", get(certificate))
        .route("/sim/rechazar", post(receptor_rejects))
        .route("/sim/fallas", post(fail_next))
        .with_state(sim)
}

async fn certificate(State(sim): State<Arc<PacSim>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        sim.csd.certificate().der().to_vec(),
    )
        .into_response()
}

async fn fail_next(
    State(sim): State<Arc<PacSim>>,
    Query(q): Query<HashMap<String, u32>>,
) -> StatusCode {
    sim.lock().fail_next = q.get("n").copied().unwrap_or(1);
    StatusCode::NO_CONTENT
}

struct Request {
    op: String,
    xml_b64: String,
    username: String,
    password: String,
    /// Every child of the operation element by name (for the cancel service's fields).
    fields: HashMap<String, String>,
}

fn parse_request(body: &str) -> Option<Request> {
    let doc = roxmltree::Document::parse(body).ok()?;
    let body_el = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Body" && n.tag_name().namespace() == Some(NS_SOAP))?;
    let op_el = body_el.children().find(|n| n.is_element())?;
    let fields: HashMap<String, String> = op_el
        .children()
        .filter(|n| n.is_element())
        .map(|n| {
            (
                n.tag_name().name().to_string(),
                n.text().unwrap_or_default().trim().to_string(),
            )
        })
        .collect();
    let text = |name: &str| fields.get(name).cloned().unwrap_or_default();
    Some(Request {
        op: op_el.tag_name().name().to_string(),
        xml_b64: text("xml"),
        username: text("username"),
        password: text("password"),
        fields,
    })
}

async fn soap(State(sim): State<Arc<PacSim>>, headers: HeaderMap, body: String) -> Response {
    if let Some(outage) = sim.simulated_outage() {
        return outage;
    }
    let Some(req) = parse_request(&body) else {
        return fault("soapenv:Client", "Solicitud SOAP mal formada");
    };
    let action = headers
        .get("SOAPAction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_matches('"').to_string());
    if action
        .as_deref()
        .is_some_and(|a| !a.is_empty() && a != req.op)
    {
        return fault("soapenv:Client", "SOAPAction no corresponde a la operación");
    }
    let op = req.op.clone();
    if !matches!(op.as_str(), "stamp" | "quick_stamp" | "stamped") {
        return fault("soapenv:Client", &format!("operación desconocida {op}"));
    }
    let reply = if req.username != sim.username || req.password != sim.password {
        Reply::Incident("300", "Usuario o contraseña inválidos".into())
    } else {
        handle(&sim, &req).await
    };
    respond(&op, reply)
}

type Stamped = (String, String, String); // (xml, uuid, fecha)

enum Reply {
    Stamped(Stamped),
    /// 307 with the previous stamp (`stamp`).
    Previous(Stamped),
    Incident(&'static str, String),
}

async fn handle(sim: &PacSim, req: &Request) -> Reply {
    match try_handle(sim, req).await {
        Ok(r) => r,
        Err((code, message)) => Reply::Incident(code, message),
    }
}

async fn try_handle(sim: &PacSim, req: &Request) -> Result<Reply, (&'static str, String)> {
    let bytes = B64
        .decode(req.xml_b64.as_bytes())
        .map_err(|_| ("301", "XML mal formado: no es base64".to_string()))?;
    let xml = String::from_utf8(bytes)
        .map_err(|_| ("301", "XML mal formado: no es UTF-8".to_string()))?;
    let key: [u8; 32] = Sha256::digest(xml.as_bytes()).into();
    let previous = sim.lock().stamped.get(&key).cloned();
    match (req.op.as_str(), previous) {
        ("stamped", Some(p)) => return Ok(Reply::Stamped(p)),
        ("stamped", None) => return Err(("603", "El CFDI no contiene un timbre previo".into())),
        ("stamp", Some(p)) => return Ok(Reply::Previous(p)),
        (_, Some(_)) => return Err(("307", "El CFDI contiene un timbre previo".into())),
        (_, None) => {}
    }
    let stamped = validate_and_stamp(sim, &xml).await?;
    let mut st = sim.lock();
    // Two concurrent requests for the same document: the first stored wins, the other
    // gets 307 like a later request would.
    match st.stamped.get(&key) {
        Some(p) if req.op == "stamp" => Ok(Reply::Previous(p.clone())),
        Some(_) => Err(("307", "El CFDI contiene un timbre previo".into())),
        None => {
            if let Some(d) = sat_document(&stamped.0) {
                st.documents.insert(stamped.1.clone(), d);
            }
            st.stamped.insert(key, stamped.clone());
            Ok(Reply::Stamped(stamped))
        }
    }
}

fn sat_document(xml: &str) -> Option<SatDocument> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let root = doc.root_element();
    let rfc = |name: &str| {
        root.children()
            .find(|n| n.tag_name().name() == name)
            .and_then(|n| n.attribute("Rfc"))
            .map(str::to_string)
    };
    Some(SatDocument {
        emisor_rfc: rfc("Emisor")?,
        receptor_rfc: rfc("Receptor")?,
        total: root.attribute("Total")?.parse().ok()?,
        cancellation: None,
    })
}

/// `POST /sim/rechazar?uuid=…`: the receptor refuses a pending cancellation.
async fn receptor_rejects(
    State(sim): State<Arc<PacSim>>,
    Query(q): Query<HashMap<String, String>>,
) -> StatusCode {
    let uuid = q.get("uuid").map(|u| u.to_uppercase()).unwrap_or_default();
    match sim
        .lock()
        .documents
        .get_mut(&uuid)
        .and_then(|d| d.cancellation.as_mut())
    {
        Some(c) => {
            c.rejected_by_receptor = true;
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

/// Finkok's cancel service: `cancel_signature` and `get_sat_status`.
async fn soap_cancel(State(sim): State<Arc<PacSim>>, body: String) -> Response {
    if let Some(outage) = sim.simulated_outage() {
        return outage;
    }
    let Some(req) = parse_request(&body) else {
        return fault("soapenv:Client", "Solicitud SOAP mal formada");
    };
    let inner = if req.username != sim.username || req.password != sim.password {
        match req.op.as_str() {
            "get_sat_status" => "<s0:error>Usuario o contraseña inválidos</s0:error>".to_string(),
            _ => "<s0:CodEstatus>300 Usuario o contraseña inválidos</s0:CodEstatus>".to_string(),
        }
    } else {
        match req.op.as_str() {
            "cancel_signature" => cancel_signature(&sim, &req),
            "get_sat_status" => sat_status(&sim, &req),
            other => return fault("soapenv:Client", &format!("operación desconocida {other}")),
        }
    };
    let op = req.op;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><senv:Envelope xmlns:senv=\"{NS_SOAP}\" \
xmlns:tns=\"{NS_CANCEL}\" xmlns:s0=\"{NS_RESULT}\"><senv:Body><tns:{op}Response><tns:{op}Result>{inner}\
</tns:{op}Result></tns:{op}Response></senv:Body></senv:Envelope>"
    );
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn cancel_signature(sim: &PacSim, req: &Request) -> String {
    let xml = B64
        .decode(req.xml_b64.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let verified = match cfdi::cancelacion::verify(&xml) {
        Ok(v) => v,
        Err(e) => {
            return format!(
                "<s0:CodEstatus>711 Error con el certificado al cancelar: {}</s0:CodEstatus>",
                esc(e.to_string())
            );
        }
    };
    let c = &verified.cancelacion;
    let now = Utc::now().with_timezone(&chrono_tz::America::Mexico_City);
    let fecha = now.format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut st = sim.lock();
    let mut folios = String::new();
    let mut acuse = String::new();
    for f in &c.folios {
        let code = match st.documents.get_mut(f.uuid()) {
            None => "205",
            Some(d) if d.emisor_rfc != c.rfc_emisor => "203",
            // A refused request may be made again; an open one answers 202.
            Some(d)
                if d.cancellation
                    .as_ref()
                    .is_some_and(|c| !c.rejected_by_receptor) =>
            {
                "202"
            }
            Some(d) => {
                d.cancellation = Some(Cancellation {
                    queries: 0,
                    rejected_by_receptor: false,
                });
                "201"
            }
        };
        folios.push_str(&format!(
            "<s0:Folio><s0:EstatusCancelacion/><s0:EstatusUUID>{code}</s0:EstatusUUID>\
<s0:UUID>{}</s0:UUID></s0:Folio>",
            f.uuid()
        ));
        acuse.push_str(&format!(
            "<Folios xmlns=\"{}\"><UUID>{}</UUID><EstatusUUID>{code}</EstatusUUID></Folios>",
            cfdi::cancelacion::NS_CANCELACION,
            f.uuid()
        ));
    }
    let acuse = format!(
        "<Acuse Fecha=\"{fecha}\" RfcEmisor=\"{}\">{acuse}<CodEstatus>Simulador PAC SUPRA: acuse sin firma del SAT</CodEstatus></Acuse>",
        esc(&c.rfc_emisor)
    );
    format!(
        "<s0:Folios>{folios}</s0:Folios><s0:Acuse>{}</s0:Acuse><s0:Fecha>{fecha}</s0:Fecha>\
<s0:RfcEmisor>{}</s0:RfcEmisor>",
        esc(&acuse),
        esc(&c.rfc_emisor)
    )
}

fn sat_status(sim: &PacSim, req: &Request) -> String {
    let field = |k: &str| req.fields.get(k).map(String::as_str).unwrap_or_default();
    let uuid = field("uuid").to_uppercase();
    let total: Option<rust_decimal::Decimal> = field("total").parse().ok();
    let mut st = sim.lock();
    let found = st.documents.get_mut(&uuid).filter(|d| {
        d.emisor_rfc == field("taxpayer_id")
            && d.receptor_rfc == field("rtaxpayer_id")
            && Some(d.total) == total
    });
    let (codigo, estado, cancelable, estatus) = match found {
        None => (
            "N - 602: Comprobante no encontrado.",
            "No Encontrado",
            "",
            "",
        ),
        Some(d) => {
            let without = d.without_acceptance();
            let cancelable = if without {
                "Cancelable sin aceptación"
            } else {
                "Cancelable con aceptación"
            };
            match d.cancellation.as_mut() {
                None => (
                    "S - Comprobante obtenido satisfactoriamente.",
                    "Vigente",
                    cancelable,
                    "",
                ),
                Some(c) => {
                    c.queries += 1;
                    if without {
                        (
                            "S - Comprobante obtenido satisfactoriamente.",
                            "Cancelado",
                            cancelable,
                            "Cancelado sin aceptación",
                        )
                    } else if c.rejected_by_receptor {
                        (
                            "S - Comprobante obtenido satisfactoriamente.",
                            "Vigente",
                            cancelable,
                            "Solicitud rechazada",
                        )
                    } else if c.queries >= 2 {
                        (
                            "S - Comprobante obtenido satisfactoriamente.",
                            "Cancelado",
                            cancelable,
                            "Cancelado con aceptación",
                        )
                    } else {
                        (
                            "S - Comprobante obtenido satisfactoriamente.",
                            "Vigente",
                            cancelable,
                            "En proceso",
                        )
                    }
                }
            }
        }
    };
    format!(
        "<s0:sat><s0:CodigoEstatus>{codigo}</s0:CodigoEstatus><s0:EsCancelable>{cancelable}</s0:EsCancelable>\
<s0:Estado>{estado}</s0:Estado><s0:EstatusCancelacion>{estatus}</s0:EstatusCancelacion></s0:sat>"
    )
}

async fn validate_and_stamp(sim: &PacSim, xml: &str) -> Result<Stamped, (&'static str, String)> {
    let doc =
        roxmltree::Document::parse(xml).map_err(|e| ("301", format!("XML mal formado: {e}")))?;
    let root = doc.root_element();
    if root
        .descendants()
        .any(|n| n.tag_name().name() == "TimbreFiscalDigital")
    {
        return Err((
            "705",
            "XML estructura inválida: ya contiene un TimbreFiscalDigital".into(),
        ));
    }
    if let Some(xsd) = &sim.xsd {
        check_xsd(xsd, xml).await?;
    }
    let attr = |n: &str| root.attribute(n).unwrap_or_default();
    let cert_der = B64
        .decode(attr("Certificado"))
        .map_err(|_| ("303", "Certificado ilegible".to_string()))?;
    let cert = cfdi::csd::Certificate::from_der(&cert_der).map_err(|e| ("308", e.to_string()))?;
    if cert.no_certificado() != attr("NoCertificado") {
        return Err(("303", "NoCertificado no corresponde al certificado".into()));
    }
    let emisor_rfc = root
        .children()
        .find(|n| n.tag_name().name() == "Emisor")
        .and_then(|n| n.attribute("Rfc"))
        .unwrap_or_default();
    if emisor_rfc != cert.rfc() {
        return Err(("303", "Sello no corresponde a emisor".into()));
    }
    let cadena = cfdi::cadena::of_xml(xml).map_err(|e| ("301", e.to_string()))?;
    cert.verify(cadena.as_bytes(), attr("Sello"))
        .map_err(|_| ("302", "Sello mal formado o inválido".to_string()))?;
    let fecha = NaiveDateTime::parse_from_str(attr("Fecha"), "%Y-%m-%dT%H:%M:%S")
        .map_err(|_| ("301", "Fecha inválida".to_string()))?;
    let tz = chrono_tz::America::Mexico_City;
    let now_local = Utc::now().with_timezone(&tz).naive_local();
    if fecha > now_local + chrono::Duration::minutes(5)
        || now_local - fecha > chrono::Duration::hours(72)
    {
        return Err(("401", "Fecha y hora de generación fuera de rango".into()));
    }
    let fecha_utc: DateTime<Utc> = fecha
        .and_local_timezone(tz)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    if fecha_utc < cert.not_before() || fecha_utc > cert.not_after() {
        return Err((
            "305",
            "La fecha de emisión no está dentro de la vigencia del CSD del emisor".into(),
        ));
    }
    let uuid = uuid::Uuid::new_v4().to_string().to_uppercase();
    let fecha_timbrado = now_local.format("%Y-%m-%dT%H:%M:%S").to_string();
    let sello_cfd = attr("Sello").to_string();
    let tfd_cadena = format!(
        "||1.1|{uuid}|{fecha_timbrado}|{RFC_PROV_CERTIF}|{sello_cfd}|{NO_CERTIFICADO_SAT}||"
    );
    let sello_sat = sim
        .csd
        .sign(tfd_cadena.as_bytes())
        .map_err(|e| ("708", e.to_string()))?;
    let tfd = format!(
        "<tfd:TimbreFiscalDigital xmlns:tfd=\"http://www.sat.gob.mx/TimbreFiscalDigital\" \
xsi:schemaLocation=\"http://www.sat.gob.mx/TimbreFiscalDigital http://www.sat.gob.mx/sitio_internet/cfd/TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd\" \
Version=\"1.1\" UUID=\"{uuid}\" FechaTimbrado=\"{fecha_timbrado}\" RfcProvCertif=\"{RFC_PROV_CERTIF}\" \
SelloCFD=\"{sello_cfd}\" NoCertificadoSAT=\"{NO_CERTIFICADO_SAT}\" SelloSAT=\"{sello_sat}\"/>"
    );
    let stamped = match xml.rfind("</cfdi:Complemento>") {
        Some(i) => format!("{}{tfd}{}", &xml[..i], &xml[i..]),
        None => {
            let i = xml
                .rfind("</cfdi:Comprobante>")
                .ok_or(("301", "XML mal formado".to_string()))?;
            format!(
                "{}<cfdi:Complemento>{tfd}</cfdi:Complemento>\n{}",
                &xml[..i],
                &xml[i..]
            )
        }
    };
    Ok((stamped, uuid, fecha_timbrado))
}

async fn check_xsd(xsd: &std::path::Path, xml: &str) -> Result<(), (&'static str, String)> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(xsd)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| ("708", format!("xmllint: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(xml.as_bytes())
            .await
            .map_err(|e| ("708", e.to_string()))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| ("708", e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .next()
            .unwrap_or("no valida contra el esquema")
            .to_string();
        Err(("301", format!("XML mal formado: {first}")))
    }
}

fn respond(op: &str, reply: Reply) -> Response {
    let inner = match reply {
        Reply::Stamped((xml, uuid, fecha)) => {
            let status = if op == "stamped" {
                "Comprobante recibido satisfactoriamente"
            } else {
                "Comprobante timbrado satisfactoriamente"
            };
            stamp_fields(&xml, &uuid, &fecha, status, "<s0:Incidencias/>")
        }
        Reply::Previous((xml, uuid, fecha)) => stamp_fields(
            &xml,
            &uuid,
            &fecha,
            "Comprobante timbrado previamente",
            &format!(
                "<s0:Incidencias>{}</s0:Incidencias>",
                incident("307", "El CFDI contiene un timbre previo")
            ),
        ),
        Reply::Incident(code, message) => {
            format!(
                "<s0:Incidencias>{}</s0:Incidencias>",
                incident(code, &message)
            )
        }
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><senv:Envelope xmlns:senv=\"{NS_SOAP}\" \
xmlns:tns=\"{NS_STAMP}\" xmlns:s0=\"{NS_RESULT}\"><senv:Body><tns:{op}Response><tns:{op}Result>{inner}\
</tns:{op}Result></tns:{op}Response></senv:Body></senv:Envelope>"
    );
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn stamp_fields(xml: &str, uuid: &str, fecha: &str, status: &str, incidencias: &str) -> String {
    let seal = tfd_attr(xml, "SelloSAT");
    format!(
        "<s0:xml>{}</s0:xml><s0:UUID>{uuid}</s0:UUID><s0:Fecha>{fecha}</s0:Fecha>\
<s0:CodEstatus>{status}</s0:CodEstatus><s0:SatSeal>{seal}</s0:SatSeal>\
<s0:NoCertificadoSAT>{NO_CERTIFICADO_SAT}</s0:NoCertificadoSAT>{incidencias}",
        esc(xml)
    )
}

fn incident(code: &str, message: &str) -> String {
    format!(
        "<s0:Incidencia><s0:IdIncidencia>1</s0:IdIncidencia><s0:CodigoError>{code}</s0:CodigoError>\
<s0:MensajeIncidencia>{}</s0:MensajeIncidencia><s0:NoCertificadoPac>{NO_CERTIFICADO_SAT}</s0:NoCertificadoPac>\
</s0:Incidencia>",
        esc(message)
    )
}

fn tfd_attr(xml: &str, name: &str) -> String {
    // The TFD is the last element the simulator wrote; its attributes are plain.
    let tfd = xml
        .find("TimbreFiscalDigital")
        .map(|i| &xml[i..])
        .unwrap_or_default();
    let needle = format!(" {name}=\"");
    tfd.find(&needle)
        .map(|i| {
            let rest = &tfd[i + needle.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default()
}

fn fault(code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><senv:Envelope xmlns:senv=\"{NS_SOAP}\"><senv:Body>\
<senv:Fault><faultcode>{code}</faultcode><faultstring>{}</faultstring></senv:Fault></senv:Body></senv:Envelope>",
        esc(message)
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}
