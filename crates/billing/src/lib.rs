//! Billing engine — first slice of issue #3: the tariff model (versioned, human-edited
//! TOML files) and the water charge for a period's consumption.
//!
//! Invariants: no I/O, no HTTP, no database; money is `rust_decimal` (via
//! `domain::Money`), every line is rounded to the centavo (half away from zero) and
//! the total is the sum of the lines.
//!
//! Not yet here (rest of #3): sewer/treatment, discounts, taxes per line, recargos,
//! proration, estimates, invoices, PDF.

mod tariff;
mod water;

pub use tariff::{Base, Block, BlockMode, Tariff, TariffError, VolumeRule};
pub use water::{Line, LineKind, Metering, WaterCharge, water_charge};
