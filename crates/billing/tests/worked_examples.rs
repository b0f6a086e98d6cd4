//! Worked examples computed by hand (in the comments), not copied from the code.

use billing::{Metering, Tariff, water_charge};
use domain::Money;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal literal")
}

fn tariff(mode: &str, volume: &str, extra: &str) -> Tariff {
    // Base $120.00 covers 10 m³; 10–20 m³ at $15.50; 20–30 at $22.75; > 30 at $31.20.
    Tariff::from_toml(&format!(
        r#"
name = "Doméstico media 2026"
use_type = "domestico"
class = "media"
valid_from = "2026-01-01"
block_mode = "{mode}"
volume = "{volume}"
{extra}
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
"#
    ))
    .expect("valid tariff")
}

fn total(t: &Tariff, m3: &str) -> Money {
    water_charge(t, Metering::Metered(d(m3))).total
}

fn pesos(s: &str) -> Money {
    Money::parse(s).expect("money literal")
}

#[test]
fn incremental_blocks_at_the_edges() {
    let t = tariff("incremental", "decimal", "");
    assert_eq!(total(&t, "10"), pesos("120.00")); // base only
    assert_eq!(total(&t, "10.5"), pesos("127.75")); // 120 + 0.5 × 15.50
    assert_eq!(total(&t, "20"), pesos("275.00")); // 120 + 10 × 15.50
    assert_eq!(total(&t, "21"), pesos("297.75")); // 120 + 155 + 1 × 22.75
    assert_eq!(total(&t, "35"), pesos("658.50")); // 120 + 155 + 227.50 + 5 × 31.20 (156)
}

#[test]
fn whole_volume_blocks_at_the_edges() {
    let t = tariff("whole_volume", "decimal", "");
    assert_eq!(total(&t, "10"), pesos("120.00"));
    assert_eq!(total(&t, "10.5"), pesos("127.75")); // 120 + 0.5 × 15.50 (7.75)
    assert_eq!(total(&t, "20"), pesos("275.00")); // 120 + 10 × 15.50
    assert_eq!(total(&t, "21"), pesos("370.25")); // 120 + 11 × 22.75
    assert_eq!(total(&t, "30"), pesos("575.00")); // 120 + 20 × 22.75
    assert_eq!(total(&t, "31"), pesos("775.20")); // 120 + 21 × 31.20 (655.20)
}

#[test]
fn whole_m3_billing_truncates_the_litres() {
    let t = tariff("incremental", "whole", "");
    let c = water_charge(&t, Metering::Metered(d("10.5")));
    assert_eq!(c.billed_m3, d("10"));
    assert_eq!(c.total, pesos("120.00"));
    assert_eq!(total(&t, "20.999"), pesos("275.00"));
    // Whole volume with whole m³: 21.9 → 21 billed → 120 + 11 × 22.75 = 370.25.
    let t = tariff("whole_volume", "whole", "");
    assert_eq!(total(&t, "10.5"), pesos("120.00"));
    assert_eq!(total(&t, "21.9"), pesos("370.25"));
}

#[test]
fn minimum_charge_tops_up() {
    // No base: 0–10 m³ at $6.00, minimum $80.00 → 5 m³ = 30.00 + 50.00 adjustment.
    let t = Tariff::from_toml(
        r#"
name = "Comercial 2026"
use_type = "comercial"
class = "general"
valid_from = "2026-01-01"
block_mode = "incremental"
volume = "decimal"
minimum_charge = 80.00
[[blocks]]
up_to_m3 = 10
price_per_m3 = 6.00
[[blocks]]
price_per_m3 = 9.00
"#,
    )
    .expect("valid");
    let c = water_charge(&t, Metering::Metered(d("5")));
    assert_eq!(c.total, pesos("80.00"));
    assert_eq!(c.lines.last().map(|l| l.amount), Some(pesos("50.00")));
    assert_eq!(total(&t, "12"), pesos("78.00") + pesos("2.00")); // 60 + 18 = 78 → min 80
    assert_eq!(total(&t, "15"), pesos("105.00")); // 60 + 45, above the minimum
}

#[test]
fn flat_fee_without_a_working_meter() {
    let t = tariff("incremental", "whole", "flat_fee = 250.00");
    let c = water_charge(&t, Metering::Unmetered);
    assert_eq!(c.total, pesos("250.00"));
    assert_eq!(c.lines.len(), 1);
}

#[test]
fn tariff_errors_say_where() {
    let e = Tariff::from_toml("name = \"x\"\nuse_type = \n").expect_err("syntax");
    assert!(e.to_string().contains("line 2"), "{e}");
    let e = Tariff::from_toml(
        "name=\"x\"\nuse_type=\"hotel\"\nclass=\"media\"\nvalid_from=\"2026-01-01\"\nblock_mode=\"incremental\"\nvolume=\"whole\"\n[[blocks]]\nprice_per_m3=1\n",
    )
    .expect_err("bad use type");
    assert!(e.to_string().contains("use_type"), "{e}");
    let e = Tariff::from_toml(
        "name=\"x\"\nuse_type=\"domestico\"\nclass=\"media\"\nvalid_from=\"2026-01-01\"\nblock_mode=\"incremental\"\nvolume=\"whole\"\n[[blocks]]\nup_to_m3=10\nprice_per_m3=1\n[[blocks]]\nup_to_m3=5\nprice_per_m3=2\n[[blocks]]\nprice_per_m3=3\n",
    )
    .expect_err("blocks out of order");
    assert!(e.to_string().contains("blocks[2].up_to_m3"), "{e}");
}

proptest::proptest! {
    /// For any consumption the lines add up to the total and none is negative.
    #[test]
    fn lines_sum_to_total(litres in 0u32..200_000, whole in proptest::bool::ANY, incremental in proptest::bool::ANY) {
        let t = tariff(if incremental { "incremental" } else { "whole_volume" }, if whole { "whole" } else { "decimal" }, "minimum_charge = 130.00");
        let c = water_charge(&t, Metering::Metered(Decimal::new(i64::from(litres), 3)));
        let sum: Money = c.lines.iter().map(|l| l.amount).sum();
        proptest::prop_assert_eq!(sum, c.total);
        proptest::prop_assert!(c.lines.iter().all(|l| !l.amount.is_negative()));
        proptest::prop_assert!(c.total >= Money::parse("130.00").expect("money"));
    }
}
