//! A reading checked against the meter's previous one (the latest reading *before* it,
//! so out-of-order arrivals are checked against their true neighbour).
//!
//! - A timestamp in the future (beyond a small clock skew) is refused.
//! - A volume the register cannot show (beyond its digits) is refused.
//! - Less than before: a rollover when the register was near its limit and the wrapped
//!   consumption is plausible for the time elapsed; else reverse flow (flagged).
//! - More than the meter's maximum flow could pass in the time elapsed: flagged as an
//!   implausible jump, kept for staff (never dropped).

use chrono::{DateTime, Duration, Utc};

use crate::{Error, Result};

/// How far ahead of our clock a meter's may be.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// The meter as the checks need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Register {
    /// Whole-m³ digits of the register: 5 shows up to 99,999.999 m³, then rolls over.
    pub digits: u32,
    /// The most the meter can pass in an hour (its Q4), litres.
    pub max_litres_per_hour: u64,
}

impl Register {
    /// A domestic ½" meter: 5 digits, Q4 = 3.125 m³/h.
    pub const DOMESTIC: Register = Register {
        digits: 5,
        max_litres_per_hour: 3_125,
    };

    /// A meter of `digits` whole-m³ digits and nominal diameter `diameter_mm`, with the
    /// Q4 (overload flow, 1.25 × Q3) of the usual metrological class for that size.
    pub fn for_meter(digits: u32, diameter_mm: u32) -> Register {
        let max_litres_per_hour = match diameter_mm {
            0..=15 => 3_125,
            16..=20 => 5_000,
            21..=25 => 7_875,
            26..=32 => 12_500,
            33..=40 => 20_000,
            41..=50 => 31_250,
            51..=65 => 50_000,
            66..=80 => 78_750,
            _ => 125_000,
        };
        Register {
            digits: digits.clamp(1, 12),
            max_litres_per_hour,
        }
    }

    /// Litres at which the register wraps to zero.
    pub fn capacity_litres(&self) -> u64 {
        10u64.saturating_pow(self.digits).saturating_mul(1000)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub at: DateTime<Utc>,
    pub litres: u64,
}

/// The quality code stored with a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    Ok,
    /// The register passed its limit and started again from zero.
    Rollover,
    /// The register went backwards.
    ReverseFlow,
    /// More than the meter can pass in the time elapsed.
    ImplausibleJump,
}

impl Quality {
    pub fn code(&self) -> &'static str {
        match self {
            Quality::Ok => "valida",
            Quality::Rollover => "vuelta",
            Quality::ReverseFlow => "reverso",
            Quality::ImplausibleJump => "salto",
        }
    }
}

/// Whether a stored quality code measured the register well enough to bill from
/// (and to count in consumption aggregates).
pub fn billable(code: &str) -> bool {
    matches!(code, "valida" | "vuelta")
}

/// What a reading means next to the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub quality: Quality,
    /// Litres used since the previous reading (negative only for reverse flow; 0 for a
    /// meter's first reading).
    pub consumption_litres: i64,
}

/// Check `next` against `previous`, the meter's latest reading before `next.at`.
pub fn check(
    register: Register,
    previous: Option<Reading>,
    next: Reading,
    now: DateTime<Utc>,
) -> Result<Checked> {
    if next.at > now + CLOCK_SKEW {
        return Err(Error::invalid(
            "fecha",
            "la lectura tiene fecha en el futuro",
        ));
    }
    let capacity = register.capacity_litres();
    if next.litres >= capacity {
        return Err(Error::invalid(
            "lectura",
            format!(
                "el medidor muestra hasta {} m³ ({} dígitos)",
                capacity / 1000 - 1,
                register.digits
            ),
        ));
    }
    let Some(prev) = previous else {
        return Ok(Checked {
            quality: Quality::Ok,
            consumption_litres: 0,
        });
    };
    // What the meter could pass between the two, with an hour's margin for clocks.
    let hours = (next.at - prev.at).num_seconds().max(0) as u64 / 3600 + 1;
    let most = register.max_litres_per_hour.saturating_mul(hours);
    let signed = |l: u64| i64::try_from(l).unwrap_or(i64::MAX);
    if next.litres >= prev.litres {
        let used = next.litres - prev.litres;
        return Ok(Checked {
            quality: if used > most {
                Quality::ImplausibleJump
            } else {
                Quality::Ok
            },
            consumption_litres: signed(used),
        });
    }
    let wrapped = capacity - prev.litres + next.litres;
    if wrapped <= most {
        Ok(Checked {
            quality: Quality::Rollover,
            consumption_litres: signed(wrapped),
        })
    } else {
        Ok(Checked {
            quality: Quality::ReverseFlow,
            consumption_litres: -signed(prev.litres - next.litres),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_795_500_000 + h * 3600, 0).expect("time")
    }

    fn r(h: i64, litres: u64) -> Reading {
        Reading { at: at(h), litres }
    }

    const REG: Register = Register::DOMESTIC;

    #[test]
    fn normal_use_is_ok() {
        let c = check(REG, Some(r(0, 1_000)), r(24, 1_450), at(30)).expect("ok");
        assert_eq!(
            c,
            Checked {
                quality: Quality::Ok,
                consumption_litres: 450
            }
        );
        let first = check(REG, None, r(0, 1_000), at(1)).expect("first");
        assert_eq!(first.consumption_litres, 0);
    }

    #[test]
    fn the_future_and_impossible_registers_are_refused() {
        assert!(check(REG, None, r(10, 1), at(0)).is_err());
        // Within the clock skew is fine.
        let skewed = Reading {
            at: at(0) + Duration::minutes(4),
            litres: 1,
        };
        assert!(check(REG, None, skewed, at(0)).is_ok());
        assert!(check(REG, None, r(0, 100_000_000), at(1)).is_err());
    }

    #[test]
    fn rollover_reverse_flow_and_jumps() {
        // 99,999.900 m³ → 0.300 m³ a day later: 400 litres across the limit.
        let c = check(REG, Some(r(0, 99_999_900)), r(24, 300), at(30)).expect("rollover");
        assert_eq!(
            c,
            Checked {
                quality: Quality::Rollover,
                consumption_litres: 400
            }
        );
        // Far from the limit, backwards is reverse flow.
        let c = check(REG, Some(r(0, 50_000)), r(24, 49_000), at(30)).expect("reverse");
        assert_eq!(
            c,
            Checked {
                quality: Quality::ReverseFlow,
                consumption_litres: -1_000
            }
        );
        // 100 m³ in one hour through a ½" meter cannot be.
        let c = check(REG, Some(r(0, 1_000)), r(1, 101_000), at(2)).expect("jump");
        assert_eq!(c.quality, Quality::ImplausibleJump);
        assert_eq!(c.consumption_litres, 100_000);
    }

    proptest! {
        /// Any plausible use across the limit is a rollover of exactly that use.
        #[test]
        fn rollover_is_exact(before in 1u64..5_000, used in 0u64..5_000, hours in 2i64..48) {
            let cap = REG.capacity_litres();
            let prev = r(0, cap - before);
            let next = r(hours, (cap - before + used) % cap);
            let c = check(REG, Some(prev), next, at(hours + 1)).expect("checked");
            if used >= before {
                prop_assert_eq!(c.quality, Quality::Rollover);
            } else {
                prop_assert_eq!(c.quality, Quality::Ok);
            }
            prop_assert_eq!(c.consumption_litres, used as i64);
        }
    }
}
