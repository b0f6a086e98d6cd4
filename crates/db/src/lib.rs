//! The one database access layer of SUPRA Water.
//!
//! * [`Db`] is either an embedded SQLite file (the default) or a PostgreSQL pool.
//!   The same SQL text runs on both (`$1` placeholders, `ON CONFLICT`, `RETURNING`);
//!   where the dialects differ the function says so and branches explicitly.
//! * Every query runs inside a [`Scoped`] transaction opened for one tenant. On
//!   PostgreSQL that transaction also sets `app.tenant_id`, so the row-level-security
//!   policies (migrations/postgres/0002_rls.sql) hide other tenants' rows even if a
//!   query forgot its `tenant_id` filter.
//! * On SQLite writes go through a single-connection pool (one writer, WAL), reads
//!   through a pool of readers, so concurrent requests never hit `SQLITE_BUSY`.
//!
//! Invariants: this crate knows nothing about HTTP, Leptos or sessions' cookies; it
//! stores money as integer centavos and volumes as integer litres.

pub mod anomalies;
pub mod billing;
mod bulk;
pub mod cfdi;
pub mod consumption;
pub mod domiciliacion;
mod error;
pub mod legacy;
pub mod legacy_sim;
pub mod metering;
pub mod models;
pub mod payments;
pub mod repo;
pub mod seed_load;
mod sql_list;

pub use error::{Error, Result};

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Executor, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Tenant (utility) identifier. Every row of every table carries one.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct TenantId(pub i64);

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Which SQL backend a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database handle. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// Default location of the embedded database.
pub const DEFAULT_SQLITE_PATH: &str = "./data/supra.db";

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The PostgreSQL role the application runs as (see 0002_rls.sql).
pub const PG_APP_ROLE: &str = "supra_app";

impl Db {
    /// Connect to `url`: `postgres://…` / `postgresql://…` selects PostgreSQL, `sqlite:…`
    /// or `None` selects SQLite (default file [`DEFAULT_SQLITE_PATH`], created if missing).
    pub async fn connect(url: Option<&str>) -> Result<Db> {
        match url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Self::connect_postgres(u).await
            }
            Some(u) if u.starts_with("sqlite:") => {
                let opts = SqliteConnectOptions::from_str(u)?;
                Self::connect_sqlite(opts).await
            }
            Some(u) => Err(Error::Config(format!(
                "DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got {})",
                redact(u)
            ))),
            None => Self::open_sqlite_file(Path::new(DEFAULT_SQLITE_PATH)).await,
        }
    }

    /// Open (creating if needed, with its parent directory) an SQLite database file.
    pub async fn open_sqlite_file(path: &Path) -> Result<Db> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Config(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        let opts = SqliteConnectOptions::new().filename(path);
        Self::connect_sqlite(opts).await
    }

    async fn connect_sqlite(opts: SqliteConnectOptions) -> Result<Db> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(5))
            .log_statements(log::LevelFilter::Trace);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        let readers = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .max(4);
        let read = SqlitePoolOptions::new()
            .max_connections(readers as u32)
            .connect_with(opts.read_only(false))
            .await?;
        Ok(Db::Sqlite { read, write })
    }

    async fn connect_postgres(url: &str) -> Result<Db> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // Run as the RLS-bound application role. Ignore a missing role only
                    // before migrations have created it (the migrator uses its own pool).
                    conn.execute(format!("SET ROLE {PG_APP_ROLE}").as_str())
                        .await?;
                    Ok(())
                })
            })
            .connect_lazy_with(opts);
        Ok(Db::Postgres(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Human-readable description for logs: never includes a password.
    pub fn describe(&self) -> String {
        match self {
            Db::Sqlite { write, .. } => {
                let file = write.connect_options().get_filename().display().to_string();
                format!("SQLite {file} (WAL)")
            }
            Db::Postgres(pool) => {
                let o = pool.connect_options();
                format!(
                    "PostgreSQL {}:{}/{}",
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or("")
                )
            }
        }
    }

    /// Apply pending migrations. On PostgreSQL this uses a separate connection that
    /// does not assume the application role (migrations create it).
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => SQLITE_MIGRATOR.run(write).await?,
            Db::Postgres(pool) => {
                let opts = pool.connect_options().as_ref().clone();
                let admin = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(opts)
                    .await?;
                // Serialise concurrent migrators across databases of one cluster (the
                // role creation is cluster-wide).
                PG_MIGRATOR.run(&admin).await?;
                admin.close().await;
            }
        }
        Ok(())
    }

    /// A read transaction scoped to `tenant`.
    pub async fn read(&self, tenant: TenantId) -> Result<Scoped> {
        self.begin(tenant, false).await
    }

    /// A write transaction scoped to `tenant`. Commit it with [`Scoped::commit`];
    /// dropping it rolls back.
    pub async fn write(&self, tenant: TenantId) -> Result<Scoped> {
        self.begin(tenant, true).await
    }

    async fn begin(&self, tenant: TenantId, write: bool) -> Result<Scoped> {
        let tx = match self {
            Db::Sqlite { read, write: w } => {
                let pool = if write { w } else { read };
                Tx::Sqlite(pool.begin().await?)
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                    .bind(tenant.0.to_string())
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        };
        Ok(Scoped { tx, tenant })
    }

    /// Cheap liveness probe used by `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        match self {
            Db::Sqlite { read, .. } => {
                sqlx::query("SELECT 1").execute(read).await?;
            }
            Db::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// The backend-specific transaction inside a [`Scoped`].
#[derive(Debug)]
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A transaction bound to one tenant. All repository functions take one.
#[derive(Debug)]
pub struct Scoped {
    pub(crate) tx: Tx,
    tenant: TenantId,
}

impl Scoped {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn backend(&self) -> Backend {
        match self.tx {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self.tx {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Raw access for tests that check the RLS backstop with deliberately unscoped SQL.
    pub fn tx_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}

/// Run the same sqlx expression on whichever backend the transaction uses.
/// `$c` is bound to `&mut SqliteConnection` or `&mut PgConnection`.
#[macro_export]
macro_rules! on {
    ($scoped:expr, |$c:ident| $body:expr) => {
        match &mut $scoped.tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

fn redact(url: &str) -> String {
    match url.find('@') {
        Some(at) => match url[..at].rfind(':') {
            Some(colon) if colon > url.find("://").map_or(0, |i| i + 2) => {
                format!("{}:***{}", &url[..colon], &url[at..])
            }
            _ => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
    }
}
