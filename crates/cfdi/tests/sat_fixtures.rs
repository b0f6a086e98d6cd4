//! SAT's own samples and test CSD: our signer reproduces their sellos byte for byte.

mod common;

use cfdi::Error;
use cfdi::csd::{Certificate, Csd};
use common::*;

const EKU_SAMPLES: [&str; 3] = [
    "cfdi40-ingreso-EKU9003173C9-timbrado-pruebas.xml",
    "cfdi40-ingreso-USD-descuentos-EKU9003173C9-sellado.xml",
    "cfdi40-pago20-EKU9003173C9-sellado.xml",
];

#[test]
fn resealing_each_eku_sample_reproduces_its_sello() {
    let Some(fx) = fixtures_and_tools() else {
        return;
    };
    let csd = eku_csd(&fx);
    for name in EKU_SAMPLES {
        let path = fx.join("samples").join(name);
        let xml = std::fs::read_to_string(&path).expect("read sample");
        let cadena = xslt_cadena(&fx, &path);
        assert!(
            cadena.starts_with("||4.0|") && cadena.ends_with("||"),
            "{name}: {cadena}"
        );
        let sello = attr(&xml, "Sello").expect("Sello");
        assert_eq!(csd.sign(cadena.as_bytes()).expect("sign"), sello, "{name}");
        assert_eq!(
            attr(&xml, "Certificado").as_deref(),
            Some(csd.certificate().base64().as_str())
        );
        assert_eq!(
            attr(&xml, "NoCertificado").as_deref(),
            Some(csd.certificate().no_certificado())
        );
        csd.certificate()
            .verify(cadena.as_bytes(), &sello)
            .expect("verifies");
    }
}

#[test]
fn a_one_centavo_edit_fails_verification() {
    let Some(fx) = fixtures_and_tools() else {
        return;
    };
    let csd = eku_csd(&fx);
    let path = fx.join("samples").join(EKU_SAMPLES[0]);
    let xml = std::fs::read_to_string(&path).expect("read sample");
    let sello = attr(&xml, "Sello").expect("Sello");
    let dir = tempfile::tempdir().expect("tmp");
    let edited = dir.path().join("editado.xml");
    std::fs::write(
        &edited,
        xml.replace("Total=\"3327.01\"", "Total=\"3327.02\""),
    )
    .expect("write");
    let cadena = xslt_cadena(&fx, &edited);
    assert!(cadena.contains("|3327.02|"));
    let err = csd
        .certificate()
        .verify(cadena.as_bytes(), &sello)
        .unwrap_err();
    assert!(matches!(err, Error::Sello(_)), "{err}");
}

#[test]
fn the_test_certificate_reads_as_sat_describes_it() {
    let Some(fx) = fixtures() else { return };
    let der = std::fs::read(fx.join("csd/EKU9003173C9/EKU9003173C9.cer")).expect("read");
    let cert = Certificate::from_der(&der).expect("parse");
    assert_eq!(cert.no_certificado(), "30001000000500003416");
    assert_eq!(cert.rfc(), "EKU9003173C9");
    assert_eq!(cert.name(), "ESCUELA KEMPER URGATE SA DE CV");
    assert_eq!(cert.not_before().to_rfc3339(), "2023-05-18T11:43:51+00:00");
    assert_eq!(cert.not_after().to_rfc3339(), "2027-05-18T11:43:51+00:00");
    let now = "2027-03-01T00:00:00Z".parse().expect("date");
    assert!(
        cert.expires_within(now, 90),
        "78 days left is inside the 90-day warning"
    );
    let earlier = "2026-11-24T00:00:00Z".parse().expect("date");
    assert!(!cert.expires_within(earlier, 90));
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let Some(fx) = fixtures() else { return };
    let other = std::fs::read(fx.join("csd/sat-tfd/30001000000500003456.cer")).expect("read");
    let key = std::fs::read(fx.join("csd/EKU9003173C9/EKU9003173C9.key")).expect("read");
    let err = Csd::from_der(&other, &key, "12345678a").unwrap_err();
    assert!(matches!(err, Error::KeyMismatch), "{err}");
    let cer = std::fs::read(fx.join("csd/EKU9003173C9/EKU9003173C9.cer")).expect("read");
    let err = Csd::from_der(&cer, &key, "contraseña-equivocada").unwrap_err();
    assert!(matches!(err, Error::Key(_)), "{err}");
}

#[test]
fn the_cadena_from_xml_matches_sats_stylesheet_on_every_sample() {
    let Some(fx) = fixtures_and_tools() else {
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(fx.join("samples")).expect("samples") {
        let path = entry.expect("entry").path();
        let xml = std::fs::read_to_string(&path).expect("read");
        let ours = cfdi::cadena::of_xml(&xml).expect("parse");
        assert_eq!(ours, xslt_cadena(&fx, &path), "{}", path.display());
        n += 1;
    }
    assert!(n >= 4, "all four samples checked");
    assert!(cfdi::cadena::of_xml("<no-cfdi/>").is_err());
    assert!(cfdi::cadena::of_xml("<cfdi:Comprobante").is_err());
}

#[test]
fn the_stamp_of_a_stamped_sample_reads_verifies_and_links_to_sat() {
    let Some(fx) = fixtures_and_tools() else {
        return;
    };
    let path = fx.join("samples").join(EKU_SAMPLES[0]);
    let xml = std::fs::read_to_string(&path).expect("read");
    let s = cfdi::tfd::parse(&xml).expect("stamped");
    assert_eq!(s.uuid, "6F35D3B5-3651-5370-BC2C-14CDBE384CD7");
    assert_eq!(s.no_certificado_sat, "30001000000500003456");
    // Our cadena del timbre equals SAT's stylesheet's, and SelloSAT verifies with
    // SAT's test stamping certificate.
    let dir = tempfile::tempdir().expect("tmp");
    let tfd_path = dir.path().join("tfd.xml");
    let start = xml.find("<tfd:TimbreFiscalDigital").expect("tfd");
    let end = xml[start..].find("/>").expect("end") + start + 2;
    let node = xml[start..end].replacen(
        "<tfd:TimbreFiscalDigital",
        "<tfd:TimbreFiscalDigital xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
        1,
    );
    std::fs::write(&tfd_path, node).expect("write");
    let out = std::process::Command::new("xsltproc")
        .arg("--nonet")
        .arg(cfd_dir(&fx).join("TimbreFiscalDigital/cadenaoriginal_TFD_1_1.xslt"))
        .arg(&tfd_path)
        .output()
        .expect("xsltproc");
    assert_eq!(String::from_utf8_lossy(&out.stdout), s.cadena_tfd());
    let sat = std::fs::read(fx.join("csd/sat-tfd/30001000000500003456.cer")).expect("cer");
    Certificate::from_der(&sat)
        .expect("SAT cert")
        .verify(s.cadena_tfd().as_bytes(), &s.sello_sat)
        .expect("SelloSAT verifies");
    let url = s.verification_url();
    assert!(url.starts_with("https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id=6F35D3B5-3651-5370-BC2C-14CDBE384CD7&re=EKU9003173C9&rr=MCI7306249Y1&tt=3327.01&fe="), "{url}");
    let fe = &url[url.find("&fe=").expect("fe") + 4..];
    assert!(
        fe.len() >= 8,
        "fe carries the last 8 characters of the sello: {fe}"
    );
}
