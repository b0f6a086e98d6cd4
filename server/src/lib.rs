//! The `supra` server: wires configuration, database, engines and the Leptos app
//! into one axum router. Handlers here are thin; the work happens in the crates.

pub mod config;
mod http;
pub mod outbox;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use app::ssr::AppState;
use db::{Db, TenantId};

pub use config::{Config, Mode};
pub use http::router;

/// A built server, ready to serve.
pub struct Server {
    pub state: AppState,
    pub config: Config,
}

/// Connect, migrate, seed the demo utility on first start (development), and build
/// the state. Returns the seeded demo logins when it seeded.
pub async fn prepare(config: Config) -> anyhow::Result<(Server, Option<Vec<String>>)> {
    let db = Db::connect(config.database_url.as_deref()).await?;
    db.migrate().await.context("running migrations")?;
    let mut demo = None;
    if config.mode == Mode::Development && db::repo::list_tenants(&db).await?.is_empty() {
        demo = Some(
            seed_demo(
                &db,
                config.demo_contracts,
                config.demo_seed,
                &config.demo_password,
                None,
            )
            .await?,
        );
    }
    let tenants = db::repo::list_tenants(&db).await?;
    let default_tenant = tenants
        .iter()
        .find(|t| t.slug == config.tenant)
        .map(|t| TenantId(t.id))
        .with_context(|| {
            format!(
                "tenant '{}' does not exist in {}; create it with `supra seed` (demo) or import the utility's data",
                config.tenant,
                db.describe()
            )
        })?;
    let leptos_options = leptos_options(&config)?;
    let state = AppState {
        leptos_options,
        auth: auth::Auth {
            db: db.clone(),
            policy: auth::Policy::default(),
            secrets: auth::Secrets {
                code_key: config.code_key(),
            },
        },
        db,
        tenants: Arc::new(tenants),
        default_tenant,
        secure_cookies: config.secure_cookies(),
        dev_mode: config.mode == Mode::Development,
    };
    Ok((Server { state, config }, demo))
}

/// Generate and load a demo utility; returns printable login lines.
pub async fn seed_demo(
    db: &Db,
    contracts: usize,
    seed: u64,
    password: &str,
    tenant: Option<(&'static str, &'static str)>,
) -> anyhow::Result<Vec<String>> {
    auth::password::check_strength(password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = std::time::Instant::now();
    let mut u = seed::generate(&seed::SeedParams::new(contracts, seed));
    if let Some((slug, name)) = tenant {
        u.tenant = seed::Tenant {
            slug,
            name,
            short_name: name,
        };
    }
    let hash = auth::password::hash(password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let loaded = db::seed_load::load(db, &u, &hash).await?;
    let mut lines = vec![format!(
        "Utility '{}' seeded: {} contracts, {} readings in {:.1} s",
        u.tenant.slug,
        loaded.contracts,
        loaded.readings,
        started.elapsed().as_secs_f64()
    )];
    lines.push(
        "Citizen sign-in (contract → code goes to the phone on file; see /dev/outbox):".into(),
    );
    for (number, phone) in seed::demo_logins(&u) {
        lines.push(format!("  contrato {number}  teléfono {phone}"));
    }
    lines.push(format!(
        "Staff sign-in at /personal/entrar, password '{password}':"
    ));
    for s in &u.staff {
        lines.push(format!("  {:<32} {}", s.email, s.role));
    }
    Ok(lines)
}

fn leptos_options(config: &Config) -> anyhow::Result<leptos::prelude::LeptosOptions> {
    // Leptos.toml (repo root) holds the runtime site settings; LEPTOS_* env vars
    // (set by cargo-leptos) override it.
    let file = find_upwards("Leptos.toml");
    let conf = leptos::prelude::get_configuration(file.as_deref().and_then(|p| p.to_str()))
        .context("reading Leptos.toml")?;
    let mut opts = conf.leptos_options;
    if let Some(listen) = &config.listen {
        opts.site_addr = listen
            .parse::<SocketAddr>()
            .with_context(|| format!("bad listen address {listen}"))?;
    }
    Ok(opts)
}

fn find_upwards(name: &str) -> Option<std::path::PathBuf> {
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let p = dir.join(name);
        if p.exists() {
            return Some(p);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// Serve until `stop` fires. Also runs the outbox dispatcher.
pub async fn serve(
    server: Server,
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let tenants = server
        .state
        .tenants
        .iter()
        .map(|t| TenantId(t.id))
        .collect();
    let dispatcher = tokio::spawn(outbox::run(
        server.state.db.clone(),
        tenants,
        server.config.mode,
        rx,
    ));
    let db = server.state.db.clone();
    let app = router(server.state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await?;
    let _ = tx.send(true);
    let _ = dispatcher.await;
    db.close().await;
    Ok(())
}
