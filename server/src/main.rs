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
    /// Tariff files: validate, import into the database, export.
    Tariff {
        #[command(subcommand)]
        command: TariffCommand,
    },
    /// Billing: preview one bill from a tariff file, or bill a whole period.
    Bill {
        #[command(subcommand)]
        command: BillCommand,
    },
    /// CFDI: seal the bills of a period, export a period's XML.
    Cfdi {
        #[command(subcommand)]
        command: CfdiCommand,
    },
    /// Payments: provider set-up, reconciliation, collection blocks.
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
    /// Meter ingest: LoRaWAN integrations and devices, route files, anomaly detection.
    Ingest {
        #[command(subcommand)]
        command: IngestCommand,
    },
    /// The bridge to AquaCIS (needs AQUACIS_URL, AQUACIS_USERNAME, AQUACIS_PASSWORD):
    /// nightly sync by hand, source-of-truth switches, dead letters.
    Legacy {
        #[command(subcommand)]
        command: LegacyCommand,
    },
    /// Simulators of external providers, speaking their real wire formats.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
    /// Benchmarks that print a ratio against a baseline measured in the same run.
    Bench {
        #[command(subcommand)]
        command: server::bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum LegacyCommand {
    /// Import what changed in AquaCIS since the last sync and reconcile; prints the report.
    Sync {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Where a domain's truth lives: contratos, lecturas, deuda, ordenes, pagos,
    /// datos_cliente; reads from supra|legado, writes to supra|legado|ambos.
    Domain {
        domain: String,
        #[arg(long)]
        reads: String,
        #[arg(long)]
        writes: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// The switches, the queue towards AquaCIS and its dead letters.
    Status {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Send a dead letter again.
    Replay {
        id: i64,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
enum IngestCommand {
    /// Create or re-key a ChirpStack HTTP integration; prints the secret to configure
    /// as the header `Authorization: Bearer <secret>` (a new random one unless given).
    Integration {
        #[arg(long)]
        name: String,
        /// At least 24 characters; default: 32 random bytes in hex.
        #[arg(long, env = "SUPRA_INGEST_SECRET")]
        secret: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Register a LoRaWAN device (devEui, 16 hex digits) as the meter with this serial.
    Device {
        #[arg(long)]
        dev_eui: String,
        #[arg(long)]
        meter: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Load a lecturista route file (CSV); writes the per-row report (CSV) to --report
    /// or stdout, the counts to stderr.
    Route {
        file: PathBuf,
        #[arg(long)]
        report: Option<PathBuf>,
        /// Who uploaded it, for the batch list.
        #[arg(long, default_value = "cli")]
        by: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Run the anomaly rules now (the server runs them every [ingest] detect_every_minutes).
    Detect {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Recompute every meter's daily and per-period aggregates from its stored readings
    /// (after readings were loaded in bulk outside ingest).
    Rebuild {
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
enum TariffCommand {
    /// Validate a tariff file; errors name the line or field.
    Check { file: PathBuf },
    /// Validate and store tariff files as versions of the tenant's tariffs.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Tenant slug (default: SUPRA_TENANT or cea-qro).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Write every stored tariff version as a TOML file into DIR.
    Export {
        dir: PathBuf,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
enum BillCommand {
    /// Print the line-by-line breakdown of one bill as JSON.
    Preview {
        #[arg(long)]
        tariff: PathBuf,
        /// Use type (domestico, comercial, industrial, gobierno, mixto).
        #[arg(long = "use")]
        use_type: String,
        /// Tariff class (popular, economica, media, residencial, general).
        #[arg(long)]
        class: String,
        /// Consumption in m³ (omit with --unmetered).
        #[arg(long, required_unless_present = "unmetered")]
        m3: Option<String>,
        /// Days of service in the period (default: the whole period).
        #[arg(long)]
        days: Option<u32>,
        /// Toma without a working meter (cuota fija).
        #[arg(long)]
        unmetered: bool,
        /// Discount programs the account is registered in (e.g. inapam).
        #[arg(long)]
        program: Vec<String>,
        /// Overdue balance in pesos (for recargos).
        #[arg(long, default_value = "0")]
        overdue: String,
    },
    /// Bill every contract for a period (YYYY-MM), showing progress.
    Run {
        #[arg(long)]
        period: String,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
enum SimCommand {
    /// The Finkok PAC simulator (point FINKOK_URL at it).
    Pac {
        #[arg(long, default_value = "127.0.0.1:8091")]
        listen: String,
        #[arg(long, env = "FINKOK_USERNAME", default_value = "demo")]
        username: String,
        #[arg(long, env = "FINKOK_PASSWORD", default_value = "demo")]
        password: String,
        /// SAT's schema bundle (cfdi40-bundle.xsd) to validate documents with xmllint.
        #[arg(long)]
        xsd: Option<PathBuf>,
    },
    /// The Conekta simulator (point CONEKTA_URL and CONEKTA_PRIVATE_KEY at it).
    Conekta {
        #[arg(long, default_value = "127.0.0.1:8092")]
        listen: String,
        #[arg(long, env = "CONEKTA_PRIVATE_KEY", default_value = "key_demo")]
        private_key: String,
        /// The public key Conekta.js tokenizes cards with (`POST /tokens`).
        #[arg(long, env = "CONEKTA_PUBLIC_KEY", default_value = "key_demo_public")]
        public_key: String,
        /// Where to deliver webhooks (also settable with `POST /webhooks`).
        #[arg(long)]
        webhook: Option<String>,
    },
    /// The STP simulator: sends abonos to `--webhook`, answers conciliación (point
    /// STP_URL at it).
    Stp {
        #[arg(long, default_value = "127.0.0.1:8093")]
        listen: String,
        #[arg(long)]
        webhook: Option<String>,
    },
    /// The AquaCIS simulator: the legacy CIS's SOAP services with their known defects
    /// and fault injection under /sim/ (point AQUACIS_URL at it).
    Aquacis {
        #[arg(long, default_value = "127.0.0.1:8094")]
        listen: String,
        #[arg(long, env = "AQUACIS_USERNAME", default_value = "supra")]
        username: String,
        #[arg(long, env = "AQUACIS_PASSWORD", default_value = "aquacis-demo-2026")]
        password: String,
        /// Load the configured tenant's contracts, meters, invoices and readings from
        /// the database (DATABASE_URL / --config); otherwise start empty.
        #[arg(long)]
        seed_db: bool,
    },
}

#[derive(Subcommand)]
enum PaymentsCommand {
    /// Create Conekta's webhook key (stored for the tenant) and point its webhooks at
    /// `--webhook-url` (e.g. https://pagos.example/webhooks/conekta). Uses
    /// CONEKTA_PRIVATE_KEY and CONEKTA_URL.
    ConektaSetup {
        #[arg(long)]
        webhook_url: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Reconcile a day (AAAA-MM-DD) against every configured provider now.
    Reconcile {
        #[arg(long)]
        day: chrono::NaiveDate,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Domiciliación: the month's batch file for the bank (made now, or the one already
    /// made for the month), written to `--out` or stdout.
    DebitBatch {
        /// AAAA-MM.
        #[arg(long)]
        month: String,
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Domiciliación: apply the bank's results file (paid debits applied once, bounces
    /// retried or the mandate deactivated).
    DebitResults {
        file: std::path::PathBuf,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Stop (`--reason "…"`) or resume (no reason) collection for a contract.
    Block {
        #[arg(long)]
        contract: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
enum CfdiCommand {
    /// Seal (and store) the CFDI of every bill of the period that has none yet.
    Issue {
        /// AAAA-MM
        #[arg(long)]
        period: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Seal the period's factura global (PUBLICO EN GENERAL) with the bills of customers
    /// without datos fiscales (issuers with `factura_global` only).
    Global {
        /// AAAA-MM
        #[arg(long)]
        period: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// One pass of the fiscal worker: seal due Complementos de Pago, send sealed CFDIs to
    /// the PAC (FINKOK_URL or FINKOK_ENVIRONMENT, FINKOK_USERNAME, FINKOK_PASSWORD) —
    /// rejections go to the staff queue with the PAC's code — and send and follow
    /// cancellation requests.
    Stamp {
        /// Documents per batch sent to the PAC (the pass continues until none is left).
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// The CSD (expiry, 90-day warning) and the CFDI queue: documents per status and the
    /// PAC's rejections with their codes.
    Status {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Put a rejected CFDI back in the queue once its cause is fixed.
    Retry {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Ask SAT to cancel a stamped CFDI (sent by the next `stamp` pass).
    Cancel {
        /// The CFDI's id (see `status` or the staff page).
        #[arg(long)]
        id: i64,
        /// SAT's motivo: 01 (with a replacement), 02, 03 or 04.
        #[arg(long)]
        motivo: String,
        /// UUID of the replacement CFDI (motivo 01).
        #[arg(long)]
        sustituto: Option<String>,
        /// Why (kept in the audit trail).
        #[arg(long)]
        nota: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Record a payment at the counter against one bill (its Complemento de Pago is
    /// sealed by the next `stamp` pass once the bill's CFDI is stamped).
    Pay {
        /// The bill's id.
        #[arg(long)]
        invoice: i64,
        /// Amount in pesos, e.g. 150.50.
        #[arg(long)]
        amount: String,
        /// c_FormaPago: 01 efectivo, 02 cheque, 03 transferencia, 04 crédito, 28 débito.
        #[arg(long, default_value = "01")]
        forma: String,
        /// Bank reference or similar.
        #[arg(long)]
        operacion: Option<String>,
        /// Idempotency key: the same key records one payment (default: a new one).
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Write every CFDI of the period to DIR as <UUID>.xml (stamped) or
    /// <Serie>-<Folio>.xml (sealed only), for checking with SAT's own tools.
    Export {
        /// AAAA-MM
        #[arg(long)]
        period: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        tenant: Option<String>,
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
        Command::Tariff { command } => tariff(&config, command).await,
        Command::Bill { command } => bill(&config, command).await,
        Command::Cfdi { command } => cfdi_command(&config, command).await,
        Command::Sim {
            command:
                SimCommand::Pac {
                    listen,
                    username,
                    password,
                    xsd,
                },
        } => {
            let sim = server::sim::pac::PacSim::new(&username, &password, xsd)?;
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            println!(
                "PAC simulator (Finkok SOAP) on http://{}",
                listener.local_addr()?
            );
            axum::serve(listener, server::sim::pac::router(sim)).await?;
            Ok(())
        }
        Command::Sim {
            command:
                SimCommand::Conekta {
                    listen,
                    private_key,
                    public_key,
                    webhook,
                },
        } => {
            let sim = server::sim::conekta::ConektaSim::new(&private_key, &public_key);
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            let url = format!("http://{}", listener.local_addr()?);
            sim.set_base_url(&url);
            if let Some(w) = webhook {
                sim.add_webhook(&w);
            }
            println!("Conekta simulator on {url} (Conekta.js at {url}/conekta.js)");
            axum::serve(listener, server::sim::conekta::router(sim)).await?;
            Ok(())
        }
        Command::Sim {
            command: SimCommand::Stp { listen, webhook },
        } => {
            let sim = server::sim::stp::StpSim::new();
            if let Some(w) = webhook {
                sim.set_webhook(&w);
            }
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            println!("STP simulator on http://{}", listener.local_addr()?);
            axum::serve(listener, server::sim::stp::router(sim)).await?;
            Ok(())
        }
        Command::Sim {
            command:
                SimCommand::Aquacis {
                    listen,
                    username,
                    password,
                    seed_db,
                },
        } => {
            let sim = server::sim::aquacis::AquacisSim::new(&username, &password);
            if seed_db {
                let (db, tenant) = server::open_tenant(&config, None).await?;
                let n = sim
                    .seed_from_db(&db, tenant)
                    .await
                    .context("loading the simulator from the database")?;
                db.close().await;
                println!(
                    "AquaCIS simulator: {n} contracts of tenant '{}' loaded",
                    config.tenant
                );
            }
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            println!(
                "AquaCIS simulator (SOAP) on http://{}/Comercial/services/…",
                listener.local_addr()?
            );
            axum::serve(listener, server::sim::aquacis::router(sim)).await?;
            Ok(())
        }
        Command::Payments { command } => payments_command(&config, command).await,
        Command::Ingest { command } => ingest_command(&config, command).await,
        Command::Legacy { command } => legacy_command(&config, command).await,
        Command::Bench { command } => server::bench::run(&config, command).await,
    }
}

async fn legacy_command(config: &Config, command: LegacyCommand) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let bridge = || -> anyhow::Result<bridge::Bridge> {
        let url = std::env::var("AQUACIS_URL").map_err(|_| {
            anyhow::anyhow!("set AQUACIS_URL (and AQUACIS_USERNAME, AQUACIS_PASSWORD)")
        })?;
        config.legacy.bridge(
            &url,
            &std::env::var("AQUACIS_USERNAME").unwrap_or_default(),
            &std::env::var("AQUACIS_PASSWORD").unwrap_or_default(),
        )
    };
    match command {
        LegacyCommand::Sync { tenant } => {
            let (db, t) = server::open_tenant(config, tenant.as_deref()).await?;
            let b = bridge()?;
            let r = bridge::sync::run(&db, t, &b, now).await?;
            println!("{}", serde_json::to_string_pretty(&r)?);
            println!(
                "legacy sync: {} changed contracts, {} imported, {} quarantined, {} readings; {} balances differ",
                r.seen, r.imported, r.quarantined, r.readings, r.reconciliation.balances_different
            );
        }
        LegacyCommand::Domain {
            domain,
            reads,
            writes,
            tenant,
        } => {
            let (db, t) = server::open_tenant(config, tenant.as_deref()).await?;
            let d = bridge::Domain::parse(&domain)?;
            bridge::settings::set(
                &db,
                t,
                d,
                bridge::ReadFrom::parse(&reads)?,
                bridge::WriteTo::parse(&writes)?,
                None,
                now,
            )
            .await?;
            println!("{}: reads from {reads}, writes to {writes}", d.as_str());
        }
        LegacyCommand::Status { tenant } => {
            let (db, t) = server::open_tenant(config, tenant.as_deref()).await?;
            for s in bridge::settings::all(&db, t).await? {
                println!(
                    "{:<14} reads {:<7} writes {}",
                    s.domain.as_str(),
                    s.reads.as_str(),
                    s.writes.as_str()
                );
            }
            let mut tx = db.read(t).await?;
            let (waiting, dead) = db::repo::outbox_depth(&mut tx, bridge::KIND_PREFIX).await?;
            println!("towards AquaCIS: {waiting} waiting, {dead} dead letters");
            for d in db::repo::outbox_dead_letters(&mut tx, bridge::KIND_PREFIX, 50).await? {
                println!(
                    "  #{} {} attempts {}: {}",
                    d.id,
                    d.kind,
                    d.attempts,
                    d.last_error.unwrap_or_default()
                );
            }
        }
        LegacyCommand::Replay { id, tenant } => {
            let (db, t) = server::open_tenant(config, tenant.as_deref()).await?;
            anyhow::ensure!(
                bridge::replay(&db, t, id, None, now).await?,
                "#{id} is not a dead letter"
            );
            println!("#{id} queued again");
        }
    }
    Ok(())
}

async fn ingest_command(config: &Config, command: IngestCommand) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let open = |tenant: Option<String>| {
        let slug = tenant.unwrap_or_else(|| config.tenant.clone());
        async move { server::open_tenant(config, Some(&slug)).await }
    };
    match command {
        IngestCommand::Integration {
            name,
            secret,
            tenant,
        } => {
            let (db, t) = open(tenant).await?;
            let secret = secret.unwrap_or_else(|| {
                use rand::RngCore;
                let mut b = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut b);
                hex::encode(b)
            });
            metering::integrations::set(&db, t, &name, &secret, now).await?;
            eprintln!(
                "integration '{name}' ready: in ChirpStack, HTTP integration, JSON encoding, \
                 event endpoint <this server>/ingest/chirpstack, header Authorization: Bearer <secret>"
            );
            println!("{secret}");
        }
        IngestCommand::Device {
            dev_eui,
            meter,
            tenant,
        } => {
            let eui = dev_eui.trim().to_ascii_lowercase();
            anyhow::ensure!(
                eui.len() == 16 && eui.chars().all(|c| c.is_ascii_hexdigit()),
                "el devEui debe tener 16 dígitos hexadecimales: {dev_eui}"
            );
            let (db, t) = open(tenant).await?;
            let mut tx = db.write(t).await?;
            let found =
                db::metering::registers_by_serial(&mut tx, &[meter.trim().to_string()]).await?;
            let m = found
                .first()
                .with_context(|| format!("no hay medidor con serie {meter}"))?;
            db::metering::upsert_device(&mut tx, &eui, m.id, now).await?;
            tx.commit().await?;
            println!("device {eui} → meter {} (id {})", meter.trim(), m.id);
        }
        IngestCommand::Route {
            file,
            report,
            by,
            tenant,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let (db, t) = open(tenant).await?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "ruta.csv".into());
            let id = metering::route::open(&db, t, &name, &by, now).await?;
            let s = metering::route::process(&db, t, id, &bytes, now).await?;
            let text = {
                let mut tx = db.read(t).await?;
                db::metering::batch(&mut tx, id)
                    .await?
                    .and_then(|(_, r)| r)
                    .unwrap_or_default()
            };
            match report {
                Some(path) => std::fs::write(&path, &text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
            eprintln!(
                "batch {id}: {} rows, {} accepted, {} duplicates, {} rejected",
                s.rows, s.accepted, s.duplicates, s.rejected
            );
        }
        IngestCommand::Rebuild { tenant } => {
            let (db, t) = open(tenant).await?;
            let meters = metering::record::rebuild_all(&db, t, now).await?;
            println!("aggregates rebuilt for {meters} meters");
        }
        IngestCommand::Detect { tenant } => {
            let (db, t) = open(tenant).await?;
            let s = metering::anomalies::detect(&db, t, &config.ingest.settings(), now).await?;
            let kinds: Vec<String> = s
                .new
                .iter()
                .map(|(k, n)| format!("{n} {}", k.code()))
                .collect();
            println!(
                "anomalies: {} meters checked, {} new ({})",
                s.meters,
                s.total(),
                if kinds.is_empty() {
                    "none".into()
                } else {
                    kinds.join(", ")
                }
            );
        }
    }
    Ok(())
}

async fn payments_command(config: &Config, command: PaymentsCommand) -> anyhow::Result<()> {
    match command {
        PaymentsCommand::ConektaSetup {
            webhook_url,
            tenant,
        } => {
            let slug = tenant.unwrap_or_else(|| config.tenant.clone());
            let (db, t) = server::open_tenant(config, Some(&slug)).await?;
            let client = conekta::Conekta::from_env()?
                .context("set CONEKTA_PRIVATE_KEY (and CONEKTA_URL for a simulator)")?;
            let id = server::payments_rt::setup_webhooks(&db, t, &client, &webhook_url).await?;
            println!("Conekta webhook key {id} stored; events go to {webhook_url}");
            Ok(())
        }
        PaymentsCommand::Reconcile { day, tenant } => {
            let slug = tenant.unwrap_or_else(|| config.tenant.clone());
            let (db, t) = server::open_tenant(config, Some(&slug)).await?;
            let (providers, _) = server::payments_rt::runtime(config).await;
            let runs =
                invoicing::conciliacion::run_day(&db, t, &providers, day, chrono::Utc::now())
                    .await?;
            let mut tx = db.read(t).await?;
            for id in runs {
                if let Some(r) = db::payments::reconciliation_run(&mut tx, id).await? {
                    println!(
                        "{} {}: {} in the statement, {} ours, {} matched, {} differences{}",
                        r.provider,
                        r.day,
                        r.statement_count,
                        r.ours_count,
                        r.matched,
                        r.issues,
                        r.error
                            .map(|e| format!(" (error: {e})"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        PaymentsCommand::DebitBatch { month, out, tenant } => {
            let slug = tenant.unwrap_or_else(|| config.tenant.clone());
            let (db, t) = server::open_tenant(config, Some(&slug)).await?;
            let built = invoicing::domiciliacion::build_batch(
                &db,
                t,
                &month,
                invoicing::Actor::System,
                invoicing::today(),
                chrono::Utc::now(),
            )
            .await?;
            let b = &built.batch;
            let (name, text) = {
                let mut tx = db.read(t).await?;
                db::domiciliacion::batch_file(&mut tx, b.id)
                    .await?
                    .context("batch file")?
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, &text)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!(
                        "{} batch {} ({name}): {} debits, {} centavos → {}",
                        if built.created { "new" } else { "existing" },
                        b.id,
                        b.item_count,
                        b.total_centavos,
                        path.display()
                    );
                }
                None => {
                    eprintln!(
                        "{} batch {} ({name}): {} debits, {} centavos",
                        if built.created { "new" } else { "existing" },
                        b.id,
                        b.item_count,
                        b.total_centavos
                    );
                    print!("{text}");
                }
            }
            Ok(())
        }
        PaymentsCommand::DebitResults { file, tenant } => {
            let slug = tenant.unwrap_or_else(|| config.tenant.clone());
            let (db, t) = server::open_tenant(config, Some(&slug)).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let r = invoicing::domiciliacion::apply_results(
                &db,
                t,
                &text,
                payments::domiciliacion::RetryPolicy::default(),
                invoicing::Actor::System,
                invoicing::today(),
                chrono::Utc::now(),
            )
            .await?;
            println!(
                "{} paid ({} centavos), {} to retry, {} mandates deactivated, {} rejected, {} already applied, {} unknown references",
                r.cobrados,
                r.cobrado_centavos,
                r.reintentos,
                r.bajas,
                r.rechazados,
                r.repetidos,
                r.desconocidos
            );
            Ok(())
        }
        PaymentsCommand::Block {
            contract,
            reason,
            tenant,
        } => {
            let slug = tenant.unwrap_or_else(|| config.tenant.clone());
            let (db, t) = server::open_tenant(config, Some(&slug)).await?;
            let mut tx = db.write(t).await?;
            let c = db::repo::contract_contact(&mut tx, &contract)
                .await?
                .with_context(|| format!("no contract {contract}"))?;
            db::payments::set_collection_block(
                &mut tx,
                c.contract_id,
                reason.as_deref().filter(|r| !r.trim().is_empty()),
                chrono::Utc::now(),
            )
            .await?;
            db::repo::record_event(
                &mut tx,
                db::repo::NewEvent {
                    actor_kind: "system",
                    actor_id: None,
                    action: if reason.is_some() {
                        "collection.blocked"
                    } else {
                        "collection.resumed"
                    },
                    subject_kind: Some("contract"),
                    subject_id: Some(c.contract_id),
                    data: serde_json::json!({ "motivo": reason }),
                    ip: None,
                    now: chrono::Utc::now(),
                },
            )
            .await?;
            tx.commit().await?;
            println!(
                "contract {contract}: collection {}",
                if reason.is_some() {
                    "stopped"
                } else {
                    "resumed"
                }
            );
            Ok(())
        }
    }
}

async fn cfdi_command(config: &Config, command: CfdiCommand) -> anyhow::Result<()> {
    let key = |p: &str| -> anyhow::Result<i32> {
        let period: billing::Period = p.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(invoicing::period_key(&period))
    };
    match command {
        CfdiCommand::Issue { period, tenant } => {
            let period = key(&period)?;
            let slug = tenant.unwrap_or_else(|| config.tenant.clone());
            let (db, t) = server::open_tenant(config, Some(&slug)).await?;
            let csd = server::fiscal::load_csd(config, &db, t, &slug).await?;
            let s =
                invoicing::fiscal::issue_period(&db, t, period, &csd, chrono::Utc::now()).await?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            anyhow::ensure!(
                s.failed.is_empty(),
                "{} bills could not be sealed",
                s.failed.len()
            );
            Ok(())
        }
        CfdiCommand::Global { period, tenant } => {
            let period = key(&period)?;
            let slug = tenant.unwrap_or_else(|| config.tenant.clone());
            let (db, t) = server::open_tenant(config, Some(&slug)).await?;
            let csd = server::fiscal::load_csd(config, &db, t, &slug).await?;
            let s =
                invoicing::fiscal::issue_global(&db, t, period, &csd, chrono::Utc::now()).await?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            Ok(())
        }
        CfdiCommand::Status { tenant } => {
            let slug = tenant.unwrap_or_else(|| config.tenant.clone());
            let (db, t) = server::open_tenant(config, Some(&slug)).await?;
            let csd = server::fiscal::load_csd(config, &db, t, &slug).await?;
            let cert = csd.certificate();
            let now = chrono::Utc::now();
            let queue = invoicing::fiscal::queue_status(&db, t).await?;
            let status = serde_json::json!({
                "csd": {
                    "rfc": cert.rfc(),
                    "no_certificado": cert.no_certificado(),
                    "vigente_hasta": cert.not_after().to_rfc3339(),
                    "dias_restantes": (cert.not_after() - now).num_days(),
                    "aviso_renovacion": cert.expires_within(now, server::fiscal::CSD_WARNING_DAYS),
                },
                "documentos": queue.by_status,
                "rechazados": queue.rejected,
            });
            println!("{}", serde_json::to_string_pretty(&status)?);
            Ok(())
        }
        CfdiCommand::Retry { id, tenant } => {
            let (db, t) = server::open_tenant(config, tenant.as_deref()).await?;
            invoicing::fiscal::retry(&db, t, id, invoicing::Actor::System).await?;
            println!("CFDI {id} de vuelta en la cola");
            Ok(())
        }
        CfdiCommand::Stamp { limit, tenant } => {
            let slug = tenant.unwrap_or_else(|| config.tenant.clone());
            let (db, t) = server::open_tenant(config, Some(&slug)).await?;
            let csd = server::fiscal::load_csd(config, &db, t, &slug).await?;
            let pac = pac::Finkok::from_env()?;
            let s = invoicing::fiscal::process(&db, t, &pac, &csd, limit).await?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            Ok(())
        }
        CfdiCommand::Cancel {
            id,
            motivo,
            sustituto,
            nota,
            tenant,
        } => {
            let (db, t) = server::open_tenant(config, tenant.as_deref()).await?;
            let r = invoicing::cancelacion::CancelRequest {
                document_id: id,
                motivo,
                folio_sustitucion: sustituto,
                note: nota,
            };
            let n = invoicing::cancelacion::request(
                &db,
                t,
                &r,
                invoicing::Actor::System,
                chrono::Utc::now(),
            )
            .await?;
            println!("{}", serde_json::json!({ "cancelacion": n }));
            Ok(())
        }
        CfdiCommand::Pay {
            invoice,
            amount,
            forma,
            operacion,
            key,
            tenant,
        } => {
            let (db, t) = server::open_tenant(config, tenant.as_deref()).await?;
            let amount = domain::Money::parse(&amount).map_err(|e| anyhow::anyhow!(e.message))?;
            let now = chrono::Utc::now();
            let input = invoicing::complemento::PaymentInput {
                invoice_id: invoice,
                amount,
                forma_pago: forma,
                paid_at: now,
                num_operacion: operacion,
                idempotency_key: key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            };
            let r = invoicing::complemento::record_payment(
                &db,
                t,
                &input,
                invoicing::Actor::System,
                now,
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&r)?);
            Ok(())
        }
        CfdiCommand::Export {
            period,
            out,
            tenant,
        } => {
            let period = key(&period)?;
            let (db, t) = server::open_tenant(config, tenant.as_deref()).await?;
            let n = invoicing::fiscal::export_period(&db, t, period, &out).await?;
            println!("{n} CFDI written to {}", out.display());
            Ok(())
        }
    }
}

async fn tariff(config: &Config, command: TariffCommand) -> anyhow::Result<()> {
    match command {
        TariffCommand::Check { file } => {
            let text = read(&file)?;
            match billing::Tariff::from_toml(&text) {
                Ok(t) => {
                    println!(
                        "{}: tarifa válida «{}» ({} · {}, vigente desde {})",
                        file.display(),
                        t.name,
                        t.use_type,
                        t.class,
                        t.valid_from
                    );
                    Ok(())
                }
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    std::process::exit(1);
                }
            }
        }
        TariffCommand::Import { files, tenant } => {
            let (db, tenant) = server::open_tenant(config, tenant.as_deref()).await?;
            for f in files {
                let text = read(&f)?;
                let id = invoicing::save_tariff(&db, tenant, &text, invoicing::Actor::System)
                    .await
                    .with_context(|| format!("{}", f.display()))?;
                println!("{}: guardada (id {id})", f.display());
            }
            Ok(())
        }
        TariffCommand::Export { dir, tenant } => {
            let (db, tenant) = server::open_tenant(config, tenant.as_deref()).await?;
            std::fs::create_dir_all(&dir)?;
            let mut tx = db.read(tenant).await?;
            for t in db::billing::tariffs(&mut tx).await? {
                let path = dir.join(format!(
                    "{}-{}-{}.toml",
                    t.use_type, t.tariff_class, t.valid_from
                ));
                std::fs::write(&path, &t.source_toml)?;
                println!("{}", path.display());
            }
            Ok(())
        }
    }
}

async fn bill(config: &Config, command: BillCommand) -> anyhow::Result<()> {
    match command {
        BillCommand::Preview {
            tariff,
            use_type,
            class,
            m3,
            days,
            unmetered,
            program,
            overdue,
        } => {
            let text = read(&tariff)?;
            let json = server::bill_preview(
                &text,
                &use_type,
                &class,
                m3.as_deref(),
                days,
                unmetered,
                &program,
                &overdue,
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{json}");
            Ok(())
        }
        BillCommand::Run { period, tenant } => {
            let period: billing::Period = period.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let (db, tenant) = server::open_tenant(config, tenant.as_deref()).await?;
            let opts = invoicing::RunOptions {
                issued_on: None,
                actor: invoicing::Actor::System,
                settings: config.billing_settings(),
            };
            let run_id = invoicing::start_run(&db, tenant, &period, opts.actor).await?;
            let s = invoicing::run_period(&db, tenant, period, run_id, &opts, |p| {
                eprint!(
                    "\r{} / {} contratos · {} recibos · {} en revisión   ",
                    p.counters.contracts_done,
                    p.contracts_total,
                    p.counters.invoices_issued,
                    p.counters.flagged
                );
            })
            .await?;
            eprintln!();
            println!("{}", serde_json::to_string_pretty(&s)?);
            Ok(())
        }
    }
}

fn read(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
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
