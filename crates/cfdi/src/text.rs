//! Text and number formatting shared by the XML and the cadena original.

use rust_decimal::{Decimal, RoundingStrategy};

/// XPath `normalize-space`: strip leading/trailing XML whitespace (space, tab, CR, LF)
/// and collapse inner runs to one space — what SAT's XSLT applies to every value.
pub fn normalize_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Round half away from zero to `dp` decimals (SAT's published rounding).
pub fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// Format with exactly `dp` decimals (rounding half away from zero).
pub fn fixed(d: Decimal, dp: u32) -> String {
    let mut r = round(d, dp);
    r.rescale(dp);
    r.to_string()
}

/// Format a quantity: up to 6 decimals, trailing zeros dropped ("23", "10.5").
pub fn quantity(d: Decimal) -> String {
    round(d, 6).normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal literal")
    }

    #[test]
    fn normalize_space_is_xpaths() {
        assert_eq!(normalize_space("  a \t b\r\n c  "), "a b c");
        assert_eq!(normalize_space(""), "");
        // Non-breaking space is not XML whitespace.
        assert_eq!(normalize_space("a\u{a0}b"), "a\u{a0}b");
    }

    #[test]
    fn fixed_rounds_half_away_from_zero() {
        assert_eq!(fixed(d("2.345"), 2), "2.35");
        assert_eq!(fixed(d("2.344999"), 2), "2.34");
        assert_eq!(fixed(d("7"), 2), "7.00");
        assert_eq!(fixed(d("0.16"), 6), "0.160000");
        assert_eq!(quantity(d("23.000")), "23");
        assert_eq!(quantity(d("10.50")), "10.5");
    }
}
