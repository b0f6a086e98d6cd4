//! Black-box HTTP tests of the `supra` server, each scenario on SQLite and PostgreSQL.
//!
//! PostgreSQL: set `SUPRA_REQUIRE_PG=1` to make an unreachable server a failure
//! (CI does); `SUPRA_TEST_PG_URL` overrides `postgres://postgres@127.0.0.1:5432/test`.

mod common;

use common::{
    Backend, Client, TestApp, demo_contracts, expect_error, json, parts, spawn, spawn_with,
};
use db::{Db, TenantId};
use reqwest::StatusCode;
use serde_json::Value;

/// `^\d{1,2} [a-z]{3} \d{4}, \d{2}:\d{2}$`, e.g. "23 nov 2026, 14:05".
fn is_local_time(s: &str) -> bool {
    let digits = |x: &str, lo: usize, hi: usize| {
        (lo..=hi).contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit())
    };
    let Some((date, time)) = s.split_once(", ") else {
        return false;
    };
    let d: Vec<&str> = date.split(' ').collect();
    let t: Vec<&str> = time.split(':').collect();
    d.len() == 3
        && digits(d[0], 1, 2)
        && d[1].len() == 3
        && d[1].bytes().all(|b| b.is_ascii_lowercase())
        && digits(d[2], 4, 4)
        && t.len() == 2
        && digits(t[0], 2, 2)
        && digits(t[1], 2, 2)
}

#[test]
fn local_time_shape() {
    assert!(is_local_time("23 nov 2026, 14:05"));
    assert!(is_local_time("3 ene 2027, 09:00"));
    assert!(!is_local_time("23 nov 2026 14:05"));
    assert!(!is_local_time("23 Nov 2026, 14:05"));
}

fn set_cookie_headers(h: &reqwest::header::HeaderMap) -> Vec<String> {
    h.get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

fn other_code(code: &str) -> String {
    let n: u32 = code.parse().expect("6 digits");
    format!("{:06}", (n + 1) % 1_000_000)
}

fn str_field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string field {k} in {v}"))
}

async fn raw_rows(db: &Db, tenant: TenantId, sql: &str) -> Vec<(i64, String)> {
    let mut tx = db.read(tenant).await.expect("read tx");
    match tx.tx_mut() {
        db::Tx::Sqlite(t) => {
            sqlx::query_as::<_, (i64, String)>(sql)
                .bind(tenant.0)
                .fetch_all(&mut **t)
                .await
        }
        db::Tx::Postgres(t) => {
            sqlx::query_as::<_, (i64, String)>(sql)
                .bind(tenant.0)
                .fetch_all(&mut **t)
                .await
        }
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn contract_id_of(app: &TestApp, number: &str) -> i64 {
    raw_rows(
        &app.db,
        app.tenant,
        "SELECT id, number FROM contracts WHERE tenant_id = $1",
    )
    .await
    .into_iter()
    .find(|(_, n)| n == number)
    .map(|(id, _)| id)
    .unwrap_or_else(|| panic!("contract {number} not in the database"))
}

// ------------------------------------------------------------------ 1. citizen sign-in

both!(
    sqlite_citizen_sign_in,
    postgres_citizen_sign_in,
    citizen_sign_in
);

async fn citizen_sign_in(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let logins = seed::demo_logins(&common::demo_utility());
    let (contract, masked) = logins[0].clone();

    // Step 1: a code goes to the phone on file; the answer shows it masked.
    let (s, v) = json(app.request_code(&contract).await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(str_field(&v, "contract"), contract);
    let dest = str_field(&v, "destination");
    assert!(dest.starts_with("***"), "destination not masked: {dest}");
    assert_eq!(dest, masked, "masked destination");
    assert_eq!(v["minutes"], 5);
    let code = app.latest_code(&contract).await;
    assert_eq!(code.len(), 6);

    // A wrong code is refused with a plain message.
    let r = app.verify_code(&contract, &other_code(&code)).await;
    let (s, h, body) = parts(r).await;
    assert_eq!(s.as_u16(), 422, "{body}");
    assert!(body.contains("no es correcto"), "{body}");
    assert!(
        set_cookie_headers(&h)
            .iter()
            .all(|c| !c.starts_with("supra_session=")),
        "no session on failure"
    );

    // Without a session the dashboard is 401.
    let anon = app.new_client();
    expect_error(
        anon.post_fn("citizen/dashboard", &[]).await,
        401,
        "Unauthorized",
    )
    .await;

    // The right code signs in with an HttpOnly, SameSite=Lax session cookie.
    let r = app.verify_code(&contract, &code).await;
    let (s, h, body) = parts(r).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let cookies = set_cookie_headers(&h);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("supra_session="))
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(!session.starts_with("supra_session=;"), "{session}");

    // The same code cannot be used twice.
    let r = anon.verify_code(&contract, &code).await;
    let (s, _, body) = parts(r).await;
    assert!(s.is_client_error(), "reused code: {s} {body}");

    // Dashboard of the signed-in contract.
    let (s, d) = json(app.post_fn("citizen/dashboard", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(str_field(&d, "number"), contract);
    let periods = d["consumption"].as_array().expect("consumption array");
    assert_eq!(periods.len(), 12, "{d}");
    let fetched = str_field(&d, "fetched_at");
    assert!(is_local_time(fetched), "fetched_at {fetched:?}");
    assert!(!str_field(&d, "titular").is_empty());

    // The server-rendered account page shows the contract.
    let (s, _, html) = parts(app.get("/cuenta").await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&contract), "/cuenta does not show {contract}");

    // Audit trail.
    let actions: Vec<String> = app
        .recent_events(50)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "citizen.code_requested",
        "citizen.code_wrong",
        "citizen.signed_in",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} not audited: {actions:?}"
        );
    }

    // Logout ends the session server-side.
    let r = app.post_fn("session/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    expect_error(
        app.post_fn("citizen/dashboard", &[]).await,
        401,
        "Unauthorized",
    )
    .await;

    app.shutdown().await;
}

// ------------------------------------------------------------------ 2. lockout

both!(
    sqlite_wrong_codes_lock_out,
    postgres_wrong_codes_lock_out,
    wrong_codes_lock_out
);

async fn wrong_codes_lock_out(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let contract = demo_contracts()[1].clone();
    let r = app.request_code(&contract).await;
    assert_eq!(r.status(), StatusCode::OK);
    let code = app.latest_code(&contract).await;
    let wrong = other_code(&code);

    expect_error(
        app.verify_code(&contract, &wrong).await,
        422,
        "Te quedan 2 intentos",
    )
    .await;
    expect_error(
        app.verify_code(&contract, &wrong).await,
        422,
        "Te queda 1 intento",
    )
    .await;
    expect_error(app.verify_code(&contract, &wrong).await, 429, "15 minutos").await;
    // Locked: even the right code, and a new code, are refused.
    let body = expect_error(app.verify_code(&contract, &code).await, 429, "minutos").await;
    assert!(!body.contains("supra_session"));
    expect_error(app.request_code(&contract).await, 429, "minutos").await;
    // Another contract is not affected.
    let other = demo_contracts()[0].clone();
    assert_eq!(app.request_code(&other).await.status(), StatusCode::OK);

    let actions: Vec<String> = app
        .recent_events(50)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.iter().any(|a| a == "citizen.code_locked"),
        "{actions:?}"
    );
    assert!(
        !actions.iter().any(|a| a == "citizen.signed_in"),
        "{actions:?}"
    );
    app.shutdown().await;
}

// ------------------------------------------------------------------ 3. bad input

both!(
    sqlite_bad_input_is_never_500,
    postgres_bad_input_is_never_500,
    bad_input_is_never_500
);

async fn bad_input_is_never_500(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    expect_error(app.request_code("abc").await, 422, "solo lleva números").await;
    let (s, _, body) = parts(app.request_code("").await).await;
    assert_eq!(s.as_u16(), 422, "{body}");
    expect_error(app.request_code("999999999").await, 422, "No encontramos").await;
    let contract = demo_contracts()[0].clone();
    let (s, _, body) = parts(app.verify_code(&contract, "12").await).await;
    assert_eq!(s.as_u16(), 422, "{body}");
    let (s, _, body) = parts(app.verify_code(&contract, "").await).await;
    assert_eq!(s.as_u16(), 422, "{body}");
    let (s, _, body) = parts(app.staff_login("no-es-correo", "x").await).await;
    assert_eq!(s.as_u16(), 422, "{body}");
    let (s, _, body) = parts(app.staff_login("admin@cea-qro.example", "").await).await;
    assert_eq!(s.as_u16(), 422, "{body}");
    // A very long input.
    let long = "9".repeat(10_000);
    let (s, _, body) = parts(app.request_code(&long).await).await;
    assert_eq!(s.as_u16(), 422, "{body}");

    // Missing fields and garbage bodies: client errors, never 500.
    let cases: [(&str, &str, &'static str); 5] = [
        (
            "citizen/request_code",
            "application/x-www-form-urlencoded",
            "",
        ),
        (
            "citizen/verify_code",
            "application/x-www-form-urlencoded",
            "contrato=123456789",
        ),
        (
            "citizen/request_code",
            "application/x-www-form-urlencoded",
            "%%%%\u{0}garbage=&&==",
        ),
        (
            "staff/account",
            "application/x-www-form-urlencoded",
            "contract_id=not-a-number",
        ),
        ("citizen/request_code", "application/json", "{not json"),
    ];
    let mut wrong = Vec::new();
    for (endpoint, ct, body) in cases {
        let (s, _, text) = parts(app.post_raw(endpoint, ct, body).await).await;
        if !s.is_client_error() {
            wrong.push(format!(
                "POST /api/{endpoint} ({ct}) {body:?} → {s} (want 4xx): {text}"
            ));
        }
    }
    // An unknown server function.
    let (s, _, text) = parts(app.post_fn("no/such_fn", &[("a", "b")]).await).await;
    if !s.is_client_error() {
        wrong.push(format!("POST /api/no/such_fn → {s} (want 4xx): {text}"));
    }
    assert!(
        wrong.is_empty(),
        "bad requests answered as server errors:\n{}",
        wrong.join("\n")
    );
    app.shutdown().await;
}

// ------------------------------------------------------------------ 4. staff

both!(
    sqlite_staff_search_and_audit,
    postgres_staff_search_and_audit,
    staff_search_and_audit
);

async fn search(c: &Client, q: &str) -> Vec<Value> {
    let (s, v) = json(c.post_fn("staff/search", &[("q", q)]).await).await;
    assert_eq!(s, StatusCode::OK, "search {q:?}: {v}");
    v["rows"].as_array().expect("rows").clone()
}

async fn staff_search_and_audit(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let admin = "admin@cea-qro.example";

    expect_error(
        app.staff_login(admin, "contraseña-equivocada").await,
        422,
        "Correo o contraseña incorrectos.",
    )
    .await;
    // Unknown e-mail: same answer.
    expect_error(
        app.staff_login("nadie@cea-qro.example", common::DEMO_PASSWORD)
            .await,
        422,
        "Correo o contraseña incorrectos.",
    )
    .await;

    let (s, h, body) = parts(app.staff_login(admin, common::DEMO_PASSWORD).await).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let cookies = set_cookie_headers(&h);
    assert!(
        cookies.iter().any(|c| c.starts_with("supra_session=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{cookies:?}"
    );
    let (s, me) = json(app.post_fn("staff/me", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(str_field(&me, "email"), admin);

    // Accent- and case-insensitive name search.
    let rows = search(&app, "nuñez").await;
    assert!(!rows.is_empty(), "the seed always has a NÚÑEZ titular");
    for r in &rows {
        let t = str_field(r, "titular");
        assert!(
            t.contains("NÚÑEZ") || t.contains("NUÑEZ"),
            "titular {t:?} does not match nuñez"
        );
    }
    let ids = |rows: &[Value]| -> Vec<i64> {
        rows.iter()
            .map(|r| r["contract_id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&search(&app, "NUNEZ").await), ids(&rows));
    assert_eq!(ids(&search(&app, "  Núñez ").await), ids(&rows));

    // By contract number: that contract first.
    let contract = demo_contracts()[0].clone();
    let rows = search(&app, &contract).await;
    assert_eq!(
        rows.first().map(|r| str_field(r, "number")),
        Some(contract.as_str()),
        "{rows:?}"
    );

    // By meter serial.
    let meters = raw_rows(
        &app.db,
        app.tenant,
        "SELECT contract_id, serial FROM meters WHERE tenant_id = $1 AND active = TRUE ORDER BY id LIMIT 1",
    )
    .await;
    let (meter_contract, serial) = meters.first().cloned().expect("a meter");
    let rows = search(&app, &serial).await;
    assert!(
        rows.iter()
            .any(|r| r["contract_id"].as_i64() == Some(meter_contract)
                && str_field(r, "meter") == serial),
        "meter {serial} of contract {meter_contract} not found: {rows:?}"
    );

    // Too short / empty queries are input errors.
    expect_error(
        app.post_fn("staff/search", &[("q", "a")]).await,
        422,
        "al menos 2",
    )
    .await;
    let (s, _, body) = parts(app.post_fn("staff/search", &[("q", "   ")]).await).await;
    assert_eq!(s.as_u16(), 422, "{body}");

    // Account detail.
    let id = contract_id_of(&app, &contract).await;
    let id_s = id.to_string();
    let (s, acc) = json(
        app.post_fn("staff/account", &[("contract_id", &id_s)])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{acc}");
    assert_eq!(acc["dashboard"]["number"], Value::String(contract.clone()));
    // Staff see up to 24 periods (the demo has 24 months of readings: 23 periods).
    let n = acc["dashboard"]["consumption"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(
        (13..=24).contains(&n),
        "staff see more history than citizens: {n} periods"
    );

    // Staff pages render with the session.
    let (s, _, html) = parts(app.get("/personal").await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<html"), "not HTML");
    let (s, _, _) = parts(app.get(&format!("/personal/cuentas/{id}")).await).await;
    assert_eq!(s, StatusCode::OK);

    // Every staff read is audited, attributed to the staff member.
    let events = app.recent_events(100).await;
    for action in [
        "account.searched",
        "account.viewed",
        "staff.signed_in",
        "staff.login_failed",
    ] {
        let e = events
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| {
                panic!(
                    "{action} not audited: {:?}",
                    events.iter().map(|e| &e.action).collect::<Vec<_>>()
                )
            });
        assert_eq!(e.actor_kind, "staff", "{action}");
    }
    let viewed = events
        .iter()
        .find(|e| e.action == "account.viewed")
        .unwrap();
    assert_eq!(viewed.subject_kind.as_deref(), Some("contract"));
    assert_eq!(viewed.subject_id, Some(id));

    // A citizen session may not use staff functions; no session → 401.
    let citizen = app.new_client();
    app.citizen_sign_in(&citizen, &demo_contracts()[3]).await;
    expect_error(
        citizen.post_fn("staff/search", &[("q", "nuñez")]).await,
        403,
        "Forbidden",
    )
    .await;
    expect_error(
        citizen
            .post_fn("staff/account", &[("contract_id", &id_s)])
            .await,
        403,
        "Forbidden",
    )
    .await;
    let anon = app.new_client();
    expect_error(
        anon.post_fn("staff/search", &[("q", "nuñez")]).await,
        401,
        "Unauthorized",
    )
    .await;
    expect_error(
        anon.post_fn("staff/account", &[("contract_id", &id_s)])
            .await,
        401,
        "Unauthorized",
    )
    .await;
    // A staff session is not a citizen session.
    expect_error(
        app.post_fn("citizen/dashboard", &[]).await,
        403,
        "Forbidden",
    )
    .await;

    app.shutdown().await;
}

// ------------------------------------------------------------------ 5. tenants

both!(
    sqlite_tenant_isolation,
    postgres_tenant_isolation,
    tenant_isolation
);

async fn tenant_isolation(backend: Backend, name: &str) {
    let Some(app) = spawn_with(backend, name, |db| async move {
        server::seed_demo(
            &db,
            common::DEMO_CONTRACTS,
            common::DEMO_SEED,
            common::DEMO_PASSWORD,
            None,
        )
        .await
        .expect("seed tenant A");
        server::seed_demo(
            &db,
            50,
            99,
            common::DEMO_PASSWORD,
            Some(("otra", "Otra Utilidad")),
        )
        .await
        .expect("seed tenant B");
    })
    .await
    else {
        return;
    };
    let tenants = db::repo::list_tenants(&app.db).await.expect("tenants");
    assert_eq!(tenants.len(), 2);
    let a = tenants
        .iter()
        .find(|t| t.slug == "cea-qro")
        .expect("tenant A");
    let b = tenants.iter().find(|t| t.slug == "otra").expect("tenant B");
    assert_eq!(app.tenant, TenantId(a.id), "default host serves tenant A");
    let tb = TenantId(b.id);

    let a_numbers: Vec<String> = raw_rows(
        &app.db,
        app.tenant,
        "SELECT id, number FROM contracts WHERE tenant_id = $1",
    )
    .await
    .into_iter()
    .map(|r| r.1)
    .collect();
    assert_eq!(a_numbers.len(), common::DEMO_CONTRACTS);
    let b_rows = raw_rows(
        &app.db,
        tb,
        "SELECT id, number FROM contracts WHERE tenant_id = $1",
    )
    .await;
    assert_eq!(b_rows.len(), 50);
    let (b_id, b_number) = b_rows
        .iter()
        .find(|(_, n)| !a_numbers.contains(n))
        .cloned()
        .expect("a tenant-B contract number that tenant A does not also have");

    // Tenant-A staff cannot read tenant-B accounts.
    app.staff_sign_in(&app.client, "admin@cea-qro.example")
        .await;
    let (s, _, body) = parts(
        app.post_fn("staff/account", &[("contract_id", &b_id.to_string())])
            .await,
    )
    .await;
    assert_eq!(s.as_u16(), 404, "tenant-B account through tenant A: {body}");
    assert!(!body.contains(&b_number), "leaked tenant-B data: {body}");
    let rows = search(&app, &b_number).await;
    assert!(
        rows.is_empty(),
        "tenant-B contract found from tenant A: {rows:?}"
    );

    // Tenant-A citizens cannot sign in with a tenant-B contract.
    expect_error(
        app.new_client().request_code(&b_number).await,
        422,
        "No encontramos",
    )
    .await;
    assert!(
        app.latest_code_in(tb, &b_number).await.is_none(),
        "no code may be sent for tenant B"
    );

    // A valid tenant-B session cookie is not a session on tenant A's host.
    let auth = auth::Auth {
        db: app.db.clone(),
        policy: auth::Policy::default(),
        secrets: auth::Secrets {
            code_key: vec![7; 32],
        },
    };
    let (_, token) = auth
        .staff_login(
            tb,
            "admin@cea-qro.example",
            common::DEMO_PASSWORD,
            "127.0.0.1",
            chrono::Utc::now(),
        )
        .await
        .expect("tenant-B staff login");
    let cookie = token.cookie_value();
    assert!(cookie.starts_with(&format!("{}.", tb.0)));
    assert!(
        auth.session(&cookie, chrono::Utc::now())
            .await
            .expect("session")
            .is_some(),
        "valid in tenant B"
    );
    let foreign = Client::new(&app.addr, false);
    let r = foreign
        .http
        .post(foreign.url("/api/staff/search"))
        .header(reqwest::header::COOKIE, format!("supra_session={cookie}"))
        .form(&[("q", "nuñez")])
        .send()
        .await
        .expect("search");
    expect_error(r, 401, "Unauthorized").await;
    // A forged cookie claiming tenant A with tenant B's token is not valid either.
    let token_part = cookie.split_once('.').unwrap().1;
    let r = foreign
        .http
        .post(foreign.url("/api/staff/search"))
        .header(
            reqwest::header::COOKIE,
            format!("supra_session={}.{token_part}", app.tenant.0),
        )
        .form(&[("q", "nuñez")])
        .send()
        .await
        .expect("search");
    expect_error(r, 401, "Unauthorized").await;

    app.shutdown().await;
}

// ------------------------------------------------------------------ 8. ops

both!(sqlite_ops_endpoints, postgres_ops_endpoints, ops_endpoints);

async fn ops_endpoints(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let (s, h, body) = parts(app.get("/healthz").await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, "ok");
    assert_eq!(
        h.get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );

    let (s, _, body) = parts(app.get("/metrics").await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("http_requests_total"), "{body}");

    let contract = demo_contracts()[2].clone();
    assert_eq!(app.request_code(&contract).await.status(), StatusCode::OK);
    let code = app.latest_code(&contract).await;
    let (s, h, html) = parts(app.get("/dev/outbox").await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        h.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let row = html
        .split("<tr ")
        .find(|r| r.contains(&format!("data-contract=\"{contract}\"")))
        .unwrap_or_else(|| panic!("no outbox row for {contract}"));
    assert!(
        row.contains(&format!("<code class=\"otp\">{code}</code>")),
        "{row}"
    );

    // Cross-site form posts are refused before reaching the server function.
    let r = app
        .http
        .post(app.url("/api/citizen/request_code"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("contrato", contract.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Origin alone (older browsers) is enough to refuse.
    let r = app
        .http
        .post(app.url("/api/citizen/request_code"))
        .header("origin", "https://evil.example")
        .form(&[("contrato", contract.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Same-origin browser posts pass.
    let host = app.addr.trim_start_matches("http://").to_string();
    let r = app
        .http
        .post(app.url("/api/citizen/request_code"))
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("contrato", contract.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        r.text().await.unwrap_or_default()
    );
    // The refused posts sent no code: only the two accepted requests are in the outbox.
    let mut tx = app.db.read(app.tenant).await.unwrap();
    let sent = db::repo::outbox_recent(&mut tx, "notify.", 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.payload.0.get("contract").and_then(Value::as_str) == Some(contract.as_str()))
        .count();
    drop(tx);
    assert_eq!(sent, 2);

    app.shutdown().await;
}

both!(
    sqlite_link_and_switch_contracts,
    postgres_link_and_switch_contracts,
    link_and_switch_contracts
);

/// A citizen adds a second contract (code sent to that contract's phone), sees it,
/// switches back, and cannot switch to a contract that is not theirs.
async fn link_and_switch_contracts(backend: Backend, name: &str) {
    let Some(app) = spawn(backend, name).await else {
        return;
    };
    let logins = seed::demo_logins(&common::demo_utility());
    let (a, b) = (logins[0].0.clone(), logins[1].0.clone());
    let c = app.new_client();
    app.citizen_sign_in(&c, &a).await;

    let (s, v) = json(c.post_fn("citizen/link_request", &[("contrato", &b)]).await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let code = app.latest_code(&b).await;
    let r = c
        .post_fn(
            "citizen/link_verify",
            &[("contrato", &b), ("codigo", &code)],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        r.text().await.unwrap_or_default()
    );

    let (s, d) = json(c.post_fn("citizen/dashboard", &[]).await).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(str_field(&d, "number"), b, "the linked contract is shown");
    let linked = d["linked"].as_array().expect("linked contracts");
    assert_eq!(linked.len(), 2, "{d}");

    let a_id = contract_id_of(&app, &a).await.to_string();
    let r = c.post_fn("citizen/switch", &[("contract_id", &a_id)]).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let (_, d) = json(c.post_fn("citizen/dashboard", &[]).await).await;
    assert_eq!(str_field(&d, "number"), a);

    let other = contract_id_of(&app, &logins[2].0).await.to_string();
    let r = c
        .post_fn("citizen/switch", &[("contract_id", &other)])
        .await;
    assert_eq!(
        r.status().as_u16(),
        404,
        "switching to someone else's contract"
    );
    let (_, d) = json(c.post_fn("citizen/dashboard", &[]).await).await;
    assert_eq!(
        str_field(&d, "number"),
        a,
        "still on the citizen's own contract"
    );
    app.shutdown().await;
}
