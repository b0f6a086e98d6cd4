use rust_decimal::Decimal;
use serde::Deserialize;

/// How the consumption blocks price the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockMode {
    /// Each m³ is priced in the block it falls in (like income-tax brackets).
    Incremental,
    /// Every m³ is priced at the block the total falls in.
    WholeVolume,
}

/// Whether billed volume is whole m³ or keeps the litres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeRule {
    /// Whole m³, truncated: the litres not billed stay on the cumulative register
    /// and are billed in a later period, so nothing is lost or billed twice.
    Whole,
    /// Exact volume (to the litre).
    Decimal,
}

/// Cuota base: a fixed amount that covers the first `covers_m3`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Base {
    pub amount: Decimal,
    pub covers_m3: Decimal,
}

/// A consumption block: from the previous block's `up_to_m3` (or 0) up to and
/// including `up_to_m3`; the last block has no upper bound.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub up_to_m3: Option<Decimal>,
    pub price_per_m3: Decimal,
}

/// One published tariff (per use type and class, valid from a date).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    pub name: String,
    pub use_type: String,
    pub class: String,
    /// ISO date the tariff applies from (as published in the state gazette).
    pub valid_from: String,
    pub block_mode: BlockMode,
    pub volume: VolumeRule,
    pub base: Option<Base>,
    #[serde(default)]
    pub blocks: Vec<Block>,
    /// Minimum charge for the water line of a metered toma.
    pub minimum_charge: Option<Decimal>,
    /// Cuota fija for tomas without a working meter.
    pub flat_fee: Option<Decimal>,
}

/// The one error type of the crate: where in the file and what is wrong, in Spanish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("{0}")]
    Syntax(String),
    #[error("campo «{field}»: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> TariffError {
    TariffError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl Tariff {
    /// Parse and validate a tariff file. Syntax errors carry line and column.
    pub fn from_toml(text: &str) -> Result<Tariff, TariffError> {
        let t: Tariff = toml::from_str(text).map_err(|e| TariffError::Syntax(e.to_string()))?;
        t.validate()?;
        Ok(t)
    }

    pub fn validate(&self) -> Result<(), TariffError> {
        self.use_type
            .parse::<domain::UseType>()
            .map_err(|e| invalid("use_type", e.message))?;
        self.class
            .parse::<domain::TariffClass>()
            .map_err(|e| invalid("class", e.message))?;
        let money = |field: &str, v: Decimal| -> Result<(), TariffError> {
            if v.is_sign_negative() {
                return Err(invalid(field, "no puede ser negativo"));
            }
            Ok(())
        };
        if let Some(b) = &self.base {
            money("base.amount", b.amount)?;
            money("base.covers_m3", b.covers_m3)?;
        }
        if let Some(m) = self.minimum_charge {
            money("minimum_charge", m)?;
        }
        if let Some(f) = self.flat_fee {
            money("flat_fee", f)?;
        }
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
            money(&format!("{field}.price_per_m3"), b.price_per_m3)?;
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
}
