//! The self-made CSD of the demo utility and the simulators loads like SAT's files and
//! seals documents that verify.

use std::process::Command;

use cfdi::csd::{Csd, generate_self_signed};
use chrono::{TimeZone, Utc};

#[test]
fn a_generated_csd_round_trips_through_cer_and_key_files() {
    let not_before = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let not_after = Utc
        .with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let (cer, key) = generate_self_signed(
        "CEA970101AB1",
        "COMISION ESTATAL DE AGUAS, \"QRO\"",
        "00001000000900000001",
        not_before,
        not_after,
        "clave-demo",
    )
    .expect("generate");
    let csd = Csd::from_der(&cer, &key, "clave-demo").expect("load");
    let cert = csd.certificate();
    assert_eq!(cert.no_certificado(), "00001000000900000001");
    assert_eq!(cert.rfc(), "CEA970101AB1");
    assert!(cert.name().contains("COMISION ESTATAL DE AGUAS"));
    assert_eq!(cert.not_before(), not_before);
    assert_eq!(cert.not_after(), not_after);
    let sello = csd.sign("||4.0|prueba||".as_bytes()).expect("sign");
    cert.verify("||4.0|prueba||".as_bytes(), &sello)
        .expect("verify");
    assert!(cert.verify("||4.0|prueba.||".as_bytes(), &sello).is_err());
    assert!(
        Csd::from_der(&cer, &key, "otra").is_err(),
        "the password protects the key"
    );

    // OpenSSL reads it as a normal X.509 certificate with the ASCII-digit serial.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("demo.cer");
    std::fs::write(&path, &cer).expect("write");
    match Command::new("openssl")
        .args(["x509", "-inform", "DER", "-noout", "-serial", "-in"])
        .arg(&path)
        .output()
    {
        Ok(out) if out.status.success() => {
            let serial = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                serial.trim(),
                "serial=3030303031303030303030393030303030303031"
            );
        }
        _ => eprintln!("SKIPPED: openssl not installed (the Rust checks above ran)"),
    }
}
