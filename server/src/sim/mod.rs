pub mod aquacis;
pub mod conekta;
pub mod pac;
pub mod stp;
