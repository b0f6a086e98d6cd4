//! The typed operations: one request struct per AquaCIS operation, its response, the
//! service it belongs to and whether it only reads (reads may be retried and cached;
//! writes never are).
//!
//! Field names are AquaCIS's own (Spanish, camelCase on the wire, snake_case here),
//! including the misspellings AquaCIS requires: `busVHFumberSerie` and `vistitComments`
//! in `resolveOT`, `emailAntigo` in `cambiarEmailNotificacionPersona`. Sent correctly
//! spelled, AquaCIS silently ignores them.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Service;

/// One AquaCIS operation.
pub trait Operation: Serialize + for<'de> Deserialize<'de> + Send + Sync + std::fmt::Debug {
    /// The operation's name in the WSDL.
    const NAME: &'static str;
    const SERVICE: Service;
    /// Reads nothing changes: safe to retry after a timeout and to serve from cache.
    const READ: bool;
    type Response: Reply + Serialize + for<'de> Deserialize<'de> + Send + std::fmt::Debug + Clone;
}

/// What every response carries: AquaCIS's error code and description.
pub trait Reply {
    fn error_code(&self) -> &ErrorCode;
    fn error_text(&self) -> Option<&str>;
    /// An answer that carries only a refusal (how AquaCIS — and its simulator — says
    /// no: a `codigoError`, not a fault).
    fn refusal(code: ErrorCode, message: String) -> Self;
}

/// AquaCIS's `codigoError`: an `xsd:int` in most operations but an `xsd:string` in
/// others (`getDocumentoOrdenTrabajo`), where success may come as `"0"`, `""` or
/// `" 0 "` and failures as numbers or text. Read both ways; never compared as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ErrorCode {
    #[default]
    Ok,
    Code(i64),
    Text(String),
}

impl ErrorCode {
    pub fn parse(s: &str) -> Self {
        let t = s.trim();
        if t.is_empty() {
            return ErrorCode::Ok;
        }
        match t.parse::<i64>() {
            Ok(0) => ErrorCode::Ok,
            Ok(n) => ErrorCode::Code(n),
            Err(_) => ErrorCode::Text(t.to_owned()),
        }
    }
    pub fn is_ok(&self) -> bool {
        *self == ErrorCode::Ok
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorCode::Ok => f.write_str("0"),
            ErrorCode::Code(n) => write!(f, "{n}"),
            ErrorCode::Text(s) => f.write_str(s),
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ErrorCode;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("un código de error (número o texto)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ErrorCode, E> {
                Ok(ErrorCode::parse(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ErrorCode, E> {
                Ok(if v == 0 {
                    ErrorCode::Ok
                } else {
                    ErrorCode::Code(v)
                })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ErrorCode, E> {
                self.visit_i64(v as i64)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<ErrorCode, E> {
                Ok(ErrorCode::Ok)
            }
            /// quick-xml hands an element to `deserialize_any` as a map: its
            /// attributes (`@xsi:type`, ignored) and its text (`$text`).
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ErrorCode, A::Error> {
                let mut code = ErrorCode::Ok;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "$text" || key == "$value" {
                        code = ErrorCode::parse(&map.next_value::<String>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(code)
            }
        }
        d.deserialize_str(V)
    }
}

/// The fields every response starts with.
macro_rules! replies {
    ($($t:ident),* $(,)?) => {$(
        impl Reply for $t {
            fn error_code(&self) -> &ErrorCode { &self.codigo_error }
            fn error_text(&self) -> Option<&str> { self.descripcion_error.as_deref() }
            fn refusal(code: ErrorCode, message: String) -> Self {
                Self { codigo_error: code, descripcion_error: Some(message), ..Default::default() }
            }
        }
    )*};
}

macro_rules! operation {
    ($req:ident => $resp:ident, $name:literal, $svc:ident, read: $read:literal) => {
        impl Operation for $req {
            const NAME: &'static str = $name;
            const SERVICE: Service = Service::$svc;
            const READ: bool = $read;
            type Response = $resp;
        }
    };
}

// ---------------------------------------------------------------- entities

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Contrato {
    pub num_contrato: String,
    pub nif: String,
    pub titular: String,
    pub direccion: String,
    /// `ALTA`, `BAJA`, `SUSPENDIDO`.
    pub estado: String,
    /// `DOMESTICO`, `COMERCIAL`, `INDUSTRIAL`, `PUBLICO`.
    pub uso: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fecha_alta: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numero_serie_contador: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telefono: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deuda: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Persona {
    pub id_persona: i64,
    pub nif: String,
    pub nombre: String,
    #[serde(default)]
    pub apellido1: String,
    #[serde(default)]
    pub apellido2: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telefono: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Factura {
    pub num_factura: String,
    /// `AAAA-MM`.
    pub periodo: String,
    pub fecha_emision: NaiveDate,
    pub fecha_vencimiento: NaiveDate,
    pub importe: Decimal,
    pub pendiente: Decimal,
    /// `PAGADA`, `PENDIENTE`, `VENCIDA`.
    pub estado: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Deuda {
    pub num_contrato: String,
    pub deuda_total: Decimal,
    pub num_facturas_pendientes: i64,
    #[serde(default, rename = "factura")]
    pub facturas: Vec<Factura>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConceptoDeuda {
    pub concepto: String,
    pub importe: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Actuacion {
    pub fecha: NaiveDate,
    /// `AVISO_PAGO`, `COBRO`, `CAMBIO_EMAIL`, `ALTA`, `LECTURA`, …
    pub tipo: String,
    pub descripcion: String,
    /// The caller's reference (a payment's `referenciaExterna`), when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referencia: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Lectura {
    pub fecha: NaiveDate,
    /// Whole m³ as the register shows them.
    pub lectura: i64,
    /// `REAL`, `ESTIMADA`, `CLIENTE`.
    pub tipo: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observacion: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Consumo {
    pub periodo: String,
    pub m3: i64,
    pub importe: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Contador {
    pub numero_serie: String,
    pub marca: String,
    pub calibre: String,
    pub digitos: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fecha_instalacion: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_contrato: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CambioContador {
    pub fecha: NaiveDate,
    pub serie_anterior: String,
    pub serie_nueva: String,
    pub lectura_retiro: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrdenTrabajo {
    pub ot_id: i64,
    #[serde(rename = "otClassID")]
    pub ot_class_id: i64,
    #[serde(rename = "operationalSiteID")]
    pub operational_site_id: String,
    pub id_pto_servicio: i64,
    pub tipo: String,
    /// `ABIERTA`, `EN_CURSO`, `RESUELTA`.
    pub estado: String,
    pub descripcion: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitas: Option<i64>,
}

// ---------------------------------------------------------------- contracts

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetContratosPorNif {
    pub nif: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContratosResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, rename = "contrato")]
    pub contratos: Vec<Contrato>,
}
operation!(GetContratosPorNif => ContratosResponse, "getContratosPorNif", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetContratosPorNifconDeuda {
    pub nif: String,
}
operation!(GetContratosPorNifconDeuda => ContratosResponse, "getContratosPorNifconDeuda", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetTitularPorNif {
    pub nif: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PersonaResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<Persona>,
}
operation!(GetTitularPorNif => PersonaResponse, "getTitularPorNif", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConsultaDetalleContrato {
    pub num_contrato: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContratoResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contrato: Option<Contrato>,
}
operation!(ConsultaDetalleContrato => ContratoResponse, "consultaDetalleContrato", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetContrato {
    pub num_contrato: String,
}
operation!(GetContrato => ContratoResponse, "getContrato", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConsultaHistoricoActuacionesContrato {
    pub num_contrato: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ActuacionesResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, rename = "actuacion")]
    pub actuaciones: Vec<Actuacion>,
}
operation!(ConsultaHistoricoActuacionesContrato => ActuacionesResponse, "consultaHistoricoActuacionesContrato", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetFacturasContrato {
    pub num_contrato: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FacturasResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, rename = "factura")]
    pub facturas: Vec<Factura>,
}
operation!(GetFacturasContrato => FacturasResponse, "getFacturasContrato", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetPdfFactura {
    pub num_contrato: String,
    pub num_factura: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DocumentoResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    /// The document, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documento: Option<String>,
}
operation!(GetPdfFactura => DocumentoResponse, "getPdfFactura", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetFacturaE {
    pub num_factura: String,
}
operation!(GetFacturaE => DocumentoResponse, "getFacturaE", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetTarifaDeAguaPorContrato {
    pub num_contrato: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TarifaResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codigo_tarifa: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion: Option<String>,
}
operation!(GetTarifaDeAguaPorContrato => TarifaResponse, "getTarifaDeAguaPorContrato", Contracts, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SolicitudActivacionFacturaOnline {
    pub num_contrato: String,
    pub email: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SolicitudResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_solicitud: Option<i64>,
}
operation!(SolicitudActivacionFacturaOnline => SolicitudResponse, "solicitudActivacionFacturaOnline", Contracts, read: false);

/// A contact change. AquaCIS wants the old address as `emailAntigo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CambiarEmailNotificacionPersona {
    pub nif: String,
    #[serde(rename = "emailAntigo")]
    pub email_antiguo: String,
    #[serde(rename = "emailNuevo")]
    pub email_nuevo: String,
}
operation!(CambiarEmailNotificacionPersona => SolicitudResponse, "cambiarEmailNotificacionPersona", Contracts, read: false);

/// Contracts changed since a moment, a page at a time (the nightly sync's listing).
/// The name is what the utility's AquaCIS team gave for the change listing; confirm it
/// against the production WSDL before cut-over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConsultaContratosModificados {
    pub fecha_desde: String,
    pub pagina: i64,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ModificadosResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, rename = "numContrato")]
    pub contratos: Vec<String>,
    #[serde(default)]
    pub hay_mas: bool,
    /// AquaCIS's clock at the time of the answer: the next watermark.
    #[serde(default)]
    pub fecha_consulta: String,
}
operation!(ConsultaContratosModificados => ModificadosResponse, "consultaContratosModificados", Contracts, read: true);

// ---------------------------------------------------------------- debt

/// The debt operations' answers nest their payload in `resultado` — which several of
/// them spell `reultado`. Both are read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeudaResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, alias = "reultado", skip_serializing_if = "Option::is_none")]
    pub resultado: Option<Deuda>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetDeuda {
    pub num_contrato: String,
}
operation!(GetDeuda => DeudaResponse, "getDeuda", Debt, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetDeudaTotalConFacturas {
    pub num_contrato: String,
}
operation!(GetDeudaTotalConFacturas => DeudaResponse, "getDeudaTotalConFacturas", Debt, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetImpagadosContrato {
    pub num_contrato: String,
}
operation!(GetImpagadosContrato => DeudaResponse, "getImpagadosContrato", Debt, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetDeudaContrato {
    pub num_contrato: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DesgloseDeuda {
    pub num_contrato: String,
    pub deuda_total: Decimal,
    #[serde(default, rename = "concepto")]
    pub conceptos: Vec<ConceptoDeuda>,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DesgloseResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, alias = "reultado", skip_serializing_if = "Option::is_none")]
    pub resultado: Option<DesgloseDeuda>,
}
operation!(GetDeudaContrato => DesgloseResponse, "getDeudaContrato", Debt, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetDeudaContratoBloqueoCobro {
    pub num_contrato: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BloqueoResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default)]
    pub bloqueado: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motivo: Option<String>,
}
operation!(GetDeudaContratoBloqueoCobro => BloqueoResponse, "getDeudaContratoBloqueoCobro", Debt, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetDocumentoPago {
    pub num_contrato: String,
    pub importe: Decimal,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DocumentoPagoResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referencia: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importe: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documento: Option<String>,
}
// Not a read: it creates a payment reference in AquaCIS.
operation!(GetDocumentoPago => DocumentoPagoResponse, "getDocumentoPago", Debt, read: false);

/// Collect a payment reference issued by `getDocumentoPago`, with its forma de pago.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CobrarReferenciaFrmPago {
    pub referencia: String,
    pub importe: Decimal,
    pub fecha_pago: NaiveDate,
    /// SAT's forma de pago: 01 efectivo, 03 transferencia, 04 tarjeta…
    pub forma_pago: String,
    pub referencia_externa: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PagoResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_pago: Option<i64>,
}
operation!(CobrarReferenciaFrmPago => PagoResponse, "cobrarReferenciaFrmPago", Debt, read: false);

/// Collect a payment reference issued by `getDocumentoPago` (the older operation,
/// without forma de pago: AquaCIS records it as "por definir", 99).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CobrarReferencia {
    pub referencia: String,
    pub importe: Decimal,
    pub fecha_pago: NaiveDate,
    pub referencia_externa: String,
}
operation!(CobrarReferencia => PagoResponse, "cobrarReferencia", Debt, read: false);

/// Tell AquaCIS about a payment SUPRA received. Not idempotent in AquaCIS: the same
/// notice twice is two payments, so a retry first looks for `referenciaExterna` in
/// the contract's history (`consultaHistoricoActuacionesContrato`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AvisarPago {
    pub num_contrato: String,
    pub importe: Decimal,
    pub fecha_pago: NaiveDate,
    pub forma_pago: String,
    /// `SUPRA-<payment id>`: how the payment is found again in AquaCIS.
    pub referencia_externa: String,
}
operation!(AvisarPago => PagoResponse, "avisarPago", Debt, read: false);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CancelarReferencia {
    pub referencia: String,
    pub motivo: String,
}
operation!(CancelarReferencia => SolicitudResponse, "cancelarReferencia", Debt, read: false);

// ---------------------------------------------------------------- meters

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetContador {
    pub numero_serie: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContadorResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contador: Option<Contador>,
}
operation!(GetContador => ContadorResponse, "getContador", Meters, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetPuntoServicioPorContador {
    pub numero_serie: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PuntoServicioResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    /// May be absent for a meter not yet placed: then no work order can be created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_pto_servicio: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direccion: Option<String>,
}
operation!(GetPuntoServicioPorContador => PuntoServicioResponse, "getPuntoServicioPorContador", Meters, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetCambiosContadorDeContrato {
    pub num_contrato: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CambiosContadorResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, rename = "cambio")]
    pub cambios: Vec<CambioContador>,
}
operation!(GetCambiosContadorDeContrato => CambiosContadorResponse, "getCambiosContadorDeContrato", Meters, read: true);

// ---------------------------------------------------------------- readings (oficina virtual)

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetLecturas {
    pub num_contrato: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LecturasResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, rename = "lectura")]
    pub lecturas: Vec<Lectura>,
}
operation!(GetLecturas => LecturasResponse, "getLecturas", Readings, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetConsumos {
    pub num_contrato: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConsumosResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, rename = "consumo")]
    pub consumos: Vec<Consumo>,
}
operation!(GetConsumos => ConsumosResponse, "getConsumos", Readings, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SolicitudIntroduccionLectura {
    pub num_contrato: String,
    pub lectura: i64,
    pub fecha: NaiveDate,
}
operation!(SolicitudIntroduccionLectura => SolicitudResponse, "solicitudIntroduccionLectura", Readings, read: false);

// ---------------------------------------------------------------- work orders

/// Create a work order. AquaCIS throws a NullPointerException without `idPtoServicio`,
/// so [`crate::Client::create_work_order`] resolves it from the meter first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CrearOrdenTrabajo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_pto_servicio: Option<i64>,
    pub tipo: String,
    pub descripcion: String,
    /// Our folio: how the order is found again.
    pub referencia_externa: String,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrdenResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub codigo_error: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orden: Option<OrdenTrabajo>,
}
operation!(CrearOrdenTrabajo => OrdenResponse, "crearOrdenTrabajo", WorkOrders, read: false);

/// Read a work order back. AquaCIS answers nothing unless `otClassID` is 1 and
/// `operationalSiteID` is filled; [`RefreshData::new`] is the only way to build it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshData {
    #[serde(rename = "otID")]
    pub ot_id: i64,
    #[serde(rename = "otClassID")]
    ot_class_id: i64,
    #[serde(rename = "operationalSiteID")]
    operational_site_id: String,
}
impl RefreshData {
    pub fn new(ot_id: i64, operational_site: &str) -> Self {
        RefreshData {
            ot_id,
            ot_class_id: 1,
            operational_site_id: operational_site.to_owned(),
        }
    }
    /// What a buggy caller sent (`otClassID=0`); for the simulator's tests only.
    pub fn with_class(ot_id: i64, class: i64, site: &str) -> Self {
        RefreshData {
            ot_id,
            ot_class_id: class,
            operational_site_id: site.to_owned(),
        }
    }
    pub fn ot_class_id(&self) -> i64 {
        self.ot_class_id
    }
    pub fn operational_site_id(&self) -> &str {
        &self.operational_site_id
    }
}
operation!(RefreshData => OrdenResponse, "refreshData", WorkOrders, read: true);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InformarVisita {
    pub ot_id: i64,
    pub fecha: NaiveDate,
    pub resultado: String,
}
operation!(InformarVisita => OrdenResponse, "informarVisita", WorkOrders, read: false);

/// Close a work order. The meter serial and the visit comments go in AquaCIS's
/// misspelled fields, exactly: `busVHFumberSerie`, `vistitComments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolveOt {
    #[serde(rename = "otID")]
    pub ot_id: i64,
    #[serde(rename = "busVHFumberSerie")]
    pub numero_serie: String,
    #[serde(rename = "vistitComments")]
    pub comentarios: String,
    #[serde(rename = "codigoResolucion")]
    pub codigo_resolucion: String,
}
operation!(ResolveOt => OrdenResponse, "resolveOT", WorkOrders, read: false);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GetDocumentoOrdenTrabajo {
    pub ot_id: i64,
}
operation!(GetDocumentoOrdenTrabajo => DocumentoResponse, "getDocumentoOrdenTrabajo", WorkOrders, read: true);

replies!(
    ContratosResponse,
    PersonaResponse,
    ContratoResponse,
    ActuacionesResponse,
    FacturasResponse,
    DocumentoResponse,
    TarifaResponse,
    SolicitudResponse,
    ModificadosResponse,
    DeudaResponse,
    DesgloseResponse,
    BloqueoResponse,
    DocumentoPagoResponse,
    PagoResponse,
    ContadorResponse,
    PuntoServicioResponse,
    CambiosContadorResponse,
    LecturasResponse,
    ConsumosResponse,
    OrdenResponse,
);

/// Every operation's name with its service and whether it reads, for the simulator's
/// dispatch table, the facade's OpenAPI tags and the health page.
pub const ALL: &[(&str, Service, bool)] = &[
    (GetContratosPorNif::NAME, Service::Contracts, true),
    (GetContratosPorNifconDeuda::NAME, Service::Contracts, true),
    (GetTitularPorNif::NAME, Service::Contracts, true),
    (ConsultaDetalleContrato::NAME, Service::Contracts, true),
    (GetContrato::NAME, Service::Contracts, true),
    (
        ConsultaHistoricoActuacionesContrato::NAME,
        Service::Contracts,
        true,
    ),
    (GetFacturasContrato::NAME, Service::Contracts, true),
    (GetPdfFactura::NAME, Service::Contracts, true),
    (GetFacturaE::NAME, Service::Contracts, true),
    (GetTarifaDeAguaPorContrato::NAME, Service::Contracts, true),
    (
        SolicitudActivacionFacturaOnline::NAME,
        Service::Contracts,
        false,
    ),
    (
        CambiarEmailNotificacionPersona::NAME,
        Service::Contracts,
        false,
    ),
    (ConsultaContratosModificados::NAME, Service::Contracts, true),
    (GetDeuda::NAME, Service::Debt, true),
    (GetDeudaTotalConFacturas::NAME, Service::Debt, true),
    (GetImpagadosContrato::NAME, Service::Debt, true),
    (GetDeudaContrato::NAME, Service::Debt, true),
    (GetDeudaContratoBloqueoCobro::NAME, Service::Debt, true),
    (GetDocumentoPago::NAME, Service::Debt, false),
    (CobrarReferenciaFrmPago::NAME, Service::Debt, false),
    (CobrarReferencia::NAME, Service::Debt, false),
    (AvisarPago::NAME, Service::Debt, false),
    (CancelarReferencia::NAME, Service::Debt, false),
    (GetContador::NAME, Service::Meters, true),
    (GetPuntoServicioPorContador::NAME, Service::Meters, true),
    (GetCambiosContadorDeContrato::NAME, Service::Meters, true),
    (GetLecturas::NAME, Service::Readings, true),
    (GetConsumos::NAME, Service::Readings, true),
    (SolicitudIntroduccionLectura::NAME, Service::Readings, false),
    (CrearOrdenTrabajo::NAME, Service::WorkOrders, false),
    (RefreshData::NAME, Service::WorkOrders, true),
    (InformarVisita::NAME, Service::WorkOrders, false),
    (ResolveOt::NAME, Service::WorkOrders, false),
    (GetDocumentoOrdenTrabajo::NAME, Service::WorkOrders, true),
];
