//! What the metering integration tests share: a seeded database on SQLite or
//! PostgreSQL (`fixture`), a raw-SQL helper (`raw!`) and `both!`, which runs one
//! scenario on each backend.

#![allow(dead_code, unused_macros)]

#[path = "../../../db/tests/common/mod.rs"]
pub mod common;

use db::{Db, TenantId};

pub struct Fixture {
    pub db: Db,
    pub tenant: TenantId,
    /// An active contract.
    pub contract_id: i64,
    _keep: Keep,
}

#[allow(dead_code)]
pub enum Keep {
    Dir(tempfile::TempDir),
    Pg(common::PgDb),
}

/// Run `sql` with `args` bound (i64s) on the raw transaction, returning `$fetch`.
macro_rules! raw {
    ($tx:expr, $query:ident($sql:expr), $args:expr, $fetch:ident) => {
        match $tx.tx_mut() {
            db::Tx::Sqlite(c) => {
                let mut q = sqlx::$query($sql);
                for a in $args {
                    q = q.bind(*a);
                }
                q.$fetch(&mut **c).await.expect($sql)
            }
            db::Tx::Postgres(c) => {
                let mut q = sqlx::$query($sql);
                for a in $args {
                    q = q.bind(*a);
                }
                q.$fetch(&mut **c).await.expect($sql)
            }
        }
    };
}

pub async fn fixture(pg: bool, test: &str) -> Option<Fixture> {
    let (db, keep) = if pg {
        let p = common::PgDb::new(test).await?;
        let db = Db::connect(Some(&p.url)).await.expect("connect pg");
        db.migrate().await.expect("migrate pg");
        (db, Keep::Pg(p))
    } else {
        let (db, dir) = common::sqlite().await;
        (db, Keep::Dir(dir))
    };
    let u = seed::generate(&seed::SeedParams::new(5, 3));
    let loaded = db::seed_load::load(&db, &u, "not-a-real-hash")
        .await
        .expect("seed");
    let mut tx = db.read(loaded.tenant).await.expect("tx");
    let contract_id: i64 = raw!(
        tx,
        query_scalar("SELECT min(id) FROM contracts WHERE tenant_id = $1 AND status = 'activo'"),
        &[loaded.tenant.0],
        fetch_one
    );
    drop(tx);
    Some(Fixture {
        db,
        tenant: loaded.tenant,
        contract_id,
        _keep: keep,
    })
}

macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(f) = crate::support::fixture(false, stringify!($name)).await {
                    super::$body(f).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(f) = crate::support::fixture(true, stringify!($name)).await {
                    super::$body(f).await;
                }
            }
        }
    };
}
