//! The REST v2 facade over AquaCIS, `/api/v2/aquasis/…`: one route per AquaCIS
//! operation (the migration plan's mapping, §6.2) for integrators that still need
//! AquaCIS while the migration lasts. Thin: authenticate, authorise, call the bridge,
//! map errors. The OpenAPI 3.1 document is generated from these handlers (utoipa) and
//! served without authentication at `GET /api/v2/aquasis/openapi.json`.
//!
//! - **Who:** a staff session (the `supra_session` cookie of `/personal/entrar`) with
//!   the role admin or atención a usuarios. No session: 401; another role or a
//!   citizen's session: 403. Both as the JSON error below.
//! - **Reads** (every GET) go through the bridge's cache ([`bridge::read`]): the body
//!   is AquaCIS's answer as the typed response serializes it (AquaCIS's Spanish
//!   camelCase names), with `X-AquaCIS-Fetched-At` (RFC 3339, when AquaCIS gave it)
//!   and `X-AquaCIS-Stale` (`true` when AquaCIS did not answer now and its last answer
//!   is served). The two PDFs are AquaCIS's base64 documents decoded.
//! - **Writes** (POST, PUT) call AquaCIS once, synchronously (no retry: AquaCIS does
//!   not deduplicate; a 503 on a write means the outcome is unknown) and answer with
//!   its typed response. SUPRA's own writes go through the outbox, not through here.
//! - **Errors** are `{"error": "<Spanish>", "codigo": "<AquaCIS's code, if any>"}`:
//!   bad path, query or body → 400; a refusal (`codigoError`) → 422, except code 1,
//!   AquaCIS's "no existe" (unknown contract, person, meter or order) → 404; something
//!   the client refuses to send (a meter without service point) → 422; a SOAP fault →
//!   502; no answer (down, breaker open, unreadable answer) → 503 with
//!   `Retry-After: 30`; no AquaCIS configured → 503.
//!
//! Amounts (`importe`) are decimal strings (`"123.45"`), dates `AAAA-MM-DD`.

use std::net::SocketAddr;
use std::sync::Arc;

use app::error::AppError;
use app::ssr::AppState;
use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use db::{Db, TenantId};
use domain::StaffRole;
use legacy::Operation;
use legacy::ops;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToSchema};

/// Staff roles with access (admin always has it).
const ROLES: &[StaffRole] = &[StaffRole::Atencion];

/// When the answer was fetched from AquaCIS (RFC 3339).
pub const FETCHED_AT: &str = "X-AquaCIS-Fetched-At";
/// `true` when AquaCIS did not answer and its last answer is served.
pub const STALE: &str = "X-AquaCIS-Stale";
/// AquaCIS's `codigoError` for "no existe": answered as 404.
pub const NOT_FOUND_CODE: i64 = 1;
/// Seconds a client should wait after a 503.
const RETRY_AFTER: &str = "30";

/// The routes (OpenAPI path syntax, which is also axum's).
pub mod paths {
    /// Anything else under the prefix: a JSON 404.
    pub const OTHER: &str = "/api/v2/aquasis/{*rest}";
    pub const OPENAPI: &str = "/api/v2/aquasis/openapi.json";
    pub const CUSTOMERS_SEARCH: &str = "/api/v2/aquasis/customers/search";
    pub const CUSTOMER: &str = "/api/v2/aquasis/customers/{nif}";
    pub const CUSTOMER_CONTRACTS: &str = "/api/v2/aquasis/customers/{nif}/contracts";
    pub const CONTRACT: &str = "/api/v2/aquasis/contracts/{id}";
    pub const CONTRACT_DETAIL: &str = "/api/v2/aquasis/contracts/{id}/detail";
    pub const CONTRACT_HISTORY: &str = "/api/v2/aquasis/contracts/{id}/history";
    pub const CONTRACT_INVOICES: &str = "/api/v2/aquasis/contracts/{id}/invoices";
    pub const INVOICE_PDF: &str = "/api/v2/aquasis/contracts/{id}/invoices/{inv}/pdf";
    pub const DEBT: &str = "/api/v2/aquasis/contracts/{id}/debt";
    pub const DEBT_INVOICES: &str = "/api/v2/aquasis/contracts/{id}/debt/invoices";
    pub const DEBT_UNPAID: &str = "/api/v2/aquasis/contracts/{id}/debt/unpaid";
    pub const DEBT_BLOCK: &str = "/api/v2/aquasis/contracts/{id}/debt/block";
    pub const READINGS: &str = "/api/v2/aquasis/contracts/{id}/readings";
    pub const CONSUMPTION: &str = "/api/v2/aquasis/contracts/{id}/consumption";
    pub const TARIFF: &str = "/api/v2/aquasis/contracts/{id}/tariff";
    pub const PAYMENT_DOCUMENT: &str = "/api/v2/aquasis/payments/document";
    pub const PAYMENT_COLLECT: &str = "/api/v2/aquasis/payments/collect";
    pub const PAYMENT_NOTIFY: &str = "/api/v2/aquasis/payments/notify";
    pub const PAYMENT_CANCEL: &str = "/api/v2/aquasis/payments/cancel";
    pub const METER: &str = "/api/v2/aquasis/meters/{serial}";
    pub const METER_SERVICE_POINT: &str = "/api/v2/aquasis/meters/{serial}/service-point";
    pub const METER_CHANGES: &str = "/api/v2/aquasis/meters/{serial}/changes";
    pub const WORK_ORDERS: &str = "/api/v2/aquasis/work-orders";
    pub const WORK_ORDER: &str = "/api/v2/aquasis/work-orders/{id}";
    pub const WORK_ORDER_VISITS: &str = "/api/v2/aquasis/work-orders/{id}/visits";
    pub const WORK_ORDER_RESOLVE: &str = "/api/v2/aquasis/work-orders/{id}/resolve";
    pub const WORK_ORDER_PDF: &str = "/api/v2/aquasis/work-orders/{id}/pdf";
}

/// The facade's routes, to merge into the application's router.
pub fn router() -> Router<AppState> {
    use paths::*;
    Router::new()
        .route(OPENAPI, get(openapi_json))
        .route(CUSTOMERS_SEARCH, get(customers_search))
        .route(CUSTOMER, get(customer))
        .route(CUSTOMER_CONTRACTS, get(customer_contracts))
        .route(CONTRACT, get(contract))
        .route(CONTRACT_DETAIL, get(contract_detail))
        .route(CONTRACT_HISTORY, get(contract_history))
        .route(CONTRACT_INVOICES, get(contract_invoices))
        .route(INVOICE_PDF, get(invoice_pdf))
        .route(DEBT, get(debt))
        .route(DEBT_INVOICES, get(debt_invoices))
        .route(DEBT_UNPAID, get(debt_unpaid))
        .route(DEBT_BLOCK, get(debt_block))
        .route(READINGS, get(readings))
        .route(CONSUMPTION, get(consumption))
        .route(TARIFF, get(tariff))
        .route(PAYMENT_DOCUMENT, post(payment_document))
        .route(PAYMENT_COLLECT, post(payment_collect))
        .route(PAYMENT_NOTIFY, post(payment_notify))
        .route(PAYMENT_CANCEL, post(payment_cancel))
        .route(METER, get(meter))
        .route(METER_SERVICE_POINT, get(meter_service_point))
        .route(METER_CHANGES, get(meter_changes))
        .route(WORK_ORDERS, post(work_order_create))
        .route(WORK_ORDER, get(work_order))
        .route(WORK_ORDER_VISITS, post(work_order_visit))
        .route(WORK_ORDER_RESOLVE, put(work_order_resolve))
        .route(WORK_ORDER_PDF, get(work_order_pdf))
        .route(OTHER, any(no_route))
}

async fn no_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "Esta ruta no existe en la API de AquaCIS; vea /api/v2/aquasis/openapi.json.",
    )
}

// ---------------------------------------------------------------- errors

/// Every error of the facade.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": "AquaCIS rechazó la operación (código 1): contrato inexistente", "codigo": "1"}))]
pub struct ErrorBody {
    /// What went wrong, in Spanish.
    pub error: String,
    /// AquaCIS's `codigoError` (or its SOAP fault code), when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codigo: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: error.into(),
                codigo: None,
            },
        }
    }
    fn bad_request(error: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, error)
    }
    fn code(mut self, codigo: impl Into<String>) -> Self {
        self.body.codigo = Some(codigo.into());
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.status == StatusCode::SERVICE_UNAVAILABLE;
        let mut r = (self.status, Json(self.body)).into_response();
        if retry {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
        }
        r
    }
}

impl From<legacy::Error> for ApiError {
    fn from(e: legacy::Error) -> Self {
        use legacy::Error as E;
        let text = e.to_string();
        match e {
            E::Rejected { code, .. } => {
                let status = if code == legacy::ErrorCode::Code(NOT_FOUND_CODE) {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                ApiError::new(status, text).code(code.to_string())
            }
            E::Fault { code, .. } => ApiError::new(StatusCode::BAD_GATEWAY, text).code(code),
            E::Unavailable { .. } | E::CircuitOpen { .. } | E::Protocol(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, text)
            }
            E::Invalid(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, text),
        }
    }
}

impl From<bridge::Error> for ApiError {
    fn from(e: bridge::Error) -> Self {
        match e {
            bridge::Error::Legacy(e) => e.into(),
            bridge::Error::Invalid { message, .. } => ApiError::bad_request(message),
            bridge::Error::Db(e) => {
                tracing::error!(error = %e, "AquaCIS facade: database");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Algo salió mal de nuestro lado. Inténtelo de nuevo en unos minutos.",
                )
            }
        }
    }
}

/// A serde message (as axum words it) in Spanish, naming the field when it can.
fn serde_detail(raw: &str) -> String {
    let raw = raw.rsplit_once("target type: ").map_or(raw, |(_, r)| r);
    let raw = raw.rsplit_once(" at line ").map_or(raw, |(m, _)| m);
    let raw = raw
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(raw);
    let quoted = |s: &str, start: &str| {
        let i = s.find(start)? + start.len();
        let j = s[i..].find('`')?;
        Some(s[i..i + j].to_owned())
    };
    if let Some(f) = quoted(raw, "missing field `") {
        return format!("falta el campo «{f}»");
    }
    let (field, msg) = match raw.split_once(": ") {
        Some((p, m)) if !p.is_empty() && !p.contains(' ') && p != "." => (Some(p), m),
        _ => (None, raw),
    };
    let expected = if msg.contains("Decimal") {
        "un importe entre comillas, p. ej. \"123.45\""
    } else if msg.contains("invalid characters")
        || msg.contains("premature end of input")
        || msg.contains("input is out of range")
        || msg.contains("NaiveDate")
    {
        "una fecha AAAA-MM-DD"
    } else if msg.contains("i64") || msg.contains("integer") {
        "un número entero"
    } else if msg.contains("a string") {
        "un texto"
    } else if msg.contains("a boolean") {
        "true o false"
    } else {
        "otro valor"
    };
    match field {
        Some(f) => format!("el campo «{f}» no es válido: se espera {expected}"),
        None => format!("un valor no es válido: se espera {expected}"),
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    ApiError::bad_request(match &r {
        JsonRejection::JsonSyntaxError(_) => {
            "El cuerpo de la solicitud no es JSON válido.".to_owned()
        }
        JsonRejection::JsonDataError(e) => format!(
            "El cuerpo de la solicitud no es válido: {}.",
            serde_detail(&e.body_text())
        ),
        JsonRejection::MissingJsonContentType(_) => {
            "El cuerpo debe enviarse como JSON (Content-Type: application/json).".to_owned()
        }
        _ => "No se pudo leer el cuerpo de la solicitud.".to_owned(),
    })
}

fn query_rejection(r: QueryRejection) -> ApiError {
    ApiError::bad_request(format!(
        "La consulta no es válida: {}.",
        serde_detail(&r.body_text())
    ))
}

fn path_rejection(r: PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    let msg = match &r {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::ParseErrorAtKey { key, value, .. } => {
                format!(
                    "El parámetro «{key}» de la ruta no es válido («{value}»): se espera un número entero."
                )
            }
            ErrorKind::ParseError { value, .. } | ErrorKind::ParseErrorAtIndex { value, .. } => {
                format!(
                    "Un parámetro de la ruta no es válido («{value}»): se espera un número entero."
                )
            }
            _ => "Un parámetro de la ruta no es válido.".to_owned(),
        },
        _ => "Un parámetro de la ruta no es válido.".to_owned(),
    };
    ApiError::bad_request(msg)
}

// ---------------------------------------------------------------- extractors

/// The path's parameters; a bad one is a 400 in Spanish.
pub struct PathArgs<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathArgs<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, st)
            .await
            .map(|Path(v)| PathArgs(v))
            .map_err(path_rejection)
    }
}

/// The query string; a bad one is a 400 in Spanish.
pub struct QueryArgs<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for QueryArgs<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, st)
            .await
            .map(|Query(v)| QueryArgs(v))
            .map_err(query_rejection)
    }
}

/// A JSON body; malformed or mistyped is a 400 in Spanish (never a 500).
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, st: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(req, st)
            .await
            .map(|Json(v)| Body(v))
            .map_err(json_rejection)
    }
}

/// An authorised caller and the bridge: the first extractor of every AquaCIS route,
/// so a request without access is refused before its input is looked at.
pub struct Caller {
    staff_id: i64,
    tenant: TenantId,
    db: Db,
    bridge: Arc<bridge::Bridge>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let (staff_id, tenant) = app::ssr::staff_session(st.clone(), &parts.headers, peer, ROLES)
            .await
            .map_err(|e| match e {
                AppError::Unauthorized => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Se requiere una sesión de personal: entre en /personal/entrar.",
                ),
                AppError::Forbidden => ApiError::new(
                    StatusCode::FORBIDDEN,
                    "Su rol no tiene acceso a AquaCIS: se requiere Administración o Atención a usuarios.",
                ),
                other => ApiError::new(
                    StatusCode::from_u16(other.status())
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    other.to_string(),
                ),
            })?;
        let bridge = st.legacy.clone().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "No hay conexión con AquaCIS configurada",
            )
        })?;
        Ok(Caller {
            staff_id,
            tenant,
            db: st.db.clone(),
            bridge,
        })
    }
}

type ApiResult = Result<Response, ApiError>;

/// Stamp an answer with its age.
fn stamped(mut r: Response, fetched_at: DateTime<Utc>, stale: bool) -> Response {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&fetched_at.to_rfc3339_opts(SecondsFormat::Secs, true)) {
        h.insert(FETCHED_AT, v);
    }
    h.insert(
        STALE,
        HeaderValue::from_static(if stale { "true" } else { "false" }),
    );
    r
}

impl Caller {
    async fn cached<O: Operation>(&self, op: &O) -> Result<bridge::Cached<O::Response>, ApiError> {
        Ok(bridge::read(&self.db, self.tenant, &self.bridge, op, Utc::now()).await?)
    }

    /// A read through the cache, as JSON with its age.
    async fn read<O: Operation>(&self, op: O) -> ApiResult {
        let c = self.cached(&op).await?;
        Ok(stamped(
            Json(c.value).into_response(),
            c.fetched_at,
            c.stale,
        ))
    }

    /// A document read through the cache, decoded from base64.
    async fn pdf<O: Operation<Response = ops::DocumentoResponse>>(
        &self,
        op: O,
        name: &str,
    ) -> ApiResult {
        let c = self.cached(&op).await?;
        let b64: String = c
            .value
            .documento
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|ch| !ch.is_ascii_whitespace())
            .collect();
        if b64.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "AquaCIS respondió sin el documento.",
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "El documento que envió AquaCIS no es base64 válido.",
                )
            })?;
        let name: String = name
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        let r = (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{name}.pdf\""),
                ),
            ],
            bytes,
        )
            .into_response();
        Ok(stamped(r, c.fetched_at, c.stale))
    }

    /// A write, straight to AquaCIS, once; audited with its outcome.
    async fn write<O: Operation>(&self, op: O) -> ApiResult {
        tracing::info!(
            staff = self.staff_id,
            operation = O::NAME,
            "AquaCIS facade write"
        );
        let r = self.bridge.client().call(&op).await;
        self.audit(
            O::NAME,
            serde_json::to_value(&op).unwrap_or_default(),
            r.as_ref().err(),
        )
        .await?;
        Ok(Json(r.map_err(write_error)?).into_response())
    }

    /// A staff member's write to AquaCIS in the audit log (`domain_events`).
    async fn audit(
        &self,
        operation: &str,
        request: serde_json::Value,
        error: Option<&legacy::Error>,
    ) -> Result<(), ApiError> {
        let event = async {
            let mut tx = self.db.write(self.tenant).await?;
            db::repo::record_event(
                &mut tx,
                db::repo::NewEvent {
                    actor_kind: "staff",
                    actor_id: Some(self.staff_id),
                    action: "legacy.facade.write",
                    subject_kind: Some("aquacis"),
                    subject_id: None,
                    data: serde_json::json!({
                        "operacion": operation,
                        "solicitud": request,
                        "error": error.map(|e| e.to_string()),
                    }),
                    ip: None,
                    now: Utc::now(),
                },
            )
            .await?;
            tx.commit().await
        };
        event.await.map_err(|e: db::Error| {
            tracing::error!(error = %e, "audit of an AquaCIS facade write");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "No se pudo registrar la operación; inténtelo de nuevo.",
            )
        })
    }
}

/// A write's error. When the call went out and no answer came back, AquaCIS may have
/// done it (and does not deduplicate): say so.
fn write_error(e: legacy::Error) -> ApiError {
    let unknown = matches!(
        e,
        legacy::Error::Unavailable { .. } | legacy::Error::Protocol(_)
    );
    let mut a = ApiError::from(e);
    if unknown {
        a.body.error.push_str(
            ". No se sabe si AquaCIS la registró: consúltelo antes de repetir la operación.",
        );
    }
    a
}

fn required(name: &str, value: String) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::bad_request(format!(
            "El parámetro «{name}» no puede estar vacío."
        )));
    }
    Ok(v.to_owned())
}

/// A work order's body may omit its id (taken from the path); given, it must match.
fn with_order_id<T: DeserializeOwned>(
    mut body: serde_json::Value,
    key: &str,
    id: i64,
) -> Result<T, ApiError> {
    let Some(obj) = body.as_object_mut() else {
        return Err(ApiError::bad_request(
            "El cuerpo de la solicitud debe ser un objeto JSON.",
        ));
    };
    match obj.get(key) {
        None | Some(serde_json::Value::Null) => {
            obj.insert(key.to_owned(), id.into());
        }
        Some(v) if v.as_i64() == Some(id) => {}
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "El campo «{key}» del cuerpo no coincide con la orden {id} de la ruta."
            )));
        }
    }
    serde_json::from_value(body).map_err(|e| {
        ApiError::bad_request(format!(
            "El cuerpo de la solicitud no es válido: {}.",
            serde_detail(&e.to_string())
        ))
    })
}

fn tag<O: Operation>() -> &'static str {
    O::SERVICE.ws_name()
}

// ---------------------------------------------------------------- query strings

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NifQuery {
    /// RFC (NIF en AquaCIS) del titular.
    pub nif: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SitioQuery {
    /// Sitio operativo de AquaCIS (`operationalSiteID`); por omisión `QRO`.
    pub sitio: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContratoQuery {
    /// Número de contrato cuyos cambios de medidor se consultan.
    pub contrato: String,
}

/// `POST /work-orders`: a work order for a meter's service point (resolved in
/// AquaCIS from the meter before the order is created).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct NuevaOrden {
    /// Número de serie del medidor.
    pub serial: String,
    pub tipo: String,
    pub descripcion: String,
    /// Folio del integrador: cómo se encuentra la orden después (`referenciaExterna`).
    pub referencia: String,
}

/// A PDF's bytes (AquaCIS's base64 document, decoded).
pub struct Pdf;

impl PartialSchema for Pdf {
    fn schema() -> RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .content_media_type("application/pdf")
            .into()
    }
}

impl ToSchema for Pdf {}

// ---------------------------------------------------------------- customers

#[utoipa::path(get, path = paths::CUSTOMERS_SEARCH, operation_id = ops::GetContratosPorNif::NAME,
    tag = tag::<ops::GetContratosPorNif>(), summary = "Contratos de un titular por su RFC",
    params(NifQuery),
    responses((status = 200, description = "Contratos del titular", body = ops::ContratosResponse)))]
async fn customers_search(c: Caller, QueryArgs(q): QueryArgs<NifQuery>) -> ApiResult {
    c.read(ops::GetContratosPorNif {
        nif: required("nif", q.nif)?,
    })
    .await
}

#[utoipa::path(get, path = paths::CUSTOMER, operation_id = ops::GetTitularPorNif::NAME,
    tag = tag::<ops::GetTitularPorNif>(), summary = "Titular por su RFC",
    params(("nif" = String, Path, description = "RFC (NIF) del titular")),
    responses((status = 200, description = "El titular", body = ops::PersonaResponse)))]
async fn customer(c: Caller, PathArgs(nif): PathArgs<String>) -> ApiResult {
    c.read(ops::GetTitularPorNif { nif }).await
}

#[utoipa::path(get, path = paths::CUSTOMER_CONTRACTS, operation_id = ops::GetContratosPorNifconDeuda::NAME,
    tag = tag::<ops::GetContratosPorNifconDeuda>(), summary = "Contratos de un titular con su deuda",
    params(("nif" = String, Path, description = "RFC (NIF) del titular")),
    responses((status = 200, description = "Contratos con deuda", body = ops::ContratosResponse)))]
async fn customer_contracts(c: Caller, PathArgs(nif): PathArgs<String>) -> ApiResult {
    c.read(ops::GetContratosPorNifconDeuda { nif }).await
}

// ---------------------------------------------------------------- contracts

#[utoipa::path(get, path = paths::CONTRACT, operation_id = ops::ConsultaDetalleContrato::NAME,
    tag = tag::<ops::ConsultaDetalleContrato>(), summary = "Detalle de un contrato",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "El contrato", body = ops::ContratoResponse)))]
async fn contract(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::ConsultaDetalleContrato { num_contrato: id })
        .await
}

#[utoipa::path(get, path = paths::CONTRACT_DETAIL, operation_id = ops::GetContrato::NAME,
    tag = tag::<ops::GetContrato>(), summary = "Un contrato (getContrato)",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "El contrato", body = ops::ContratoResponse)))]
async fn contract_detail(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::GetContrato { num_contrato: id }).await
}

#[utoipa::path(get, path = paths::CONTRACT_HISTORY, operation_id = ops::ConsultaHistoricoActuacionesContrato::NAME,
    tag = tag::<ops::ConsultaHistoricoActuacionesContrato>(), summary = "Historial de actuaciones de un contrato",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "Actuaciones", body = ops::ActuacionesResponse)))]
async fn contract_history(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::ConsultaHistoricoActuacionesContrato { num_contrato: id })
        .await
}

#[utoipa::path(get, path = paths::CONTRACT_INVOICES, operation_id = ops::GetFacturasContrato::NAME,
    tag = tag::<ops::GetFacturasContrato>(), summary = "Facturas de un contrato",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "Facturas", body = ops::FacturasResponse)))]
async fn contract_invoices(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::GetFacturasContrato { num_contrato: id }).await
}

#[utoipa::path(get, path = paths::INVOICE_PDF, operation_id = ops::GetPdfFactura::NAME,
    tag = tag::<ops::GetPdfFactura>(), summary = "PDF de una factura",
    params(("id" = String, Path, description = "Número de contrato"),
           ("inv" = String, Path, description = "Número de factura")),
    responses((status = 200, description = "La factura en PDF", content_type = "application/pdf", body = inline(Pdf))))]
async fn invoice_pdf(c: Caller, PathArgs((id, inv)): PathArgs<(String, String)>) -> ApiResult {
    let name = format!("factura-{inv}");
    c.pdf(
        ops::GetPdfFactura {
            num_contrato: id,
            num_factura: inv,
        },
        &name,
    )
    .await
}

#[utoipa::path(get, path = paths::TARIFF, operation_id = ops::GetTarifaDeAguaPorContrato::NAME,
    tag = tag::<ops::GetTarifaDeAguaPorContrato>(), summary = "Tarifa de agua de un contrato",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "La tarifa", body = ops::TarifaResponse)))]
async fn tariff(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::GetTarifaDeAguaPorContrato { num_contrato: id })
        .await
}

// ---------------------------------------------------------------- debt

#[utoipa::path(get, path = paths::DEBT, operation_id = ops::GetDeuda::NAME,
    tag = tag::<ops::GetDeuda>(), summary = "Deuda de un contrato",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "La deuda", body = ops::DeudaResponse)))]
async fn debt(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::GetDeuda { num_contrato: id }).await
}

#[utoipa::path(get, path = paths::DEBT_INVOICES, operation_id = ops::GetDeudaTotalConFacturas::NAME,
    tag = tag::<ops::GetDeudaTotalConFacturas>(), summary = "Deuda total con sus facturas",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "La deuda con facturas", body = ops::DeudaResponse)))]
async fn debt_invoices(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::GetDeudaTotalConFacturas { num_contrato: id })
        .await
}

#[utoipa::path(get, path = paths::DEBT_UNPAID, operation_id = ops::GetImpagadosContrato::NAME,
    tag = tag::<ops::GetImpagadosContrato>(), summary = "Facturas impagadas de un contrato",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "Impagados", body = ops::DeudaResponse)))]
async fn debt_unpaid(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::GetImpagadosContrato { num_contrato: id }).await
}

#[utoipa::path(get, path = paths::DEBT_BLOCK, operation_id = ops::GetDeudaContratoBloqueoCobro::NAME,
    tag = tag::<ops::GetDeudaContratoBloqueoCobro>(), summary = "¿Está bloqueado el cobro del contrato?",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "Bloqueo de cobro", body = ops::BloqueoResponse)))]
async fn debt_block(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::GetDeudaContratoBloqueoCobro { num_contrato: id })
        .await
}

// ---------------------------------------------------------------- payments (writes)

#[utoipa::path(post, path = paths::PAYMENT_DOCUMENT, operation_id = ops::GetDocumentoPago::NAME,
    tag = tag::<ops::GetDocumentoPago>(), summary = "Crear una referencia de pago (documento de pago)",
    request_body = ops::GetDocumentoPago,
    responses((status = 200, description = "La referencia creada", body = ops::DocumentoPagoResponse)))]
async fn payment_document(c: Caller, Body(op): Body<ops::GetDocumentoPago>) -> ApiResult {
    c.write(op).await
}

#[utoipa::path(post, path = paths::PAYMENT_COLLECT, operation_id = ops::CobrarReferenciaFrmPago::NAME,
    tag = tag::<ops::CobrarReferenciaFrmPago>(), summary = "Cobrar una referencia de pago",
    request_body = ops::CobrarReferenciaFrmPago,
    responses((status = 200, description = "El pago registrado", body = ops::PagoResponse)))]
async fn payment_collect(c: Caller, Body(op): Body<ops::CobrarReferenciaFrmPago>) -> ApiResult {
    c.write(op).await
}

#[utoipa::path(post, path = paths::PAYMENT_NOTIFY, operation_id = ops::AvisarPago::NAME,
    tag = tag::<ops::AvisarPago>(),
    summary = "Avisar a AquaCIS de un pago recibido",
    description = "AquaCIS no lo deduplica: el mismo aviso dos veces son dos pagos. Ante un 503 \
        consulte el historial del contrato (`referenciaExterna`) antes de repetirlo.",
    request_body = ops::AvisarPago,
    responses((status = 200, description = "El pago registrado", body = ops::PagoResponse)))]
async fn payment_notify(c: Caller, Body(op): Body<ops::AvisarPago>) -> ApiResult {
    c.write(op).await
}

#[utoipa::path(post, path = paths::PAYMENT_CANCEL, operation_id = ops::CancelarReferencia::NAME,
    tag = tag::<ops::CancelarReferencia>(), summary = "Cancelar una referencia de pago",
    request_body = ops::CancelarReferencia,
    responses((status = 200, description = "Cancelada", body = ops::SolicitudResponse)))]
async fn payment_cancel(c: Caller, Body(op): Body<ops::CancelarReferencia>) -> ApiResult {
    c.write(op).await
}

// ---------------------------------------------------------------- meters

#[utoipa::path(get, path = paths::METER, operation_id = ops::GetContador::NAME,
    tag = tag::<ops::GetContador>(), summary = "Un medidor",
    params(("serial" = String, Path, description = "Número de serie del medidor")),
    responses((status = 200, description = "El medidor", body = ops::ContadorResponse)))]
async fn meter(c: Caller, PathArgs(serial): PathArgs<String>) -> ApiResult {
    c.read(ops::GetContador {
        numero_serie: serial,
    })
    .await
}

#[utoipa::path(get, path = paths::METER_SERVICE_POINT, operation_id = ops::GetPuntoServicioPorContador::NAME,
    tag = tag::<ops::GetPuntoServicioPorContador>(), summary = "Punto de servicio de un medidor",
    params(("serial" = String, Path, description = "Número de serie del medidor")),
    responses((status = 200, description = "El punto de servicio", body = ops::PuntoServicioResponse)))]
async fn meter_service_point(c: Caller, PathArgs(serial): PathArgs<String>) -> ApiResult {
    c.read(ops::GetPuntoServicioPorContador {
        numero_serie: serial,
    })
    .await
}

#[utoipa::path(get, path = paths::METER_CHANGES, operation_id = ops::GetCambiosContadorDeContrato::NAME,
    tag = tag::<ops::GetCambiosContadorDeContrato>(), summary = "Cambios de medidor de un contrato",
    description = "AquaCIS los consulta por contrato (`?contrato=`), no por medidor.",
    params(("serial" = String, Path, description = "Número de serie del medidor"), ContratoQuery),
    responses((status = 200, description = "Cambios de medidor", body = ops::CambiosContadorResponse)))]
async fn meter_changes(
    c: Caller,
    PathArgs(_serial): PathArgs<String>,
    QueryArgs(q): QueryArgs<ContratoQuery>,
) -> ApiResult {
    c.read(ops::GetCambiosContadorDeContrato {
        num_contrato: required("contrato", q.contrato)?,
    })
    .await
}

// ---------------------------------------------------------------- readings

#[utoipa::path(get, path = paths::READINGS, operation_id = ops::GetLecturas::NAME,
    tag = tag::<ops::GetLecturas>(), summary = "Lecturas de un contrato",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "Lecturas", body = ops::LecturasResponse)))]
async fn readings(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::GetLecturas { num_contrato: id }).await
}

#[utoipa::path(get, path = paths::CONSUMPTION, operation_id = ops::GetConsumos::NAME,
    tag = tag::<ops::GetConsumos>(), summary = "Consumos de un contrato",
    params(("id" = String, Path, description = "Número de contrato")),
    responses((status = 200, description = "Consumos por periodo", body = ops::ConsumosResponse)))]
async fn consumption(c: Caller, PathArgs(id): PathArgs<String>) -> ApiResult {
    c.read(ops::GetConsumos { num_contrato: id }).await
}

// ---------------------------------------------------------------- work orders

#[utoipa::path(post, path = paths::WORK_ORDERS, operation_id = ops::CrearOrdenTrabajo::NAME,
    tag = tag::<ops::CrearOrdenTrabajo>(), summary = "Crear una orden de trabajo",
    description = "El punto de servicio se obtiene del medidor (`getPuntoServicioPorContador`) \
        antes de crear la orden; un medidor sin punto de servicio es un 422.",
    request_body = NuevaOrden,
    responses((status = 200, description = "La orden creada", body = ops::OrdenTrabajo)))]
async fn work_order_create(c: Caller, Body(o): Body<NuevaOrden>) -> ApiResult {
    tracing::info!(
        staff = c.staff_id,
        operation = ops::CrearOrdenTrabajo::NAME,
        "AquaCIS facade write"
    );
    let orden = c
        .bridge
        .client()
        .create_work_order(&o.serial, &o.tipo, &o.descripcion, &o.referencia)
        .await;
    c.audit(
        ops::CrearOrdenTrabajo::NAME,
        serde_json::to_value(&o).unwrap_or_default(),
        orden.as_ref().err(),
    )
    .await?;
    Ok(Json(orden.map_err(write_error)?).into_response())
}

#[utoipa::path(get, path = paths::WORK_ORDER, operation_id = ops::RefreshData::NAME,
    tag = tag::<ops::RefreshData>(), summary = "Una orden de trabajo",
    params(("id" = i64, Path, description = "Número de la orden en AquaCIS (otID)"), SitioQuery),
    responses((status = 200, description = "La orden", body = ops::OrdenResponse)))]
async fn work_order(
    c: Caller,
    PathArgs(id): PathArgs<i64>,
    QueryArgs(q): QueryArgs<SitioQuery>,
) -> ApiResult {
    let sitio = q.sitio.filter(|s| !s.trim().is_empty());
    c.read(ops::RefreshData::new(
        id,
        sitio.as_deref().unwrap_or("QRO").trim(),
    ))
    .await
}

#[utoipa::path(post, path = paths::WORK_ORDER_VISITS, operation_id = ops::InformarVisita::NAME,
    tag = tag::<ops::InformarVisita>(), summary = "Informar una visita a una orden",
    description = "`otId` puede omitirse: se toma de la ruta (si se envía, debe coincidir).",
    params(("id" = i64, Path, description = "Número de la orden en AquaCIS (otID)")),
    request_body = ops::InformarVisita,
    responses((status = 200, description = "La orden", body = ops::OrdenResponse)))]
async fn work_order_visit(
    c: Caller,
    PathArgs(id): PathArgs<i64>,
    Body(body): Body<serde_json::Value>,
) -> ApiResult {
    c.write(with_order_id::<ops::InformarVisita>(body, "otId", id)?)
        .await
}

#[utoipa::path(put, path = paths::WORK_ORDER_RESOLVE, operation_id = ops::ResolveOt::NAME,
    tag = tag::<ops::ResolveOt>(), summary = "Resolver (cerrar) una orden",
    description = "Los nombres son los de AquaCIS, con sus erratas: `busVHFumberSerie` (serie del \
        medidor) y `vistitComments` (comentarios). `otID` puede omitirse: se toma de la ruta.",
    params(("id" = i64, Path, description = "Número de la orden en AquaCIS (otID)")),
    request_body = ops::ResolveOt,
    responses((status = 200, description = "La orden", body = ops::OrdenResponse)))]
async fn work_order_resolve(
    c: Caller,
    PathArgs(id): PathArgs<i64>,
    Body(body): Body<serde_json::Value>,
) -> ApiResult {
    c.write(with_order_id::<ops::ResolveOt>(body, "otID", id)?)
        .await
}

#[utoipa::path(get, path = paths::WORK_ORDER_PDF, operation_id = ops::GetDocumentoOrdenTrabajo::NAME,
    tag = tag::<ops::GetDocumentoOrdenTrabajo>(), summary = "PDF de una orden de trabajo",
    params(("id" = i64, Path, description = "Número de la orden en AquaCIS (otID)")),
    responses((status = 200, description = "La orden en PDF", content_type = "application/pdf", body = inline(Pdf))))]
async fn work_order_pdf(c: Caller, PathArgs(id): PathArgs<i64>) -> ApiResult {
    c.pdf(
        ops::GetDocumentoOrdenTrabajo { ot_id: id },
        &format!("orden-{id}"),
    )
    .await
}

// ---------------------------------------------------------------- the document

#[utoipa::path(get, path = paths::OPENAPI, operation_id = "openapi", tag = "OpenAPI",
    summary = "Este documento", security(()),
    responses((status = 200, description = "El documento OpenAPI 3.1 de esta API", content_type = "application/json", body = Object)))]
async fn openapi_json() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SUPRA Water · AquaCIS REST v2",
        description = "Fachada REST sobre los servicios SOAP de AquaCIS durante la migración. \
            Sesión de personal (roles Administración o Atención a usuarios). Las lecturas (GET) \
            pasan por la caché del puente y llevan `X-AquaCIS-Fetched-At` y `X-AquaCIS-Stale`; \
            las escrituras van directo a AquaCIS, una vez. Errores: `{\"error\", \"codigo\"}`; \
            el código 1 de AquaCIS (no existe) es 404, otros rechazos 422, una falla SOAP 502, \
            sin respuesta 503 con `Retry-After`. Importes como texto decimal (\"123.45\").",
        version = "2.0.0"
    ),
    paths(
        openapi_json,
        customers_search, customer, customer_contracts,
        contract, contract_detail, contract_history, contract_invoices, invoice_pdf, tariff,
        debt, debt_invoices, debt_unpaid, debt_block,
        payment_document, payment_collect, payment_notify, payment_cancel,
        meter, meter_service_point, meter_changes,
        readings, consumption,
        work_order_create, work_order, work_order_visit, work_order_resolve, work_order_pdf,
    ),
    components(schemas(
        ErrorBody, NuevaOrden,
        ops::Contrato, ops::Persona, ops::Factura, ops::Deuda, ops::Actuacion, ops::Lectura,
        ops::Consumo, ops::Contador, ops::CambioContador, ops::OrdenTrabajo,
        ops::ContratosResponse, ops::PersonaResponse, ops::ContratoResponse,
        ops::ActuacionesResponse, ops::FacturasResponse, ops::DocumentoResponse,
        ops::TarifaResponse, ops::SolicitudResponse, ops::DeudaResponse, ops::BloqueoResponse,
        ops::DocumentoPagoResponse, ops::PagoResponse, ops::ContadorResponse,
        ops::PuntoServicioResponse, ops::CambiosContadorResponse, ops::LecturasResponse,
        ops::ConsumosResponse, ops::OrdenResponse,
        ops::GetDocumentoPago, ops::CobrarReferenciaFrmPago, ops::AvisarPago,
        ops::CancelarReferencia, ops::InformarVisita, ops::ResolveOt,
    )),
    tags(
        (name = "InterfazGenericaContratacionWS", description = "AquaCIS · Contratación: contratos, titulares, facturas, tarifas"),
        (name = "InterfazGenericaGestionDeudaWS", description = "AquaCIS · Gestión de deuda: deuda, referencias y avisos de pago"),
        (name = "InterfazGenericaContadoresWS", description = "AquaCIS · Contadores: medidores y puntos de servicio"),
        (name = "InterfazOficinaVirtualClientesWS", description = "AquaCIS · Oficina virtual: lecturas y consumos"),
        (name = "InterfazGenericaOrdenesServicioWS", description = "AquaCIS · Órdenes de servicio"),
        (name = "OpenAPI", description = "Este documento"),
    ),
    security(("sesion_personal" = [])),
    modifiers(&Facade),
)]
pub struct ApiDoc;

/// What every route shares, added to the generated document: the session cookie, the
/// error answers and, on reads, the two freshness headers.
struct Facade;

impl Modify for Facade {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "sesion_personal",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                app::ssr::SESSION_COOKIE,
                "Sesión de personal (POST /api/staff/login); roles Administración o Atención a usuarios.",
            ))),
        );
        let error = |description: &str, retry: bool| {
            let mut r = ResponseBuilder::new().description(description).content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            );
            if retry {
                r = r.header(
                    "Retry-After",
                    utoipa::openapi::Header::builder()
                        .schema(i64::schema())
                        .description(Some("Segundos antes de reintentar (30)."))
                        .build(),
                );
            }
            r.build()
        };
        let errors = [
            (
                "400",
                "SolicitudInvalida",
                "Ruta, consulta o cuerpo no válidos (mensaje en español).",
                false,
            ),
            ("401", "NoAutenticado", "Sin sesión de personal.", false),
            (
                "403",
                "SinPermiso",
                "La sesión no es de Administración ni de Atención a usuarios.",
                false,
            ),
            (
                "404",
                "NoExiste",
                "AquaCIS no lo conoce (codigoError 1).",
                false,
            ),
            (
                "422",
                "Rechazado",
                "AquaCIS rechazó la operación (`codigo` lleva su codigoError), o la solicitud no puede enviarse.",
                false,
            ),
            (
                "502",
                "FallaSoap",
                "AquaCIS respondió con una falla SOAP (`codigo` lleva el faultcode).",
                false,
            ),
            (
                "503",
                "SinRespuesta",
                "AquaCIS no respondió (o no hay conexión configurada) y no hay respuesta guardada. En una escritura el resultado es desconocido.",
                true,
            ),
        ];
        for (_, name, description, retry) in errors {
            components
                .responses
                .insert(name.to_owned(), RefOr::T(error(description, retry)));
        }
        let fetched_at = utoipa::openapi::Header::builder()
            .schema(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::DateTime,
                    ))),
            )
            .description(Some(
                "Cuándo respondió AquaCIS lo que se entrega (RFC 3339).",
            ))
            .build();
        let stale = utoipa::openapi::Header::builder()
            .schema(bool::schema())
            .description(Some(
                "`true` si AquaCIS no respondió ahora y se entrega su última respuesta guardada.",
            ))
            .build();
        for (path, item) in api.paths.paths.iter_mut() {
            if path == paths::OPENAPI {
                continue;
            }
            let reads = item.get.iter_mut().map(|op| (true, op));
            let writes = [&mut item.post, &mut item.put]
                .into_iter()
                .flatten()
                .map(|op| (false, op));
            for (read, op) in reads.chain(writes) {
                for (status, name, _, _) in errors {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                }
                if read && let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
                    ok.headers.insert(FETCHED_AT.to_owned(), fetched_at.clone());
                    ok.headers.insert(STALE.to_owned(), stale.clone());
                }
            }
        }
    }
}

/// The facade's OpenAPI document (what `openapi.json` serves).
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
