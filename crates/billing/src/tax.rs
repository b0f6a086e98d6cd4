use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{BillingError, invalid};

/// How a concept is treated for IVA (and how it is declared in the CFDI).
///
/// Written in tariff files and serialized as `"iva16"`, `"iva0"`, `"exento"`,
/// `"no_objeto"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxTreatment {
    /// IVA at the general 16 % rate.
    Iva16,
    /// IVA at the 0 % rate (object of the tax, rate zero).
    Iva0,
    /// Exempt from IVA (object of the tax, no rate).
    Exento,
    /// Not object of the tax at all.
    NoObjeto,
}

impl TaxTreatment {
    pub const ALL: &'static [TaxTreatment] = &[
        TaxTreatment::Iva16,
        TaxTreatment::Iva0,
        TaxTreatment::Exento,
        TaxTreatment::NoObjeto,
    ];

    /// The code used in tariff files and JSON.
    pub const fn as_str(&self) -> &'static str {
        match self {
            TaxTreatment::Iva16 => "iva16",
            TaxTreatment::Iva0 => "iva0",
            TaxTreatment::Exento => "exento",
            TaxTreatment::NoObjeto => "no_objeto",
        }
    }

    /// IVA rate: `0.16`, `0`, or `None` (exento / no objeto: no tax computed).
    pub fn rate(&self) -> Option<Decimal> {
        match self {
            TaxTreatment::Iva16 => Some(Decimal::new(16, 2)),
            TaxTreatment::Iva0 => Some(Decimal::ZERO),
            TaxTreatment::Exento | TaxTreatment::NoObjeto => None,
        }
    }

    /// SAT catalog c_ObjetoImp: `"01"` no objeto de impuesto, `"02"` sí objeto.
    pub const fn objeto_imp(&self) -> &'static str {
        match self {
            TaxTreatment::NoObjeto => "01",
            TaxTreatment::Iva16 | TaxTreatment::Iva0 | TaxTreatment::Exento => "02",
        }
    }

    /// SAT c_TipoFactor of the transferred IVA: `"Tasa"`, `"Exento"`, or `None`
    /// when the concept is not object of the tax (no tax node at all).
    pub const fn tipo_factor(&self) -> Option<&'static str> {
        match self {
            TaxTreatment::Iva16 | TaxTreatment::Iva0 => Some("Tasa"),
            TaxTreatment::Exento => Some("Exento"),
            TaxTreatment::NoObjeto => None,
        }
    }

    /// Plain Spanish label for people.
    pub const fn label_es(&self) -> &'static str {
        match self {
            TaxTreatment::Iva16 => "IVA 16 %",
            TaxTreatment::Iva0 => "IVA tasa 0 %",
            TaxTreatment::Exento => "Exento de IVA",
            TaxTreatment::NoObjeto => "No objeto de impuesto",
        }
    }
}

impl fmt::Display for TaxTreatment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaxTreatment {
    type Err = BillingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_lowercase();
        TaxTreatment::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == code)
            .ok_or_else(|| {
                invalid(
                    "impuesto",
                    format!(
                        "tratamiento de impuesto no válido «{}»; opciones: iva16, iva0, exento, no_objeto",
                        s.trim()
                    ),
                )
            })
    }
}

impl<'de> Deserialize<'de> for TaxTreatment {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|e: BillingError| match e {
            BillingError::Invalid { message, .. } => serde::de::Error::custom(message),
            other => serde::de::Error::custom(other),
        })
    }
}

/// SAT product/service and unit codes of a bill line (CFDI `ClaveProdServ`,
/// `ClaveUnidad`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SatCode {
    pub clave_prod_serv: String,
    pub clave_unidad: String,
}

impl SatCode {
    pub fn new(clave_prod_serv: &str, clave_unidad: &str) -> SatCode {
        SatCode {
            clave_prod_serv: clave_prod_serv.to_owned(),
            clave_unidad: clave_unidad.to_owned(),
        }
    }

    pub(crate) fn validate(&self, field: &str) -> Result<(), BillingError> {
        let p = &self.clave_prod_serv;
        if p.len() != 8 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                format!("{field}.clave_prod_serv"),
                format!("«{p}» no es una clave de producto o servicio del SAT (8 dígitos)"),
            ));
        }
        let u = &self.clave_unidad;
        if !(2..=3).contains(&u.len())
            || !u
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(invalid(
                format!("{field}.clave_unidad"),
                format!(
                    "«{u}» no es una clave de unidad del SAT (2 o 3 letras mayúsculas o dígitos, p. ej. MTQ o E48)"
                ),
            ));
        }
        Ok(())
    }
}
