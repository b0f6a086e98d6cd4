//! Domiciliación over HTTP on SQLite and PostgreSQL: staff register mandates (a bad
//! CLABE is a 422 in Spanish by its field), generate the month's batch (the balance
//! capped by the mandate; the same month twice is the same batch) and download its
//! file, apply the bank's results (balances drop to the centavo; the same file again,
//! also uploaded as a file, changes nothing); a closed account deactivates the
//! mandate and queues the payer's notification. Other roles are refused.

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

/// A valid CLABE (check digit computed) from 17 digits.
fn clabe(body: &str) -> String {
    const W: [u32; 3] = [3, 7, 1];
    let s: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, d)| (u32::from(d - b'0') * W[i % 3]) % 10)
        .sum::<u32>()
        % 10;
    format!("{body}{}", (10 - s) % 10)
}

async fn domiciliacion(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    // Four contracts that owe something.
    let mut owing = vec![];
    for n in demo_contracts() {
        let b = balance(&app, &n).await;
        if b >= 1_000 {
            owing.push((n, b));
        }
        if owing.len() == 4 {
            break;
        }
    }
    assert_eq!(owing.len(), 4, "the demo utility has debtors");
    let staff = app.new_client();
    app.staff_sign_in(&staff, "facturacion@cea-qro.example")
        .await;
    let register = |number: String, clabe: String, max: String| {
        let staff = staff.clone();
        async move {
            staff
                .post_fn(
                    "staff/debit_register",
                    &[
                        ("contrato", number.as_str()),
                        ("clabe", clabe.as_str()),
                        ("titular", "María Pérez Núñez"),
                        ("maximo", max.as_str()),
                        ("firmado", "2026-01-15"),
                    ],
                )
                .await
        }
    };
    let good = clabe("01218001555555555");
    let mut bad = good.clone();
    bad.replace_range(
        17..18,
        &(((good.as_bytes()[17] - b'0') + 1) % 10).to_string(),
    );
    expect_error(
        register(owing[0].0.clone(), bad, "1000".into()).await,
        422,
        "dígito verificador",
    )
    .await;
    expect_error(
        register(owing[0].0.clone(), good.clone(), "cero".into()).await,
        422,
        "monto máximo",
    )
    .await;
    // A: pays all; B: capped 10 pesos below its balance; C: no funds; D: closed.
    let maxes = [
        "100000".to_string(),
        format!(
            "{}.{:02}",
            (owing[1].1 - 1_000) / 100,
            (owing[1].1 - 1_000) % 100
        ),
        "100000".to_string(),
        "100000".to_string(),
    ];
    let bodies = [
        "01218001555555555",
        "00218070081234567",
        "64618015700000000",
        "01418065501234567",
    ];
    for i in 0..4 {
        let r = register(owing[i].0.clone(), clabe(bodies[i]), maxes[i].clone()).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{}",
            r.text().await.unwrap_or_default()
        );
    }
    expect_error(
        register(owing[0].0.clone(), good.clone(), "50".into()).await,
        422,
        "ya tiene una domiciliación activa",
    )
    .await;

    let (s, view) = json(staff.post_fn("staff/debit_overview", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{view}");
    let month = view["month"].as_str().expect("month").to_string();
    let mandates = view["mandates"].as_array().expect("mandates");
    assert_eq!(mandates.len(), 4);
    assert!(
        mandates
            .iter()
            .all(|m| m["clabe_masked"].as_str().is_some_and(|c| c
                .chars()
                .filter(char::is_ascii_digit)
                .count()
                == 4)),
        "CLABEs masked: {view}"
    );

    let expected = [owing[0].1, owing[1].1 - 1_000, owing[2].1, owing[3].1];
    let (s, batch) = json(
        staff
            .post_fn("staff/debit_batch", &[("mes", month.as_str())])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{batch}");
    assert_eq!(batch["item_count"], 4, "{batch}");
    let (_, again) = json(
        staff
            .post_fn("staff/debit_batch", &[("mes", month.as_str())])
            .await,
    )
    .await;
    assert_eq!(again["id"], batch["id"], "same month, same batch");
    expect_error(
        staff
            .post_fn("staff/debit_batch", &[("mes", "diciembre")])
            .await,
        422,
        "AAAA-MM",
    )
    .await;

    let url = batch["file_url"].as_str().expect("url");
    let r = staff.get(url).await;
    assert_eq!(r.status(), StatusCode::OK);
    let file = r.text().await.expect("file");
    let debits: Vec<&str> = file.split("\r\n").filter(|l| l.starts_with('D')).collect();
    assert_eq!(debits.len(), 4);
    let amounts: Vec<i64> = debits
        .iter()
        .map(|d| d[85..100].parse().expect("amount"))
        .collect();
    assert_eq!(
        amounts, expected,
        "balances capped by the mandate's maximum"
    );
    let total: i64 = expected.iter().sum();
    assert!(file.contains(&format!("T000004{total:018}")), "{file}");
    assert_eq!(
        app.new_client().get(url).await.status(),
        StatusCode::UNAUTHORIZED,
        "not signed in"
    );

    // The bank's answer: A and B paid, C without funds, D's account closed.
    let results: String = debits
        .iter()
        .zip(["00", "00", "01", "02"])
        .map(|(d, code)| format!("R{}{code}\r\n", &d[7..27]))
        .collect();
    let (s, rep) = json(
        staff
            .post_fn("staff/debit_results", &[("resultados", results.as_str())])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{rep}");
    assert_eq!(
        (
            &rep["cobrados"],
            &rep["reintentos"],
            &rep["bajas"],
            &rep["repetidos"]
        ),
        (&2.into(), &1.into(), &1.into(), &0.into()),
        "{rep}"
    );
    assert_eq!(balance(&app, &owing[0].0).await, 0);
    assert_eq!(balance(&app, &owing[1].0).await, 1_000);
    assert_eq!(balance(&app, &owing[2].0).await, owing[2].1);
    assert_eq!(balance(&app, &owing[3].0).await, owing[3].1);

    // The same file again, uploaded from the page's form: nothing changes.
    let boundary = "----supraprueba";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"archivo\"; filename=\"resultados.txt\"\r\nContent-Type: text/plain\r\n\r\n{results}\r\n--{boundary}--\r\n"
    );
    let r = staff
        .http
        .post(staff.url("/personal/domiciliacion/resultados"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(
        to.contains("cobrados=0") && to.contains("repetidos=4"),
        "{to}"
    );
    assert_eq!(balance(&app, &owing[0].0).await, 0);
    assert_eq!(balance(&app, &owing[1].0).await, 1_000);
    let (_, again) = json(
        staff
            .post_fn("staff/debit_batch", &[("mes", month.as_str())])
            .await,
    )
    .await;
    assert_eq!(
        again["id"], batch["id"],
        "the retry is not due yet: same batch"
    );

    // D's mandate ended; the payer is told.
    let (_, view) = json(staff.post_fn("staff/debit_overview", &[]).await).await;
    let d = view["mandates"]
        .as_array()
        .expect("mandates")
        .iter()
        .find(|m| m["contract"] == owing[3].0.as_str())
        .cloned()
        .expect("D");
    assert_eq!(d["active"], false);
    assert!(
        d["status"].as_str().unwrap_or("").contains("cancelada"),
        "{d}"
    );
    {
        let mut tx = app.db.read(app.tenant).await.expect("tx");
        let out = db::repo::outbox_recent(&mut tx, "notify.domiciliacion_baja", 10)
            .await
            .expect("outbox");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].payload.0["contract"], owing[3].0.as_str());
    }

    // The page renders for staff; other roles are refused.
    let r = staff.get("/personal/domiciliacion").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("html");
    assert!(html.contains("Domiciliación") && html.contains("Generar lote del mes"));
    let other = app.new_client();
    app.staff_sign_in(&other, "atencion@cea-qro.example").await;
    assert_eq!(
        other.post_fn("staff/debit_overview", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(other.get(url).await.status(), StatusCode::FORBIDDEN);
    app.shutdown().await;
}

both!(sqlite_domiciliacion, postgres_domiciliacion, domiciliacion);
