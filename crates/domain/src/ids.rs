//! Validated identifiers: contract numbers, Mexican tax and population ids,
//! phone numbers, e-mail addresses and bank accounts (CLABE).
//!
//! Every type is a newtype over its canonical `String` form. Parsing
//! (`FromStr`, `TryFrom`, serde `Deserialize`) normalizes the input (trims,
//! uppercases, strips separators as appropriate) and validates it;
//! `as_str()`/`Display`/`Serialize` give back the canonical form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::InvalidValue;

/// Implements the shared boilerplate for a `String` newtype whose
/// associated `fn validate(&str) -> Result<String, InvalidValue>` returns the
/// canonical form.
macro_rules! string_newtype {
    ($ty:ident) => {
        impl $ty {
            /// The canonical string form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::validate(s).map(Self)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = InvalidValue;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// Removes whitespace and dashes (common visual separators).
fn strip_separators(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// Validates a `YYMMDD` date given as 6 ASCII digits. The century is unknown,
/// so February 29 is accepted whenever `YY` is divisible by 4 (00 included).
fn valid_yymmdd(d: &[u8]) -> bool {
    if d.len() != 6 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = |i: usize| u32::from(d[i] - b'0') * 10 + u32::from(d[i + 1] - b'0');
    let (yy, mm, dd) = (n(0), n(2), n(4));
    let max_day = match mm {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if yy % 4 == 0 => 29,
        2 => 28,
        _ => return false,
    };
    (1..=max_day).contains(&dd)
}

// ---------------------------------------------------------------------------
// ContractNumber
// ---------------------------------------------------------------------------

/// A water-service contract number: 5 to 12 ASCII digits (leading zeros are
/// significant and kept). Input may contain surrounding/inner spaces or
/// dashes, which are removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContractNumber(String);

string_newtype!(ContractNumber);

impl ContractNumber {
    const FIELD: &'static str = "contrato";

    fn validate(s: &str) -> Result<String, InvalidValue> {
        let digits = strip_separators(s);
        if digits.is_empty() {
            return Err(InvalidValue::new(
                Self::FIELD,
                "Escribe tu número de contrato.",
            ));
        }
        if !(5..=12).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new(
                Self::FIELD,
                "El número de contrato solo lleva números (5 a 12 dígitos).",
            ));
        }
        Ok(digits)
    }
}

impl fmt::Display for ContractNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------
// RFC
// ---------------------------------------------------------------------------

/// Mexican tax id (Registro Federal de Contribuyentes).
///
/// * persona física: 13 chars = 4 letters `[A-ZÑ&]` + `YYMMDD` + 3 homoclave;
/// * persona moral: 12 chars = 3 letters + `YYMMDD` + 3 homoclave.
///
/// The last homoclave char is SAT's check digit and is verified, except for
/// the generic RFCs `XAXX010101000` (público en general) and `XEXX010101000`
/// (extranjero). Input is trimmed, NFC-normalized and uppercased; inner
/// spaces and dashes are removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rfc(String);

string_newtype!(Rfc);

impl Rfc {
    const FIELD: &'static str = "rfc";
    /// Generic RFC for sales to the general public.
    pub const PUBLICO_EN_GENERAL: &'static str = "XAXX010101000";
    /// Generic RFC for foreign residents.
    pub const EXTRANJERO: &'static str = "XEXX010101000";

    const DICT: &'static str = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ";

    /// `true` for a 12-character RFC (company / legal entity).
    pub fn is_persona_moral(&self) -> bool {
        self.0.chars().count() == 12
    }

    /// `true` for `XAXX010101000` or `XEXX010101000`.
    pub fn is_generic(&self) -> bool {
        self.0 == Self::PUBLICO_EN_GENERAL || self.0 == Self::EXTRANJERO
    }

    /// Computes SAT's check digit from the first 11 (moral) or 12 (física)
    /// characters. Returns `None` if a character is outside the dictionary.
    fn check_digit(body: &[char]) -> Option<char> {
        let mut padded: Vec<char> = Vec::with_capacity(12);
        if body.len() == 11 {
            padded.push(' ');
        }
        padded.extend_from_slice(body);
        if padded.len() != 12 {
            return None;
        }
        let mut sum: u32 = 0;
        for (i, c) in padded.iter().enumerate() {
            let value = Self::DICT.chars().position(|d| d == *c)?;
            sum += u32::try_from(value).ok()? * (13 - i as u32);
        }
        match 11 - sum % 11 {
            11 => Some('0'),
            10 => Some('A'),
            d => char::from_digit(d, 10),
        }
    }

    fn validate(s: &str) -> Result<String, InvalidValue> {
        let canonical: String = strip_separators(s).nfc().collect::<String>().to_uppercase();
        let err = |m: &str| InvalidValue::new(Self::FIELD, m);
        if canonical.is_empty() {
            return Err(err("Escribe tu RFC."));
        }
        if canonical == Self::PUBLICO_EN_GENERAL || canonical == Self::EXTRANJERO {
            return Ok(canonical);
        }
        let chars: Vec<char> = canonical.chars().collect();
        let letters = match chars.len() {
            12 => 3,
            13 => 4,
            _ => {
                return Err(err(
                    "El RFC debe tener 13 caracteres (persona física) o 12 (persona moral).",
                ));
            }
        };
        let format_msg = "El RFC no tiene el formato correcto: letras iniciales, fecha de nacimiento o constitución (AAMMDD) y homoclave.";
        let is_letter = |c: &char| c.is_ascii_uppercase() || *c == 'Ñ' || *c == '&';
        if !chars[..letters].iter().all(is_letter) {
            return Err(err(format_msg));
        }
        let date = &chars[letters..letters + 6];
        if !date.iter().all(char::is_ascii_digit) {
            return Err(err(format_msg));
        }
        let date_bytes: Vec<u8> = date.iter().map(|c| *c as u8).collect();
        if !valid_yymmdd(&date_bytes) {
            return Err(err("La fecha dentro del RFC no es válida (AAMMDD)."));
        }
        let homoclave = &chars[letters + 6..];
        let last = homoclave[2];
        if !homoclave[..2]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            || !(last.is_ascii_digit() || last == 'A')
        {
            return Err(err(format_msg));
        }
        match Self::check_digit(&chars[..chars.len() - 1]) {
            Some(expected) if expected == last => Ok(canonical),
            _ => Err(err(
                "El dígito verificador del RFC no coincide; revisa que esté bien escrito.",
            )),
        }
    }
}

impl fmt::Display for Rfc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------
// CURP
// ---------------------------------------------------------------------------

/// Official two-letter state codes used in the CURP (`NE` = born abroad).
pub const CURP_STATE_CODES: &[&str] = &[
    "AS", "BC", "BS", "CC", "CL", "CM", "CS", "CH", "DF", "DG", "GT", "GR", "HG", "JC", "MC", "MN",
    "MS", "NT", "NL", "OC", "PL", "QT", "QR", "SP", "SL", "SR", "TC", "TS", "TL", "VZ", "YN", "ZS",
    "NE",
];

/// Mexican population registry key (Clave Única de Registro de Población).
///
/// 18 uppercase chars: 4 letters, `YYMMDD`, sex `H|M|X`, 2-letter state code,
/// 3 internal consonants, 1 homoclave `[0-9A-Z]` and 1 check digit, which is
/// verified. Input is trimmed and uppercased; inner spaces/dashes removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Curp(String);

string_newtype!(Curp);

impl Curp {
    const FIELD: &'static str = "curp";
    const DICT: &'static str = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";

    /// Sex marker: `'H'`, `'M'` or `'X'`.
    pub fn sex(&self) -> char {
        char::from(self.0.as_bytes()[10])
    }

    /// Two-letter state-of-birth code (see [`CURP_STATE_CODES`]).
    pub fn state_code(&self) -> &str {
        &self.0[11..13]
    }

    /// Computes RENAPO's check digit from the first 17 characters.
    /// Returns `None` if the input is not 17 dictionary characters.
    pub fn check_digit(first17: &str) -> Option<char> {
        let mut sum: u32 = 0;
        let mut count = 0u32;
        for (i, c) in first17.chars().enumerate() {
            if i >= 17 {
                return None;
            }
            let value = Self::DICT.chars().position(|d| d == c)?;
            sum += u32::try_from(value).ok()? * (18 - i as u32);
            count += 1;
        }
        if count != 17 {
            return None;
        }
        char::from_digit((10 - sum % 10) % 10, 10)
    }

    fn validate(s: &str) -> Result<String, InvalidValue> {
        let canonical = strip_separators(s).to_uppercase();
        let err = |m: &str| InvalidValue::new(Self::FIELD, m);
        if canonical.is_empty() {
            return Err(err("Escribe tu CURP."));
        }
        let b = canonical.as_bytes();
        if !canonical.is_ascii() || b.len() != 18 {
            return Err(err("La CURP tiene 18 caracteres (letras y números)."));
        }
        let format_msg = "La CURP no tiene el formato correcto; revisa que esté bien escrita.";
        if !b[..4].iter().all(u8::is_ascii_uppercase) {
            return Err(err(format_msg));
        }
        if !b[4..10].iter().all(u8::is_ascii_digit) {
            return Err(err(format_msg));
        }
        if !valid_yymmdd(&b[4..10]) {
            return Err(err(
                "La fecha de nacimiento dentro de la CURP no es válida.",
            ));
        }
        if !matches!(b[10], b'H' | b'M' | b'X') {
            return Err(err("La letra de sexo de la CURP debe ser H, M o X."));
        }
        if !CURP_STATE_CODES.contains(&&canonical[11..13]) {
            return Err(err("La clave de estado de la CURP no es válida."));
        }
        let is_consonant = |c: &u8| c.is_ascii_uppercase() && !b"AEIOU".contains(c);
        if !b[13..16].iter().all(is_consonant) {
            return Err(err(format_msg));
        }
        if !(b[16].is_ascii_digit() || b[16].is_ascii_uppercase()) || !b[17].is_ascii_digit() {
            return Err(err(format_msg));
        }
        match Self::check_digit(&canonical[..17]) {
            Some(expected) if expected == char::from(b[17]) => Ok(canonical),
            _ => Err(err(
                "El dígito verificador de la CURP no coincide; revisa que esté bien escrita.",
            )),
        }
    }
}

impl fmt::Display for Curp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------
// PhoneMx
// ---------------------------------------------------------------------------

/// A Mexican phone number, stored as its 10 national digits.
///
/// Accepts spaces, dashes, dots and parentheses, an optional `+52`/`52`
/// country code and the obsolete mobile `1` after it (`+52 1 ...`).
/// The first national digit cannot be 0 or 1.
/// `Display` (and `e164()`) gives `+524421234567`; serde uses the national
/// 10 digits (`as_str()`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneMx(String);

string_newtype!(PhoneMx);

impl PhoneMx {
    const FIELD: &'static str = "telefono";
    const MSG: &'static str = "Escribe un teléfono de 10 dígitos, por ejemplo 442 123 4567.";

    /// International E.164 form, e.g. `+524421234567`.
    pub fn e164(&self) -> String {
        format!("+52{}", self.0)
    }

    /// The 10 national digits, e.g. `4421234567`.
    pub fn national(&self) -> &str {
        &self.0
    }

    /// Masked for display to third parties: only the last 4 digits, e.g.
    /// `*** *** 45 67`.
    pub fn masked(&self) -> String {
        format!("*** *** {} {}", &self.0[6..8], &self.0[8..10])
    }

    fn validate(s: &str) -> Result<String, InvalidValue> {
        let s = s.trim();
        let (has_plus, rest) = match s.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let mut digits = String::with_capacity(13);
        for c in rest.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else if !(c.is_whitespace() || matches!(c, '-' | '(' | ')' | '.')) {
                return Err(InvalidValue::new(Self::FIELD, Self::MSG));
            }
        }
        let national = match digits.len() {
            10 if !has_plus => digits.as_str(),
            12 if digits.starts_with("52") => &digits[2..],
            13 if digits.starts_with("521") => &digits[3..],
            _ => return Err(InvalidValue::new(Self::FIELD, Self::MSG)),
        };
        if national.starts_with('0') || national.starts_with('1') {
            return Err(InvalidValue::new(Self::FIELD, Self::MSG));
        }
        Ok(national.to_owned())
    }
}

impl fmt::Display for PhoneMx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+52{}", self.0)
    }
}

// ---------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------

/// An e-mail address, trimmed and lowercased, with a simple sanity check
/// (one `@`, non-empty local part, dotted domain, no spaces, ≤ 254 chars).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

string_newtype!(Email);

impl Email {
    const FIELD: &'static str = "correo";
    const MSG: &'static str = "Escribe un correo válido, por ejemplo nombre@correo.com.";

    /// Masked for display: first char of the local part, then `***`, e.g.
    /// `j***@example.com`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((self.0.as_str(), ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }

    fn validate(s: &str) -> Result<String, InvalidValue> {
        let e = s.trim().to_lowercase();
        let err = || InvalidValue::new(Self::FIELD, Self::MSG);
        if e.is_empty() || e.len() > 254 {
            return Err(err());
        }
        if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err());
        }
        let (local, domain) = e.split_once('@').ok_or_else(err)?;
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(err());
        }
        if !domain.contains('.') || domain.split('.').any(str::is_empty) {
            return Err(err());
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(err());
        }
        Ok(e)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------
// CLABE
// ---------------------------------------------------------------------------

/// Mexican interbank account number (CLABE): 18 digits whose last digit is a
/// check digit (weights 3, 7, 1). Spaces and dashes are removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Clabe(String);

string_newtype!(Clabe);

impl Clabe {
    const FIELD: &'static str = "clabe";
    const LEN_MSG: &'static str = "La CLABE tiene 18 dígitos.";

    /// Builds a CLABE from its first 17 digits by appending the check digit.
    pub fn from_17_digits(s: &str) -> Result<Clabe, InvalidValue> {
        let digits = strip_separators(s);
        if digits.len() != 17 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new(
                Self::FIELD,
                "Escribe los primeros 17 dígitos de la CLABE.",
            ));
        }
        let check = Self::check_digit(digits.as_bytes());
        Ok(Clabe(format!("{digits}{check}")))
    }

    /// The 3-digit bank code (e.g. `"646"` = STP).
    pub fn bank_code(&self) -> &str {
        &self.0[..3]
    }

    /// Check digit for 17 ASCII digits.
    fn check_digit(first17: &[u8]) -> char {
        const W: [u32; 3] = [3, 7, 1];
        let s: u32 = first17
            .iter()
            .take(17)
            .enumerate()
            .map(|(i, d)| (u32::from(d - b'0') * W[i % 3]) % 10)
            .sum::<u32>()
            % 10;
        char::from(b'0' + ((10 - s) % 10) as u8)
    }

    fn validate(s: &str) -> Result<String, InvalidValue> {
        let digits = strip_separators(s);
        if digits.is_empty() {
            return Err(InvalidValue::new(Self::FIELD, "Escribe tu CLABE."));
        }
        if digits.len() != 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new(Self::FIELD, Self::LEN_MSG));
        }
        let b = digits.as_bytes();
        if Self::check_digit(&b[..17]) != char::from(b[17]) {
            return Err(InvalidValue::new(
                Self::FIELD,
                "El dígito verificador de la CLABE no coincide; revisa que esté bien escrita.",
            ));
        }
        Ok(digits)
    }
}

impl fmt::Display for Clabe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn msg<T: FromStr<Err = InvalidValue> + fmt::Debug>(s: &str) -> InvalidValue {
        s.parse::<T>().expect_err("should be rejected")
    }

    // --- ContractNumber ---------------------------------------------------

    #[test]
    fn contract_number_accepts_and_canonicalizes() {
        let c: ContractNumber = " 12345 ".parse().expect("valid");
        assert_eq!(c.as_str(), "12345");
        let c: ContractNumber = "0012-3456 78".parse().expect("valid");
        assert_eq!(c.as_str(), "0012345678");
        assert_eq!(c.to_string(), "0012345678");
        assert!(ContractNumber::try_from("123456789012").is_ok());
        assert!(ContractNumber::try_from(String::from("98765")).is_ok());
    }

    #[test]
    fn contract_number_rejects() {
        let e = msg::<ContractNumber>("   ");
        assert_eq!(e.field, "contrato");
        assert_eq!(e.message, "Escribe tu número de contrato.");
        for bad in ["1234", "1234567890123", "12a45", "12.345", "１２３４５"] {
            let e = msg::<ContractNumber>(bad);
            assert_eq!(
                e.message, "El número de contrato solo lleva números (5 a 12 dígitos).",
                "{bad}"
            );
        }
    }

    #[test]
    fn contract_number_serde() {
        let c: ContractNumber = "12-345".parse().expect("valid");
        let json = serde_json::to_string(&c).expect("ser");
        assert_eq!(json, "\"12345\"");
        let back: ContractNumber = serde_json::from_str(&json).expect("de");
        assert_eq!(back, c);
        // Deserialization canonicalizes too.
        let back: ContractNumber = serde_json::from_str("\" 12 345 \"").expect("de");
        assert_eq!(back.as_str(), "12345");
        assert!(serde_json::from_str::<ContractNumber>("\"12\"").is_err());
        assert!(serde_json::from_str::<ContractNumber>("12345").is_err());
    }

    // --- RFC --------------------------------------------------------------

    #[test]
    fn rfc_known_valid_values() {
        let moral: Rfc = "EKU9003173C9".parse().expect("EKU9003173C9");
        assert!(moral.is_persona_moral());
        assert!(!moral.is_generic());

        let fisica: Rfc = "GODE561231GR8".parse().expect("GODE561231GR8");
        assert!(!fisica.is_persona_moral());
        assert!(!fisica.is_generic());

        let generic: Rfc = "XAXX010101000".parse().expect("XAXX010101000");
        assert!(generic.is_generic());
        assert!(!generic.is_persona_moral());
        let foreign: Rfc = "xexx010101000".parse().expect("XEXX010101000");
        assert!(foreign.is_generic());
        assert_eq!(foreign.as_str(), "XEXX010101000");
    }

    #[test]
    fn rfc_normalizes_input() {
        let r: Rfc = "  gode-561231-gr8 ".parse().expect("valid");
        assert_eq!(r.as_str(), "GODE561231GR8");
        let r: Rfc = "EKU 900317 3C9".parse().expect("valid");
        assert_eq!(r.to_string(), "EKU9003173C9");
    }

    #[test]
    fn rfc_check_digit_algorithm() {
        let body: Vec<char> = "EKU9003173C".chars().collect();
        assert_eq!(Rfc::check_digit(&body), Some('9'));
        let body: Vec<char> = "GODE561231GR".chars().collect();
        assert_eq!(Rfc::check_digit(&body), Some('8'));
    }

    #[test]
    fn rfc_wrong_check_digit() {
        for bad in ["EKU9003173C8", "GODE561231GR9", "GODE561231GRA"] {
            let e = msg::<Rfc>(bad);
            assert_eq!(e.field, "rfc");
            assert!(
                e.message.contains("dígito verificador"),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn rfc_enye_and_ampersand() {
        // Build a valid RFC containing 'Ñ' and '&' with the algorithm itself.
        for body in ["ÑUÑE800101AB", "A&B900101XY"] {
            let chars: Vec<char> = body.chars().collect();
            let d = Rfc::check_digit(&chars).expect("in dictionary");
            let full = format!("{body}{d}");
            let r: Rfc = full.parse().expect("valid");
            assert_eq!(r.is_persona_moral(), chars.len() == 11);
            // Lowercase input with decomposed Ñ is normalized.
            let decomposed = full.replace('Ñ', "n\u{0303}");
            let r2: Rfc = decomposed.parse().expect("valid decomposed");
            assert_eq!(r2, r);
        }
    }

    #[test]
    fn rfc_format_errors() {
        assert_eq!(msg::<Rfc>("").message, "Escribe tu RFC.");
        assert!(msg::<Rfc>("GODE561231").message.contains("13 caracteres"));
        assert!(msg::<Rfc>("GOD1561231GR8").message.contains("formato"));
        assert!(msg::<Rfc>("GODEX61231GR8").message.contains("formato"));
        assert!(msg::<Rfc>("GODE561331GR8").message.contains("fecha"));
        assert!(msg::<Rfc>("GODE560230GR8").message.contains("fecha"));
        assert!(msg::<Rfc>("GODE561200GR8").message.contains("fecha"));
        // Homoclave last char must be a digit or 'A'.
        assert!(msg::<Rfc>("GODE561231GRB").message.contains("formato"));
        assert!("GODE561231G-8".parse::<Rfc>().is_err());
    }

    #[test]
    fn rfc_leap_day() {
        // 29 Feb allowed only when YY % 4 == 0.
        for (body, ok) in [("GODE000229GR", true), ("GODE010229GR", false)] {
            let chars: Vec<char> = body.chars().collect();
            let d = Rfc::check_digit(&chars).expect("dict");
            assert_eq!(format!("{body}{d}").parse::<Rfc>().is_ok(), ok, "{body}");
        }
    }

    #[test]
    fn rfc_serde() {
        let r: Rfc = "EKU9003173C9".parse().expect("valid");
        let json = serde_json::to_string(&r).expect("ser");
        assert_eq!(json, "\"EKU9003173C9\"");
        assert_eq!(serde_json::from_str::<Rfc>(&json).expect("de"), r);
        let err = serde_json::from_str::<Rfc>("\"EKU9003173C1\"").expect_err("bad");
        assert!(err.to_string().contains("dígito verificador"));
    }

    // --- CURP -------------------------------------------------------------

    // RENAPO's published example HEGG560427MVZRRL04, hand-checked:
    // H=17*18=306, E=14*17=238, G=16*16=256, G=16*15=240, 5*14=70, 6*13=78,
    // 0*12=0, 4*11=44, 2*10=20, 7*9=63, M=22*8=176, V=32*7=224, Z=36*6=216,
    // R=28*5=140, R=28*4=112, L=21*3=63, 0*2=0 → sum = 2276;
    // (10 - 2276 % 10) % 10 = (10 - 6) % 10 = 4 ✓.
    const CURP_EXAMPLE: &str = "HEGG560427MVZRRL04";

    #[test]
    fn curp_known_valid() {
        let c: Curp = CURP_EXAMPLE.parse().expect("valid");
        assert_eq!(c.as_str(), CURP_EXAMPLE);
        assert_eq!(c.sex(), 'M');
        assert_eq!(c.state_code(), "VZ");
        let c: Curp = " hegg-560427-mvzrrl04 ".parse().expect("valid");
        assert_eq!(c.as_str(), CURP_EXAMPLE);
    }

    #[test]
    fn curp_built_with_algorithm() {
        for first17 in [
            "GOPJ850101HQTNRN0",
            "ROLM001231MDFDPR0",
            "PEXA991015XNEXXXA",
        ] {
            let d = Curp::check_digit(first17).expect("17 dict chars");
            let full = format!("{first17}{d}");
            let c: Curp = full.parse().unwrap_or_else(|e| panic!("{full}: {e}"));
            assert_eq!(c.to_string(), full);
        }
        assert_eq!(Curp::check_digit("HEGG560427MVZRRL0"), Some('4'));
        assert_eq!(Curp::check_digit("SHORT"), None);
        assert_eq!(Curp::check_digit("HEGG560427MVZRRL00"), None);
    }

    #[test]
    fn curp_errors() {
        assert_eq!(msg::<Curp>("").message, "Escribe tu CURP.");
        assert_eq!(msg::<Curp>("").field, "curp");
        assert!(
            msg::<Curp>("HEGG560427MVZRRL0")
                .message
                .contains("18 caracteres")
        );
        assert!(
            msg::<Curp>("HEGG560427MVZRRL05")
                .message
                .contains("dígito verificador")
        );
        assert!(msg::<Curp>("HEGG561327MVZRRL04").message.contains("fecha"));
        assert!(
            msg::<Curp>("HEGG560427FVZRRL04")
                .message
                .contains("H, M o X")
        );
        assert!(msg::<Curp>("HEGG560427MXXRRL04").message.contains("estado"));
        assert!(
            msg::<Curp>("HEGG560427MVZARL04")
                .message
                .contains("formato")
        );
        assert!(
            msg::<Curp>("1EGG560427MVZRRL04")
                .message
                .contains("formato")
        );
        assert!(
            msg::<Curp>("HEGG560427MVZRRL0A")
                .message
                .contains("formato")
        );
        assert!(
            msg::<Curp>("HEGG560427MVZRRÑ04")
                .message
                .contains("18 caracteres")
        );
    }

    #[test]
    fn curp_serde() {
        let c: Curp = CURP_EXAMPLE.parse().expect("valid");
        let json = serde_json::to_string(&c).expect("ser");
        assert_eq!(serde_json::from_str::<Curp>(&json).expect("de"), c);
        assert!(serde_json::from_str::<Curp>("\"HEGG560427MVZRRL05\"").is_err());
    }

    // --- PhoneMx ----------------------------------------------------------

    #[test]
    fn phone_accepts_common_formats() {
        for ok in [
            "442 123 4567",
            "(442) 123-4567",
            "4421234567",
            "+52 442 123 4567",
            "52 4421234567",
            "+52 1 442 123 4567",
            "+5214421234567",
            " 442.123.4567 ",
        ] {
            let p: PhoneMx = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(p.national(), "4421234567", "{ok}");
            assert_eq!(p.e164(), "+524421234567");
            assert_eq!(p.to_string(), "+524421234567");
            assert_eq!(p.masked(), "*** *** 45 67");
        }
    }

    #[test]
    fn phone_rejects() {
        for bad in [
            "",
            "442 123 456",
            "442 123 45678",
            "0442 123 4567",
            "1421234567",
            "0421234567",
            "+1 442 123 4567",
            "+4421234567",
            "442-ABC-4567",
            "+52 0 442 123 4567",
            "+52 1 142 123 4567",
        ] {
            let e = msg::<PhoneMx>(bad);
            assert_eq!(e.field, "telefono", "{bad}");
            assert_eq!(
                e.message, "Escribe un teléfono de 10 dígitos, por ejemplo 442 123 4567.",
                "{bad}"
            );
        }
    }

    #[test]
    fn phone_serde() {
        let p: PhoneMx = "+52 442 123 4567".parse().expect("valid");
        let json = serde_json::to_string(&p).expect("ser");
        assert_eq!(json, "\"4421234567\"");
        assert_eq!(serde_json::from_str::<PhoneMx>(&json).expect("de"), p);
        assert_eq!(
            serde_json::from_str::<PhoneMx>("\"+524421234567\"").expect("de e164"),
            p
        );
        assert!(serde_json::from_str::<PhoneMx>("\"123\"").is_err());
    }

    // --- Email ------------------------------------------------------------

    #[test]
    fn email_accepts_and_normalizes() {
        let e: Email = "  Juan.Perez@Example.COM ".parse().expect("valid");
        assert_eq!(e.as_str(), "juan.perez@example.com");
        assert_eq!(e.masked(), "j***@example.com");
        assert_eq!(e.domain(), "example.com");
        let e: Email = "ñandú+cea@correo.mx".parse().expect("valid");
        assert_eq!(e.masked(), "ñ***@correo.mx");
    }

    #[test]
    fn email_rejects() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "juan",
            "juan@",
            "@example.com",
            "juan@example",
            "juan@@example.com",
            "juan@ex@ample.com",
            "juan perez@example.com",
            "juan@example..com",
            "juan@.example.com",
            "juan@example.com.",
            ".juan@example.com",
            "juan..p@example.com",
            long.as_str(),
        ] {
            let e = msg::<Email>(bad);
            assert_eq!(e.field, "correo", "{bad}");
            assert_eq!(
                e.message, "Escribe un correo válido, por ejemplo nombre@correo.com.",
                "{bad}"
            );
        }
    }

    #[test]
    fn email_serde() {
        let e: Email = "a@b.mx".parse().expect("valid");
        let json = serde_json::to_string(&e).expect("ser");
        assert_eq!(json, "\"a@b.mx\"");
        assert_eq!(serde_json::from_str::<Email>(&json).expect("de"), e);
        assert!(serde_json::from_str::<Email>("\"no-es-correo\"").is_err());
    }

    // --- CLABE ------------------------------------------------------------

    #[test]
    fn clabe_known_valid() {
        for ok in [
            "646180111805034237",
            "646180157099999993",
            "646180110400000007",
            "734180008033435128",
        ] {
            let c: Clabe = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(c.as_str(), ok);
            let rebuilt = Clabe::from_17_digits(&ok[..17]).expect("17 digits");
            assert_eq!(rebuilt, c);
        }
        let c: Clabe = "646 180 11180503423 7".parse().expect("with spaces");
        assert_eq!(c.bank_code(), "646");
    }

    #[test]
    fn clabe_rejects() {
        assert_eq!(msg::<Clabe>("").message, "Escribe tu CLABE.");
        assert_eq!(msg::<Clabe>("").field, "clabe");
        assert_eq!(
            msg::<Clabe>("64618011180503423").message,
            "La CLABE tiene 18 dígitos."
        );
        assert_eq!(
            msg::<Clabe>("64618011180503423X").message,
            "La CLABE tiene 18 dígitos."
        );
        assert!(
            msg::<Clabe>("646180111805034238")
                .message
                .contains("dígito verificador")
        );
        assert!(Clabe::from_17_digits("1234").is_err());
        assert!(Clabe::from_17_digits("6461801118050342A").is_err());
    }

    #[test]
    fn clabe_serde() {
        let c: Clabe = "646180111805034237".parse().expect("valid");
        let json = serde_json::to_string(&c).expect("ser");
        assert_eq!(serde_json::from_str::<Clabe>(&json).expect("de"), c);
        assert!(serde_json::from_str::<Clabe>("\"646180111805034238\"").is_err());
    }

    proptest! {
        #[test]
        fn clabe_from_17_always_valid(s in "[0-9]{17}") {
            let c = Clabe::from_17_digits(&s).expect("17 digits");
            prop_assert!(c.as_str().parse::<Clabe>().is_ok());
        }

        #[test]
        fn clabe_single_digit_change_detected(s in "[0-9]{17}", pos in 0usize..18, delta in 1u8..10) {
            let c = Clabe::from_17_digits(&s).expect("17 digits");
            let mut bytes = c.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).expect("ascii");
            // Weights 3 and 7 are coprime with 10, weight 1 too: any single
            // digit change is caught.
            prop_assert!(changed.parse::<Clabe>().is_err());
        }

        #[test]
        fn contract_number_round_trips(s in "[0-9]{5,12}") {
            let c: ContractNumber = s.parse().expect("valid");
            prop_assert_eq!(c.as_str(), s.as_str());
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}") {
            let _ = s.parse::<ContractNumber>();
            let _ = s.parse::<Rfc>();
            let _ = s.parse::<Curp>();
            let _ = s.parse::<PhoneMx>();
            let _ = s.parse::<Email>();
            let _ = s.parse::<Clabe>();
        }

        #[test]
        fn phone_round_trips(first in 2u8..10, rest in "[0-9]{9}") {
            let national = format!("{first}{rest}");
            let p: PhoneMx = national.parse().expect("valid");
            let again: PhoneMx = p.e164().parse().expect("e164 parses");
            prop_assert_eq!(p, again);
        }
    }
}
