//! Tariff files: every new table, its errors (naming the field) and export.

use billing::{BillingError, Concept, FeeKind, Tariff, TariffPeriod, TaxTreatment};
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal literal")
}

const HEAD: &str = r#"
name = "Prueba"
use_type = "domestico"
class = "popular"
valid_from = "2026-01-01"
block_mode = "incremental"
volume = "whole"
"#;

const BLOCKS: &str = r#"
[[blocks]]
up_to_m3 = 10
price_per_m3 = 5
[[blocks]]
price_per_m3 = 9
"#;

fn parse(top: &str, tables: &str) -> Result<Tariff, BillingError> {
    Tariff::from_toml(&format!("{HEAD}{top}\n{BLOCKS}\n{tables}"))
}

fn field_of(e: &BillingError) -> &str {
    match e {
        BillingError::Invalid { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn defaults_when_tables_are_omitted() {
    let t = parse("", "").expect("minimal tariff");
    assert_eq!(t.period, TariffPeriod::Mensual);
    assert_eq!(t.nominal_days(), 30);
    assert!(t.sewer.is_none() && t.treatment.is_none() && t.recargos.is_none());
    assert!(t.discounts.is_empty());
    // Shipped tax default: domestic → IVA 0 % on water, sewer, treatment,
    // recargos and discounts; 16 % on reconexión and multa.
    for c in [
        Concept::Water,
        Concept::Sewer,
        Concept::Treatment,
        Concept::Recargos,
        Concept::Discount,
    ] {
        assert_eq!(t.tax(c), TaxTreatment::Iva0, "{c}");
    }
    assert_eq!(t.tax(Concept::Reconexion), TaxTreatment::Iva16);
    assert_eq!(t.tax(Concept::Multa), TaxTreatment::Iva16);
    // Any other use type → 16 % everywhere.
    let c = Tariff {
        use_type: "industrial".into(),
        class: "general".into(),
        ..t.clone()
    };
    for concept in Concept::ALL {
        assert_eq!(c.tax(*concept), TaxTreatment::Iva16, "{concept}");
    }
    // SAT defaults.
    let codes: Vec<(String, String)> = Concept::ALL
        .iter()
        .map(|c| {
            let s = t.sat_code(*c);
            (s.clave_prod_serv, s.clave_unidad)
        })
        .collect();
    let expected = [
        ("10171500", "MTQ"), // agua
        ("72151802", "E48"), // alcantarillado
        ("72151801", "E48"), // saneamiento
        ("10171500", "MTQ"), // descuento → the water's
        ("01010101", "ACT"), // recargos
        ("72151800", "E48"), // reconexión
        ("01010101", "ACT"), // multa
    ];
    assert_eq!(
        codes,
        expected
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<Vec<_>>()
    );
    assert_eq!(t.fee(FeeKind::Reconexion), None);
}

#[test]
fn every_table_is_read() {
    let t = parse(
        "period = \"bimestral\"",
        r#"
[sewer]
percent_of_water = 25
[treatment]
per_m3 = 3.10
[[discounts]]
program = "inapam"
label = "Descuento INAPAM (adulto mayor)"
percent = 50
up_to_m3 = 20
applies_to_sewer = true
[[discounts]]
program = "discapacidad"
label = "Descuento por discapacidad"
percent = 30
[taxes]
water = "exento"
multa = "no_objeto"
[recargos]
monthly_percent = 1.47
[fees]
reconexion = 450.00
multa = 350.00
[sat.water]
clave_prod_serv = "10171501"
clave_unidad = "MTQ"
"#,
    )
    .expect("full tariff");
    assert_eq!(t.period, TariffPeriod::Bimestral);
    assert_eq!(t.nominal_days(), 60);
    assert_eq!(
        t.sewer.as_ref().and_then(|s| s.percent_of_water),
        Some(d("25"))
    );
    assert_eq!(t.treatment.as_ref().and_then(|s| s.per_m3), Some(d("3.10")));
    assert_eq!(t.discounts.len(), 2);
    assert_eq!(t.discounts[0].up_to_m3, Some(d("20")));
    assert!(t.discounts[0].applies_to_sewer);
    assert_eq!(t.discounts[1].up_to_m3, None);
    assert!(!t.discounts[1].applies_to_sewer);
    assert_eq!(t.tax(Concept::Water), TaxTreatment::Exento);
    assert_eq!(t.tax(Concept::Discount), TaxTreatment::Exento);
    assert_eq!(t.tax(Concept::Sewer), TaxTreatment::Iva0); // default kept
    assert_eq!(t.tax(Concept::Multa), TaxTreatment::NoObjeto);
    assert_eq!(
        t.recargos.as_ref().map(|r| r.monthly_percent),
        Some(d("1.47"))
    );
    assert_eq!(t.fee(FeeKind::Reconexion), Some(d("450")));
    assert_eq!(t.fee(FeeKind::Multa), Some(d("350")));
    assert_eq!(t.sat_code(Concept::Water).clave_prod_serv, "10171501");
    assert_eq!(t.sat_code(Concept::Discount).clave_prod_serv, "10171501");
    // Export and read back: equal.
    let text = t.to_toml().expect("export");
    assert_eq!(Tariff::from_toml(&text).expect("re-read"), t);
}

#[test]
fn valid_from_accepts_a_toml_date_and_rejects_nonsense() {
    let t = Tariff::from_toml(&format!(
        "{}{BLOCKS}",
        HEAD.replace("\"2026-01-01\"", "2026-10-16")
    ))
    .expect("bare date");
    assert_eq!(
        t.valid_from,
        chrono::NaiveDate::from_ymd_opt(2026, 10, 16).expect("date")
    );
    let e = Tariff::from_toml(&format!(
        "{}{BLOCKS}",
        HEAD.replace("2026-01-01", "2026-13-01")
    ))
    .expect_err("month 13");
    let msg = e.to_string();
    assert!(msg.contains("valid_from"), "{msg}");
    assert!(msg.contains("AAAA-MM-DD"), "{msg}");
    assert!(msg.contains("line 5"), "{msg}");
}

#[test]
fn errors_name_the_field_of_each_new_table() {
    // Sewer with both keys, or none.
    let e = parse("", "[sewer]\npercent_of_water = 25\nper_m3 = 3\n").expect_err("both");
    assert_eq!(field_of(&e), "sewer");
    assert!(e.to_string().contains("no ambas"), "{e}");
    let e = parse("", "[treatment]\n").expect_err("none");
    assert_eq!(field_of(&e), "treatment");
    let e = parse("", "[treatment]\nper_m3 = -1\n").expect_err("negative");
    assert_eq!(field_of(&e), "treatment.per_m3");
    let e = parse("", "[sewer]\npercent_of_water = -5\n").expect_err("negative");
    assert_eq!(field_of(&e), "sewer.percent_of_water");
    // Discounts.
    let disc =
        |body: &str| format!("[[discounts]]\nprogram = \"inapam\"\nlabel = \"INAPAM\"\n{body}");
    let e = parse("", &disc("percent = 120\n")).expect_err("over 100 %");
    assert_eq!(field_of(&e), "discounts[1].percent");
    let e = parse("", &disc("percent = 50\nup_to_m3 = -1\n")).expect_err("negative m³");
    assert_eq!(field_of(&e), "discounts[1].up_to_m3");
    let e = parse(
        "",
        &format!("{}{}", disc("percent = 50\n"), disc("percent = 30\n")),
    )
    .expect_err("duplicate program");
    assert_eq!(field_of(&e), "discounts[2].program");
    let e = parse(
        "",
        "[[discounts]]\nprogram = \"\"\nlabel = \"x\"\npercent = 5\n",
    )
    .expect_err("empty program");
    assert_eq!(field_of(&e), "discounts[1].program");
    let e = parse(
        "",
        "[[discounts]]\nprogram = \"inapam\"\nlabel = \" \"\npercent = 5\n",
    )
    .expect_err("empty label");
    assert_eq!(field_of(&e), "discounts[1].label");
    // Recargos and fees.
    let e = parse("", "[recargos]\nmonthly_percent = -1.47\n").expect_err("negative");
    assert_eq!(field_of(&e), "recargos.monthly_percent");
    let e = parse("", "[fees]\nmulta = -350\n").expect_err("negative");
    assert_eq!(field_of(&e), "fees.multa");
    let e = parse("", "[fees]\nreconexion = -1\n").expect_err("negative");
    assert_eq!(field_of(&e), "fees.reconexion");
    // SAT codes.
    let e = parse(
        "",
        "[sat.sewer]\nclave_prod_serv = \"7215\"\nclave_unidad = \"E48\"\n",
    )
    .expect_err("short code");
    assert_eq!(field_of(&e), "sat.sewer.clave_prod_serv");
    let e = parse(
        "",
        "[sat.multa]\nclave_prod_serv = \"01010101\"\nclave_unidad = \"actividad\"\n",
    )
    .expect_err("bad unit");
    assert_eq!(field_of(&e), "sat.multa.clave_unidad");
}

#[test]
fn syntax_level_errors_point_at_the_line() {
    // An unknown tax treatment: Spanish message, with line and column.
    let e = parse("", "[taxes]\nwater = \"iva8\"\n").expect_err("iva8");
    let msg = e.to_string();
    assert!(matches!(e, BillingError::Syntax(_)), "{e:?}");
    assert!(msg.contains("iva8"), "{msg}");
    assert!(msg.contains("iva16, iva0, exento, no_objeto"), "{msg}");
    assert!(msg.contains("line"), "{msg}");
    // Unknown keys in every new table are rejected (typos do not pass silently).
    for (table, key, offending) in [
        ("[taxes]", "agua = \"iva0\"", "agua"),
        ("[sewer]", "porcentaje = 25", "porcentaje"),
        ("[recargos]", "percent = 1.47", "percent"),
        ("[fees]", "corte = 100", "corte"),
        ("[sat.agua]", "clave_prod_serv = \"10171500\"", "agua"),
        ("[[discounts]]", "programa = \"inapam\"", "programa"),
    ] {
        let e = parse("", &format!("{table}\n{key}\n")).expect_err(table);
        assert!(matches!(e, BillingError::Syntax(_)), "{table}: {e:?}");
        assert!(e.to_string().contains(offending), "{table}: {e}");
        assert!(e.to_string().contains("line"), "{table}: {e}");
    }
    let e = parse("period = \"trimestral\"", "").expect_err("period");
    assert!(e.to_string().contains("trimestral"), "{e}");
    assert!(e.to_string().contains("mensual"), "{e}");
}

#[test]
fn tax_treatment_codes() {
    for t in TaxTreatment::ALL {
        assert_eq!(t.as_str().parse::<TaxTreatment>().expect("code"), *t);
        assert!(!t.label_es().is_empty());
    }
    assert!("IVA16".parse::<TaxTreatment>().is_ok());
    assert!("iva8".parse::<TaxTreatment>().is_err());
}
