//! Consumption (billable volume) from two meter register readings.

use rust_decimal::Decimal;

use crate::money::M3;

/// Physical characteristics of a meter's register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeterSpec {
    /// Integer digits of the register, e.g. `5` ⇒ rolls over after 99999 m³.
    pub digits: u8,
    /// Factor from register units to m³ (usually 1). Its absolute value is
    /// used, so a mis-signed multiplier can never produce negative billing.
    pub multiplier: Decimal,
}

impl MeterSpec {
    /// A register with `digits` integer digits and multiplier 1.
    pub fn new(digits: u8) -> MeterSpec {
        MeterSpec {
            digits,
            multiplier: Decimal::ONE,
        }
    }
}

impl Default for MeterSpec {
    /// The usual domestic meter: 5 integer digits, multiplier 1.
    fn default() -> Self {
        MeterSpec::new(5)
    }
}

/// Result of comparing two readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumption {
    /// `current >= previous`: ordinary consumption.
    Normal(M3),
    /// The register wrapped past its maximum back to zero.
    Rollover(M3),
    /// `current < previous` and a rollover is implausible: the (negative)
    /// difference, to be flagged for review and never billed blindly.
    Negative(M3),
}

impl Consumption {
    /// The billable volume (or the negative difference for `Negative`).
    pub fn m3(&self) -> M3 {
        match *self {
            Consumption::Normal(v) | Consumption::Rollover(v) | Consumption::Negative(v) => v,
        }
    }

    /// `true` for `Normal` and `Rollover` (safe to bill).
    pub fn is_billable(&self) -> bool {
        !matches!(self, Consumption::Negative(_))
    }
}

/// `10^digits` as a `Decimal`, or `None` if it does not fit.
fn register_range(digits: u8) -> Option<Decimal> {
    let mut r = Decimal::ONE;
    for _ in 0..digits {
        r = r.checked_mul(Decimal::TEN)?;
    }
    Some(r)
}

/// Consumption between two register readings (in register units).
///
/// * `current >= previous` → `Normal((current - previous) * multiplier)`.
/// * `current < previous` → if the wrapped difference
///   `10^digits - previous + current` is positive and smaller than half the
///   register range, `Rollover(wrapped * multiplier)`; otherwise
///   `Negative((current - previous) * multiplier)`.
pub fn consumption(previous: M3, current: M3, spec: &MeterSpec) -> Consumption {
    let mult = spec.multiplier.abs();
    let (prev, cur) = (previous.value(), current.value());
    if cur >= prev {
        return Consumption::Normal(M3::new((cur - prev) * mult));
    }
    if let Some(range) = register_range(spec.digits)
        && let Some(wrapped) = (range - prev).checked_add(cur)
        && wrapped > Decimal::ZERO
        && wrapped < range / Decimal::TWO
    {
        return Consumption::Rollover(M3::new(wrapped * mult));
    }
    Consumption::Negative(M3::new((cur - prev) * mult))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m3(units: i64) -> M3 {
        M3::from_litres(units * 1000)
    }

    #[test]
    fn normal() {
        let c = consumption(m3(100), m3(125), &MeterSpec::default());
        assert_eq!(c, Consumption::Normal(m3(25)));
        assert_eq!(c.m3(), m3(25));
        assert!(c.is_billable());
        assert_eq!(
            consumption(m3(100), m3(100), &MeterSpec::default()),
            Consumption::Normal(M3::ZERO)
        );
        // Fractional readings keep litre precision.
        let c = consumption(
            M3::from_litres(1_500),
            M3::from_litres(3_250),
            &MeterSpec::new(5),
        );
        assert_eq!(c, Consumption::Normal(M3::from_litres(1_750)));
    }

    #[test]
    fn rollover_five_digits() {
        let c = consumption(m3(99_990), m3(15), &MeterSpec::new(5));
        assert_eq!(c, Consumption::Rollover(m3(25)));
        assert_eq!(c.m3().format(), "25 m³");
        assert!(c.is_billable());
    }

    #[test]
    fn rollover_four_digits() {
        let c = consumption(m3(9_998), m3(3), &MeterSpec::new(4));
        assert_eq!(c, Consumption::Rollover(m3(5)));
    }

    #[test]
    fn multiplier_ten() {
        let spec = MeterSpec {
            digits: 5,
            multiplier: Decimal::TEN,
        };
        assert_eq!(
            consumption(m3(100), m3(103), &spec),
            Consumption::Normal(m3(30))
        );
        assert_eq!(
            consumption(m3(99_999), m3(1), &spec),
            Consumption::Rollover(m3(20))
        );
        assert_eq!(
            consumption(m3(500), m3(300), &spec),
            Consumption::Negative(m3(-2_000))
        );
    }

    #[test]
    fn fractional_multiplier_rounds_to_litres() {
        let spec = MeterSpec {
            digits: 5,
            multiplier: "0.1".parse().expect("decimal"),
        };
        let c = consumption(M3::from_litres(0), M3::from_litres(1_005), &spec);
        assert_eq!(c, Consumption::Normal(M3::from_litres(101)));
    }

    #[test]
    fn negative_is_flagged() {
        let c = consumption(m3(500), m3(300), &MeterSpec::new(5));
        assert_eq!(c, Consumption::Negative(m3(-200)));
        assert_eq!(c.m3(), m3(-200));
        assert!(!c.is_billable());
        assert!(c.m3().is_negative());
    }

    #[test]
    fn half_range_boundary_is_negative() {
        // Wrapped = exactly half of the range (50000) → not plausible.
        let c = consumption(m3(60_000), m3(10_000), &MeterSpec::new(5));
        assert_eq!(c, Consumption::Negative(m3(-50_000)));
        // Just under half → rollover.
        let c = consumption(m3(60_000), M3::from_litres(9_999_999), &MeterSpec::new(5));
        assert_eq!(c, Consumption::Rollover(M3::from_litres(49_999_999)));
    }

    #[test]
    fn previous_beyond_register_is_negative() {
        // A previous reading that does not fit the register cannot roll over.
        let c = consumption(m3(150_000), m3(10), &MeterSpec::new(5));
        assert!(matches!(c, Consumption::Negative(_)));
    }

    #[test]
    fn huge_digit_count_does_not_panic() {
        let c = consumption(m3(500), m3(300), &MeterSpec::new(255));
        assert_eq!(c, Consumption::Negative(m3(-200)));
        let c = consumption(m3(500), m3(300), &MeterSpec::new(0));
        assert_eq!(c, Consumption::Negative(m3(-200)));
    }

    proptest! {
        #[test]
        fn billable_is_never_negative(
            prev in 0i64..100_000_000,
            cur in 0i64..100_000_000,
            digits in 0u8..40,
            mult in -100i64..100,
        ) {
            let spec = MeterSpec { digits, multiplier: Decimal::new(mult, 1) };
            let c = consumption(M3::from_litres(prev), M3::from_litres(cur), &spec);
            match c {
                Consumption::Normal(v) | Consumption::Rollover(v) => {
                    prop_assert!(!v.is_negative(), "{c:?}");
                }
                Consumption::Negative(v) => {
                    prop_assert!(cur < prev);
                    prop_assert!(!v.value().is_sign_positive() || v.value().is_zero());
                }
            }
            if cur >= prev {
                prop_assert!(matches!(c, Consumption::Normal(_)));
            }
        }
    }
}
