//! The `supra` server: wires configuration, database, engines and the Leptos app
//! into one axum router. Handlers here are thin; the work happens in the crates.

pub mod aquasis_api;
pub mod bench;
pub mod config;
mod demo;
pub mod fiscal;
mod http;
pub mod ingest;
pub mod legacy_rt;
pub mod mqtt;
pub mod outbox;
pub mod payments_rt;
pub mod sim;
pub mod webhooks;

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
    /// The payment simulators started for development (no provider configured):
    /// `serve` points their webhooks at this server.
    pub dev_sims: Option<payments_rt::DevSims>,
    /// The AquaCIS simulator started for development (no `AQUACIS_URL`).
    pub aquacis_sim: Option<Arc<sim::aquacis::AquacisSim>>,
}

/// Connect, migrate, seed the demo utility on first start (development), and build
/// the state. Returns the seeded demo logins when it seeded.
pub async fn prepare(config: Config) -> anyhow::Result<(Server, Option<Vec<String>>)> {
    config
        .ingest
        .settings()
        .validate()
        .map_err(|e| anyhow::anyhow!("[ingest]: {e}"))?;
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
    let fiscal = Arc::new(fiscal::runtime(&config, &db, &tenants).await);
    let (providers, dev_sims) = payments_rt::runtime(&config).await;
    let legacy = legacy_rt::runtime(&config, &db, default_tenant).await?;
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
        billing: config.billing_settings(),
        fiscal,
        payments: Arc::new(providers),
        anomalies: config.ingest.settings(),
        legacy: legacy.as_ref().map(|(b, _)| b.clone()),
    };
    Ok((
        Server {
            state,
            config,
            dev_sims,
            aquacis_sim: legacy.and_then(|(_, sim)| sim),
        },
        demo,
    ))
}

/// The demo utility's STP prefix (646 STP, plaza 180, made-up company digits 1234).
pub const DEMO_STP_PREFIX: &str = "6461801234";

/// The demo utility's ChirpStack HTTP integration secret (development only).
pub const DEMO_CHIRPSTACK_SECRET: &str = "demo-chirpstack-secreto-2026";

/// The devEui the demo gives a smart meter.
pub fn demo_dev_eui(meter_id: i64) -> String {
    format!("70b3d5e75e{:06x}", meter_id & 0xff_ffff)
}

/// Register the demo's smart meters as LoRaWAN devices and its HTTP integration.
async fn demo_devices(db: &Db, tenant: db::TenantId) -> anyhow::Result<usize> {
    let now = chrono::Utc::now();
    let mut tx = db.write(tenant).await?;
    let meters = db::metering::smart_meters(&mut tx).await?;
    for (id, _) in &meters {
        db::metering::upsert_device(&mut tx, &demo_dev_eui(*id), *id, now).await?;
    }
    tx.commit().await?;
    metering::integrations::set(db, tenant, "chirpstack-demo", DEMO_CHIRPSTACK_SECRET, now).await?;
    Ok(meters.len())
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
    {
        let mut tx = db.write(loaded.tenant).await?;
        db::cfdi::save_issuer(&mut tx, &fiscal::demo_issuer(), chrono::Utc::now()).await?;
        db::payments::save_stp_prefix(&mut tx, DEMO_STP_PREFIX, chrono::Utc::now()).await?;
        tx.commit().await?;
    }
    let devices = demo_devices(db, loaded.tenant).await?;
    // The seed loads raw readings; charts and anomaly rules read the aggregates.
    metering::record::rebuild_all(db, loaded.tenant, chrono::Utc::now()).await?;
    let history = demo::billing_history(db, loaded.tenant).await?;
    let mut lines = vec![format!(
        "Utility '{}' seeded: {} contracts, {} readings in {:.1} s",
        u.tenant.slug,
        loaded.contracts,
        loaded.readings,
        started.elapsed().as_secs_f64()
    )];
    lines.push(history);
    lines.push(format!(
        "LoRaWAN: {devices} smart meters registered as devices 70b3d5e75e<meter id, 6 hex>; \
         ChirpStack HTTP integration: POST /ingest/chirpstack?event=up with \
         'Authorization: Bearer {DEMO_CHIRPSTACK_SECRET}'"
    ));
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

/// Connect (and migrate) for an operator command on one tenant (`slug`, default the
/// configured tenant).
pub async fn open_tenant(config: &Config, slug: Option<&str>) -> anyhow::Result<(Db, TenantId)> {
    let db = Db::connect(config.database_url.as_deref()).await?;
    db.migrate().await.context("running migrations")?;
    let slug = slug.unwrap_or(&config.tenant);
    let t = db::repo::list_tenants(&db)
        .await?
        .into_iter()
        .find(|t| t.slug == slug)
        .with_context(|| format!("tenant '{slug}' does not exist in {}", db.describe()))?;
    Ok((db, TenantId(t.id)))
}

/// `supra bill preview`: the line-by-line breakdown of one bill as pretty JSON, or a
/// Spanish error message.
#[allow(clippy::too_many_arguments)]
pub fn bill_preview(
    tariff_toml: &str,
    use_type: &str,
    class: &str,
    m3: Option<&str>,
    days: Option<u32>,
    unmetered: bool,
    programs: &[String],
    overdue: &str,
) -> Result<String, String> {
    use chrono::Datelike;
    let tariff = billing::Tariff::from_toml(tariff_toml).map_err(|e| e.to_string())?;
    let use_type: domain::UseType = use_type
        .parse()
        .map_err(|e: domain::InvalidValue| e.message)?;
    let class: domain::TariffClass = class.parse().map_err(|e: domain::InvalidValue| e.message)?;
    if tariff.use_type != use_type.as_str() || tariff.class != class.as_str() {
        return Err(format!(
            "la tarifa es para {} · {}, no para {} · {}",
            tariff.use_type,
            tariff.class,
            use_type.as_str(),
            class.as_str()
        ));
    }
    let metering = if unmetered {
        billing::Metering::Unmetered
    } else {
        let m3 = domain::M3::parse(m3.unwrap_or_default()).map_err(|e| e.message)?;
        if m3.is_negative() {
            return Err("el consumo no puede ser negativo".into());
        }
        billing::Metering::Metered(m3.value())
    };
    let overdue = domain::Money::parse(overdue).map_err(|e| e.message)?;
    let from = tariff.valid_from;
    let period = billing::Period::month(from.year(), from.month()).map_err(|e| e.to_string())?;
    let tariffs = [tariff];
    let bill = billing::compute_bill(&billing::BillInput {
        tariffs: &tariffs,
        period,
        service_days: days,
        metering,
        estimated: false,
        programs,
        overdue_balance: overdue,
        fees: &[],
    })
    .map_err(|e| e.to_string())?;
    serde_json::to_string_pretty(&bill).map_err(|e| e.to_string())
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
    if let Some(dev) = &server.dev_sims {
        // Development: the local simulators deliver to this server (default tenant);
        // Conekta signs with a key stored now.
        let here = listener.local_addr()?;
        dev.stp_sim
            .set_webhook(&format!("http://{here}/webhooks/stp/abono"));
        let url = format!("http://{here}/webhooks/conekta");
        match payments_rt::setup_webhooks(
            &server.state.db,
            server.state.default_tenant,
            &dev.conekta,
            &url,
        )
        .await
        {
            Ok(_) => tracing::info!(%url, "Conekta simulator webhooks point here"),
            Err(e) => tracing::error!(error = %e, "Conekta simulator webhooks"),
        }
    }
    let dispatcher = tokio::spawn(outbox::run(
        server.state.db.clone(),
        tenants,
        outbox::Deliverers {
            mode: server.config.mode,
            billing: server.config.billing_settings(),
            fiscal: server.state.fiscal.clone(),
            payments: server.state.payments.clone(),
            legacy: server.state.legacy.clone(),
        },
        rx.clone(),
    ));
    let db = server.state.db.clone();
    let all: Vec<TenantId> = server
        .state
        .tenants
        .iter()
        .map(|t| TenantId(t.id))
        .collect();
    ingest::on_start(&db, &all).await?;
    let mut workers = Vec::new();
    let every = server.config.ingest.detect_every_minutes;
    if every > 0 {
        workers.push(tokio::spawn(ingest::detect_loop(
            db.clone(),
            all,
            server.config.ingest.settings(),
            std::time::Duration::from_secs(every * 60),
            rx.clone(),
        )));
    }
    if let (Some(b), Ok(hour)) = (
        server.state.legacy.clone(),
        u32::try_from(server.config.legacy.sync_hour),
    ) {
        workers.push(tokio::spawn(legacy_rt::sync_loop(
            db.clone(),
            server
                .state
                .tenants
                .iter()
                .map(|t| TenantId(t.id))
                .collect(),
            b,
            hour,
            rx.clone(),
        )));
    }
    if let Some(cfg) = server.config.mqtt.clone() {
        let slug = cfg.tenant.as_deref().unwrap_or(&server.config.tenant);
        let tenant = server
            .state
            .tenants
            .iter()
            .find(|t| t.slug == slug)
            .map(|t| TenantId(t.id))
            .with_context(|| format!("[mqtt] tenant '{slug}' does not exist"))?;
        let handler = ingest::MqttIngest {
            db: db.clone(),
            tenant,
        };
        let stop = rx.clone();
        workers.push(tokio::spawn(async move {
            if let Err(e) = mqtt::run(cfg, handler, stop).await {
                tracing::error!(error = %e, "mqtt: consumer stopped");
            }
        }));
    }
    let app = router(server.state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await?;
    let _ = tx.send(true);
    let _ = dispatcher.await;
    for w in workers {
        let _ = w.await;
    }
    db.close().await;
    Ok(())
}
