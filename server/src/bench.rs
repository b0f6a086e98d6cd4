//! `supra bench <area>`: benchmarks that print a ratio against a baseline measured in
//! the same run, ending with one summary line.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;
use db::{Db, TenantId};

use crate::Config;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Bill one period of an N-contract utility on SQLite; baseline: bulk-inserting the
    /// same invoice and line rows without billing logic. Also times bill PDFs.
    Billing {
        #[arg(long, default_value_t = 400_000)]
        contracts: usize,
        /// SQLite file to seed (or reuse). Default: ~/.cache/supra/bench/billing-N.db
        #[arg(long)]
        database: Option<PathBuf>,
        /// Bill PDFs to render for the PDF timing.
        #[arg(long, default_value_t = 300)]
        pdfs: usize,
    },
    /// Seal N CFDIs (build + XML + cadena original + sello + self-check) on all cores;
    /// baseline: bare RSA-2048 SHA-256 signatures over the same cadenas with the same key.
    Cfdi {
        #[arg(long, default_value_t = 20_000)]
        invoices: usize,
    },
    /// Payment webhooks over HTTP against a served demo utility on SQLite: STP abonos
    /// and Conekta's signed events (30 % repeated deliveries) from N concurrent
    /// senders; webhooks/s and p99 latency of the answer. Baseline: the same senders
    /// calling `/healthz` (a database round trip). Also times the queue that applies
    /// them.
    Webhooks {
        #[arg(long, default_value_t = 20_000)]
        deliveries: usize,
        #[arg(long, default_value_t = 100)]
        senders: usize,
        #[arg(long, default_value_t = 2_000)]
        contracts: usize,
    },
    /// Smart-meter ingest: N hourly readings from M meters (time-ordered, ~1 % re-sent)
    /// through `metering::record` (validation, dedupe, daily and period aggregates) on
    /// SQLite, and on PostgreSQL too when DATABASE_URL is a postgres:// URL. Baseline:
    /// the same rows loaded with no logic (SQLite: one transaction, prepared INSERT;
    /// PostgreSQL: COPY), each on a fresh copy of the same seeded database.
    Ingest {
        #[arg(long, default_value_t = 10_000_000)]
        readings: usize,
        #[arg(long, default_value_t = 400_000)]
        meters: usize,
        /// Readings per `record` call (one transaction each).
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Also print the rate of each tenth of the run and a per-statement time
        /// breakdown (a replay of record's database calls on another fresh copy).
        #[arg(long)]
        verbose: bool,
        /// Uplinks to send through Mosquitto and the MQTT consumer (SQLite), 0 for none.
        /// The broker is `[mqtt]` host:port (default 127.0.0.1:1883).
        #[arg(long, default_value_t = 20_000)]
        mqtt: usize,
        /// Rows of a lecturista route file to load through `metering::route` (SQLite),
        /// 0 for none.
        #[arg(long, default_value_t = 100_000)]
        route_rows: usize,
    },
}

pub async fn run(config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Billing {
            contracts,
            database,
            pdfs,
        } => billing(contracts, database, pdfs).await,
        BenchCommand::Cfdi { invoices } => cfdi_bench(invoices),
        BenchCommand::Webhooks {
            deliveries,
            senders,
            contracts,
        } => webhooks_bench(deliveries, senders, contracts).await,
        BenchCommand::Ingest {
            readings,
            meters,
            batch,
            verbose,
            mqtt,
            route_rows,
        } => {
            let broker = config.mqtt.clone().unwrap_or_default();
            meter_ingest::bench(
                config.database_url.as_deref(),
                readings,
                meters,
                batch,
                verbose,
                meter_ingest::Extras {
                    mqtt,
                    broker: (broker.host, broker.port),
                    route_rows,
                },
            )
            .await
        }
    }
}

const BENCH_PERIOD: (i32, u32) = (2026, 10);

async fn billing(contracts: usize, database: Option<PathBuf>, pdfs: usize) -> anyhow::Result<()> {
    let path = match database {
        Some(p) => p,
        None => {
            let home = std::env::var_os("HOME").context("HOME is not set")?;
            PathBuf::from(home).join(format!(".cache/supra/bench/billing-{contracts}.db"))
        }
    };
    let db = Db::open_sqlite_file(&path).await?;
    db.migrate().await?;
    let tenant = match db::repo::list_tenants(&db).await?.first() {
        Some(t) => {
            println!("reusing {} ({})", path.display(), t.slug);
            TenantId(t.id)
        }
        None => {
            let started = Instant::now();
            println!("seeding {contracts} contracts into {} …", path.display());
            let u = seed::generate(&seed::SeedParams::new(contracts, 42));
            let hash =
                auth::password::hash("bench-password-2026").map_err(|e| anyhow::anyhow!("{e}"))?;
            let loaded = db::seed_load::load(&db, &u, &hash).await?;
            for (name, toml) in crate::demo::DEMO_TARIFFS {
                invoicing::save_tariff(&db, loaded.tenant, toml, invoicing::Actor::System)
                    .await
                    .with_context(|| format!("tariff {name}"))?;
            }
            println!(
                "seeded {} contracts, {} readings in {:.1} s",
                loaded.contracts,
                loaded.readings,
                started.elapsed().as_secs_f64()
            );
            loaded.tenant
        }
    };
    reset(&db, tenant, false).await?;
    let period = billing::Period::month(BENCH_PERIOD.0, BENCH_PERIOD.1).context("period")?;

    // --- the billing run
    let opts = invoicing::RunOptions {
        issued_on: Some(period.end),
        actor: invoicing::Actor::System,
        settings: invoicing::Settings {
            issue_cfdi: false,
            ..invoicing::Settings::default()
        },
    };
    let run_id = invoicing::start_run(&db, tenant, &period, opts.actor).await?;
    let mut issued = Vec::new();
    let started = Instant::now();
    let summary = invoicing::run_period(&db, tenant, period, run_id, &opts, |p| {
        issued.extend_from_slice(p.issued);
    })
    .await?;
    let billing_s = started.elapsed().as_secs_f64();
    let n = summary.counters.invoices_issued;
    let lines: usize = issued.iter().map(|i| i.lines.len()).sum();
    println!(
        "billing run: {n} invoices ({lines} lines, {} estimated, {} flagged, {} skipped) in {billing_s:.1} s",
        summary.counters.estimated, summary.counters.flagged, summary.counters.skipped
    );

    // --- PDFs of some of the invoices just issued
    let (median_ms, avg_kb) = time_pdfs(&db, tenant, pdfs).await?;

    // --- baseline: insert the same rows without any billing logic
    reset(&db, tenant, true).await?;
    let now = chrono::Utc::now();
    let started = Instant::now();
    for chunk in issued.chunks(opts.settings.chunk as usize) {
        let mut tx = db.write(tenant).await?;
        db::billing::issue_invoices(&mut tx, chunk, now).await?;
        tx.commit().await?;
    }
    let baseline_s = started.elapsed().as_secs_f64();
    println!(
        "baseline: the same {n} invoices and {lines} lines bulk-inserted in {baseline_s:.1} s"
    );
    println!(
        "billing: {n} invoices in {billing_s:.1} s ({:.0}/s); {:.1}x raw insert; bill PDF median {median_ms:.2} ms, {avg_kb:.1} KB",
        n as f64 / billing_s.max(1e-9),
        billing_s / baseline_s.max(1e-9)
    );
    Ok(())
}

async fn reset(db: &Db, tenant: TenantId, keep_runs: bool) -> anyhow::Result<()> {
    let mut tx = db.write(tenant).await?;
    db::billing::bench_reset(&mut tx, keep_runs).await?;
    tx.commit().await?;
    Ok(())
}

async fn time_pdfs(db: &Db, tenant: TenantId, count: usize) -> anyhow::Result<(f64, f64)> {
    let ids: Vec<i64> = {
        let mut tx = db.read(tenant).await?;
        let mut ids = Vec::new();
        let (lo, hi, _) = db::billing::contract_id_bounds(&mut tx).await?;
        let step = ((hi - lo + 1) / count.max(1) as i64).max(1);
        let mut c = lo;
        while c <= hi && ids.len() < count {
            if let Some(i) = db::billing::invoices_of_contract(&mut tx, c, 1)
                .await?
                .first()
            {
                ids.push(i.id);
            }
            c += step;
        }
        ids
    };
    let utility = invoicing::utility_info(db, tenant).await?;
    let mut times = Vec::with_capacity(ids.len());
    let mut bytes = 0usize;
    for id in &ids {
        let view = invoicing::invoice_view(db, tenant, *id, None).await?;
        let started = Instant::now();
        let pdf = invoicing::render_pdf(&view, &utility)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        bytes += pdf.len();
    }
    anyhow::ensure!(!times.is_empty(), "no invoices to render");
    times.sort_by(f64::total_cmp);
    Ok((
        times[times.len() / 2],
        bytes as f64 / ids.len() as f64 / 1024.0,
    ))
}

/// A synthetic water bill: water by m³ plus sewer and treatment, tax mix by use type.
fn bench_comprobante(i: usize, emisor: &cfdi::Emisor) -> anyhow::Result<cfdi::Comprobante> {
    use cfdi::{ConceptoInput, Receptor, Tax};
    use rust_decimal::Decimal;
    let fecha = chrono::DateTime::parse_from_rfc3339("2026-11-01T08:00:00-06:00")?
        + chrono::Duration::seconds(i as i64);
    let commercial = i.is_multiple_of(4);
    let tax = if commercial { Tax::Iva16 } else { Tax::Exento };
    let m3 = Decimal::from(5 + (i * 7919) % 60);
    let concept = |clave: &str, unidad: &str, desc: &str, cantidad, valor| ConceptoInput {
        clave_prod_serv: clave.into(),
        no_identificacion: Some(format!("{:09}", 100_000_000 + i)),
        cantidad,
        clave_unidad: unidad.into(),
        unidad: None,
        descripcion: desc.into(),
        valor_unitario: valor,
        descuento: None,
        tax,
    };
    let receptor = Receptor {
        rfc: "CACX7605101P8"
            .parse()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        nombre: "XOCHILT CASAS CHAVEZ".into(),
        domicilio_fiscal: "76146".into(),
        regimen_fiscal: "612".into(),
        uso_cfdi: "G03".into(),
    };
    Ok(
        cfdi::ComprobanteBuilder::ingreso(emisor.clone(), receptor, "76000", fecha)
            .serie_folio("A", format!("{}", i + 1))
            .concepto(concept(
                "10171500",
                "MTQ",
                "Agua potable",
                m3,
                Decimal::new(1835, 2),
            ))
            .concepto(concept(
                "72151802",
                "E48",
                "Alcantarillado",
                Decimal::ONE,
                Decimal::new(8441, 2),
            ))
            .concepto(concept(
                "72151801",
                "E48",
                "Saneamiento",
                Decimal::ONE,
                Decimal::new(6331, 2),
            ))
            .build()?,
    )
}

fn cfdi_bench(n: usize) -> anyhow::Result<()> {
    use rayon::prelude::*;
    anyhow::ensure!(n > 0, "--invoices must be at least 1");
    let rfc = "CEA800101QR2";
    let now = chrono::Utc::now();
    let (cer, key) = cfdi::csd::generate_self_signed(
        rfc,
        "COMISION ESTATAL DE AGUAS",
        "00001000000900000001",
        now - chrono::Duration::days(30),
        now + chrono::Duration::days(4 * 365),
        "bench",
    )?;
    let csd = cfdi::csd::Csd::from_der(&cer, &key, "bench")?;
    let emisor = cfdi::Emisor {
        rfc: rfc.parse().map_err(|e| anyhow::anyhow!("{e}"))?,
        nombre: "COMISION ESTATAL DE AGUAS".into(),
        regimen_fiscal: "603".into(),
    };
    let threads = rayon::current_num_threads();

    // --- sealing: everything from the bill's concepts to a verified, signed XML
    let started = Instant::now();
    let sealed: Vec<cfdi::Sealed> = (0..n)
        .into_par_iter()
        .map(|i| Ok(cfdi::seal(bench_comprobante(i, &emisor)?, &csd)?))
        .collect::<anyhow::Result<_>>()?;
    let seal_s = started.elapsed().as_secs_f64();
    let bytes: usize = sealed.iter().map(|s| s.xml.len()).sum();

    // --- baseline: bare signatures over the same cadenas, same key, same cores
    let started = Instant::now();
    let sigs: Vec<String> = sealed
        .par_iter()
        .map(|s| Ok(csd.sign(s.cadena.as_bytes())?))
        .collect::<anyhow::Result<_>>()?;
    let sign_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        sigs.iter()
            .zip(&sealed)
            .all(|(a, b)| *a == b.comprobante.sello),
        "baseline signatures differ from the sellos"
    );
    let seal_rate = n as f64 / seal_s.max(1e-9);
    let sign_rate = n as f64 / sign_s.max(1e-9);
    println!(
        "sealed {n} CFDIs ({:.1} KB XML each) in {seal_s:.1} s; bare RSA-2048 signatures of the same cadenas in {sign_s:.1} s; {threads} threads",
        bytes as f64 / n as f64 / 1024.0
    );
    println!(
        "cfdi: {n} sealed in {seal_s:.1} s ({seal_rate:.0}/s); {:.0}% of bare signing ({sign_rate:.0}/s)",
        100.0 * seal_rate / sign_rate
    );
    Ok(())
}

/// One HTTP delivery: path, body, and Conekta's digest header when signed.
#[derive(Clone)]
struct Delivery {
    path: &'static str,
    body: String,
    digest: Option<String>,
}

/// Send every delivery (or `GET path` when `body` is empty) from `senders` tasks;
/// returns (elapsed seconds, sorted latencies, non-2xx answers).
async fn hammer(
    http: &reqwest::Client,
    addr: &str,
    work: Vec<Delivery>,
    senders: usize,
) -> anyhow::Result<(f64, Vec<std::time::Duration>, usize)> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(work));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..senders.max(1) {
        let (queue, http, addr) = (queue.clone(), http.clone(), addr.to_string());
        set.spawn(async move {
            let mut lat = Vec::new();
            let mut bad = 0usize;
            loop {
                let next = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pop();
                let Some(d) = next else {
                    return Ok::<_, reqwest::Error>((lat, bad));
                };
                let t = Instant::now();
                let req = if d.body.is_empty() {
                    http.get(format!("{addr}{}", d.path))
                } else {
                    let mut r = http
                        .post(format!("{addr}{}", d.path))
                        .header("content-type", "application/json")
                        .body(d.body);
                    if let Some(dg) = d.digest {
                        r = r.header("digest", dg);
                    }
                    r
                };
                let resp = req.send().await?;
                let ok = resp.status().is_success();
                let _ = resp.bytes().await?;
                lat.push(t.elapsed());
                bad += usize::from(!ok);
            }
        });
    }
    let mut lat = Vec::new();
    let mut bad = 0;
    while let Some(r) = set.join_next().await {
        let (l, b) = r??;
        lat.extend(l);
        bad += b;
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort();
    Ok((elapsed, lat, bad))
}

fn p99(lat: &[std::time::Duration]) -> f64 {
    if lat.is_empty() {
        return 0.0;
    }
    let i = ((lat.len() as f64) * 0.99).ceil() as usize;
    lat[i.clamp(1, lat.len()) - 1].as_secs_f64() * 1000.0
}

async fn webhooks_bench(deliveries: usize, senders: usize, contracts: usize) -> anyhow::Result<()> {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    anyhow::ensure!(deliveries >= 10, "--deliveries must be at least 10");
    let dir = tempfile_dir()?;
    let config = Config {
        mode: crate::Mode::Development,
        database_url: Some(format!("sqlite:{}", dir.join("bench.db").display())),
        listen: Some("127.0.0.1:0".into()),
        demo_contracts: contracts,
        cfdi: crate::config::CfdiConfig {
            csd_dir: dir.join("csd").display().to_string(),
        },
        ..Config::default()
    };
    println!(
        "seeding a {contracts}-contract demo utility in {} …",
        dir.display()
    );
    let (srv, _) = crate::prepare(config).await?;
    let db = srv.state.db.clone();
    let tenant = srv.state.default_tenant;
    let providers = srv.state.payments.clone();
    let sim = srv
        .dev_sims
        .as_ref()
        .map(|d| d.conekta_url.clone())
        .context("the development Conekta simulator did not start")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(crate::serve(srv, listener, async move {
        let _ = stop_rx.await;
    }));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(senders)
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    // Wait until it serves (start-up points the simulator's webhooks at it).
    for _ in 0..200 {
        if http.get(format!("{addr}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let ids: Vec<i64> = {
        let mut tx = db.read(tenant).await?;
        db::payments::contract_ids(&mut tx, contracts as i64).await?
    };
    anyhow::ensure!(!ids.is_empty(), "no contracts seeded");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    // 70 % unique events; of those, STP abonos and Conekta events (2 per OXXO payment).
    let unique_n = deliveries * 7 / 10;
    let orders = unique_n * 3 / 10 / 2;
    let abonos = unique_n - 2 * orders;
    let mut unique = Vec::with_capacity(unique_n);
    let now = chrono::Utc::now();
    for i in 0..abonos {
        let c = *ids.choose(&mut rng).context("contract")?;
        let centavos: i64 = rng.gen_range(100..50_000);
        let clabe = payments::clabe::for_contract(crate::DEMO_STP_PREFIX, c)?;
        unique.push(Delivery {
            path: "/webhooks/stp/abono",
            body: format!(
                r#"{{"id":{},"fechaOperacion":20261124,"institucionOrdenante":40012,"institucionBeneficiaria":90646,"claveRastreo":"BENCH{i}","monto":{}.{:02},"nombreOrdenante":"JUAN PEREZ","tipoCuentaOrdenante":40,"cuentaOrdenante":"012180015555555557","rfcCurpOrdenante":"ND","tipoCuentaBeneficiario":40,"cuentaBeneficiario":"{}","conceptoPago":"AGUA","referenciaNumerica":1,"empresa":"CEAQRO","tipoPago":1,"tsLiquidacion":1795543200000}}"#,
                70_000_000 + i,
                centavos / 100,
                centavos % 100,
                clabe.as_str()
            ),
            digest: None,
        });
    }
    println!("preparing {orders} OXXO references paid at the simulated till …");
    for i in 0..orders {
        let c = *ids.choose(&mut rng).context("contract")?;
        let order = invoicing::orders::create(
            &db,
            tenant,
            &providers,
            &invoicing::orders::NewOrderRequest {
                contract_id: c,
                citizen_id: None,
                invoice_id: None,
                amount_centavos: rng.gen_range(100..900_000),
                method: invoicing::orders::Method::Oxxo,
                idempotency_key: format!("bench-{i}"),
            },
            now,
        )
        .await?;
        let held: serde_json::Value = http
            .post(format!("{sim}/sim/pay"))
            .json(&serde_json::json!({"order_id": order.provider_order_id, "hold": true}))
            .send()
            .await?
            .json()
            .await?;
        for e in held["held"].as_array().context("held events")? {
            unique.push(Delivery {
                path: "/webhooks/conekta",
                body: e["body"].as_str().context("body")?.to_string(),
                digest: e["digest"].as_str().map(str::to_string),
            });
        }
    }
    let mut work = unique.clone();
    while work.len() < deliveries {
        work.push(unique.choose(&mut rng).context("some")?.clone());
    }
    work.shuffle(&mut rng);

    // --- baseline: the same senders, the same number of requests, to /healthz
    let probes = vec![
        Delivery {
            path: "/healthz",
            body: String::new(),
            digest: None,
        };
        deliveries
    ];
    let (base_s, base_lat, base_bad) = hammer(&http, &addr, probes, senders).await?;
    anyhow::ensure!(base_bad == 0, "{base_bad} health checks failed");
    let base_rate = deliveries as f64 / base_s.max(1e-9);
    println!(
        "baseline: {deliveries} GET /healthz in {base_s:.2} s ({base_rate:.0}/s), p99 {:.1} ms, {senders} senders",
        p99(&base_lat)
    );

    // --- webhooks: verified, stored once, answered
    let queued_at = Instant::now();
    let (hook_s, hook_lat, hook_bad) = hammer(&http, &addr, work, senders).await?;
    anyhow::ensure!(hook_bad == 0, "{hook_bad} deliveries were not answered 2xx");
    let hook_rate = deliveries as f64 / hook_s.max(1e-9);
    println!(
        "webhooks: {deliveries} deliveries ({} unique: {abonos} STP abonos, {} Conekta events) in {hook_s:.2} s ({hook_rate:.0}/s), p99 {:.1} ms",
        unique.len(),
        2 * orders,
        p99(&hook_lat)
    );

    // --- the queue applies them
    loop {
        let pending = {
            let mut tx = db.read(tenant).await?;
            db::payments::webhook_events_pending(&mut tx).await?
        };
        if pending == 0 {
            break;
        }
        anyhow::ensure!(
            queued_at.elapsed().as_secs() < 1_800,
            "{pending} webhooks still pending after 30 minutes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let applied_s = queued_at.elapsed().as_secs_f64();
    let received = {
        let mut tx = db.read(tenant).await?;
        db::payments::count_received(&mut tx).await?
    };
    anyhow::ensure!(
        received as usize == abonos + orders,
        "{received} payments recorded, expected {}",
        abonos + orders
    );
    println!(
        "queue: {} events applied ({received} payments) {applied_s:.1} s after the first delivery",
        unique.len()
    );
    let _ = stop_tx.send(());
    served.await??;
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "webhooks: {deliveries} in {hook_s:.1} s ({hook_rate:.0}/s), p99 {:.0} ms at {senders} senders; {:.2}x bare HTTP (/healthz {base_rate:.0}/s); applied in {applied_s:.1} s",
        p99(&hook_lat),
        hook_rate / base_rate.max(1e-9)
    );
    Ok(())
}

/// A fresh directory under the system temp dir.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("supra-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `supra bench ingest`: smart-meter traffic through `metering::record` against a raw
/// load of the same rows, on SQLite and (when configured) PostgreSQL.
mod meter_ingest {
    use std::collections::{BTreeMap, HashMap, HashSet};
    use std::io::Write as _;
    use std::path::PathBuf;
    use std::time::Instant;

    use anyhow::Context;
    use chrono::{DateTime, Utc};
    use db::metering::{self as store, DailyDelta, NewReading, PeriodDelta};
    use db::{Db, TenantId};
    use metering::{Incoming, Outcome, Source};
    use rand::{Rng, SeedableRng};
    use sqlx::Connection;

    /// First hour of traffic: 2026-11-01 00:00 in Mexico City (UTC−6 all year), so the
    /// traffic's local hour is its hour index mod 24.
    const T0: i64 = 1_793_512_800;
    /// Share of a day's use in each local hour (sums to 450).
    const PROFILE: [u64; 24] = [
        5, 3, 2, 2, 3, 10, 30, 40, 35, 25, 20, 20, 25, 25, 20, 15, 15, 20, 30, 35, 30, 20, 12, 8,
    ];
    /// Rows per statement of the SQLite raw insert (one prepared statement, reused).
    const RAW_ROWS: usize = 100;
    const COLS: &str =
        "tenant_id, meter_id, period, read_at, value_litres, source, quality, alarms, created_at";

    fn ts(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("timestamp in range")
    }

    /// One uplink: meter index, second, register (litres).
    #[derive(Clone, Copy)]
    struct Msg {
        meter: u32,
        at: i64,
        litres: u64,
    }

    /// What the meters send, in the order they send it (re-deliveries included).
    struct Traffic {
        msgs: Vec<Msg>,
        unique: usize,
        resent: usize,
        hours: i64,
        /// Litres the aggregates must add up to.
        litres: i64,
    }

    /// Hourly readings from every meter (fixed phase within the hour, so each hour is
    /// a shuffled sweep of the meters), registers rising by a daily profile (2 % of
    /// meters leak all night), then ~1 % re-delivered up to 20,000 messages later.
    fn traffic(u: &seed::Utility, readings: usize) -> Traffic {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
        let n = u.meters.len();
        let resent = readings / 100;
        let unique = readings - resent;
        let mut last: Vec<Option<&seed::Reading>> = vec![None; n];
        for r in &u.readings {
            last[r.meter] = Some(r);
        }
        struct State {
            value: u64,
            capacity: u64,
            daily: u64,
            leak: u64,
            offset: i64,
            prev_at: Option<i64>,
            counted: bool,
        }
        let mut st: Vec<State> = u
            .meters
            .iter()
            .zip(&last)
            .map(|(m, l)| {
                let heavy = rng.gen_ratio(1, 20);
                State {
                    value: l.map_or(0, |r| r.value_litres.max(0) as u64),
                    capacity: 10u64.pow(u32::from(m.digits)) * 1000,
                    daily: if heavy {
                        rng.gen_range(2_000..10_000)
                    } else {
                        rng.gen_range(100..1_200)
                    },
                    leak: if rng.gen_ratio(1, 50) {
                        rng.gen_range(3..40)
                    } else {
                        0
                    },
                    offset: rng.gen_range(0..3600),
                    prev_at: l.map(|r| r.read_at.timestamp()),
                    // Only a measured previous reading gives the first one consumption.
                    counted: l.is_some_and(|r| r.quality == "valida"),
                }
            })
            .collect();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|&i| (st[i as usize].offset, i));
        let mut msgs = Vec::with_capacity(readings);
        let mut litres = 0i64;
        let mut hour = 0i64;
        'hours: loop {
            let local_hour = (hour % 24) as usize;
            for &i in &order {
                if msgs.len() == unique {
                    break 'hours;
                }
                let s = &mut st[i as usize];
                let at = T0 + hour * 3600 + s.offset;
                let used = match s.prev_at {
                    Some(p) if hour == 0 => s.daily * (at - p).max(0) as u64 / 86_400,
                    _ => {
                        let mean = s.daily * PROFILE[local_hour] / 450;
                        rng.gen_range(0..=2 * mean) + s.leak
                    }
                };
                if s.counted {
                    litres += used as i64;
                }
                s.counted = true;
                s.prev_at = Some(at);
                s.value = (s.value + used) % s.capacity;
                msgs.push(Msg {
                    meter: i,
                    at,
                    litres: s.value,
                });
            }
            hour += 1;
        }
        // Re-deliveries (ChirpStack at-least-once): (insert after position, source).
        let mut again: Vec<(usize, usize)> = (0..resent)
            .map(|_| {
                let src = rng.gen_range(0..unique);
                ((src + rng.gen_range(1..=20_000)).min(unique), src)
            })
            .collect();
        again.sort_unstable();
        let mut out = Vec::with_capacity(readings);
        let mut k = 0;
        for (i, m) in msgs.iter().enumerate() {
            out.push(*m);
            while k < again.len() && again[k].0 == i + 1 {
                out.push(msgs[again[k].1]);
                k += 1;
            }
        }
        Traffic {
            msgs: out,
            unique,
            resent,
            hours: hour + 1,
            litres,
        }
    }

    /// Where the databases of one backend live: fresh SQLite files in a temp directory,
    /// or fresh databases on the PostgreSQL server of DATABASE_URL.
    enum Target {
        Sqlite(PathBuf),
        Postgres { base: String, prefix: String },
    }

    impl Target {
        fn label(&self) -> &'static str {
            match self {
                Target::Sqlite(_) => "SQLite",
                Target::Postgres { .. } => "PostgreSQL",
            }
        }

        fn url(&self, which: &str) -> String {
            match self {
                Target::Sqlite(dir) => {
                    format!("sqlite:{}", dir.join(format!("{which}.db")).display())
                }
                Target::Postgres { base, prefix } => {
                    pg_url_with_db(base, &format!("{prefix}_{which}"))
                }
            }
        }

        async fn create(&self, which: &str, template: Option<&str>) -> anyhow::Result<()> {
            match self {
                Target::Sqlite(dir) => {
                    if let Some(t) = template {
                        for ext in ["", "-wal"] {
                            let from = dir.join(format!("{t}.db{ext}"));
                            if from.exists() {
                                std::fs::copy(&from, dir.join(format!("{which}.db{ext}")))?;
                            }
                        }
                    }
                }
                Target::Postgres { base, prefix } => {
                    let mut admin = sqlx::PgConnection::connect(base).await?;
                    let sql = match template {
                        Some(t) => {
                            format!("CREATE DATABASE {prefix}_{which} TEMPLATE {prefix}_{t}")
                        }
                        None => format!("CREATE DATABASE {prefix}_{which}"),
                    };
                    // A template must have no session: a closed pool's server processes
                    // exit a moment after the client hangs up, and autovacuum visits a
                    // freshly loaded database. So the template takes no new connections
                    // and whatever is still there is ended, then the copy is retried.
                    if let Some(t) = template {
                        sqlx::query(&format!(
                            "ALTER DATABASE {prefix}_{t} WITH ALLOW_CONNECTIONS false"
                        ))
                        .execute(&mut admin)
                        .await?;
                    }
                    let mut tries = 0;
                    loop {
                        match sqlx::query(&sql).execute(&mut admin).await {
                            Ok(_) => break,
                            Err(e) if tries < 100 && e.to_string().contains("being accessed") => {
                                tries += 1;
                                if let Some(t) = template {
                                    sqlx::query(
                                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                         WHERE datname = $1 AND pid <> pg_backend_pid()",
                                    )
                                    .bind(format!("{prefix}_{t}"))
                                    .execute(&mut admin)
                                    .await?;
                                }
                                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            }
                            Err(e) => return Err(e).with_context(|| sql.clone()),
                        }
                    }
                    admin.close().await?;
                }
            }
            Ok(())
        }

        async fn cleanup(&self, names: &[&str]) {
            match self {
                Target::Sqlite(dir) => {
                    let _ = std::fs::remove_dir_all(dir);
                }
                Target::Postgres { base, prefix } => {
                    if let Ok(mut admin) = sqlx::PgConnection::connect(base).await {
                        for n in names {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {prefix}_{n} WITH (FORCE)"
                            ))
                            .execute(&mut admin)
                            .await;
                        }
                        let _ = admin.close().await;
                    }
                }
            }
        }
    }

    /// `postgres://u@h:p/base?x` → `postgres://u@h:p/<name>?x`.
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

    /// Figures of one backend.
    struct Figures {
        ingest_s: f64,
        raw_s: f64,
        /// (uplinks, seconds) through Mosquitto and the consumer.
        mqtt: Option<(usize, f64)>,
    }

    /// The SQLite-only extra figures: MQTT end to end, a route file.
    pub struct Extras {
        pub mqtt: usize,
        pub broker: (String, u16),
        pub route_rows: usize,
    }

    pub async fn bench(
        database_url: Option<&str>,
        readings: usize,
        meters: usize,
        batch: usize,
        verbose: bool,
        extras: Extras,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(meters >= 1, "--meters must be at least 1");
        anyhow::ensure!(readings >= 100, "--readings must be at least 100");
        anyhow::ensure!(batch >= 1, "--batch must be at least 1");
        let started = Instant::now();
        let mut u = seed::generate(&seed::SeedParams {
            contracts: meters,
            seed: 42,
            months: 1,
            end_period: (2026, 10),
        });
        // Every meter of the bench is a LoRaWAN meter.
        for m in &mut u.meters {
            m.smart = true;
        }
        let tr = traffic(&u, readings);
        println!(
            "traffic: {} readings ({} unique + {} re-sent) from {meters} meters over {} h, generated in {:.1} s",
            tr.msgs.len(),
            tr.unique,
            tr.resent,
            tr.hours,
            started.elapsed().as_secs_f64()
        );
        let hash =
            auth::password::hash("bench-password-2026").map_err(|e| anyhow::anyhow!("{e}"))?;

        let dir = super::tempfile_dir()?;
        let sqlite = Target::Sqlite(dir);
        let lite = run_backend(&sqlite, &u, &tr, &hash, batch, verbose, Some(&extras)).await;
        sqlite.cleanup(&[]).await;
        let lite = lite?;

        let pg = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let target = Target::Postgres {
                    base: url.to_string(),
                    prefix: format!(
                        "supra_bench_{}",
                        &uuid::Uuid::new_v4().simple().to_string()[..8]
                    ),
                };
                let r = run_backend(&target, &u, &tr, &hash, batch, verbose, None).await;
                target.cleanup(&["seeded", "ingest", "raw", "replay"]).await;
                Some(r?)
            }
            _ => {
                println!("PostgreSQL: skipped (DATABASE_URL is not a postgres:// URL)");
                None
            }
        };

        let n = tr.msgs.len();
        let rate = |s: f64| n as f64 / s.max(1e-9);
        let mut line = format!(
            "ingest: {n} readings in {:.1} s ({:.0}/s); {:.1}x raw insert",
            lite.ingest_s,
            rate(lite.ingest_s),
            lite.ingest_s / lite.raw_s.max(1e-9)
        );
        if let Some((m, s)) = lite.mqtt {
            line.push_str(&format!(
                "; MQTT end to end {m} in {s:.1} s ({:.0}/s)",
                m as f64 / s.max(1e-9)
            ));
        }
        if let Some(p) = pg {
            line.push_str(&format!(
                "; PostgreSQL {:.1} s ({:.0}/s), {:.1}x raw COPY",
                p.ingest_s,
                rate(p.ingest_s),
                p.ingest_s / p.raw_s.max(1e-9)
            ));
        }
        println!("{line}");
        Ok(())
    }

    async fn run_backend(
        target: &Target,
        u: &seed::Utility,
        tr: &Traffic,
        hash: &str,
        batch: usize,
        verbose: bool,
        extras: Option<&Extras>,
    ) -> anyhow::Result<Figures> {
        let label = target.label();
        // --- one seeded database, copied for each measurement
        let started = Instant::now();
        target.create("seeded", None).await?;
        let db = Db::connect(Some(&target.url("seeded"))).await?;
        db.migrate().await?;
        let loaded = db::seed_load::load(&db, u, hash).await?;
        let tenant = loaded.tenant;
        let meter_ids = {
            let mut tx = db.read(tenant).await?;
            let by_serial: HashMap<String, i64> = store::smart_meters(&mut tx)
                .await?
                .into_iter()
                .map(|(id, s)| (s, id))
                .collect();
            u.meters
                .iter()
                .map(|m| {
                    by_serial
                        .get(&m.serial)
                        .copied()
                        .context("seeded meter not found")
                })
                .collect::<anyhow::Result<Vec<i64>>>()?
        };
        if let Db::Sqlite { write, .. } = &db {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(write)
                .await?;
        }
        db.close().await;
        for which in ["ingest", "raw"]
            .into_iter()
            .chain(verbose.then_some("replay"))
            .chain(extras.filter(|e| e.mqtt > 0).map(|_| "mqtt"))
            .chain(extras.filter(|e| e.route_rows > 0).map(|_| "route"))
        {
            target.create(which, Some("seeded")).await?;
        }
        println!(
            "{label}: seeded {} meters with contracts ({} earlier readings), copied, in {:.1} s",
            meter_ids.len(),
            loaded.readings,
            started.elapsed().as_secs_f64()
        );

        // --- the ingest, through metering::record
        let db = Db::connect(Some(&target.url("ingest"))).await?;
        let mut quality: Vec<u8> = vec![0; tr.msgs.len()];
        let mut codes: Vec<&'static str> = vec!["-"];
        let (mut accepted, mut duplicates, mut rejected) = (0usize, 0usize, 0usize);
        let mut first_rejection = None;
        let tenth = tr.msgs.len().div_ceil(10).max(1);
        let mut mark = (Instant::now(), 0usize);
        let mut items: Vec<Incoming> = Vec::with_capacity(batch);
        let started = Instant::now();
        for (b, chunk) in tr.msgs.chunks(batch).enumerate() {
            items.clear();
            items.extend(chunk.iter().map(|m| Incoming {
                meter_id: meter_ids[m.meter as usize],
                at: ts(m.at),
                litres: Some(m.litres),
                alarms: 0,
                observation: None,
            }));
            let now = ts(chunk.iter().map(|m| m.at).max().unwrap_or(T0) + 30);
            let mut tx = db.write(tenant).await?;
            let out = metering::record(&mut tx, Source::Telemetria, &items, now).await?;
            tx.commit().await?;
            for (j, o) in out.into_iter().enumerate() {
                match o {
                    Outcome::Accepted { quality: q } => {
                        accepted += 1;
                        let code = match codes.iter().position(|c| *c == q) {
                            Some(c) => c,
                            None => {
                                codes.push(q);
                                codes.len() - 1
                            }
                        };
                        quality[b * batch + j] = code as u8;
                    }
                    Outcome::Duplicate => duplicates += 1,
                    Outcome::Rejected { field, message } => {
                        rejected += 1;
                        first_rejection.get_or_insert(format!("{field}: {message}"));
                    }
                }
            }
            let done = (b + 1) * batch;
            if verbose && done / tenth > mark.1 / tenth {
                let n = done.min(tr.msgs.len()) - mark.1;
                println!(
                    "  {:>3} %: {:.0} readings/s",
                    100 * done.min(tr.msgs.len()) / tr.msgs.len(),
                    n as f64 / mark.0.elapsed().as_secs_f64().max(1e-9)
                );
                mark = (Instant::now(), done.min(tr.msgs.len()));
            }
        }
        let ingest_s = started.elapsed().as_secs_f64();
        let sent = tr.msgs.len();
        // A bench that silently loses data is worse than a slow one.
        assert_eq!(
            accepted + duplicates + rejected,
            sent,
            "{label}: outcomes do not add up to the readings sent"
        );
        assert_eq!(
            rejected, 0,
            "{label}: {rejected} readings rejected (first: {first_rejection:?})"
        );
        assert_eq!(
            accepted + duplicates,
            sent,
            "{label}: accepted + duplicates != sent"
        );
        assert_eq!(
            duplicates, tr.resent,
            "{label}: {duplicates} duplicates reported, {} re-sent",
            tr.resent
        );
        let mut by_quality: Vec<(usize, &str)> = (1..codes.len())
            .map(|c| {
                (
                    quality.iter().filter(|q| **q as usize == c).count(),
                    codes[c],
                )
            })
            .collect();
        by_quality.sort_unstable_by(|a, b| b.cmp(a));
        println!(
            "{label}: {sent} readings through metering::record in batches of {batch}: {accepted} accepted ({}), {duplicates} duplicates, in {ingest_s:.1} s ({:.0}/s)",
            by_quality
                .iter()
                .map(|(n, q)| format!("{n} {q}"))
                .collect::<Vec<_>>()
                .join(", "),
            sent as f64 / ingest_s.max(1e-9)
        );
        // The stored rows and aggregates account for every accepted reading.
        let stored = pair(&db, tenant, "SELECT COUNT(*), CAST(0 AS BIGINT) FROM readings WHERE tenant_id = $1 AND period >= 202611").await?;
        let periods = pair(&db, tenant, "SELECT CAST(COALESCE(SUM(readings), 0) AS BIGINT), CAST(COALESCE(SUM(litres), 0) AS BIGINT) FROM reading_periods WHERE tenant_id = $1").await?;
        let daily = pair(&db, tenant, "SELECT CAST(COALESCE(SUM(readings), 0) AS BIGINT), CAST(COALESCE(SUM(litres), 0) AS BIGINT) FROM reading_daily WHERE tenant_id = $1").await?;
        assert_eq!(stored.0 as usize, accepted, "{label}: readings stored");
        assert_eq!(
            periods,
            (accepted as i64, tr.litres),
            "{label}: period aggregates (readings, litres)"
        );
        assert_eq!(
            daily,
            (accepted as i64, tr.litres),
            "{label}: daily aggregates (readings, litres)"
        );
        println!(
            "{label}: checked {} readings stored; period and daily aggregates hold {} readings and {} L, as sent",
            stored.0, periods.0, periods.1
        );
        db.close().await;

        // --- baseline: the very same rows, no logic
        let now = ts(T0 + tr.hours * 3600);
        let rows: Vec<NewReading<'static>> = tr
            .msgs
            .iter()
            .zip(&quality)
            .filter(|(_, q)| **q != 0)
            .map(|(m, q)| NewReading {
                meter_id: meter_ids[m.meter as usize],
                period: metering::record::period_of(ts(m.at)),
                at: ts(m.at),
                litres: m.litres as i64,
                source: Source::Telemetria.as_str(),
                quality: codes[*q as usize],
                alarms: 0,
            })
            .collect();
        let raw_s = match target {
            Target::Sqlite(_) => {
                let db = Db::connect(Some(&target.url("raw"))).await?;
                let s = raw_sqlite(&db, tenant, &rows, now).await?;
                let n = pair(&db, tenant, "SELECT COUNT(*), CAST(0 AS BIGINT) FROM readings WHERE tenant_id = $1 AND period >= 202611").await?;
                assert_eq!(n.0 as usize, accepted, "{label}: raw rows stored");
                db.close().await;
                println!(
                    "{label} baseline: the same {} rows in one transaction, one prepared {RAW_ROWS}-row INSERT reused, in {s:.1} s ({:.0}/s)",
                    rows.len(),
                    rows.len() as f64 / s.max(1e-9)
                );
                s
            }
            Target::Postgres { .. } => {
                let url = target.url("raw");
                let s = raw_pg(&url, tenant, &rows, now).await?;
                let db = Db::connect(Some(&url)).await?;
                let n = pair(&db, tenant, "SELECT COUNT(*), CAST(0 AS BIGINT) FROM readings WHERE tenant_id = $1 AND period >= 202611").await?;
                assert_eq!(n.0 as usize, accepted, "{label}: raw rows stored");
                db.close().await;
                println!(
                    "{label} baseline: the same {} rows with one COPY FROM STDIN (text), as the database owner, in {s:.1} s ({:.0}/s)",
                    rows.len(),
                    rows.len() as f64 / s.max(1e-9)
                );
                s
            }
        };
        println!(
            "{label}: {:.1}x the raw load ({:.0} vs {:.0} rows/s)",
            ingest_s / raw_s.max(1e-9),
            sent as f64 / ingest_s.max(1e-9),
            rows.len() as f64 / raw_s.max(1e-9)
        );

        if verbose {
            let db = Db::connect(Some(&target.url("replay"))).await?;
            let p = replay(&db, tenant, tr, &meter_ids, batch).await?;
            db.close().await;
            p.print(label, ingest_s);
        }
        let mut mqtt = None;
        if let Some(e) = extras {
            if e.route_rows > 0 {
                let db = Db::connect(Some(&target.url("route"))).await?;
                route_figure(&db, tenant, u, &meter_ids, e.route_rows).await?;
                db.close().await;
            }
            if e.mqtt > 0 {
                let db = Db::connect(Some(&target.url("mqtt"))).await?;
                let n = e.mqtt.min(tr.msgs.len());
                mqtt = Some((
                    n,
                    mqtt_figure(&db, tenant, tr, &meter_ids, n, &e.broker).await?,
                ));
                db.close().await;
            }
        }
        Ok(Figures {
            ingest_s,
            raw_s,
            mqtt,
        })
    }

    /// Two BIGINTs from a query with the tenant as `$1`.
    async fn pair(db: &Db, tenant: TenantId, sql: &str) -> anyhow::Result<(i64, i64)> {
        let mut tx = db.read(tenant).await?;
        Ok(match tx.tx_mut() {
            db::Tx::Sqlite(t) => {
                sqlx::query_as(sql)
                    .bind(tenant.0)
                    .fetch_one(&mut **t)
                    .await?
            }
            db::Tx::Postgres(t) => {
                sqlx::query_as(sql)
                    .bind(tenant.0)
                    .fetch_one(&mut **t)
                    .await?
            }
        })
    }

    /// SQLite, no logic: one transaction, one multi-row INSERT prepared once and reused
    /// (sqlx caches it by text), the same bound types as the application's insert.
    async fn raw_sqlite(
        db: &Db,
        tenant: TenantId,
        rows: &[NewReading<'_>],
        now: DateTime<Utc>,
    ) -> anyhow::Result<f64> {
        let sql_for = |n: usize| {
            format!(
                "INSERT INTO readings ({COLS}) VALUES {}",
                vec!["(?,?,?,?,?,?,?,?,?)"; n].join(",")
            )
        };
        let full = sql_for(RAW_ROWS);
        let started = Instant::now();
        let mut tx = db.write(tenant).await?;
        let db::Tx::Sqlite(t) = tx.tx_mut() else {
            anyhow::bail!("not SQLite");
        };
        for chunk in rows.chunks(RAW_ROWS) {
            let tail;
            let sql = if chunk.len() == RAW_ROWS {
                &full
            } else {
                tail = sql_for(chunk.len());
                &tail
            };
            let mut q = sqlx::query(sql);
            for r in chunk {
                q = q
                    .bind(tenant.0)
                    .bind(r.meter_id)
                    .bind(r.period)
                    .bind(r.at)
                    .bind(r.litres)
                    .bind(r.source)
                    .bind(r.quality)
                    .bind(r.alarms)
                    .bind(now);
            }
            q.execute(&mut **t).await?;
        }
        tx.commit().await?;
        Ok(started.elapsed().as_secs_f64())
    }

    /// PostgreSQL, no logic: one `COPY … FROM STDIN` (text format) over a connection of
    /// the URL's own role — COPY FROM refuses tables under row-level security, so it
    /// cannot run as `supra_app`.
    async fn raw_pg(
        url: &str,
        tenant: TenantId,
        rows: &[NewReading<'_>],
        now: DateTime<Utc>,
    ) -> anyhow::Result<f64> {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let created = now.format("%Y-%m-%d %H:%M:%S+00").to_string();
        let started = Instant::now();
        let mut copy = conn
            .copy_in_raw(&format!("COPY readings ({COLS}) FROM STDIN"))
            .await?;
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        for r in rows {
            let _ = writeln!(
                buf,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{created}",
                tenant.0,
                r.meter_id,
                r.period,
                r.at.format("%Y-%m-%d %H:%M:%S+00"),
                r.litres,
                r.source,
                r.quality,
                r.alarms
            );
            if buf.len() >= (1 << 20) - 256 {
                copy.send(std::mem::replace(&mut buf, Vec::with_capacity(1 << 20)))
                    .await?;
            }
        }
        if !buf.is_empty() {
            copy.send(buf).await?;
        }
        let n = copy.finish().await?;
        let s = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            n as usize == rows.len(),
            "COPY stored {n} of {} rows",
            rows.len()
        );
        conn.close().await?;
        Ok(s)
    }

    /// A lecturista route file of `rows` rows (100 meters, one reading each per step
    /// after their last) through `metering::route`, as staff upload it.
    async fn route_figure(
        db: &Db,
        tenant: TenantId,
        u: &seed::Utility,
        meter_ids: &[i64],
        rows: usize,
    ) -> anyhow::Result<()> {
        let meters = meter_ids.len().min(100);
        let steps = rows.div_ceil(meters);
        let mut last: Vec<Option<&seed::Reading>> = vec![None; u.meters.len()];
        for r in &u.readings {
            last[r.meter] = Some(r);
        }
        // After the traffic of the main run (which this copy has not seen) does not
        // matter: readings start an hour after each meter's seeded last one.
        let mut file = String::from("medidor,lectura,fecha,observacion\n");
        let mut n = 0;
        'rows: for k in 0..steps {
            for (m, l) in u.meters.iter().zip(&last).take(meters) {
                if n == rows {
                    break 'rows;
                }
                let (at, litres) = l.map_or((T0 - 86_400 * 30, 0), |r| {
                    (r.read_at.timestamp(), r.value_litres.max(0))
                });
                let at = ts(at + 3600 * (k as i64 + 1));
                let v = litres + 5 * (k as i64 + 1);
                file.push_str(&format!(
                    "{},{}.{:03},{},\n",
                    m.serial,
                    v / 1000,
                    v % 1000,
                    at.to_rfc3339()
                ));
                n += 1;
            }
        }
        let now = ts(T0 + 86_400 * 3650);
        let started = Instant::now();
        let id = metering::route::open(db, tenant, "bench.csv", "bench", now).await?;
        let s = metering::route::process(db, tenant, id, file.as_bytes(), now).await?;
        let secs = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            s.rows as usize == rows && s.rejected == 0,
            "route file: {s:?} of {rows} rows"
        );
        println!(
            "SQLite route file: {rows} rows ({} accepted) in {secs:.1} s ({:.0} rows/s)",
            s.accepted,
            rows as f64 / secs.max(1e-9)
        );
        Ok(())
    }

    /// The first `n` uplinks of the traffic as ChirpStack JSON, published with QoS 1 to
    /// the broker and consumed by the server's MQTT consumer into `db`; seconds from
    /// the first publish until every distinct reading is stored.
    async fn mqtt_figure(
        db: &Db,
        tenant: TenantId,
        tr: &Traffic,
        meter_ids: &[i64],
        n: usize,
        broker: &(String, u16),
    ) -> anyhow::Result<f64> {
        use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
        let msgs = &tr.msgs[..n];
        let mut tx = db.write(tenant).await?;
        let mut used: Vec<u32> = msgs.iter().map(|m| m.meter).collect();
        used.sort_unstable();
        used.dedup();
        for &m in &used {
            let id = meter_ids[m as usize];
            store::upsert_device(&mut tx, &crate::demo_dev_eui(id), id, ts(T0)).await?;
        }
        tx.commit().await?;
        let distinct: HashSet<(u32, i64)> = msgs.iter().map(|m| (m.meter, m.at)).collect();
        let stored = || async {
            pair(db, tenant, "SELECT COUNT(*), CAST(0 AS BIGINT) FROM readings WHERE tenant_id = $1 AND period >= 202611 AND source = 'telemetria'")
                .await
                .map(|p| p.0 as usize)
        };

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let cfg = crate::mqtt::MqttConfig {
            host: broker.0.clone(),
            port: broker.1,
            client_id: format!("supra-bench-{}", uuid::Uuid::new_v4().simple()),
            topic_filter: format!(
                "bench-{}/+/device/+/event/up",
                uuid::Uuid::new_v4().simple()
            ),
            ..Default::default()
        };
        let prefix = cfg
            .topic_filter
            .split('/')
            .next()
            .unwrap_or("bench")
            .to_string();
        let consumer = tokio::spawn(crate::mqtt::run(
            cfg,
            crate::ingest::MqttIngest {
                db: db.clone(),
                tenant,
            },
            stop_rx,
        ));
        let mut opts = MqttOptions::new(
            format!("supra-bench-pub-{}", uuid::Uuid::new_v4().simple()),
            &broker.0,
            broker.1,
        );
        opts.set_keep_alive(std::time::Duration::from_secs(30));
        opts.set_inflight(100);
        let (client, mut events) = AsyncClient::new(opts, 1000);
        let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let poller = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        let _ = acked_tx.send(());
                    }
                    Ok(_) => {}
                    Err(e) => return Err::<(), _>(anyhow::anyhow!("MQTT publisher: {e}")),
                }
            }
        });
        let body = |m: &Msg, i: usize| -> String {
            let eui = crate::demo_dev_eui(meter_ids[m.meter as usize]);
            serde_json::json!({
                "deduplicationId": format!("bench-{i}"),
                "time": ts(m.at).to_rfc3339(),
                "deviceInfo": {"tenantId": "bench", "tenantName": "bench",
                    "applicationId": "bench", "applicationName": "medidores",
                    "deviceProfileName": "W1", "deviceName": eui, "devEui": eui, "tags": {}},
                "devAddr": "01fb8f95", "adr": true, "dr": 3, "fCnt": i % 65_536, "fPort": 1,
                "confirmed": false, "data": "AQ==",
                "object": {"volume_m3": format!("{}.{:03}", m.litres / 1000, m.litres % 1000)},
                "rxInfo": [], "txInfo": {"frequency": 902300000}
            })
            .to_string()
        };
        // The consumer's subscription must exist before the first publish: a probe
        // from an unknown device, republished until it shows in the quarantine.
        let probe = "ffffffffffffffff";
        let probe_body = body(
            &Msg {
                meter: msgs[0].meter,
                at: msgs[0].at,
                litres: 0,
            },
            0,
        )
        .replace(
            &crate::demo_dev_eui(meter_ids[msgs[0].meter as usize]),
            probe,
        )
        .replace("\"bench-0\"", "\"bench-probe\"");
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        loop {
            client
                .publish(
                    format!("{prefix}/bench/device/{probe}/event/up"),
                    QoS::AtLeastOnce,
                    false,
                    probe_body.clone(),
                )
                .await?;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let mut tx = db.read(tenant).await?;
            if store::open_quarantine(&mut tx, 5)
                .await?
                .iter()
                .any(|q| q.device == probe)
            {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the MQTT consumer did not subscribe within 30 s (is the broker at {}:{} running?)",
                broker.0,
                broker.1
            );
        }
        let before = stored().await?;
        let started = Instant::now();
        // Mosquitto queues at most `max_queued_messages` (default 1000) for a subscriber
        // and drops the rest; a network's gateways publish at the meters' pace, so keep
        // at most WINDOW published ahead of what is stored (a sustained-rate figure).
        const WINDOW: usize = 500;
        let mut done = 0usize;
        for (i, m) in msgs.iter().enumerate() {
            while i >= done + WINDOW {
                done = stored().await? - before;
                if i >= done + WINDOW {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
            let topic = format!(
                "{prefix}/bench/device/{}/event/up",
                crate::demo_dev_eui(meter_ids[m.meter as usize])
            );
            client
                .publish(topic, QoS::AtLeastOnce, false, body(m, i))
                .await?;
        }
        let mut acked = 0;
        while acked < n {
            tokio::select! {
                a = acked_rx.recv() => {
                    anyhow::ensure!(a.is_some(), "MQTT publisher stopped");
                    acked += 1;
                }
                _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
                    anyhow::bail!("the broker acknowledged {acked} of {n} publishes");
                }
            }
        }
        let deadline = Instant::now() + std::time::Duration::from_secs(600);
        let target = before + distinct.len();
        loop {
            let now = stored().await?;
            if now >= target {
                anyhow::ensure!(now == target, "MQTT: {now} stored, expected {target}");
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "MQTT: {} of {} stored after 10 min",
                now - before,
                distinct.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let secs = started.elapsed().as_secs_f64();
        let _ = stop_tx.send(true);
        let _ = client.disconnect().await;
        let _ = consumer.await;
        poller.abort();
        println!(
            "SQLite MQTT end to end: {n} uplinks ({} distinct) published with QoS 1 to {}:{}, consumed and stored in {secs:.1} s ({:.0}/s)",
            distinct.len(),
            broker.0,
            broker.1,
            n as f64 / secs.max(1e-9)
        );
        Ok(secs)
    }

    /// Seconds spent in each database call `record` makes, replayed call by call.
    #[derive(Default)]
    struct Phases {
        replay_secs: f64,
        begin: f64,
        registers: f64,
        neighbourhood: f64,
        insert: f64,
        daily: f64,
        periods: f64,
        commit: f64,
        rows: [usize; 5],
    }

    impl Phases {
        fn print(&self, label: &str, ingest_s: f64) {
            let db = self.begin
                + self.registers
                + self.neighbourhood
                + self.insert
                + self.daily
                + self.periods
                + self.commit;
            let pct = |s: f64| 100.0 * s / ingest_s.max(1e-9);
            println!(
                "{label} breakdown (replay of record's database calls on a fresh copy, {:.1} s; record took {ingest_s:.1} s):",
                self.replay_secs
            );
            for (name, s, rows) in [
                ("registers_by_id (rows out)", self.registers, self.rows[0]),
                ("neighbourhood (rows out)", self.neighbourhood, self.rows[1]),
                (
                    "insert_readings … RETURNING (rows)",
                    self.insert,
                    self.rows[2],
                ),
                ("add_daily upsert (rows)", self.daily, self.rows[3]),
                ("add_periods upsert (rows)", self.periods, self.rows[4]),
                ("begin + set tenant", self.begin, 0),
                ("commit", self.commit, 0),
            ] {
                println!("  {name:<38} {s:>7.2} s  {:>5.1} %  {rows}", pct(s));
            }
            println!(
                "  {:<38} {:>7.2} s  {:>5.1} %",
                "all database calls",
                db,
                pct(db)
            );
            println!(
                "  {:<38} {:>7.2} s  {:>5.1} %  (record's time minus its database calls)",
                "in-process work of record",
                ingest_s - db,
                pct(ingest_s - db)
            );
        }
    }

    /// Replays, batch by batch, the database calls `metering::record` makes for the
    /// same traffic (same functions, same row counts), timing each one. The in-process
    /// work in between is a simplified stand-in and is not counted.
    async fn replay(
        db: &Db,
        tenant: TenantId,
        tr: &Traffic,
        meter_ids: &[i64],
        batch: usize,
    ) -> anyhow::Result<Phases> {
        let mut p = Phases::default();
        let total = Instant::now();
        for chunk in tr.msgs.chunks(batch) {
            let now = ts(chunk.iter().map(|m| m.at).max().unwrap_or(T0) + 30);
            let t = Instant::now();
            let mut tx = db.write(tenant).await?;
            p.begin += t.elapsed().as_secs_f64();

            let mut ids: Vec<i64> = chunk.iter().map(|m| meter_ids[m.meter as usize]).collect();
            ids.sort_unstable();
            ids.dedup();
            let t = Instant::now();
            let regs = store::registers_by_id(&mut tx, &ids).await?;
            p.registers += t.elapsed().as_secs_f64();
            p.rows[0] += regs.len();

            let mut by_meter: BTreeMap<i64, Vec<Msg>> = BTreeMap::new();
            for m in chunk {
                by_meter
                    .entry(meter_ids[m.meter as usize])
                    .or_default()
                    .push(*m);
            }
            let spans: Vec<(i64, DateTime<Utc>, DateTime<Utc>)> = by_meter
                .iter_mut()
                .map(|(id, l)| {
                    l.sort_by_key(|m| m.at);
                    (*id, ts(l[0].at), ts(l[l.len() - 1].at))
                })
                .collect();
            let t = Instant::now();
            let stored = store::neighbourhood(&mut tx, &spans).await?;
            p.neighbourhood += t.elapsed().as_secs_f64();
            p.rows[1] += stored.len();

            let known: HashSet<(i64, i64)> = stored
                .iter()
                .map(|s| (s.meter_id, s.at.timestamp()))
                .collect();
            let mut prev: HashMap<i64, (i64, i64)> = HashMap::new();
            for s in &stored {
                let e = prev
                    .entry(s.meter_id)
                    .or_insert((s.at.timestamp(), s.litres));
                if s.at.timestamp() > e.0 {
                    *e = (s.at.timestamp(), s.litres);
                }
            }
            let mut rows: Vec<NewReading<'static>> = Vec::new();
            let mut used: HashMap<(i64, i64), i64> = HashMap::new();
            for (id, list) in &by_meter {
                let mut last_at = i64::MIN;
                for m in list {
                    if m.at == last_at || known.contains(&(*id, m.at)) {
                        continue;
                    }
                    last_at = m.at;
                    let u = prev
                        .get(id)
                        .map_or(0, |(_, l)| (m.litres as i64 - l).max(0));
                    prev.insert(*id, (m.at, m.litres as i64));
                    used.insert((*id, m.at), u);
                    rows.push(NewReading {
                        meter_id: *id,
                        period: metering::record::period_of(ts(m.at)),
                        at: ts(m.at),
                        litres: m.litres as i64,
                        source: "telemetria",
                        quality: "valida",
                        alarms: 0,
                    });
                }
            }
            let t = Instant::now();
            let inserted = store::insert_readings(&mut tx, &rows, now).await?;
            p.insert += t.elapsed().as_secs_f64();
            p.rows[2] += inserted.len();

            let mut daily: HashMap<(i64, chrono::NaiveDate), DailyDelta> = HashMap::new();
            let mut periods: HashMap<(i64, i32), PeriodDelta> = HashMap::new();
            for r in &rows {
                let l = used
                    .get(&(r.meter_id, r.at.timestamp()))
                    .copied()
                    .unwrap_or(0);
                let day = metering::record::local_day(r.at);
                let d = daily.entry((r.meter_id, day)).or_insert(DailyDelta {
                    meter_id: r.meter_id,
                    day,
                    litres: 0,
                    readings: 0,
                    night_min_lph: None,
                });
                d.litres += l;
                d.readings += 1;
                let q = periods
                    .entry((r.meter_id, r.period))
                    .or_insert(PeriodDelta {
                        meter_id: r.meter_id,
                        period: r.period,
                        litres: 0,
                        readings: 0,
                        last_at: r.at,
                        last_litres: r.litres,
                    });
                q.litres += l;
                q.readings += 1;
                if r.at >= q.last_at {
                    q.last_at = r.at;
                    q.last_litres = r.litres;
                }
            }
            let daily: Vec<DailyDelta> = daily.into_values().collect();
            let periods: Vec<PeriodDelta> = periods.into_values().collect();
            let t = Instant::now();
            store::add_daily(&mut tx, &daily).await?;
            p.daily += t.elapsed().as_secs_f64();
            p.rows[3] += daily.len();
            let t = Instant::now();
            store::add_periods(&mut tx, &periods).await?;
            p.periods += t.elapsed().as_secs_f64();
            p.rows[4] += periods.len();
            let t = Instant::now();
            tx.commit().await?;
            p.commit += t.elapsed().as_secs_f64();
        }
        p.replay_secs = total.elapsed().as_secs_f64();
        Ok(p)
    }
}
