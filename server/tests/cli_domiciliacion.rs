//! `supra payments debit-batch|debit-results`, run as the real binary on SQLite: the
//! month's file written, the same month again is the same file, the bank's results
//! applied once.

use std::process::Command;

fn supra(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_supra"));
    c.args(args).env("RUST_LOG", "error");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run supra")
}

#[test]
fn debit_batch_and_results_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!("sqlite:{}", dir.path().join("supra.db").display());
    let csd_dir = dir.path().join("csd");
    let env = [
        ("DATABASE_URL", db_url.as_str()),
        ("SUPRA_CFDI__CSD_DIR", csd_dir.to_str().expect("utf8")),
        ("SUPRA_MODE", "development"),
    ];
    let out = supra(&["seed", "--contracts", "40"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A mandate for a contract that owes something.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (contract_id, owed) = rt.block_on(async {
        let db = db::Db::connect(Some(&db_url)).await.expect("db");
        let t = db::TenantId(db::repo::list_tenants(&db).await.expect("t")[0].id);
        let mut tx = db.read(t).await.expect("tx");
        let mut found = None;
        for id in db::payments::contract_ids(&mut tx, 40).await.expect("ids") {
            let a = db::repo::account_by_id(&mut tx, id)
                .await
                .expect("a")
                .expect("a");
            if a.balance_centavos > 0 {
                found = Some((a.number, id, a.balance_centavos));
                break;
            }
        }
        drop(tx);
        let (number, id, owed) = found.expect("a debtor");
        invoicing::domiciliacion::register(
            &db,
            t,
            &invoicing::domiciliacion::MandateRequest {
                contract_number: &number,
                clabe: "646180111805034237",
                holder: "Ana López",
                max_centavos: 10_000_000,
                signed_on: "2026-01-01".parse().expect("date"),
            },
            invoicing::Actor::System,
            invoicing::today(),
            chrono::Utc::now(),
        )
        .await
        .expect("mandate");
        db.close().await;
        (id, owed)
    });

    let file = dir.path().join("lote.txt");
    let path = file.to_str().expect("utf8");
    let out = supra(
        &[
            "payments",
            "debit-batch",
            "--month",
            "2026-12",
            "--out",
            path,
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).expect("file");
    let debits: Vec<&str> = text.split("\r\n").filter(|l| l.starts_with('D')).collect();
    assert_eq!(debits.len(), 1, "{text}");
    assert_eq!(debits[0][85..100].parse::<i64>().expect("amount"), owed);
    let again = supra(&["payments", "debit-batch", "--month", "2026-12"], &env);
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        text,
        "same month, same file"
    );

    let results = dir.path().join("resultados.txt");
    std::fs::write(&results, format!("R{}00\r\n", &debits[0][7..27])).expect("write");
    let rpath = results.to_str().expect("utf8");
    let out = supra(&["payments", "debit-results", rpath], &env);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("1 paid ({owed} centavos)")),
        "{stdout}"
    );
    let out = supra(&["payments", "debit-results", rpath], &env);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        stdout.starts_with("0 paid") && stdout.contains("1 already applied"),
        "{stdout}"
    );

    let balance = rt.block_on(async {
        let db = db::Db::connect(Some(&db_url)).await.expect("db");
        let t = db::TenantId(db::repo::list_tenants(&db).await.expect("t")[0].id);
        let mut tx = db.read(t).await.expect("tx");
        db::repo::account_by_id(&mut tx, contract_id)
            .await
            .expect("a")
            .expect("a")
            .balance_centavos
    });
    assert_eq!(balance, 0, "paid to the centavo");
}
