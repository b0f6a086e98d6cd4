//! ChirpStack's HTTP integration, as ChirpStack posts, on SQLite and PostgreSQL: the
//! integration secret checked, non-`up` events acknowledged, a known device's reading
//! stored once (re-delivery is a duplicate), unknown devices and undecodable bodies
//! kept in the quarantine (202), an impossible reading refused with a Spanish reason.

mod common;

use chrono::{Duration, Utc};
use common::{Backend, chirpstack_up as up, spawn};
use reqwest::StatusCode;
use serde_json::Value;

async fn post(
    app: &common::TestApp,
    event: &str,
    auth: Option<&str>,
    body: String,
) -> (StatusCode, Value) {
    let mut r = app
        .client
        .http
        .post(app.client.url(&format!("/ingest/chirpstack?event={event}")))
        .header("content-type", "application/json")
        .body(body);
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    let resp = r.send().await.expect("POST");
    let status = resp.status();
    let v = resp.json().await.unwrap_or(Value::Null);
    (status, v)
}

async fn scenario(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let bearer = format!("Bearer {}", server::DEMO_CHIRPSTACK_SECRET);
    let meter = {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        db::metering::smart_meters(&mut tx).await.expect("meters")[0].0
    };
    let eui = server::demo_dev_eui(meter);
    let at = Utc::now() - Duration::minutes(5);
    let last = {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        db::metering::readings_of(&mut tx, meter, 1)
            .await
            .expect("r")[0]
            .value_litres as u64
    };
    let body = up("dd-1", &eui, last + 120, at);

    // The secret.
    let (s, v) = post(&app, "up", None, body.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["error"].as_str().unwrap_or("").contains("Authorization"));
    let (s, _) = post(&app, "up", Some("Bearer no-es-el-secreto"), body.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Other events are acknowledged.
    let (s, v) = post(&app, "join", Some(&bearer), "{}".into()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ignorado"], "join");

    // Stored once.
    let (s, v) = post(&app, "up", Some(&bearer), body.clone()).await;
    assert_eq!(
        (s, v["resultado"].as_str()),
        (StatusCode::OK, Some("guardada")),
        "{v}"
    );
    let (s, v) = post(&app, "up", Some(&bearer), body.clone()).await;
    assert_eq!(
        (s, v["resultado"].as_str()),
        (StatusCode::OK, Some("duplicada"))
    );
    {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let rs = db::metering::readings_of(&mut tx, meter, 5)
            .await
            .expect("r");
        assert_eq!(rs[0].value_litres as u64, last + 120);
        assert_eq!(rs[0].source, "telemetria");
        assert_eq!(
            rs[1].value_litres as u64, last,
            "stored once, on top of the history"
        );
    }

    // Unknown device and garbage: kept for staff.
    let (s, v) = post(
        &app,
        "up",
        Some(&bearer),
        up("dd-2", "00000000000000aa", 5, at),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v["motivo"], "dispositivo no registrado");
    let (s, v) = post(&app, "up", Some(&bearer), "{\"deduplicationId\":".into()).await;
    assert_eq!(
        (s, v["resultado"].as_str()),
        (StatusCode::ACCEPTED, Some("cuarentena"))
    );

    // A meter clock in the future: refused with the reason, and kept.
    let future = up("dd-3", &eui, last + 200, Utc::now() + Duration::hours(3));
    let (s, v) = post(&app, "up", Some(&bearer), future).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"].as_str().unwrap_or("").contains("futuro"), "{v}");
    let mut tx = app.db.read(app.tenant).await.expect("tx");
    let q = db::metering::open_quarantine(&mut tx, 10).await.expect("q");
    assert_eq!(q.len(), 3, "{q:?}");
    drop(tx);
    app.shutdown().await;
}

both!(sqlite_chirpstack_http, postgres_chirpstack_http, scenario);
