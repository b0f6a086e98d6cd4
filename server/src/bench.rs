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
}

pub async fn run(_config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Billing {
            contracts,
            database,
            pdfs,
        } => billing(contracts, database, pdfs).await,
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
        settings: invoicing::Settings::default(),
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
