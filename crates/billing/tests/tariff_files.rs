//! The example tariff files shipped in `tariffs/cea-qro-2026/` parse, export
//! back to equal tariffs, and cover every use type.

use std::collections::HashSet;
use std::path::PathBuf;

use billing::{BillInput, Concept, Metering, Period, Tariff, TaxTreatment, compute_bill};
use domain::{Money, TariffClass, UseType};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tariffs/cea-qro-2026")
}

fn load_all() -> Vec<(String, Tariff)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir()).expect("tariffs/cea-qro-2026 exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = std::fs::read_to_string(&path).expect("readable");
        let t = Tariff::from_toml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name, t));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_file_parses_and_round_trips() {
    let all = load_all();
    assert!(all.len() >= 6, "{} files", all.len());
    for (name, t) in &all {
        // The file name is <use_type>-<class>.toml.
        assert_eq!(
            name,
            &format!("{}-{}.toml", t.use_type, t.class),
            "file name must match use_type and class"
        );
        let back = Tariff::from_toml(&t.to_toml().expect("export")).expect("re-read");
        assert_eq!(&back, t, "{name}");
    }
}

#[test]
fn files_cover_every_use_type() {
    let all = load_all();
    let covered: HashSet<UseType> = all
        .iter()
        .map(|(_, t)| t.use_type.parse::<UseType>().expect("valid use type"))
        .collect();
    for u in UseType::ALL {
        assert!(covered.contains(u), "no tariff file for {u}");
    }
    // Domestic classes use Popular..Residencial; the others, General.
    for (name, t) in &all {
        let class = t.class.parse::<TariffClass>().expect("valid class");
        let domestic = t.use_type.parse::<UseType>() == Ok(UseType::Domestico);
        assert_eq!(domestic, class != TariffClass::General, "{name}");
    }
}

#[test]
fn published_files_bill_sensibly() {
    let period = Period::month(2026, 10).expect("october");
    for (name, t) in load_all() {
        let tariffs = [t];
        let bill = compute_bill(&BillInput {
            tariffs: &tariffs,
            period,
            service_days: None,
            metering: Metering::Metered("25".parse().expect("m3")),
            estimated: false,
            programs: &["inapam".to_owned()],
            overdue_balance: Money::ZERO,
            fees: &[],
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(bill.total > Money::ZERO, "{name}");
        let water = bill
            .lines
            .iter()
            .find(|l| l.concept == Concept::Water)
            .expect("water line");
        let expected = if tariffs[0].use_type == "domestico" || tariffs[0].use_type == "mixto" {
            TaxTreatment::Iva0 // mixto's file sets water = "iva0" explicitly
        } else {
            TaxTreatment::Iva16
        };
        assert_eq!(water.tax, expected, "{name}");
        // Domestic files carry the INAPAM discount.
        let has_discount = bill.lines.iter().any(|l| l.concept == Concept::Discount);
        assert_eq!(has_discount, tariffs[0].use_type == "domestico", "{name}");
    }
}

#[test]
fn domestic_media_file_worked_example() {
    let text = std::fs::read_to_string(dir().join("domestico-media.toml")).expect("file");
    let t = [Tariff::from_toml(&text).expect("valid")];
    let bill = compute_bill(&BillInput {
        tariffs: &t,
        period: Period::month(2026, 10).expect("october"),
        service_days: None,
        // Whole m³: 23.8 → 23 billed (the 0.8 stays on the register).
        metering: Metering::Metered("23.8".parse().expect("m3")),
        estimated: false,
        programs: &[],
        overdue_balance: Money::ZERO,
        fees: &[],
    })
    .expect("bill");
    // Water: 120.00 + 10 × 15.50 (155.00) + 3 × 22.75 (68.25) = 343.25
    // Sewer 25 %: 85.8125 → 85.81; treatment 23 × 3.10 = 71.30.
    // Total (IVA 0 %): 343.25 + 85.81 + 71.30 = 500.36.
    assert_eq!(bill.billed_m3, "23".parse().expect("m3"));
    let amounts: Vec<Money> = bill.lines.iter().map(|l| l.amount).collect();
    let m = |s: &str| Money::parse(s).expect("money");
    assert_eq!(amounts, vec![m("343.25"), m("85.81"), m("71.30")]);
    assert_eq!(bill.total, m("500.36"));

    // Registered in INAPAM (the example of docs/tariffs.md): water of the
    // first 20 m³ = 120.00 + 155.00 = 275.00, 50 % = 137.50. The file applies
    // it to sewer and treatment in the same proportion:
    // 85.81 × 137.50 / 343.25 = 34.374… → 34.37; 71.30 × 137.50 / 343.25 = 28.561… → 28.56.
    // Total 500.36 − 137.50 − 34.37 − 28.56 = 299.93.
    let programs = ["inapam".to_owned()];
    let bill = compute_bill(&BillInput {
        tariffs: &t,
        period: Period::month(2026, 10).expect("october"),
        service_days: None,
        metering: Metering::Metered("23.8".parse().expect("m3")),
        estimated: false,
        programs: &programs,
        overdue_balance: Money::ZERO,
        fees: &[],
    })
    .expect("bill");
    let discounts: Vec<Money> = bill
        .lines
        .iter()
        .filter(|l| l.concept == Concept::Discount)
        .map(|l| l.amount)
        .collect();
    assert_eq!(discounts, vec![m("-137.50"), m("-34.37"), m("-28.56")]);
    assert_eq!(bill.total, m("299.93"));
}
