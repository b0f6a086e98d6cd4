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
}

pub async fn run(_config: &Config, command: BenchCommand) -> anyhow::Result<()> {
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
