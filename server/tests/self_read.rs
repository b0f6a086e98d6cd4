//! A citizen's own meter reading over HTTP (`POST /cuenta/lectura`), on SQLite and
//! PostgreSQL, as the app sends it (multipart, JSON answer — also what the phone kept
//! offline and sends later) and as a form without JavaScript does (303 to the receipt,
//! or the form again with the message next to its field, 422): accepted once per
//! idempotency key however often it is sent, a lower or impossible reading refused in
//! Spanish (and the refusal remembered under its key), a file that is not an image
//! refused, a photo kept (staff see it on the meter page), only the signed-in
//! citizen's own contracts; then "Mi
//! consumo" shows the period's consumption from the aggregates.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{Backend, Client, TestApp, demo_contracts, json, parts, spawn};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

/// `1234567` → `"1234.567"` (what a person types, in m³).
fn m3(litres: i64) -> String {
    format!("{}.{:03}", litres / 1000, litres % 1000)
}

fn form(clave: &str, lectura: &str, fecha: &str) -> Form {
    Form::new()
        .text("clave", clave.to_string())
        .text("lectura", lectura.to_string())
        .text("fecha", fecha.to_string())
}

/// POST the reading; `accept` is what the client asks for.
async fn post(client: &Client, form: Form, accept: &str) -> reqwest::Response {
    client
        .http
        .post(client.url("/cuenta/lectura"))
        .header("accept", accept)
        .multipart(form)
        .send()
        .await
        .expect("POST /cuenta/lectura")
}

async fn post_json(client: &Client, form: Form) -> (StatusCode, Value) {
    json(post(client, form, "application/json").await).await
}

/// Readings the customer sent for `meter`, newest first: (time, litres).
async fn citizen_readings(app: &TestApp, meter: i64) -> Vec<(DateTime<Utc>, i64)> {
    let mut tx = app.db.read(app.tenant).await.expect("tx");
    db::metering::readings_of(&mut tx, meter, 50)
        .await
        .expect("readings")
        .into_iter()
        .filter(|r| r.source == "ciudadano")
        .map(|r| (r.read_at, r.value_litres))
        .collect()
}

/// A PNG signature and a few bytes: enough for the photo check.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

async fn scenario(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let contracts = demo_contracts();
    let number = contracts[0].clone();
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339();

    // Nobody signed in: JSON says 401, a browser goes to sign in.
    let anon = app.new_client();
    let (s, v) = post_json(&anon, form("k-anon", "1", "")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or("")
            .contains("Vuelve a entrar")
    );
    let r = post(&anon, form("k-anon", "1", ""), "text/html").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "/entrar");

    app.citizen_sign_in(&app.client, &number).await;
    let (s, d) = json(app.post_fn("citizen/dashboard", &[]).await).await;
    assert_eq!(s, StatusCode::OK);
    let contract_id = d["contract_id"].as_i64().expect("contract id");
    let meter = d["meter"]["id"]
        .as_i64()
        .expect("the demo contract has a meter");
    // The last reading that measured the register (the seed has estimates too).
    let last = {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        db::metering::readings_of(&mut tx, meter, 10)
            .await
            .expect("r")
            .into_iter()
            .find(|r| db::metering::MEASURED.contains(&r.quality.as_str()))
            .expect("a measured reading")
            .value_litres
    };
    let now = Utc::now();

    // The form the page shows: the contract, its meter, a fresh key, now.
    let (s, f) = json(app.post_fn("citizen/self_read_form", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["number"], number.as_str());
    assert_eq!(f["contract_id"].as_i64(), Some(contract_id));
    assert!(f["meter_serial"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(f["clave"].as_str().map(str::len), Some(36));

    // Accepted (JSON, as the app and the offline queue send it).
    let first = last + 2_500;
    let (s, v) = post_json(
        &app.client,
        form("k-1", &m3(first), &rfc3339(now - Duration::minutes(60)))
            .text("contrato", contract_id.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["aceptada"], true);
    assert_eq!(v["mensaje"], "Recibimos tu lectura. Gracias.");
    assert_eq!(v["desde_anterior"], "2.5 m³");
    assert_eq!(v["recibo"], "/cuenta/lectura/recibida?clave=k-1");
    let id = v["id"].as_i64().expect("id");

    // The same key again (the queue sent it twice): the same answer, one reading.
    let (s, again) = post_json(
        &app.client,
        form("k-1", &m3(first), &rfc3339(now - Duration::minutes(60))),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["id"].as_i64(), Some(id));
    assert_eq!(again["aceptada"], true);
    let stored = citizen_readings(&app, meter).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].1, first);

    // Lower than the last reading: refused in Spanish, 422, next to «lectura»; the
    // same key keeps the same refusal.
    let lower = form(
        "k-2",
        &m3(last + 1_000),
        &rfc3339(now - Duration::minutes(50)),
    );
    let (s, v) = post_json(&app.client, lower).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["campo"], "lectura");
    let msg = v["error"].as_str().unwrap_or("").to_string();
    assert!(
        msg.starts_with("La lectura es menor que la anterior (")
            && msg.ends_with("Revisa los números del medidor."),
        "{msg}"
    );
    let (s, v) = post_json(
        &app.client,
        form(
            "k-2",
            &m3(last + 9_000),
            &rfc3339(now - Duration::minutes(50)),
        ),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(msg.as_str()))
    );

    // More than the meter can pass in the time since the last one.
    let (s, v) = post_json(
        &app.client,
        form(
            "k-jump",
            &m3(first + 100_000),
            &rfc3339(now - Duration::minutes(45)),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("La lectura es mucho mayor de lo que el medidor puede marcar"),
        "{v}"
    );

    // Not a number; more than 3 decimals.
    for bad in ["doce", "12.3456"] {
        let (s, v) = post_json(&app.client, form("k-bad", bad, "")).await;
        assert_eq!(
            (s, v["campo"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("lectura")),
            "{v}"
        );
    }

    // A "photo" that is not an image: refused next to «foto», nothing stored.
    let fake = Part::bytes(b"GIF89a... no es una foto".to_vec())
        .file_name("medidor.jpg")
        .mime_str("image/jpeg")
        .expect("mime");
    let (s, v) = post_json(
        &app.client,
        form(
            "k-3",
            &m3(first + 500),
            &rfc3339(now - Duration::minutes(40)),
        )
        .part("foto", fake),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["campo"], "foto");
    assert_eq!(v["error"], "La foto debe ser una imagen JPG, PNG o WebP.");
    assert_eq!(citizen_readings(&app, meter).await.len(), 1);

    // A real image is kept with the reading.
    let png = Part::bytes(PNG.to_vec())
        .file_name("medidor.png")
        .mime_str("image/png")
        .expect("mime");
    let (s, v) = post_json(
        &app.client,
        form(
            "k-4",
            &m3(first + 500),
            &rfc3339(now - Duration::minutes(40)),
        )
        .part("foto", png),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let photo = {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        db::metering::self_read_photo(&mut tx, v["id"].as_i64().expect("id"))
            .await
            .expect("photo")
    };
    assert_eq!(photo, Some((PNG.to_vec(), "image/png".to_string())));

    // Staff see it on the meter page, photo included; citizens cannot open the photo.
    let photo_url = format!("/personal/lecturas/fotos/{}", v["id"].as_i64().expect("id"));
    let citizen_try = app
        .client
        .http
        .get(app.client.url(&photo_url))
        .send()
        .await
        .expect("GET photo as citizen");
    assert_ne!(citizen_try.status(), StatusCode::OK);
    let staff = app.new_client();
    app.staff_sign_in(&staff, "atencion@cea-qro.example").await;
    let page = staff
        .http
        .get(staff.url(&format!("/personal/medidores/{meter}")))
        .send()
        .await
        .expect("meter page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("Lecturas enviadas por el usuario"), "{html}");
    assert!(html.contains(&photo_url), "the photo is linked");
    let got = staff
        .http
        .get(staff.url(&photo_url))
        .send()
        .await
        .expect("GET photo");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), PNG);

    // Another person's contract: refused.
    let (s, v) = post_json(
        &app.client,
        form("k-other", &m3(first + 600), "").text("contrato", "999999999"),
    )
    .await;
    assert_eq!(
        (s, v["campo"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("contrato")),
        "{v}"
    );

    // Without JavaScript: the form posts (date as the browser's datetime-local, in
    // Mexico City time) and the browser is sent to the receipt.
    let local = (now - Duration::minutes(30))
        .with_timezone(&chrono_tz::America::Mexico_City)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let r = post(
        &app.client,
        form("k-5", &m3(first + 1_000), &local).text("contrato", contract_id.to_string()),
        "text/html,application/xhtml+xml",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert_eq!(to, "/cuenta/lectura/recibida?clave=k-5");
    let (s, _, html) = parts(app.get(&to).await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Recibimos tu lectura"), "{html}");
    assert!(
        html.contains(&app::api::m3_label(first + 1_000)),
        "the receipt shows the reading: {html}"
    );
    let (s, rc) = json(
        app.post_fn("citizen/self_read_receipt", &[("clave", "k-5")])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{rc}");
    assert_eq!(rc["accepted"], true);
    assert_eq!(rc["contract"], number.as_str());
    let stored = citizen_readings(&app, meter).await;
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert_eq!(
        stored[0].0.timestamp() / 60,
        (now - Duration::minutes(30)).timestamp() / 60,
        "the local time of the form is Mexico City's"
    );

    // Without JavaScript, refused: the same page again, 422, with the message next to
    // the field and what was typed.
    let r = post(&app.client, form("k-6", "doce", &local), "text/html").await;
    let (s, _, html) = parts(r).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(r#"id="lectura-error""#), "{html}");
    assert!(html.contains("Escribe la lectura en metros cúbicos, por ejemplo 123 o 123.5."));
    assert!(html.contains(r#"aria-invalid="true""#));
    assert!(html.contains(r#"value="doce""#));
    assert!(html.contains("<h1>Enviar mi lectura</h1>"));

    // Someone else's receipt says nothing.
    let other = app.new_client();
    app.citizen_sign_in(&other, &contracts[1]).await;
    let (s, _) = json(
        other
            .post_fn("citizen/self_read_receipt", &[("clave", "k-5")])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // "Mi consumo": this period has what the three readings added, from the
    // aggregates; 13 periods.
    let (s, c) = json(app.post_fn("citizen/consumption", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let periods = c["periods"].as_array().expect("periods");
    assert_eq!(periods.len(), 13);
    let current = &periods[12];
    assert_eq!(current["current"], true);
    assert_eq!(current["m3"], "3.5 m³", "{current}");
    assert!(
        c["comparison"][0]
            .as_str()
            .unwrap_or("")
            .ends_with("(periodo en curso) llevas 3.5 m³."),
        "{c}"
    );
    assert_eq!(c["number"], number.as_str());
    // The seeded history (aggregates rebuilt at seed time) gives last year's figure and
    // the neighbours' average for closed periods; the current one has no average yet.
    assert!(
        c["area_label"]
            .as_str()
            .is_some_and(|l| l.starts_with("tus vecinos de ")),
        "{c}"
    );
    assert!(
        periods[11]["area"]
            .as_str()
            .is_some_and(|a| a.ends_with(" m³")),
        "{c}"
    );
    assert!(current["area"].is_null(), "{c}");
    assert!(
        current["last_year"]
            .as_str()
            .is_some_and(|a| a.ends_with(" m³")),
        "{c}"
    );

    // Five neighbours (same sector, same use) with last period's consumption: their
    // average shows next to that period.
    let neighbours: Vec<i64> = {
        let sql = "SELECT m.id FROM meters m
            JOIN contracts c ON c.tenant_id = m.tenant_id AND c.id = m.contract_id
            JOIN tomas t ON t.tenant_id = c.tenant_id AND t.id = c.toma_id
            JOIN addresses a ON a.tenant_id = t.tenant_id AND a.id = t.address_id
            WHERE m.tenant_id = $1 AND c.id <> $2
              AND c.use_type = (SELECT use_type FROM contracts WHERE tenant_id = $1 AND id = $2)
              AND a.sector_id = (SELECT a2.sector_id FROM contracts c2
                    JOIN tomas t2 ON t2.tenant_id = c2.tenant_id AND t2.id = c2.toma_id
                    JOIN addresses a2 ON a2.tenant_id = t2.tenant_id AND a2.id = t2.address_id
                    WHERE c2.tenant_id = $1 AND c2.id = $2)
            ORDER BY m.id LIMIT 5";
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        match tx.tx_mut() {
            db::Tx::Sqlite(c) => sqlx::query_scalar(sql)
                .bind(app.tenant.0)
                .bind(contract_id)
                .fetch_all(&mut **c)
                .await
                .expect("neighbours"),
            db::Tx::Postgres(c) => sqlx::query_scalar(sql)
                .bind(app.tenant.0)
                .bind(contract_id)
                .fetch_all(&mut **c)
                .await
                .expect("neighbours"),
        }
    };
    assert_eq!(neighbours.len(), 5, "the demo sector has neighbours");
    let previous = metering::anomalies::shift_period(metering::record::period_of(Utc::now()), -1);
    {
        let mut tx = app.db.write(app.tenant).await.expect("tx");
        // Only these five have last period's figure (the seeded history is set aside).
        let sql = "DELETE FROM reading_periods WHERE tenant_id = $1 AND period = $2";
        match tx.tx_mut() {
            db::Tx::Sqlite(c) => sqlx::query(sql)
                .bind(app.tenant.0)
                .bind(previous)
                .execute(&mut **c)
                .await
                .map(|_| ()),
            db::Tx::Postgres(c) => sqlx::query(sql)
                .bind(app.tenant.0)
                .bind(previous)
                .execute(&mut **c)
                .await
                .map(|_| ()),
        }
        .expect("clear last period");
        let deltas: Vec<db::metering::PeriodDelta> = neighbours
            .iter()
            .enumerate()
            .map(|(i, &m)| db::metering::PeriodDelta {
                meter_id: m,
                period: previous,
                litres: 10_000 * (i as i64 + 1),
                readings: 1,
                last_at: Utc::now() - Duration::days(31),
                last_litres: 1_000_000,
            })
            .collect();
        db::metering::add_periods(&mut tx, &deltas)
            .await
            .expect("periods");
        tx.commit().await.expect("commit");
    }
    let (s, c) = json(app.post_fn("citizen/consumption", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["periods"][11]["area"], "30 m³", "{c}");
    assert!(
        c["area_label"]
            .as_str()
            .is_some_and(|l| l.starts_with("tus vecinos de ")),
        "{c}"
    );
    assert!(
        c["chart_desc"]
            .as_str()
            .unwrap_or("")
            .contains("promedio de tus vecinos")
    );

    // Alerts: a possible leak found on the meter shows on the dashboard, in a live
    // region, with what to do and the links to send a reading and see the consumption.
    {
        let mut tx = app.db.write(app.tenant).await.expect("tx");
        db::anomalies::insert(
            &mut tx,
            &db::anomalies::NewAnomaly {
                meter_id: meter,
                contract_id,
                kind: "fuga_nocturna".into(),
                dedupe_key: format!("fuga_nocturna:{meter}:prueba"),
                detail:
                    "Tu medidor registró paso de agua todas las noches desde el 20 de noviembre."
                        .into(),
                data: "{}".into(),
            },
            Utc::now(),
        )
        .await
        .expect("anomaly");
        tx.commit().await.expect("commit");
    }
    let (s, a) = json(app.post_fn("citizen/alerts", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a[0]["title"], "Posible fuga");
    assert_eq!(a[0]["urgent"], true);
    assert!(
        a[0]["advice"]
            .as_str()
            .unwrap_or("")
            .starts_with("Revisa que no haya llaves abiertas")
    );
    let (s, _, html) = parts(app.get("/cuenta").await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Avisos sobre tu consumo"), "{html}");
    assert!(html.contains("Posible fuga: "));
    assert!(html.contains(r#"<div role="status"><ul class="alert-list">"#));
    assert!(
        html.contains(r#"href="/cuenta/lectura""#) && html.contains(r#"href="/cuenta/consumo""#)
    );
    // The other citizen does not see it.
    let (_, theirs) = json(other.post_fn("citizen/alerts", &[]).await).await;
    assert!(
        !theirs.to_string().contains("desde el 20 de noviembre"),
        "{theirs}"
    );

    app.shutdown().await;
}

both!(sqlite_self_read, postgres_self_read, scenario);
