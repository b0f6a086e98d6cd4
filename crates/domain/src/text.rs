//! Text helpers.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Normalizes text for accent- and case-insensitive search.
///
/// * lowercases and decomposes (NFD), then drops combining marks, so
///   `"NÚÑEZ"` → `"nunez"`, `"Peña"` → `"pena"`, `"José"` → `"jose"`;
/// * keeps ASCII letters, digits, `'@'` and `'.'` (so e-mail addresses and
///   abbreviations such as `"av."` still match);
/// * collapses every run of other characters (spaces, punctuation, `#`, `-`,
///   symbols) into a single space and trims the ends.
///
/// ```
/// assert_eq!(domain::normalize_search("NÚÑEZ Pérez"), "nunez perez");
/// assert_eq!(domain::normalize_search("Av. 5 de Febrero #12-B"), "av. 5 de febrero 12 b");
/// ```
pub fn normalize_search(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.to_lowercase().nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '@' || c == '.' {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

/// Month names as people in Mexico write them (lower case): `MONTHS_ES[0]` is "enero".
pub const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// Their usual three-letter abbreviations: "ene", "feb", …
pub const MONTHS_ES_SHORT: [&str; 12] = [
    "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic",
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strips_accents_and_case() {
        assert_eq!(normalize_search("NÚÑEZ Pérez"), "nunez perez");
        assert_eq!(normalize_search("nuñez"), normalize_search("NÚÑEZ"));
        assert_eq!(normalize_search("Peña"), "pena");
        assert_eq!(normalize_search("José"), "jose");
        assert_eq!(normalize_search("ÁÉÍÓÚÜ áéíóúü"), "aeiouu aeiouu");
    }

    #[test]
    fn decomposed_and_composed_input_match() {
        // "Ñ" as a single code point vs "N" + combining tilde.
        assert_eq!(normalize_search("\u{00D1}"), normalize_search("N\u{0303}"));
    }

    #[test]
    fn punctuation_collapses_to_single_space() {
        assert_eq!(
            normalize_search("Av. 5 de Febrero #12-B"),
            "av. 5 de febrero 12 b"
        );
        assert_eq!(normalize_search("  hola,   mundo!!  "), "hola mundo");
        assert_eq!(normalize_search("a\t\n-b"), "a b");
    }

    #[test]
    fn keeps_email_characters() {
        assert_eq!(
            normalize_search("Juan.Perez@Correo.com"),
            "juan.perez@correo.com"
        );
    }

    #[test]
    fn empty_and_symbol_only() {
        assert_eq!(normalize_search(""), "");
        assert_eq!(normalize_search("  #-_ "), "");
    }

    proptest! {
        #[test]
        fn output_is_clean_and_idempotent(s in "\\PC{0,40}") {
            let n = normalize_search(&s);
            prop_assert!(n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '@' || c == '.' || c == ' '));
            prop_assert!(!n.starts_with(' ') && !n.ends_with(' '));
            prop_assert!(!n.contains("  "));
            prop_assert_eq!(normalize_search(&n), n.clone());
        }
    }
}
