//! Payments, the pure parts (issue #5's first step): everything here is a function of
//! its inputs, so it is tested without a database or a network.
//!
//! - [`allocate`]: a payment applied to a contract's open bills, oldest first; what is
//!   left over is a credit for the next bill.
//! - [`clabe`]: the stable CLABE referenciada of each contract under the utility's STP
//!   prefix, and back from an inbound CLABE to the contract.
//! - [`stp`]: STP's inbound abono (exact decimal amounts, never through a float), its
//!   replies, and the cadena original and `firma` of outbound orders.
//! - [`conekta`]: Conekta's webhook signature (`digest` header, RSA PKCS#1 v1.5 SHA-256
//!   over the raw body) and the event fields we act on.
//!
//! Architecture invariants: no database, no HTTP, no clock, no floats. Amounts are
//! integer centavos or `rust_decimal::Decimal`.

pub mod allocate;
pub mod barcode;
pub mod clabe;
pub mod codi;
pub mod conekta;
pub mod domiciliacion;
pub mod stp;

mod error;

pub use error::{Error, Result};
