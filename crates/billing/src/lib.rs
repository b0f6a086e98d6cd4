//! Billing engine of SUPRA Water (issue #3): tariffs as versioned, human-edited
//! TOML files ([`Tariff`], format in `docs/tariffs.md`), the water charge by
//! consumption blocks ([`water_charge`]), the whole bill of a period
//! ([`compute_bill`]: water, alcantarillado, saneamiento, discounts for
//! registered programs, recargos, fees, taxes and SAT codes per line, proration
//! by days) and the assessment of a period's consumption
//! ([`consumption::assess`], [`consumption::true_up`]).
//!
//! Invariants:
//! * Pure: no I/O, no clock, no HTTP, no database, no UI. The caller loads
//!   tariffs, readings and account state and passes them in.
//! * Money is never `f64`: amounts are `rust_decimal` / [`domain::Money`];
//!   volumes are `Decimal` m³ to the litre.
//! * Every line amount and every line's tax is rounded to the centavo, half
//!   away from zero; `subtotal` = Σ line amounts, `tax` = Σ line taxes,
//!   `total` = `subtotal + tax`, so the totals always equal the sum of the
//!   lines to the centavo. The steps of a line ("¿Cómo se calculó?") add up to
//!   its amount.
//! * No line is negative except discounts, and a discount never exceeds the
//!   line it discounts.
//! * One error type ([`BillingError`]); every message is in Spanish and names
//!   the field (or the line and column of a TOML syntax error).
//! * Tax treatment is configuration (the tariff's `[taxes]` table, with a
//!   documented shipped default), never decided in code per customer.
//!
//! Not here (rest of #3): invoices (CFDI stamping), PDF, persistence.

pub mod bill;
pub mod consumption;
mod error;
mod tariff;
mod tax;
mod water;

pub use bill::{Bill, BillInput, BillLine, Concept, FeeKind, Period, Step, compute_bill};
pub use consumption::{Assessment, ReviewPolicy, ReviewReason, TrueUp, assess, true_up};
pub use error::{BillingError, TariffError};
pub use tariff::{
    Base, Block, BlockMode, Discount, Fees, Recargos, SatCatalog, ServiceCharge, Tariff,
    TariffPeriod, Taxes, VolumeRule,
};
pub use tax::{SatCode, TaxTreatment};
pub use water::{Line, LineKind, Metering, WaterCharge, water_charge};
