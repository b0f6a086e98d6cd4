//! The bridge to AquaCIS, the utility's legacy CIS, on the wire: typed requests and
//! responses for the operations SUPRA needs from its five SOAP services (`ops`), the
//! SOAP envelopes with a WS-Security UsernameToken on every call (`wire`), and a
//! client (`client`) with timeouts, retries with backoff for reads only, and a circuit
//! breaker per service.
//!
//! AquaCIS's known defects are handled here and nowhere else: `reultado` read as
//! `resultado`, `codigoError` read as a number or as text, the misspelled request
//! fields sent misspelled, `otClassID=1` on `refreshData`, and `idPtoServicio` resolved
//! from the meter before `crearOrdenTrabajo`.
//!
//! The same client talks to the real AquaCIS and to the simulator in this repository
//! (`supra sim aquacis`); only the base URL differs.

pub mod client;
pub mod ops;
pub mod wire;

pub use client::{Breaker, BreakerState, Client, Config, ServiceHealth};
pub use ops::{ErrorCode, Operation, Reply};
pub use wire::Credentials;

use thiserror::Error;

/// AquaCIS's five SOAP services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// InterfazGenericaContratacionWS: contracts, persons, invoices.
    Contracts,
    /// InterfazGenericaGestionDeudaWS: debt, payment documents, payments.
    Debt,
    /// InterfazGenericaContadoresWS: meters and service points.
    Meters,
    /// InterfazOficinaVirtualClientesWS: readings and consumption.
    Readings,
    /// InterfazGenericaOrdenesServicioWS: work orders.
    WorkOrders,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Service::Contracts,
        Service::Debt,
        Service::Meters,
        Service::Readings,
        Service::WorkOrders,
    ];

    /// The service's name in AquaCIS (and the last segment of its URL).
    pub fn ws_name(self) -> &'static str {
        match self {
            Service::Contracts => "InterfazGenericaContratacionWS",
            Service::Debt => "InterfazGenericaGestionDeudaWS",
            Service::Meters => "InterfazGenericaContadoresWS",
            Service::Readings => "InterfazOficinaVirtualClientesWS",
            Service::WorkOrders => "InterfazGenericaOrdenesServicioWS",
        }
    }

    /// Path under the base URL (`https://aquacis-cf.ceaqueretaro.gob.mx`).
    pub fn path(self) -> String {
        format!("/Comercial/services/{}", self.ws_name())
    }

    pub fn namespace(self) -> String {
        format!(
            "http://ws.interfazgenerica.comercial.aquacis.com/{}",
            self.ws_name()
        )
    }

    pub fn from_ws_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.ws_name() == name)
    }

    /// Plain Spanish, for the staff's health page.
    pub fn label(self) -> &'static str {
        match self {
            Service::Contracts => "Contratación",
            Service::Debt => "Gestión de deuda",
            Service::Meters => "Contadores",
            Service::Readings => "Oficina virtual (lecturas)",
            Service::WorkOrders => "Órdenes de servicio",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// AquaCIS could not be reached, timed out, answered 5xx without a SOAP fault or
    /// cut the connection. For a write the outcome is unknown.
    #[error("AquaCIS no respondió ({service}): {message}")]
    Unavailable {
        service: &'static str,
        message: String,
    },
    /// The breaker for this service is open: not even tried.
    #[error("AquaCIS ({service}) está fuera de servicio; se reintentará más tarde")]
    CircuitOpen { service: &'static str },
    /// A SOAP fault (AquaCIS's Java exceptions, a missing WS-Security header).
    #[error("AquaCIS devolvió un error SOAP {code}: {message}")]
    Fault { code: String, message: String },
    /// AquaCIS answered with a `codigoError`.
    #[error("AquaCIS rechazó la operación (código {code}): {message}")]
    Rejected { code: ErrorCode, message: String },
    /// The answer could not be read (malformed XML, unexpected element).
    #[error("respuesta de AquaCIS ilegible: {0}")]
    Protocol(String),
    /// Something we must not send (a work order without a service point).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Worth trying again later: AquaCIS did not give an answer.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Unavailable { .. } | Error::CircuitOpen { .. } | Error::Protocol(_)
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
