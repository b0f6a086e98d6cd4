//! Ventanilla over HTTP on SQLite and PostgreSQL: a cashier opens the drawer, takes
//! cash and cheque payments (one per submit, applied oldest bill first), prints the
//! 80 mm receipt and closes with the corte de caja — totals per method, the cash
//! expected, and a note required for a difference. Bad input is a 4xx with the reason
//! by its field; other roles are refused.

mod common;

use common::{Backend, demo_contracts, expect_error, json, spawn};
use reqwest::StatusCode;

async fn balance(app: &common::TestApp, number: &str) -> i64 {
    let mut tx = app.db.read(app.tenant).await.expect("tx");
    let c = db::repo::contract_contact(&mut tx, number)
        .await
        .expect("c")
        .expect("exists");
    db::repo::account_by_id(&mut tx, c.contract_id)
        .await
        .expect("a")
        .expect("a")
        .balance_centavos
}

async fn caja(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let number = demo_contracts()[2].clone();
    let cashier = app.new_client();
    app.staff_sign_in(&cashier, "cajero@cea-qro.example").await;

    let (s, d) = json(cashier.post_fn("staff/cash", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert!(d["open"].is_null(), "no session yet");
    let clave = d["clave"].as_str().expect("clave").to_string();
    let take = |importe: &'static str, forma: &'static str, cheque: &'static str, clave: String| {
        let (cashier, number) = (cashier.clone(), number.clone());
        async move {
            cashier
                .post_fn(
                    "staff/cash_take",
                    &[
                        ("contrato", number.as_str()),
                        ("importe", importe),
                        ("forma", forma),
                        ("cheque", cheque),
                        ("clave", clave.as_str()),
                    ],
                )
                .await
        }
    };
    expect_error(
        take("100", "efectivo", "", clave.clone()).await,
        422,
        "Abra su caja",
    )
    .await;

    expect_error(
        cashier.post_fn("staff/cash_open", &[("fondo", "-5")]).await,
        422,
        "fondo",
    )
    .await;
    let r = cashier
        .post_fn("staff/cash_open", &[("fondo", "500")])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        r.text().await.unwrap_or_default()
    );
    expect_error(
        cashier.post_fn("staff/cash_open", &[("fondo", "10")]).await,
        422,
        "Ya tiene una caja abierta",
    )
    .await;

    // Cash, once per submit.
    let before = balance(&app, &number).await;
    let (s, t) = json(take("250.50", "efectivo", "", clave.clone()).await).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let (_, again) = json(take("250.50", "efectivo", "", clave.clone()).await).await;
    assert_eq!(again["id"], t["id"], "the same submit is the same payment");
    assert_eq!(
        balance(&app, &number).await,
        before - 25_050,
        "applied once"
    );

    // A cheque needs its number; bad amounts and unknown contracts are refused.
    expect_error(
        take("300", "cheque", "", format!("{clave}-2")).await,
        422,
        "cheque",
    )
    .await;
    expect_error(
        take("cien", "efectivo", "", format!("{clave}-3")).await,
        422,
        "importe",
    )
    .await;
    expect_error(
        take("0", "efectivo", "", format!("{clave}-4")).await,
        422,
        "mayor que cero",
    )
    .await;
    let r = cashier
        .post_fn(
            "staff/cash_take",
            &[
                ("contrato", "999999999"),
                ("importe", "10"),
                ("forma", "efectivo"),
                ("clave", "x-5"),
            ],
        )
        .await;
    expect_error(r, 422, "No existe un contrato").await;
    let (s, cheque) = json(take("300", "cheque", "0012345", format!("{clave}-6")).await).await;
    assert_eq!(s, StatusCode::OK, "{cheque}");
    assert_eq!(balance(&app, &number).await, before - 55_050);

    // The receipt: an 80 mm PDF, for cashiers only.
    let id = t["id"].as_i64().expect("id");
    let r = cashier
        .get(&format!("/personal/caja/recibos/{id}/pdf"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("226.77"), "80 mm wide media box");
    let reader = app.new_client();
    app.staff_sign_in(&reader, "atencion@cea-qro.example").await;
    let r = reader
        .get(&format!("/personal/caja/recibos/{id}/pdf"))
        .await;
    assert!(
        r.status() == StatusCode::FORBIDDEN,
        "atención may not print receipts: {}",
        r.status()
    );
    assert_eq!(
        reader.post_fn("staff/cash", &[]).await.status(),
        StatusCode::FORBIDDEN
    );

    // The desk lists both.
    let (_, d) = json(cashier.post_fn("staff/cash", &[]).await).await;
    assert_eq!(d["payments"].as_array().map(Vec::len), Some(2));

    // Corte: expected cash = 500 + 250.50; counted 700 → a note is required.
    expect_error(
        cashier
            .post_fn("staff/cash_close", &[("contado", "700"), ("nota", "")])
            .await,
        422,
        "-$50.50",
    )
    .await;
    let (s, c) = json(
        cashier
            .post_fn(
                "staff/cash_close",
                &[
                    ("contado", "700"),
                    ("nota", "faltante de cambio, se reporta"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["expected_cash"], "$750.50");
    assert_eq!(c["counted_cash"], "$700.00");
    assert_eq!(c["discrepancy"], "-$50.50");
    assert_eq!(c["balanced"], false);
    assert_eq!(c["total"], "$550.50");
    let totals = c["totals"].as_array().expect("totals");
    assert_eq!(totals[0], serde_json::json!(["Efectivo", 1, "$250.50"]));
    assert_eq!(totals[1], serde_json::json!(["Cheque", 1, "$300.00"]));
    // Closed: no more payments; the desk shows the corte.
    expect_error(
        take("10", "efectivo", "", format!("{clave}-7")).await,
        422,
        "Abra su caja",
    )
    .await;
    let (_, d) = json(cashier.post_fn("staff/cash", &[]).await).await;
    assert!(d["open"].is_null());
    assert_eq!(d["last_corte"]["discrepancy"], "-$50.50");
    let events = app.recent_events(20).await;
    for action in [
        "cash_session.opened",
        "cash_payment.taken",
        "cash_session.closed",
    ] {
        assert!(
            events.iter().any(|e| e.action == action),
            "{action} audited"
        );
    }
    app.shutdown().await;
}

both!(sqlite_caja, postgres_caja, caja);
