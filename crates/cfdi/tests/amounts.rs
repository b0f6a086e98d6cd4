//! SAT's amount rules on built comprobantes: worked examples computed by hand, the
//! builder's refusals, and properties over random invoices.

use std::str::FromStr;

use cfdi::model::{ConceptoInput, Emisor, InformacionGlobal, ObjetoImp, Receptor, Tax, TipoFactor};
use cfdi::{Comprobante, ComprobanteBuilder, Error};
use chrono::{DateTime, FixedOffset};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal literal")
}

fn fecha() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-02T09:15:00-06:00").expect("date")
}

fn emisor() -> Emisor {
    Emisor {
        rfc: "EKU9003173C9".parse().expect("rfc"),
        nombre: "ESCUELA KEMPER URGATE".into(),
        regimen_fiscal: "601".into(),
    }
}

fn receptor() -> Receptor {
    Receptor {
        rfc: "CACX7605101P8".parse().expect("rfc"),
        nombre: "XOCHILT CASAS CHAVEZ".into(),
        domicilio_fiscal: "76146".into(),
        regimen_fiscal: "612".into(),
        uso_cfdi: "G03".into(),
    }
}

fn concepto(
    clave: &str,
    cantidad: &str,
    valor: &str,
    descuento: Option<&str>,
    tax: Tax,
) -> ConceptoInput {
    ConceptoInput {
        clave_prod_serv: clave.into(),
        no_identificacion: None,
        cantidad: d(cantidad),
        clave_unidad: if clave == "10171500" { "MTQ" } else { "E48" }.into(),
        unidad: None,
        descripcion: "Servicio".into(),
        valor_unitario: d(valor),
        descuento: descuento.map(d),
        tax,
    }
}

#[test]
fn a_commercial_bill_worked_by_hand() {
    // Water 23 m³ × 18.35 = 422.05, discount 42.21 → base 379.84, IVA 16 % = 60.7744 → 60.77
    // Sewer 1 × 84.41 = 84.41, IVA 16 % = 13.5056 → 13.51
    // Treatment 1 × 63.31 exento (base only)
    // Recargos 1 × 10.00 no objeto
    let c = ComprobanteBuilder::ingreso(emisor(), receptor(), "76000", fecha())
        .concepto(concepto(
            "10171500",
            "23",
            "18.35",
            Some("42.21"),
            Tax::Iva16,
        ))
        .concepto(concepto("72151802", "1", "84.41", None, Tax::Iva16))
        .concepto(concepto("72151801", "1", "63.31", None, Tax::Exento))
        .concepto(concepto("01010101", "1", "10", None, Tax::NoObjeto))
        .build()
        .expect("build");
    assert_eq!(c.subtotal, d("579.77")); // 422.05 + 84.41 + 63.31 + 10.00
    assert_eq!(c.descuento, Some(d("42.21")));
    let i = c.impuestos.as_ref().expect("impuestos");
    assert_eq!(
        i.traslados.len(),
        2,
        "one node per Impuesto+TipoFactor+TasaOCuota"
    );
    assert_eq!(i.traslados[0].tipo_factor, TipoFactor::Tasa);
    assert_eq!(i.traslados[0].base, d("464.25")); // 379.84 + 84.41
    assert_eq!(i.traslados[0].importe, Some(d("74.28"))); // 60.77 + 13.51
    assert_eq!(i.traslados[1].tipo_factor, TipoFactor::Exento);
    assert_eq!(i.traslados[1].base, d("63.31"));
    assert_eq!(i.traslados[1].importe, None);
    assert_eq!(i.total_trasladados, Some(d("74.28")));
    assert_eq!(c.total, d("611.84")); // 579.77 − 42.21 + 74.28
    assert_eq!(c.conceptos[3].objeto_imp, ObjetoImp::No);
    assert!(c.conceptos[3].traslado.is_none());
    let xml = cfdi::xml::to_string(&c);
    assert!(xml.contains(r#"TasaOCuota="0.160000""#), "{xml}");
    assert!(xml.contains(r#"SubTotal="579.77""#) && xml.contains(r#"Total="611.84""#));
    assert!(xml.contains(r#"MetodoPago="PPD""#) && xml.contains(r#"FormaPago="99""#));
}

#[test]
fn a_domestic_bill_all_exento_has_no_total_trasladados() {
    let c = ComprobanteBuilder::ingreso(emisor(), receptor(), "76000", fecha())
        .paid("01")
        .concepto(concepto("10171500", "12", "9.8", None, Tax::Exento))
        .build()
        .expect("build");
    let i = c.impuestos.as_ref().expect("impuestos");
    assert_eq!(i.total_trasladados, None);
    assert_eq!(c.total, d("117.60"));
    let xml = cfdi::xml::to_string(&c);
    assert!(!xml.contains("TotalImpuestosTrasladados"), "{xml}");
    assert!(xml.contains(r#"MetodoPago="PUE""#) && xml.contains(r#"FormaPago="01""#));
}

#[test]
fn the_builder_refuses_what_sat_would_reject() {
    let base = || ComprobanteBuilder::ingreso(emisor(), receptor(), "76000", fecha());
    let water = || concepto("10171500", "10", "10", None, Tax::Exento);
    let cases: Vec<(ComprobanteBuilder, &str)> = vec![
        (base(), "Conceptos"),
        (base().paid("99").concepto(water()), "FormaPago"),
        (
            ComprobanteBuilder::ingreso(
                emisor(),
                Receptor::publico_en_general("76000"),
                "76000",
                fecha(),
            )
            .concepto(water()),
            "InformacionGlobal",
        ),
        (
            base()
                .informacion_global(InformacionGlobal {
                    periodicidad: "04".into(),
                    meses: "10".into(),
                    anio: 2026,
                })
                .concepto(water()),
            "InformacionGlobal",
        ),
        (
            ComprobanteBuilder::ingreso(
                emisor(),
                Receptor::publico_en_general("76000"),
                "76000",
                fecha(),
            )
            .informacion_global(InformacionGlobal {
                periodicidad: "04".into(),
                meses: "14".into(),
                anio: 2026,
            })
            .concepto(water()),
            "Meses",
        ),
        (
            ComprobanteBuilder::ingreso(
                emisor(),
                Receptor::publico_en_general("76000"),
                "76000",
                fecha(),
            )
            .informacion_global(InformacionGlobal {
                periodicidad: "04".into(),
                meses: "10".into(),
                anio: 2024,
            })
            .concepto(water()),
            "Año",
        ),
        (
            base().concepto(concepto("10171500", "0", "10", None, Tax::Exento)),
            "Cantidad",
        ),
        (
            base().concepto(concepto("10171500", "1", "10", Some("10.01"), Tax::Exento)),
            "Descuento",
        ),
        (
            base().concepto(concepto("1017150", "1", "10", None, Tax::Exento)),
            "ClaveProdServ",
        ),
        (
            base()
                .relacionados("01", vec!["no-es-uuid".into()])
                .concepto(water()),
            "UUID",
        ),
        (
            ComprobanteBuilder::ingreso(emisor(), receptor(), "7600", fecha()).concepto(water()),
            "LugarExpedicion",
        ),
    ];
    for (b, field) in cases {
        match b.build() {
            Err(Error::Invalid { field: f, reason }) => {
                assert_eq!(f, field, "{reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("expected Invalid {{ {field} }}, got {other:?}"),
        }
    }
}

#[test]
fn a_fully_discounted_concept_carries_no_tax() {
    let c = ComprobanteBuilder::ingreso(emisor(), receptor(), "76000", fecha())
        .concepto(concepto("10171500", "5", "10", Some("50"), Tax::Iva16))
        .concepto(concepto("72151802", "1", "20", None, Tax::Iva16))
        .build()
        .expect("build");
    assert_eq!(c.conceptos[0].objeto_imp, ObjetoImp::No);
    assert!(c.conceptos[0].traslado.is_none());
    assert_eq!(c.total, d("23.20"));
}

fn two_dp(x: Decimal) -> bool {
    x.normalize().scale() <= 2
}

fn arb_concept() -> impl Strategy<Value = ConceptoInput> {
    (
        1i64..=200_000,
        0u32..=3,
        0i64..=50_000_000,
        prop_oneof![Just(2u32), Just(6u32)],
        proptest::option::of(0i64..=100),
        prop_oneof![
            Just(Tax::Iva16),
            Just(Tax::Iva8),
            Just(Tax::Iva0),
            Just(Tax::Exento),
            Just(Tax::NoObjeto)
        ],
    )
        .prop_map(|(q, qs, v, vs, disc_pct, tax)| {
            let cantidad = Decimal::new(q, qs);
            let valor_unitario = Decimal::new(v, vs);
            let importe = (cantidad * valor_unitario).round_dp(2);
            ConceptoInput {
                clave_prod_serv: "10171500".into(),
                no_identificacion: None,
                cantidad,
                clave_unidad: "MTQ".into(),
                unidad: None,
                descripcion: "Agua".into(),
                valor_unitario,
                descuento: disc_pct.map(|p| (importe * Decimal::new(p, 2)).round_dp(2)),
                tax,
            }
        })
}

fn check(c: &Comprobante) -> Result<(), TestCaseError> {
    let sum_importe: Decimal = c.conceptos.iter().map(|k| k.importe).sum();
    prop_assert_eq!(c.subtotal, sum_importe);
    prop_assert!(two_dp(c.subtotal) && two_dp(c.total));
    let sum_desc: Decimal = c.conceptos.iter().filter_map(|k| k.descuento).sum();
    prop_assert_eq!(c.descuento.unwrap_or_default(), sum_desc);
    for k in &c.conceptos {
        prop_assert_eq!(k.objeto_imp == ObjetoImp::Si, k.traslado.is_some());
        if let Some(t) = &k.traslado {
            prop_assert_eq!(t.base, k.importe - k.descuento.unwrap_or_default());
            prop_assert!(t.base > Decimal::ZERO);
            if let (Some(rate), Some(imp)) = (t.tasa_o_cuota, t.importe) {
                // Inside SAT's bounds: within half a centavo of Base × TasaOCuota.
                prop_assert!((imp - t.base * rate).abs() <= Decimal::new(5, 3));
            }
        }
    }
    let any_subject = c.conceptos.iter().any(|k| k.objeto_imp == ObjetoImp::Si);
    prop_assert_eq!(c.impuestos.is_some(), any_subject);
    let mut trasladados = Decimal::ZERO;
    if let Some(i) = &c.impuestos {
        for g in &i.traslados {
            let members: Vec<_> = c
                .conceptos
                .iter()
                .filter_map(|k| k.traslado.as_ref())
                .filter(|t| t.tipo_factor == g.tipo_factor && t.tasa_o_cuota == g.tasa_o_cuota)
                .collect();
            prop_assert!(!members.is_empty());
            prop_assert_eq!(g.base, members.iter().map(|t| t.base).sum::<Decimal>());
            prop_assert_eq!(
                g.importe,
                members.iter().map(|t| t.importe).sum::<Option<Decimal>>()
            );
        }
        let keys: std::collections::BTreeSet<_> = i
            .traslados
            .iter()
            .map(|g| (g.tipo_factor, g.tasa_o_cuota))
            .collect();
        prop_assert_eq!(keys.len(), i.traslados.len(), "one node per group");
        let any_rate = i.traslados.iter().any(|g| g.importe.is_some());
        prop_assert_eq!(i.total_trasladados.is_some(), any_rate);
        trasladados = i.total_trasladados.unwrap_or_default();
        prop_assert_eq!(
            trasladados,
            i.traslados
                .iter()
                .filter_map(|g| g.importe)
                .sum::<Decimal>()
        );
    }
    prop_assert_eq!(
        c.total,
        c.subtotal - c.descuento.unwrap_or_default() + trasladados
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn totals_are_consistent_to_the_centavo(conceptos in proptest::collection::vec(arb_concept(), 1..25)) {
        let mut b = ComprobanteBuilder::ingreso(emisor(), receptor(), "76000", fecha());
        for k in conceptos {
            b = b.concepto(k);
        }
        let c = b.build().expect("valid input builds");
        check(&c)?;
        // The XML carries at most 6 decimals anywhere and TasaOCuota with exactly 6.
        let xml = cfdi::xml::to_string(&c);
        for part in xml.split('"') {
            if let Some((_, frac)) = part.split_once('.')
                && part.chars().all(|ch| ch.is_ascii_digit() || ch == '.')
            {
                prop_assert!(frac.len() <= 6, "{}", part);
            }
        }
        if c.impuestos.iter().flat_map(|i| &i.traslados).any(|g| g.tasa_o_cuota.is_some()) {
            prop_assert!(xml.contains("TasaOCuota=\"0."));
            prop_assert!(!xml.contains("TasaOCuota=\"0.16\""));
        }
    }
}
