//! Hundreds of generated comprobantes (every use type's concepts, IVA 16 % / 0 % / exento
//! / no objeto, discounts, PUE and PPD, público en general with InformacionGlobal, credit
//! notes): each one validates against SAT's XSDs, our cadena is byte-identical to SAT's
//! XSLT, and the sello verifies with the certificate.

mod common;

use std::path::PathBuf;
use std::str::FromStr;

use cfdi::model::{ConceptoInput, Emisor, InformacionGlobal, Receptor, Tax};
use cfdi::{ComprobanteBuilder, Sealed};
use chrono::{DateTime, FixedOffset};
use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

const DOCS: usize = 300;

fn emisor() -> Emisor {
    Emisor {
        rfc: "EKU9003173C9".parse().expect("rfc"),
        nombre: "ESCUELA KEMPER URGATE".into(),
        regimen_fiscal: "601".into(),
    }
}

/// (ClaveProdServ, ClaveUnidad, Unidad, Descripcion) as the utility bills them.
const CONCEPTS: [(&str, &str, &str, &str); 6] = [
    (
        "10171500",
        "MTQ",
        "Metro cúbico",
        "Agua potable, consumo doméstico",
    ),
    ("72151802", "E48", "Servicio", "Alcantarillado"),
    (
        "72151801",
        "E48",
        "Servicio",
        "Saneamiento de aguas residuales",
    ),
    ("72151800", "E48", "Servicio", "Reconexión del servicio"),
    ("01010101", "ACT", "Actividad", "Recargos por pago tardío"),
    (
        "01010101",
        "ACT",
        "Actividad",
        "Multa: toma clandestina «Ñandú» & cía",
    ),
];

const RECEPTORS: [(&str, &str, &str, &str, &str); 3] = [
    (
        "ISD950921HE5",
        "PASE, SERVICIOS ELECTRONICOS",
        "11529",
        "601",
        "G03",
    ),
    ("COSC8001137NA", "Carlos Cortés Soto", "52000", "612", "G03"),
    (
        "COSC8001137NA",
        "  Carlos   Cortés\tSoto ",
        "76146",
        "605",
        "S01",
    ),
];

fn money(rng: &mut ChaCha8Rng, max_centavos: i64) -> Decimal {
    Decimal::new(rng.gen_range(0..=max_centavos), 2)
}

fn generate(i: usize, rng: &mut ChaCha8Rng) -> ComprobanteBuilder {
    let fecha: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2026-10-31T23:59:59-06:00").expect("date");
    let fecha = fecha - chrono::Duration::minutes(rng.gen_range(0..60 * 24 * 20));
    let global = i.is_multiple_of(5);
    let receptor = if global {
        Receptor::publico_en_general("76000")
    } else {
        let r = RECEPTORS[rng.gen_range(0..RECEPTORS.len())];
        Receptor {
            rfc: r.0.parse().expect("rfc"),
            nombre: r.1.into(),
            domicilio_fiscal: r.2.into(),
            regimen_fiscal: r.3.into(),
            uso_cfdi: r.4.into(),
        }
    };
    let mut b = if i % 11 == 3 && !global {
        ComprobanteBuilder::egreso(
            emisor(),
            receptor,
            "76000",
            fecha,
            vec!["6F35D3B5-3651-5370-BC2C-14CDBE384CD7".into()],
        )
    } else {
        ComprobanteBuilder::ingreso(emisor(), receptor, "76000", fecha)
    };
    if global {
        b = b.informacion_global(InformacionGlobal {
            periodicidad: "04".into(),
            meses: "10".into(),
            anio: 2026,
        });
    }
    if rng.gen_bool(0.5) {
        b = b.serie_folio("A", format!("{}", 1000 + i));
    }
    if rng.gen_bool(0.5) {
        b = b.paid(["01", "03", "04", "28"][rng.gen_range(0..4)]);
    }
    let taxes = [Tax::Iva16, Tax::Iva0, Tax::Exento, Tax::NoObjeto, Tax::Iva8];
    for _ in 0..rng.gen_range(1..=8) {
        let (clave, unidad_clave, unidad, desc) = CONCEPTS[rng.gen_range(0..CONCEPTS.len())];
        let metered = clave == "10171500";
        let cantidad = if metered {
            // whole or fractional m³
            Decimal::new(rng.gen_range(1..=90_000), rng.gen_range(0..=3))
        } else {
            Decimal::ONE
        };
        let valor_unitario = if rng.gen_bool(0.2) {
            Decimal::new(rng.gen_range(1..=99_999_999), 6)
        } else {
            money(rng, 300_000)
        };
        let importe = cantidad * valor_unitario;
        let descuento = rng.gen_bool(0.3).then(|| {
            (importe * Decimal::new(rng.gen_range(0..=100), 2))
                .round_dp(2)
                .min(importe.round_dp(2))
        });
        b = b.concepto(ConceptoInput {
            clave_prod_serv: clave.into(),
            no_identificacion: rng.gen_bool(0.3).then(|| format!("TOMA-{i:06}")),
            cantidad,
            clave_unidad: unidad_clave.into(),
            unidad: Some(unidad.into()),
            descripcion: desc.into(),
            valor_unitario,
            descuento,
            tax: taxes[rng.gen_range(0..taxes.len())],
        });
    }
    b
}

#[test]
fn generated_documents_validate_and_match_sats_cadena() {
    let Some(fx) = fixtures_and_tools() else {
        return;
    };
    let csd = eku_csd(&fx);
    let dir = tempfile::tempdir().expect("tmp");
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut files: Vec<(PathBuf, Sealed)> = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for i in 0..DOCS {
        let built = generate(i, &mut rng).build().expect("build");
        let sealed = cfdi::seal(built, &csd).expect("seal");
        let c = &sealed.comprobante;
        kinds.insert(format!(
            "{}-{}-{}",
            c.tipo.code(),
            c.metodo_pago.map(|m| m.code()).unwrap_or("-"),
            c.informacion_global.is_some()
        ));
        let path = dir.path().join(format!("doc-{i:03}.xml"));
        std::fs::write(&path, &sealed.xml).expect("write");
        files.push((path, sealed));
    }
    assert!(
        kinds.len() >= 5,
        "the generator covers I/E × PUE/PPD × global: {kinds:?}"
    );

    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let failures = xsd_failures(&fx, &paths);
    assert!(failures.is_empty(), "XSD validation failed:\n{failures}");

    for (path, sealed) in &files {
        let sat = xslt_cadena(&fx, path);
        assert_eq!(sealed.cadena, sat, "cadena of {}", path.display());
        assert_eq!(
            cfdi::cadena::of_xml(&sealed.xml).expect("parse"),
            sat,
            "cadena from the XML of {}",
            path.display()
        );
        sealed
            .comprobante
            .emisor
            .rfc
            .as_str()
            .eq("EKU9003173C9")
            .then_some(())
            .expect("issuer");
        let sello = attr(&sealed.xml, "Sello").expect("Sello in the XML");
        csd.certificate()
            .verify(sat.as_bytes(), &sello)
            .expect("sello verifies over SAT's cadena");
    }
}

#[test]
fn a_document_outside_the_certificate_validity_or_issuer_is_not_sealed() {
    let Some(fx) = fixtures() else { return };
    let csd = eku_csd(&fx);
    let late = DateTime::parse_from_rfc3339("2027-06-01T10:00:00-06:00").expect("date");
    let b = ComprobanteBuilder::ingreso(
        emisor(),
        Receptor::publico_en_general("76000"),
        "76000",
        late,
    )
    .informacion_global(InformacionGlobal {
        periodicidad: "04".into(),
        meses: "05".into(),
        anio: 2027,
    })
    .concepto(ConceptoInput {
        clave_prod_serv: "10171500".into(),
        no_identificacion: None,
        cantidad: Decimal::from_str("10").expect("d"),
        clave_unidad: "MTQ".into(),
        unidad: None,
        descripcion: "Agua".into(),
        valor_unitario: Decimal::from_str("12.5").expect("d"),
        descuento: None,
        tax: Tax::Exento,
    });
    let err = cfdi::seal(b.build().expect("build"), &csd).unwrap_err();
    assert!(err.to_string().contains("vigencia"), "{err}");

    let other = Emisor {
        rfc: "ISD950921HE5".parse().expect("rfc"),
        ..emisor()
    };
    let b = ComprobanteBuilder::ingreso(
        other,
        Receptor::publico_en_general("76000"),
        "76000",
        DateTime::parse_from_rfc3339("2026-10-01T10:00:00-06:00").expect("date"),
    )
    .informacion_global(InformacionGlobal {
        periodicidad: "04".into(),
        meses: "09".into(),
        anio: 2026,
    })
    .concepto(ConceptoInput {
        clave_prod_serv: "10171500".into(),
        no_identificacion: None,
        cantidad: Decimal::ONE,
        clave_unidad: "MTQ".into(),
        unidad: None,
        descripcion: "Agua".into(),
        valor_unitario: Decimal::ONE,
        descuento: None,
        tax: Tax::Exento,
    });
    let err = cfdi::seal(b.build().expect("build"), &csd).unwrap_err();
    assert!(err.to_string().contains("RFC del emisor"), "{err}");
}
