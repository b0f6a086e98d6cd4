//! SAT cancellation requests: canonical form proven against libxml2's C14N, signature
//! verified by our verifier and (when installed) by `xmlsec1`, tampering detected.

mod common;

use std::process::Command;

use cfdi::cancelacion::{self, Cancelacion, Folio, Motivo};
use cfdi::csd::{Csd, generate_self_signed};
use chrono::{NaiveDate, TimeZone, Utc};

const UUID: &str = "5FB2822E-396D-4725-8521-CDC4BDD20CCF";
const UUID2: &str = "6128396F-C09E-4AE7-9A3C-2C1E5B0B6F33";

fn demo_csd() -> Csd {
    let (cer, key) = generate_self_signed(
        "CEA800101QR2",
        "COMISION ESTATAL DE AGUAS & SANEAMIENTO <QRO>",
        "00001000000700000001",
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("date"),
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
            .single()
            .expect("date"),
        "clave",
    )
    .expect("generate");
    Csd::from_der(&cer, &key, "clave").expect("load")
}

fn request(rfc: &str, folios: Vec<Folio>) -> Cancelacion {
    Cancelacion {
        rfc_emisor: rfc.into(),
        fecha: NaiveDate::from_ymd_opt(2026, 11, 24)
            .and_then(|d| d.and_hms_opt(10, 5, 0))
            .expect("fecha"),
        folios,
    }
}

fn c14n(xml: &str) -> Option<String> {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("in.xml");
    std::fs::write(&f, xml).expect("write");
    let out = Command::new("xmllint")
        .arg("--c14n")
        .arg(&f)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "xmllint --c14n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

fn xmllint_present() -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("SUPRA_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "xmllint not installed and SUPRA_REQUIRE_TOOLS=1"
        );
        eprintln!("SKIPPED: xmllint not installed (apt-get install libxml2-utils)");
    }
    ok
}

#[test]
fn motivo_01_needs_the_replacement_and_only_01_takes_one() {
    let e = Folio::new(UUID, Motivo::ConRelacion, None).expect_err("01 without replacement");
    assert!(e.to_string().contains("requiere el folio fiscal"), "{e}");
    let e = Folio::new(UUID, Motivo::SinRelacion, Some(UUID2)).expect_err("02 with replacement");
    assert!(e.to_string().contains("sólo el motivo 01"), "{e}");
    let e = Folio::new(UUID, Motivo::ConRelacion, Some(UUID)).expect_err("replaces itself");
    assert!(e.to_string().contains("no puede ser el mismo"), "{e}");
    let e = Folio::new("no-es-uuid", Motivo::SinRelacion, None).expect_err("bad uuid");
    assert!(e.to_string().contains("no es un folio fiscal"), "{e}");
    assert!(Motivo::parse("05").is_err());
    let f = Folio::new(&UUID.to_lowercase(), Motivo::ConRelacion, Some(UUID2)).expect("valid");
    assert_eq!(f.uuid(), UUID, "UUIDs are written upper case");
    assert_eq!(f.folio_sustitucion(), Some(UUID2));
}

#[test]
fn signed_request_verifies_and_any_edit_is_detected() {
    let csd = demo_csd();
    let req = request(
        "CEA800101QR2",
        vec![Folio::new(UUID, Motivo::ConRelacion, Some(UUID2)).expect("folio")],
    );
    let xml = req.sign(&csd).expect("sign");
    let v = cancelacion::verify(&xml).expect("verifies");
    assert_eq!(v.cancelacion, req);
    assert_eq!(v.certificate.no_certificado(), "00001000000700000001");

    // Changing the reason after signing breaks the digest.
    let edited = xml
        .replace(r#"Motivo="01""#, r#"Motivo="03""#)
        .replace(&format!(r#"FolioSustitucion="{UUID2}" "#), "");
    let e = cancelacion::verify(&edited).expect_err("edited");
    assert!(e.to_string().contains("DigestValue"), "{e}");

    // Another key's signature over the same SignedInfo fails.
    let other = demo_csd();
    let forged_value = other
        .sign_sha1(cancelacion::signed_info(&common::attr_text(&xml, "DigestValue")).as_bytes())
        .expect("sign");
    let forged = xml.replace(&common::attr_text(&xml, "SignatureValue"), &forged_value);
    assert!(
        cancelacion::verify(&forged).is_err(),
        "a signature by another key verifies"
    );

    // The certificate must be the issuer's.
    let e = request("XAXX010101000", req.folios.clone())
        .sign(&csd)
        .expect_err("someone else's RFC");
    assert!(e.to_string().contains("no es el del certificado"), "{e}");
}

#[test]
fn canonical_forms_equal_libxml2_c14n() {
    if !xmllint_present() {
        return;
    }
    let csd = demo_csd();
    let req = request(
        "CEA800101QR2",
        vec![
            Folio::new(UUID, Motivo::SinRelacion, None).expect("folio"),
            Folio::new(UUID2, Motivo::ConRelacion, Some(UUID)).expect("folio"),
        ],
    );
    // The unsigned document written the way a person would (attributes out of order,
    // self-closing elements, whitespace between elements is *not* allowed to differ, as
    // C14N keeps it).
    let loose = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Cancelacion RfcEmisor="CEA800101QR2" Fecha="2026-11-24T10:05:00" xmlns="http://cancelacfd.sat.gob.mx"><Folios><Folio UUID="{UUID}" Motivo="02"/><Folio UUID="{UUID2}" Motivo="01" FolioSustitucion="{UUID}"/></Folios></Cancelacion>"#
    );
    assert_eq!(c14n(&loose).as_deref(), Some(req.canonical().as_str()));

    let digest = "2jmj7l5rSw0yVb/vlWAYkK/YBwk=";
    let loose_si = format!(
        r#"<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/><SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><DigestValue>{digest}</DigestValue></Reference></SignedInfo>"#
    );
    assert_eq!(
        c14n(&loose_si).as_deref(),
        Some(cancelacion::signed_info(digest).as_str())
    );

    // The whole signed request is already canonical: C14N leaves its bytes unchanged.
    let signed = req.sign(&csd).expect("sign");
    assert_eq!(c14n(&signed).as_deref(), Some(signed.as_str()));
}

#[test]
fn xmlsec1_accepts_the_signature() {
    let present = Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        assert!(
            std::env::var("SUPRA_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "xmlsec1 not installed and SUPRA_REQUIRE_TOOLS=1"
        );
        eprintln!("SKIPPED: xmlsec1 not installed (apt-get install xmlsec1)");
        return;
    }
    let csd = demo_csd();
    let req = request(
        "CEA800101QR2",
        vec![Folio::new(UUID, Motivo::NoSeLlevoACabo, None).expect("folio")],
    );
    let dir = tempfile::tempdir().expect("tmp");
    let cer = dir.path().join("csd.cer");
    std::fs::write(&cer, csd.certificate().der()).expect("write cer");
    let run = |xml: &str| {
        let f = dir.path().join("req.xml");
        std::fs::write(&f, xml).expect("write");
        Command::new("xmlsec1")
            .args([
                "--verify",
                "--enabled-reference-uris",
                "empty",
                "--pubkey-cert-der",
            ])
            .arg(&cer)
            .arg(&f)
            .output()
            .expect("run xmlsec1")
    };
    let signed = req.sign(&csd).expect("sign");
    let out = run(&signed);
    assert!(
        out.status.success(),
        "xmlsec1 rejected: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&signed.replace(r#"Motivo="03""#, r#"Motivo="02""#));
    assert!(!out.status.success(), "xmlsec1 accepted an edited request");
}

#[test]
fn sat_test_csd_signs_a_verifiable_request() {
    let Some(fx) = common::fixtures() else { return };
    let csd = common::eku_csd(&fx);
    let req = request(
        "EKU9003173C9",
        vec![Folio::new(UUID, Motivo::SinRelacion, None).expect("folio")],
    );
    let xml = req.sign(&csd).expect("sign with SAT's test CSD");
    let v = cancelacion::verify(&xml).expect("verifies");
    assert_eq!(v.certificate.rfc(), "EKU9003173C9");
    assert!(xml.contains("<X509SerialNumber>"), "{xml}");
}
