//! The AquaCIS bridge against the simulator the server starts in development: payments
//! reach AquaCIS exactly once through faults, dead letters are replayed by staff, the
//! citizen's dashboard renders from cache when AquaCIS is down, and the nightly sync
//! quarantines malformed records and imports the rest.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use common::{Backend, TestApp};
use rust_decimal::Decimal;
use server::sim::aquacis::{Fault, TipoFalla};

async fn app(backend: Backend, name: &str) -> Option<TestApp> {
    common::spawn_configured(backend, name, |c| {
        c.legacy.retry_base_secs = 1;
        c.legacy.timeout_ms = 400;
        c.legacy.breaker_cooldown_ms = 100;
        c.legacy.cache_ttl_secs = 0;
        c.legacy.sync_hour = -1;
    })
    .await
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let mut tx = app.db.read(app.tenant).await.expect("tx");
    let t = app.tenant.0;
    match tx.tx_mut() {
        db::Tx::Sqlite(c) => sqlx::query_scalar(sql).bind(t).fetch_one(&mut **c).await,
        db::Tx::Postgres(c) => sqlx::query_scalar(sql).bind(t).fetch_one(&mut **c).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Legacy rows not yet delivered nor dead.
async fn legacy_pending(app: &TestApp) -> i64 {
    scalar(
        app,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE tenant_id = $1 AND kind LIKE 'legacy.%'
         AND delivered_at IS NULL AND dead_at IS NULL",
    )
    .await
}

/// Let retries come due now (time passing), until nothing is pending or `limit`.
async fn drain(app: &TestApp, limit: Duration) {
    let started = std::time::Instant::now();
    while legacy_pending(app).await > 0 {
        assert!(
            started.elapsed() < limit,
            "AquaCIS effects still pending after {limit:?}"
        );
        // Not a row sent in the last 2 s: AquaCIS may still be working on a request
        // whose reply the client gave up on (as the real retry delay also allows).
        let cutoff = Utc::now() - chrono::Duration::seconds(2);
        let sql = "UPDATE outbox SET available_at = created_at WHERE tenant_id = $1 AND kind LIKE 'legacy.%'
             AND delivered_at IS NULL AND dead_at IS NULL AND attempts > 0
             AND (sent_at IS NULL OR sent_at < $2)";
        let mut tx = app.db.write(app.tenant).await.expect("tx");
        let t = app.tenant.0;
        match tx.tx_mut() {
            db::Tx::Sqlite(c) => sqlx::query(sql)
                .bind(t)
                .bind(cutoff)
                .execute(&mut **c)
                .await
                .map(|_| ()),
            db::Tx::Postgres(c) => sqlx::query(sql)
                .bind(t)
                .bind(cutoff)
                .execute(&mut **c)
                .await
                .map(|_| ()),
        }
        .expect("fast-forward");
        tx.commit().await.expect("commit");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Where a domain's truth lives, as the admin would switch it.
async fn switch(
    app: &TestApp,
    d: bridge::Domain,
    reads: bridge::ReadFrom,
    writes: bridge::WriteTo,
) {
    bridge::settings::set(&app.db, app.tenant, d, reads, writes, None, Utc::now())
        .await
        .expect("switch");
}

async fn contract_ids(app: &TestApp) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut tx = app.db.read(app.tenant).await.expect("read");
    for n in common::demo_utility()
        .contracts
        .iter()
        .map(|c| c.number.clone())
    {
        if let Some(c) = db::repo::contract_contact(&mut tx, &n)
            .await
            .expect("contact")
        {
            out.push((c.contract_id, c.number));
        }
    }
    out
}

async fn payments_burst(backend: Backend, name: &str) {
    let Some(app) = app(backend, name).await else {
        return;
    };
    let sim = app
        .aquacis_sim
        .clone()
        .expect("development starts the AquaCIS simulator");
    switch(
        &app,
        bridge::Domain::Pagos,
        bridge::ReadFrom::Supra,
        bridge::WriteTo::Ambos,
    )
    .await;
    // Faults while the burst goes out: outages, cut connections, garbage, timeouts —
    // and replies lost after AquaCIS recorded the payment (`reset_despues`, `timeout`).
    for _ in 0..25 {
        for (tipo, n) in [
            (TipoFalla::Error5xx, 3),
            (TipoFalla::Reset, 2),
            (TipoFalla::ResetDespues, 3),
            (TipoFalla::XmlRoto, 1),
        ] {
            sim.inject(Fault::on("avisarPago", tipo).times(n));
        }
    }
    sim.inject(Fault::on("avisarPago", TipoFalla::Timeout).times(2).ms(900));
    sim.inject(Fault::on("consultaHistoricoActuacionesContrato", TipoFalla::Error5xx).times(5));

    let contracts = contract_ids(&app).await;
    assert!(contracts.len() > 100);
    let mut expected = HashSet::new();
    for i in 0..1000usize {
        let (id, _) = &contracts[i % contracts.len()];
        let r = invoicing::cobro::Received {
            channel: "spei",
            dedupe_key: format!("prueba-rafaga:{i}"),
            contract_id: Some(*id),
            unmatched_reason: None,
            amount_centavos: 10_000 + i as i64,
            forma_pago: "03",
            paid_at: Utc::now(),
            reference: "646180123400000001",
            payer: "PRUEBA",
            num_operacion: Some(format!("R{i}")),
            payload: "{}",
            cash_session_id: None,
        };
        match invoicing::cobro::apply(&app.db, app.tenant, &r, Utc::now())
            .await
            .expect("apply")
        {
            invoicing::cobro::Outcome::Applied { .. } => {
                expected.insert(10_000 + i as i64);
            }
            other => panic!("payment {i} not applied: {other:?}"),
        }
    }
    // The same payment reported again is not applied again, nor notified again.
    let again = invoicing::cobro::Received {
        channel: "spei",
        dedupe_key: "prueba-rafaga:7".into(),
        contract_id: Some(contracts[7].0),
        unmatched_reason: None,
        amount_centavos: 10_007,
        forma_pago: "03",
        paid_at: Utc::now(),
        reference: "646180123400000001",
        payer: "PRUEBA",
        num_operacion: Some("R7".into()),
        payload: "{}",
        cash_session_id: None,
    };
    assert_eq!(
        invoicing::cobro::apply(&app.db, app.tenant, &again, Utc::now())
            .await
            .unwrap(),
        invoicing::cobro::Outcome::Duplicate
    );

    drain(&app, Duration::from_secs(240)).await;

    let dead = scalar(
        &app,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE tenant_id = $1 AND kind = 'legacy.avisar_pago' AND dead_at IS NOT NULL",
    )
    .await;
    assert_eq!(dead, 0, "no dead letters");
    let avisos = sim.avisos();
    let refs: HashSet<&str> = avisos
        .iter()
        .map(|a| a.referencia_externa.as_str())
        .collect();
    assert_eq!(
        refs.len(),
        avisos.len(),
        "some payment reached AquaCIS twice"
    );
    assert_eq!(avisos.len(), 1000, "every payment reached AquaCIS");
    let amounts: HashSet<i64> = avisos
        .iter()
        .map(|a| {
            (a.importe * Decimal::ONE_HUNDRED)
                .try_into()
                .expect("centavos")
        })
        .collect();
    assert_eq!(amounts, expected, "each with its exact amount");
    assert_eq!(
        scalar(&app, "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE tenant_id = $1 AND kind = 'legacy.avisar_pago' AND dead_at IS NOT NULL").await,
        0,
        "no dead letters"
    );
    // The lost replies were found in AquaCIS's history instead of being sent again.
    assert!(sim.calls("consultaHistoricoActuacionesContrato") > 0);
    app.shutdown().await;
}

both!(
    sqlite_payments_burst_reach_aquacis_once,
    postgres_payments_burst_reach_aquacis_once,
    payments_burst
);

async fn dead_letter_replay(backend: Backend, name: &str) {
    let Some(app) = app(backend, name).await else {
        return;
    };
    let sim = app.aquacis_sim.clone().expect("simulator");
    // A notice for a contract AquaCIS does not know is refused: a dead letter.
    {
        let mut tx = app.db.write(app.tenant).await.unwrap();
        db::repo::enqueue(
            &mut tx,
            bridge::AVISAR_PAGO,
            "legacy.avisar_pago:prueba-1",
            &serde_json::json!({
                "numContrato": "99999001", "importe": "250.00", "fechaPago": "2026-11-20",
                "formaPago": "01", "referenciaExterna": "SUPRA-PRUEBA-1"
            }),
            Utc::now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let dead = loop {
        let mut tx = app.db.read(app.tenant).await.unwrap();
        let d = db::repo::outbox_dead_letters(&mut tx, bridge::KIND_PREFIX, 10)
            .await
            .unwrap();
        if let Some(d) = d.into_iter().next() {
            break d;
        }
        assert!(std::time::Instant::now() < deadline, "no dead letter");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        dead.last_error.as_deref().unwrap_or("").contains("rechazó"),
        "{:?}",
        dead.last_error
    );
    assert!(sim.avisos().is_empty());

    // Staff see it on the bridge page; a non-admin cannot replay.
    let staff = app.new_client();
    app.staff_sign_in(&staff, "atencion@cea-qro.example").await;
    let page = staff.get("/personal/legado").await.text().await.unwrap();
    assert!(page.contains("SUPRA-PRUEBA-1"), "dead letter listed");
    let r = staff
        .post_fn("staff/legacy_replay", &[("id", &dead.id.to_string())])
        .await;
    assert_eq!(r.status(), 403);

    // Once AquaCIS knows the contract, the admin replays it and it arrives once.
    sim.upsert_contract(legacy::ops::Contrato {
        num_contrato: "99999001".into(),
        nif: "XAXX010101000".into(),
        titular: "CONTRATO NUEVO".into(),
        direccion: "Calle 1".into(),
        estado: "ALTA".into(),
        uso: "DOMESTICO".into(),
        fecha_alta: None,
        numero_serie_contador: None,
        email: None,
        telefono: None,
        deuda: None,
    });
    let admin = app.new_client();
    app.staff_sign_in(&admin, "admin@cea-qro.example").await;
    let r = admin
        .post_fn("staff/legacy_replay", &[("id", &dead.id.to_string())])
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    drain(&app, Duration::from_secs(20)).await;
    let avisos = sim.avisos();
    assert_eq!(avisos.len(), 1);
    assert_eq!(avisos[0].referencia_externa, "SUPRA-PRUEBA-1");
    assert!(
        app.recent_events(20)
            .await
            .iter()
            .any(|e| e.action == "legacy.dead_letter.replayed"),
        "the replay is audited"
    );
    app.shutdown().await;
}

both!(
    sqlite_dead_letter_replay,
    postgres_dead_letter_replay,
    dead_letter_replay
);

async fn dashboard_from_cache(backend: Backend, name: &str) {
    let Some(app) = app(backend, name).await else {
        return;
    };
    let sim = app.aquacis_sim.clone().expect("simulator");
    let contracts = common::demo_contracts();
    let (first, second) = (&contracts[0], &contracts[1]);
    switch(
        &app,
        bridge::Domain::Deuda,
        bridge::ReadFrom::Legado,
        bridge::WriteTo::Supra,
    )
    .await;
    sim.set_debt(first, Decimal::new(123_456, 2));
    // Contracts read from AquaCIS too: its titular is the one shown.
    switch(
        &app,
        bridge::Domain::Contratos,
        bridge::ReadFrom::Legado,
        bridge::WriteTo::Supra,
    )
    .await;
    let b = app.legacy.clone().expect("bridge");
    let mut k = b
        .client()
        .call(&legacy::ops::ConsultaDetalleContrato {
            num_contrato: first.clone(),
        })
        .await
        .expect("AquaCIS knows the demo contract")
        .contrato
        .expect("contrato");
    k.titular = "TITULAR SEGÚN AQUACIS".into();
    sim.upsert_contract(k);
    let citizen = app.new_client();
    app.citizen_sign_in(&citizen, first).await;
    let page = citizen.get("/cuenta").await.text().await.unwrap();
    assert!(page.contains("$1,234.56"), "AquaCIS's balance is shown");
    assert!(
        page.contains("Saldo del sistema comercial al"),
        "with its date"
    );
    assert!(
        page.contains("TITULAR SEGÚN AQUACIS"),
        "the contract as AquaCIS keeps it"
    );

    sim.set_down(true);
    let page = citizen.get("/cuenta").await.text().await.unwrap();
    assert!(
        page.contains("$1,234.56"),
        "the cached balance still renders"
    );
    assert!(
        page.contains("No pudimos consultar el sistema comercial. Saldo al"),
        "with the staleness notice"
    );
    // A contract AquaCIS never answered for: SUPRA's own balance, said so.
    let other = app.new_client();
    app.citizen_sign_in(&other, second).await;
    let page = other.get("/cuenta").await.text().await.unwrap();
    assert!(
        page.contains("Este es el saldo registrado en SUPRA"),
        "fallback notice"
    );
    sim.set_down(false);
    app.shutdown().await;
}

both!(
    sqlite_dashboard_from_cache,
    postgres_dashboard_from_cache,
    dashboard_from_cache
);

async fn nightly_sync(backend: Backend, name: &str) {
    let Some(app) = app(backend, name).await else {
        return;
    };
    let sim = app.aquacis_sim.clone().expect("simulator");
    let b = app.legacy.clone().expect("bridge");
    let first = bridge::sync::run(&app.db, app.tenant, &b, Utc::now())
        .await
        .expect("first sync");
    assert!(
        first.seen > 100,
        "the first sync takes every contract: {first:?}"
    );
    assert_eq!(
        first.quarantined, 0,
        "the demo's contracts are well formed: {first:?}"
    );
    assert_eq!(first.imported, first.seen);
    assert_eq!(
        first.reconciliation.only_supra, 0,
        "{:?}",
        first.reconciliation
    );
    assert_eq!(
        first.readings, 0,
        "readings SUPRA already has are not doubled: {first:?}"
    );
    assert_eq!(
        first.reconciliation.balances_different, 0,
        "the simulator was seeded from SUPRA: {:?}",
        first.reconciliation.mismatches
    );
    let imported_before = first.imported;

    // Changes in AquaCIS after the first sync: good and malformed.
    let contracts = common::demo_contracts();
    let good = |n: &str, nif: &str| legacy::ops::Contrato {
        num_contrato: n.into(),
        nif: nif.into(),
        titular: "MARIA LOPEZ".into(),
        direccion: "Av. Universidad 100".into(),
        estado: "ALTA".into(),
        uso: "DOMESTICO".into(),
        fecha_alta: None,
        numero_serie_contador: None,
        email: Some("maria@example.mx".into()),
        telefono: None,
        deuda: None,
    };
    sim.upsert_contract(good("99900001", "XAXX010101000"));
    sim.upsert_contract(good("99900002", "NO-ES-RFC"));
    sim.upsert_contract(legacy::ops::Contrato {
        estado: "ZOMBI".into(),
        ..good("99900003", "XAXX010101000")
    });
    sim.upsert_contract(legacy::ops::Contrato {
        titular: " ".into(),
        ..good("99900004", "XAXX010101000")
    });
    sim.upsert_contract(good("99900005", "XAXX010101000"));
    sim.set_debt("99900005", Decimal::new(-500, 2));
    sim.set_debt(&contracts[3], Decimal::new(999_999, 2));

    let second = bridge::sync::run(&app.db, app.tenant, &b, Utc::now())
        .await
        .expect("second sync");
    assert_eq!(
        second.watermark_from, first.watermark_to,
        "from the last watermark"
    );
    assert_eq!(second.quarantined, 4, "{second:?}");
    assert!(
        second.imported >= 2,
        "the new contract and the changed one: {second:?}"
    );
    assert!(
        second.seen < imported_before,
        "only what changed: {second:?}"
    );
    let mut tx = app.db.read(app.tenant).await.unwrap();
    let q = db::legacy::quarantined(&mut tx, second.run_id)
        .await
        .unwrap();
    drop(tx);
    let reasons: Vec<(String, String)> = q
        .iter()
        .map(|r| (r.legacy_key.clone(), r.reason.clone()))
        .collect();
    for (key, needle) in [
        ("99900002", "RFC"),
        ("99900003", "estado"),
        ("99900004", "titular"),
        ("99900005", "negativo"),
    ] {
        assert!(
            reasons.iter().any(|(k, r)| k == key && r.contains(needle)),
            "{key} quarantined for {needle}: {reasons:?}"
        );
    }
    let rec = &second.reconciliation;
    assert!(
        rec.only_legacy >= 1,
        "the new contract is only in AquaCIS: {rec:?}"
    );
    assert!(
        rec.mismatches
            .iter()
            .any(|(n, _, l)| n == &contracts[3] && *l == 999_999),
        "the changed debt is a mismatch: {rec:?}"
    );
    // Staff see the report and the quarantine.
    let staff = app.new_client();
    app.staff_sign_in(&staff, "admin@cea-qro.example").await;
    let page = staff.get("/personal/legado").await.text().await.unwrap();
    assert!(
        page.contains("Registros en cuarentena") && page.contains("99900002"),
        "report on the page"
    );
    // A third run with nothing new sees nothing.
    let third = bridge::sync::run(&app.db, app.tenant, &b, Utc::now())
        .await
        .expect("third sync");
    assert_eq!(third.seen, 0, "{third:?}");
    app.shutdown().await;
}

both!(sqlite_nightly_sync, postgres_nightly_sync, nightly_sync);

async fn self_read_reaches_aquacis(backend: Backend, name: &str) {
    let Some(app) = app(backend, name).await else {
        return;
    };
    let sim = app.aquacis_sim.clone().expect("simulator");
    switch(
        &app,
        bridge::Domain::Lecturas,
        bridge::ReadFrom::Supra,
        bridge::WriteTo::Ambos,
    )
    .await;
    // A contract with a meter and readings: send a reading a little above the last one.
    let mut tx = app.db.read(app.tenant).await.unwrap();
    let mut target = None;
    for (id, _) in contract_ids(&app).await {
        let meters = db::repo::meters_of_contract(&mut tx, id).await.unwrap();
        if let Some(m) = meters.first()
            && let Some(last) = db::metering::readings_of(&mut tx, m.id, 1)
                .await
                .unwrap()
                .first()
            && last.read_at < Utc::now() - chrono::Duration::days(2)
        {
            target = Some((id, last.value_litres));
            break;
        }
    }
    drop(tx);
    let (contract_id, last) = target.expect("a contract with a meter");
    let litres = (last + 4_000) as u64;
    // Sent twice (queued on the phone and sent again): one reading for AquaCIS.
    for _ in 0..2 {
        let r = metering::self_read::submit(
            &app.db,
            app.tenant,
            metering::self_read::Submission {
                key: "prueba-lectura-legado",
                contract_id,
                litres,
                taken_at: None,
                photo: None,
            },
            Utc::now(),
        )
        .await
        .expect("accepted");
        assert!(r.accepted);
    }
    drain(&app, Duration::from_secs(20)).await;
    assert_eq!(sim.calls("solicitudIntroduccionLectura"), 1);
    app.shutdown().await;
}

both!(
    sqlite_self_read_reaches_aquacis,
    postgres_self_read_reaches_aquacis,
    self_read_reaches_aquacis
);
