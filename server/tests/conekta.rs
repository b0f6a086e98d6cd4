//! OXXO references through Conekta, end to end over HTTP on SQLite and PostgreSQL: the
//! citizen asks for a reference (once per submit), the Conekta simulator — the
//! production client pointed at it by URL — is paid as an OXXO till would, delivers
//! signed `charge.paid` and `order.paid` several times and out of order, and the bill
//! is paid exactly once. Bad signatures, stale and malformed events, amounts over the
//! OXXO limit, expiry and stopped collection each have a clear outcome.

mod common;

use std::time::Duration;

use common::{Backend, demo_contracts, expect_error, json, spawn};
use reqwest::StatusCode;
use serde_json::Value;

async fn balance(app: &common::TestApp, contract: &str) -> (i64, i64) {
    let mut tx = app.db.read(app.tenant).await.expect("tx");
    let c = db::repo::contract_contact(&mut tx, contract)
        .await
        .expect("contact")
        .expect("exists");
    let a = db::repo::account_by_id(&mut tx, c.contract_id)
        .await
        .expect("account")
        .expect("exists");
    (c.contract_id, a.balance_centavos)
}

async fn order_status(app: &common::TestApp, id: i64) -> String {
    let mut tx = app.db.read(app.tenant).await.expect("tx");
    db::payments::order_by_id(&mut tx, id)
        .await
        .expect("order")
        .expect("exists")
        .status
}

/// Poll until the order reaches `status` (the outbox worker applies webhooks).
async fn wait_status(app: &common::TestApp, id: i64, status: &str) {
    for _ in 0..100 {
        if order_status(app, id).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "order {id} never reached {status}: {}",
        order_status(app, id).await
    );
}

fn centavos(amount: &str) -> i64 {
    let d: rust_decimal::Decimal = amount
        .trim_start_matches('$')
        .replace(',', "")
        .parse()
        .expect("amount");
    i64::try_from((d * rust_decimal::Decimal::from(100)).mantissa()).expect("fits")
        / 10_i64.pow((d * rust_decimal::Decimal::from(100)).scale())
}

async fn oxxo(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let sim = app
        .conekta_sim
        .clone()
        .expect("development starts the Conekta simulator");
    let http = reqwest::Client::new();
    let contracts = demo_contracts();
    let (number, other) = (&contracts[0], &contracts[1]);
    app.citizen_sign_in(&app.client, number).await;

    // The choices: OXXO is offered, with the oldest open bill.
    let (s, c) = json(app.post_fn("citizen/pay_options", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["oxxo_available"], true);
    let bill = c["bill"].as_array().expect("an open bill to pay").clone();
    let bill_id = bill[0].as_i64().expect("id").to_string();
    let bill_amount = centavos(bill[2].as_str().expect("amount"));
    let clave = c["clave"].as_str().expect("clave").to_string();

    // A reference for the bill; the same submit again is the same reference.
    let form = [
        ("metodo", "oxxo"),
        ("opcion", "recibo"),
        ("recibo", bill_id.as_str()),
        ("clave", clave.as_str()),
    ];
    let (s, o) = json(app.post_fn("citizen/pay", &form).await).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    let order_id = o["id"].as_i64().expect("id");
    let reference: String = o["reference"]
        .as_str()
        .expect("reference")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(reference.len(), 14, "OXXO references are 14 digits");
    assert_eq!(centavos(o["amount"].as_str().expect("amount")), bill_amount);
    assert_eq!(o["status"], "pendiente");
    assert!(
        o["share_text"]
            .as_str()
            .expect("share")
            .contains(&o["reference"].as_str().unwrap_or_default().to_string())
    );
    let (_, again) = json(app.post_fn("citizen/pay", &form).await).await;
    assert_eq!(
        again["id"].as_i64(),
        Some(order_id),
        "one submit, one reference"
    );

    // Its barcode, only for its owner.
    let r = app
        .get(&format!("/cuenta/pagos/{order_id}/codigo.png"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.expect("png");
    assert!(png.starts_with(b"\x89PNG"));
    let stranger = app.new_client();
    app.citizen_sign_in(&stranger, other).await;
    assert_eq!(
        stranger
            .get(&format!("/cuenta/pagos/{order_id}/codigo.png"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Over the OXXO limit, nonsense, nothing chosen: 4xx with the reason by the field.
    let fresh = |k: &str| format!("{clave}-{k}");
    let k1 = fresh("a");
    expect_error(
        app.post_fn(
            "citizen/pay",
            &[
                ("metodo", "oxxo"),
                ("opcion", "otro"),
                ("otro", "10000.01"),
                ("clave", &k1),
            ],
        )
        .await,
        422,
        "10,000.00",
    )
    .await;
    let k2 = fresh("b");
    expect_error(
        app.post_fn(
            "citizen/pay",
            &[
                ("metodo", "oxxo"),
                ("opcion", "otro"),
                ("otro", "doce"),
                ("clave", &k2),
            ],
        )
        .await,
        422,
        "importe",
    )
    .await;
    let k3 = fresh("c");
    expect_error(
        app.post_fn(
            "citizen/pay",
            &[("metodo", "oxxo"), ("opcion", ""), ("clave", &k3)],
        )
        .await,
        422,
        "Elige",
    )
    .await;

    // The till takes the cash: Conekta delivers charge.paid and order.paid, three
    // times each, order.paid first. Applied once.
    let (contract_id, before) = balance(&app, number).await;
    let r = http
        .post(format!("{sim}/sim/pay"))
        .json(&serde_json::json!({"reference": reference, "duplicate": 3, "reorder": true}))
        .send()
        .await
        .expect("sim pay");
    let (s, paid) = json(r).await;
    assert_eq!(s, StatusCode::OK, "{paid}");
    let deliveries: Vec<u64> = paid["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(deliveries, vec![200; 6], "every delivery answered 200");
    wait_status(&app, order_id, "confirmado").await;
    let (_, after) = balance(&app, number).await;
    assert_eq!(before - after, bill_amount, "applied exactly once");
    {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let received = db::payments::received_by_key(
            &mut tx,
            &format!("conekta:{}", paid["order_id"].as_str().expect("order")),
        )
        .await
        .expect("received")
        .expect("recorded");
        assert_eq!(received.contract_id, Some(contract_id));
        assert_eq!(received.amount_centavos, bill_amount);
        assert_eq!(received.channel, "oxxo");
        let bills = db::billing::invoices_of_contract(&mut tx, contract_id, 100)
            .await
            .expect("bills");
        let paid_bill = bills
            .iter()
            .find(|b| b.id.to_string() == bill_id)
            .expect("bill");
        let parts = db::cfdi::payments_of_invoice(&mut tx, paid_bill.id)
            .await
            .expect("parts");
        assert_eq!(
            parts.iter().map(|p| p.amount_centavos).sum::<i64>(),
            bill_amount
        );
    }
    // The citizen sees it confirmed.
    let (_, c) = json(app.post_fn("citizen/pay_options", &[]).await).await;
    let listed = c["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .find(|o| o["id"].as_i64() == Some(order_id))
        .cloned()
        .expect("listed");
    assert_eq!(listed["status"], "confirmado");

    // The payment is in the citizen's history, with a receipt and the CSV export.
    let (s, history) = json(app.post_fn("citizen/payments", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{history}");
    let row = history
        .as_array()
        .expect("history")
        .iter()
        .find(|p| p["method"] == "Efectivo en OXXO")
        .cloned()
        .expect("the OXXO payment is listed");
    assert_eq!(
        centavos(row["amount"].as_str().expect("amount")),
        bill_amount
    );
    let pid = row["id"].as_i64().expect("id");
    let r = app.get(&format!("/cuenta/pagos/{pid}/recibo.pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.expect("pdf").starts_with(b"%PDF-"));
    assert_eq!(
        stranger
            .get(&format!("/cuenta/pagos/{pid}/recibo.pdf"))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "another contract's receipt"
    );
    let r = app.get("/cuenta/pagos.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let csv = r.text().await.expect("csv");
    assert!(
        csv.contains("fecha,forma de pago,importe,referencia,folio"),
        "{csv}"
    );
    let pesos = format!("{}.{:02}", bill_amount / 100, bill_amount % 100);
    assert!(csv.contains(&format!("Efectivo en OXXO,{pesos},")), "{csv}");

    // A reference that expires unpaid.
    let k4 = fresh("d");
    let (_, o2) = json(
        app.post_fn(
            "citizen/pay",
            &[
                ("metodo", "oxxo"),
                ("opcion", "otro"),
                ("otro", "150"),
                ("clave", &k4),
            ],
        )
        .await,
    )
    .await;
    let id2 = o2["id"].as_i64().expect("id");
    let provider_id = {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        db::payments::order_by_id(&mut tx, id2)
            .await
            .expect("o")
            .expect("o")
            .provider_order_id
    };
    let r = http
        .post(format!("{sim}/sim/expire"))
        .json(&serde_json::json!({"order_id": provider_id}))
        .send()
        .await
        .expect("expire");
    assert_eq!(r.status(), StatusCode::OK);
    wait_status(&app, id2, "vencido").await;

    // Signatures: with another key, or none, 401 and nothing stored.
    let other_key = payments::conekta::WebhookSigner::generate().expect("key");
    let body = serde_json::json!({"id": "evt_forged", "type": "order.paid", "created_at": chrono::Utc::now().timestamp(),
        "data": {"object": {"id": provider_id, "object": "order", "amount": 15000}}}).to_string();
    let post = |body: String, digest: Option<String>| {
        let (http, url) = (http.clone(), format!("{}/webhooks/conekta", app.addr));
        async move {
            let mut r = http
                .post(url)
                .header("content-type", "application/json")
                .body(body);
            if let Some(d) = digest {
                r = r.header("digest", d);
            }
            r.send().await.expect("webhook")
        }
    };
    expect_error(
        post(body.clone(), Some(other_key.sign(body.as_bytes()))).await,
        401,
        "digest",
    )
    .await;
    expect_error(post(body.clone(), None).await, 401, "digest").await;
    expect_error(post(body.clone(), Some("%%%".into())).await, 401, "base64").await;

    // Rotate the utility's key to one this test holds: stale and malformed events.
    {
        let mut tx = app.db.write(app.tenant).await.expect("tx");
        db::payments::save_conekta_webhook_key(
            &mut tx,
            "test",
            other_key.public_pem(),
            chrono::Utc::now(),
        )
        .await
        .expect("key");
        tx.commit().await.expect("commit");
    }
    let stale = serde_json::json!({"id": "evt_old", "type": "order.paid", "created_at": chrono::Utc::now().timestamp() - 4 * 86_400,
        "data": {"object": {"id": provider_id, "object": "order", "amount": 15000}}}).to_string();
    expect_error(
        post(stale.clone(), Some(other_key.sign(stale.as_bytes()))).await,
        400,
        "horas",
    )
    .await;
    let junk = "{\"no\": \"evento\"".to_string();
    expect_error(
        post(junk.clone(), Some(other_key.sign(junk.as_bytes()))).await,
        400,
        "JSON",
    )
    .await;
    // A genuine event for an order Conekta does not know: stored, looked up, ignored.
    let unknown = serde_json::json!({"id": "evt_unknown", "type": "order.paid", "created_at": chrono::Utc::now().timestamp(),
        "data": {"object": {"id": "ord_nobody", "object": "order", "amount": 15000}}}).to_string();
    let r = post(unknown.clone(), Some(other_key.sign(unknown.as_bytes()))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, after_unknown) = balance(&app, number).await;
    assert_eq!(after_unknown, after, "nothing applied for an unknown order");

    // Collection stopped for the contract: no new references.
    {
        let mut tx = app.db.write(app.tenant).await.expect("tx");
        db::payments::set_collection_block(
            &mut tx,
            contract_id,
            Some("convenio en revisión jurídica"),
            chrono::Utc::now(),
        )
        .await
        .expect("block");
        tx.commit().await.expect("commit");
    }
    let k5 = fresh("e");
    expect_error(
        app.post_fn(
            "citizen/pay",
            &[
                ("metodo", "oxxo"),
                ("opcion", "otro"),
                ("otro", "100"),
                ("clave", &k5),
            ],
        )
        .await,
        422,
        "oficina",
    )
    .await;
    app.shutdown().await;
}

both!(sqlite_oxxo, postgres_oxxo, oxxo);

/// Card payments, server side: a token (Conekta's server-side test tokens stand in for
/// the browser's tokenizer) is charged with 3-D Secure — the citizen is sent to the
/// bank's page and back — and the payment is applied once when Conekta reports it;
/// declines come back as a field error with the alternatives.
async fn card(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let sim = app.conekta_sim.clone().expect("Conekta simulator");
    let providers = app.payment_providers.clone();
    let number = demo_contracts()[0].clone();
    let (contract_id, before) = balance(&app, &number).await;
    let order = |token: &'static str, key: &'static str| {
        let (db, tenant, providers) = (app.db.clone(), app.tenant, providers.clone());
        async move {
            invoicing::orders::create(
                &db,
                tenant,
                &providers,
                &invoicing::orders::NewOrderRequest {
                    contract_id,
                    citizen_id: None,
                    invoice_id: None,
                    amount_centavos: 1_234_567,
                    method: invoicing::orders::Method::Card {
                        token_id: token.into(),
                        return_url: "https://agua.example/cuenta/pagar/tarjeta".into(),
                    },
                    idempotency_key: key.into(),
                },
                chrono::Utc::now(),
            )
            .await
        }
    };
    // Declined cards: the bank's reason and what else the citizen can do.
    for token in ["tok_test_card_declined", "tok_test_insufficient_funds"] {
        match order(token, token).await {
            Err(invoicing::Error::Invalid { field, message }) => {
                assert_eq!(field, "tarjeta");
                assert!(
                    message.contains("OXXO") && message.contains("SPEI"),
                    "{message}"
                );
            }
            other => panic!("{token}: expected a decline, got {other:?}"),
        }
    }
    // Over the OXXO limit is fine by card; 3-D Secure sends the citizen to the bank.
    let o = order("tok_test_visa_4242", "card-1")
        .await
        .expect("card order");
    assert_eq!(o.status, "pendiente");
    assert_eq!(o.channel, "card");
    let redirect = o.redirect_url.clone().expect("3-D Secure redirect");
    assert!(redirect.starts_with(&sim), "{redirect}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = http.get(&redirect).send().await.expect("3ds page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("html").contains("$12,345.67"));
    let back = http
        .post(format!("{redirect}/autorizar"))
        .send()
        .await
        .expect("authorise");
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let location = back.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(
        location.starts_with("https://agua.example/cuenta/pagar/tarjeta?order_id=")
            && location.ends_with("payment_status=paid"),
        "{location}"
    );
    wait_status(&app, o.id, "confirmado").await;
    let (_, after) = balance(&app, &number).await;
    assert_eq!(before - after, 1_234_567, "charged once");
    {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let r = db::payments::received_by_key(&mut tx, &format!("conekta:{}", o.provider_order_id))
            .await
            .expect("received")
            .expect("recorded");
        assert_eq!(r.channel, "card");
    }
    app.shutdown().await;
}

both!(sqlite_card, postgres_card, card);

/// Card payments as the browser makes them: Conekta.js (served by the simulator, the
/// production script's API) tokenizes the card on Conekta's origin — CORS, the public
/// key, issuer-style checks — and only the token reaches our `citizen/pay_card`; 3-D
/// Secure sends the citizen to the bank and back to `/cuenta/pagar/tarjeta`, whose
/// answer is read from our records and Conekta, not from the query string.
async fn card_browser_flow(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let sim = app.conekta_sim.clone().expect("Conekta simulator");
    let contracts = demo_contracts();
    let number = &contracts[0];
    app.citizen_sign_in(&app.client, number).await;
    let (_, before) = balance(&app, number).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let (s, c) = json(app.post_fn("citizen/pay_options", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["card_available"], true, "{c}");
    let clave = c["clave"].as_str().expect("clave").to_string();

    // Step one: the amount; nothing is charged, the card form gets what it needs.
    let (s, step) = json(
        app.post_fn(
            "citizen/pay",
            &[
                ("metodo", "tarjeta"),
                ("opcion", "otro"),
                ("otro", "250.50"),
                ("clave", &clave),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{step}");
    let card = &step["card"];
    assert_eq!(card["importe_centavos"], 25_050);
    let script = card["script_url"].as_str().expect("script").to_string();
    let public_key = card["public_key"].as_str().expect("key").to_string();
    assert_eq!(script, format!("{sim}/conekta.js"));
    let js = http.get(&script).send().await.expect("conekta.js");
    assert_eq!(js.status(), StatusCode::OK);
    let js = js.text().await.expect("js");
    assert!(
        js.contains("setPublicKey") && js.contains("/tokens"),
        "{js}"
    );

    // The browser's preflight from our origin is allowed.
    let pre = http
        .request(reqwest::Method::OPTIONS, format!("{sim}/tokens"))
        .header("Origin", app.url(""))
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("preflight");
    assert_eq!(
        pre.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some(app.url("").as_str())
    );
    let tokenize = |key: String, number: &'static str, cvc: &'static str| {
        let http = http.clone();
        let sim = sim.clone();
        async move {
            let r = http
                .post(format!("{sim}/tokens"))
                .basic_auth(key, Some(""))
                .json(
                    &serde_json::json!({"card": {"number": number, "name": "Ana López",
                    "exp_month": "08", "exp_year": "2099", "cvc": cvc}}),
                )
                .send()
                .await
                .expect("tokens");
            let status = r.status();
            (status, r.json::<Value>().await.expect("json"))
        }
    };
    let (s, e) = tokenize("key_wrong".into(), "4242424242424242", "123").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{e}");
    let (s, e) = tokenize(public_key.clone(), "4242424242424243", "123").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "card[number]");
    assert!(
        e["message_to_purchaser"]
            .as_str()
            .expect("msg")
            .contains("número")
    );
    let (s, e) = tokenize(public_key.clone(), "4242424242424242", "1").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "card[cvc]");

    // A declined card: the bank's reason and the alternatives, next to the card.
    let (s, t) = tokenize(public_key.clone(), "4000000000000002", "123").await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let declined = t["id"].as_str().expect("token").to_string();
    expect_error(
        app.post_fn(
            "citizen/pay_card",
            &[
                ("importe_centavos", "25050"),
                ("clave", &clave),
                ("token", &declined),
            ],
        )
        .await,
        422,
        "OXXO",
    )
    .await;
    // Something that is not a token is refused before Conekta is asked.
    expect_error(
        app.post_fn(
            "citizen/pay_card",
            &[
                ("importe_centavos", "25050"),
                ("clave", &clave),
                ("token", "4242424242424242"),
            ],
        )
        .await,
        422,
        "tarjeta",
    )
    .await;

    // Approved with 3-D Secure: to the bank's page and back to us.
    let (s, t) = tokenize(public_key.clone(), "4242 4242 4242 4242", "123").await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let token = t["id"].as_str().expect("token").to_string();
    let form = [
        ("importe_centavos", "25050"),
        ("clave", clave.as_str()),
        ("token", token.as_str()),
    ];
    let pay = || app.post_fn("citizen/pay_card", &form);
    let (s, o) = json(pay().await).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    let redirect = o["redirect_url"].as_str().expect("3-D Secure").to_string();
    assert!(redirect.starts_with(&sim), "{redirect}");
    // A double submit is the same charge.
    let (_, again) = json(pay().await).await;
    assert_eq!(again["id"], o["id"]);
    let back = http
        .post(format!("{redirect}/autorizar"))
        .send()
        .await
        .expect("authorise");
    let location = back.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let prefix = format!("{}/cuenta/pagar/tarjeta?order_id=", app.url(""));
    assert!(location.starts_with(&prefix), "{location}");
    let order_id = location[prefix.len()..]
        .split('&')
        .next()
        .expect("order id")
        .to_string();
    let page = app.get(&location[app.url("").len()..]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Pago aprobado") || html.contains("Pago aplicado"),
        "{html}"
    );
    // Applied once when Conekta's webhook is processed; the receipt is offered.
    let mut result = Value::Null;
    for _ in 0..100 {
        let (_, r) = json(
            app.post_fn("citizen/card_result", &[("order_id", &order_id)])
                .await,
        )
        .await;
        result = r;
        if result["status"] == "confirmado" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(result["status"], "confirmado", "{result}");
    assert!(result["receipt_id"].as_i64().is_some(), "{result}");
    let (_, after) = balance(&app, number).await;
    assert_eq!(before - after, 25_050);
    // Someone else's (or an invented) order is not found.
    let (s, _) = json(
        app.post_fn("citizen/card_result", &[("order_id", "ord_nadie")])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Cancelled at the bank: the page says so and offers to try again.
    let (_, t) = tokenize(public_key.clone(), "5555555555554444", "123").await;
    let token2 = t["id"].as_str().expect("token").to_string();
    let (s, c2) = json(app.post_fn("citizen/pay_options", &[]).await).await;
    assert_eq!(s, StatusCode::OK);
    let clave2 = c2["clave"].as_str().expect("clave").to_string();
    let (s, o2) = json(
        app.post_fn(
            "citizen/pay_card",
            &[
                ("importe_centavos", "10000"),
                ("clave", &clave2),
                ("token", &token2),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{o2}");
    let redirect2 = o2["redirect_url"].as_str().expect("3-D Secure").to_string();
    let back = http
        .post(format!("{redirect2}/cancelar"))
        .send()
        .await
        .expect("cancel");
    let location = back.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let html = app
        .get(&location[app.url("").len()..])
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Pago no realizado") && html.contains("Intentar de nuevo"),
        "{html}"
    );
    let (_, after2) = balance(&app, number).await;
    assert_eq!(after2, after, "nothing charged");
    app.shutdown().await;
}

both!(
    sqlite_card_browser,
    postgres_card_browser,
    card_browser_flow
);

/// Conekta's SPEI option (for utilities without their own STP concentradora): a valid
/// CLABE for the one order; the transfer's `order.paid` applies it once, as SPEI.
async fn conekta_spei(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let sim = app.conekta_sim.clone().expect("Conekta simulator");
    let number = demo_contracts()[1].clone();
    let (contract_id, before) = balance(&app, &number).await;
    let o = invoicing::orders::create(
        &app.db,
        app.tenant,
        &app.payment_providers,
        &invoicing::orders::NewOrderRequest {
            contract_id,
            citizen_id: None,
            invoice_id: None,
            amount_centavos: 4_321,
            method: invoicing::orders::Method::ConektaSpei,
            idempotency_key: "spei-conekta-1".into(),
        },
        chrono::Utc::now(),
    )
    .await
    .expect("SPEI order");
    assert_eq!(o.channel, "spei");
    let clabe: domain::Clabe = o
        .reference
        .as_deref()
        .expect("a CLABE to pay to")
        .parse()
        .expect("a CLABE with a valid check digit");
    assert_eq!(clabe.bank_code(), "646");
    assert!(o.expires_at.is_some());
    let paid = reqwest::Client::new()
        .post(format!("{sim}/sim/pay"))
        .json(&serde_json::json!({"order_id": o.provider_order_id, "duplicate": 2}))
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status(), StatusCode::OK);
    wait_status(&app, o.id, "confirmado").await;
    app.settle_webhooks().await;
    let (_, after) = balance(&app, &number).await;
    assert_eq!(before - after, 4_321, "applied once");
    let mut tx = app.db.read(app.tenant).await.expect("tx");
    let r = db::payments::received_by_key(&mut tx, &format!("conekta:{}", o.provider_order_id))
        .await
        .expect("received")
        .expect("recorded");
    assert_eq!(r.channel, "spei");
    drop(tx);
    app.shutdown().await;
}

both!(sqlite_conekta_spei, postgres_conekta_spei, conekta_spei);
