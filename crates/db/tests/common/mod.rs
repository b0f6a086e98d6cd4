//! Fresh databases for the db crate's integration tests.
//!
//! PostgreSQL policy: with `SUPRA_REQUIRE_PG=1` an unreachable server fails the
//! test; otherwise the test prints `SKIPPED (...)` and returns early.

#![allow(dead_code)]

use sqlx::Connection;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn pg_base_url() -> String {
    std::env::var("SUPRA_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

fn pg_required() -> bool {
    std::env::var("SUPRA_REQUIRE_PG").is_ok_and(|v| v == "1")
}

fn pg_url_with_db(base: &str, name: &str) -> String {
    let (main, query) = match base.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (base, None),
    };
    let scheme_end = main.find("://").map_or(0, |i| i + 3);
    let head = match main[scheme_end..].find('/') {
        Some(i) => &main[..scheme_end + i],
        None => main,
    };
    match query {
        Some(q) => format!("{head}/{name}?{q}"),
        None => format!("{head}/{name}"),
    }
}

/// A throw-away PostgreSQL database, dropped (best effort) with this value.
pub struct PgDb {
    pub url: String,
    name: String,
}

impl PgDb {
    /// `None` only when PostgreSQL is unreachable and not required.
    pub async fn new(test_name: &str) -> Option<PgDb> {
        let base = pg_base_url();
        let mut conn = match sqlx::PgConnection::connect(&base).await {
            Ok(c) => c,
            Err(e) => {
                if pg_required() {
                    panic!("PostgreSQL not reachable at {base} and SUPRA_REQUIRE_PG=1: {e}");
                }
                // Straight to stderr: libtest would swallow eprintln! of a passing test.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED (PostgreSQL not reachable at {base}): {test_name}"
                );
                return None;
            }
        };
        let name = format!("supra_t_{}", hex::encode(rand::random::<[u8; 8]>()));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = conn.close().await;
        Some(PgDb {
            url: pg_url_with_db(&base, &name),
            name,
        })
    }

    /// A superuser connection to this database (no `SET ROLE`).
    pub async fn owner(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url)
            .await
            .expect("owner connection")
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let base = pg_base_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let mut conn = sqlx::PgConnection::connect(&base).await.ok()?;
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
                Some(())
            })
        })
        .join();
    }
}

/// A migrated SQLite database in a temp dir (keep the dir alive while using it).
pub async fn sqlite() -> (db::Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    let db = db::Db::connect(Some(&url)).await.expect("connect sqlite");
    db.migrate().await.expect("migrate sqlite");
    (db, dir)
}
