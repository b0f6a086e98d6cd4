//! Properties of every bill: totals are the sum of the lines to the centavo,
//! only discounts are negative and a discount never exceeds what it discounts.

use billing::{BillInput, Concept, FeeKind, Metering, Period, Tariff, compute_bill};
use domain::Money;
use proptest::prelude::*;
use rust_decimal::Decimal;

const COMMON: &str = r#"
[[discounts]]
program = "inapam"
label = "Descuento INAPAM (adulto mayor)"
percent = 50
up_to_m3 = 20
[[discounts]]
program = "discapacidad"
label = "Descuento por discapacidad"
percent = 100
[recargos]
monthly_percent = 1.47
[fees]
reconexion = 450.00
multa = 350.00
"#;

/// A few representative tariffs: domestic incremental with base (decimal m³),
/// commercial incremental with a minimum (whole m³), industrial whole-volume
/// with a volume discount (prices going down) and discounts that also apply
/// to sewer and treatment.
fn tariffs() -> Vec<Tariff> {
    let texts = [
        r#"
name = "Doméstico"
use_type = "domestico"
class = "media"
valid_from = "2026-01-01"
block_mode = "incremental"
volume = "decimal"
flat_fee = 250
[base]
amount = 120.00
covers_m3 = 10
[[blocks]]
up_to_m3 = 10
price_per_m3 = 0
[[blocks]]
up_to_m3 = 20
price_per_m3 = 15.50
[[blocks]]
up_to_m3 = 30
price_per_m3 = 22.75
[[blocks]]
price_per_m3 = 31.20
[sewer]
percent_of_water = 25
[treatment]
per_m3 = 3.10
"#,
        r#"
name = "Comercial"
use_type = "comercial"
class = "general"
valid_from = "2026-01-01"
block_mode = "incremental"
volume = "whole"
minimum_charge = 185.00
flat_fee = 690
[[blocks]]
up_to_m3 = 20
price_per_m3 = 24.50
[[blocks]]
price_per_m3 = 31.80
[sewer]
per_m3 = 2.35
[taxes]
sewer = "exento"
"#,
        r#"
name = "Industrial"
use_type = "industrial"
class = "general"
valid_from = "2026-01-01"
block_mode = "whole_volume"
volume = "decimal"
minimum_charge = 950.00
flat_fee = 4800
[[blocks]]
up_to_m3 = 50
price_per_m3 = 45.30
[[blocks]]
up_to_m3 = 200
price_per_m3 = 38.60
[[blocks]]
price_per_m3 = 33.10
[sewer]
percent_of_water = 30
[treatment]
per_m3 = 6.50
[taxes]
treatment = "no_objeto"
"#,
    ];
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut text = format!("{t}{COMMON}");
            if i == 2 {
                text = text.replace("percent = 50\n", "percent = 50\napplies_to_sewer = true\n");
                text = text.replace(
                    "percent = 100\n",
                    "percent = 100\napplies_to_sewer = true\n",
                );
            }
            Tariff::from_toml(&text).expect("valid representative tariff")
        })
        .collect()
}

proptest! {
    #[test]
    fn bills_add_up(
        litres in 0i64..=500_000,
        which in 0usize..3,
        programs in proptest::sample::select(vec![vec![], vec!["inapam"], vec!["discapacidad"], vec!["inapam", "discapacidad"]]),
        overdue_centavos in prop_oneof![Just(0i64), 0i64..10_000_000],
        reconexion in any::<bool>(),
        multa in any::<bool>(),
        unmetered in proptest::bool::weighted(0.1),
        estimated in any::<bool>(),
        service_days in proptest::option::of(0u32..=31),
        change_day in proptest::option::of(2u32..=31),
    ) {
        let all = tariffs();
        let base = all[which].clone();
        let mut versions = vec![base.clone()];
        if let Some(day) = change_day {
            // A second version in force from `day` October with prices 10 % up.
            let mut v2 = base.clone();
            v2.name.push_str(" B");
            v2.valid_from = chrono::NaiveDate::from_ymd_opt(2026, 10, day).expect("date");
            for b in &mut v2.blocks {
                b.price_per_m3 *= Decimal::new(11, 1);
            }
            versions.push(v2);
        }
        let programs: Vec<String> = programs.iter().map(|p| (*p).to_owned()).collect();
        let mut fees = Vec::new();
        if reconexion { fees.push(FeeKind::Reconexion); }
        if multa { fees.push(FeeKind::Multa); }
        let bill = compute_bill(&BillInput {
            tariffs: &versions,
            period: Period::month(2026, 10).expect("october"),
            service_days,
            metering: if unmetered { Metering::Unmetered } else { Metering::Metered(Decimal::new(litres, 3)) },
            estimated,
            programs: &programs,
            overdue_balance: Money::from_centavos(overdue_centavos),
            fees: &fees,
        }).expect("bill");

        let sum: Money = bill.lines.iter().map(|l| l.amount).sum();
        let tax: Money = bill.lines.iter().map(|l| l.tax_amount).sum();
        prop_assert_eq!(sum, bill.subtotal);
        prop_assert_eq!(tax, bill.tax);
        prop_assert_eq!(bill.total, bill.subtotal + bill.tax);
        prop_assert_eq!(bill.lines[0].concept, Concept::Water);
        for l in &bill.lines {
            if l.concept != Concept::Discount {
                prop_assert!(!l.amount.is_negative(), "{:?} negative", l.concept);
            } else {
                prop_assert!(l.amount.is_negative(), "zero or positive discount kept");
            }
            let expected_tax = l.tax.rate().map_or(Money::ZERO, |r| Money::from_decimal_rounded(l.amount.amount() * r));
            prop_assert_eq!(l.tax_amount, expected_tax);
            let steps: Money = l.steps.iter().map(|s| s.amount).sum();
            prop_assert_eq!(steps, l.amount, "steps of {:?}", l.concept);
            prop_assert!(l.concept == Concept::Water || !l.amount.is_zero());
        }
        let of = |c: Concept| -> Money { bill.lines.iter().filter(|l| l.concept == c).map(|l| l.amount).sum() };
        let water = of(Concept::Water);
        // The first discount line is the water's: never more than the water line.
        if let Some(first) = bill.lines.iter().find(|l| l.concept == Concept::Discount) {
            prop_assert!(first.amount.abs() <= water, "{} > {}", first.amount, water);
        }
        prop_assert!(of(Concept::Discount).abs() <= water + of(Concept::Sewer) + of(Concept::Treatment));
        prop_assert_eq!(bill.tariffs.len(), if change_day.is_some() { 2 } else { 1 });
    }
}
