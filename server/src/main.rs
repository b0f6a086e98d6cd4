//! `supra`: the SUPRA Water server and its operator commands.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::{Config, Mode};

#[derive(Parser)]
#[command(
    name = "supra",
    version,
    about = "SUPRA Water: customer information system and citizen app"
)]
struct Cli {
    /// Optional TOML configuration file (also SUPRA_CONFIG). Environment variables
    /// SUPRA_* and DATABASE_URL override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run migrations and serve the web app (seeds a demo utility on first start in development).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Generate a deterministic synthetic utility and load it as a new tenant.
    Seed {
        /// Number of contracts.
        #[arg(long, default_value_t = 2000)]
        contracts: usize,
        /// Random seed: the same seed gives the same utility.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Password for the seeded staff users (one per role).
        #[arg(long, env = "SUPRA_DEMO_PASSWORD", default_value = "agua-demo-2026")]
        staff_password: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    init_tracing(&config);
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let db = db::Db::connect(config.database_url.as_deref()).await?;
            db.migrate().await?;
            println!("Migrations applied to {}", db.describe());
            Ok(())
        }
        Command::Seed {
            contracts,
            seed,
            staff_password,
        } => {
            let db = db::Db::connect(config.database_url.as_deref()).await?;
            db.migrate().await?;
            let lines = server::seed_demo(&db, contracts, seed, &staff_password, None)
                .await
                .context("seeding (does the tenant already exist? use a fresh database)")?;
            for l in lines {
                println!("{l}");
            }
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let mode = config.mode;
    let (server, demo) = server::prepare(config).await?;
    if let Some(lines) = demo {
        println!("\n=== Demo utility created (first start) ===");
        for l in lines {
            println!("{l}");
        }
        println!();
    }
    let addr = server.state.leptos_options.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    println!(
        "SUPRA listening on http://{} · database: {} · mode: {}",
        listener.local_addr()?,
        server.state.db.describe(),
        if mode == Mode::Production {
            "production"
        } else {
            "development (dev outbox at /dev/outbox)"
        }
    );
    server::serve(server, listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let b = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log_format.as_deref() == Some("json") {
        b.json().init();
    } else {
        b.init();
    }
}
