//! Complemento de Pagos 2.0: the fixture's payment sample reproduced from its inputs, a
//! chain of three partial payments (XSD, SAT's cadena, sello), and refusals.

mod common;

use std::str::FromStr;

use cfdi::Error;
use cfdi::model::{Emisor, Impuesto, Receptor, TipoFactor, Traslado};
use cfdi::pagos::{self, DoctoInput, PagoInput};
use chrono::{DateTime, NaiveDateTime};
use common::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal literal")
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
        rfc: "COSC8001137NA".parse().expect("rfc"),
        nombre: "CARLOS CORTES SOTO".into(),
        domicilio_fiscal: "52000".into(),
        regimen_fiscal: "605".into(),
        uso_cfdi: "G03".into(),
    }
}

fn iva16(base: &str, importe: &str) -> Traslado {
    Traslado {
        base: d(base),
        impuesto: Impuesto::Iva,
        tipo_factor: TipoFactor::Tasa,
        tasa_o_cuota: Some(d("0.16")),
        importe: Some(d(importe)),
    }
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").expect("date")
}

#[test]
fn the_fixture_payment_is_reproduced_from_its_inputs() {
    let c = pagos::comprobante(
        emisor(),
        receptor(),
        "52000",
        DateTime::parse_from_rfc3339("2023-06-13T14:15:16-06:00").expect("date"),
        None,
        vec![PagoInput {
            fecha_pago: local("2023-06-12T17:18:19"),
            forma_de_pago: "03".into(),
            monto: d("15000.00"),
            num_operacion: Some("963852".into()),
            doctos: vec![
                DoctoInput {
                    id_documento: "00000000-1111-2222-3333-00000000000A".into(),
                    serie: None,
                    folio: None,
                    num_parcialidad: 2,
                    imp_saldo_ant: d("12000.00"),
                    imp_pagado: d("12000.00"),
                    invoice_total: d("12000.00"),
                    invoice_traslados: vec![iva16("10344.83", "1655.17")],
                },
                DoctoInput {
                    id_documento: "00000000-1111-2222-3333-00000000000B".into(),
                    serie: None,
                    folio: None,
                    num_parcialidad: 1,
                    imp_saldo_ant: d("10000.00"),
                    imp_pagado: d("3000.00"),
                    invoice_total: d("10000.00"),
                    invoice_traslados: vec![iva16("8620.69", "1379.31")],
                },
            ],
        }],
    )
    .expect("build");
    assert_eq!(c.receptor.uso_cfdi, "CP01");
    let xml = cfdi::xml::to_string(&c);
    assert!(
        xml.contains(r#"SubTotal="0""#) && xml.contains(r#"Total="0""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"Moneda="XXX""#)
            && !xml.contains("FormaPago=")
            && !xml.contains("MetodoPago=")
    );

    // Every numeric value of the fixture, compared by value.
    let Some(fx) = fixtures() else { return };
    let sample = std::fs::read_to_string(fx.join("samples/cfdi40-pago20-EKU9003173C9-sellado.xml"))
        .expect("read sample");
    let values = |doc: &str, name: &str| -> Vec<Decimal> {
        let needle = format!(" {name}=\"");
        doc.match_indices(&needle)
            .map(|(i, _)| {
                let start = i + needle.len();
                let end = doc[start..].find('"').expect("quote") + start;
                d(&doc[start..end])
            })
            .collect()
    };
    for name in [
        "MontoTotalPagos",
        "TotalTrasladosBaseIVA16",
        "TotalTrasladosImpuestoIVA16",
        "Monto",
        "ImpSaldoAnt",
        "ImpPagado",
        "ImpSaldoInsoluto",
        "BaseDR",
        "ImporteDR",
        "BaseP",
        "ImporteP",
        "NumParcialidad",
    ] {
        assert_eq!(values(&xml, name), values(&sample, name), "{name}");
    }
}

#[test]
fn three_partial_payments_chain_their_balances() {
    let Some(fx) = fixtures_and_tools() else {
        return;
    };
    let csd = eku_csd(&fx);
    let dir = tempfile::tempdir().expect("tmp");
    // An invoice of 1,160.00 (1,000.00 + IVA 160.00) paid 400 + 400 + 360.
    let total = d("1160.00");
    let mut saldo = total;
    let mut files = Vec::new();
    let mut paid_base = Decimal::ZERO;
    for (n, amount) in ["400.00", "400.00", "360.00"].iter().enumerate() {
        let pagado = d(amount);
        let c = pagos::comprobante(
            emisor(),
            receptor(),
            "76000",
            DateTime::parse_from_rfc3339("2026-11-20T10:00:00-06:00").expect("date")
                + chrono::Duration::days(n as i64),
            Some(("P".into(), format!("{}", n + 1))),
            vec![PagoInput {
                fecha_pago: local("2026-11-19T18:00:00") + chrono::Duration::days(n as i64),
                forma_de_pago: "01".into(),
                monto: pagado,
                num_operacion: None,
                doctos: vec![DoctoInput {
                    id_documento: "6F35D3B5-3651-5370-BC2C-14CDBE384CD7".into(),
                    serie: Some("A".into()),
                    folio: Some("1001".into()),
                    num_parcialidad: n as u32 + 1,
                    imp_saldo_ant: saldo,
                    imp_pagado: pagado,
                    invoice_total: total,
                    invoice_traslados: vec![iva16("1000.00", "160.00")],
                }],
            }],
        )
        .expect("build");
        let dr = &c.pagos.as_ref().expect("pagos").pagos[0].doctos[0];
        assert_eq!(dr.imp_saldo_ant - dr.imp_pagado, dr.imp_saldo_insoluto);
        assert_eq!(dr.num_parcialidad, n as u32 + 1);
        paid_base += dr.traslados[0].base;
        saldo = dr.imp_saldo_insoluto;
        let sealed = cfdi::seal(c, &csd).expect("seal");
        let path = dir.path().join(format!("pago-{n}.xml"));
        std::fs::write(&path, &sealed.xml).expect("write");
        assert_eq!(
            sealed.cadena,
            xslt_cadena(&fx, &path),
            "cadena of payment {n}"
        );
        files.push(path);
    }
    assert_eq!(
        saldo,
        Decimal::ZERO,
        "the third payment settles the invoice"
    );
    assert!(
        (paid_base - d("1000.00")).abs() <= d("0.02"),
        "bases add up to the invoice's: {paid_base}"
    );
    let failures = xsd_failures(&fx, &files);
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn payments_that_do_not_add_up_are_refused() {
    let docto = |pagado: &str, saldo: &str| DoctoInput {
        id_documento: "6F35D3B5-3651-5370-BC2C-14CDBE384CD7".into(),
        serie: None,
        folio: None,
        num_parcialidad: 1,
        imp_saldo_ant: d(saldo),
        imp_pagado: d(pagado),
        invoice_total: d("100.00"),
        invoice_traslados: vec![],
    };
    let build = |monto: &str, doctos: Vec<DoctoInput>| {
        pagos::comprobante(
            emisor(),
            receptor(),
            "76000",
            DateTime::parse_from_rfc3339("2026-11-20T10:00:00-06:00").expect("date"),
            None,
            vec![PagoInput {
                fecha_pago: local("2026-11-19T18:00:00"),
                forma_de_pago: "01".into(),
                monto: d(monto),
                num_operacion: None,
                doctos,
            }],
        )
    };
    for (monto, doctos, field) in [
        ("50.00", vec![docto("60.00", "100.00")], "Monto"),
        ("150.00", vec![docto("120.00", "100.00")], "ImpPagado"),
        ("50.00", vec![docto("50.00", "120.00")], "ImpSaldoAnt"),
        ("50.00", vec![], "DoctoRelacionado"),
    ] {
        match build(monto, doctos) {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected {field}: {other:?}"),
        }
    }
    // An untaxed invoice: ObjetoImpDR 01 and no ImpuestosDR.
    let c = build("50.00", vec![docto("50.00", "100.00")]).expect("build");
    let xml = cfdi::xml::to_string(&c);
    assert!(
        xml.contains(r#"ObjetoImpDR="01""#) && !xml.contains("ImpuestosDR"),
        "{xml}"
    );
}
