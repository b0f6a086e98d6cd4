//! The Finkok client against the PAC simulator over real HTTP: stamps that verify,
//! never twice (sequential and concurrent), retries on outages, and the PAC's
//! rejections with their codes. End to end: `supra cfdi stamp` stamps a period's
//! sealed bills and the export holds the stamped XML under its UUID.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use server::sim::pac::{PacSim, router};

const RFC: &str = "CEA800101QR2";

fn sat_xsd() -> Option<PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/sat/schemas/cfdi40-bundle.xsd");
    let tool = Command::new("xmllint").arg("--version").output().is_ok();
    if p.exists() && tool {
        return Some(p);
    }
    if std::env::var("SUPRA_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("SAT schema bundle or xmllint missing and SUPRA_REQUIRE_TOOLS=1");
    }
    eprintln!("SKIPPED: the simulator runs without XSD validation (no ../shared/fixtures/sat)");
    None
}

async fn start_sim() -> (Arc<PacSim>, String) {
    let sim = PacSim::new("usuario", "secreto", sat_xsd()).expect("sim");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = router(sim.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (sim, url)
}

fn client(url: &str, password: &str) -> pac::Finkok {
    pac::Finkok::new(
        url,
        "usuario",
        password,
        pac::Retry {
            attempts: 4,
            first_delay: Duration::from_millis(20),
        },
    )
    .expect("client")
}

fn csd() -> cfdi::csd::Csd {
    let now = Utc::now();
    let (cer, key) = cfdi::csd::generate_self_signed(
        RFC,
        "COMISION ESTATAL DE AGUAS",
        "00001000000900000001",
        now - chrono::Duration::days(30),
        now + chrono::Duration::days(365),
        "x",
    )
    .expect("csd");
    cfdi::csd::Csd::from_der(&cer, &key, "x").expect("load")
}

fn sealed(csd: &cfdi::csd::Csd, fecha: DateTime<FixedOffset>, folio: &str) -> cfdi::Sealed {
    let b = cfdi::ComprobanteBuilder::ingreso(
        cfdi::Emisor {
            rfc: RFC.parse().expect("rfc"),
            nombre: "COMISION ESTATAL DE AGUAS".into(),
            regimen_fiscal: "603".into(),
        },
        cfdi::Receptor {
            rfc: "CACX7605101P8".parse().expect("rfc"),
            nombre: "XOCHILT CASAS CHAVEZ".into(),
            domicilio_fiscal: "76146".into(),
            regimen_fiscal: "612".into(),
            uso_cfdi: "G03".into(),
        },
        "76000",
        fecha,
    )
    .serie_folio("A", folio)
    .concepto(cfdi::ConceptoInput {
        clave_prod_serv: "10171500".into(),
        no_identificacion: None,
        cantidad: "23".parse().expect("d"),
        clave_unidad: "MTQ".into(),
        unidad: Some("Metro cúbico".into()),
        descripcion: "Agua potable".into(),
        valor_unitario: "18.35".parse().expect("d"),
        descuento: None,
        tax: cfdi::Tax::Iva16,
    });
    cfdi::seal(b.build().expect("build"), csd).expect("seal")
}

fn now_local() -> DateTime<FixedOffset> {
    Utc::now()
        .with_timezone(&chrono_tz::America::Mexico_City)
        .fixed_offset()
}

#[tokio::test]
async fn a_stamp_verifies_and_a_second_request_gets_the_same_uuid() {
    let (sim, url) = start_sim().await;
    let csd = csd();
    let doc = sealed(&csd, now_local(), "1");
    let pac = client(&url, "secreto");
    let first = match pac.stamp(&doc.xml).await.expect("stamp") {
        pac::Outcome::Stamped(s) => s,
        other => panic!("expected a stamp: {other:?}"),
    };
    assert_eq!(first.uuid.len(), 36);
    assert!(first.xml.contains("<tfd:TimbreFiscalDigital") && first.xml.contains(&first.uuid));
    assert!(
        first.xml.starts_with(&doc.xml[..200]),
        "the sealed document is kept as sent"
    );
    // The issuer's sello still verifies over the stamped document's cadena.
    let cadena = cfdi::cadena::of_xml(&first.xml).expect("cadena");
    assert_eq!(cadena, doc.cadena);
    // SelloSAT verifies with the simulator's certificate over the TFD cadena.
    let cer = reqwest::get(format!("{url}/sim/certificado.cer"))
        .await
        .expect("cer")
        .bytes()
        .await
        .expect("bytes");
    let pac_cert = cfdi::csd::Certificate::from_der(&cer).expect("pac cert");
    let attr = |name: &str| {
        let i = first.xml.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        first.xml[i..i + first.xml[i..].find('"').expect("end")].to_string()
    };
    let tfd_cadena = format!(
        "||1.1|{}|{}|{}|{}|{}||",
        attr("UUID"),
        attr("FechaTimbrado"),
        attr("RfcProvCertif"),
        attr("SelloCFD"),
        attr("NoCertificadoSAT")
    );
    assert_eq!(attr("SelloCFD"), doc.comprobante.sello);
    pac_cert
        .verify(tfd_cadena.as_bytes(), &attr("SelloSAT"))
        .expect("SelloSAT");

    // Again (a lost reply, a retry): 307, the same stamp.
    match pac.stamp(&doc.xml).await.expect("stamp") {
        pac::Outcome::Stamped(s) => assert_eq!(s, first),
        other => panic!("expected the previous stamp: {other:?}"),
    }
    // Concurrent requests for another document: one stamp.
    let other = sealed(&csd, now_local(), "2");
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (pac, xml) = (pac.clone(), other.xml.clone());
            tokio::spawn(async move { pac.stamp(&xml).await })
        })
        .collect();
    let mut uuids = std::collections::BTreeSet::new();
    for t in tasks {
        match t.await.expect("task").expect("stamp") {
            pac::Outcome::Stamped(s) => uuids.insert(s.uuid),
            o => panic!("{o:?}"),
        };
    }
    assert_eq!(uuids.len(), 1, "one UUID for one document");
    assert_eq!(sim.stamped_count(), 2);
}

#[tokio::test]
async fn outages_are_retried_and_rejections_carry_the_pacs_code() {
    let (_sim, url) = start_sim().await;
    let csd = csd();
    let pac = client(&url, "secreto");

    // Two 503s, then the stamp.
    reqwest::Client::new()
        .post(format!("{url}/sim/fallas?n=2"))
        .send()
        .await
        .expect("fallas");
    let doc = sealed(&csd, now_local(), "10");
    assert!(matches!(
        pac.stamp(&doc.xml).await,
        Ok(pac::Outcome::Stamped(_))
    ));

    // More outages than attempts: a transient error, nothing stamped.
    reqwest::Client::new()
        .post(format!("{url}/sim/fallas?n=10"))
        .send()
        .await
        .expect("fallas");
    let doc = sealed(&csd, now_local(), "11");
    assert!(matches!(
        pac.stamp(&doc.xml).await,
        Err(pac::Error::Transient(_))
    ));
    reqwest::Client::new()
        .post(format!("{url}/sim/fallas?n=0"))
        .send()
        .await
        .expect("fallas");

    let code = |o: Result<pac::Outcome, pac::Error>| match o {
        Ok(pac::Outcome::Rejected { code, message }) => {
            assert!(!message.is_empty());
            code
        }
        other => panic!("expected a rejection: {other:?}"),
    };
    // A one-centavo edit after sealing: the sello no longer verifies.
    let doc = sealed(&csd, now_local(), "12");
    let edited = doc.xml.replace("Total=\"489.58\"", "Total=\"489.59\"");
    assert_ne!(edited, doc.xml, "the edit applied");
    assert_eq!(code(pac.stamp(&edited).await), "302");
    // Wrong password.
    assert_eq!(code(client(&url, "otra").stamp(&doc.xml).await), "300");
    // Fecha older than 72 h.
    let old = sealed(&csd, now_local() - chrono::Duration::hours(80), "13");
    assert_eq!(code(pac.stamp(&old.xml).await), "401");
    // Not XML.
    assert_eq!(code(pac.stamp("esto no es XML").await), "301");
}

#[test]
fn supra_cfdi_stamp_stamps_the_sealed_bills_of_a_period() {
    let cli = Cli::new("30");
    let issued = cli.ok(&["cfdi", "issue", "--period", "2026-10"]);
    // Batches of 7: one pass still stamps everything that was sealed.
    let s = cli.ok(&["cfdi", "stamp", "--limit", "7"]);
    assert!(s["stamped"].as_u64().expect("n") > 20, "{s}");
    assert_eq!(s["stamped"], issued["sealed"], "{s} {issued}");
    assert_eq!(s["rejected"].as_array().map(Vec::len), Some(0), "{s}");
    // Nothing left, nothing stamped twice.
    let again = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(again["stamped"], 0);

    let export = cli.dir.path().join("export");
    let out = export.to_str().expect("utf8");
    cli.ok(&["cfdi", "export", "--period", "2026-10", "--out", out]);
    let names: Vec<String> = std::fs::read_dir(&export)
        .expect("dir")
        .map(|e| e.expect("e").file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len() as u64, s["stamped"].as_u64().expect("n"));
    assert!(
        names.iter().all(|n| n.len() == 40 && n.ends_with(".xml")),
        "UUID names: {names:?}"
    );
    let xml = std::fs::read_to_string(export.join(&names[0])).expect("read");
    assert!(xml.contains("TimbreFiscalDigital"));
}

#[test]
fn rejections_wait_in_the_queue_with_the_pacs_code_until_staff_retry_them() {
    let cli = Cli::new("10");
    cli.ok(&["cfdi", "issue", "--period", "2026-10"]);
    // A wrong PAC password: every document is rejected with Finkok's code 300.
    let s = cli.ok_as(&["cfdi", "stamp"], "equivocada");
    let rejected = s["rejected"].as_array().expect("rejected").len();
    assert!(rejected >= 5, "{s}");
    let status = cli.ok(&["cfdi", "status"]);
    assert_eq!(
        status["documentos"]["rechazado"].as_u64(),
        Some(rejected as u64),
        "{status}"
    );
    assert_eq!(status["rechazados"][0]["pac_code"], "300", "{status}");
    assert_eq!(status["csd"]["rfc"], "CEA800101QR2");
    assert_eq!(status["csd"]["aviso_renovacion"], false);
    // Rejected documents are not sent again on their own…
    let s = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(s["stamped"], 0, "{s}");
    // …until staff put them back.
    let id = status["rechazados"][0]["id"]
        .as_i64()
        .expect("id")
        .to_string();
    cli.ok(&["cfdi", "retry", "--id", &id]);
    let s = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(s["stamped"], 1, "{s}");
    let status = cli.ok(&["cfdi", "status"]);
    assert_eq!(status["documentos"]["timbrado"], 1, "{status}");
    // Retrying something that is not rejected is a clear error, not a crash.
    let out = cli.run(&["cfdi", "retry", "--id", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no está en la cola de rechazados"));
}

/// A seeded SQLite utility with the PAC simulator and the `supra` CLI pointed at both.
struct Cli {
    rt: tokio::runtime::Runtime,
    sim_url: String,
    dir: tempfile::TempDir,
}

impl Cli {
    fn new(contracts: &str) -> Cli {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let (_sim, sim_url) = rt.block_on(start_sim());
        let cli = Cli {
            rt,
            sim_url,
            dir: tempfile::tempdir().expect("dir"),
        };
        cli.ok(&["seed", "--contracts", contracts]);
        cli
    }

    fn db_url(&self) -> String {
        format!("sqlite:{}", self.dir.path().join("supra.db").display())
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.run_as(args, "secreto")
    }

    /// Runs `supra` with `password` as the PAC password.
    fn run_as(&self, args: &[&str], password: &str) -> std::process::Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_supra"));
        c.args(args)
            .env("DATABASE_URL", self.db_url())
            .env("SUPRA_CFDI__CSD_DIR", self.dir.path().join("csd"))
            .env("SUPRA_MODE", "development")
            .env("FINKOK_URL", &self.sim_url)
            .env("FINKOK_USERNAME", "usuario")
            .env("FINKOK_PASSWORD", password)
            .env("RUST_LOG", "error");
        self.rt
            .block_on(async { tokio::task::spawn_blocking(move || c.output()).await })
            .expect("join")
            .expect("run supra")
    }

    fn ok(&self, args: &[&str]) -> serde_json::Value {
        self.ok_as(args, "secreto")
    }

    /// Runs `supra` (which must succeed) and parses its JSON output (Null if not JSON).
    fn ok_as(&self, args: &[&str], password: &str) -> serde_json::Value {
        let out = self.run_as(args, password);
        assert!(
            out.status.success(),
            "supra {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }

    /// Runs `sql` on the utility's database (test set-up and inspection only).
    fn sql<T: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>>(
        &self,
        sql: &str,
    ) -> Vec<T> {
        let url = self.db_url();
        let sql = sql.to_string();
        self.rt.block_on(async move {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("open");
            let rows = sqlx::query_as::<_, T>(&sql)
                .fetch_all(&pool)
                .await
                .expect("query");
            pool.close().await;
            rows
        })
    }

    fn exec(&self, sql: &str) {
        let url = self.db_url();
        let sql = sql.to_string();
        self.rt.block_on(async move {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("open");
            sqlx::query(&sql).execute(&pool).await.expect("exec");
            pool.close().await;
        });
    }
}

fn amount_attr(xml: &str, name: &str) -> rust_decimal::Decimal {
    let doc = roxmltree::Document::parse(xml).expect("xml");
    let v = doc
        .descendants()
        .find(|n| n.tag_name().name() == "DoctoRelacionado")
        .and_then(|n| n.attribute(name))
        .unwrap_or_else(|| panic!("no {name}"));
    v.parse().expect("decimal")
}

#[test]
fn three_partial_payments_chain_their_complementos_de_pago() {
    let cli = Cli::new("10");
    cli.ok(&["cfdi", "issue", "--period", "2026-10"]);
    let (invoice, total): (i64, i64) = cli
        .sql(
            "SELECT invoice_id, total_centavos FROM cfdi_documents
              WHERE tipo = 'I' AND total_centavos > 300 ORDER BY id LIMIT 1",
        )
        .into_iter()
        .next()
        .expect("a sealed bill");
    let inv = invoice.to_string();
    // First payment before the bill is even stamped: its complement waits for the UUID.
    let p1 = cli.ok(&[
        "cfdi",
        "pay",
        "--invoice",
        &inv,
        "--amount",
        "1.00",
        "--key",
        "k1",
    ]);
    assert_eq!(p1["num_parcialidad"], 1, "{p1}");
    assert_eq!(p1["saldo_anterior_centavos"], total);
    // The same key again records nothing new.
    let again = cli.ok(&[
        "cfdi",
        "pay",
        "--invoice",
        &inv,
        "--amount",
        "1.00",
        "--key",
        "k1",
    ]);
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["payment_id"], p1["payment_id"]);

    let pass = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(pass["complementos"]["sealed"], 1, "{pass}");
    assert_eq!(pass["rejected"].as_array().map(Vec::len), Some(0), "{pass}");

    let second = cli.ok(&[
        "cfdi",
        "pay",
        "--invoice",
        &inv,
        "--amount",
        "2.50",
        "--forma",
        "03",
        "--operacion",
        "SPEI-123",
    ]);
    assert_eq!(second["num_parcialidad"], 2);
    let rest = format!("{}.{:02}", (total - 350) / 100, (total - 350) % 100);
    // Paying more than the balance is refused in Spanish, nothing recorded.
    let over = cli.run(&[
        "cfdi",
        "pay",
        "--invoice",
        &inv,
        "--amount",
        &format!("{}", total),
    ]);
    assert!(!over.status.success());
    assert!(
        String::from_utf8_lossy(&over.stderr).contains("mayor que el saldo"),
        "{}",
        String::from_utf8_lossy(&over.stderr)
    );
    let third = cli.ok(&[
        "cfdi",
        "pay",
        "--invoice",
        &inv,
        "--amount",
        &rest,
        "--forma",
        "04",
    ]);
    assert_eq!(third["saldo_insoluto_centavos"], 0, "{third}");
    let paid = cli.run(&["cfdi", "pay", "--invoice", &inv, "--amount", "1.00"]);
    assert!(String::from_utf8_lossy(&paid.stderr).contains("ya está pagado"));
    // Counter payments go the one way payments go: each is a payment received (history,
    // receipts, search, reconciliation), by its channel, once.
    let received: Vec<(String, i64)> = cli.sql(&format!(
        "SELECT r.channel, r.amount_centavos FROM payments_received r
           JOIN invoices i ON i.contract_id = r.contract_id
          WHERE i.id = {invoice} AND r.dedupe_key LIKE 'ventanilla:%' ORDER BY r.id"
    ));
    assert_eq!(
        received,
        vec![
            ("efectivo".to_string(), 100),
            ("ventanilla".to_string(), 250),
            ("ventanilla".to_string(), total - 350),
        ]
    );

    let pass = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(pass["complementos"]["sealed"], 2, "{pass}");
    // Every complement stamped (the simulator checked XSD, sello and cadena).
    let docs: Vec<(String, String)> = cli.sql(
        "SELECT status, COALESCE(stamped_xml, '') FROM cfdi_documents WHERE tipo = 'P' ORDER BY id",
    );
    assert_eq!(docs.len(), 3);
    let bill_uuid: (String,) = cli
        .sql(&format!(
            "SELECT uuid FROM cfdi_documents WHERE invoice_id = {invoice}"
        ))
        .into_iter()
        .next()
        .expect("uuid");
    let mut saldo = rust_decimal::Decimal::new(total, 2);
    for (i, (status, xml)) in docs.iter().enumerate() {
        assert_eq!(status, "timbrado", "complement {i}");
        assert!(xml.contains(&format!("IdDocumento=\"{}\"", bill_uuid.0)));
        assert!(
            xml.contains(&format!("NumParcialidad=\"{}\"", i + 1)),
            "{xml}"
        );
        assert!(xml.contains("TipoDeComprobante=\"P\"") && xml.contains("UsoCFDI=\"CP01\""));
        let ant = amount_attr(xml, "ImpSaldoAnt");
        let pagado = amount_attr(xml, "ImpPagado");
        let insoluto = amount_attr(xml, "ImpSaldoInsoluto");
        assert_eq!(ant, saldo, "ImpSaldoAnt of parcialidad {}", i + 1);
        assert_eq!(ant - pagado, insoluto);
        saldo = insoluto;
    }
    assert_eq!(saldo, rust_decimal::Decimal::ZERO);
    assert!(
        docs[1].1.contains("FormaDePagoP=\"03\"")
            && docs[1].1.contains("NumOperacion=\"SPEI-123\"")
    );
}

#[test]
fn cancellations_follow_sat_until_cancelled_or_refused() {
    let cli = Cli::new("10");
    // One customer gave datos fiscales: their bill needs their acceptance to cancel.
    let (contract,): (i64,) = cli
        .sql("SELECT contract_id FROM invoices WHERE period = 202610 ORDER BY id LIMIT 1")
        .into_iter()
        .next()
        .expect("contract");
    cli.exec(&format!(
        "INSERT INTO fiscal_profiles (tenant_id, contract_id, rfc, nombre, regimen_fiscal,
            domicilio_fiscal, uso_cfdi, updated_at)
         SELECT tenant_id, id, 'CACX7605101P8', 'XOCHILT CASAS CHAVEZ', '612', '76146', 'G03',
            '2026-11-01T00:00:00Z' FROM contracts WHERE id = {contract}"
    ));
    cli.ok(&["cfdi", "issue", "--period", "2026-10"]);
    let s = cli.ok(&["cfdi", "stamp"]);
    assert!(s["stamped"].as_u64().expect("n") >= 5, "{s}");
    let docs: Vec<(i64, String, String)> = cli.sql(
        "SELECT d.id, d.receptor_rfc, d.uuid FROM cfdi_documents d WHERE d.tipo = 'I'
         ORDER BY (d.receptor_rfc = 'XAXX010101000'), d.id",
    );
    let (nominal, rfc, nominal_uuid) = docs[0].clone();
    assert_eq!(rfc, "CACX7605101P8");
    let (publico, _, _) = docs[1].clone();
    let (replacement, _, replacement_uuid) = docs[2].clone();
    let status = |id: i64| -> (String, String, Option<String>) {
        cli.sql(&format!(
            "SELECT d.status, c.status, c.acuse_xml FROM cfdi_documents d
             JOIN cfdi_cancellations c ON c.document_id = d.id
             WHERE d.id = {id} ORDER BY c.id DESC LIMIT 1"
        ))
        .into_iter()
        .next()
        .expect("cancellation")
    };

    // Bad requests are refused in Spanish before anything is sent.
    let no_note = cli.run(&[
        "cfdi",
        "cancel",
        "--id",
        &publico.to_string(),
        "--motivo",
        "02",
        "--nota",
        "",
    ]);
    assert!(String::from_utf8_lossy(&no_note.stderr).contains("escriba por qué"));
    let no_sust = cli.run(&[
        "cfdi",
        "cancel",
        "--id",
        &publico.to_string(),
        "--motivo",
        "01",
        "--nota",
        "error en el nombre",
    ]);
    assert!(
        String::from_utf8_lossy(&no_sust.stderr).contains("requiere el folio fiscal"),
        "{}",
        String::from_utf8_lossy(&no_sust.stderr)
    );

    // Público en general, motivo 01 with our replacement: cancelled without acceptance.
    cli.ok(&[
        "cfdi",
        "cancel",
        "--id",
        &publico.to_string(),
        "--motivo",
        "01",
        "--sustituto",
        &replacement_uuid,
        "--nota",
        "se sustituye por el CFDI correcto",
    ]);
    assert_eq!(status(publico).0, "cancelacion_en_proceso");
    let again = cli.run(&[
        "cfdi",
        "cancel",
        "--id",
        &publico.to_string(),
        "--motivo",
        "02",
        "--nota",
        "otra vez",
    ]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("ya tiene una cancelación en proceso"));
    let pass = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(pass["cancelaciones"]["sent"], 1, "{pass}");
    // Sent, then asked about in the same pass: without acceptance it is cancelled.
    assert_eq!(pass["cancelaciones"]["cancelled"], 1, "{pass}");
    let (doc, req, acuse) = status(publico);
    assert_eq!((doc.as_str(), req.as_str()), ("cancelado", "cancelado"));
    assert!(acuse.is_some_and(|a| a.contains("<EstatusUUID>201</EstatusUUID>")));
    let (bill_uuid,): (Option<String>,) = cli
        .sql(&format!("SELECT i.cfdi_uuid FROM invoices i JOIN cfdi_documents d ON d.invoice_id = i.id WHERE d.id = {publico}"))
        .into_iter()
        .next()
        .expect("bill");
    assert_eq!(bill_uuid, None, "a cancelled CFDI is no longer the bill's");
    let _ = replacement;

    // A customer with datos fiscales refuses: the CFDI stays valid.
    cli.ok(&[
        "cfdi",
        "cancel",
        "--id",
        &nominal.to_string(),
        "--motivo",
        "03",
        "--nota",
        "no se prestó el servicio",
    ]);
    let pass = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(
        pass["cancelaciones"]["pending"], 1,
        "SAT waits for the receptor: {pass}"
    );
    assert_eq!(status(nominal).1, "en_proceso");
    let url = format!("{}/sim/rechazar?uuid={nominal_uuid}", cli.sim_url);
    let code = cli
        .rt
        .block_on(async { reqwest::Client::new().post(url).send().await })
        .expect("sim")
        .status();
    assert_eq!(code, 204);
    let pass = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(pass["cancelaciones"]["refused"], 1, "{pass}");
    assert_eq!(status(nominal).0, "timbrado");
    assert_eq!(status(nominal).1, "rechazado");
    // Asked again, and this time accepted on SAT's second answer.
    cli.ok(&[
        "cfdi",
        "cancel",
        "--id",
        &nominal.to_string(),
        "--motivo",
        "03",
        "--nota",
        "segunda solicitud",
    ]);
    let pass = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(pass["cancelaciones"]["pending"], 1, "{pass}");
    let pass = cli.ok(&["cfdi", "stamp"]);
    assert_eq!(pass["cancelaciones"]["cancelled"], 1, "{pass}");
    assert_eq!(status(nominal).0, "cancelado");
    // The audit trail names every request with its motivo and note.
    let events: Vec<(String,)> = cli
        .sql("SELECT data FROM domain_events WHERE action = 'cfdi.cancel_requested' ORDER BY id");
    assert_eq!(events.len(), 3);
    assert!(events[2].0.contains("segunda solicitud") && events[2].0.contains("\"03\""));
}
