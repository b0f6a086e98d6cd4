//! SPEI abonos through STP's webhook, as STP delivers them, on SQLite and PostgreSQL:
//! stored and answered at once, applied by the outbox worker, each exactly once under duplicates, reordering and concurrency; the oldest
//! bill first; unknown CLABEs kept for staff; bad input a 4xx.

mod common;

use std::collections::HashMap;

use common::{Backend, demo_contracts, spawn};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;

fn abono(id: u64, clabe: &str, monto: &str) -> String {
    format!(
        r#"{{"id":{id},"fechaOperacion":20261124,"institucionOrdenante":40012,"institucionBeneficiaria":90646,"claveRastreo":"MBAN0100{id}","monto":{monto},"nombreOrdenante":"JUAN PEREZ","tipoCuentaOrdenante":40,"cuentaOrdenante":"012180015555555557","rfcCurpOrdenante":"ND","nombreBeneficiario":"CEA QUERETARO","tipoCuentaBeneficiario":40,"cuentaBeneficiario":"{clabe}","conceptoPago":"PAGO AGUA","referenciaNumerica":1234567,"empresa":"CEAQRO","tipoPago":1,"tsLiquidacion":1795543200000}}"#
    )
}

async fn post(http: &reqwest::Client, addr: &str, body: String) -> (StatusCode, String) {
    let r = http
        .post(format!("{addr}/webhooks/stp/abono"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST abono");
    let status = r.status();
    (status, r.text().await.expect("body"))
}

/// POST every body at once; the answers in completion order.
async fn concurrently(
    http: &reqwest::Client,
    addr: &str,
    bodies: &[String],
) -> Vec<(StatusCode, String)> {
    let mut set = tokio::task::JoinSet::new();
    for b in bodies {
        let (http, addr, b) = (http.clone(), addr.to_string(), b.clone());
        set.spawn(async move { post(&http, &addr, b).await });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.expect("delivery task"));
    }
    out
}

async fn spei(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let http = reqwest::Client::new();
    let contracts: Vec<i64> = {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let mut ids = Vec::new();
        for number in demo_contracts().iter().take(5) {
            let c = db::repo::contract_contact(&mut tx, number)
                .await
                .expect("contact")
                .expect("exists");
            ids.push(c.contract_id);
        }
        ids
    };
    let balance = |id: i64| {
        let db = app.db.clone();
        let tenant = app.tenant;
        async move {
            let mut tx = db.read(tenant).await.expect("tx");
            db::repo::account_by_id(&mut tx, id)
                .await
                .expect("account")
                .expect("exists")
                .balance_centavos
        }
    };
    let clabe = |id: i64| {
        payments::clabe::for_contract(server::DEMO_STP_PREFIX, id)
            .expect("clabe")
            .as_str()
            .to_string()
    };

    // Bad input: a 4xx with a Spanish message, nothing stored.
    let (s, body) = post(&http, &app.addr, "{".into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("JSON no válido"), "{body}");
    let (s, body) = post(&http, &app.addr, abono(1, &clabe(contracts[0]), "12.345")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("monto"), "{body}");

    // A partial payment goes to the oldest open bill, once, whatever STP re-sends.
    let first = contracts[0];
    let before = balance(first).await;
    assert!(before > 0, "the demo contract owes something");
    let oldest_open = {
        let list = invoicing::invoice_list(&app.db, app.tenant, first, 100)
            .await
            .expect("bills");
        list.iter()
            .filter(|b| b.unpaid.centavos() > 0)
            .min_by_key(|b| (b.due_date, b.id))
            .map(|b| b.id)
            .expect("an open bill")
    };
    let body = abono(500, &clabe(first), "1.23");
    for (s, reply) in concurrently(&http, &app.addr, &vec![body; 8]).await {
        assert_eq!(s, StatusCode::OK, "{reply}");
        assert_eq!(reply, r#"{"mensaje":"confirmar"}"#);
    }
    app.settle_webhooks().await;
    assert_eq!(balance(first).await, before - 123, "applied exactly once");
    let parts = invoicing::complemento::payments_of_invoice(&app.db, app.tenant, oldest_open)
        .await
        .expect("payments");
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!(parts[0].amount_centavos, 123);
    assert_eq!(parts[0].forma_pago, "03");

    // An abono to a CLABE that is not ours (valid check digit, other prefix) is
    // confirmed and kept, unmatched, for staff.
    let (s, _) = post(&http, &app.addr, abono(501, "646180111805034237", "99.00")).await;
    assert_eq!(s, StatusCode::OK);
    app.settle_webhooks().await;
    let unmatched = {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        db::payments::received_with_status(&mut tx, "sin_asignar", 10)
            .await
            .expect("unmatched")
    };
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0].amount_centavos, 9_900);
    assert_eq!(unmatched[0].contract_id, None);
    assert!(
        unmatched[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("646180111805034237"))
    );

    // Staff (caja) assign it to a contract; it is then applied like any payment, once.
    let cashier = app.new_client();
    app.staff_sign_in(&cashier, "cajero@cea-qro.example").await;
    // Staff find it by the CLABE it was sent to; a too-short query is refused.
    let r = cashier
        .post_fn("staff/search_payments", &[("q", "646180111805034237")])
        .await;
    let (s, found) = common::json(r).await;
    assert_eq!(s, StatusCode::OK, "{found}");
    let found = found.as_array().expect("rows");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["amount"], "$99.00");
    assert_eq!(found[0]["status"], "Sin asignar");
    let r = cashier
        .post_fn("staff/search_payments", &[("q", "64")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let target = contracts[1];
    let target_number = demo_contracts()[1].clone();
    let before_assign = balance(target).await;
    let id = unmatched[0].id.to_string();
    let assign = |contrato: String, nota: &'static str| {
        let cashier = cashier.clone();
        let id = id.clone();
        async move {
            cashier
                .post_fn(
                    "staff/assign_payment",
                    &[
                        ("id", id.as_str()),
                        ("contrato", contrato.as_str()),
                        ("nota", nota),
                    ],
                )
                .await
        }
    };
    let r = assign("999999999".into(), "llamó con su comprobante").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("No existe un contrato")
    );
    let r = assign(target_number.clone(), "").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = assign(target_number.clone(), "llamó con su comprobante").await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        r.text().await.unwrap_or_default()
    );
    assert_eq!(balance(target).await, before_assign - 9_900);
    let r = assign(target_number.clone(), "otra vez el mismo").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("body").contains("ya fue asignado"));
    assert_eq!(
        balance(target).await,
        before_assign - 9_900,
        "assigned once"
    );
    let events = app.recent_events(10).await;
    assert!(events.iter().any(|e| e.action == "payment.assigned"));

    // A storm: 300 deliveries of 200 abonos (duplicates), shuffled, 8 at a time.
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut expected: HashMap<i64, i64> = HashMap::new();
    for &c in &contracts {
        expected.insert(c, balance(c).await);
    }
    let mut deliveries = Vec::new();
    for i in 0..200u64 {
        let c = contracts[rng.gen_range(0..contracts.len())];
        let centavos: i64 = rng.gen_range(1..50_000);
        let monto = format!("{}.{:02}", centavos / 100, centavos % 100);
        *expected.get_mut(&c).expect("contract") -= centavos;
        let body = abono(10_000 + i, &clabe(c), &monto);
        deliveries.push(body.clone());
        if i % 2 == 0 {
            deliveries.push(body);
        }
    }
    deliveries.shuffle(&mut rng);
    for chunk in deliveries.chunks(8) {
        for (s, reply) in concurrently(&http, &app.addr, chunk).await {
            assert_eq!(s, StatusCode::OK, "{reply}");
        }
    }
    app.settle_webhooks().await;
    for (&c, &want) in &expected {
        assert_eq!(balance(c).await, want, "contract {c}: to the centavo");
    }
    let events = app.recent_events(5).await;
    assert!(events.iter().any(|e| e.action == "payment.received"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_spei_abonos_apply_once() {
    spei(Backend::Sqlite, "sqlite_spei_abonos_apply_once").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_spei_abonos_apply_once() {
    spei(Backend::Postgres, "postgres_spei_abonos_apply_once").await;
}
