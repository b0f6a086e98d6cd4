//! Billing runs against real databases (SQLite and PostgreSQL): a seeded utility,
//! the published demo tariffs, whole periods billed, then checked with SQL.

#[path = "../../db/tests/common/mod.rs"]
mod common;

use billing::Period;
use db::{Db, TenantId};
use invoicing::{Actor, ContractOutcome, RunOptions, Settings};

struct Fixture {
    db: Db,
    tenant: TenantId,
    _keep: Keep,
}

#[allow(dead_code)]
enum Keep {
    Dir(tempfile::TempDir),
    Pg(common::PgDb),
}

/// Seeded utility with the demo tariffs, on SQLite or (when `pg`) PostgreSQL.
async fn fixture(pg: bool, contracts: usize, test: &str) -> Option<Fixture> {
    let (db, keep) = if pg {
        let p = common::PgDb::new(test).await?;
        let db = Db::connect(Some(&p.url)).await.expect("connect pg");
        db.migrate().await.expect("migrate pg");
        (db, Keep::Pg(p))
    } else {
        let (db, dir) = common::sqlite().await;
        (db, Keep::Dir(dir))
    };
    let u = seed::generate(&seed::SeedParams::new(contracts, 7));
    let loaded = db::seed_load::load(&db, &u, "not-a-real-hash")
        .await
        .expect("seed");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tariffs/cea-qro-2026");
    for f in std::fs::read_dir(dir).expect("tariff dir") {
        let text = std::fs::read_to_string(f.expect("entry").path()).expect("tariff file");
        invoicing::save_tariff(&db, loaded.tenant, &text, Actor::System)
            .await
            .expect("save tariff");
    }
    Some(Fixture {
        db,
        tenant: loaded.tenant,
        _keep: keep,
    })
}

fn period(s: &str) -> Period {
    s.parse().expect("period")
}

async fn run(f: &Fixture, p: &str) -> invoicing::RunSummary {
    let p = period(p);
    let opts = RunOptions {
        issued_on: Some(p.end),
        actor: Actor::System,
        settings: Settings {
            chunk: 97, // several chunks, not aligned with anything
            ..Settings::default()
        },
    };
    let id = invoicing::start_run(&f.db, f.tenant, &p, opts.actor)
        .await
        .expect("start");
    invoicing::run_period(&f.db, f.tenant, p, id, &opts, |_| {})
        .await
        .expect("run")
}

async fn scalar(f: &Fixture, sql: &str) -> i64 {
    let mut tx = f.db.read(f.tenant).await.expect("tx");
    let t = f.tenant.0;
    match tx.tx_mut() {
        db::Tx::Sqlite(c) => sqlx::query_scalar(sql).bind(t).fetch_one(&mut **c).await,
        db::Tx::Postgres(c) => sqlx::query_scalar(sql).bind(t).fetch_one(&mut **c).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn exec(f: &Fixture, sql: &str) {
    let mut tx = f.db.write(f.tenant).await.expect("tx");
    let t = f.tenant.0;
    match tx.tx_mut() {
        db::Tx::Sqlite(c) => sqlx::query(sql).bind(t).execute(&mut **c).await.map(|_| ()),
        db::Tx::Postgres(c) => sqlx::query(sql).bind(t).execute(&mut **c).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.expect("commit");
}

macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(f) = super::fixture(false, 300, stringify!($name)).await {
                    super::$body(f).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(f) = super::fixture(true, 300, stringify!($name)).await {
                    super::$body(f).await;
                }
            }
        }
    };
}

both!(a_cycle_is_consistent_and_idempotent, cycle);
async fn cycle(f: Fixture) {
    let first = run(&f, "2026-10").await;
    let issued = first.counters.invoices_issued;
    assert!(issued > 200, "most of 300 contracts billed: {first:?}");
    assert_eq!(
        first.counters.contracts_done, 300,
        "every contract considered"
    );
    assert_eq!(
        issued + first.counters.flagged + first.counters.skipped,
        300,
        "each contract is issued, flagged or skipped: {first:?}"
    );
    let by_use: i64 = first.by_use.values().map(|u| u.invoices).sum();
    assert_eq!(by_use, issued);
    // Stored: one invoice per contract, totals = Σ lines to the centavo, one ledger
    // charge per invoice for exactly its total.
    assert_eq!(
        scalar(
            &f,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices WHERE tenant_id = $1"
        )
        .await,
        issued
    );
    let bad_totals = scalar(
        &f,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices i WHERE i.tenant_id = $1 AND (
            i.total_centavos <> i.subtotal_centavos + i.tax_centavos
         OR i.subtotal_centavos <> (SELECT SUM(l.amount_centavos) FROM invoice_lines l WHERE l.invoice_id = i.id)
         OR i.tax_centavos <> (SELECT SUM(l.tax_centavos) FROM invoice_lines l WHERE l.invoice_id = i.id))",
    )
    .await;
    assert_eq!(
        bad_totals, 0,
        "every invoice total equals the sum of its lines"
    );
    let ledger_mismatch = scalar(
        &f,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices i WHERE i.tenant_id = $1 AND 1 <> (
            SELECT COUNT(*) FROM ledger_entries e WHERE e.tenant_id = i.tenant_id
              AND e.contract_id = i.contract_id AND e.kind = 'factura' AND e.amount_centavos = i.total_centavos)",
    )
    .await;
    assert_eq!(ledger_mismatch, 0, "one ledger charge per invoice");
    let negative = scalar(
        &f,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM invoice_lines WHERE tenant_id = $1
            AND amount_centavos < 0 AND concept <> 'descuento'",
    )
    .await;
    assert_eq!(negative, 0, "only discounts are negative");
    assert!(
        scalar(&f, "SELECT CAST(COUNT(*) AS BIGINT) FROM invoice_lines WHERE tenant_id = $1 AND concept = 'alcantarillado'").await > 0,
        "sewer lines are billed"
    );

    // Re-running the period changes nothing already issued.
    let sum_before = scalar(
        &f,
        "SELECT CAST(SUM(total_centavos) AS BIGINT) FROM invoices WHERE tenant_id = $1",
    )
    .await;
    let again = run(&f, "2026-10").await;
    assert_eq!(again.counters.invoices_issued, 0, "{again:?}");
    assert_eq!(
        again.skipped_by_reason.get("ya_emitida").copied(),
        Some(issued)
    );
    assert_eq!(
        scalar(
            &f,
            "SELECT CAST(SUM(total_centavos) AS BIGINT) FROM invoices WHERE tenant_id = $1"
        )
        .await,
        sum_before
    );
    assert_eq!(
        scalar(&f, "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries WHERE tenant_id = $1 AND kind = 'factura'").await,
        issued
    );
}

both!(b_concurrent_runs_issue_each_invoice_once, concurrent);
async fn concurrent(f: Fixture) {
    let f = std::sync::Arc::new(f);
    let (a, b) = tokio::join!(
        {
            let f = f.clone();
            tokio::spawn(async move { run(&f, "2026-10").await })
        },
        {
            let f = f.clone();
            tokio::spawn(async move { run(&f, "2026-10").await })
        }
    );
    let (a, b) = (a.expect("task a"), b.expect("task b"));
    let stored = scalar(
        &f,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices WHERE tenant_id = $1",
    )
    .await;
    assert!(stored > 200);
    assert_eq!(
        a.counters.invoices_issued + b.counters.invoices_issued,
        stored,
        "between them the two runs issued each invoice exactly once"
    );
    assert_eq!(
        scalar(&f, "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries WHERE tenant_id = $1 AND kind = 'factura'").await,
        stored,
        "and charged it once"
    );
}

both!(c_no_reading_is_estimated_then_trued_up, estimate_true_up);
async fn estimate_true_up(f: Fixture) {
    // Bill four consecutive periods, then find a contract whose September reading was
    // missing (no access) while August and October were real.
    for p in ["2026-07", "2026-08", "2026-09", "2026-10"] {
        run(&f, p).await;
    }
    let contract = scalar(
        &f,
        "SELECT CAST(COALESCE(MIN(m.contract_id), 0) AS BIGINT) FROM meters m
         JOIN readings s ON s.meter_id = m.id AND s.period = 202609 AND s.quality IN ('sin_acceso', 'medidor_danado')
         JOIN readings a ON a.meter_id = m.id AND a.period = 202608 AND a.quality = 'valida'
         JOIN readings o ON o.meter_id = m.id AND o.period = 202610 AND o.quality = 'valida'
         JOIN invoices i9 ON i9.contract_id = m.contract_id AND i9.period = 202609 AND i9.estimated = TRUE
         JOIN invoices i10 ON i10.contract_id = m.contract_id AND i10.period = 202610
         WHERE m.tenant_id = $1 AND m.active = TRUE",
    )
    .await;
    assert!(
        contract > 0,
        "the seeded utility has a missed reading between two real ones"
    );
    let q = |sql: &str| sql.replace("{c}", &contract.to_string());
    let sept_billed = scalar(&f, &q("SELECT billed_litres FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202609")).await;
    let oct_billed = scalar(&f, &q("SELECT billed_litres FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202610")).await;
    let oct_estimated = scalar(&f, &q("SELECT CAST(CASE WHEN estimated THEN 1 ELSE 0 END AS BIGINT) FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202610")).await;
    let aug_carry = scalar(&f, &q("SELECT carry_litres FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202608")).await;
    let oct_carry = scalar(&f, &q("SELECT carry_litres FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202610")).await;
    let aug_reading = scalar(&f, &q("SELECT r.value_litres FROM readings r JOIN meters m ON m.id = r.meter_id WHERE r.tenant_id = $1 AND m.contract_id = {c} AND m.active = TRUE AND r.period = 202608")).await;
    let oct_reading = scalar(&f, &q("SELECT r.value_litres FROM readings r JOIN meters m ON m.id = r.meter_id WHERE r.tenant_id = $1 AND m.contract_id = {c} AND m.active = TRUE AND r.period = 202610")).await;
    assert_eq!(oct_estimated, 0, "October has a real reading");
    assert!(oct_reading >= aug_reading, "no rollover in this sample");
    // True-up: what September (estimated) and October billed, plus what is still
    // carried, is exactly the real consumption from August to October plus what
    // August carried in.
    assert_eq!(
        sept_billed + oct_billed + oct_carry,
        (oct_reading - aug_reading) + aug_carry,
        "contract {contract}: Sept {sept_billed} + Oct {oct_billed} + carry {oct_carry} = real {} + {aug_carry}",
        oct_reading - aug_reading
    );
    let lines = scalar(&f, &q("SELECT CAST(COUNT(*) AS BIGINT) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE l.tenant_id = $1 AND i.contract_id = {c} AND i.period = 202609 AND l.concept = 'agua' AND l.estimated = TRUE")).await;
    assert_eq!(lines, 1, "the September water line is marked estimado");
}

both!(d_a_reading_bills_its_contract_or_flags_it, event_driven);
async fn event_driven(f: Fixture) {
    run(&f, "2026-10").await;
    // Two active metered contracts billed in October.
    let a = scalar(&f, "SELECT CAST(MIN(i.contract_id) AS BIGINT) FROM invoices i JOIN contracts c ON c.id = i.contract_id WHERE i.tenant_id = $1 AND i.period = 202610 AND i.meter_id IS NOT NULL AND i.curr_reading_litres IS NOT NULL AND c.status = 'activo' AND i.billed_litres > 2000").await;
    let b = scalar(&f, "SELECT CAST(MAX(i.contract_id) AS BIGINT) FROM invoices i JOIN contracts c ON c.id = i.contract_id WHERE i.tenant_id = $1 AND i.period = 202610 AND i.meter_id IS NOT NULL AND i.curr_reading_litres IS NOT NULL AND c.status = 'activo' AND i.billed_litres > 2000").await;
    assert!(a > 0 && b > a);
    let nov: Period = period("2026-11");
    let insert = |contract: i64, delta: i64| {
        format!(
            "INSERT INTO readings (tenant_id, meter_id, period, read_at, value_litres, source, quality, created_at)
             SELECT $1, r.meter_id, 202611, '2026-11-24T15:00:00Z', r.value_litres + ({delta}), 'lecturista', 'valida', '2026-11-24T15:00:00Z'
             FROM readings r JOIN meters m ON m.id = r.meter_id AND m.active = TRUE
             WHERE r.tenant_id = $1 AND m.contract_id = {contract} AND r.period = 202610"
        )
    };
    // A: 900 m³ in a month — far above its average: flagged, not billed.
    exec(&f, &insert(a, 900_000)).await;
    // B: a reading 5 m³ below October's: negative, flagged.
    exec(&f, &insert(b, -5_000)).await;
    let s = Settings::default();
    let out_a = invoicing::bill_contract(&f.db, f.tenant, a, nov, &s, None)
        .await
        .expect("bill a");
    let out_b = invoicing::bill_contract(&f.db, f.tenant, b, nov, &s, None)
        .await
        .expect("bill b");
    assert_eq!(out_a, ContractOutcome::FlaggedForReview);
    assert_eq!(out_b, ContractOutcome::FlaggedForReview);
    let reasons = scalar(&f, &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM billing_reviews WHERE tenant_id = $1 AND period = 202611 AND ((contract_id = {a} AND reason = 'salto') OR (contract_id = {b} AND reason = 'negativo'))")).await;
    assert_eq!(reasons, 2, "the review queue says why");
    assert_eq!(
        scalar(
            &f,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices WHERE tenant_id = $1 AND period = 202611"
        )
        .await,
        0
    );

    // A plausible November reading for a third contract bills it, once.
    let c = scalar(&f, &format!("SELECT CAST(MIN(i.contract_id) AS BIGINT) FROM invoices i JOIN contracts c ON c.id = i.contract_id WHERE i.tenant_id = $1 AND i.period = 202610 AND i.curr_reading_litres IS NOT NULL AND c.status = 'activo' AND i.contract_id NOT IN ({a}, {b}) AND i.billed_litres BETWEEN 5000 AND 40000")).await;
    let oct = scalar(&f, &format!("SELECT billed_litres FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202610")).await;
    exec(&f, &insert(c, oct)).await;
    let out = invoicing::bill_contract(&f.db, f.tenant, c, nov, &s, None)
        .await
        .expect("bill c");
    assert!(matches!(out, ContractOutcome::Issued { .. }), "{out:?}");
    let again = invoicing::bill_contract(&f.db, f.tenant, c, nov, &s, None)
        .await
        .expect("again");
    assert_eq!(again, ContractOutcome::AlreadyIssued);
}

both!(e_recording_a_reading_queues_its_bill, reading_queues_bill);
async fn reading_queues_bill(f: Fixture) {
    run(&f, "2026-10").await;
    let c = scalar(&f, "SELECT CAST(MIN(i.contract_id) AS BIGINT) FROM invoices i JOIN contracts c ON c.id = i.contract_id WHERE i.tenant_id = $1 AND i.period = 202610 AND i.curr_reading_litres IS NOT NULL AND c.status = 'activo' AND i.billed_litres BETWEEN 5000 AND 40000").await;
    let last = scalar(&f, &format!("SELECT curr_reading_litres FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202610")).await;
    let reading = invoicing::NewReading {
        contract_id: c,
        period: period("2026-11"),
        read_at: "2026-11-23T16:00:00Z".parse().expect("ts"),
        value_litres: last + 12_000,
        source: "lecturista".into(),
    };
    assert!(
        invoicing::record_reading(&f.db, f.tenant, &reading, Actor::System)
            .await
            .expect("record")
    );
    assert!(
        !invoicing::record_reading(&f.db, f.tenant, &reading, Actor::System)
            .await
            .expect("again"),
        "the same reading twice is recorded once"
    );
    // The bill is queued in the outbox (once), not issued inline.
    assert_eq!(scalar(&f, "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE tenant_id = $1 AND kind = 'billing.bill_contract'").await, 1);
    assert_eq!(
        scalar(
            &f,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices WHERE tenant_id = $1 AND period = 202611"
        )
        .await,
        0
    );
    let payload = serde_json::json!({"contract_id": c, "period": "2026-11"});
    let out = invoicing::deliver_bill_contract(&f.db, f.tenant, &payload, &Settings::default())
        .await
        .expect("deliver");
    assert!(matches!(out, ContractOutcome::Issued { .. }), "{out:?}");
    let billed = scalar(&f, &format!("SELECT billed_litres FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202611")).await;
    let carry_in = scalar(&f, &format!("SELECT carry_litres FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202610")).await;
    let carry_out = scalar(&f, &format!("SELECT carry_litres FROM invoices WHERE tenant_id = $1 AND contract_id = {c} AND period = 202611")).await;
    assert_eq!(
        billed + carry_out,
        12_000 + carry_in,
        "November bills the 12 m³ read (plus what October carried)"
    );
    let again = invoicing::deliver_bill_contract(&f.db, f.tenant, &payload, &Settings::default())
        .await
        .expect("redeliver");
    assert_eq!(
        again,
        ContractOutcome::AlreadyIssued,
        "redelivery is a no-op"
    );
}
