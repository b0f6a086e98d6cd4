use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::bill::{Concept, FeeKind};
use crate::error::{BillingError, invalid};
use crate::tax::{SatCode, TaxTreatment};

/// How the consumption blocks price the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockMode {
    /// Each m³ is priced in the block it falls in (like income-tax brackets).
    Incremental,
    /// Every m³ is priced at the block the total falls in.
    WholeVolume,
}

/// Whether billed volume is whole m³ or keeps the litres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeRule {
    /// Whole m³, truncated: the litres not billed stay on the cumulative register
    /// and are billed in a later period, so nothing is lost or billed twice.
    Whole,
    /// Exact volume (to the litre).
    Decimal,
}

/// The billing period the tariff's amounts are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TariffPeriod {
    /// Monthly amounts (nominal 30 days). The default.
    #[default]
    Mensual,
    /// Bimonthly amounts (nominal 60 days).
    Bimestral,
}

impl TariffPeriod {
    /// Nominal days of the period (30 / 60), used to prorate the fixed parts
    /// for partial service.
    pub const fn nominal_days(&self) -> u32 {
        match self {
            TariffPeriod::Mensual => 30,
            TariffPeriod::Bimestral => 60,
        }
    }

    pub const fn as_str(&self) -> &'static str {
        match self {
            TariffPeriod::Mensual => "mensual",
            TariffPeriod::Bimestral => "bimestral",
        }
    }
}

/// Cuota base: a fixed amount that covers the first `covers_m3`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Base {
    pub amount: Decimal,
    pub covers_m3: Decimal,
}

/// A consumption block: from the previous block's `up_to_m3` (or 0) up to and
/// including `up_to_m3`; the last block has no upper bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to_m3: Option<Decimal>,
    pub price_per_m3: Decimal,
}

/// Alcantarillado (`[sewer]`) or saneamiento (`[treatment]`): exactly one of
/// the two keys is set (checked by [`Tariff::validate`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCharge {
    /// Percentage of the water charge (after the minimum adjustment, before
    /// discounts), e.g. `25` for 25 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_of_water: Option<Decimal>,
    /// Price per billed m³.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_m3: Option<Decimal>,
}

/// A discount for accounts registered in a social program (INAPAM, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discount {
    /// Program code the account is registered in, e.g. `"inapam"`.
    pub program: String,
    /// Text of the bill line, e.g. `"Descuento INAPAM (adulto mayor)"`.
    pub label: String,
    /// Percentage off (0–100).
    pub percent: Decimal,
    /// Applies to the water charge of the first `up_to_m3` m³ only
    /// (`None` = the whole water charge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to_m3: Option<Decimal>,
    /// Also discount sewer and treatment, in the same proportion as water.
    #[serde(default, skip_serializing_if = "is_false")]
    pub applies_to_sewer: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `[taxes]`: tax treatment per concept; `None` = the shipped default
/// (see [`Tariff::tax`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water: Option<TaxTreatment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sewer: Option<TaxTreatment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treatment: Option<TaxTreatment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recargos: Option<TaxTreatment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconexion: Option<TaxTreatment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multa: Option<TaxTreatment>,
}

impl Taxes {
    fn is_unset(&self) -> bool {
        *self == Taxes::default()
    }
}

/// `[recargos]`: surcharge on the overdue balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recargos {
    /// Percent of the overdue balance charged per bill, e.g. `1.47`.
    pub monthly_percent: Decimal,
}

/// `[fees]`: fixed fees charged only when the bill input asks for them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fees {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconexion: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multa: Option<Decimal>,
}

impl Fees {
    fn is_unset(&self) -> bool {
        *self == Fees::default()
    }
}

/// `[sat.<concept>]`: SAT codes per concept; `None` = the default
/// (see [`Tariff::sat_code`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SatCatalog {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water: Option<SatCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sewer: Option<SatCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treatment: Option<SatCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recargos: Option<SatCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconexion: Option<SatCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multa: Option<SatCode>,
}

impl SatCatalog {
    fn is_unset(&self) -> bool {
        *self == SatCatalog::default()
    }
}

/// One published tariff version (per use type and class, valid from a date).
///
/// Field order matters only for [`Tariff::to_toml`]: plain keys first, then
/// tables, as a person would write the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    pub name: String,
    /// `domain::UseType` code, e.g. `"domestico"`.
    pub use_type: String,
    /// `domain::TariffClass` code, e.g. `"media"`.
    pub class: String,
    /// Date the version applies from (as published in the state gazette).
    /// Written `"2026-01-01"` or as a bare TOML date.
    #[serde(with = "date_serde")]
    pub valid_from: NaiveDate,
    /// `"mensual"` (default) or `"bimestral"`.
    #[serde(default)]
    pub period: TariffPeriod,
    pub block_mode: BlockMode,
    pub volume: VolumeRule,
    /// Minimum charge for the water line of a metered toma.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_charge: Option<Decimal>,
    /// Cuota fija for tomas without a working meter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat_fee: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Base>,
    #[serde(default)]
    pub blocks: Vec<Block>,
    /// Alcantarillado.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sewer: Option<ServiceCharge>,
    /// Saneamiento.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treatment: Option<ServiceCharge>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<Discount>,
    #[serde(default, skip_serializing_if = "Taxes::is_unset")]
    pub taxes: Taxes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recargos: Option<Recargos>,
    #[serde(default, skip_serializing_if = "Fees::is_unset")]
    pub fees: Fees,
    #[serde(default, skip_serializing_if = "SatCatalog::is_unset")]
    pub sat: SatCatalog,
}

mod date_serde {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&d.format("%Y-%m-%d").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let bad = |shown: &str| {
            serde::de::Error::custom(format!(
                "valid_from: fecha no válida «{shown}»; escríbela como AAAA-MM-DD, por ejemplo 2026-01-01"
            ))
        };
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => {
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| bad(&s))
            }
            toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(date), None, None) => NaiveDate::from_ymd_opt(
                    i32::from(date.year),
                    u32::from(date.month),
                    u32::from(date.day),
                )
                .ok_or_else(|| bad(&dt.to_string())),
                _ => Err(bad(&dt.to_string())),
            },
            other => Err(bad(&other.to_string())),
        }
    }
}

fn non_negative(field: &str, v: Decimal) -> Result<(), BillingError> {
    if v.is_sign_negative() && !v.is_zero() {
        return Err(invalid(field, "no puede ser negativo"));
    }
    Ok(())
}

/// Rounds a volume to the litre (3 decimals, half away from zero).
pub(crate) fn round_m3(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

impl Tariff {
    /// Parse and validate a tariff file. Syntax errors carry line and column;
    /// semantic errors name the field.
    pub fn from_toml(text: &str) -> Result<Tariff, BillingError> {
        let t: Tariff = toml::from_str(text).map_err(|e| BillingError::Syntax(e.to_string()))?;
        t.validate()?;
        Ok(t)
    }

    /// Export as a TOML file that [`Tariff::from_toml`] reads back to an equal
    /// tariff. Decimals are written as quoted strings so they stay exact.
    pub fn to_toml(&self) -> Result<String, BillingError> {
        toml::to_string(self).map_err(|e| {
            invalid(
                "tarifa",
                format!("no se pudo exportar la tarifa «{}»: {e}", self.name),
            )
        })
    }

    /// `true` for use type `domestico`.
    pub fn is_domestic(&self) -> bool {
        self.use_type.parse::<domain::UseType>() == Ok(domain::UseType::Domestico)
    }

    /// Nominal days of the tariff's period (30 mensual / 60 bimestral).
    pub fn nominal_days(&self) -> u32 {
        self.period.nominal_days()
    }

    /// Tax treatment of a concept: the `[taxes]` entry, or the shipped default
    /// when omitted — water, sewer, treatment and recargos are `iva0` for use type
    /// `domestico` and `iva16` for every other use type; reconexión and multa are
    /// `iva16`. Discounts take the treatment of the water line.
    pub fn tax(&self, concept: Concept) -> TaxTreatment {
        let by_use = if self.is_domestic() {
            TaxTreatment::Iva0
        } else {
            TaxTreatment::Iva16
        };
        let t = &self.taxes;
        match concept {
            Concept::Water | Concept::Discount => t.water.unwrap_or(by_use),
            Concept::Sewer => t.sewer.unwrap_or(by_use),
            Concept::Treatment => t.treatment.unwrap_or(by_use),
            Concept::Recargos => t.recargos.unwrap_or(by_use),
            Concept::Reconexion => t.reconexion.unwrap_or(TaxTreatment::Iva16),
            Concept::Multa => t.multa.unwrap_or(TaxTreatment::Iva16),
        }
    }

    /// SAT codes of a concept: the `[sat.<concept>]` entry or the default
    /// (water 10171500/MTQ, sewer 72151802/E48, treatment 72151801/E48,
    /// reconexión 72151800/E48, multa and recargos 01010101/ACT). Discounts use
    /// the water codes.
    pub fn sat_code(&self, concept: Concept) -> SatCode {
        let s = &self.sat;
        let (set, default) = match concept {
            Concept::Water | Concept::Discount => (&s.water, ("10171500", "MTQ")),
            Concept::Sewer => (&s.sewer, ("72151802", "E48")),
            Concept::Treatment => (&s.treatment, ("72151801", "E48")),
            Concept::Reconexion => (&s.reconexion, ("72151800", "E48")),
            Concept::Multa => (&s.multa, ("01010101", "ACT")),
            Concept::Recargos => (&s.recargos, ("01010101", "ACT")),
        };
        set.clone()
            .unwrap_or_else(|| SatCode::new(default.0, default.1))
    }

    /// The amount of a fee, if the tariff defines it.
    pub fn fee(&self, kind: FeeKind) -> Option<Decimal> {
        match kind {
            FeeKind::Reconexion => self.fees.reconexion,
            FeeKind::Multa => self.fees.multa,
        }
    }

    /// Checks every rule a tariff file must follow (see `docs/tariffs.md`).
    pub fn validate(&self) -> Result<(), BillingError> {
        if self.name.trim().is_empty() {
            return Err(invalid("name", "escribe el nombre de la tarifa"));
        }
        self.use_type
            .parse::<domain::UseType>()
            .map_err(|e| invalid("use_type", e.message))?;
        self.class
            .parse::<domain::TariffClass>()
            .map_err(|e| invalid("class", e.message))?;
        if let Some(b) = &self.base {
            non_negative("base.amount", b.amount)?;
            non_negative("base.covers_m3", b.covers_m3)?;
        }
        if let Some(m) = self.minimum_charge {
            non_negative("minimum_charge", m)?;
        }
        if let Some(f) = self.flat_fee {
            non_negative("flat_fee", f)?;
        }
        self.validate_blocks()?;
        for (key, charge) in [("sewer", &self.sewer), ("treatment", &self.treatment)] {
            let Some(c) = charge else { continue };
            match (c.percent_of_water, c.per_m3) {
                (Some(p), None) => non_negative(&format!("{key}.percent_of_water"), p)?,
                (None, Some(p)) => non_negative(&format!("{key}.per_m3"), p)?,
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        key,
                        "usa solo una de las dos claves: percent_of_water (porcentaje del agua) o per_m3 (precio por m³), no ambas",
                    ));
                }
                (None, None) => {
                    return Err(invalid(
                        key,
                        "falta la regla: escribe percent_of_water (porcentaje del agua) o per_m3 (precio por m³)",
                    ));
                }
            }
        }
        for (i, d) in self.discounts.iter().enumerate() {
            let field = format!("discounts[{}]", i + 1);
            if d.program.trim().is_empty() {
                return Err(invalid(
                    format!("{field}.program"),
                    "escribe la clave del programa, p. ej. \"inapam\"",
                ));
            }
            if self.discounts[..i].iter().any(|o| o.program == d.program) {
                return Err(invalid(
                    format!("{field}.program"),
                    format!(
                        "el programa «{}» ya tiene un descuento en esta tarifa",
                        d.program
                    ),
                ));
            }
            if d.label.trim().is_empty() {
                return Err(invalid(
                    format!("{field}.label"),
                    "escribe el texto que verá el usuario en su recibo",
                ));
            }
            if d.percent.is_sign_negative() && !d.percent.is_zero()
                || d.percent > Decimal::ONE_HUNDRED
            {
                return Err(invalid(
                    format!("{field}.percent"),
                    "debe estar entre 0 y 100",
                ));
            }
            if let Some(up) = d.up_to_m3 {
                non_negative(&format!("{field}.up_to_m3"), up)?;
            }
        }
        if let Some(r) = &self.recargos {
            non_negative("recargos.monthly_percent", r.monthly_percent)?;
            if r.monthly_percent > Decimal::ONE_HUNDRED {
                return Err(invalid(
                    "recargos.monthly_percent",
                    "debe estar entre 0 y 100",
                ));
            }
        }
        if let Some(f) = self.fees.reconexion {
            non_negative("fees.reconexion", f)?;
        }
        if let Some(f) = self.fees.multa {
            non_negative("fees.multa", f)?;
        }
        let s = &self.sat;
        for (key, code) in [
            ("sat.water", &s.water),
            ("sat.sewer", &s.sewer),
            ("sat.treatment", &s.treatment),
            ("sat.recargos", &s.recargos),
            ("sat.reconexion", &s.reconexion),
            ("sat.multa", &s.multa),
        ] {
            if let Some(c) = code {
                c.validate(key)?;
            }
        }
        Ok(())
    }

    fn validate_blocks(&self) -> Result<(), BillingError> {
        if self.blocks.is_empty() {
            return Err(invalid(
                "blocks",
                "hace falta al menos un bloque de consumo",
            ));
        }
        let mut previous = Decimal::ZERO;
        let last = self.blocks.len() - 1;
        for (i, b) in self.blocks.iter().enumerate() {
            let field = format!("blocks[{}]", i + 1);
            non_negative(&format!("{field}.price_per_m3"), b.price_per_m3)?;
            match (b.up_to_m3, i == last) {
                (None, true) => {}
                (None, false) => {
                    return Err(invalid(
                        format!("{field}.up_to_m3"),
                        "solo el último bloque puede no tener límite",
                    ));
                }
                (Some(_), true) => {
                    return Err(invalid(
                        format!("{field}.up_to_m3"),
                        "el último bloque no lleva límite (cubre todo el consumo restante)",
                    ));
                }
                (Some(up), false) => {
                    if up <= previous {
                        return Err(invalid(
                            format!("{field}.up_to_m3"),
                            format!("debe ser mayor que {previous}"),
                        ));
                    }
                    previous = up;
                }
            }
        }
        Ok(())
    }

    /// The tariff for a partial period of service: the fixed parts (base
    /// amount, base `covers_m3`, block limits, minimum charge, flat fee) times
    /// `factor` (0–1). Volumes are rounded to the litre; amounts are left exact
    /// (each line is rounded to the centavo when charged).
    pub(crate) fn prorated(&self, factor: Decimal) -> Tariff {
        let mut t = self.clone();
        if let Some(b) = &mut t.base {
            b.amount *= factor;
            b.covers_m3 = round_m3(b.covers_m3 * factor);
        }
        for b in &mut t.blocks {
            b.up_to_m3 = b.up_to_m3.map(|u| round_m3(u * factor));
        }
        t.minimum_charge = t.minimum_charge.map(|m| m * factor);
        t.flat_fee = t.flat_fee.map(|f| f * factor);
        t
    }
}
