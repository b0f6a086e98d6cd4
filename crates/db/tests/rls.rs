//! The tenant backstops below the repository's explicit `tenant_id` filters:
//! PostgreSQL row-level security and the append-only audit trail (both backends).

mod common;

use db::{Db, TenantId, Tx};

fn utility(slug: &'static str, contracts: usize, seed: u64) -> seed::Utility {
    let mut u = seed::generate(&seed::SeedParams::new(contracts, seed));
    if slug != "cea-qro" {
        u.tenant = seed::Tenant {
            slug,
            name: "B",
            short_name: "B",
        };
    }
    u
}

async fn pg_scalar(tx: &mut db::Scoped, sql: &str) -> Result<i64, sqlx::Error> {
    match tx.tx_mut() {
        Tx::Postgres(t) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **t).await,
        Tx::Sqlite(_) => panic!("not PostgreSQL"),
    }
}

async fn pg_exec(tx: &mut db::Scoped, sql: &str, bind: i64) -> Result<u64, sqlx::Error> {
    match tx.tx_mut() {
        Tx::Postgres(t) => sqlx::query(sql)
            .bind(bind)
            .execute(&mut **t)
            .await
            .map(|r| r.rows_affected()),
        Tx::Sqlite(_) => panic!("not PostgreSQL"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rls_hides_other_tenants() {
    let Some(pg) = common::PgDb::new("postgres_rls_hides_other_tenants").await else {
        return;
    };
    let db = Db::connect(Some(&pg.url)).await.expect("connect");
    db.migrate().await.expect("migrate");
    let ua = utility("cea-qro", 120, 7);
    let ub = utility("b", 40, 99);
    let la = db::seed_load::load(&db, &ua, "x").await.expect("load A");
    let lb = db::seed_load::load(&db, &ub, "x").await.expect("load B");
    let (ta, tb) = (la.tenant, lb.tenant);
    assert_ne!(ta, tb);

    // Deliberately unfiltered SQL inside tenant A's transaction sees only tenant A.
    let mut tx = db.read(ta).await.expect("read A");
    assert_eq!(
        pg_scalar(&mut tx, "SELECT COUNT(*) FROM contracts")
            .await
            .unwrap(),
        ua.contracts.len() as i64
    );
    assert_eq!(
        pg_scalar(&mut tx, "SELECT COUNT(DISTINCT tenant_id) FROM persons")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        pg_scalar(&mut tx, "SELECT MIN(tenant_id) FROM contracts")
            .await
            .unwrap(),
        ta.0
    );
    assert_eq!(
        pg_scalar(&mut tx, "SELECT COUNT(*) FROM staff_users")
            .await
            .unwrap(),
        ua.staff.len() as i64
    );
    drop(tx);
    let mut tx = db.read(tb).await.expect("read B");
    assert_eq!(
        pg_scalar(&mut tx, "SELECT COUNT(*) FROM contracts")
            .await
            .unwrap(),
        ub.contracts.len() as i64
    );
    assert_eq!(
        pg_scalar(&mut tx, "SELECT COUNT(*) FROM readings")
            .await
            .unwrap(),
        ub.readings.len() as i64
    );
    drop(tx);

    // The owner (no RLS role) sees both: the data really is there.
    {
        use sqlx::Connection;
        let mut owner = pg.owner().await;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contracts")
            .fetch_one(&mut owner)
            .await
            .unwrap();
        assert_eq!(n, (ua.contracts.len() + ub.contracts.len()) as i64);
        let _ = owner.close().await;
    }

    // Without a tenant set, the application role sees nothing.
    if let Db::Postgres(pool) = &db {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contracts")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(n, 0, "no tenant scope must mean no rows");
    }

    // Writing a row for tenant B inside tenant A's transaction is refused (WITH CHECK)…
    let insert = "INSERT INTO sectors (tenant_id, code, name, municipio) VALUES ($1, 'ZZ-TEST', 'Prueba', 'Querétaro')";
    let mut tx = db.write(ta).await.expect("write A");
    let err = pg_exec(&mut tx, insert, tb.0)
        .await
        .expect_err("cross-tenant insert must fail");
    assert!(
        err.to_string().contains("row-level security"),
        "unexpected error: {err}"
    );
    drop(tx);
    // …while the same row for tenant A itself is accepted (so the refusal above is RLS).
    let mut tx = db.write(ta).await.expect("write A");
    assert_eq!(
        pg_exec(&mut tx, insert, ta.0)
            .await
            .expect("same-tenant insert"),
        1
    );
    drop(tx); // rolled back

    // Updates cannot move rows to, or touch rows of, another tenant.
    let mut tx = db.write(ta).await.expect("write A");
    let err = pg_exec(&mut tx, "UPDATE persons SET tenant_id = $1", tb.0)
        .await
        .expect_err("moving rows must fail");
    assert!(
        err.to_string().contains("row-level security"),
        "unexpected error: {err}"
    );
    drop(tx);
    let mut tx = db.write(ta).await.expect("write A");
    let n = pg_exec(
        &mut tx,
        "UPDATE persons SET email = NULL WHERE tenant_id = $1",
        tb.0,
    )
    .await
    .unwrap();
    assert_eq!(n, 0, "tenant B's rows are invisible to UPDATE in tenant A");
    let n = pg_exec(&mut tx, "DELETE FROM readings WHERE tenant_id = $1", tb.0)
        .await
        .unwrap();
    assert_eq!(n, 0, "tenant B's rows are invisible to DELETE in tenant A");
    drop(tx);

    // The audit trail is append-only for the application role.
    let mut tx = db.write(ta).await.expect("write A");
    db::repo::record_event(
        &mut tx,
        db::repo::NewEvent {
            actor_kind: "system",
            actor_id: None,
            action: "test.event",
            subject_kind: None,
            subject_id: None,
            data: serde_json::json!({}),
            ip: None,
            now: chrono::Utc::now(),
        },
    )
    .await
    .expect("append an event");
    tx.commit().await.unwrap();
    let mut tx = db.write(ta).await.expect("write A");
    let err = pg_exec(
        &mut tx,
        "UPDATE domain_events SET action = 'x' WHERE tenant_id = $1",
        ta.0,
    )
    .await
    .expect_err("UPDATE domain_events must fail");
    assert!(
        err.to_string().contains("permission denied"),
        "unexpected error: {err}"
    );
    drop(tx);
    let mut tx = db.write(ta).await.expect("write A");
    let err = pg_exec(
        &mut tx,
        "DELETE FROM domain_events WHERE tenant_id = $1",
        ta.0,
    )
    .await
    .expect_err("DELETE domain_events must fail");
    assert!(
        err.to_string().contains("permission denied"),
        "unexpected error: {err}"
    );
    drop(tx);

    // Tenants are read-only for the application role.
    let mut tx = db.write(ta).await.expect("write A");
    let err = pg_exec(&mut tx, "UPDATE tenants SET name = 'x' WHERE id = $1", ta.0)
        .await
        .expect_err("tenants read-only");
    assert!(
        err.to_string().contains("permission denied"),
        "unexpected error: {err}"
    );
    drop(tx);

    let mut tx = db.read(ta).await.unwrap();
    let events = db::repo::recent_events(&mut tx, 5).await.unwrap();
    assert_eq!(
        events.first().map(|e| e.action.as_str()),
        Some("test.event")
    );
    drop(tx);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_domain_events_are_append_only() {
    let (db, _dir) = common::sqlite().await;
    let u = utility("cea-qro", 20, 3);
    let t: TenantId = db::seed_load::load(&db, &u, "x")
        .await
        .expect("load")
        .tenant;
    let mut tx = db.write(t).await.unwrap();
    let id = db::repo::record_event(
        &mut tx,
        db::repo::NewEvent {
            actor_kind: "system",
            actor_id: None,
            action: "test.event",
            subject_kind: None,
            subject_id: None,
            data: serde_json::json!({"k": 1}),
            ip: None,
            now: chrono::Utc::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    for sql in [
        "UPDATE domain_events SET action = 'x' WHERE id = $1",
        "DELETE FROM domain_events WHERE id = $1",
    ] {
        let mut tx = db.write(t).await.unwrap();
        let res = match tx.tx_mut() {
            Tx::Sqlite(c) => sqlx::query(sql).bind(id).execute(&mut **c).await,
            Tx::Postgres(_) => unreachable!(),
        };
        let err = res.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let mut tx = db.read(t).await.unwrap();
    let events = db::repo::recent_events(&mut tx, 5).await.unwrap();
    assert_eq!(
        events.first().map(|e| (e.id, e.action.as_str())),
        Some((id, "test.event"))
    );
    drop(tx);
    db.close().await;
}

/// Every table that carries `tenant_id` has row-level security enabled and forced, so
/// a table added later cannot silently miss the backstop.
#[tokio::test]
async fn postgres_every_tenant_table_has_forced_rls() {
    let Some(pg) = common::PgDb::new("postgres_every_tenant_table_has_forced_rls").await else {
        return;
    };
    let db = Db::connect(Some(&pg.url)).await.expect("connect");
    db.migrate().await.expect("migrate");
    let mut owner = pg.owner().await;
    let missing: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c
         JOIN information_schema.columns col ON col.table_name = c.relname AND col.column_name = 'tenant_id'
         WHERE c.relkind = 'r' AND col.table_schema = 'public'
           AND NOT (c.relrowsecurity AND c.relforcerowsecurity)",
    )
    .fetch_all(&mut owner)
    .await
    .expect("catalog");
    assert!(missing.is_empty(), "tables without forced RLS: {missing:?}");
    let covered: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'public'
         AND column_name = 'tenant_id' AND table_name IN ('invoices', 'invoice_lines', 'tariffs', 'billing_runs', 'billing_reviews', 'invoice_adjustments')",
    )
    .fetch_one(&mut owner)
    .await
    .expect("billing tables");
    assert_eq!(covered, 6, "the billing tables exist and carry tenant_id");
}
