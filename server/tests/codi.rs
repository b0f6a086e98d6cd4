//! CoDi over HTTP on SQLite and PostgreSQL: the citizen asks for a CoDi QR, the QR
//! (read back with an independent decoder, as the payer's banking app would) names the
//! amount, the reference and the contract's CLABE; the STP simulator pays it as the
//! bank does — a SPEI abono with `folioCodi` and the reference — and the outbox worker
//! applies it to the contract once and confirms the request.

mod common;

use common::{Backend, demo_contracts, expect_error, json, spawn};
use reqwest::StatusCode;
use serde_json::Value;

async fn balance(app: &common::TestApp, number: &str) -> i64 {
    let mut tx = app.db.read(app.tenant).await.expect("tx");
    let c = db::repo::contract_contact(&mut tx, number)
        .await
        .expect("contact")
        .expect("exists");
    db::repo::account_by_id(&mut tx, c.contract_id)
        .await
        .expect("account")
        .expect("exists")
        .balance_centavos
}

fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("png");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("decodes").1
}

async fn codi(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let stp = app.stp_sim.clone().expect("STP simulator");
    let contracts = demo_contracts();
    let number = &contracts[0];
    app.citizen_sign_in(&app.client, number).await;
    let before = balance(&app, number).await;

    let (s, c) = json(app.post_fn("citizen/pay_options", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let clave = c["clave"].as_str().expect("clave").to_string();
    let clabe = c["spei_clabe"].as_str().expect("a CLABE").to_string();
    let form = [
        ("metodo", "codi"),
        ("opcion", "otro"),
        ("otro", "123.45"),
        ("clave", clave.as_str()),
    ];
    let ask = || app.post_fn("citizen/pay", &form);
    let (s, o) = json(ask().await).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["channel"], "codi");
    assert_eq!(o["clabe"], clabe.as_str());
    let reference = o["reference"].as_str().expect("reference").to_string();
    assert!(
        reference.len() == 7 && reference.chars().all(|c| c.is_ascii_digit()),
        "{reference}"
    );
    // A double submit is the same request.
    let (_, again) = json(ask().await).await;
    assert_eq!(again["id"], o["id"]);

    // The QR, read back: amount, reference and the contract's CLABE.
    let id = o["id"].as_i64().expect("id");
    let r = app.get(&format!("/cuenta/pagos/{id}/codi.png")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    let text = decode_qr(&r.bytes().await.expect("png"));
    let qr: Value = serde_json::from_str(&text).expect("QR text is the request");
    assert_eq!(qr["datosMC"]["monto"], "123.45");
    assert_eq!(qr["datosMC"]["referenciaNumerica"], reference.as_str());
    assert_eq!(qr["cuentaBeneficiario"], clabe.as_str());
    assert!(
        qr["datosMC"]["concepto"]
            .as_str()
            .expect("concepto")
            .contains(number.as_str())
    );

    // Someone else cannot see it.
    let other = app.new_client();
    app.citizen_sign_in(&other, &contracts[1]).await;
    let r = other.get(&format!("/cuenta/pagos/{id}/codi.png")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The payer's bank pays the QR: an abono with folioCodi and the reference.
    let http = reqwest::Client::new();
    let paid: Value = http
        .post(format!("{stp}/sim/codi"))
        .json(&serde_json::json!({"qr": text}))
        .send()
        .await
        .expect("pay")
        .json()
        .await
        .expect("json");
    assert_eq!(paid["delivered"], 200, "{paid}");
    app.settle_webhooks().await;
    assert_eq!(before - balance(&app, number).await, 12_345);
    let (_, c) = json(app.post_fn("citizen/pay_options", &[]).await).await;
    let listed = c["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .find(|x| x["id"] == id)
        .cloned()
        .expect("listed");
    assert_eq!(listed["status"], "confirmado", "{listed}");
    let (_, history) = json(app.post_fn("citizen/payments", &[]).await).await;
    assert!(
        history
            .as_array()
            .expect("rows")
            .iter()
            .any(|p| p["method"].as_str().is_some_and(|m| m.contains("CoDi"))),
        "{history}"
    );

    // An API client keys its request with the Idempotency-Key header instead of the
    // form's `clave`: the same key is the same request; a different one, a new one; a
    // header that contradicts the form is refused.
    let api = |key: &'static str, clave: Option<&'static str>| {
        let mut form = vec![("metodo", "codi"), ("opcion", "otro"), ("otro", "7.00")];
        if let Some(c) = clave {
            form.push(("clave", c));
        }
        app.http
            .post(app.url("/api/citizen/pay"))
            .header("Idempotency-Key", key)
            .form(&form)
            .send()
    };
    let (s, first) = json(api("api-key-1", None).await.expect("pay")).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let (_, same) = json(api("api-key-1", None).await.expect("pay")).await;
    assert_eq!(same["id"], first["id"]);
    let (_, other) = json(api("api-key-2", None).await.expect("pay")).await;
    assert_ne!(other["id"], first["id"]);
    expect_error(
        api("api-key-3", Some("otra-clave")).await.expect("pay"),
        422,
        "Idempotency-Key",
    )
    .await;

    // Zero is refused next to the amount.
    let (_, c) = json(app.post_fn("citizen/pay_options", &[]).await).await;
    let clave2 = c["clave"].as_str().expect("clave").to_string();
    expect_error(
        app.post_fn(
            "citizen/pay",
            &[
                ("metodo", "codi"),
                ("opcion", "otro"),
                ("otro", "0"),
                ("clave", &clave2),
            ],
        )
        .await,
        422,
        "mayor que cero",
    )
    .await;
    app.shutdown().await;
}

both!(sqlite_codi, postgres_codi, codi);
