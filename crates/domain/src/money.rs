//! Money (Mexican pesos) and water volume (cubic metres).
//!
//! Storage convention: [`Money`] is persisted as `i64` centavos
//! ([`Money::centavos`] / [`Money::from_centavos`]) and [`M3`] as `i64`
//! litres ([`M3::litres`] / [`M3::from_litres`]). Neither ever uses `f64`.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::InvalidValue;

/// Largest number of integer digits accepted when parsing (keeps every value
/// comfortably inside `i64` centavos / litres).
const MAX_INT_DIGITS: usize = 15;

/// Mexican pesos, exact to the centavo. Never `f64`.
///
/// The inner value is always rounded to 2 decimal places with
/// "redondeo comercial" (half away from zero) and kept at scale 2.
/// Stored in the database as `i64` centavos. Serialized (serde) as a decimal
/// string such as `"1234.50"`; deserialization rejects more than 2 decimals.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Money(Decimal);

impl Money {
    const FIELD: &'static str = "importe";

    /// $0.00
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, 2));

    /// From an integer number of centavos (`12345` → `$123.45`).
    pub fn from_centavos(c: i64) -> Money {
        Money(Decimal::new(c, 2))
    }

    /// Whole centavos (exact, since the value always has 2 decimals).
    /// Saturates at `i64::MIN`/`i64::MAX` for absurdly large amounts that
    /// can only arise from arithmetic overflow of the storage range.
    pub fn centavos(&self) -> i64 {
        let m = self.0.mantissa();
        i64::try_from(m).unwrap_or(if m < 0 { i64::MIN } else { i64::MAX })
    }

    /// Rounds `d` to the centavo, half away from zero ("redondeo comercial").
    pub fn from_decimal_rounded(d: Decimal) -> Money {
        let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        r.rescale(2);
        Money(r)
    }

    /// Parses user input: `"1234.5"`, `"1,234.50"`, `"$1,234.50"`,
    /// `"-$50"`. Commas are thousands separators (es-MX) and must group by
    /// three; at most 2 decimals are accepted.
    pub fn parse(s: &str) -> Result<Money, InvalidValue> {
        let example = "Escribe un importe válido, por ejemplo 1,234.50.";
        let err = |m: &str| InvalidValue::new(Self::FIELD, m);
        let t = s.trim();
        if t.is_empty() {
            return Err(err("Escribe un importe."));
        }
        let (negative, t) = match t.strip_prefix('-') {
            Some(r) => (true, r.trim_start()),
            None => (false, t),
        };
        let t = t.strip_prefix('$').unwrap_or(t).trim_start();
        let t = t.strip_suffix("MXN").unwrap_or(t).trim_end();
        let (int_part, frac_part) = match t.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (t, None),
        };
        // Integer part: digits, optionally grouped with commas.
        if int_part.is_empty() && frac_part.is_none_or(str::is_empty) {
            return Err(err(example));
        }
        let int_digits: String = if int_part.contains(',') {
            let groups: Vec<&str> = int_part.split(',').collect();
            let first_ok = (1..=3).contains(&groups[0].len());
            let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
            if !first_ok || !rest_ok {
                return Err(err(example));
            }
            groups.concat()
        } else {
            int_part.to_owned()
        };
        if !int_digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(example));
        }
        if int_digits.len() > MAX_INT_DIGITS {
            return Err(err("El importe es demasiado grande."));
        }
        let frac = frac_part.unwrap_or("");
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(example));
        }
        if frac.len() > 2 {
            return Err(err(
                "El importe solo puede llevar centavos (máximo 2 decimales).",
            ));
        }
        let int_value: i64 = if int_digits.is_empty() {
            0
        } else {
            int_digits.parse().map_err(|_| err(example))?
        };
        let frac_value: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| err(example))? * 10,
            _ => frac.parse().map_err(|_| err(example))?,
        };
        let centavos = int_value * 100 + frac_value;
        Ok(Money::from_centavos(if negative {
            -centavos
        } else {
            centavos
        }))
    }

    /// The amount in pesos (scale 2).
    pub fn amount(&self) -> Decimal {
        self.0
    }

    /// `true` when below zero (e.g. a credit balance).
    pub fn is_negative(&self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// `true` when exactly zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// Absolute value.
    pub fn abs(&self) -> Money {
        Money(self.0.abs())
    }

    /// Formats as Mexican pesos: `"$1,234.50"`, negative `"-$1,234.50"`.
    pub fn format_mxn(&self) -> String {
        let m = self.0.mantissa();
        let abs = m.unsigned_abs();
        let pesos = (abs / 100).to_string();
        let cents = abs % 100;
        let mut grouped = String::with_capacity(pesos.len() + pesos.len() / 3);
        for (i, c) in pesos.chars().enumerate() {
            if i > 0 && (pesos.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if m < 0 { "-" } else { "" };
        format!("{sign}${grouped}.{cents:02}")
    }
}

impl fmt::Display for Money {
    /// Same as [`Money::format_mxn`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_mxn())
    }
}

impl FromStr for Money {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl TryFrom<Decimal> for Money {
    type Error = InvalidValue;
    /// Exact conversion: rejects values with more than 2 decimals.
    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        if d.normalize().scale() > 2 {
            return Err(InvalidValue::new(
                Self::FIELD,
                "El importe solo puede llevar centavos (máximo 2 decimales).",
            ));
        }
        Ok(Money::from_decimal_rounded(d))
    }
}

impl From<Money> for Decimal {
    fn from(m: Money) -> Decimal {
        m.0
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money::from_decimal_rounded(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money::from_decimal_rounded(self.0 - rhs.0)
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        if self.0.is_zero() {
            Money::ZERO
        } else {
            Money(-self.0)
        }
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        *self = *self + rhs;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        *self = *self - rhs;
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

/// Cubic metres of water, up to 3 decimals (litre precision).
///
/// Non-negativity is not enforced by the type (consumption deltas may be
/// negative and are then flagged for review), but [`M3::parse`] rejects
/// negative readings. Stored in the database as `i64` litres. Serialized
/// (serde) as a decimal string; deserialization rejects more than 3 decimals.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct M3(Decimal);

impl M3 {
    const FIELD: &'static str = "lectura";

    /// 0 m³
    pub const ZERO: M3 = M3(Decimal::from_parts(0, 0, 0, false, 3));

    /// Rounds `d` to the litre (3 decimals, half away from zero).
    pub fn new(d: Decimal) -> M3 {
        let mut r = d.round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero);
        r.rescale(3);
        M3(r)
    }

    /// From whole litres (`1500` → 1.5 m³).
    pub fn from_litres(l: i64) -> M3 {
        M3(Decimal::new(l, 3))
    }

    /// Whole litres (exact). Saturates at the `i64` range.
    pub fn litres(&self) -> i64 {
        let m = self.0.mantissa();
        i64::try_from(m).unwrap_or(if m < 0 { i64::MIN } else { i64::MAX })
    }

    /// The volume in m³ (scale 3).
    pub fn value(&self) -> Decimal {
        self.0
    }

    /// `true` when below zero.
    pub fn is_negative(&self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// Parses a meter reading: `"123"`, `"123.5"` or `"123,5"` (comma as
    /// decimal separator), optionally followed by `m3`/`m³`. At most 3
    /// decimals; negative values are rejected.
    pub fn parse(s: &str) -> Result<M3, InvalidValue> {
        let example = "Escribe la lectura en metros cúbicos, por ejemplo 123 o 123.5.";
        let err = |m: &str| InvalidValue::new(Self::FIELD, m);
        let mut t = s.trim();
        for suffix in ["m³", "M³", "m3", "M3"] {
            if let Some(r) = t.strip_suffix(suffix) {
                t = r.trim_end();
                break;
            }
        }
        if t.is_empty() {
            return Err(err("Escribe la lectura del medidor."));
        }
        if t.starts_with('-') {
            return Err(err("La lectura no puede ser negativa."));
        }
        let normalized = t.replace(',', ".");
        let (int_part, frac) = match normalized.split_once('.') {
            Some((i, f)) => (i, f),
            None => (normalized.as_str(), ""),
        };
        if (int_part.is_empty() && frac.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err(example));
        }
        if frac.len() > 3 {
            return Err(err("La lectura admite como máximo 3 decimales (litros)."));
        }
        if int_part.len() > MAX_INT_DIGITS {
            return Err(err("La lectura es demasiado grande."));
        }
        let int_value: i64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| err(example))?
        };
        let mut frac_value: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| err(example))?
        };
        for _ in frac.len()..3 {
            frac_value *= 10;
        }
        Ok(M3::from_litres(int_value * 1000 + frac_value))
    }

    /// Human format without trailing zeros: `"23 m³"`, `"23.5 m³"`.
    pub fn format(&self) -> String {
        format!("{} m³", self.0.normalize())
    }
}

impl fmt::Display for M3 {
    /// Same as [`M3::format`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

impl FromStr for M3 {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        M3::parse(s)
    }
}

impl TryFrom<Decimal> for M3 {
    type Error = InvalidValue;
    /// Exact conversion: rejects values with more than 3 decimals.
    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        if d.normalize().scale() > 3 {
            return Err(InvalidValue::new(
                Self::FIELD,
                "La lectura admite como máximo 3 decimales (litros).",
            ));
        }
        Ok(M3::new(d))
    }
}

impl From<M3> for Decimal {
    fn from(m: M3) -> Decimal {
        m.0
    }
}

impl Add for M3 {
    type Output = M3;
    fn add(self, rhs: M3) -> M3 {
        M3::new(self.0 + rhs.0)
    }
}

impl Sub for M3 {
    type Output = M3;
    fn sub(self, rhs: M3) -> M3 {
        M3::new(self.0 - rhs.0)
    }
}

impl Neg for M3 {
    type Output = M3;
    fn neg(self) -> M3 {
        if self.0.is_zero() {
            M3::ZERO
        } else {
            M3(-self.0)
        }
    }
}

impl AddAssign for M3 {
    fn add_assign(&mut self, rhs: M3) {
        *self = *self + rhs;
    }
}

impl SubAssign for M3 {
    fn sub_assign(&mut self, rhs: M3) {
        *self = *self - rhs;
    }
}

impl Sum for M3 {
    fn sum<I: Iterator<Item = M3>>(iter: I) -> M3 {
        iter.fold(M3::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a M3> for M3 {
    fn sum<I: Iterator<Item = &'a M3>>(iter: I) -> M3 {
        iter.copied().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        s.parse().expect("decimal literal")
    }

    #[test]
    fn money_centavos_round_trip() {
        let m = Money::from_centavos(123_450);
        assert_eq!(m.centavos(), 123_450);
        assert_eq!(m.amount(), dec("1234.50"));
        assert_eq!(m.amount().to_string(), "1234.50");
        assert_eq!(Money::ZERO.centavos(), 0);
        assert_eq!(Money::default(), Money::ZERO);
        assert_eq!(Money::from_centavos(-5).centavos(), -5);
    }

    #[test]
    fn money_rounding_is_half_away_from_zero() {
        assert_eq!(Money::from_decimal_rounded(dec("1.005")).centavos(), 101);
        assert_eq!(Money::from_decimal_rounded(dec("1.004")).centavos(), 100);
        assert_eq!(Money::from_decimal_rounded(dec("-1.005")).centavos(), -101);
        assert_eq!(Money::from_decimal_rounded(dec("2.5")).centavos(), 250);
        assert_eq!(Money::from_decimal_rounded(dec("0.125")).centavos(), 13);
        assert_eq!(
            Money::from_decimal_rounded(dec("7")).amount().to_string(),
            "7.00"
        );
    }

    #[test]
    fn money_parse_accepts() {
        for (input, centavos) in [
            ("1234.5", 123_450),
            ("1,234.50", 123_450),
            ("$1,234.50", 123_450),
            (" $ 1,234.50 ", 123_450),
            ("$1234", 123_400),
            ("0.99", 99),
            (".5", 50),
            ("12.", 1200),
            ("1,000,000", 100_000_000),
            ("-$50.25", -5025),
            ("- 3", -300),
            ("$250.00 MXN", 25_000),
        ] {
            let m = Money::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(m.centavos(), centavos, "{input}");
        }
        assert_eq!("10".parse::<Money>().expect("valid").centavos(), 1000);
    }

    #[test]
    fn money_parse_rejects() {
        let e = Money::parse("  ").expect_err("empty");
        assert_eq!(e.field, "importe");
        assert_eq!(e.message, "Escribe un importe.");
        let e = Money::parse("1.234").expect_err("3 decimals");
        assert!(e.message.contains("2 decimales"), "{}", e.message);
        for bad in [
            "abc", "1,23.00", "12,34", "1.2.3", "$", "1e5", "1 234", "--5", "$-5x", ".",
        ] {
            let e = Money::parse(bad).expect_err(bad);
            assert_eq!(e.field, "importe", "{bad}");
            assert_eq!(
                e.message, "Escribe un importe válido, por ejemplo 1,234.50.",
                "{bad}"
            );
        }
        assert!(Money::parse("9999999999999999").is_err());
    }

    #[test]
    fn money_format() {
        assert_eq!(Money::from_centavos(123_450).format_mxn(), "$1,234.50");
        assert_eq!(Money::from_centavos(-123_450).format_mxn(), "-$1,234.50");
        assert_eq!(Money::from_centavos(5).format_mxn(), "$0.05");
        assert_eq!(Money::from_centavos(-5).format_mxn(), "-$0.05");
        assert_eq!(Money::ZERO.format_mxn(), "$0.00");
        assert_eq!(Money::from_centavos(100_000).format_mxn(), "$1,000.00");
        assert_eq!(Money::from_centavos(99_999).format_mxn(), "$999.99");
        assert_eq!(
            Money::from_centavos(123_456_789_012).format_mxn(),
            "$1,234,567,890.12"
        );
        assert_eq!(Money::from_centavos(100).to_string(), "$1.00");
    }

    #[test]
    fn money_arithmetic() {
        let a = Money::from_centavos(1050);
        let b = Money::from_centavos(250);
        assert_eq!((a + b).centavos(), 1300);
        assert_eq!((b - a).centavos(), -800);
        assert!((b - a).is_negative());
        assert!(!Money::ZERO.is_negative());
        assert!(!(-Money::ZERO).is_negative());
        assert_eq!((-a).centavos(), -1050);
        let mut c = a;
        c += b;
        c -= Money::from_centavos(1);
        assert_eq!(c.centavos(), 1299);
        let total: Money = [a, b, b].into_iter().sum();
        assert_eq!(total.centavos(), 1550);
        let total: Money = [a, b].iter().sum();
        assert_eq!(total.centavos(), 1300);
        assert!(a > b);
        assert_eq!((a + b).amount().to_string(), "13.00");
    }

    #[test]
    fn money_serde() {
        let m = Money::from_centavos(123_450);
        let json = serde_json::to_string(&m).expect("ser");
        assert_eq!(json, "\"1234.50\"");
        assert_eq!(serde_json::from_str::<Money>(&json).expect("de"), m);
        assert_eq!(
            serde_json::from_str::<Money>("\"5\"")
                .expect("de")
                .amount()
                .to_string(),
            "5.00"
        );
        assert!(serde_json::from_str::<Money>("\"1.234\"").is_err());
        assert!(serde_json::from_str::<Money>("\"abc\"").is_err());
        assert!(Money::try_from(dec("1.230")).is_ok());
    }

    #[test]
    fn m3_basics() {
        let v = M3::from_litres(23_500);
        assert_eq!(v.litres(), 23_500);
        assert_eq!(v.value(), dec("23.5"));
        assert_eq!(v.format(), "23.5 m³");
        assert_eq!(M3::from_litres(23_000).format(), "23 m³");
        assert_eq!(M3::ZERO.format(), "0 m³");
        assert_eq!(M3::from_litres(1).to_string(), "0.001 m³");
        assert_eq!(M3::new(dec("1.0005")).litres(), 1001);
        assert_eq!(M3::new(dec("-1.0005")).litres(), -1001);
        assert_eq!(M3::new(dec("12")).litres(), 12_000);
        let total: M3 = [M3::from_litres(500), M3::from_litres(700)]
            .into_iter()
            .sum();
        assert_eq!(total.litres(), 1200);
        assert_eq!((M3::from_litres(500) - M3::from_litres(700)).litres(), -200);
        assert!((M3::from_litres(500) - M3::from_litres(700)).is_negative());
        assert_eq!(M3::default(), M3::ZERO);
    }

    #[test]
    fn m3_parse() {
        for (input, litres) in [
            ("123", 123_000),
            ("123.5", 123_500),
            ("123,5", 123_500),
            (" 0,001 ", 1),
            ("45 m3", 45_000),
            ("45m³", 45_000),
            ("7.", 7000),
            (".25", 250),
        ] {
            let v = M3::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(v.litres(), litres, "{input}");
        }
        let e = M3::parse("").expect_err("empty");
        assert_eq!(e.field, "lectura");
        assert_eq!(e.message, "Escribe la lectura del medidor.");
        assert_eq!(
            M3::parse("-5").expect_err("neg").message,
            "La lectura no puede ser negativa."
        );
        assert!(
            M3::parse("1.2345")
                .expect_err("4dp")
                .message
                .contains("3 decimales")
        );
        for bad in ["abc", "1.2.3", "1,234.5", "12 34", ".", "1e3"] {
            let e = M3::parse(bad).expect_err(bad);
            assert!(e.message.contains("metros cúbicos"), "{bad}: {}", e.message);
        }
    }

    #[test]
    fn m3_serde() {
        let v = M3::from_litres(23_500);
        let json = serde_json::to_string(&v).expect("ser");
        assert_eq!(json, "\"23.500\"");
        assert_eq!(serde_json::from_str::<M3>(&json).expect("de"), v);
        assert!(serde_json::from_str::<M3>("\"1.0001\"").is_err());
    }

    proptest! {
        #[test]
        fn money_centavos_identity(c in -1_000_000_000_000i64..1_000_000_000_000) {
            let m = Money::from_centavos(c);
            prop_assert_eq!(m.centavos(), c);
            prop_assert_eq!(Money::parse(&m.format_mxn()).expect("own format parses"), m);
            prop_assert_eq!(Money::parse(&m.amount().to_string()).expect("plain parses"), m);
            let json = serde_json::to_string(&m).expect("ser");
            prop_assert_eq!(serde_json::from_str::<Money>(&json).expect("de"), m);
        }

        #[test]
        fn money_add_sub_inverse(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000) {
            let (ma, mb) = (Money::from_centavos(a), Money::from_centavos(b));
            prop_assert_eq!((ma + mb).centavos(), a + b);
            prop_assert_eq!(ma + mb - mb, ma);
        }

        #[test]
        fn m3_litres_identity(l in 0i64..1_000_000_000_000) {
            let v = M3::from_litres(l);
            prop_assert_eq!(v.litres(), l);
            let shown = v.format();
            let number = shown.trim_end_matches(" m³");
            prop_assert_eq!(M3::parse(number).expect("own format parses"), v);
        }
    }
}
