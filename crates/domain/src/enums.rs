//! Closed sets of domain codes.
//!
//! Every enum is stored and serialized as its snake_case code
//! ([`as_str`](UseType::as_str)), parsed back with `FromStr` (trimmed,
//! case-insensitive) and shown to people with `label_es()`.
//! `Display` writes the code (not the label).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::InvalidValue;

macro_rules! domain_enum {
    (
        $(#[$meta:meta])*
        $name:ident, field = $field:literal, invalid = $invalid:literal,
        { $( $(#[$vmeta:meta])* $variant:ident => ($code:literal, $label:literal) ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in display order.
            pub const ALL: &'static [Self] = &[ $( Self::$variant ),+ ];

            /// The snake_case code used in the database and in JSON.
            pub const fn as_str(&self) -> &'static str {
                match self { $( Self::$variant => $code ),+ }
            }

            /// Plain Spanish (es-MX) label for people.
            pub const fn label_es(&self) -> &'static str {
                match self { $( Self::$variant => $label ),+ }
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let code = s.trim().to_ascii_lowercase();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == code)
                    .ok_or_else(|| {
                        let options: Vec<&str> = Self::ALL.iter().map(|v| v.label_es()).collect();
                        InvalidValue::new(
                            $field,
                            format!("{}: «{}». Opciones: {}.", $invalid, s.trim(), options.join(", ")),
                        )
                    })
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidValue;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

domain_enum! {
    /// Use of the water service (uso del servicio).
    UseType, field = "uso", invalid = "Tipo de uso no válido", {
        Domestico => ("domestico", "Doméstico"),
        Comercial => ("comercial", "Comercial y servicios"),
        Industrial => ("industrial", "Industrial"),
        Gobierno => ("gobierno", "Gobierno y servicios públicos"),
        Mixto => ("mixto", "Mixto"),
    }
}

domain_enum! {
    /// Tariff class. Domestic contracts use Popular..Residencial;
    /// `General` applies to non-domestic uses.
    TariffClass, field = "tarifa", invalid = "Clase de tarifa no válida", {
        Popular => ("popular", "Popular"),
        Economica => ("economica", "Económica"),
        Media => ("media", "Media"),
        Residencial => ("residencial", "Residencial"),
        /// Non-domestic uses.
        General => ("general", "General"),
    }
}

domain_enum! {
    /// Lifecycle status of a contract.
    ContractStatus, field = "estatus", invalid = "Estado de contrato no válido", {
        Activo => ("activo", "Activo"),
        Suspendido => ("suspendido", "Suspendido por adeudo"),
        Cortado => ("cortado", "Servicio cortado"),
        Baja => ("baja", "Dado de baja"),
    }
}

domain_enum! {
    /// Role of a utility staff member (controls permissions).
    StaffRole, field = "rol", invalid = "Rol no válido", {
        Admin => ("admin", "Administración"),
        Facturacion => ("facturacion", "Facturación"),
        Cajero => ("cajero", "Caja"),
        Atencion => ("atencion", "Atención a usuarios"),
        Campo => ("campo", "Campo"),
        Auditor => ("auditor", "Auditoría"),
    }
}

domain_enum! {
    /// Where a meter reading came from.
    ReadingSource, field = "origen_lectura", invalid = "Origen de lectura no válido", {
        Lecturista => ("lecturista", "Lecturista"),
        Telemetria => ("telemetria", "Telemetría"),
        Ciudadano => ("ciudadano", "Lectura del usuario"),
        Estimada => ("estimada", "Estimada"),
        Legado => ("legado", "Sistema anterior"),
    }
}

domain_enum! {
    /// Quality flag of a meter reading.
    ReadingQuality, field = "calidad_lectura", invalid = "Calidad de lectura no válida", {
        Valida => ("valida", "Válida"),
        Vuelta => ("vuelta", "Válida (el medidor volvió a cero)"),
        Estimada => ("estimada", "Estimada"),
        SinAcceso => ("sin_acceso", "Sin acceso al medidor"),
        MedidorDanado => ("medidor_danado", "Medidor dañado"),
        Ilegible => ("ilegible", "Medidor ilegible"),
        Reverso => ("reverso", "Flujo inverso"),
        Salto => ("salto", "Salto imposible"),
        Sospechosa => ("sospechosa", "En revisión"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Checks every invariant shared by the enums.
    fn check_enum<T>(all: &[T], as_str: fn(&T) -> &'static str, label: fn(&T) -> &'static str)
    where
        T: Copy
            + fmt::Debug
            + PartialEq
            + FromStr<Err = InvalidValue>
            + Serialize
            + for<'de> Deserialize<'de>,
    {
        let mut codes = HashSet::new();
        for v in all {
            let code = as_str(v);
            assert!(codes.insert(code), "duplicate code {code}");
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
            assert!(!label(v).is_empty());
            // FromStr round trip, tolerant to case and whitespace.
            assert_eq!(code.parse::<T>().expect("code parses"), *v);
            assert_eq!(
                format!(" {} ", code.to_uppercase())
                    .parse::<T>()
                    .expect("upper"),
                *v
            );
            // Serde uses the same code.
            let json = serde_json::to_string(v).expect("ser");
            assert_eq!(json, format!("\"{code}\""));
            assert_eq!(serde_json::from_str::<T>(&json).expect("de"), *v);
        }
        let e = "no_existe".parse::<T>().expect_err("unknown code");
        assert!(e.message.contains("no_existe"), "{}", e.message);
        assert!(e.message.contains("no válid"), "{}", e.message);
        assert!(serde_json::from_str::<T>("\"no_existe\"").is_err());
        assert!("".parse::<T>().is_err());
    }

    #[test]
    fn use_type() {
        check_enum(UseType::ALL, UseType::as_str, UseType::label_es);
        assert_eq!(UseType::ALL.len(), 5);
        assert_eq!(UseType::Domestico.label_es(), "Doméstico");
        assert_eq!(UseType::Gobierno.as_str(), "gobierno");
        assert_eq!(UseType::Comercial.to_string(), "comercial");
        let e = "hotel".parse::<UseType>().expect_err("bad");
        assert_eq!(e.field, "uso");
        assert_eq!(
            e.message,
            "Tipo de uso no válido: «hotel». Opciones: Doméstico, Comercial y servicios, Industrial, Gobierno y servicios públicos, Mixto."
        );
    }

    #[test]
    fn tariff_class() {
        check_enum(TariffClass::ALL, TariffClass::as_str, TariffClass::label_es);
        assert_eq!(TariffClass::Economica.label_es(), "Económica");
        assert_eq!(
            "general".parse::<TariffClass>().expect("ok"),
            TariffClass::General
        );
        assert_eq!("x".parse::<TariffClass>().expect_err("bad").field, "tarifa");
    }

    #[test]
    fn contract_status() {
        check_enum(
            ContractStatus::ALL,
            ContractStatus::as_str,
            ContractStatus::label_es,
        );
        assert_eq!(
            ContractStatus::Suspendido.label_es(),
            "Suspendido por adeudo"
        );
        assert_eq!(ContractStatus::Baja.as_str(), "baja");
        assert_eq!(
            "x".parse::<ContractStatus>().expect_err("bad").field,
            "estatus"
        );
    }

    #[test]
    fn staff_role() {
        check_enum(StaffRole::ALL, StaffRole::as_str, StaffRole::label_es);
        assert_eq!(StaffRole::ALL.len(), 6);
        assert_eq!(StaffRole::Atencion.label_es(), "Atención a usuarios");
        assert_eq!("x".parse::<StaffRole>().expect_err("bad").field, "rol");
    }

    #[test]
    fn reading_source() {
        check_enum(
            ReadingSource::ALL,
            ReadingSource::as_str,
            ReadingSource::label_es,
        );
        assert_eq!(ReadingSource::Ciudadano.label_es(), "Lectura del usuario");
        assert_eq!(ReadingSource::Legado.as_str(), "legado");
    }

    #[test]
    fn reading_quality() {
        check_enum(
            ReadingQuality::ALL,
            ReadingQuality::as_str,
            ReadingQuality::label_es,
        );
        assert_eq!(ReadingQuality::SinAcceso.as_str(), "sin_acceso");
        assert_eq!(ReadingQuality::MedidorDanado.as_str(), "medidor_danado");
        assert_eq!(ReadingQuality::MedidorDanado.label_es(), "Medidor dañado");
        assert_eq!(
            serde_json::to_string(&ReadingQuality::SinAcceso).expect("ser"),
            "\"sin_acceso\""
        );
        assert_eq!(
            "medidor_danado".parse::<ReadingQuality>().expect("ok"),
            ReadingQuality::MedidorDanado
        );
    }
}
