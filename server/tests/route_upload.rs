//! A lecturista's route file uploaded by staff over HTTP, on SQLite and PostgreSQL:
//! a file with good and bad rows gives the right per-row report (accepted, duplicate,
//! rejected with its reason, visit without reading), uploading it again stores nothing
//! twice, a file that is not CSV is refused as a whole, and only staff may upload.
//! On SQLite, a 30,000-row file is processed in the background while the server keeps
//! answering, and every row is accounted for.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{Backend, TestApp, spawn};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

const CAMPO: &str = "campo@cea-qro.example";

/// (meter id, serial, last reading time, last litres) of the first `n` active meters
/// that have a reading.
async fn meters(app: &TestApp, n: usize) -> Vec<(i64, String, DateTime<Utc>, i64)> {
    let ids: Vec<(i64, String)> = {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let sql =
            "SELECT id, serial FROM meters WHERE tenant_id = $1 AND active ORDER BY id LIMIT 200";
        match tx.tx_mut() {
            db::Tx::Sqlite(c) => sqlx::query_as(sql)
                .bind(app.tenant.0)
                .fetch_all(&mut **c)
                .await
                .expect("meters"),
            db::Tx::Postgres(c) => sqlx::query_as(sql)
                .bind(app.tenant.0)
                .fetch_all(&mut **c)
                .await
                .expect("meters"),
        }
    };
    let mut out = Vec::new();
    for (id, serial) in ids {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let last = db::metering::readings_of(&mut tx, id, 1)
            .await
            .expect("readings");
        if let Some(r) = last.first() {
            out.push((id, serial, r.read_at, r.value_litres));
        }
        if out.len() == n {
            break;
        }
    }
    assert_eq!(out.len(), n, "demo meters with readings");
    out
}

async fn upload(
    app: &TestApp,
    client: &common::Client,
    name: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let form = Form::new().part(
        "archivo",
        Part::bytes(body)
            .file_name(name.to_string())
            .mime_str("text/csv")
            .expect("mime"),
    );
    let r = client
        .http
        .post(app.url("/personal/lecturas/rutas"))
        .header("accept", "application/json")
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn wait_batch(app: &TestApp, id: i64) -> (db::metering::BatchRow, Option<String>) {
    for _ in 0..1200 {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let b = db::metering::batch(&mut tx, id)
            .await
            .expect("batch")
            .expect("exists");
        if b.0.status != "procesando" {
            return b;
        }
        drop(tx);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("batch {id} still processing after 120 s");
}

/// The report's rows as (line, outcome, detail).
fn report_rows(csv: &str) -> Vec<(u64, String, String)> {
    let mut r = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.expect("report row");
            (
                rec[0].parse().expect("line"),
                rec[2].to_string(),
                rec[3].to_string(),
            )
        })
        .collect()
}

fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::America::Mexico_City)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn m3(litres: i64) -> String {
    format!("{}.{:03}", litres / 1000, litres % 1000)
}

async fn scenario(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let ms = meters(&app, 5).await;
    let now = Utc::now();
    let at =
        |i: usize| (ms[i].2 + chrono::Duration::hours(1)).min(now - chrono::Duration::minutes(5));

    // Nobody signed in: refused, nothing opened.
    let anon = app.new_client();
    let (status, _) = upload(&app, &anon, "ruta.csv", b"medidor,lectura,fecha\n".to_vec()).await;
    assert!(
        matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::SEE_OTHER
        ),
        "anonymous upload answered {status}"
    );

    let staff = app.new_client();
    app.staff_sign_in(&staff, CAMPO).await;

    let tomorrow = now + chrono::Duration::days(1);
    let file = format!(
        "Medidor;Lectura;Fecha;Observación\n\
         {s0};{r0};{a0};\n\
         {s0};{r0};{a0};\n\
         NOEXISTE-1;12,5;{a0};\n\
         {s1};doce;{a1};\n\
         {s2};{r2};{fut};\n\
         {s3};;{a3};sin acceso\n\
         {s4};;{a4};\n",
        s0 = ms[0].1,
        r0 = m3(ms[0].3 + 1_500).replace('.', ","),
        a0 = local(at(0)),
        s1 = ms[1].1,
        a1 = local(at(1)),
        s2 = ms[2].1,
        r2 = m3(ms[2].3 + 100),
        fut = local(tomorrow),
        s3 = ms[3].1,
        a3 = local(at(3)),
        s4 = ms[4].1,
        a4 = local(at(4)),
    );
    let (status, v) = upload(&app, &staff, "ruta-lunes.csv", file.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let id = v["lote"].as_i64().expect("batch id");
    let (b, report) = wait_batch(&app, id).await;
    assert_eq!(b.status, "terminado", "{:?}", b.error);
    assert_eq!(
        (b.rows_total, b.accepted, b.duplicates, b.rejected),
        (7, 2, 1, 4)
    );
    let rows = report_rows(&report.expect("report"));
    let outcome = |line: u64| {
        rows.iter()
            .find(|r| r.0 == line)
            .unwrap_or_else(|| panic!("line {line} missing from {rows:?}"))
            .clone()
    };
    assert_eq!(outcome(2).1, "aceptada");
    assert_eq!(outcome(3).1, "duplicada");
    let (_, o, d) = outcome(4);
    assert_eq!(o, "rechazada");
    assert!(
        d.contains("NOEXISTE-1") && d.contains("no está registrado"),
        "{d}"
    );
    let (_, o, d) = outcome(5);
    assert_eq!(o, "rechazada");
    assert!(d.contains("doce"), "{d}");
    let (_, o, d) = outcome(6);
    assert_eq!(o, "rechazada");
    assert!(d.contains("futur"), "{d}");
    assert_eq!(outcome(7).1, "sin_lectura");
    let (_, o, d) = outcome(8);
    assert_eq!(o, "rechazada");
    assert!(d.contains("lectura"), "{d}");

    // The meter page's raw readings: the accepted one, from the lecturista, exact.
    {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let r = db::metering::readings_of(&mut tx, ms[0].0, 1)
            .await
            .expect("r");
        assert_eq!(r[0].value_litres, ms[0].3 + 1_500);
        assert_eq!(r[0].source, "lecturista");
    }

    // The downloadable report is the stored one.
    let r = staff
        .get(&format!("/personal/lecturas/lotes/{id}/reporte.csv"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("csv").contains("no está registrado"));

    // The same file again: nothing is stored twice.
    let (_, v) = upload(&app, &staff, "ruta-lunes.csv", file.into_bytes()).await;
    let (b, report) = wait_batch(&app, v["lote"].as_i64().expect("id")).await;
    // Every stored row (the reading and the visit without reading) is a duplicate now.
    assert_eq!((b.accepted, b.duplicates, b.rejected), (0, 3, 4), "{b:?}");
    let rows = report_rows(&report.expect("report"));
    assert_eq!(
        rows.iter().find(|r| r.0 == 2).expect("line 2").1,
        "duplicada"
    );

    // Not a route file: refused as a whole with a reason.
    let (status, v) = upload(
        &app,
        &staff,
        "foto.csv",
        b"\xff\xd8\xff\xe0 not text".to_vec(),
    )
    .await;
    if status == StatusCode::ACCEPTED {
        let (b, _) = wait_batch(&app, v["lote"].as_i64().expect("id")).await;
        assert_eq!(b.status, "fallido");
        assert!(
            b.error.as_deref().unwrap_or("").contains("UTF-8"),
            "{:?}",
            b.error
        );
    } else {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    }

    if backend == Backend::Sqlite {
        big_file(&app, &staff).await;
    }
    app.shutdown().await;
}

/// A large file: answered at once, processed in the background while the server keeps
/// serving, every row accounted for.
async fn big_file(app: &TestApp, staff: &common::Client) {
    let ms = meters(app, 100).await;
    // 30,000 rows keep the debug-build test short; `supra bench ingest --route` loads
    // 100,000 in release.
    let rows = 30_000usize;
    let per_meter = rows / ms.len();
    let latest = ms.iter().map(|m| m.2).max().expect("meters");
    let now = Utc::now();
    let span = (now - chrono::Duration::minutes(10)) - (latest + chrono::Duration::minutes(1));
    let step = span / per_meter as i32;
    assert!(
        step > chrono::Duration::seconds(60),
        "room for the readings: {step}"
    );
    let mut file = String::from("medidor,lectura,fecha,observacion\n");
    for k in 0..per_meter {
        for m in &ms {
            let at = latest + chrono::Duration::minutes(1) + step * k as i32;
            file.push_str(&format!(
                "{},{},{},\n",
                m.1,
                m3(m.3 + 2 * (k as i64 + 1)),
                at.to_rfc3339()
            ));
        }
    }
    let (status, v) = upload(app, staff, "ruta-grande.csv", file.into_bytes()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let id = v["lote"].as_i64().expect("id");
    // While it is processing, the server answers other requests.
    let mut answered_while_processing = 0;
    loop {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let b = db::metering::batch(&mut tx, id)
            .await
            .expect("b")
            .expect("b");
        drop(tx);
        if b.0.status != "procesando" {
            break;
        }
        let r = app.new_client().get("/healthz").await;
        assert_eq!(r.status(), StatusCode::OK);
        answered_while_processing += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        answered_while_processing > 0,
        "the batch finished before anything was asked"
    );
    let (b, _) = wait_batch(app, id).await;
    assert_eq!(b.status, "terminado", "{:?}", b.error);
    assert_eq!(b.rows_total, rows as i64);
    assert_eq!((b.accepted, b.duplicates, b.rejected), (rows as i64, 0, 0));
}

both!(sqlite_route_upload, postgres_route_upload, scenario);
