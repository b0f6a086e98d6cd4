//! Consumption assessment: decide whether a period's measured volume can be
//! billed as is, must be estimated (no reading), or must be reviewed by a
//! person before billing; and the true-up once a real reading arrives after
//! estimated periods.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::tariff::round_m3;

/// When a consumption goes to review instead of being billed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewPolicy {
    /// A consumption above `jump_factor` × the average of the history is a
    /// jump (possible leak or misread). Default 3.
    pub jump_factor: Decimal,
    /// This many consecutive periods at 0 m³ (counting the current one) go to
    /// review. Default 3.
    pub zero_periods: u32,
    /// How many of the latest valid periods the average uses. Default 6.
    pub history_periods: usize,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            jump_factor: Decimal::from(3),
            zero_periods: 3,
            history_periods: 6,
        }
    }
}

/// Why a consumption must be checked by a person before it is billed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ReviewReason {
    /// The reading is below the previous one.
    Negative { m3: Decimal },
    /// 0 m³ for `periods` consecutive periods (the current one included).
    ZeroForPeriods { periods: u32 },
    /// `m3` is more than `factor` × the recent `average`.
    Jump {
        m3: Decimal,
        average: Decimal,
        factor: Decimal,
    },
    /// No reading and no valid history to estimate from.
    NoHistory,
}

impl ReviewReason {
    /// Plain Spanish explanation for the review queue (and the citizen, if asked).
    pub fn message_es(&self) -> String {
        match self {
            ReviewReason::Negative { m3 } => format!(
                "La lectura es menor que la anterior ({} m³). Hay que revisar si se cambió o reinició el medidor o si la lectura se capturó mal; no se factura hasta aclararlo.",
                m3.normalize()
            ),
            ReviewReason::ZeroForPeriods { periods } => format!(
                "La toma lleva {periods} periodos seguidos sin consumo. Hay que revisar si el medidor está detenido, si la casa está deshabitada o si hay una conexión sin medir."
            ),
            ReviewReason::Jump {
                m3,
                average,
                factor,
            } => format!(
                "El consumo de {} m³ es más de {} veces el promedio reciente de {} m³. Hay que revisar si hay una fuga o un error de lectura antes de facturar.",
                m3.normalize(),
                factor.normalize(),
                average.normalize()
            ),
            ReviewReason::NoHistory => "No hay lectura de este periodo ni periodos anteriores con lectura real para estimar el consumo. Hace falta tomar una lectura.".to_owned(),
        }
    }
}

/// What to bill for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Assessment {
    /// Bill the measured m³.
    Measured(Decimal),
    /// No reading: bill this estimate (average of the recent valid periods,
    /// to the litre) and mark the bill as estimated.
    Estimated(Decimal),
    /// Do not bill yet: a person must check.
    Review(ReviewReason),
}

/// Average of the last `policy.history_periods` entries of `history`, rounded
/// to the litre; `None` when there is nothing to average.
fn average(history: &[Decimal], policy: &ReviewPolicy) -> Option<Decimal> {
    let n = history.len().min(policy.history_periods);
    if n == 0 {
        return None;
    }
    let recent = &history[history.len() - n..];
    let sum: Decimal = recent.iter().sum();
    Some(round_m3(sum / Decimal::from(n)))
}

/// Assess the period's consumption.
///
/// * `current`: measured m³ for this period, `None` when there is no reading
///   (no access, broken meter).
/// * `history`: measured m³ of previous valid (real, not estimated) periods,
///   most recent last.
/// * `zero_streak`: consecutive previous periods with 0 m³.
///
/// Rules, in order: no reading → estimate from the average of the last
/// `history_periods` valid periods (review `NoHistory` if there are none);
/// negative → review; 0 m³ when `zero_streak + 1 >= zero_periods` → review;
/// more than `jump_factor` × a positive average → review; otherwise measured.
pub fn assess(
    current: Option<Decimal>,
    history: &[Decimal],
    zero_streak: u32,
    policy: &ReviewPolicy,
) -> Assessment {
    let avg = average(history, policy);
    let Some(m3) = current else {
        return match avg {
            Some(a) => Assessment::Estimated(a),
            None => Assessment::Review(ReviewReason::NoHistory),
        };
    };
    if m3.is_sign_negative() && !m3.is_zero() {
        return Assessment::Review(ReviewReason::Negative { m3 });
    }
    if m3.is_zero() && zero_streak.saturating_add(1) >= policy.zero_periods {
        return Assessment::Review(ReviewReason::ZeroForPeriods {
            periods: zero_streak.saturating_add(1),
        });
    }
    if let Some(a) = avg
        && a > Decimal::ZERO
        && m3 > policy.jump_factor * a
    {
        return Assessment::Review(ReviewReason::Jump {
            m3,
            average: a,
            factor: policy.jump_factor,
        });
    }
    Assessment::Measured(m3)
}

/// Result of reconciling estimated periods with the first real reading after them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrueUp {
    /// m³ to bill now: what was really consumed beyond what was already billed
    /// as estimates.
    pub billed_m3: Decimal,
    /// m³ billed in excess by the estimates, to be credited against the
    /// consumption of later periods.
    pub carried_credit_m3: Decimal,
}

/// Reconcile: `actual_m3_since_last_real` is the consumption measured since the
/// last real reading (covering the estimated periods and this one);
/// `estimated_m3_billed_since` is what the estimated bills charged meanwhile.
pub fn true_up(actual_m3_since_last_real: Decimal, estimated_m3_billed_since: Decimal) -> TrueUp {
    let diff = actual_m3_since_last_real - estimated_m3_billed_since;
    TrueUp {
        billed_m3: diff.max(Decimal::ZERO),
        carried_credit_m3: (-diff).max(Decimal::ZERO),
    }
}
