pub mod pac;
