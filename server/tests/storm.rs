//! The webhook storm (issue #5): 10,000 deliveries across channels — STP abonos and
//! Conekta's signed `charge.paid`/`order.paid` — with 30 % duplicates, in random order,
//! 8 at a time, on SQLite and PostgreSQL. Afterwards every contract's balance equals the
//! hand-computed expectation to the centavo and each payment is recorded once.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Backend, demo_contracts, spawn};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::Value;

const DELIVERIES: usize = 10_000;
const ABONOS: usize = 4_000;
const ORDERS: usize = 1_500;
const CONTRACTS: usize = 40;

/// One HTTP delivery: path, body, and Conekta's digest header when signed.
#[derive(Clone)]
struct Delivery {
    path: &'static str,
    body: String,
    digest: Option<String>,
}

fn abono(id: u64, clabe: &str, centavos: i64) -> String {
    format!(
        r#"{{"id":{id},"fechaOperacion":20261124,"institucionOrdenante":40012,"institucionBeneficiaria":90646,"claveRastreo":"STORM{id}","monto":{}.{:02},"nombreOrdenante":"JUAN PEREZ","tipoCuentaOrdenante":40,"cuentaOrdenante":"012180015555555557","rfcCurpOrdenante":"ND","nombreBeneficiario":"CEA","tipoCuentaBeneficiario":40,"cuentaBeneficiario":"{clabe}","conceptoPago":"AGUA","referenciaNumerica":1,"empresa":"CEAQRO","tipoPago":1,"tsLiquidacion":1795543200000}}"#,
        centavos / 100,
        centavos % 100
    )
}

async fn storm(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let sim = app.conekta_sim.clone().expect("Conekta simulator");
    let providers = app.payment_providers.clone();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);

    // The contracts and their balances before.
    let mut before = HashMap::new();
    let mut ids = Vec::new();
    {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let numbers = demo_contracts();
        for n in numbers.iter().take(CONTRACTS) {
            let c = db::repo::contract_contact(&mut tx, n)
                .await
                .expect("c")
                .expect("exists");
            let a = db::repo::account_by_id(&mut tx, c.contract_id)
                .await
                .expect("a")
                .expect("a");
            before.insert(c.contract_id, a.balance_centavos);
            ids.push(c.contract_id);
        }
    }
    let mut expected_paid: HashMap<i64, i64> = HashMap::new();
    let mut unique: Vec<Delivery> = Vec::new();

    // STP abonos to the contracts' CLABEs.
    for i in 0..ABONOS {
        let contract = *ids.choose(&mut rng).expect("contract");
        let amount = rng.gen_range(100..50_000);
        let clabe =
            payments::clabe::for_contract(server::DEMO_STP_PREFIX, contract).expect("clabe");
        *expected_paid.entry(contract).or_default() += amount;
        unique.push(Delivery {
            path: "/webhooks/stp/abono",
            body: abono(9_000_000 + i as u64, clabe.as_str(), amount),
            digest: None,
        });
    }
    // OXXO references (8 at a time), paid at the till; the simulator holds the signed
    // events for this test to deliver.
    let now = chrono::Utc::now();
    let plan: Vec<(usize, i64, i64)> = (0..ORDERS)
        .map(|i| {
            (
                i,
                *ids.choose(&mut rng).expect("contract"),
                rng.gen_range(100..1_000_000),
            )
        })
        .collect();
    for &(_, contract, amount) in &plan {
        *expected_paid.entry(contract).or_default() += amount;
    }
    let plan = std::sync::Arc::new(tokio::sync::Mutex::new(plan));
    let mut makers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (plan, http, sim, db, tenant, providers) = (
            plan.clone(),
            http.clone(),
            sim.clone(),
            app.db.clone(),
            app.tenant,
            providers.clone(),
        );
        makers.spawn(async move {
            let mut out = Vec::new();
            loop {
                let Some((i, contract, amount)) = plan.lock().await.pop() else {
                    return out;
                };
                let order = invoicing::orders::create(
                    &db,
                    tenant,
                    &providers,
                    &invoicing::orders::NewOrderRequest {
                        contract_id: contract,
                        citizen_id: None,
                        invoice_id: None,
                        amount_centavos: amount,
                        method: invoicing::orders::Method::Oxxo,
                        idempotency_key: format!("storm-{i}"),
                    },
                    now,
                )
                .await
                .expect("order");
                assert_eq!(order.amount_centavos, amount);
                let r = http
                    .post(format!("{sim}/sim/pay"))
                    .json(&serde_json::json!({"order_id": order.provider_order_id, "hold": true}))
                    .send()
                    .await
                    .expect("sim pay");
                assert_eq!(r.status(), StatusCode::OK);
                let held: Value = r.json().await.expect("json");
                let events = held["held"].as_array().expect("held events");
                assert_eq!(events.len(), 2, "charge.paid and order.paid");
                for e in events {
                    out.push(Delivery {
                        path: "/webhooks/conekta",
                        body: e["body"].as_str().expect("body").to_string(),
                        digest: Some(e["digest"].as_str().expect("digest").to_string()),
                    });
                }
            }
        });
    }
    while let Some(r) = makers.join_next().await {
        unique.extend(r.expect("order maker"));
    }
    assert_eq!(unique.len(), ABONOS + 2 * ORDERS);
    // 30 % of the deliveries repeat one already in the list; all in random order.
    let mut all = unique.clone();
    while all.len() < DELIVERIES {
        all.push(unique.choose(&mut rng).expect("some").clone());
    }
    all.shuffle(&mut rng);

    // 8 senders at once.
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(all));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (queue, http, addr) = (queue.clone(), http.clone(), app.addr.clone());
        senders.spawn(async move {
            let mut bad = Vec::new();
            loop {
                let Some(d) = queue.lock().await.pop() else {
                    return bad;
                };
                let mut req = http
                    .post(format!("{addr}{}", d.path))
                    .header("content-type", "application/json")
                    .body(d.body.clone());
                if let Some(dg) = &d.digest {
                    req = req.header("digest", dg);
                }
                let r = req.send().await.expect("delivery");
                if r.status() != StatusCode::OK {
                    bad.push((r.status(), r.text().await.unwrap_or_default()));
                }
            }
        });
    }
    while let Some(r) = senders.join_next().await {
        let bad = r.expect("sender");
        assert!(
            bad.is_empty(),
            "every delivery is answered 200: {:?}",
            &bad[..bad.len().min(3)]
        );
    }

    // The outbox worker applies the Conekta events; wait until none is pending.
    let mut pending = usize::MAX;
    for _ in 0..600 {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        pending = db::payments::webhook_events_pending(&mut tx)
            .await
            .expect("pending") as usize;
        if pending == 0 {
            break;
        }
        drop(tx);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(pending, 0, "every stored webhook processed");

    let mut tx = app.db.read(app.tenant).await.expect("tx");
    for id in &ids {
        let a = db::repo::account_by_id(&mut tx, *id)
            .await
            .expect("a")
            .expect("a");
        let paid = expected_paid.get(id).copied().unwrap_or(0);
        assert_eq!(
            before[id] - a.balance_centavos,
            paid,
            "contract {id}: balance moved by exactly what was paid to it"
        );
    }
    let received = db::payments::count_received(&mut tx).await.expect("count");
    assert_eq!(
        received as usize,
        ABONOS + ORDERS,
        "each payment recorded once"
    );
    let stored = db::payments::webhook_events_count(&mut tx)
        .await
        .expect("events");
    assert_eq!(
        stored as usize,
        ABONOS + 2 * ORDERS,
        "each provider event (abono, charge.paid, order.paid) stored once"
    );
    drop(tx);
    app.shutdown().await;
}

both!(sqlite_storm, postgres_storm, storm);
