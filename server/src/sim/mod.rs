pub mod conekta;
pub mod pac;
