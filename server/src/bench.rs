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
}

pub async fn run(_config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Billing {
            contracts,
            database,
            pdfs,
        } => billing(contracts, database, pdfs).await,
        BenchCommand::Cfdi { invoices } => cfdi_bench(invoices),
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
