//! Behavioural tests: render bills and read them back with poppler's
//! `pdftotext` / `pdfinfo`. When a tool is missing the test prints
//! "SKIPPED: <tool> not installed" and passes, unless SUPRA_REQUIRE_TOOLS=1.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use billpdf::sample::sample_document;
use billpdf::{BillDocument, DocLine, PaymentInfo, render};

const MAX_BYTES: usize = 60 * 1024;

fn bytes_of(doc: &BillDocument) -> Vec<u8> {
    match render(doc) {
        Ok(b) => b,
        Err(e) => panic!("render failed: {e}"),
    }
}

/// Whether `tool` runs; otherwise reports the skip (or fails when required).
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("-v")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("SUPRA_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!(
                "{tool} not installed and SUPRA_REQUIRE_TOOLS=1 (apt-get install poppler-utils)"
            );
        }
        eprintln!("SKIPPED: {tool} not installed");
    }
    ok
}

fn temp_pdf(bytes: &[u8]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "billpdf-test-{}-{}.pdf",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    if let Err(e) = std::fs::write(&path, bytes) {
        panic!("cannot write {}: {e}", path.display());
    }
    path
}

/// Runs a poppler tool on the PDF; `None` when the tool is not installed.
fn poppler(tool: &str, args: &[&str], bytes: &[u8]) -> Option<String> {
    if !have(tool) {
        return None;
    }
    let path = temp_pdf(bytes);
    let out = Command::new(tool).args(args).arg(&path).arg("-").output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => panic!(
            "{tool} failed: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run {tool}: {e}"),
    }
}

fn text_of(bytes: &[u8]) -> Option<String> {
    poppler("pdftotext", &["-layout"], bytes)
}

fn info_of(bytes: &[u8]) -> Option<String> {
    if !have("pdfinfo") {
        return None;
    }
    let path = temp_pdf(bytes);
    let out = Command::new("pdfinfo").arg(&path).output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => panic!("pdfinfo failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("cannot run pdfinfo: {e}"),
    }
}

fn assert_has(text: &str, needle: &str) {
    assert!(
        text.contains(needle),
        "expected {needle:?} in the extracted text:\n{text}"
    );
}

#[test]
fn spanish_text_with_accents_is_extracted_exactly() {
    let doc = sample_document();
    let Some(text) = text_of(&bytes_of(&doc)) else {
        return;
    };
    for needle in [
        "¿Cómo se calculó?",
        "Saneamiento",
        "Año",
        "¡Gracias por pagar a tiempo!",
        "María José Núñez Güemes",
        "Calle Niños Héroes 45",
        "Doméstico · media",
        "Recibo de agua",
        "Periodo: octubre 2026",
        "0012-3456-78",
        "F-2026-10-000123",
        "$695.39",
        "$575.39",
        "$551.85",
        "$23.54",
        "$120.00",
        "-$10.00",
        "IVA 16 %",
        "Exento",
        "24 de noviembre de 2026",
        "3 de noviembre de 2026",
        "18 m³",
        "Lectura anterior",
        "30/09/2026",
        "1,234",
        "1,252",
        "MX-19-004512",
        "RFC: SAP850101AB1",
        "Bloque 11–20 m³",
        "$160.40",
        "Historial de consumo (m³)",
        "Referencias de pago disponibles en la app",
        "Página 1 de 1",
    ] {
        assert_has(&text, needle);
    }
    for month in [
        "nov", "dic", "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct",
    ] {
        assert_has(&text, month);
    }
    assert!(!text.contains("Consumo estimado"), "{text}");
    assert!(!text.contains("UUID"), "no CFDI UUID was given:\n{text}");
}

#[test]
fn estimated_consumption_is_flagged() {
    let mut doc = sample_document();
    doc.estimated = true;
    doc.current_reading = None;
    let Some(text) = text_of(&bytes_of(&doc)) else {
        return;
    };
    assert_has(&text, "Consumo estimado");
    assert_has(&text, "Sin lectura");
}

#[test]
fn payment_references_and_cfdi_uuid_are_printed_when_present() {
    let mut doc = sample_document();
    doc.payment = PaymentInfo {
        oxxo_reference: Some("9012345678901234567890".to_owned()),
        clabe: Some("012180001234567897".to_owned()),
        codi_payload: Some("CODI-PAYLOAD-1234".to_owned()),
        cfdi_uuid: Some("6F9619FF-8B86-D011-B42D-00C04FC964FF".to_owned()),
    };
    let bytes = bytes_of(&doc);
    assert!(bytes.len() <= MAX_BYTES, "{} bytes", bytes.len());
    let Some(text) = text_of(&bytes) else {
        return;
    };
    for needle in [
        "9012345678901234567890",
        "012180001234567897",
        "CODI-PAYLOAD-1234",
        "6F9619FF-8B86-D011-B42D-00C04FC964FF",
        "OXXO",
        "SPEI",
        "CoDi",
    ] {
        assert_has(&text, needle);
    }
    assert!(
        !text.contains("Referencias de pago disponibles en la app"),
        "placeholder shown although references are present:\n{text}"
    );
}

#[test]
fn same_input_gives_identical_bytes_and_different_input_different_bytes() {
    let doc = sample_document();
    let a = bytes_of(&doc);
    let b = bytes_of(&doc.clone());
    assert!(a == b, "two renders of the same document differ");

    let mut other = sample_document();
    other.amount_due = "$695.40".to_owned();
    let c = bytes_of(&other);
    assert!(a != c, "a different total rendered the same bytes");

    let mut other = sample_document();
    other.payment.cfdi_uuid = Some("6F9619FF-8B86-D011-B42D-00C04FC964FF".to_owned());
    assert!(a != bytes_of(&other));

    // No clock in the output.
    let s = String::from_utf8_lossy(&a);
    assert!(!s.contains("CreationDate") && !s.contains("ModDate"));
}

#[test]
fn realistic_bill_is_within_size_budget() {
    let doc = sample_document();
    assert_eq!(doc.history.len(), 12);
    assert_eq!(doc.lines.len(), 8);
    let bytes = bytes_of(&doc);
    assert!(
        bytes.len() <= MAX_BYTES,
        "{} bytes > {MAX_BYTES}",
        bytes.len()
    );
}

#[test]
fn output_is_a_letter_size_pdf() {
    let bytes = bytes_of(&sample_document());
    assert!(bytes.starts_with(b"%PDF-"));
    // The page dictionary is not compressed: check the box directly too.
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("/MediaBox[0 0 612 792]"), "no Letter MediaBox");
    let Some(info) = info_of(&bytes) else {
        return;
    };
    assert!(
        info.contains("Page size:       612 x 792 pts (letter)"),
        "{info}"
    );
    assert!(info.contains("Pages:           1"), "{info}");
}

#[test]
fn fifteen_lines_still_fit_on_pages() {
    let mut doc = sample_document();
    doc.lines = (1..=15)
        .map(|i| DocLine {
            description: format!("Concepto de prueba número {i}"),
            quantity: "1".to_owned(),
            amount: format!("${i}.00"),
            tax_label: "IVA 16 %".to_owned(),
            tax_amount: "$0.16".to_owned(),
        })
        .collect();
    let bytes = bytes_of(&doc);
    assert!(bytes.len() <= MAX_BYTES, "{} bytes", bytes.len());
    let Some(text) = text_of(&bytes) else {
        return;
    };
    for i in 1..=15 {
        assert_has(&text, &format!("Concepto de prueba número {i}"));
    }
    // Everything after the table is still there.
    assert_has(&text, "¿Cómo se calculó?");
    assert_has(&text, "Total a pagar");
    assert_has(&text, "Formas de pago");
    let pages = text.matches("Página ").count();
    assert_has(&text, &format!("Página {pages} de {pages}"));
}

#[test]
fn very_long_text_is_cut_and_many_rows_flow_to_more_pages() {
    let mut doc = sample_document();
    doc.titular = "Nombre ".repeat(200);
    doc.service_address = "Calle muy larga ".repeat(300);
    doc.notice = Some("Aviso muy largo. ".repeat(500));
    doc.lines = (1..=60)
        .map(|i| DocLine {
            description: format!("Cargo {i} ").repeat(20),
            quantity: "1".to_owned(),
            amount: "$1.00".to_owned(),
            tax_label: "Exento".to_owned(),
            tax_amount: "$0.00".to_owned(),
        })
        .collect();
    let bytes = bytes_of(&doc);
    let Some(text) = text_of(&bytes) else {
        return;
    };
    assert_has(&text, "…");
    assert_has(&text, "Detalle del cobro (continuación)");
    assert_has(&text, "Cargo 60");
    assert!(text.contains("Página 3 de"), "expected 3+ pages:\n{text}");
}

#[test]
fn an_empty_document_still_renders() {
    let doc = BillDocument::default();
    let bytes = bytes_of(&doc);
    assert!(bytes.starts_with(b"%PDF-"));
    let Some(text) = text_of(&bytes) else {
        return;
    };
    assert_has(&text, "Sin conceptos en este periodo.");
    assert_has(&text, "Sin historial de consumo disponible.");
}

#[test]
fn a_stamped_bill_is_also_the_cfdi_printed_representation() {
    let mut doc = sample_document();
    let sello = "Q".repeat(340) + "AbCd+/==";
    doc.fiscal = Some(billpdf::FiscalInfo {
        uuid: "6F35D3B5-3651-5370-BC2C-14CDBE384CD7".into(),
        fecha_timbrado: "2026-11-24T10:15:00".into(),
        rfc_prov_certif: "SPR190613I52".into(),
        no_certificado: "00001000000900000001".into(),
        no_certificado_sat: "30001000000500009999".into(),
        sello_cfd: sello.clone(),
        sello_sat: "S".repeat(344),
        cadena_tfd: format!("||1.1|6F35D3B5-3651-5370-BC2C-14CDBE384CD7|2026-11-24T10:15:00|SPR190613I52|{sello}|30001000000500009999||"),
        verification_url: "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id=6F35D3B5-3651-5370-BC2C-14CDBE384CD7&re=CEA800101QR2&rr=XAXX010101000&tt=575.39&fe=AbCd%2B%2F%3D%3D".into(),
    });
    let with = bytes_of(&doc);
    let without = bytes_of(&sample_document());
    assert!(with.len() > without.len(), "the fiscal block adds content");
    let Some(text) = text_of(&with) else {
        return;
    };
    for needle in [
        "Representación impresa de un CFDI",
        "6F35D3B5-3651-5370-BC2C-14CDBE384CD7",
        "00001000000900000001",
        "30001000000500009999",
        "Sello digital del SAT",
        "Cadena original del complemento de certificación digital del SAT",
        "||1.1|6F35D3B5",
    ] {
        assert_has(&text, needle);
    }
    // The whole sello is printed (wrapped), not cut: its last characters are there.
    assert_has(&text, "AbCd+/==");
}
