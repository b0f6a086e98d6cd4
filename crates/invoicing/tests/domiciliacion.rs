//! Domiciliación against real databases (SQLite and PostgreSQL): mandates checked,
//! the month's batch (amounts capped by the mandate, idempotent per month), the bank's
//! results applied once (balances to the centavo), insufficient funds retried after
//! the policy's days, a closed account deactivating the mandate with a notification.

#[path = "../../db/tests/common/mod.rs"]
mod common;

use chrono::{NaiveDate, Utc};
use db::{Db, TenantId};
use invoicing::domiciliacion::{self as dom, MandateRequest};
use invoicing::{Actor, Error};
use payments::domiciliacion::RetryPolicy;

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

async fn fixture(pg: bool, test: &str) -> Option<Fixture> {
    let (db, keep) = if pg {
        let p = common::PgDb::new(test).await?;
        let db = Db::connect(Some(&p.url)).await.expect("connect pg");
        db.migrate().await.expect("migrate pg");
        (db, Keep::Pg(p))
    } else {
        let (db, dir) = common::sqlite().await;
        (db, Keep::Dir(dir))
    };
    let u = seed::generate(&seed::SeedParams::new(30, 7));
    let loaded = db::seed_load::load(&db, &u, "not-a-real-hash")
        .await
        .expect("seed");
    Some(Fixture {
        db,
        tenant: loaded.tenant,
        _keep: keep,
    })
}

macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(f) = super::fixture(false, stringify!($name)).await {
                    super::$body(f).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(f) = super::fixture(true, stringify!($name)).await {
                    super::$body(f).await;
                }
            }
        }
    };
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// A contract whose ledger balance is exactly `centavos`.
async fn contract_owing(f: &Fixture, contract_id: i64, centavos: i64) -> String {
    let mut tx = f.db.write(f.tenant).await.expect("tx");
    let t = f.tenant.0;
    let sql = "INSERT INTO ledger_entries (tenant_id, contract_id, kind, amount_centavos,
        description, occurred_on, created_at) SELECT $1, $2, 'ajuste', $3 - COALESCE(SUM(amount_centavos), 0),
        'prueba', $4, $5 FROM ledger_entries WHERE tenant_id = $1 AND contract_id = $2";
    let (on, at) = (day("2026-11-01"), Utc::now());
    match tx.tx_mut() {
        db::Tx::Sqlite(c) => sqlx::query(sql)
            .bind(t)
            .bind(contract_id)
            .bind(centavos)
            .bind(on)
            .bind(at)
            .execute(&mut **c)
            .await
            .map(|_| ()),
        db::Tx::Postgres(c) => sqlx::query(sql)
            .bind(t)
            .bind(contract_id)
            .bind(centavos)
            .bind(on)
            .bind(at)
            .execute(&mut **c)
            .await
            .map(|_| ()),
    }
    .expect("ledger");
    let a = db::repo::account_by_id(&mut tx, contract_id)
        .await
        .expect("account")
        .expect("exists");
    tx.commit().await.expect("commit");
    assert_eq!(a.balance_centavos, centavos);
    a.number
}

async fn balance(f: &Fixture, contract_id: i64) -> i64 {
    let mut tx = f.db.read(f.tenant).await.expect("tx");
    db::repo::account_by_id(&mut tx, contract_id)
        .await
        .expect("account")
        .expect("exists")
        .balance_centavos
}

const CLABES: [&str; 5] = [
    "646180111805034237",
    "002180700812345670",
    "012180015555555557",
    "646180157000000004",
    "014180655012345678",
];

fn valid_clabe(i: usize) -> String {
    // Recompute the check digit so every CLABE here is valid.
    let body = &CLABES[i][..17];
    const W: [u32; 3] = [3, 7, 1];
    let s: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, d)| (u32::from(d - b'0') * W[i % 3]) % 10)
        .sum::<u32>()
        % 10;
    format!("{body}{}", (10 - s) % 10)
}

fn req<'a>(number: &'a str, clabe: &'a str, max: i64, signed: &str) -> MandateRequest<'a> {
    MandateRequest {
        contract_number: number,
        clabe,
        holder: "Titular de Prueba",
        max_centavos: max,
        signed_on: day(signed),
    }
}

both!(mandates_batches_and_results, scenario);
async fn scenario(f: Fixture) {
    let (db, tenant) = (&f.db, f.tenant);
    let today = day("2026-12-01");
    let now = Utc::now();
    let ids = {
        let mut tx = db.read(tenant).await.expect("tx");
        db::payments::contract_ids(&mut tx, 5).await.expect("ids")
    };
    assert_eq!(ids.len(), 5);
    let owed = [45_050, 200_000, 0, 30_000, 12_345];
    let mut numbers = vec![];
    for (id, c) in ids.iter().zip(owed) {
        numbers.push(contract_owing(&f, *id, c).await);
    }

    // Mandate checks, in staff's words, by field.
    let bad_clabe = format!(
        "{}{}",
        &valid_clabe(0)[..17],
        (valid_clabe(0).as_bytes()[17] - b'0' + 1) % 10
    );
    let e = dom::register(
        db,
        tenant,
        &req(&numbers[0], &bad_clabe, 1, "2026-11-01"),
        Actor::System,
        today,
        now,
    )
    .await
    .expect_err("bad check digit");
    assert!(
        matches!(&e, Error::Invalid { field: "clabe", message } if message.contains("dígito verificador")),
        "{e:?}"
    );
    let e = dom::register(
        db,
        tenant,
        &req(&numbers[0], &valid_clabe(0), 1, "2026-12-02"),
        Actor::System,
        today,
        now,
    )
    .await
    .expect_err("future");
    assert!(
        matches!(
            e,
            Error::Invalid {
                field: "firmado",
                ..
            }
        ),
        "{e:?}"
    );
    let e = dom::register(
        db,
        tenant,
        &req(&numbers[0], &valid_clabe(0), 0, "2026-11-01"),
        Actor::System,
        today,
        now,
    )
    .await
    .expect_err("max 0");
    assert!(
        matches!(
            e,
            Error::Invalid {
                field: "maximo",
                ..
            }
        ),
        "{e:?}"
    );

    let maxes = [1_000_000, 150_000, 1_000_000, 1_000_000, 1_000_000];
    let mut mandates = vec![];
    for i in 0..5 {
        mandates.push(
            dom::register(
                db,
                tenant,
                &req(&numbers[i], &valid_clabe(i), maxes[i], "2026-11-01"),
                Actor::System,
                today,
                now,
            )
            .await
            .expect("register"),
        );
    }
    let e = dom::register(
        db,
        tenant,
        &req(&numbers[0], &valid_clabe(0), 1_000, "2026-11-01"),
        Actor::System,
        today,
        now,
    )
    .await
    .expect_err("one active per contract");
    assert!(
        matches!(
            e,
            Error::Invalid {
                field: "contrato",
                ..
            }
        ),
        "{e:?}"
    );

    // The month's batch: the balance capped by the maximum; nothing for nothing owed.
    let b = dom::build_batch(db, tenant, "2026-12", Actor::System, today, now)
        .await
        .expect("batch");
    assert!(b.created);
    let items = {
        let mut tx = db.read(tenant).await.expect("tx");
        db::domiciliacion::items_of_batch(&mut tx, b.batch.id)
            .await
            .expect("items")
    };
    let amounts: Vec<(i64, i64)> = items
        .iter()
        .map(|i| (i.contract_id, i.amount_centavos))
        .collect();
    assert_eq!(
        amounts,
        vec![
            (ids[0], 45_050),
            (ids[1], 150_000),
            (ids[3], 30_000),
            (ids[4], 12_345)
        ]
    );
    assert_eq!(b.batch.item_count, 4);
    assert_eq!(b.batch.total_centavos, 45_050 + 150_000 + 30_000 + 12_345);
    let (_, file) = {
        let mut tx = db.read(tenant).await.expect("tx");
        db::domiciliacion::batch_file(&mut tx, b.batch.id)
            .await
            .expect("file")
            .expect("exists")
    };
    assert!(file.contains(&format!("T000004{:018}", 237_395)), "{file}");
    assert!(file.contains(&items[1].reference));

    // Same month again: the same batch.
    let again = dom::build_batch(db, tenant, "2026-12", Actor::System, today, now)
        .await
        .expect("again");
    assert!(!again.created);
    assert_eq!(again.batch.id, b.batch.id);
    assert!(matches!(
        dom::build_batch(db, tenant, "2026-13", Actor::System, today, now).await,
        Err(Error::Invalid { field: "mes", .. })
    ));

    // The bank's results.
    let r = |reference: &str, code: &str| format!("R{reference:<20}{code}\r\n");
    let results = [
        r(&items[0].reference, "00"),
        r(&items[1].reference, "00"),
        r(&items[2].reference, "01"),
        r(&items[3].reference, "02"),
        r("DESCONOCIDA1", "00"),
    ]
    .concat();
    let policy = RetryPolicy::default();
    let rep = dom::apply_results(db, tenant, &results, policy, Actor::System, today, now)
        .await
        .expect("results");
    assert_eq!(
        (
            rep.cobrados,
            rep.reintentos,
            rep.bajas,
            rep.desconocidos,
            rep.repetidos
        ),
        (2, 1, 1, 1, 0),
        "{rep:?}"
    );
    assert_eq!(rep.cobrado_centavos, 195_050);
    assert_eq!(balance(&f, ids[0]).await, 0);
    assert_eq!(balance(&f, ids[1]).await, 50_000);
    assert_eq!(balance(&f, ids[3]).await, 30_000);
    assert_eq!(balance(&f, ids[4]).await, 12_345);
    let count_received = || async {
        let mut tx = db.read(tenant).await.expect("tx");
        db::payments::count_received(&mut tx).await.expect("count")
    };
    let received = count_received().await;
    {
        let mut tx = db.read(tenant).await.expect("tx");
        let p = db::payments::received_by_key(
            &mut tx,
            &format!("domiciliacion:{}", items[0].reference),
        )
        .await
        .expect("p")
        .expect("applied");
        assert_eq!(
            (p.channel.as_str(), p.status.as_str(), p.amount_centavos),
            ("domiciliacion", "aplicado", 45_050)
        );
        let m = db::domiciliacion::mandate(&mut tx, mandates[4])
            .await
            .expect("m")
            .expect("m");
        assert_eq!(m.status, "baja");
        assert_eq!(m.baja_reason.as_deref(), Some("la cuenta fue cancelada"));
        let out = db::repo::outbox_recent(&mut tx, "notify.domiciliacion_baja", 10)
            .await
            .expect("outbox");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].payload.0["contract"], numbers[4].as_str());
        assert!(
            out[0].payload.0["text"]
                .as_str()
                .unwrap_or("")
                .contains("cancelada")
        );
    }

    // The same file again changes nothing.
    let rep = dom::apply_results(db, tenant, &results, policy, Actor::System, today, now)
        .await
        .expect("again");
    assert_eq!(
        (rep.cobrados, rep.repetidos, rep.desconocidos),
        (0, 4, 1),
        "{rep:?}"
    );
    assert_eq!(balance(&f, ids[0]).await, 0);
    assert_eq!(balance(&f, ids[1]).await, 50_000);
    assert_eq!(count_received().await, received);

    // Insufficient funds: not before the policy's days; then alone in the next batch.
    let early = dom::build_batch(db, tenant, "2026-12", Actor::System, day("2026-12-05"), now)
        .await
        .expect("early");
    assert_eq!(early.batch.id, b.batch.id, "the retry is not due yet");
    let retry = dom::build_batch(db, tenant, "2026-12", Actor::System, day("2026-12-06"), now)
        .await
        .expect("retry");
    assert!(retry.created);
    assert_eq!(retry.batch.seq, 2);
    let retry_items = {
        let mut tx = db.read(tenant).await.expect("tx");
        db::domiciliacion::items_of_batch(&mut tx, retry.batch.id)
            .await
            .expect("items")
    };
    assert_eq!(retry_items.len(), 1);
    assert_eq!(
        (
            retry_items[0].contract_id,
            retry_items[0].amount_centavos,
            retry_items[0].attempt,
            retry_items[0].retry_of
        ),
        (ids[3], 30_000, 2, Some(items[2].id))
    );

    // Next month: what is still owed, nobody whose mandate ended, nobody waiting.
    let jan = dom::build_batch(db, tenant, "2027-01", Actor::System, day("2027-01-02"), now)
        .await
        .expect("january");
    let jan_items = {
        let mut tx = db.read(tenant).await.expect("tx");
        db::domiciliacion::items_of_batch(&mut tx, jan.batch.id)
            .await
            .expect("items")
    };
    let jan_amounts: Vec<(i64, i64)> = jan_items
        .iter()
        .map(|i| (i.contract_id, i.amount_centavos))
        .collect();
    assert_eq!(jan_amounts, vec![(ids[1], 50_000)]);
}
