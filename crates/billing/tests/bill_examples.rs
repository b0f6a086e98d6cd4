//! Worked examples of whole bills. Every expected amount is computed by hand in
//! the comments, never copied from the code's output.

use billing::{
    Bill, BillInput, BillLine, BillingError, Concept, FeeKind, Metering, Period, Tariff,
    TaxTreatment, compute_bill,
};
use domain::Money;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal literal")
}

fn pesos(s: &str) -> Money {
    Money::parse(s).expect("money literal")
}

/// Doméstico media: base $120.00 covers 10 m³; 10–20 m³ $15.50; 20–30 $22.75;
/// over 30 $31.20; sewer 25 % of water; treatment $3.10/m³; INAPAM 50 % of the
/// first 20 m³; recargos 1.47 %; reconexión $450; multa $350.
fn media(extra_top: &str, extra_tables: &str) -> Tariff {
    Tariff::from_toml(&format!(
        r#"
name = "Doméstico media 2026"
use_type = "domestico"
class = "media"
valid_from = "2026-01-01"
block_mode = "incremental"
volume = "decimal"
flat_fee = 250.00
{extra_top}

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

[[discounts]]
program = "inapam"
label = "Descuento INAPAM (adulto mayor)"
percent = 50
up_to_m3 = 20

[recargos]
monthly_percent = 1.47

[fees]
reconexion = 450.00
multa = 350.00
{extra_tables}
"#
    ))
    .expect("valid tariff")
}

/// Comercial general: no base; 0–20 m³ $24.50; > 20 $31.80; sewer 20 %;
/// recargos 1.47 %; reconexión $650. Non-domestic → IVA 16 % by default.
fn comercial() -> Tariff {
    Tariff::from_toml(
        r#"
name = "Comercial general 2026"
use_type = "comercial"
class = "general"
valid_from = "2026-01-01"
block_mode = "incremental"
volume = "decimal"
minimum_charge = 80.00
[[blocks]]
up_to_m3 = 20
price_per_m3 = 24.50
[[blocks]]
price_per_m3 = 31.80
[sewer]
percent_of_water = 20
[recargos]
monthly_percent = 1.47
[fees]
reconexion = 650.00
"#,
    )
    .expect("valid tariff")
}

fn october() -> Period {
    Period::month(2026, 10).expect("october")
}

fn input<'a>(tariffs: &'a [Tariff], m3: &str) -> BillInput<'a> {
    BillInput {
        tariffs,
        period: october(),
        service_days: None,
        metering: Metering::Metered(d(m3)),
        estimated: false,
        programs: &[],
        overdue_balance: Money::ZERO,
        fees: &[],
    }
}

fn line(bill: &Bill, concept: Concept) -> &BillLine {
    bill.lines
        .iter()
        .find(|l| l.concept == concept)
        .unwrap_or_else(|| panic!("no {concept} line in {bill:#?}"))
}

fn amounts(bill: &Bill) -> Vec<(Concept, Money)> {
    bill.lines.iter().map(|l| (l.concept, l.amount)).collect()
}

fn assert_totals_add_up(bill: &Bill) {
    let sum: Money = bill.lines.iter().map(|l| l.amount).sum();
    let tax: Money = bill.lines.iter().map(|l| l.tax_amount).sum();
    assert_eq!(bill.subtotal, sum);
    assert_eq!(bill.tax, tax);
    assert_eq!(bill.total, bill.subtotal + bill.tax);
    for l in &bill.lines {
        let steps: Money = l.steps.iter().map(|s| s.amount).sum();
        assert_eq!(steps, l.amount, "steps of {:?}", l.concept);
    }
}

#[test]
fn domestic_water_sewer_and_treatment_at_21_m3() {
    let t = [media("", "")];
    let bill = compute_bill(&input(&t, "21")).expect("bill");
    // Water: 120 + 10 × 15.50 (155) + 1 × 22.75 = 297.75
    // Sewer: 25 % × 297.75 = 74.4375 → 74.44
    // Treatment: 21 × 3.10 = 65.10
    // Subtotal 437.29; domestic → IVA 0 % on everything → tax 0.
    assert_eq!(
        amounts(&bill),
        vec![
            (Concept::Water, pesos("297.75")),
            (Concept::Sewer, pesos("74.44")),
            (Concept::Treatment, pesos("65.10")),
        ]
    );
    assert_eq!(bill.subtotal, pesos("437.29"));
    assert_eq!(bill.tax, Money::ZERO);
    assert_eq!(bill.total, pesos("437.29"));
    assert_eq!(bill.billed_m3, d("21"));
    assert_eq!(bill.tariffs, vec!["Doméstico media 2026".to_owned()]);
    let water = line(&bill, Concept::Water);
    assert_eq!(water.tax, TaxTreatment::Iva0);
    assert_eq!(water.quantity, d("21"));
    assert_eq!(water.unit, "m³");
    assert_eq!(water.sat.clave_prod_serv, "10171500");
    assert_eq!(water.sat.clave_unidad, "MTQ");
    // Steps: base 120, block 10–20 155.00, block 20–30 22.75.
    let steps: Vec<Money> = water.steps.iter().map(|s| s.amount).collect();
    assert_eq!(
        steps,
        vec![pesos("120.00"), pesos("155.00"), pesos("22.75")]
    );
    let treatment = line(&bill, Concept::Treatment);
    assert_eq!(treatment.unit, "m³");
    assert_eq!(treatment.unit_price, Some(d("3.10")));
    assert_eq!(treatment.sat.clave_prod_serv, "72151801");
    assert_eq!(treatment.sat.clave_unidad, "E48");
    assert_eq!(line(&bill, Concept::Sewer).sat.clave_prod_serv, "72151802");
    assert_totals_add_up(&bill);
}

#[test]
fn sewer_per_m3_and_zero_lines_omitted() {
    let t = [Tariff::from_toml(
        &media("", "")
            .to_toml()
            .expect("toml")
            .replace("percent_of_water = \"25\"", "per_m3 = \"2.50\""),
    )
    .expect("sewer per m³")];
    assert_eq!(t[0].sewer.as_ref().and_then(|s| s.per_m3), Some(d("2.50")));
    let bill = compute_bill(&input(&t, "12.5")).expect("bill");
    // Water: 120 + 2.5 × 15.50 (38.75) = 158.75
    // Sewer: 12.5 × 2.50 = 31.25; treatment 12.5 × 3.10 = 38.75
    assert_eq!(
        amounts(&bill),
        vec![
            (Concept::Water, pesos("158.75")),
            (Concept::Sewer, pesos("31.25")),
            (Concept::Treatment, pesos("38.75")),
        ]
    );
    // 0 m³: water is the base (120.00, kept); sewer and treatment per m³ are 0
    // and their lines are omitted.
    let t = [media("", "").clone()];
    let zero = compute_bill(&input(&t, "0")).expect("bill");
    // sewer 25 % × 120 = 30.00 stays; treatment 0 × 3.10 is omitted.
    assert_eq!(
        amounts(&zero),
        vec![
            (Concept::Water, pesos("120.00")),
            (Concept::Sewer, pesos("30.00"))
        ]
    );
}

#[test]
fn inapam_discount_on_the_first_20_m3() {
    let t = [media("", "")];
    let programs = ["inapam".to_owned()];
    let mut i = input(&t, "21");
    i.programs = &programs;
    let bill = compute_bill(&i).expect("bill");
    // Water of the first 20 m³: 120 + 10 × 15.50 = 275.00; 50 % = 137.50.
    // Subtotal: 297.75 + 74.44 + 65.10 − 137.50 = 299.79.
    let disc = line(&bill, Concept::Discount);
    assert_eq!(disc.amount, pesos("-137.50"));
    assert_eq!(disc.description, "Descuento INAPAM (adulto mayor)");
    assert_eq!(disc.tax, TaxTreatment::Iva0); // takes the water's treatment
    assert_eq!(disc.sat, line(&bill, Concept::Water).sat); // and its SAT codes
    assert_eq!(bill.subtotal, pesos("299.79"));
    assert_eq!(bill.total, pesos("299.79"));
    // Not registered → no discount.
    let bill = compute_bill(&input(&t, "21")).expect("bill");
    assert!(bill.lines.iter().all(|l| l.concept != Concept::Discount));
    // Below the limit: 8 m³ → water is the base 120.00 → 50 % = 60.00.
    let mut i = input(&t, "8");
    i.programs = &programs;
    let bill = compute_bill(&i).expect("bill");
    assert_eq!(line(&bill, Concept::Discount).amount, pesos("-60.00"));
    assert_totals_add_up(&bill);
}

#[test]
fn discount_also_on_sewer_and_treatment_when_configured() {
    let text = media("", "").to_toml().expect("toml").replace(
        "percent = \"50\"\n",
        "percent = \"50\"\napplies_to_sewer = true\n",
    );
    let t = [Tariff::from_toml(&text).expect("valid")];
    assert!(t[0].discounts[0].applies_to_sewer);
    let programs = ["INAPAM".to_owned()]; // registration match ignores case
    let mut i = input(&t, "21");
    i.programs = &programs;
    let bill = compute_bill(&i).expect("bill");
    // Water discount 137.50 of 297.75 (as above). The same proportion on
    // sewer: 74.44 × 137.50 / 297.75 = 34.376… → 34.38;
    // treatment: 65.10 × 137.50 / 297.75 = 30.062… → 30.06.
    let discounts: Vec<Money> = bill
        .lines
        .iter()
        .filter(|l| l.concept == Concept::Discount)
        .map(|l| l.amount)
        .collect();
    assert_eq!(
        discounts,
        vec![pesos("-137.50"), pesos("-34.38"), pesos("-30.06")]
    );
    // 437.29 − 137.50 − 34.38 − 30.06 = 235.35
    assert_eq!(bill.total, pesos("235.35"));
    assert_totals_add_up(&bill);
}

#[test]
fn non_domestic_lines_carry_16_percent_iva() {
    let t = [comercial()];
    let bill = compute_bill(&input(&t, "25")).expect("bill");
    // Water: 20 × 24.50 (490.00) + 5 × 31.80 (159.00) = 649.00; IVA 103.84.
    // Sewer: 20 % × 649.00 = 129.80; IVA 20.768 → 20.77.
    // Subtotal 778.80; tax 124.61; total 903.41.
    let water = line(&bill, Concept::Water);
    assert_eq!(water.amount, pesos("649.00"));
    assert_eq!(water.tax, TaxTreatment::Iva16);
    assert_eq!(water.tax_amount, pesos("103.84"));
    let sewer = line(&bill, Concept::Sewer);
    assert_eq!(sewer.amount, pesos("129.80"));
    assert_eq!(sewer.tax_amount, pesos("20.77"));
    assert_eq!(bill.subtotal, pesos("778.80"));
    assert_eq!(bill.tax, pesos("124.61"));
    assert_eq!(bill.total, pesos("903.41"));
    assert_totals_add_up(&bill);
}

#[test]
fn domestic_bill_mixes_0_and_16_percent_lines() {
    let t = [media("", "")];
    let fees = [FeeKind::Reconexion];
    let mut i = input(&t, "21");
    i.fees = &fees;
    let bill = compute_bill(&i).expect("bill");
    // Water/sewer/treatment IVA 0 % (tax 0) as in the first example: 437.29.
    // Reconexión 450.00 at 16 % → tax 72.00.
    // Subtotal 887.29; tax 72.00; total 959.29.
    let rec = line(&bill, Concept::Reconexion);
    assert_eq!(rec.amount, pesos("450.00"));
    assert_eq!(rec.tax, TaxTreatment::Iva16);
    assert_eq!(rec.tax_amount, pesos("72.00"));
    assert_eq!(rec.unit, "servicio");
    assert_eq!(rec.quantity, Decimal::ONE);
    assert_eq!(rec.unit_price, Some(d("450.00")));
    assert_eq!(rec.sat.clave_prod_serv, "72151800");
    assert_eq!(rec.sat.clave_unidad, "E48");
    assert_eq!(line(&bill, Concept::Water).tax_amount, Money::ZERO);
    assert_eq!(bill.subtotal, pesos("887.29"));
    assert_eq!(bill.tax, pesos("72.00"));
    assert_eq!(bill.total, pesos("959.29"));
    assert_totals_add_up(&bill);
}

#[test]
fn multa_fee_and_missing_fee_error() {
    let t = [media("", "")];
    let fees = [FeeKind::Multa];
    let mut i = input(&t, "10");
    i.fees = &fees;
    let bill = compute_bill(&i).expect("bill");
    // Water 120.00 + sewer 30.00 + treatment 31.00 (10 × 3.10) = 181.00 at 0 %;
    // multa 350.00 + IVA 56.00; total 181.00 + 350.00 + 56.00 = 587.00.
    let multa = line(&bill, Concept::Multa);
    assert_eq!(multa.tax_amount, pesos("56.00"));
    assert_eq!(multa.sat.clave_prod_serv, "01010101");
    assert_eq!(multa.sat.clave_unidad, "ACT");
    assert_eq!(bill.total, pesos("587.00"));
    // The commercial tariff has no multa.
    let t = [comercial()];
    let mut i = input(&t, "10");
    i.fees = &fees;
    let e = compute_bill(&i).expect_err("no multa in tariff");
    assert_eq!(
        e,
        BillingError::MissingFee {
            tariff: "Comercial general 2026".into(),
            fee: FeeKind::Multa
        }
    );
    assert!(e.to_string().contains("multa"), "{e}");
}

#[test]
fn exento_and_no_objeto_lines() {
    let t = [media(
        "",
        "[taxes]\nwater = \"exento\"\nsewer = \"no_objeto\"\ntreatment = \"iva16\"\n",
    )];
    let bill = compute_bill(&input(&t, "21")).expect("bill");
    let water = line(&bill, Concept::Water);
    assert_eq!(water.tax, TaxTreatment::Exento);
    assert_eq!(water.tax_amount, Money::ZERO);
    assert_eq!(water.tax.objeto_imp(), "02");
    assert_eq!(water.tax.tipo_factor(), Some("Exento"));
    assert_eq!(water.tax.rate(), None);
    let sewer = line(&bill, Concept::Sewer);
    assert_eq!(sewer.tax, TaxTreatment::NoObjeto);
    assert_eq!(sewer.tax_amount, Money::ZERO);
    assert_eq!(sewer.tax.objeto_imp(), "01");
    assert_eq!(sewer.tax.tipo_factor(), None);
    // Treatment 65.10 at 16 % = 10.416 → 10.42; the only tax of the bill.
    assert_eq!(line(&bill, Concept::Treatment).tax_amount, pesos("10.42"));
    assert_eq!(bill.tax, pesos("10.42"));
    assert_eq!(bill.total, pesos("447.71")); // 437.29 + 10.42
    assert_eq!(TaxTreatment::Iva0.objeto_imp(), "02");
    assert_eq!(TaxTreatment::Iva0.tipo_factor(), Some("Tasa"));
    assert_eq!(TaxTreatment::Iva0.rate(), Some(Decimal::ZERO));
    assert_eq!(TaxTreatment::Iva16.rate(), Some(d("0.16")));
    assert_eq!(TaxTreatment::Iva16.label_es(), "IVA 16 %");
}

#[test]
fn recargos_on_the_overdue_balance() {
    let t = [media("", "")];
    let mut i = input(&t, "10");
    i.overdue_balance = pesos("1234.56");
    let bill = compute_bill(&i).expect("bill");
    // 1,234.56 × 1.47 % = 18.148… → 18.15, domestic → IVA 0 %.
    let r = line(&bill, Concept::Recargos);
    assert_eq!(r.amount, pesos("18.15"));
    assert_eq!(r.tax, TaxTreatment::Iva0);
    assert_eq!(r.sat.clave_prod_serv, "01010101");
    // Non-domestic: 1,000.00 × 1.47 % = 14.70; IVA 16 % = 2.352 → 2.35.
    let t = [comercial()];
    let mut i = input(&t, "10");
    i.overdue_balance = pesos("1000.00");
    let bill = compute_bill(&i).expect("bill");
    let r = line(&bill, Concept::Recargos);
    assert_eq!(r.amount, pesos("14.70"));
    assert_eq!(r.tax_amount, pesos("2.35"));
    // No overdue balance (or a credit) → no recargos line.
    let mut i = input(&t, "10");
    i.overdue_balance = pesos("-50.00");
    let bill = compute_bill(&i).expect("bill");
    assert!(bill.lines.iter().all(|l| l.concept != Concept::Recargos));
}

#[test]
fn minimum_charge_and_flat_fee_on_the_bill() {
    // Comercial: 3 m³ × 24.50 = 73.50 < minimum 80.00 → adjustment 6.50.
    // Sewer 20 % of 80.00 = 16.00. IVA: 12.80 + 2.56.
    let t = [comercial()];
    let bill = compute_bill(&input(&t, "3")).expect("bill");
    let water = line(&bill, Concept::Water);
    assert_eq!(water.amount, pesos("80.00"));
    assert_eq!(water.steps.last().map(|s| s.amount), Some(pesos("6.50")));
    assert_eq!(line(&bill, Concept::Sewer).amount, pesos("16.00"));
    assert_eq!(bill.tax, pesos("15.36"));
    // Unmetered toma: flat fee 250.00; sewer 25 % = 62.50; treatment per m³
    // on 0 m³ is omitted.
    let t = [media("", "")];
    let mut i = input(&t, "0");
    i.metering = Metering::Unmetered;
    let bill = compute_bill(&i).expect("bill");
    assert_eq!(
        amounts(&bill),
        vec![
            (Concept::Water, pesos("250.00")),
            (Concept::Sewer, pesos("62.50"))
        ]
    );
    let water = line(&bill, Concept::Water);
    assert_eq!(water.unit, "servicio");
    assert_eq!(water.quantity, Decimal::ONE);
    assert!(
        water.description.contains("cuota fija"),
        "{}",
        water.description
    );
}

/// Version 2, from 16 Oct 2026: base $130.00 (10 m³); 10–20 $16.80; 20–30
/// $24.60; > 30 $33.70; sewer 25 %; treatment $3.40/m³.
fn media_v2(valid_from: &str) -> Tariff {
    Tariff::from_toml(&format!(
        r#"
name = "Doméstico media 2026-B"
use_type = "domestico"
class = "media"
valid_from = {valid_from}
block_mode = "incremental"
volume = "decimal"
[base]
amount = 130.00
covers_m3 = 10
[[blocks]]
up_to_m3 = 10
price_per_m3 = 0
[[blocks]]
up_to_m3 = 20
price_per_m3 = 16.80
[[blocks]]
up_to_m3 = 30
price_per_m3 = 24.60
[[blocks]]
price_per_m3 = 33.70
[sewer]
percent_of_water = 25
[treatment]
per_m3 = 3.40
"#
    ))
    .expect("valid v2")
}

#[test]
fn tariff_change_in_the_middle_of_october() {
    // A bare TOML date works as well as a quoted one.
    let v2 = media_v2("2026-10-16");
    let v0 = Tariff {
        name: "Doméstico media 2025".into(),
        valid_from: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
        ..media("", "")
    };
    // Any order; 2025 version ends before October and is not used.
    let t = [v2, media("", ""), v0];
    let bill = compute_bill(&input(&t, "21")).expect("bill");
    // October 2026 has 31 days: old version 1–15 Oct (15 days), new one
    // 16–31 Oct (16 days).
    // Old water 297.75 (first example); new water 130 + 10 × 16.80 + 1 × 24.60
    // = 322.60.
    // Water: 297.75 × 15/31 = 144.0725… → 144.07; 322.60 × 16/31 = 166.503… → 166.50;
    //        line 310.57.
    // Sewer: old 74.44, new 25 % × 322.60 = 80.65;
    //        74.44 × 15/31 = 36.019… → 36.02; 80.65 × 16/31 = 41.625… → 41.63; 77.65.
    // Treatment: old 65.10, new 21 × 3.40 = 71.40;
    //        65.10 × 15/31 = 31.50; 71.40 × 16/31 = 36.851… → 36.85; 68.35.
    // Total 310.57 + 77.65 + 68.35 = 456.57.
    assert_eq!(
        amounts(&bill),
        vec![
            (Concept::Water, pesos("310.57")),
            (Concept::Sewer, pesos("77.65")),
            (Concept::Treatment, pesos("68.35")),
        ]
    );
    assert_eq!(bill.total, pesos("456.57"));
    assert_eq!(
        bill.tariffs,
        vec![
            "Doméstico media 2026".to_owned(),
            "Doméstico media 2026-B".to_owned()
        ]
    );
    let water = line(&bill, Concept::Water);
    assert_eq!(water.steps.len(), 2);
    assert!(
        water.steps[0]
            .description
            .contains("Doméstico media 2026»: 15 de 31 días"),
        "{}",
        water.steps[0].description
    );
    assert!(water.steps[1].description.contains("16 de 31 días"));
    assert_eq!(water.steps[0].amount, pesos("144.07"));
    assert_eq!(water.steps[1].amount, pesos("166.50"));
    assert_totals_add_up(&bill);

    // Change on the 1st: only the new version applies, no proration.
    let t = [media("", ""), media_v2("\"2026-10-01\"")];
    let bill = compute_bill(&input(&t, "21")).expect("bill");
    assert_eq!(line(&bill, Concept::Water).amount, pesos("322.60"));
    assert_eq!(bill.tariffs, vec!["Doméstico media 2026-B".to_owned()]);
}

#[test]
fn no_tariff_in_force_is_an_error_in_spanish() {
    let t = [media_v2("2026-10-16")];
    let e = compute_bill(&input(&t, "21")).expect_err("nothing in force on 1 Oct");
    let msg = e.to_string();
    assert!(msg.contains("domestico"), "{msg}");
    assert!(msg.contains("media"), "{msg}");
    assert!(msg.contains("1 de octubre de 2026"), "{msg}");
    let e = compute_bill(&input(&[], "21")).expect_err("no tariffs");
    assert_eq!(e, BillingError::NoTariffs);
    // Versions of different classes are a caller error.
    let other = Tariff {
        class: "popular".into(),
        valid_from: chrono::NaiveDate::from_ymd_opt(2026, 10, 16).expect("date"),
        ..media("", "")
    };
    let t = [media("", ""), other];
    let e = compute_bill(&input(&t, "21")).expect_err("mixed classes");
    assert!(e.to_string().contains("tarifas"), "{e}");
}

#[test]
fn partial_service_prorates_the_fixed_parts() {
    // Contract started 17 Oct: 15 days of service of 31; factor 15/30 = 0.5.
    // Base 60.00 covering 5 m³; block limits 5, 10, 15 (prices unchanged).
    // 12 m³: base 60.00 + 5 × 15.50 (77.50) + 2 × 22.75 (45.50) = 183.00.
    // Sewer 25 % = 45.75; treatment 12 × 3.10 = 37.20 (not a fixed part).
    // Total 265.95.
    let t = [media("", "")];
    let mut i = input(&t, "12");
    i.service_days = Some(15);
    let bill = compute_bill(&i).expect("bill");
    assert_eq!(
        amounts(&bill),
        vec![
            (Concept::Water, pesos("183.00")),
            (Concept::Sewer, pesos("45.75")),
            (Concept::Treatment, pesos("37.20")),
        ]
    );
    assert_eq!(bill.total, pesos("265.95"));
    let water = line(&bill, Concept::Water);
    assert!(
        water.description.contains("15 días de servicio"),
        "{}",
        water.description
    );
    assert_totals_add_up(&bill);
    // Unmetered, 16 days: flat fee 250.00 × 16/30 = 133.333… → 133.33;
    // sewer 25 % = 33.3325 → 33.33.
    let mut i = input(&t, "0");
    i.metering = Metering::Unmetered;
    i.service_days = Some(16);
    let bill = compute_bill(&i).expect("bill");
    assert_eq!(line(&bill, Concept::Water).amount, pesos("133.33"));
    assert_eq!(line(&bill, Concept::Sewer).amount, pesos("33.33"));
    // Minimum charge too: comercial, 10 days → minimum 80 × 10/30 = 26.666…;
    // 1 m³ × 24.50 = 24.50 → adjusted to 26.67.
    let t = [comercial()];
    let mut i = input(&t, "1");
    i.service_days = Some(10);
    let bill = compute_bill(&i).expect("bill");
    assert_eq!(line(&bill, Concept::Water).amount, pesos("26.67"));
    // The whole period (or more) is not partial; more days than the period is an error.
    let t = [media("", "")];
    let mut i = input(&t, "21");
    i.service_days = Some(31);
    assert_eq!(compute_bill(&i).expect("bill").total, pesos("437.29"));
    i.service_days = Some(32);
    let e = compute_bill(&i).expect_err("32 days in October");
    assert!(e.to_string().contains("service_days"), "{e}");
}

#[test]
fn estimated_consumption_is_marked() {
    // Average of the last 6 valid periods, see consumption tests: 20.667 m³.
    // Water: 120 + 155.00 + 0.667 × 22.75 (15.17425 → 15.17) = 290.17.
    let t = [media("", "")];
    let mut i = input(&t, "20.667");
    i.estimated = true;
    let bill = compute_bill(&i).expect("bill");
    assert!(bill.estimated);
    let water = line(&bill, Concept::Water);
    assert!(water.estimated);
    assert!(
        water.description.contains("estimado"),
        "{}",
        water.description
    );
    assert_eq!(water.amount, pesos("290.17"));
    assert!(!compute_bill(&input(&t, "20.667")).expect("bill").lines[0].estimated);
}

#[test]
fn negative_consumption_is_not_billed() {
    let t = [media("", "")];
    let e = compute_bill(&input(&t, "-3")).expect_err("negative");
    assert!(e.to_string().contains("consumo"), "{e}");
}

#[test]
fn bill_serializes_money_and_decimals_as_strings() {
    let t = [media("", "")];
    let fees = [FeeKind::Reconexion];
    let mut i = input(&t, "21");
    i.fees = &fees;
    let bill = compute_bill(&i).expect("bill");
    let json = serde_json::to_value(&bill).expect("json");
    assert_eq!(json["total"], "959.29");
    assert_eq!(json["billed_m3"], "21");
    assert_eq!(json["period"]["start"], "2026-10-01");
    assert_eq!(json["period"]["end"], "2026-11-01");
    assert_eq!(json["lines"][0]["concept"], "agua");
    assert_eq!(json["lines"][0]["tax"], "iva0");
    assert_eq!(json["lines"][3]["concept"], "reconexion");
    assert_eq!(json["lines"][3]["tax_amount"], "72.00");
    assert_eq!(json["lines"][3]["sat"]["clave_prod_serv"], "72151800");
}

#[test]
fn period_parsing_and_labels() {
    let p: Period = "2026-10".parse().expect("period");
    assert_eq!(p, october());
    assert_eq!(p.days(), 31);
    assert_eq!(p.label_es(), "octubre 2026");
    assert_eq!("2028-02".parse::<Period>().expect("leap").days(), 29);
    assert_eq!(" 2026-02 ".parse::<Period>().expect("trim").days(), 28);
    let bim = Period::months(2026, 12, 2).expect("bimonthly");
    assert_eq!(bim.days(), 62); // December 31 + January 31
    assert_eq!(bim.label_es(), "diciembre 2026–enero 2027");
    assert_eq!(
        Period::months(2026, 9, 2).expect("sep-oct").label_es(),
        "septiembre–octubre 2026"
    );
    let odd = Period::new(
        chrono::NaiveDate::from_ymd_opt(2026, 10, 5).expect("date"),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 5).expect("date"),
    )
    .expect("period");
    assert_eq!(
        odd.label_es(),
        "del 5 de octubre de 2026 al 4 de noviembre de 2026"
    );
    for bad in [
        "2026/10",
        "26-10",
        "2026-1",
        "octubre",
        "2026-10-01",
        "abcd-ef",
    ] {
        let e = bad.parse::<Period>().expect_err(bad);
        assert!(e.to_string().contains("AAAA-MM"), "{bad}: {e}");
        assert!(e.to_string().contains("periodo"), "{bad}: {e}");
    }
    let e = "2026-13".parse::<Period>().expect_err("month 13");
    assert!(e.to_string().contains("entre 01 y 12"), "{e}");
    let e = "2026-00".parse::<Period>().expect_err("month 0");
    assert!(e.to_string().contains("entre 01 y 12"), "{e}");
    let e = "".parse::<Period>().expect_err("empty");
    assert!(e.to_string().contains("escribe el periodo"), "{e}");
    assert!(Period::month(2026, 13).is_err());
    assert!(Period::new(p.end, p.start).is_err());
}

#[test]
fn concept_codes() {
    for c in Concept::ALL {
        assert_eq!(c.as_str().parse::<Concept>().expect("code"), *c);
        assert!(!c.label_es().is_empty());
        assert_eq!(
            serde_json::to_string(c).expect("json"),
            format!("\"{}\"", c.as_str())
        );
    }
    assert_eq!(
        "water".parse::<Concept>().expect("tariff key"),
        Concept::Water
    );
    assert_eq!(Concept::Sewer.as_str(), "alcantarillado");
    assert_eq!(Concept::Treatment.as_str(), "saneamiento");
    assert!("luz".parse::<Concept>().is_err());
}
