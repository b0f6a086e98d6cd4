//! The SQLite and PostgreSQL migrations describe the same tables and columns, and
//! every table but `tenants` carries `tenant_id`.

mod common;

use std::collections::{BTreeMap, BTreeSet};

type Columns = BTreeMap<String, BTreeSet<String>>;

async fn sqlite_columns(db: &db::Db) -> Columns {
    let db::Db::Sqlite { read, .. } = db else {
        panic!("not SQLite")
    };
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(read)
    .await
    .expect("sqlite columns");
    group(rows)
}

async fn pg_columns(conn: &mut sqlx::PgConnection) -> Columns {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'
           -- a partition (readings by year) is storage of its parent, not a table of its own
           AND table_name::text NOT IN (SELECT c.relname::text FROM pg_class c
                                        WHERE c.relispartition)",
    )
    .fetch_all(conn)
    .await
    .expect("pg columns");
    group(rows)
}

fn group(rows: Vec<(String, String)>) -> Columns {
    let mut m = Columns::new();
    for (t, c) in rows {
        m.entry(t).or_default().insert(c);
    }
    m
}

fn assert_tenant_scoped(cols: &Columns, which: &str) {
    assert!(cols.contains_key("tenants"), "{which}: no tenants table");
    assert!(cols.len() > 10, "{which}: only {} tables", cols.len());
    for (table, c) in cols {
        if table != "tenants" {
            assert!(
                c.contains("tenant_id"),
                "{which}: table {table} has no tenant_id column"
            );
        }
    }
}

fn diff(a: &Columns, b: &Columns) -> Vec<String> {
    let flat = |m: &Columns| -> BTreeSet<(String, String)> {
        m.iter()
            .flat_map(|(t, cs)| cs.iter().map(move |c| (t.clone(), c.clone())))
            .collect()
    };
    let (fa, fb) = (flat(a), flat(b));
    fa.symmetric_difference(&fb)
        .map(|(t, c)| {
            format!(
                "{t}.{c} only in {}",
                if fa.contains(&(t.clone(), c.clone())) {
                    "SQLite"
                } else {
                    "PostgreSQL"
                }
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tables_are_tenant_scoped() {
    let (db, _dir) = common::sqlite().await;
    let cols = sqlite_columns(&db).await;
    assert_tenant_scoped(&cols, "SQLite");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_schema_matches_sqlite() {
    let (sdb, _dir) = common::sqlite().await;
    let sqlite = sqlite_columns(&sdb).await;
    sdb.close().await;

    let Some(pg) = common::PgDb::new("postgres_schema_matches_sqlite").await else {
        return;
    };
    let db = db::Db::connect(Some(&pg.url)).await.expect("connect");
    db.migrate().await.expect("migrate");
    // Migrating twice is a no-op.
    db.migrate().await.expect("migrate again");
    db.close().await;
    let mut owner = pg.owner().await;
    let postgres = pg_columns(&mut owner).await;
    drop(owner);

    assert_tenant_scoped(&postgres, "PostgreSQL");
    let d = diff(&sqlite, &postgres);
    assert!(d.is_empty(), "schemas differ:\n{}", d.join("\n"));
    assert_eq!(
        sqlite.keys().collect::<Vec<_>>(),
        postgres.keys().collect::<Vec<_>>()
    );
}
