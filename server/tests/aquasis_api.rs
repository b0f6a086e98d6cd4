//! Black-box tests of the REST v2 facade over AquaCIS (`/api/v2/aquasis/…`): the real
//! server in development mode, whose bridge talks to the AquaCIS simulator seeded
//! from the demo utility. Each scenario on SQLite and PostgreSQL (see `common`).

mod common;

use std::str::FromStr;

use common::{Backend, Client, TestApp, TestDb, json, parts, spawn, spawn_configured};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use server::sim::aquacis::{AquacisSim, Fault, TipoFalla};

const API: &str = "/api/v2/aquasis";
const ADMIN: &str = "admin@cea-qro.example";
const ATENCION: &str = "atencion@cea-qro.example";
const CAJERO: &str = "cajero@cea-qro.example";

/// A client signed in as `email` (any demo staff user).
async fn staff(app: &TestApp, email: &str) -> Client {
    let c = app.new_client();
    app.staff_sign_in(&c, email).await;
    c
}

fn sim(app: &TestApp) -> &AquacisSim {
    app.aquacis_sim
        .as_deref()
        .expect("development starts the AquaCIS simulator")
}

/// A contract of the demo with a positive ledger balance, and that balance.
async fn debtor(app: &TestApp) -> (String, i64) {
    let mut tx = app.db.read(app.tenant).await.expect("read");
    db::legacy::compare_balances(&mut tx)
        .await
        .expect("balances")
        .into_iter()
        .find_map(|c| Some((c.number, c.supra_centavos.filter(|b| *b > 0)?)))
        .expect("the demo has debtors")
}

async fn get(c: &Client, path: &str) -> reqwest::Response {
    c.get(&format!("{API}{path}")).await
}

async fn send(c: &Client, method: reqwest::Method, path: &str, body: &Value) -> reqwest::Response {
    c.http
        .request(method, c.url(&format!("{API}{path}")))
        .json(body)
        .send()
        .await
        .expect("request")
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// An error answer: the status, a Spanish `error`, and AquaCIS's `codigo` if any.
async fn error(r: reqwest::Response, status: u16) -> Value {
    let (s, body) = json(r).await;
    assert_eq!(s.as_u16(), status, "{body}");
    let msg = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {body}"));
    assert!(!msg.is_empty(), "{body}");
    body
}

// ---------------------------------------------------------------- reads

async fn reads(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let c = staff(&app, ATENCION).await;
    let (number, balance) = debtor(&app).await;

    // The debt is AquaCIS's, which the simulator took from the demo's ledger.
    let r = get(&c, &format!("/contracts/{number}/debt")).await;
    let (status, h, body) = parts(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(header(&h, "content-type").starts_with("application/json"));
    let fetched = header(&h, "x-aquacis-fetched-at").to_owned();
    chrono::DateTime::parse_from_rfc3339(&fetched).expect("RFC 3339");
    assert_eq!(header(&h, "x-aquacis-stale"), "false");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["codigoError"], "0");
    assert_eq!(v["resultado"]["numContrato"], number.as_str());
    let total = Decimal::from_str(v["resultado"]["deudaTotal"].as_str().expect("deudaTotal"))
        .expect("decimal");
    assert_eq!(
        total,
        Decimal::new(balance, 2),
        "AquaCIS's debt is the ledger's balance"
    );

    // Asked again within the TTL: the cached answer, same age.
    let (_, h2, _) = parts(get(&c, &format!("/contracts/{number}/debt")).await).await;
    assert_eq!(header(&h2, "x-aquacis-fetched-at"), fetched);

    // The detail, and the same contract through its titular's RFC.
    let (s, detail) = json(get(&c, &format!("/contracts/{number}")).await).await;
    assert_eq!(s, StatusCode::OK, "{detail}");
    let contrato = &detail["contrato"];
    assert_eq!(contrato["numContrato"], number.as_str());
    assert_eq!(
        Decimal::from_str(contrato["deuda"].as_str().expect("deuda")).expect("decimal"),
        Decimal::new(balance, 2)
    );
    let (s, d2) = json(get(&c, &format!("/contracts/{number}/detail")).await).await;
    assert_eq!(s, StatusCode::OK, "{d2}");
    assert_eq!(d2["contrato"]["numContrato"], number.as_str());
    let nif = contrato["nif"].as_str().expect("nif").to_owned();
    let (s, found) = json(get(&c, &format!("/customers/search?nif={nif}")).await).await;
    assert_eq!(s, StatusCode::OK, "{found}");
    assert!(
        found["contrato"]
            .as_array()
            .expect("contratos")
            .iter()
            .any(|k| k["numContrato"] == number.as_str()),
        "{found}"
    );
    let (s, p) = json(get(&c, &format!("/customers/{nif}")).await).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["persona"]["nif"], nif.as_str());

    // Every other read of the contract answers 200 with its two headers.
    for sub in [
        "history",
        "invoices",
        "debt/invoices",
        "debt/unpaid",
        "debt/block",
        "readings",
        "consumption",
        "tariff",
    ] {
        let (s, h, body) = parts(get(&c, &format!("/contracts/{number}/{sub}")).await).await;
        assert_eq!(s, StatusCode::OK, "{sub}: {body}");
        assert!(
            h.contains_key("x-aquacis-stale") && h.contains_key("x-aquacis-fetched-at"),
            "{sub}"
        );
    }
    let (_, facturas) = json(get(&c, &format!("/contracts/{number}/invoices")).await).await;
    let folio = facturas["factura"][0]["numFactura"]
        .as_str()
        .expect("an invoice")
        .to_owned();
    let (s, h, _) =
        parts(get(&c, &format!("/contracts/{number}/invoices/{folio}/pdf")).await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "application/pdf");
    let pdf = c
        .get(&format!("{API}/contracts/{number}/invoices/{folio}/pdf"))
        .await
        .bytes()
        .await
        .expect("bytes");
    assert!(pdf.starts_with(b"%PDF"), "decoded from base64");

    // The meter, its service point and its changes (by contract).
    let serial = contrato["numeroSerieContador"]
        .as_str()
        .expect("a meter")
        .to_owned();
    let (s, m) = json(get(&c, &format!("/meters/{serial}")).await).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["contador"]["numContrato"], number.as_str());
    let (s, sp) = json(get(&c, &format!("/meters/{serial}/service-point")).await).await;
    assert_eq!(s, StatusCode::OK, "{sp}");
    assert!(sp["idPtoServicio"].as_i64().is_some(), "{sp}");
    let (s, ch) = json(get(&c, &format!("/meters/{serial}/changes?contrato={number}")).await).await;
    assert_eq!(s, StatusCode::OK, "{ch}");
    error(get(&c, &format!("/meters/{serial}/changes")).await, 400).await;

    // Admin may too.
    let a = staff(&app, ADMIN).await;
    assert_eq!(
        get(&a, &format!("/contracts/{number}/debt")).await.status(),
        StatusCode::OK
    );

    app.shutdown().await;
}
both!(
    sqlite_reads_through_the_cache,
    postgres_reads_through_the_cache,
    reads
);

// ---------------------------------------------------------------- access and errors

async fn access_and_errors(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let (number, _) = debtor(&app).await;

    // No session: 401, before anything else is looked at.
    let anon = Client::new(&app.addr, true);
    let body = error(get(&anon, &format!("/contracts/{number}/debt")).await, 401).await;
    assert!(body.get("codigo").is_none(), "{body}");
    let r = anon
        .http
        .post(anon.url(&format!("{API}/payments/notify")))
        .header("content-type", "application/json")
        .body("{\"numContrato\": ")
        .send()
        .await
        .expect("post");
    error(r, 401).await;

    // A role without access: 403.
    let cajero = staff(&app, CAJERO).await;
    error(
        get(&cajero, &format!("/contracts/{number}/debt")).await,
        403,
    )
    .await;
    error(
        send(
            &cajero,
            reqwest::Method::POST,
            "/payments/notify",
            &json!({}),
        )
        .await,
        403,
    )
    .await;

    let c = staff(&app, ATENCION).await;
    // Malformed JSON: 400 in Spanish, never a 500.
    let r = c
        .http
        .post(c.url(&format!("{API}/payments/notify")))
        .header("content-type", "application/json")
        .body("{\"numContrato\": ")
        .send()
        .await
        .expect("post");
    let body = error(r, 400).await;
    assert!(body["error"].as_str().unwrap().contains("JSON"), "{body}");
    // Well-formed but mistyped (an amount as a number): 400 naming the field.
    let r = send(
        &c,
        reqwest::Method::POST,
        "/payments/notify",
        &json!({"numContrato": number, "importe": 12.5, "fechaPago": "2026-01-15",
                "formaPago": "03", "referenciaExterna": "SUPRA-T-1"}),
    )
    .await;
    let body = error(r, 400).await;
    assert!(
        body["error"].as_str().unwrap().contains("importe"),
        "{body}"
    );
    // Missing field.
    let r = send(
        &c,
        reqwest::Method::POST,
        "/payments/notify",
        &json!({"numContrato": number}),
    )
    .await;
    let body = error(r, 400).await;
    assert!(
        body["error"].as_str().unwrap().contains("falta el campo"),
        "{body}"
    );
    // Without a JSON content type.
    let r = c
        .http
        .post(c.url(&format!("{API}/payments/notify")))
        .body("{}")
        .send()
        .await
        .expect("post");
    error(r, 400).await;
    // A bad path parameter.
    let body = error(get(&c, "/work-orders/abc").await, 400).await;
    assert!(body["error"].as_str().unwrap().contains("abc"), "{body}");
    error(get(&c, "/customers/search?nif=").await, 400).await;
    error(get(&c, "/customers/search").await, 400).await;
    // A route that does not exist: a JSON 404 too.
    error(get(&c, "/contratos/1").await, 404).await;

    // An unknown contract: AquaCIS's code 1 is a 404 carrying the code.
    let body = error(get(&c, "/contracts/999999999/debt").await, 404).await;
    assert_eq!(body["codigo"], "1", "{body}");
    error(get(&c, "/contracts/999999999").await, 404).await;
    // Other refusals are 422 with AquaCIS's code.
    let body = error(
        send(
            &c,
            reqwest::Method::POST,
            "/payments/cancel",
            &json!({"referencia": "NO-EXISTE", "motivo": "prueba"}),
        )
        .await,
        422,
    )
    .await;
    assert!(body["codigo"].as_str().is_some_and(|c| c != "0"), "{body}");

    app.shutdown().await;
}
both!(
    sqlite_access_and_errors,
    postgres_access_and_errors,
    access_and_errors
);

// ---------------------------------------------------------------- writes

async fn writes(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let c = staff(&app, ATENCION).await;
    let (number, _) = debtor(&app).await;

    // A payment notice goes straight to AquaCIS.
    let (s, v) = json(
        send(
            &c,
            reqwest::Method::POST,
            "/payments/notify",
            &json!({"numContrato": number, "importe": "150.00", "fechaPago": "2026-01-15",
                    "formaPago": "03", "referenciaExterna": "SUPRA-API-1"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["idPago"].as_i64().is_some(), "{v}");
    let avisos = sim(&app).avisos();
    assert!(
        avisos.iter().any(|a| a.referencia_externa == "SUPRA-API-1"
            && a.num_contrato == number
            && a.importe == Decimal::new(15000, 2)),
        "{avisos:?}"
    );

    // The connection cut before AquaCIS answers: 503, and the outcome is unknown.
    sim(&app).inject(Fault::on("avisarPago", TipoFalla::Reset));
    let r = send(
        &c,
        reqwest::Method::POST,
        "/payments/notify",
        &json!({"numContrato": number, "importe": "1.00", "fechaPago": "2026-01-15",
                "formaPago": "03", "referenciaExterna": "SUPRA-API-CUT"}),
    )
    .await;
    assert_eq!(header(r.headers(), "retry-after"), "30");
    let body = error(r, 503).await;
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("No se sabe si AquaCIS"),
        "{body}"
    );

    // A payment reference, collected.
    let (s, doc) = json(
        send(
            &c,
            reqwest::Method::POST,
            "/payments/document",
            &json!({"numContrato": number, "importe": "100.00"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    let referencia = doc["referencia"].as_str().expect("referencia").to_owned();
    let (s, v) = json(
        send(
            &c,
            reqwest::Method::POST,
            "/payments/collect",
            &json!({"referencia": referencia, "importe": "100.00", "fechaPago": "2026-01-15",
                    "formaPago": "01", "referenciaExterna": "SUPRA-API-2"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A work order for the contract's meter: created, read, visited, resolved.
    let (_, detail) = json(get(&c, &format!("/contracts/{number}")).await).await;
    let serial = detail["contrato"]["numeroSerieContador"]
        .as_str()
        .expect("meter")
        .to_owned();
    let (s, orden) = json(
        send(
            &c,
            reqwest::Method::POST,
            "/work-orders",
            &json!({"serial": serial, "tipo": "FUGA", "descripcion": "Fuga en banqueta",
                    "referencia": "SUPRA-OT-1"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{orden}");
    let ot = orden["otId"].as_i64().expect("otId");
    let (s, h, body) = parts(get(&c, &format!("/work-orders/{ot}")).await).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(header(&h, "x-aquacis-stale"), "false");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["orden"]["otId"], ot);
    let (s, v) = json(
        send(
            &c,
            reqwest::Method::POST,
            &format!("/work-orders/{ot}/visits"),
            &json!({"fecha": "2026-01-16", "resultado": "Sin acceso"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["orden"]["visitas"], 1);
    // The body's id, when given, must be the path's.
    error(
        send(
            &c,
            reqwest::Method::PUT,
            &format!("/work-orders/{ot}/resolve"),
            &json!({"otID": ot + 1, "busVHFumberSerie": serial, "vistitComments": "x",
                    "codigoResolucion": "R1"}),
        )
        .await,
        400,
    )
    .await;
    let (s, v) = json(
        send(
            &c,
            reqwest::Method::PUT,
            &format!("/work-orders/{ot}/resolve"),
            &json!({"busVHFumberSerie": serial, "vistitComments": "Fuga reparada",
                    "codigoResolucion": "R1"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["orden"]["estado"], "RESUELTA");
    let o = app
        .aquacis_sim
        .as_deref()
        .expect("simulator")
        .ordenes()
        .into_iter()
        .find(|o| o.orden.ot_id == ot)
        .expect("order in AquaCIS");
    assert_eq!(o.numero_serie.as_deref(), Some(serial.as_str()));
    assert_eq!(o.comentarios.as_deref(), Some("Fuga reparada"));
    assert_eq!(o.referencia_externa, "SUPRA-OT-1");
    let r = get(&c, &format!("/work-orders/{ot}/pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(r.headers(), "content-type"), "application/pdf");
    assert!(r.bytes().await.expect("bytes").starts_with(b"%PDF"));

    // Every write is in the audit log with the staff member and AquaCIS's operation.
    let audited: Vec<String> = app
        .recent_events(50)
        .await
        .into_iter()
        .filter(|e| e.action == "legacy.facade.write")
        .filter_map(|e| {
            e.data
                .0
                .get("operacion")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .collect();
    for op in ["avisarPago", "crearOrdenTrabajo", "resolveOT"] {
        assert!(audited.iter().any(|a| a == op), "{op} audited: {audited:?}");
    }

    app.shutdown().await;
}
both!(
    sqlite_writes_go_straight_to_aquacis,
    postgres_writes_go_straight_to_aquacis,
    writes
);

// ---------------------------------------------------------------- AquaCIS down

async fn down(backend: Backend, name: &str) {
    // Every read asks AquaCIS again (TTL 0): the cache only serves when it is down.
    let Some(app) = spawn_configured(backend, name, |c| c.legacy.cache_ttl_secs = 0).await else {
        return;
    };
    let c = staff(&app, ATENCION).await;
    let (number, _) = debtor(&app).await;
    let (s, h, fresh) = parts(get(&c, &format!("/contracts/{number}/debt")).await).await;
    assert_eq!(s, StatusCode::OK, "{fresh}");
    assert_eq!(header(&h, "x-aquacis-stale"), "false");
    let fetched = header(&h, "x-aquacis-fetched-at").to_owned();

    sim(&app).set_down(true);
    // What was read before: its last answer, marked stale, with its date.
    let (s, h, stale) = parts(get(&c, &format!("/contracts/{number}/debt")).await).await;
    assert_eq!(s, StatusCode::OK, "{stale}");
    assert_eq!(header(&h, "x-aquacis-stale"), "true");
    assert_eq!(header(&h, "x-aquacis-fetched-at"), fetched);
    assert_eq!(
        serde_json::from_str::<Value>(&stale).unwrap(),
        serde_json::from_str::<Value>(&fresh).unwrap()
    );
    // Never read: 503 with Retry-After.
    let r = get(&c, &format!("/contracts/{number}/debt/unpaid")).await;
    assert_eq!(header(r.headers(), "retry-after"), "30");
    error(r, 503).await;
    // A write cannot be served from anywhere.
    let r = send(
        &c,
        reqwest::Method::POST,
        "/payments/notify",
        &json!({"numContrato": number, "importe": "1.00", "fechaPago": "2026-01-15",
                "formaPago": "03", "referenciaExterna": "SUPRA-DOWN-1"}),
    )
    .await;
    assert_eq!(header(r.headers(), "retry-after"), "30");
    error(r, 503).await;

    app.shutdown().await;
}
both!(
    sqlite_stale_then_unavailable_when_down,
    postgres_stale_then_unavailable_when_down,
    down
);

/// A utility without AquaCIS: the server as `prepare` builds it, with no bridge. The
/// shared harness cannot change the state, so this one test serves it itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_aquacis_configured_503() {
    let name = "without_aquacis_configured_503";
    let Some(test_db) = TestDb::new(Backend::Sqlite, name).await else {
        return;
    };
    let csd_dir = tempfile::tempdir().expect("CSD dir");
    let config = server::Config {
        mode: server::Mode::Development,
        cfdi: server::config::CfdiConfig {
            csd_dir: csd_dir.path().display().to_string(),
        },
        database_url: Some(test_db.url.clone()),
        demo_contracts: common::DEMO_CONTRACTS,
        demo_seed: common::DEMO_SEED,
        ..server::Config::default()
    };
    let (mut srv, _) = server::prepare(config).await.expect("server::prepare");
    srv.state.legacy = None;
    let db = srv.state.db.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server::serve(srv, listener, async move {
        let _ = rx.await;
    }));

    let c = Client::new(&addr, true);
    let r = c.staff_login(ADMIN, common::DEMO_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = error(get(&c, "/contracts/1/debt").await, 503).await;
    assert_eq!(body["error"], "No hay conexión con AquaCIS configurada");
    // Still authenticated first, and the document is still served.
    error(
        get(&Client::new(&addr, false), "/contracts/1/debt").await,
        401,
    )
    .await;
    assert_eq!(get(&c, "/openapi.json").await.status(), StatusCode::OK);

    let _ = stop.send(());
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), handle).await;
    db.close().await;
    drop(test_db);
}

// ---------------------------------------------------------------- OpenAPI

/// Every route of the facade (the migration plan's §6.2).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/customers/search"),
    ("get", "/customers/{nif}"),
    ("get", "/customers/{nif}/contracts"),
    ("get", "/contracts/{id}"),
    ("get", "/contracts/{id}/detail"),
    ("get", "/contracts/{id}/history"),
    ("get", "/contracts/{id}/invoices"),
    ("get", "/contracts/{id}/invoices/{inv}/pdf"),
    ("get", "/contracts/{id}/debt"),
    ("get", "/contracts/{id}/debt/invoices"),
    ("get", "/contracts/{id}/debt/unpaid"),
    ("get", "/contracts/{id}/debt/block"),
    ("get", "/contracts/{id}/readings"),
    ("get", "/contracts/{id}/consumption"),
    ("get", "/contracts/{id}/tariff"),
    ("post", "/payments/document"),
    ("post", "/payments/collect"),
    ("post", "/payments/notify"),
    ("post", "/payments/cancel"),
    ("get", "/meters/{serial}"),
    ("get", "/meters/{serial}/service-point"),
    ("get", "/meters/{serial}/changes"),
    ("post", "/work-orders"),
    ("get", "/work-orders/{id}"),
    ("post", "/work-orders/{id}/visits"),
    ("put", "/work-orders/{id}/resolve"),
    ("get", "/work-orders/{id}/pdf"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_lists_every_route() {
    let Some(app) = spawn(Backend::Sqlite, "openapi_document_lists_every_route").await else {
        return;
    };
    // Public: no session needed.
    let anon = Client::new(&app.addr, false);
    let (s, doc) = json(get(&anon, "/openapi.json").await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().expect("openapi").starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    let services = [
        "InterfazGenericaContratacionWS",
        "InterfazGenericaGestionDeudaWS",
        "InterfazGenericaContadoresWS",
        "InterfazOficinaVirtualClientesWS",
        "InterfazGenericaOrdenesServicioWS",
    ];
    for (method, route) in ROUTES {
        let full = format!("{API}{route}");
        let op = &paths
            .get(&full)
            .unwrap_or_else(|| panic!("{full} missing from the document"))[*method];
        assert!(op.is_object(), "{method} {full} missing");
        let tag = op["tags"][0].as_str().expect("a tag");
        assert!(services.contains(&tag), "{method} {full}: tag {tag}");
        let responses = &op["responses"];
        for status in ["200", "400", "401", "403", "404", "422", "502", "503"] {
            assert!(
                responses.get(status).is_some(),
                "{method} {full}: no {status}"
            );
        }
        if *method == "get" {
            let h = &responses["200"]["headers"];
            assert!(
                h.get("X-AquaCIS-Fetched-At").is_some() && h.get("X-AquaCIS-Stale").is_some(),
                "{method} {full}: {h}"
            );
        }
        assert!(op["operationId"].is_string(), "{method} {full}");
    }
    assert_eq!(
        paths
            .keys()
            .filter(|p| !p.ends_with("openapi.json"))
            .count(),
        ROUTES
            .iter()
            .map(|(_, p)| p)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        "no route left undocumented, none documented twice"
    );
    // The error body and the legacy schemas are described.
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["ErrorBody"]["properties"]["error"].is_object());
    assert!(schemas["ErrorBody"]["properties"]["codigo"].is_object());
    assert!(schemas["DeudaResponse"].is_object() && schemas["AvisarPago"].is_object());
    assert!(schemas["ResolveOt"]["properties"]["busVHFumberSerie"].is_object());
    assert!(doc["components"]["securitySchemes"]["sesion_personal"].is_object());
    let r = &doc["components"]["responses"]["SinRespuesta"];
    assert!(r["headers"]["Retry-After"].is_object(), "{r}");
    app.shutdown().await;
}
