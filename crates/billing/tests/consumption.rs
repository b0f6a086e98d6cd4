//! Consumption assessment and true-up, worked by hand in the comments.

use billing::{Assessment, ReviewPolicy, ReviewReason, TrueUp, assess, true_up};
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal literal")
}

fn hist(values: &[&str]) -> Vec<Decimal> {
    values.iter().map(|v| d(v)).collect()
}

#[test]
fn default_policy() {
    let p = ReviewPolicy::default();
    assert_eq!(p.jump_factor, d("3"));
    assert_eq!(p.zero_periods, 3);
    assert_eq!(p.history_periods, 6);
}

#[test]
fn ordinary_reading_is_measured() {
    let h = hist(&["18", "22", "20"]);
    assert_eq!(
        assess(Some(d("24.5")), &h, 0, &ReviewPolicy::default()),
        Assessment::Measured(d("24.5"))
    );
    // No history: nothing to compare with, a reading is still billable.
    assert_eq!(
        assess(Some(d("40")), &[], 0, &ReviewPolicy::default()),
        Assessment::Measured(d("40"))
    );
}

#[test]
fn estimate_then_true_up() {
    // 7 valid periods; only the last 6 count: 22 + 20 + 19 + 25 + 21 + 17 = 124;
    // 124 / 6 = 20.6666… → 20.667 m³ (to the litre).
    let h = hist(&["40", "22", "20", "19", "25", "21", "17"]);
    let a = assess(None, &h, 0, &ReviewPolicy::default());
    assert_eq!(a, Assessment::Estimated(d("20.667")));
    // Fewer than 6: 10 and 15 → 12.5.
    assert_eq!(
        assess(None, &hist(&["10", "15"]), 0, &ReviewPolicy::default()),
        Assessment::Estimated(d("12.5"))
    );
    // Next month a real reading: 35.5 m³ since the last real one; 20.667 were
    // already billed as the estimate → bill 35.5 − 20.667 = 14.833 now.
    assert_eq!(
        true_up(d("35.5"), d("20.667")),
        TrueUp {
            billed_m3: d("14.833"),
            carried_credit_m3: d("0")
        }
    );
    // The estimate was too high: 15 real vs 20.667 billed → bill 0 now and
    // carry 5.667 m³ as credit against later periods.
    assert_eq!(
        true_up(d("15"), d("20.667")),
        TrueUp {
            billed_m3: d("0"),
            carried_credit_m3: d("5.667")
        }
    );
    // Exactly right: nothing either way.
    let t = true_up(d("20.667"), d("20.667"));
    assert!(t.billed_m3.is_zero() && t.carried_credit_m3.is_zero());
}

#[test]
fn no_reading_and_no_history_goes_to_review() {
    let a = assess(None, &[], 0, &ReviewPolicy::default());
    assert_eq!(a, Assessment::Review(ReviewReason::NoHistory));
    if let Assessment::Review(r) = a {
        assert!(r.message_es().contains("lectura"), "{}", r.message_es());
    }
}

#[test]
fn negative_goes_to_review() {
    let a = assess(Some(d("-12")), &hist(&["20"]), 0, &ReviewPolicy::default());
    assert_eq!(
        a,
        Assessment::Review(ReviewReason::Negative { m3: d("-12") })
    );
    let msg = ReviewReason::Negative { m3: d("-12") }.message_es();
    assert!(msg.contains("-12 m³"), "{msg}");
    assert!(msg.contains("menor que la anterior"), "{msg}");
}

#[test]
fn zero_streak_goes_to_review() {
    let p = ReviewPolicy::default();
    let h = hist(&["20", "18"]);
    // Two previous zeros + this one = 3 ≥ 3 → review.
    assert_eq!(
        assess(Some(Decimal::ZERO), &h, 2, &p),
        Assessment::Review(ReviewReason::ZeroForPeriods { periods: 3 })
    );
    // One previous zero + this one = 2 < 3 → billed as 0.
    assert_eq!(
        assess(Some(Decimal::ZERO), &h, 1, &p),
        Assessment::Measured(Decimal::ZERO)
    );
    // A non-zero reading ends the streak whatever it was.
    assert_eq!(
        assess(Some(d("5")), &h, 7, &p),
        Assessment::Measured(d("5"))
    );
    let msg = ReviewReason::ZeroForPeriods { periods: 3 }.message_es();
    assert!(msg.contains("3 periodos seguidos sin consumo"), "{msg}");
}

#[test]
fn jump_goes_to_review() {
    let p = ReviewPolicy::default();
    // Average (18 + 22 + 20) / 3 = 20; 3 × 20 = 60.
    let h = hist(&["18", "22", "20"]);
    assert_eq!(
        assess(Some(d("60")), &h, 0, &p),
        Assessment::Measured(d("60"))
    );
    assert_eq!(
        assess(Some(d("60.001")), &h, 0, &p),
        Assessment::Review(ReviewReason::Jump {
            m3: d("60.001"),
            average: d("20"),
            factor: d("3")
        })
    );
    // Only the last `history_periods` count: with 2, average (22 + 20) / 2 = 21,
    // limit 63 → 62 is fine.
    let two = ReviewPolicy {
        history_periods: 2,
        ..ReviewPolicy::default()
    };
    assert_eq!(
        assess(Some(d("62")), &hist(&["2", "22", "20"]), 0, &two),
        Assessment::Measured(d("62"))
    );
    // A zero average never flags a jump.
    assert_eq!(
        assess(Some(d("30")), &hist(&["0", "0"]), 0, &p),
        Assessment::Measured(d("30"))
    );
    let msg = ReviewReason::Jump {
        m3: d("95"),
        average: d("20.5"),
        factor: d("3"),
    }
    .message_es();
    assert!(msg.contains("95 m³"), "{msg}");
    assert!(msg.contains("3 veces"), "{msg}");
    assert!(msg.contains("20.5 m³"), "{msg}");
}
