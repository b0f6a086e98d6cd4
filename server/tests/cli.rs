//! The operator commands, run as the real `supra` binary.

use std::process::Command;

fn supra(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_supra"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run supra")
}

fn tariff(name: &str) -> String {
    format!(
        "{}/../tariffs/cea-qro-2026/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn tariff_check_accepts_the_published_files_and_names_the_error() {
    let ok = supra(&["tariff", "check", &tariff("domestico-media.toml")]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("tarifa válida"));

    let dir = tempfile::tempdir().expect("dir");
    let text = std::fs::read_to_string(tariff("domestico-media.toml")).expect("read");
    // Break the second block's upper limit so it is below the first one.
    let broken = dir.path().join("rota.toml");
    let mut seen = 0;
    let bad: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("up_to_m3") {
                seen += 1;
                if seen == 2 {
                    return "up_to_m3 = 1".to_string();
                }
            }
            l.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&broken, bad).expect("write");
    let out = supra(&["tariff", "check", broken.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("blocks[2].up_to_m3"), "names the field: {err}");

    let syntax = dir.path().join("sintaxis.toml");
    std::fs::write(&syntax, "name = \"x\"\nuse_type = = \"domestico\"\n").expect("write");
    let out = supra(&["tariff", "check", syntax.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2") || err.contains("línea 2"),
        "names the line: {err}"
    );
}

#[test]
fn bill_preview_prints_the_breakdown_as_json() {
    let out = supra(&[
        "bill",
        "preview",
        "--tariff",
        &tariff("domestico-media.toml"),
        "--use",
        "domestico",
        "--class",
        "media",
        "--m3",
        "23",
        "--days",
        "30",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let lines = v["lines"].as_array().expect("lines");
    assert!(!lines.is_empty());
    assert_eq!(lines[0]["concept"], "agua");
    assert_eq!(v["billed_m3"], "23");
    // Totals equal the sum of the lines to the centavo.
    let cents = |s: &serde_json::Value| -> i64 {
        let s = s.as_str().expect("money string");
        let (p, c) = s.split_once('.').unwrap_or((s, "0"));
        p.parse::<i64>().expect("pesos") * 100
            + format!("{c:0<2}").parse::<i64>().expect("centavos")
    };
    let sum: i64 = lines.iter().map(|l| cents(&l["amount"])).sum();
    assert_eq!(sum, cents(&v["subtotal"]));
    let tax: i64 = lines.iter().map(|l| cents(&l["tax_amount"])).sum();
    assert_eq!(tax, cents(&v["tax"]));
    assert_eq!(cents(&v["subtotal"]) + tax, cents(&v["total"]));

    // Wrong use type for the file, or bad m³: a Spanish message and a failure.
    let out = supra(&[
        "bill",
        "preview",
        "--tariff",
        &tariff("domestico-media.toml"),
        "--use",
        "comercial",
        "--class",
        "general",
        "--m3",
        "23",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("la tarifa es para domestico"));
    let out = supra(&[
        "bill",
        "preview",
        "--tariff",
        &tariff("domestico-media.toml"),
        "--use",
        "domestico",
        "--class",
        "media",
        "--m3",
        "veinte",
    ]);
    assert!(!out.status.success());
}

#[test]
fn bench_billing_runs_end_to_end_and_prints_one_summary_line() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("bench.db");
    let db = db.to_str().expect("utf8");
    for round in 0..2 {
        // The second round reuses the seeded file (and the runs left by the first).
        let out = supra(&[
            "bench",
            "billing",
            "--contracts",
            "300",
            "--pdfs",
            "5",
            "--database",
            db,
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "round {round}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let last = stdout.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("billing: ") && last.contains("x raw insert") && last.contains("KB"),
            "round {round}: summary line: {last}"
        );
        let issued: usize = last
            .trim_start_matches("billing: ")
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("invoice count");
        assert!(issued > 250, "most of 300 contracts billed: {last}");
    }
}

#[test]
fn bench_cfdi_seals_on_all_cores_and_compares_with_bare_signing() {
    let out = supra(&["bench", "cfdi", "--invoices", "40"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("cfdi: 40 sealed in ") && last.contains("% of bare signing"),
        "summary line: {last}"
    );
}

fn supra_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_supra"));
    c.args(args).env("RUST_LOG", "error");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run supra")
}

/// SAT's fixtures next to the repository (CI has them); `None` prints SKIPPED.
fn sat_fixtures() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/sat");
    let present = dir.join("schemas/cfdi40-bundle.xsd").exists()
        && Command::new("xmllint").arg("--version").output().is_ok()
        && Command::new("xsltproc").arg("--version").output().is_ok();
    if present {
        return Some(dir);
    }
    if std::env::var("SUPRA_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("SAT fixtures or xmllint/xsltproc missing and SUPRA_REQUIRE_TOOLS=1");
    }
    eprintln!("SKIPPED: XSD/XSLT checks (no ../shared/fixtures/sat or xmllint/xsltproc)");
    None
}

#[test]
fn cfdi_issue_seals_every_bill_once_and_export_writes_valid_xml() {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!("sqlite:{}", dir.path().join("supra.db").display());
    let csd_dir = dir.path().join("csd");
    let env = [
        ("DATABASE_URL", db_url.as_str()),
        ("SUPRA_CFDI__CSD_DIR", csd_dir.to_str().expect("utf8")),
        ("SUPRA_MODE", "development"),
    ];
    let out = supra_env(&["seed", "--contracts", "60"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = supra_env(&["cfdi", "issue", "--period", "2026-10"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("JSON summary");
    let sealed = summary["sealed"].as_u64().expect("sealed");
    assert!(sealed > 40, "most of 60 bills sealed: {summary}");
    assert!(
        csd_dir.join("cea-qro/csd.cer").exists(),
        "demo CSD generated on first use"
    );

    // Idempotent: nothing new the second time.
    let again = supra_env(&["cfdi", "issue", "--period", "2026-10"], &env);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON summary");
    assert_eq!(again["sealed"], 0, "{again}");

    let export = dir.path().join("export");
    let out = supra_env(
        &[
            "cfdi",
            "export",
            "--period",
            "2026-10",
            "--out",
            export.to_str().expect("utf8"),
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<_> = std::fs::read_dir(&export)
        .expect("export dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len() as u64, sealed);
    let name = files[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    assert!(
        name.starts_with("A-202610-") && name.ends_with(".xml"),
        "{name}"
    );
    let xml = std::fs::read_to_string(&files[0]).expect("read");
    assert!(xml.contains(r#"Rfc="CEA800101QR2""#) && xml.contains(r#"MetodoPago="PPD""#));
    assert!(xml.contains(r#"NoCertificado="00001000000900000001""#));

    let Some(fx) = sat_fixtures() else { return };
    let out = Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(fx.join("schemas/cfdi40-bundle.xsd"))
        .args(&files)
        .output()
        .expect("xmllint");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The sello verifies over SAT's own cadena of the exported file.
    let xslt = fx.join(
        "schemas/www.sat.gob.mx/sitio_internet/cfd/4/cadenaoriginal_4_0/cadenaoriginal_4_0.xslt",
    );
    let cer = std::fs::read(csd_dir.join("cea-qro/csd.cer")).expect("cer");
    let cert = cfdi::csd::Certificate::from_der(&cer).expect("cert");
    for f in files.iter().take(10) {
        let cadena = Command::new("xsltproc")
            .arg("--nonet")
            .arg(&xslt)
            .arg(f)
            .output()
            .expect("xsltproc");
        let xml = std::fs::read_to_string(f).expect("read");
        let start = xml.find(" Sello=\"").expect("Sello") + 8;
        let sello = &xml[start..start + xml[start..].find('"').expect("end")];
        cert.verify(&cadena.stdout, sello).expect("sello verifies");
    }
}

#[test]
fn a_factura_global_covers_the_bills_without_datos_fiscales_once() {
    let dir = tempfile::tempdir().expect("dir");
    let db_path = dir.path().join("supra.db");
    let db_url = format!("sqlite:{}", db_path.display());
    let csd_dir = dir.path().join("csd");
    let env = [
        ("DATABASE_URL", db_url.as_str()),
        ("SUPRA_CFDI__CSD_DIR", csd_dir.to_str().expect("utf8")),
        ("SUPRA_MODE", "development"),
    ];
    assert!(
        supra_env(&["seed", "--contracts", "40"], &env)
            .status
            .success()
    );
    // The utility aggregates customers without datos fiscales.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let db = db::Db::connect(Some(&db_url)).await.expect("db");
        let t = db::TenantId(db::repo::list_tenants(&db).await.expect("t")[0].id);
        let mut tx = db.write(t).await.expect("tx");
        let mut i = db::cfdi::issuer(&mut tx)
            .await
            .expect("issuer")
            .expect("some");
        i.factura_global = true;
        db::cfdi::save_issuer(&mut tx, &i, chrono::Utc::now())
            .await
            .expect("save");
        tx.commit().await.expect("commit");
    });
    let json = |args: &[&str]| -> serde_json::Value {
        let out = supra_env(args, &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let issued = json(&["cfdi", "issue", "--period", "2026-10"]);
    assert_eq!(issued["sealed"], 0, "no individual CFDIs: {issued}");
    let waiting = issued["for_factura_global"].as_u64().expect("n");
    assert!(waiting > 30, "{issued}");

    let global = json(&["cfdi", "global", "--period", "2026-10"]);
    assert_eq!(global["folio"], "A-G202610", "{global}");
    assert_eq!(global["bills"].as_u64(), Some(waiting));
    assert_eq!(global["failed"].as_array().map(Vec::len), Some(0));
    // Once per period; and the bills are no longer waiting.
    let again = json(&["cfdi", "global", "--period", "2026-10"]);
    assert_eq!(again["folio"], serde_json::Value::Null, "{again}");
    let issued = json(&["cfdi", "issue", "--period", "2026-10"]);
    assert_eq!(issued["for_factura_global"], 0, "{issued}");

    let export = dir.path().join("export");
    let out = supra_env(
        &[
            "cfdi",
            "export",
            "--period",
            "2026-10",
            "--out",
            export.to_str().expect("utf8"),
        ],
        &env,
    );
    assert!(out.status.success());
    let file = export.join("A-G202610.xml");
    let xml = std::fs::read_to_string(&file).expect("global XML");
    assert!(
        xml.contains(r#"Rfc="XAXX010101000""#) && xml.contains(r#"Nombre="PUBLICO EN GENERAL""#)
    );
    assert!(
        xml.contains(r#"<cfdi:InformacionGlobal Periodicidad="04" Meses="10" Año="2026"/>"#),
        "{}",
        &xml[..600]
    );
    let Some(fx) = sat_fixtures() else { return };
    let out = Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(fx.join("schemas/cfdi40-bundle.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
