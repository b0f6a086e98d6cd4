//! An AquaCIS simulator: the utility's legacy CIS as its Axis SOAP 1.1 services answer
//! (`POST /Comercial/services/<WsName>`), every operation of [`legacy::ops`] on its own
//! in-memory data, so the production client (`legacy::Client`) can be pointed at it by
//! URL. Requests are read and answers written with [`legacy::wire`] — the same code as
//! the client — and AquaCIS's known defects are reproduced on purpose:
//!
//! 1. WS-Security: a call without a UsernameToken, or with the wrong user or password,
//!    is an HTTP 500 fault `wsse:InvalidSecurity`.
//! 2. `getDeuda`, `getDeudaTotalConFacturas`, `getImpagadosContrato` and
//!    `getDeudaContrato` spell their payload `<reultado>`.
//! 3. `getDocumentoOrdenTrabajo` types `codigoError` as `xsd:string` (`" 0 "` on
//!    success, `OT-NO-EXISTE` for an unknown order); the others as `xsd:int`.
//! 4. `resolveOT` reads only `busVHFumberSerie` and `vistitComments`; correctly spelled
//!    fields are ignored and the order is resolved with them empty.
//! 5. `cambiarEmailNotificacionPersona` reads `emailAntigo`; without it, code 3.
//! 6. `refreshData` with `otClassID` other than 1 (or no `operationalSiteID`) answers
//!    code 0 and no order.
//! 7. `crearOrdenTrabajo` without `idPtoServicio` is a `java.lang.NullPointerException`
//!    fault.
//!
//! An unknown contract is `codigoError` 1, never a fault. `avisarPago` is not
//! idempotent: the same notice twice is two payments.
//!
//! Fault injection (not AquaCIS's API, JSON under `/sim/`): `POST /sim/fallas` queues a
//! [`Fault`] (`{"operacion"?, "servicio"?, "tipo", "veces"?, "ms"?}`, `tipo` one of
//! `latencia`, `timeout`, `5xx`, `xml`, `reset`, `reset_despues`), `DELETE /sim/fallas`
//! clears them, `POST /sim/caida {"activa": true}` answers every SOAP call with a 503.
//! Also `GET /sim/avisos` (payments notified), `GET /sim/ordenes` (work orders),
//! `POST /sim/contratos` (a contract or a list, marked modified now), `POST /sim/deuda`
//! `{"numContrato", "total"}`, `POST /sim/datos` (a whole [`SimData`]) and
//! `GET /sim/llamadas` (calls per operation). Amounts in JSON are strings ("123.45").

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use legacy::ops::*;
use legacy::wire::{self, Incoming};
use legacy::{ErrorCode, Operation, Service};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A page of `consultaContratosModificados`.
pub const PAGE: usize = 500;
/// The operational site the simulator's work orders belong to.
pub const SITE: &str = "QRO-CENTRO";

// ---------------------------------------------------------------- public types

/// What an injected fault does to a matching call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TipoFalla {
    /// Sleep `ms` (default 1 s), then answer normally.
    #[serde(rename = "latencia")]
    Latencia,
    /// Sleep `ms` (default 60 s) — the client gives up first — then answer.
    #[serde(rename = "timeout")]
    Timeout,
    /// HTTP 503 with an HTML page; nothing processed.
    #[serde(rename = "5xx")]
    Error5xx,
    /// HTTP 200 with truncated XML; nothing processed.
    #[serde(rename = "xml")]
    XmlRoto,
    /// The connection is cut before an answer; nothing processed.
    #[serde(rename = "reset")]
    Reset,
    /// The operation is processed, then the connection is cut (the lost reply).
    #[serde(rename = "reset_despues")]
    ResetDespues,
}

/// One rule of the fault queue: applies to the next `veces` calls that match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// Operation name (`avisarPago`); any when absent.
    #[serde(default)]
    pub operacion: Option<String>,
    /// Service name (`InterfazGenericaGestionDeudaWS`); any when absent.
    #[serde(default)]
    pub servicio: Option<String>,
    pub tipo: TipoFalla,
    #[serde(default = "one")]
    pub veces: u32,
    #[serde(default)]
    pub ms: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// Every operation, once.
    pub fn any(tipo: TipoFalla) -> Fault {
        Fault {
            operacion: None,
            servicio: None,
            tipo,
            veces: 1,
            ms: None,
        }
    }
    /// One operation, once.
    pub fn on(operacion: &str, tipo: TipoFalla) -> Fault {
        Fault {
            operacion: Some(operacion.to_owned()),
            ..Fault::any(tipo)
        }
    }
    pub fn times(mut self, veces: u32) -> Fault {
        self.veces = veces;
        self
    }
    pub fn ms(mut self, ms: u64) -> Fault {
        self.ms = Some(ms);
        self
    }

    fn matches(&self, operation: &str, service: Service) -> bool {
        self.veces > 0
            && self.operacion.as_deref().is_none_or(|o| o == operation)
            && self
                .servicio
                .as_deref()
                .is_none_or(|s| s == service.ws_name())
    }
}

/// A payment notified with `avisarPago`, as recorded (every call, duplicates too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Aviso {
    pub id: i64,
    pub num_contrato: String,
    pub importe: Decimal,
    pub fecha: NaiveDate,
    pub forma_pago: String,
    pub referencia_externa: String,
    pub recibido: DateTime<Utc>,
}

/// A meter with its punto de servicio (absent for a meter not placed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContadorSim {
    #[serde(flatten)]
    pub contador: Contador,
    #[serde(default)]
    pub id_pto_servicio: Option<i64>,
}

/// The simulator's data. Per-contract collections are keyed by `numContrato`.
/// Missing persons are made from the contracts' titular; a contract's debt is its
/// `deuda`, else the sum of its invoices' `pendiente`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SimData {
    pub contratos: Vec<Contrato>,
    pub personas: Vec<Persona>,
    pub contadores: Vec<ContadorSim>,
    /// Newest first or not: sorted on load.
    pub facturas: BTreeMap<String, Vec<Factura>>,
    pub lecturas: BTreeMap<String, Vec<Lectura>>,
    pub actuaciones: BTreeMap<String, Vec<Actuacion>>,
    pub cambios_contador: BTreeMap<String, Vec<CambioContador>>,
    /// Contracts whose collection is blocked, with the reason.
    pub bloqueos: BTreeMap<String, String>,
}

/// A visit reported with `informarVisita`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Visita {
    pub fecha: NaiveDate,
    pub resultado: String,
}

/// A work order as the simulator keeps it, with what `resolveOT` received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Orden {
    pub orden: OrdenTrabajo,
    pub referencia_externa: String,
    pub informes: Vec<Visita>,
    /// `busVHFumberSerie` as received by `resolveOT` (empty when it was not sent).
    pub numero_serie: Option<String>,
    /// `vistitComments` as received by `resolveOT`.
    pub comentarios: Option<String>,
    pub codigo_resolucion: Option<String>,
}

// ---------------------------------------------------------------- state

#[derive(Debug, Clone)]
struct ContractRec {
    contrato: Contrato,
    deuda: Decimal,
    /// Newest first.
    facturas: Vec<Factura>,
    /// Oldest first.
    lecturas: Vec<Lectura>,
    actuaciones: Vec<Actuacion>,
    cambios: Vec<CambioContador>,
    bloqueo: Option<String>,
    modificado: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Referencia {
    num_contrato: String,
    importe: Decimal,
    /// `PENDIENTE`, `COBRADA`, `CANCELADA`.
    estado: &'static str,
}

#[derive(Default)]
struct State {
    contratos: BTreeMap<String, ContractRec>,
    por_nif: BTreeMap<String, BTreeSet<String>>,
    personas: BTreeMap<String, Persona>,
    contadores: BTreeMap<String, ContadorSim>,
    /// idPtoServicio → meter serial.
    puntos: BTreeMap<i64, String>,
    /// numFactura → numContrato.
    facturas: BTreeMap<String, String>,
    referencias: BTreeMap<String, Referencia>,
    avisos: Vec<Aviso>,
    ordenes: BTreeMap<i64, Orden>,
    next_persona: i64,
    next_pago: i64,
    next_solicitud: i64,
    next_referencia: i64,
    next_orden: i64,
}

struct Control {
    down: bool,
    faults: VecDeque<Fault>,
    calls: HashMap<String, u64>,
}

/// The simulator. Cheap to share (`Arc`); every method takes `&self`.
pub struct AquacisSim {
    username: String,
    password: String,
    state: Mutex<State>,
    control: Mutex<Control>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Today in Querétaro (invoices fall due by local date).
fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::America::Mexico_City)
        .date_naive()
}

impl AquacisSim {
    pub fn new(username: &str, password: &str) -> Arc<Self> {
        Arc::new(AquacisSim {
            username: username.to_owned(),
            password: password.to_owned(),
            state: Mutex::new(State::empty()),
            control: Mutex::new(Control {
                down: false,
                faults: VecDeque::new(),
                calls: HashMap::new(),
            }),
        })
    }

    /// Replace all data (payments, references and work orders included).
    pub fn load(&self, data: SimData) {
        let st = State::from_data(data, Utc::now());
        *lock(&self.state) = st;
    }

    /// Load the tenant's contracts, titulares, meters, newest invoices (12) and
    /// readings (24) from SUPRA's database; returns the contracts loaded.
    pub async fn seed_from_db(&self, db: &db::Db, tenant: db::TenantId) -> anyhow::Result<usize> {
        let snap = {
            let mut tx = db.read(tenant).await?;
            db::legacy_sim::snapshot(&mut tx, 12, 24).await?
        };
        let data = from_snapshot(&snap, today());
        let n = data.contratos.len();
        self.load(data);
        Ok(n)
    }

    /// While on, every SOAP call is answered with HTTP 503.
    pub fn set_down(&self, down: bool) {
        lock(&self.control).down = down;
    }

    pub fn inject(&self, fault: Fault) {
        lock(&self.control).faults.push_back(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.control).faults.clear();
    }

    /// Every `avisarPago` recorded, in order.
    pub fn avisos(&self) -> Vec<Aviso> {
        lock(&self.state).avisos.clone()
    }

    /// Every work order, by id.
    pub fn ordenes(&self) -> Vec<Orden> {
        lock(&self.state).ordenes.values().cloned().collect()
    }

    /// Insert or replace a contract and mark it modified now. Its `deuda`, when given,
    /// becomes the contract's debt.
    pub fn upsert_contract(&self, c: Contrato) {
        lock(&self.state).upsert(c, Utc::now(), today());
    }

    /// Set a contract's debt (its invoices' pending amounts follow, newest first).
    pub fn set_debt(&self, num_contrato: &str, total: Decimal) {
        let mut st = lock(&self.state);
        if let Some(rec) = st.contratos.get_mut(num_contrato) {
            rec.deuda = total;
            // A debt change is a change: the nightly sync's listing returns it.
            rec.modificado = Utc::now();
            reallocate(rec, today());
        }
    }

    /// SOAP calls received for `operation`, failed ones included.
    pub fn calls(&self, operation: &str) -> u64 {
        lock(&self.control)
            .calls
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    fn count(&self, operation: &str) {
        *lock(&self.control)
            .calls
            .entry(operation.to_owned())
            .or_default() += 1;
    }

    fn take_fault(&self, operation: &str, service: Service) -> Option<Fault> {
        let mut c = lock(&self.control);
        let i = c
            .faults
            .iter()
            .position(|f| f.matches(operation, service))?;
        let f = c.faults[i].clone();
        c.faults[i].veces -= 1;
        if c.faults[i].veces == 0 {
            c.faults.remove(i);
        }
        Some(f)
    }

    fn is_down(&self) -> bool {
        lock(&self.control).down
    }
}

// ---------------------------------------------------------------- HTTP

pub fn router(sim: Arc<AquacisSim>) -> Router {
    Router::new()
        .route("/Comercial/services/{ws}", post(soap))
        .route("/sim/fallas", post(sim_inject).delete(sim_clear))
        .route("/sim/caida", post(sim_down))
        .route("/sim/avisos", get(sim_avisos))
        .route("/sim/ordenes", get(sim_ordenes))
        .route("/sim/contratos", post(sim_contratos))
        .route("/sim/deuda", post(sim_deuda))
        .route("/sim/datos", post(sim_datos))
        .route("/sim/llamadas", get(sim_llamadas))
        .with_state(sim)
}

/// Start on 127.0.0.1:0 in a tokio task; returns the base URL (http://127.0.0.1:PORT).
pub async fn spawn(sim: Arc<AquacisSim>) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = router(sim);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "AquaCIS simulator stopped");
        }
    });
    Ok(url)
}

const UNAVAILABLE_HTML: &str = "<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p><hr><address>Apache/2.4.6 (Red Hat) Server at aquacis-cf.ceaqueretaro.gob.mx Port 443</address></body></html>";

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/html; charset=iso-8859-1")],
        UNAVAILABLE_HTML,
    )
        .into_response()
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn soap_fault(code: &str, message: &str) -> Response {
    xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        wire::fault(code, message),
    )
}

/// A connection cut before the answer: the head promises a body that never comes, so
/// the server closes the connection and the client reads an incomplete message.
fn cut() -> Response {
    // A streamed (unknown-length) body: hyper then trusts the Content-Length header and
    // drops the connection when the body ends short of it.
    let body = Body::from_stream(Body::empty().into_data_stream());
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .header(header::CONTENT_LENGTH, "2048")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn soap(
    AxState(sim): AxState<Arc<AquacisSim>>,
    Path(ws): Path<String>,
    body: String,
) -> Response {
    let Some(service) = Service::from_ws_name(&ws) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            format!("<h1>{ws}</h1><p>No service is available at this URL</p>"),
        )
            .into_response();
    };
    let incoming = Incoming::parse(&body);
    let operation = incoming.as_ref().map(|i| i.operation.clone()).ok();
    if let Some(op) = &operation {
        sim.count(op);
    }
    if sim.is_down() {
        return unavailable();
    }
    let fault = operation
        .as_deref()
        .and_then(|op| sim.take_fault(op, service));
    if let Some(f) = &fault {
        match f.tipo {
            TipoFalla::Latencia => {
                tokio::time::sleep(Duration::from_millis(f.ms.unwrap_or(1_000))).await
            }
            TipoFalla::Timeout => {
                tokio::time::sleep(Duration::from_millis(f.ms.unwrap_or(60_000))).await
            }
            TipoFalla::Error5xx => return unavailable(),
            TipoFalla::XmlRoto => {
                let op = operation.as_deref().unwrap_or("respuesta");
                return xml(
                    StatusCode::OK,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soapenv:Envelope xmlns:soapenv=\"{}\"><soapenv:Body><ns1:{op}Response xmlns:ns1=\"{}\"><codigoError>0</codigoEr",
                        wire::NS_SOAP,
                        service.namespace()
                    ),
                );
            }
            TipoFalla::Reset => return cut(),
            TipoFalla::ResetDespues => {}
        }
    }
    let answer = sim.answer(service, &body, incoming);
    if fault.is_some_and(|f| f.tipo == TipoFalla::ResetDespues) {
        return cut();
    }
    answer
}

// ---------------------------------------------------------------- SOAP dispatch

/// How an operation fails: a `codigoError` in a normal answer, or a SOAP fault.
enum Fallo {
    Codigo(ErrorCode, String),
    Soap(&'static str, String),
}

/// What Axis's parser would say: the cause, without our client's framing.
fn reason(e: &legacy::Error) -> String {
    match e {
        legacy::Error::Protocol(m) => m.clone(),
        other => other.to_string(),
    }
}

fn codigo(n: i64, message: impl Into<String>) -> Fallo {
    Fallo::Codigo(ErrorCode::Code(n), message.into())
}

fn no_contrato(num: &str) -> Fallo {
    codigo(1, format!("No existe el contrato {num}"))
}

/// `resolveOT` as AquaCIS reads it: only the misspelled fields, each optional.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ResolveOtLeido {
    #[serde(rename = "otID")]
    ot_id: i64,
    #[serde(rename = "busVHFumberSerie", default)]
    numero_serie: Option<String>,
    #[serde(rename = "vistitComments", default)]
    comentarios: Option<String>,
    #[serde(rename = "codigoResolucion", default)]
    codigo_resolucion: Option<String>,
}
impl Operation for ResolveOtLeido {
    const NAME: &'static str = ResolveOt::NAME;
    const SERVICE: Service = ResolveOt::SERVICE;
    const READ: bool = false;
    type Response = OrdenResponse;
}

/// `cambiarEmailNotificacionPersona` as AquaCIS reads it (`emailAntigo` or nothing).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CambiarEmailLeido {
    nif: String,
    #[serde(rename = "emailAntigo", default)]
    email_antiguo: Option<String>,
    #[serde(rename = "emailNuevo")]
    email_nuevo: String,
}
impl Operation for CambiarEmailLeido {
    const NAME: &'static str = CambiarEmailNotificacionPersona::NAME;
    const SERVICE: Service = CambiarEmailNotificacionPersona::SERVICE;
    const READ: bool = false;
    type Response = SolicitudResponse;
}

/// The debt operations that write `<reultado>`.
const REULTADO: [&str; 4] = [
    GetDeuda::NAME,
    GetDeudaTotalConFacturas::NAME,
    GetImpagadosContrato::NAME,
    GetDeudaContrato::NAME,
];

/// AquaCIS's own spelling and typing on top of the clean serialization.
fn as_aquacis_writes(operation: &str, mut text: String) -> String {
    if REULTADO.contains(&operation) {
        text = text
            .replace("<resultado>", "<reultado>")
            .replace("</resultado>", "</reultado>");
    }
    if operation == GetDocumentoOrdenTrabajo::NAME {
        text = text
            .replace(
                "<codigoError>0</codigoError>",
                "<codigoError xsi:type=\"xsd:string\"> 0 </codigoError>",
            )
            .replace("<codigoError>", "<codigoError xsi:type=\"xsd:string\">");
    } else {
        text = text.replace("<codigoError>", "<codigoError xsi:type=\"xsd:int\">");
    }
    text
}

impl AquacisSim {
    fn answer(
        &self,
        service: Service,
        text: &str,
        incoming: Result<Incoming, legacy::Error>,
    ) -> Response {
        let incoming = match incoming {
            Ok(i) => i,
            Err(e) => {
                return soap_fault(
                    "soapenv:Server.userException",
                    &format!("org.xml.sax.SAXParseException: {}", reason(&e)),
                );
            }
        };
        // Axis's WSDoAllReceiver runs before the service.
        match &incoming.username_token {
            None => {
                return soap_fault(
                    "wsse:InvalidSecurity",
                    "WSDoAllReceiver: Request does not contain required Security header",
                );
            }
            Some(t) if t.username != self.username || t.password != self.password => {
                return soap_fault(
                    "wsse:InvalidSecurity",
                    "The security token could not be authenticated or authorized",
                );
            }
            Some(_) => {}
        }
        let op = incoming.operation.as_str();
        if !ALL.iter().any(|(name, s, _)| *name == op && *s == service) {
            return soap_fault("soapenv:Client", &format!("No such operation '{op}'"));
        }
        let now = Utc::now();
        let day = today();
        let i = &incoming;
        let t = text;
        match op {
            GetContratosPorNif::NAME => {
                self.run(i, t, |s, r: GetContratosPorNif| s.por_nif(&r.nif, false))
            }
            GetContratosPorNifconDeuda::NAME => {
                self.run(i, t, |s, r: GetContratosPorNifconDeuda| {
                    s.por_nif(&r.nif, true)
                })
            }
            GetTitularPorNif::NAME => self.run(i, t, |s, r: GetTitularPorNif| s.titular(&r.nif)),
            ConsultaDetalleContrato::NAME => self.run(i, t, |s, r: ConsultaDetalleContrato| {
                s.contrato(&r.num_contrato, true)
            }),
            GetContrato::NAME => {
                self.run(i, t, |s, r: GetContrato| s.contrato(&r.num_contrato, false))
            }
            ConsultaHistoricoActuacionesContrato::NAME => {
                self.run(i, t, |s, r: ConsultaHistoricoActuacionesContrato| {
                    let rec = s.rec(&r.num_contrato)?;
                    Ok(ActuacionesResponse {
                        actuaciones: rec.actuaciones.clone(),
                        ..Default::default()
                    })
                })
            }
            GetFacturasContrato::NAME => self.run(i, t, |s, r: GetFacturasContrato| {
                let rec = s.rec(&r.num_contrato)?;
                Ok(FacturasResponse {
                    facturas: rec.facturas.clone(),
                    ..Default::default()
                })
            }),
            GetPdfFactura::NAME => self.run(i, t, |s, r: GetPdfFactura| s.pdf_factura(&r)),
            GetFacturaE::NAME => self.run(i, t, |s, r: GetFacturaE| s.factura_e(&r.num_factura)),
            GetTarifaDeAguaPorContrato::NAME => {
                self.run(i, t, |s, r: GetTarifaDeAguaPorContrato| {
                    s.tarifa(&r.num_contrato)
                })
            }
            SolicitudActivacionFacturaOnline::NAME => {
                self.run(i, t, |s, r: SolicitudActivacionFacturaOnline| {
                    s.factura_online(&r, day)
                })
            }
            CambiarEmailNotificacionPersona::NAME => self.run(i, t, |s, r: CambiarEmailLeido| {
                s.cambiar_email(&r, now, day)
            }),
            ConsultaContratosModificados::NAME => {
                self.run(i, t, |s, r: ConsultaContratosModificados| {
                    s.modificados(&r, now)
                })
            }
            GetDeuda::NAME => self.run(i, t, |s, r: GetDeuda| {
                s.deuda(&r.num_contrato, Detalle::Total)
            }),
            GetDeudaTotalConFacturas::NAME => self.run(i, t, |s, r: GetDeudaTotalConFacturas| {
                s.deuda(&r.num_contrato, Detalle::ConFacturas)
            }),
            GetImpagadosContrato::NAME => self.run(i, t, |s, r: GetImpagadosContrato| {
                s.deuda(&r.num_contrato, Detalle::Vencidas)
            }),
            GetDeudaContrato::NAME => {
                self.run(i, t, |s, r: GetDeudaContrato| s.desglose(&r.num_contrato))
            }
            GetDeudaContratoBloqueoCobro::NAME => {
                self.run(i, t, |s, r: GetDeudaContratoBloqueoCobro| {
                    s.bloqueo(&r.num_contrato)
                })
            }
            GetDocumentoPago::NAME => self.run(i, t, |s, r: GetDocumentoPago| s.documento_pago(&r)),
            CobrarReferencia::NAME => self.run(i, t, |s, r: CobrarReferencia| {
                let r = CobrarReferenciaFrmPago {
                    referencia: r.referencia,
                    importe: r.importe,
                    fecha_pago: r.fecha_pago,
                    forma_pago: "99".into(),
                    referencia_externa: r.referencia_externa,
                };
                s.cobrar(&r, day)
            }),
            CobrarReferenciaFrmPago::NAME => {
                self.run(i, t, |s, r: CobrarReferenciaFrmPago| s.cobrar(&r, day))
            }
            AvisarPago::NAME => self.run(i, t, |s, r: AvisarPago| s.avisar(&r, now, day)),
            CancelarReferencia::NAME => {
                self.run(i, t, |s, r: CancelarReferencia| s.cancelar(&r, day))
            }
            GetContador::NAME => self.run(i, t, |s, r: GetContador| {
                let m = s.meter(&r.numero_serie)?;
                Ok(ContadorResponse {
                    contador: Some(m.contador.clone()),
                    ..Default::default()
                })
            }),
            GetPuntoServicioPorContador::NAME => {
                self.run(i, t, |s, r: GetPuntoServicioPorContador| {
                    s.punto(&r.numero_serie)
                })
            }
            GetCambiosContadorDeContrato::NAME => {
                self.run(i, t, |s, r: GetCambiosContadorDeContrato| {
                    let rec = s.rec(&r.num_contrato)?;
                    Ok(CambiosContadorResponse {
                        cambios: rec.cambios.clone(),
                        ..Default::default()
                    })
                })
            }
            GetLecturas::NAME => self.run(i, t, |s, r: GetLecturas| {
                let rec = s.rec(&r.num_contrato)?;
                Ok(LecturasResponse {
                    lecturas: rec.lecturas.iter().rev().cloned().collect(),
                    ..Default::default()
                })
            }),
            GetConsumos::NAME => self.run(i, t, |s, r: GetConsumos| s.consumos(&r.num_contrato)),
            SolicitudIntroduccionLectura::NAME => {
                self.run(i, t, |s, r: SolicitudIntroduccionLectura| {
                    s.introducir_lectura(&r)
                })
            }
            CrearOrdenTrabajo::NAME => self.run(i, t, |s, r: CrearOrdenTrabajo| s.crear_orden(&r)),
            RefreshData::NAME => self.run(i, t, |s, r: RefreshData| s.refresh(&r)),
            InformarVisita::NAME => self.run(i, t, |s, r: InformarVisita| s.informar_visita(&r)),
            ResolveOt::NAME => self.run(i, t, |s, r: ResolveOtLeido| s.resolver(&r)),
            GetDocumentoOrdenTrabajo::NAME => self.run(i, t, |s, r: GetDocumentoOrdenTrabajo| {
                s.documento_orden(r.ot_id)
            }),
            other => soap_fault("soapenv:Client", &format!("No such operation '{other}'")),
        }
    }

    /// Decode operation `O`, run it on the state, write the answer as AquaCIS does.
    fn run<O, F>(&self, incoming: &Incoming, text: &str, f: F) -> Response
    where
        O: Operation,
        O::Response: Reply,
        F: FnOnce(&mut State, O) -> Result<O::Response, Fallo>,
    {
        let req = match incoming.decode::<O>(text) {
            Ok(r) => r,
            Err(e) => {
                return soap_fault(
                    "soapenv:Server.userException",
                    &format!("org.xml.sax.SAXException: {}", reason(&e)),
                );
            }
        };
        let outcome = f(&mut lock(&self.state), req);
        let resp = match outcome {
            Ok(r) => r,
            Err(Fallo::Codigo(code, message)) => O::Response::refusal(code, message),
            Err(Fallo::Soap(code, message)) => return soap_fault(code, &message),
        };
        match wire::response(O::NAME, O::SERVICE, &resp) {
            Ok(body) => xml(StatusCode::OK, as_aquacis_writes(O::NAME, body)),
            Err(e) => soap_fault("soapenv:Server", &e.to_string()),
        }
    }
}

// ---------------------------------------------------------------- operations

#[derive(Clone, Copy, PartialEq, Eq)]
enum Detalle {
    Total,
    ConFacturas,
    Vencidas,
}

fn is_positive(d: Decimal) -> bool {
    d > Decimal::ZERO
}

/// Pending amounts of a contract's invoices from its debt, newest first (what is
/// owed is the newest bills; older ones count as paid).
fn reallocate(rec: &mut ContractRec, today: NaiveDate) {
    let mut remaining = rec.deuda.max(Decimal::ZERO);
    for f in &mut rec.facturas {
        let pending = f.importe.max(Decimal::ZERO).min(remaining);
        remaining -= pending;
        f.pendiente = pending;
        f.estado = estado_factura(pending, f.fecha_vencimiento, today).into();
    }
}

fn estado_factura(pending: Decimal, due: NaiveDate, today: NaiveDate) -> &'static str {
    if !is_positive(pending) {
        "PAGADA"
    } else if due < today {
        "VENCIDA"
    } else {
        "PENDIENTE"
    }
}

/// A small document that starts like a PDF (`%PDF-1.4`), for the operations that return
/// one base64-encoded.
fn documento(title: &str, lines: &[String]) -> String {
    let mut text = format!("%PDF-1.4\n%\u{e2}\u{e3}\u{cf}\u{d3}\n% AquaCIS (simulador): {title}\n");
    for l in lines {
        text.push_str(&format!("% {l}\n"));
    }
    text.push_str("1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    B64.encode(text.as_bytes())
}

fn split_name(full: &str) -> (String, String, String) {
    let words: Vec<&str> = full.split_whitespace().collect();
    match words.len() {
        0 => (String::new(), String::new(), String::new()),
        1 | 2 => (words.join(" "), String::new(), String::new()),
        n => (
            words[..n - 2].join(" "),
            words[n - 2].to_owned(),
            words[n - 1].to_owned(),
        ),
    }
}

impl State {
    fn empty() -> State {
        State {
            next_persona: 1,
            next_pago: 90_000_001,
            next_solicitud: 50_001,
            next_referencia: 1,
            next_orden: 700_001,
            ..State::default()
        }
    }

    fn from_data(data: SimData, now: DateTime<Utc>) -> State {
        let mut st = State::empty();
        st.next_persona = data
            .personas
            .iter()
            .map(|p| p.id_persona)
            .max()
            .unwrap_or(0)
            + 1;
        for p in data.personas {
            st.personas.insert(p.nif.clone(), p);
        }
        for m in data.contadores {
            if let Some(id) = m.id_pto_servicio {
                st.puntos.insert(id, m.contador.numero_serie.clone());
            }
            st.contadores.insert(m.contador.numero_serie.clone(), m);
        }
        let SimData {
            contratos,
            mut facturas,
            mut lecturas,
            mut actuaciones,
            mut cambios_contador,
            mut bloqueos,
            ..
        } = data;
        for c in contratos {
            let num = c.num_contrato.clone();
            let mut fs = facturas.remove(&num).unwrap_or_default();
            fs.sort_by(|a, b| (b.fecha_emision, &b.periodo).cmp(&(a.fecha_emision, &a.periodo)));
            let mut ls = lecturas.remove(&num).unwrap_or_default();
            ls.sort_by_key(|l| l.fecha);
            let deuda = c
                .deuda
                .unwrap_or_else(|| fs.iter().map(|f| f.pendiente).sum());
            for f in &fs {
                st.facturas.insert(f.num_factura.clone(), num.clone());
            }
            let rec = ContractRec {
                contrato: Contrato { deuda: None, ..c },
                deuda,
                facturas: fs,
                lecturas: ls,
                actuaciones: actuaciones.remove(&num).unwrap_or_default(),
                cambios: cambios_contador.remove(&num).unwrap_or_default(),
                bloqueo: bloqueos.remove(&num),
                modificado: now,
            };
            st.insert(rec, None);
        }
        st
    }

    /// Index a contract (NIF, person, meter) and store it. A meter first seen here
    /// takes the service point of the contract's previous meter, if any.
    fn insert(&mut self, rec: ContractRec, previous_serial: Option<&str>) {
        let c = &rec.contrato;
        let num = c.num_contrato.clone();
        self.por_nif
            .entry(c.nif.clone())
            .or_default()
            .insert(num.clone());
        if !self.personas.contains_key(&c.nif) {
            let (nombre, apellido1, apellido2) = split_name(&c.titular);
            let p = Persona {
                id_persona: self.next_persona,
                nif: c.nif.clone(),
                nombre,
                apellido1,
                apellido2,
                email: c.email.clone(),
                telefono: c.telefono.clone(),
            };
            self.next_persona += 1;
            self.personas.insert(c.nif.clone(), p);
        }
        if let Some(serial) = &c.numero_serie_contador {
            let previous_point = previous_serial
                .filter(|s| *s != serial)
                .and_then(|s| self.contadores.get(s))
                .and_then(|m| m.id_pto_servicio);
            let m = self
                .contadores
                .entry(serial.clone())
                .or_insert_with(|| ContadorSim {
                    contador: Contador {
                        numero_serie: serial.clone(),
                        marca: String::new(),
                        calibre: String::new(),
                        digitos: 5,
                        fecha_instalacion: None,
                        num_contrato: Some(num.clone()),
                    },
                    id_pto_servicio: previous_point,
                });
            m.contador.num_contrato = Some(num.clone());
            if let Some(id) = m.id_pto_servicio {
                self.puntos.insert(id, serial.clone());
            }
        }
        self.contratos.insert(num, rec);
    }

    fn upsert(&mut self, c: Contrato, now: DateTime<Utc>, today: NaiveDate) {
        let num = c.num_contrato.clone();
        let old = self.contratos.remove(&num);
        let previous_serial = old
            .as_ref()
            .and_then(|o| o.contrato.numero_serie_contador.clone());
        if let Some(old) = &old
            && old.contrato.nif != c.nif
            && let Some(set) = self.por_nif.get_mut(&old.contrato.nif)
        {
            set.remove(&num);
        }
        let mut rec = match old {
            Some(mut o) => {
                o.contrato = Contrato {
                    deuda: None,
                    ..c.clone()
                };
                o
            }
            None => ContractRec {
                contrato: Contrato {
                    deuda: None,
                    ..c.clone()
                },
                deuda: Decimal::ZERO,
                facturas: vec![],
                lecturas: vec![],
                actuaciones: vec![],
                cambios: vec![],
                bloqueo: None,
                modificado: now,
            },
        };
        rec.modificado = now;
        if let Some(d) = c.deuda {
            rec.deuda = d;
            reallocate(&mut rec, today);
        }
        // Keep the person's contact in step with the contract.
        if let Some(p) = self.personas.get_mut(&c.nif) {
            if c.email.is_some() {
                p.email = c.email.clone();
            }
            if c.telefono.is_some() {
                p.telefono = c.telefono.clone();
            }
        }
        self.insert(rec, previous_serial.as_deref());
    }

    fn rec(&self, num: &str) -> Result<&ContractRec, Fallo> {
        self.contratos.get(num).ok_or_else(|| no_contrato(num))
    }

    fn rec_mut(&mut self, num: &str) -> Result<&mut ContractRec, Fallo> {
        self.contratos.get_mut(num).ok_or_else(|| no_contrato(num))
    }

    fn meter(&self, serial: &str) -> Result<&ContadorSim, Fallo> {
        self.contadores
            .get(serial)
            .ok_or_else(|| codigo(1, format!("No existe el contador {serial}")))
    }

    fn solicitud(&mut self) -> i64 {
        self.next_solicitud += 1;
        self.next_solicitud - 1
    }

    fn view(rec: &ContractRec, with_debt: bool) -> Contrato {
        Contrato {
            deuda: with_debt.then_some(rec.deuda),
            ..rec.contrato.clone()
        }
    }

    fn por_nif(&self, nif: &str, con_deuda: bool) -> Result<ContratosResponse, Fallo> {
        let nums = self
            .por_nif
            .get(nif)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| codigo(2, format!("No existen contratos para el NIF {nif}")))?;
        let contratos = nums
            .iter()
            .filter_map(|n| self.contratos.get(n))
            .filter(|r| !con_deuda || is_positive(r.deuda))
            .map(|r| State::view(r, con_deuda))
            .collect();
        Ok(ContratosResponse {
            contratos,
            ..Default::default()
        })
    }

    fn titular(&self, nif: &str) -> Result<PersonaResponse, Fallo> {
        let p = self
            .personas
            .get(nif)
            .ok_or_else(|| codigo(2, format!("No existe ninguna persona con el NIF {nif}")))?;
        Ok(PersonaResponse {
            persona: Some(p.clone()),
            ..Default::default()
        })
    }

    fn contrato(&self, num: &str, with_debt: bool) -> Result<ContratoResponse, Fallo> {
        let rec = self.rec(num)?;
        Ok(ContratoResponse {
            contrato: Some(State::view(rec, with_debt)),
            ..Default::default()
        })
    }

    fn pdf_factura(&self, r: &GetPdfFactura) -> Result<DocumentoResponse, Fallo> {
        let rec = self.rec(&r.num_contrato)?;
        let f = rec
            .facturas
            .iter()
            .find(|f| f.num_factura == r.num_factura)
            .ok_or_else(|| codigo(2, format!("No existe la factura {}", r.num_factura)))?;
        Ok(DocumentoResponse {
            documento: Some(documento(
                &format!("Factura {}", f.num_factura),
                &[
                    format!(
                        "Contrato {} - {}",
                        rec.contrato.num_contrato, rec.contrato.titular
                    ),
                    format!("Periodo {}", f.periodo),
                    format!("Importe {}", f.importe),
                    format!("Vence {}", f.fecha_vencimiento),
                ],
            )),
            ..Default::default()
        })
    }

    fn factura_e(&self, num_factura: &str) -> Result<DocumentoResponse, Fallo> {
        let f = self
            .facturas
            .get(num_factura)
            .and_then(|n| self.contratos.get(n))
            .and_then(|rec| {
                rec.facturas
                    .iter()
                    .find(|f| f.num_factura == num_factura)
                    .map(|f| (rec, f))
            });
        let Some((rec, f)) = f else {
            return Err(codigo(2, format!("No existe la factura {num_factura}")));
        };
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><facturaE numFactura=\"{}\" numContrato=\"{}\" periodo=\"{}\" fechaEmision=\"{}\" importe=\"{}\"/>",
            f.num_factura, rec.contrato.num_contrato, f.periodo, f.fecha_emision, f.importe
        );
        Ok(DocumentoResponse {
            documento: Some(B64.encode(xml.as_bytes())),
            ..Default::default()
        })
    }

    fn tarifa(&self, num: &str) -> Result<TarifaResponse, Fallo> {
        let rec = self.rec(num)?;
        let (code, text) = match rec.contrato.uso.as_str() {
            "DOMESTICO" => ("DOM-01", "Tarifa doméstica"),
            "COMERCIAL" => ("COM-01", "Tarifa comercial"),
            "INDUSTRIAL" => ("IND-01", "Tarifa industrial"),
            "PUBLICO" => ("PUB-01", "Tarifa de servicios públicos"),
            _ => ("GEN-01", "Tarifa general"),
        };
        Ok(TarifaResponse {
            codigo_tarifa: Some(code.into()),
            descripcion: Some(text.into()),
            ..Default::default()
        })
    }

    fn factura_online(
        &mut self,
        r: &SolicitudActivacionFacturaOnline,
        day: NaiveDate,
    ) -> Result<SolicitudResponse, Fallo> {
        self.rec(&r.num_contrato)?;
        if !r.email.contains('@') {
            return Err(codigo(4, format!("El email {} no es válido", r.email)));
        }
        let n = self.solicitud();
        let rec = self.rec_mut(&r.num_contrato)?;
        rec.actuaciones.push(Actuacion {
            fecha: day,
            tipo: "FACTURA_ONLINE".into(),
            descripcion: format!("Alta de factura electrónica a {}", r.email),
            referencia: Some(n.to_string()),
        });
        Ok(SolicitudResponse {
            num_solicitud: Some(n),
            ..Default::default()
        })
    }

    fn cambiar_email(
        &mut self,
        r: &CambiarEmailLeido,
        now: DateTime<Utc>,
        day: NaiveDate,
    ) -> Result<SolicitudResponse, Fallo> {
        let p = self
            .personas
            .get(&r.nif)
            .ok_or_else(|| codigo(2, format!("No existe ninguna persona con el NIF {}", r.nif)))?;
        let current = p.email.clone().unwrap_or_default();
        let matches = r
            .email_antiguo
            .as_deref()
            .is_some_and(|old| old.trim().eq_ignore_ascii_case(current.trim()));
        if !matches {
            return Err(codigo(3, "El email anterior no coincide"));
        }
        if !r.email_nuevo.contains('@') {
            return Err(codigo(
                4,
                format!("El email {} no es válido", r.email_nuevo),
            ));
        }
        let n = self.solicitud();
        if let Some(p) = self.personas.get_mut(&r.nif) {
            p.email = Some(r.email_nuevo.clone());
        }
        let nums: Vec<String> = self
            .por_nif
            .get(&r.nif)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        for num in nums {
            if let Some(rec) = self.contratos.get_mut(&num) {
                rec.contrato.email = Some(r.email_nuevo.clone());
                rec.modificado = now;
                rec.actuaciones.push(Actuacion {
                    fecha: day,
                    tipo: "CAMBIO_EMAIL".into(),
                    descripcion: format!("Email de notificación: {}", r.email_nuevo),
                    referencia: Some(n.to_string()),
                });
            }
        }
        Ok(SolicitudResponse {
            num_solicitud: Some(n),
            ..Default::default()
        })
    }

    fn modificados(
        &self,
        r: &ConsultaContratosModificados,
        now: DateTime<Utc>,
    ) -> Result<ModificadosResponse, Fallo> {
        let since = DateTime::parse_from_rfc3339(r.fecha_desde.trim())
            .map_err(|_| codigo(4, format!("La fecha {} no es válida", r.fecha_desde)))?
            .with_timezone(&Utc);
        if r.pagina < 1 {
            return Err(codigo(5, format!("La página {} no es válida", r.pagina)));
        }
        let skip = (r.pagina as usize - 1).saturating_mul(PAGE);
        let mut changed = self
            .contratos
            .values()
            .filter(|rec| rec.modificado > since)
            .skip(skip);
        let contratos: Vec<String> = changed
            .by_ref()
            .take(PAGE)
            .map(|rec| rec.contrato.num_contrato.clone())
            .collect();
        let hay_mas = changed.next().is_some();
        Ok(ModificadosResponse {
            contratos,
            hay_mas,
            fecha_consulta: now.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ..Default::default()
        })
    }

    fn deuda(&self, num: &str, detalle: Detalle) -> Result<DeudaResponse, Fallo> {
        let rec = self.rec(num)?;
        let pending = rec.facturas.iter().filter(|f| is_positive(f.pendiente));
        let resultado = match detalle {
            Detalle::Total => Deuda {
                num_contrato: num.to_owned(),
                deuda_total: rec.deuda,
                num_facturas_pendientes: pending.count() as i64,
                facturas: vec![],
            },
            Detalle::ConFacturas => {
                let facturas: Vec<Factura> = pending.cloned().collect();
                Deuda {
                    num_contrato: num.to_owned(),
                    deuda_total: rec.deuda,
                    num_facturas_pendientes: facturas.len() as i64,
                    facturas,
                }
            }
            Detalle::Vencidas => {
                let facturas: Vec<Factura> =
                    pending.filter(|f| f.estado == "VENCIDA").cloned().collect();
                Deuda {
                    num_contrato: num.to_owned(),
                    deuda_total: facturas.iter().map(|f| f.pendiente).sum(),
                    num_facturas_pendientes: facturas.len() as i64,
                    facturas,
                }
            }
        };
        Ok(DeudaResponse {
            resultado: Some(resultado),
            ..Default::default()
        })
    }

    fn desglose(&self, num: &str) -> Result<DesgloseResponse, Fallo> {
        let rec = self.rec(num)?;
        let mut conceptos: Vec<ConceptoDeuda> = rec
            .facturas
            .iter()
            .filter(|f| is_positive(f.pendiente))
            .map(|f| ConceptoDeuda {
                concepto: format!("FACTURA {} ({})", f.num_factura, f.periodo),
                importe: f.pendiente,
            })
            .collect();
        let rest = rec.deuda - conceptos.iter().map(|c| c.importe).sum::<Decimal>();
        if !rest.is_zero() {
            conceptos.push(ConceptoDeuda {
                concepto: if rest > Decimal::ZERO {
                    "OTROS ADEUDOS".into()
                } else {
                    "SALDO A FAVOR".into()
                },
                importe: rest,
            });
        }
        Ok(DesgloseResponse {
            resultado: Some(DesgloseDeuda {
                num_contrato: num.to_owned(),
                deuda_total: rec.deuda,
                conceptos,
            }),
            ..Default::default()
        })
    }

    fn bloqueo(&self, num: &str) -> Result<BloqueoResponse, Fallo> {
        let rec = self.rec(num)?;
        let motivo = rec.bloqueo.clone().or_else(|| {
            (rec.contrato.estado == "BAJA").then(|| "Contrato dado de baja".to_owned())
        });
        Ok(BloqueoResponse {
            bloqueado: motivo.is_some(),
            motivo,
            ..Default::default()
        })
    }

    fn documento_pago(&mut self, r: &GetDocumentoPago) -> Result<DocumentoPagoResponse, Fallo> {
        let rec = self.rec(&r.num_contrato)?;
        if !is_positive(r.importe) {
            return Err(codigo(9, "El importe debe ser mayor que cero"));
        }
        let titular = rec.contrato.titular.clone();
        let referencia = format!("9{:011}", self.next_referencia);
        self.next_referencia += 1;
        self.referencias.insert(
            referencia.clone(),
            Referencia {
                num_contrato: r.num_contrato.clone(),
                importe: r.importe,
                estado: "PENDIENTE",
            },
        );
        Ok(DocumentoPagoResponse {
            documento: Some(documento(
                &format!("Documento de pago {referencia}"),
                &[
                    format!("Contrato {} - {titular}", r.num_contrato),
                    format!("Importe {}", r.importe),
                ],
            )),
            referencia: Some(referencia),
            importe: Some(r.importe),
            ..Default::default()
        })
    }

    /// A payment reference still to be collected (AquaCIS's codes 7, 10, 11 otherwise).
    fn open_reference(&self, referencia: &str) -> Result<Referencia, Fallo> {
        let refe = self
            .referencias
            .get(referencia)
            .cloned()
            .ok_or_else(|| codigo(7, format!("No existe la referencia {referencia}")))?;
        match refe.estado {
            "COBRADA" => Err(codigo(10, "La referencia ya fue cobrada")),
            "CANCELADA" => Err(codigo(11, "La referencia está cancelada")),
            _ => Ok(refe),
        }
    }

    /// Record a payment: lower the debt, re-derive the invoices, note it in the history.
    fn pay(
        &mut self,
        num: &str,
        importe: Decimal,
        actuacion: Actuacion,
        today: NaiveDate,
    ) -> Result<i64, Fallo> {
        let id = self.next_pago;
        let rec = self.rec_mut(num)?;
        rec.deuda -= importe;
        reallocate(rec, today);
        rec.actuaciones.push(actuacion);
        self.next_pago += 1;
        Ok(id)
    }

    fn cobrar(
        &mut self,
        r: &CobrarReferenciaFrmPago,
        day: NaiveDate,
    ) -> Result<PagoResponse, Fallo> {
        let refe = self.open_reference(&r.referencia)?;
        if r.importe != refe.importe {
            return Err(codigo(
                12,
                format!(
                    "El importe no coincide con el de la referencia ({})",
                    refe.importe
                ),
            ));
        }
        let actuacion = Actuacion {
            fecha: r.fecha_pago,
            tipo: "COBRO".into(),
            descripcion: format!(
                "Cobro de la referencia {} ({}, forma de pago {})",
                r.referencia, r.importe, r.forma_pago
            ),
            referencia: Some(r.referencia_externa.clone()),
        };
        let id = self.pay(&refe.num_contrato, r.importe, actuacion, day)?;
        if let Some(x) = self.referencias.get_mut(&r.referencia) {
            x.estado = "COBRADA";
        }
        Ok(PagoResponse {
            id_pago: Some(id),
            ..Default::default()
        })
    }

    fn avisar(
        &mut self,
        r: &AvisarPago,
        now: DateTime<Utc>,
        day: NaiveDate,
    ) -> Result<PagoResponse, Fallo> {
        self.rec(&r.num_contrato)?;
        if !is_positive(r.importe) {
            return Err(codigo(9, "El importe debe ser mayor que cero"));
        }
        let actuacion = Actuacion {
            fecha: r.fecha_pago,
            tipo: "AVISO_PAGO".into(),
            descripcion: format!(
                "Aviso de pago {} (forma de pago {})",
                r.importe, r.forma_pago
            ),
            referencia: Some(r.referencia_externa.clone()),
        };
        let id = self.pay(&r.num_contrato, r.importe, actuacion, day)?;
        self.avisos.push(Aviso {
            id,
            num_contrato: r.num_contrato.clone(),
            importe: r.importe,
            fecha: r.fecha_pago,
            forma_pago: r.forma_pago.clone(),
            referencia_externa: r.referencia_externa.clone(),
            recibido: now,
        });
        Ok(PagoResponse {
            id_pago: Some(id),
            ..Default::default()
        })
    }

    fn cancelar(
        &mut self,
        r: &CancelarReferencia,
        day: NaiveDate,
    ) -> Result<SolicitudResponse, Fallo> {
        let refe = self.open_reference(&r.referencia)?;
        let n = self.solicitud();
        if let Some(x) = self.referencias.get_mut(&r.referencia) {
            x.estado = "CANCELADA";
        }
        if let Some(rec) = self.contratos.get_mut(&refe.num_contrato) {
            rec.actuaciones.push(Actuacion {
                fecha: day,
                tipo: "CANCELACION_REFERENCIA".into(),
                descripcion: format!("Referencia {} cancelada: {}", r.referencia, r.motivo),
                referencia: Some(r.referencia.clone()),
            });
        }
        Ok(SolicitudResponse {
            num_solicitud: Some(n),
            ..Default::default()
        })
    }

    fn punto(&self, serial: &str) -> Result<PuntoServicioResponse, Fallo> {
        let m = self.meter(serial)?;
        let direccion = m
            .contador
            .num_contrato
            .as_ref()
            .and_then(|n| self.contratos.get(n))
            .map(|rec| rec.contrato.direccion.clone());
        Ok(PuntoServicioResponse {
            id_pto_servicio: m.id_pto_servicio,
            direccion,
            ..Default::default()
        })
    }

    fn consumos(&self, num: &str) -> Result<ConsumosResponse, Fallo> {
        let rec = self.rec(num)?;
        let digits = rec
            .contrato
            .numero_serie_contador
            .as_ref()
            .and_then(|s| self.contadores.get(s))
            .map(|m| m.contador.digitos)
            .filter(|d| (1..=12).contains(d));
        let mut by_period: BTreeMap<String, i64> = BTreeMap::new();
        for w in rec.lecturas.windows(2) {
            let mut m3 = w[1].lectura - w[0].lectura;
            if m3 < 0 {
                m3 = digits.map_or(0, |d| m3 + 10_i64.pow(d as u32));
            }
            let periodo = format!("{}-{:02}", w[1].fecha.year(), w[1].fecha.month());
            *by_period.entry(periodo).or_default() += m3.max(0);
        }
        let consumos = by_period
            .into_iter()
            .rev()
            .map(|(periodo, m3)| Consumo {
                importe: rec
                    .facturas
                    .iter()
                    .find(|f| f.periodo == periodo)
                    .map_or(Decimal::ZERO, |f| f.importe),
                periodo,
                m3,
            })
            .collect();
        Ok(ConsumosResponse {
            consumos,
            ..Default::default()
        })
    }

    fn introducir_lectura(
        &mut self,
        r: &SolicitudIntroduccionLectura,
    ) -> Result<SolicitudResponse, Fallo> {
        let rec = self.rec(&r.num_contrato)?;
        let last = rec.lecturas.last().map(|l| l.lectura);
        if r.lectura < 0 || last.is_some_and(|l| r.lectura < l) {
            return Err(codigo(
                8,
                format!(
                    "La lectura es menor que la última registrada ({} m³)",
                    last.unwrap_or(0)
                ),
            ));
        }
        let n = self.solicitud();
        let rec = self.rec_mut(&r.num_contrato)?;
        rec.lecturas.push(Lectura {
            fecha: r.fecha,
            lectura: r.lectura,
            tipo: "CLIENTE".into(),
            observacion: Some("Introducida por el cliente".into()),
        });
        rec.actuaciones.push(Actuacion {
            fecha: r.fecha,
            tipo: "LECTURA".into(),
            descripcion: format!("Lectura del cliente: {} m³", r.lectura),
            referencia: Some(n.to_string()),
        });
        Ok(SolicitudResponse {
            num_solicitud: Some(n),
            ..Default::default()
        })
    }

    fn crear_orden(&mut self, r: &CrearOrdenTrabajo) -> Result<OrdenResponse, Fallo> {
        let Some(punto) = r.id_pto_servicio else {
            return Err(Fallo::Soap(
                "soapenv:Server.userException",
                "java.lang.NullPointerException".into(),
            ));
        };
        if !self.puntos.contains_key(&punto) {
            return Err(codigo(
                13,
                format!("No existe el punto de servicio {punto}"),
            ));
        }
        let orden = OrdenTrabajo {
            ot_id: self.next_orden,
            ot_class_id: 1,
            operational_site_id: SITE.into(),
            id_pto_servicio: punto,
            tipo: r.tipo.clone(),
            estado: "ABIERTA".into(),
            descripcion: r.descripcion.clone(),
            visitas: Some(0),
        };
        self.next_orden += 1;
        self.ordenes.insert(
            orden.ot_id,
            Orden {
                orden: orden.clone(),
                referencia_externa: r.referencia_externa.clone(),
                informes: vec![],
                numero_serie: None,
                comentarios: None,
                codigo_resolucion: None,
            },
        );
        Ok(OrdenResponse {
            orden: Some(orden),
            ..Default::default()
        })
    }

    fn orden_mut(&mut self, ot_id: i64) -> Result<&mut Orden, Fallo> {
        self.ordenes
            .get_mut(&ot_id)
            .ok_or_else(|| codigo(6, format!("No existe la orden de trabajo {ot_id}")))
    }

    fn refresh(&mut self, r: &RefreshData) -> Result<OrdenResponse, Fallo> {
        // AquaCIS's bug: any class but 1, or no site, is an empty success.
        if r.ot_class_id() != 1 || r.operational_site_id().trim().is_empty() {
            return Ok(OrdenResponse::default());
        }
        let o = self.orden_mut(r.ot_id)?;
        Ok(OrdenResponse {
            orden: Some(o.orden.clone()),
            ..Default::default()
        })
    }

    fn informar_visita(&mut self, r: &InformarVisita) -> Result<OrdenResponse, Fallo> {
        let o = self.orden_mut(r.ot_id)?;
        if o.orden.estado == "RESUELTA" {
            return Err(codigo(14, format!("La orden {} ya está resuelta", r.ot_id)));
        }
        o.informes.push(Visita {
            fecha: r.fecha,
            resultado: r.resultado.clone(),
        });
        o.orden.visitas = Some(o.informes.len() as i64);
        o.orden.estado = "EN_CURSO".into();
        Ok(OrdenResponse {
            orden: Some(o.orden.clone()),
            ..Default::default()
        })
    }

    fn resolver(&mut self, r: &ResolveOtLeido) -> Result<OrdenResponse, Fallo> {
        let o = self.orden_mut(r.ot_id)?;
        if o.orden.estado == "RESUELTA" {
            return Err(codigo(14, format!("La orden {} ya está resuelta", r.ot_id)));
        }
        o.numero_serie = Some(r.numero_serie.clone().unwrap_or_default());
        o.comentarios = Some(r.comentarios.clone().unwrap_or_default());
        o.codigo_resolucion = r.codigo_resolucion.clone();
        o.orden.estado = "RESUELTA".into();
        Ok(OrdenResponse {
            orden: Some(o.orden.clone()),
            ..Default::default()
        })
    }

    fn documento_orden(&mut self, ot_id: i64) -> Result<DocumentoResponse, Fallo> {
        let Some(o) = self.ordenes.get(&ot_id) else {
            return Err(Fallo::Codigo(
                ErrorCode::Text("OT-NO-EXISTE".into()),
                format!("No existe la orden de trabajo {ot_id}"),
            ));
        };
        Ok(DocumentoResponse {
            documento: Some(documento(
                &format!("Orden de trabajo {ot_id}"),
                &[
                    format!("Tipo {}", o.orden.tipo),
                    format!("Estado {}", o.orden.estado),
                    format!("Punto de servicio {}", o.orden.id_pto_servicio),
                    o.orden.descripcion.clone(),
                ],
            )),
            ..Default::default()
        })
    }
}

// ---------------------------------------------------------------- from SUPRA's database

fn pesos(centavos: i64) -> Decimal {
    Decimal::new(centavos, 2)
}

fn estado_contrato(status: &str) -> &'static str {
    match status {
        "activo" => "ALTA",
        "baja" => "BAJA",
        _ => "SUSPENDIDO",
    }
}

fn uso(use_type: &str) -> &'static str {
    match use_type {
        "domestico" => "DOMESTICO",
        "industrial" => "INDUSTRIAL",
        "gobierno" => "PUBLICO",
        // AquaCIS has no mixed use: a mixed toma is billed as commercial.
        _ => "COMERCIAL",
    }
}

/// The simulator's data from a snapshot of SUPRA's database: contract numbers, NIF =
/// RFC (else CURP, else the generic RFC), service point = the toma, debt = the ledger
/// balance, each invoice's pending amount derived from the balance newest first.
pub fn from_snapshot(s: &db::legacy_sim::Snapshot, today: NaiveDate) -> SimData {
    let mut data = SimData::default();
    // Meters per contract, oldest installation first; the newest active one is the
    // contract's meter, replaced ones have no service point.
    let mut meters: BTreeMap<i64, Vec<&db::legacy_sim::SimMeter>> = BTreeMap::new();
    for m in &s.meters {
        meters.entry(m.contract_id).or_default().push(m);
    }
    let mut readings: BTreeMap<i64, Vec<&db::legacy_sim::SimReading>> = BTreeMap::new();
    for r in &s.readings {
        readings.entry(r.contract_id).or_default().push(r);
    }
    let mut invoices: BTreeMap<i64, Vec<&db::legacy_sim::SimInvoice>> = BTreeMap::new();
    for i in &s.invoices {
        invoices.entry(i.contract_id).or_default().push(i);
    }
    let mx = chrono_tz::America::Mexico_City;
    let mut seen = BTreeSet::new();
    for c in &s.contracts {
        let num = c.number.clone();
        let nif = c
            .rfc
            .clone()
            .or_else(|| c.curp.clone())
            .unwrap_or_else(|| "XAXX010101000".into());
        let ms = meters.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
        let current = ms.iter().rev().find(|m| m.active).copied();
        let rs = readings.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
        for m in ms {
            let is_current = current.is_some_and(|x| x.id == m.id);
            data.contadores.push(ContadorSim {
                contador: Contador {
                    numero_serie: m.serial.clone(),
                    marca: m.make.clone(),
                    calibre: format!("{} mm", m.diameter_mm),
                    digitos: i64::from(m.digits),
                    fecha_instalacion: Some(m.installed_on),
                    num_contrato: Some(num.clone()),
                },
                id_pto_servicio: is_current.then_some(m.toma_id),
            });
        }
        let cambios: Vec<CambioContador> = ms
            .windows(2)
            .map(|w| CambioContador {
                fecha: w[1].installed_on,
                serie_anterior: w[0].serial.clone(),
                serie_nueva: w[1].serial.clone(),
                lectura_retiro: rs
                    .iter()
                    .rev()
                    .find(|r| r.meter_id == w[0].id)
                    .map_or(0, |r| r.value_litres / 1000),
            })
            .collect();
        if !cambios.is_empty() {
            data.cambios_contador.insert(num.clone(), cambios);
        }
        let lecturas: Vec<Lectura> = rs
            .iter()
            .map(|r| Lectura {
                fecha: r.read_at.with_timezone(&mx).date_naive(),
                lectura: r.value_litres / 1000,
                tipo: match (r.quality.as_str(), r.source.as_str()) {
                    ("estimada", _) => "ESTIMADA",
                    (_, "ciudadano") => "CLIENTE",
                    _ => "REAL",
                }
                .into(),
                observacion: match r.quality.as_str() {
                    "sin_acceso" => Some("SIN ACCESO".into()),
                    "medidor_danado" => Some("MEDIDOR DAÑADO".into()),
                    _ => None,
                },
            })
            .collect();
        if !lecturas.is_empty() {
            data.lecturas.insert(num.clone(), lecturas);
        }
        let mut remaining = c.balance_centavos.max(0);
        let facturas: Vec<Factura> = invoices
            .get(&c.id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter(|i| !i.cancelled)
            .map(|i| {
                let amount = (i.total_centavos + i.adjustments_centavos).max(0);
                let unpaid = amount.min(remaining);
                remaining -= unpaid;
                Factura {
                    num_factura: i.folio.clone(),
                    periodo: format!("{}-{:02}", i.period / 100, i.period % 100),
                    fecha_emision: i.issued_on,
                    fecha_vencimiento: i.due_date,
                    importe: pesos(amount),
                    pendiente: pesos(unpaid),
                    estado: estado_factura(pesos(unpaid), i.due_date, today).into(),
                }
            })
            .collect();
        if !facturas.is_empty() {
            data.facturas.insert(num.clone(), facturas);
        }
        data.actuaciones.insert(
            num.clone(),
            vec![Actuacion {
                fecha: c.start_date,
                tipo: "ALTA".into(),
                descripcion: "Alta del contrato".into(),
                referencia: None,
            }],
        );
        // One person per NIF: the first contract's titular.
        if seen.insert(nif.clone()) {
            data.personas.push(Persona {
                id_persona: c.person_id,
                nif: nif.clone(),
                nombre: c.given_names.clone(),
                apellido1: c.surname1.clone(),
                apellido2: c.surname2.clone(),
                email: c.email.clone(),
                telefono: c.phone.clone(),
            });
        }
        data.contratos.push(Contrato {
            num_contrato: num,
            nif,
            titular: c.full_name.clone(),
            direccion: direccion(c),
            estado: estado_contrato(&c.status).into(),
            uso: uso(&c.use_type).into(),
            fecha_alta: Some(c.start_date),
            numero_serie_contador: current.map(|m| m.serial.clone()),
            email: c.email.clone(),
            telefono: c.phone.clone(),
            // AquaCIS's debt is never negative: a credit is no debt.
            deuda: Some(pesos(c.balance_centavos.max(0))),
        });
    }
    data
}

fn direccion(c: &db::legacy_sim::SimContract) -> String {
    let int = c
        .int_number
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| format!(" INT {s}"))
        .unwrap_or_default();
    format!(
        "{} {}{int}, {}, {}, C.P. {}",
        c.street, c.ext_number, c.colonia, c.municipio, c.cp
    )
}

// ---------------------------------------------------------------- admin (JSON)

async fn sim_inject(AxState(sim): AxState<Arc<AquacisSim>>, Json(f): Json<Fault>) -> Response {
    sim.inject(f);
    (StatusCode::CREATED, Json(serde_json::json!({"ok": true}))).into_response()
}

async fn sim_clear(AxState(sim): AxState<Arc<AquacisSim>>) -> StatusCode {
    sim.clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Caida {
    activa: bool,
}

async fn sim_down(AxState(sim): AxState<Arc<AquacisSim>>, Json(c): Json<Caida>) -> Response {
    sim.set_down(c.activa);
    Json(serde_json::json!({"activa": c.activa})).into_response()
}

async fn sim_avisos(AxState(sim): AxState<Arc<AquacisSim>>) -> Json<Vec<Aviso>> {
    Json(sim.avisos())
}

async fn sim_ordenes(AxState(sim): AxState<Arc<AquacisSim>>) -> Json<Vec<Orden>> {
    Json(sim.ordenes())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UnoOVarios {
    Varios(Vec<Contrato>),
    Uno(Box<Contrato>),
}

async fn sim_contratos(
    AxState(sim): AxState<Arc<AquacisSim>>,
    Json(body): Json<UnoOVarios>,
) -> Response {
    let list = match body {
        UnoOVarios::Varios(v) => v,
        UnoOVarios::Uno(c) => vec![*c],
    };
    let n = list.len();
    for c in list {
        sim.upsert_contract(c);
    }
    Json(serde_json::json!({"contratos": n})).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeudaReq {
    num_contrato: String,
    total: Decimal,
}

async fn sim_deuda(AxState(sim): AxState<Arc<AquacisSim>>, Json(d): Json<DeudaReq>) -> Response {
    if !lock(&sim.state).contratos.contains_key(&d.num_contrato) {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": format!("No existe el contrato {}", d.num_contrato)})),
        )
            .into_response();
    }
    sim.set_debt(&d.num_contrato, d.total);
    StatusCode::NO_CONTENT.into_response()
}

async fn sim_datos(AxState(sim): AxState<Arc<AquacisSim>>, Json(d): Json<SimData>) -> Response {
    let n = d.contratos.len();
    sim.load(d);
    Json(serde_json::json!({"contratos": n})).into_response()
}

async fn sim_llamadas(AxState(sim): AxState<Arc<AquacisSim>>) -> Json<BTreeMap<String, u64>> {
    Json(
        lock(&sim.control)
            .calls
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
    )
}
