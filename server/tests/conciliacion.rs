//! Daily reconciliation over HTTP on SQLite and PostgreSQL, against the STP and
//! Conekta simulators: an abono STP never notified, one whose amount STP records
//! differently, one we recorded that STP does not list, and an OXXO payment whose
//! webhook never came — each reported with its kind; matching ones are not.

mod common;

use common::{Backend, demo_contracts, expect_error, json, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn recon(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let stp = app.stp_sim.clone().expect("STP simulator");
    let sim = app.conekta_sim.clone().expect("Conekta simulator");
    let http = reqwest::Client::new();
    let contract_id = {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        db::repo::contract_contact(&mut tx, &demo_contracts()[0])
            .await
            .expect("c")
            .expect("exists")
            .contract_id
    };
    let clabe = payments::clabe::for_contract(server::DEMO_STP_PREFIX, contract_id)
        .expect("clabe")
        .as_str()
        .to_string();
    let abono = |body: Value| {
        let (http, stp) = (http.clone(), stp.clone());
        async move {
            let r = http
                .post(format!("{stp}/sim/abono"))
                .json(&body)
                .send()
                .await
                .expect("sim");
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.expect("json")
        }
    };
    let ok = abono(json!({"cuentaBeneficiario": clabe, "monto": "100.00"})).await;
    assert_eq!(ok["delivered"], 200, "STP delivered it to our webhook");
    let lost =
        abono(json!({"cuentaBeneficiario": clabe, "monto": "50.00", "deliver": false})).await;
    let differs =
        abono(json!({"cuentaBeneficiario": clabe, "monto": "70.00", "statement_monto": "75.00"}))
            .await;
    // One we recorded that STP's statement does not list.
    let extra = format!(
        r#"{{"id":99000001,"fechaOperacion":20261124,"institucionOrdenante":40012,"claveRastreo":"EXTRA1","monto":12.34,"nombreOrdenante":"X","cuentaOrdenante":"012180015555555557","cuentaBeneficiario":"{clabe}","conceptoPago":"AGUA","tsLiquidacion":{}}}"#,
        chrono::Utc::now().timestamp_millis()
    );
    let r = http
        .post(format!("{}/webhooks/stp/abono", app.addr))
        .header("content-type", "application/json")
        .body(extra)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);

    // Conekta: one OXXO payment notified, one whose webhooks never came.
    let providers = app.payment_providers.clone();
    let mut order_ids = vec![];
    for (i, amount) in [(0, 20_000), (1, 33_300)] {
        let o = invoicing::orders::create(
            &app.db,
            app.tenant,
            &providers,
            &invoicing::orders::NewOrderRequest {
                contract_id,
                citizen_id: None,
                invoice_id: None,
                amount_centavos: amount,
                method: invoicing::orders::Method::Oxxo,
                idempotency_key: format!("recon-{i}"),
            },
            chrono::Utc::now(),
        )
        .await
        .expect("order");
        order_ids.push(o.provider_order_id);
    }
    let r = http
        .post(format!("{sim}/sim/pay"))
        .json(&json!({"order_id": order_ids[0]}))
        .send()
        .await
        .expect("pay");
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .post(format!("{sim}/sim/pay"))
        .json(&json!({"order_id": order_ids[1], "hold": true}))
        .send()
        .await
        .expect("pay held");
    assert_eq!(r.status(), StatusCode::OK);
    app.settle_webhooks().await;

    let staff = app.new_client();
    app.staff_sign_in(&staff, "facturacion@cea-qro.example")
        .await;
    expect_error(
        staff.post_fn("staff/reconcile", &[("dia", "ayer")]).await,
        422,
        "AAAA-MM-DD",
    )
    .await;
    expect_error(
        staff
            .post_fn("staff/reconcile", &[("dia", "2999-01-01")])
            .await,
        422,
        "aún no llega",
    )
    .await;
    let today = invoicing::today().to_string();
    let (s, n) = json(
        staff
            .post_fn("staff/reconcile", &[("dia", today.as_str())])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{n}");
    assert_eq!(n, 2, "STP and Conekta");

    let (_, runs) = json(staff.post_fn("staff/reconciliations", &[]).await).await;
    let runs = runs.as_array().expect("runs").clone();
    let by = |label: &str| {
        runs.iter()
            .find(|r| r["provider"].as_str().is_some_and(|p| p.contains(label)))
            .cloned()
            .expect(label)
    };
    let stp_run = by("STP");
    assert_eq!(stp_run["statement_count"], 3, "{stp_run}");
    assert_eq!(stp_run["ours_count"], 3, "{stp_run}");
    assert_eq!(stp_run["matched"], 1, "{stp_run}");
    assert_eq!(stp_run["issues"], 3, "{stp_run}");
    let id = stp_run["id"].as_i64().expect("id").to_string();
    let (s, detail) = json(
        staff
            .post_fn("staff/reconciliation_items", &[("corrida", id.as_str())])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{detail}");
    let items = detail[1].as_array().expect("items");
    let kind_of = |key: String| {
        items
            .iter()
            .find(|i| i["key"] == key)
            .map(|i| i["kind"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(
        kind_of(format!("stp:{}", lost["id"])).as_deref(),
        Some("faltante")
    );
    assert_eq!(
        kind_of(format!("stp:{}", differs["id"])).as_deref(),
        Some("importe_distinto")
    );
    assert_eq!(kind_of("stp:99000001".into()).as_deref(), Some("sobrante"));
    assert_eq!(
        kind_of(format!("stp:{}", ok["id"])),
        None,
        "matched: not a difference"
    );
    let differs_item = items
        .iter()
        .find(|i| i["kind"] == "importe_distinto")
        .expect("item");
    assert_eq!(differs_item["statement_amount"], "$75.00");
    assert_eq!(differs_item["ours_amount"], "$70.00");

    let conekta_run = by("Conekta");
    assert_eq!(conekta_run["statement_count"], 2, "{conekta_run}");
    assert_eq!(conekta_run["matched"], 1, "{conekta_run}");
    assert_eq!(conekta_run["issues"], 1, "{conekta_run}");
    let id = conekta_run["id"].as_i64().expect("id").to_string();
    let (_, detail) = json(
        staff
            .post_fn("staff/reconciliation_items", &[("corrida", id.as_str())])
            .await,
    )
    .await;
    let items = detail[1].as_array().expect("items");
    assert_eq!(items[0]["kind"], "faltante");
    assert_eq!(items[0]["key"], format!("conekta:{}", order_ids[1]));

    // Other roles may not.
    let other = app.new_client();
    app.staff_sign_in(&other, "atencion@cea-qro.example").await;
    assert_eq!(
        other.post_fn("staff/reconciliations", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    app.shutdown().await;
}

both!(sqlite_reconciliation, postgres_reconciliation, recon);
