//! `supra ingest integration|device|route|rebuild|detect`, run as the real binary on SQLite:
//! an integration's secret is printed once and then authenticates, a device is tied to
//! a meter by serial (a malformed devEui refused in Spanish), a route file loads with
//! its per-row report, the seeded history has its aggregates (and rebuilds them), and
//! the anomaly rules run.

use std::process::Command;

fn supra(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_supra"));
    c.args(args).env("RUST_LOG", "error");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run supra")
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ingest_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!("sqlite:{}", dir.path().join("supra.db").display());
    let env = [
        ("DATABASE_URL", db_url.as_str()),
        ("SUPRA_MODE", "development"),
    ];
    ok(&supra(&["seed", "--contracts", "40"], &env));

    let secret = ok(&supra(
        &["ingest", "integration", "--name", "chirpstack-norte"],
        &env,
    ));
    let secret = secret.trim();
    assert_eq!(secret.len(), 64, "a 32-byte hex secret: {secret}");
    let short = supra(
        &["ingest", "integration", "--name", "x", "--secret", "corto"],
        &env,
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("al menos 24 caracteres"));

    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (meter_id, serial, last_at, last) = rt.block_on(async {
        let db = db::Db::connect(Some(&db_url)).await.expect("db");
        let t = db::TenantId(db::repo::list_tenants(&db).await.expect("t")[0].id);
        let name = metering::integrations::authenticate(&db, t, secret, chrono::Utc::now())
            .await
            .expect("auth");
        assert_eq!(name.as_deref(), Some("chirpstack-norte"));
        let mut tx = db.read(t).await.expect("tx");
        let (id, serial) = db::metering::smart_meters(&mut tx).await.expect("m")[0].clone();
        let r = db::metering::readings_of(&mut tx, id, 1).await.expect("r");
        let periods = db::metering::recent_periods(&mut tx, id, 24)
            .await
            .expect("periods");
        assert!(
            periods.iter().any(|p| p.litres > 0),
            "the seeded history has its aggregates: {periods:?}"
        );
        drop(tx);
        db.close().await;
        (id, serial, r[0].read_at, r[0].value_litres)
    });

    let bad = supra(
        &["ingest", "device", "--dev-eui", "xyz", "--meter", &serial],
        &env,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("16 dígitos hexadecimales"));
    let out = ok(&supra(
        &[
            "ingest",
            "device",
            "--dev-eui",
            "A1B2C3D4E5F60708",
            "--meter",
            &serial,
        ],
        &env,
    ));
    assert!(
        out.contains("a1b2c3d4e5f60708") && out.contains(&meter_id.to_string()),
        "{out}"
    );
    rt.block_on(async {
        let db = db::Db::connect(Some(&db_url)).await.expect("db");
        let t = db::TenantId(db::repo::list_tenants(&db).await.expect("t")[0].id);
        let mut tx = db.read(t).await.expect("tx");
        let found = db::metering::devices_by_eui(&mut tx, &["a1b2c3d4e5f60708".into()])
            .await
            .expect("devices");
        assert_eq!(found, vec![("a1b2c3d4e5f60708".to_string(), meter_id)]);
        drop(tx);
        db.close().await;
    });

    let at = (last_at + chrono::Duration::hours(1)).min(chrono::Utc::now());
    let file = dir.path().join("ruta.csv");
    std::fs::write(
        &file,
        format!(
            "medidor,lectura,fecha,observacion\n{serial},{}.{:03},{},\nNO-EXISTE,1,{},\n",
            (last + 700) / 1000,
            (last + 700) % 1000,
            at.to_rfc3339(),
            at.to_rfc3339()
        ),
    )
    .expect("write");
    let route = supra(&["ingest", "route", file.to_str().expect("utf8")], &env);
    let report = ok(&route);
    let stderr = String::from_utf8_lossy(&route.stderr);
    assert!(
        stderr.contains("2 rows, 1 accepted, 0 duplicates, 1 rejected"),
        "{stderr}"
    );
    let mut lines = report.lines().skip(1);
    assert!(
        lines.next().expect("line 2").contains("aceptada"),
        "{report}"
    );
    assert!(
        lines.next().expect("line 3").contains("no está registrado"),
        "{report}"
    );

    let out = ok(&supra(&["ingest", "rebuild"], &env));
    assert!(out.starts_with("aggregates rebuilt for "), "{out}");
    assert!(!out.contains(" 0 meters"), "{out}");

    let out = ok(&supra(&["ingest", "detect"], &env));
    assert!(out.starts_with("anomalies: "), "{out}");
    assert!(out.contains("meters checked"), "{out}");
}
