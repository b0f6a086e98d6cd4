//! Invoicing: turns contracts, readings and published tariffs into issued invoices.
//!
//! * Batch: [`run_period`] bills a whole cycle in chunks of contiguous contract ids —
//!   a handful of bulk reads, pure pricing with the `billing` engine, one write
//!   transaction per chunk — and reports progress after each chunk (also written to
//!   `billing_runs`, so any process can watch it).
//! * Event-driven: [`bill_contract`] runs the same code for one contract (a validated
//!   reading that closes a period).
//! * Idempotent: one invoice per contract and period (unique key, `ON CONFLICT DO
//!   NOTHING`); re-running a period, even concurrently, issues nothing twice and never
//!   touches an issued invoice.
//!
//! Invariants: no HTTP, no Leptos; all SQL lives in `db::billing`; all pricing lives in
//! `billing`. Money is `domain::Money` / integer centavos.

pub mod caja;
pub mod cancelacion;
pub mod cobro;
pub mod complemento;
pub mod conciliacion;
pub mod domiciliacion;
pub mod fiscal;
pub mod orders;
mod run;
mod view;
pub mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use billing::{Period, ReviewPolicy, Tariff};
use chrono::{DateTime, NaiveDate, Utc};
use db::billing::{RunCounters, RunRow};
use db::repo::{NewEvent, record_event};
use db::{Db, TenantId};
use serde::Serialize;

pub use run::{period_key, reason_code};
pub use view::*;

/// The one error type of the crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] db::Error),
    #[error("tarifa «{name}» guardada no es válida: {error}")]
    StoredTariff {
        name: String,
        error: billing::BillingError,
    },
    #[error("{0}")]
    Billing(#[from] billing::BillingError),
    #[error("campo «{field}»: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no encontrado")]
    NotFound,
    #[error("no se pudo generar el PDF: {0}")]
    Pdf(String),
    #[error("CFDI: {0}")]
    Cfdi(#[from] cfdi::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Tenant billing settings (server configuration, documented in docs/tariffs.md).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Days from the issue date to the due date.
    pub due_days: i64,
    pub review: ReviewPolicy,
    /// Contracts per chunk (one read + one write transaction each).
    pub chunk: i64,
    /// Ask for the period's CFDIs when a run finishes (an outbox row written with the
    /// run's completion; the fiscal worker seals and stamps them).
    pub issue_cfdi: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            due_days: 15,
            review: ReviewPolicy::default(),
            chunk: 2_000,
            issue_cfdi: true,
        }
    }
}

/// Who asked for something (audit trail).
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    Staff(i64),
    System,
}

impl Actor {
    fn kind(&self) -> &'static str {
        match self {
            Actor::Staff(_) => "staff",
            Actor::System => "system",
        }
    }
    fn id(&self) -> Option<i64> {
        match self {
            Actor::Staff(id) => Some(*id),
            Actor::System => None,
        }
    }
}

/// Every tariff version of the tenant, parsed, grouped by (use type, class).
pub async fn load_tariffs(
    db: &Db,
    tenant: TenantId,
) -> Result<HashMap<(String, String), Vec<Tariff>>> {
    let mut tx = db.read(tenant).await?;
    let rows = db::billing::tariffs(&mut tx).await?;
    drop(tx);
    let mut map: HashMap<(String, String), Vec<Tariff>> = HashMap::new();
    for r in rows {
        let t = Tariff::from_toml(&r.source_toml).map_err(|error| Error::StoredTariff {
            name: r.name.clone(),
            error,
        })?;
        map.entry((r.use_type, r.tariff_class)).or_default().push(t);
    }
    Ok(map)
}

/// Validate a tariff file and store it as a version (replacing the same use type,
/// class and `valid_from`). Audited.
pub async fn save_tariff(db: &Db, tenant: TenantId, toml: &str, actor: Actor) -> Result<i64> {
    let t = Tariff::from_toml(toml)?;
    let valid_from = t.valid_from;
    let now = Utc::now();
    let mut tx = db.write(tenant).await?;
    let id = db::billing::save_tariff(
        &mut tx,
        &db::billing::NewTariff {
            use_type: &t.use_type,
            tariff_class: &t.class,
            valid_from,
            name: &t.name,
            source_toml: toml,
            created_by: actor.id(),
            now,
        },
    )
    .await?;
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "tariff.saved",
            subject_kind: Some("tariff"),
            subject_id: Some(id),
            data: serde_json::json!({"name": t.name, "use_type": t.use_type,
                "class": t.class, "valid_from": valid_from.to_string()}),
            ip: None,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Progress of a run, after each chunk.
#[derive(Debug, Clone, Serialize)]
pub struct Progress<'a> {
    pub run_id: i64,
    pub contracts_total: i64,
    pub counters: RunCounters,
    /// The invoices the chunk issued (benchmarks replay them as a baseline).
    #[serde(skip)]
    pub issued: &'a [db::billing::NewInvoice],
}

/// Totals of one use type in a run.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct UseTotals {
    pub invoices: i64,
    pub total_centavos: i64,
    pub billed_litres: i64,
    pub estimated: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub period: i32,
    pub contracts_total: i64,
    pub counters: RunCounters,
    pub by_use: BTreeMap<String, UseTotals>,
    pub skipped_by_reason: BTreeMap<String, i64>,
    pub seconds: f64,
}

/// Options of a batch run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Issue date printed on the invoices (default: today in Mexico City).
    pub issued_on: Option<NaiveDate>,
    pub actor: Actor,
    pub settings: Settings,
}

/// Today's date in the utility's time zone.
pub fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::America::Mexico_City)
        .date_naive()
}

/// Create the `billing_runs` row (status en_curso) and return its id, so a caller
/// can hand the id to a watcher before [`run_period`] starts.
pub async fn start_run(db: &Db, tenant: TenantId, period: &Period, actor: Actor) -> Result<i64> {
    let now = Utc::now();
    let mut tx = db.write(tenant).await?;
    let (_, _, count) = db::billing::contract_id_bounds(&mut tx).await?;
    let key = period_key(period);
    let id = db::billing::create_run(&mut tx, key, count, actor.id(), now).await?;
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "billing.run_started",
            subject_kind: Some("billing_run"),
            subject_id: Some(id),
            data: serde_json::json!({"period": key}),
            ip: None,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Bill every contract of the tenant for `period` under the run `run_id` (from
/// [`start_run`]). `progress` is called after each chunk.
pub async fn run_period(
    db: &Db,
    tenant: TenantId,
    period: Period,
    run_id: i64,
    opts: &RunOptions,
    mut progress: impl FnMut(&Progress<'_>),
) -> Result<RunSummary> {
    let started = Instant::now();
    let result = run_inner(db, tenant, period, run_id, opts, &mut progress, started).await;
    if let Err(e) = &result {
        // Record the failure; invoices of committed chunks stay (re-running resumes).
        if let Ok(mut tx) = db.write(tenant).await {
            let msg = e.to_string();
            let now = Utc::now();
            let counters = match db::billing::run_by_id(&mut tx, run_id).await {
                Ok(Some(r)) => counters_of(&r),
                _ => RunCounters::default(),
            };
            let _ = db::billing::update_run(
                &mut tx,
                run_id,
                &counters,
                &serde_json::json!({}),
                Some(("fallida", now, Some(&msg))),
            )
            .await;
            let _ = tx.commit().await;
        }
    }
    result
}

fn counters_of(r: &RunRow) -> RunCounters {
    RunCounters {
        contracts_done: r.contracts_done,
        invoices_issued: r.invoices_issued,
        estimated: r.estimated,
        flagged: r.flagged,
        skipped: r.skipped,
        total_centavos: r.total_centavos,
    }
}

async fn run_inner(
    db: &Db,
    tenant: TenantId,
    period: Period,
    run_id: i64,
    opts: &RunOptions,
    progress: &mut impl FnMut(&Progress<'_>),
    started: Instant,
) -> Result<RunSummary> {
    let tariffs = load_tariffs(db, tenant).await?;
    let (lo, hi, total) = {
        let mut tx = db.read(tenant).await?;
        db::billing::contract_id_bounds(&mut tx).await?
    };
    let key = period_key(&period);
    let issued_on = opts.issued_on.unwrap_or_else(today);
    let ctx = run::Ctx {
        period,
        period_key: key,
        issued_on,
        due_date: issued_on + chrono::Duration::days(opts.settings.due_days),
        tariffs: &tariffs,
        review: &opts.settings.review,
        run_id: Some(run_id),
    };
    let mut counters = RunCounters::default();
    let mut by_use: BTreeMap<String, UseTotals> = BTreeMap::new();
    let mut skipped: BTreeMap<String, i64> = BTreeMap::new();
    let chunk = opts.settings.chunk.max(1);
    let mut ranges = (0..)
        .map(|i| lo + i * chunk)
        .take_while(|&s| s <= hi)
        .map(|s| (s, (s + chunk - 1).min(hi)));
    // Pipeline: while one range is written, the next is read and computed (SQLite in
    // WAL mode and PostgreSQL both let a reader run beside the writer; the ranges are
    // disjoint, so neither depends on the other).
    let mut pending = match ranges.next() {
        Some((s, e)) => Some(prepare_range(db, tenant, &ctx, s, e).await?),
        None => None,
    };
    while let Some(prepared) = pending.take() {
        let next = ranges.next();
        let (r, after) = tokio::try_join!(write_range(db, tenant, prepared, Utc::now()), async {
            match next {
                Some((s, e)) => prepare_range(db, tenant, &ctx, s, e).await.map(Some),
                None => Ok(None),
            }
        })?;
        pending = after;
        counters.contracts_done += r.contracts;
        counters.invoices_issued += r.issued.len() as i64;
        counters.flagged += r.flagged;
        counters.skipped += r.skipped.values().sum::<i64>();
        for (k, v) in r.skipped {
            *skipped.entry(k.to_string()).or_default() += v;
        }
        for inv in &r.issued {
            let u = by_use.entry(inv.use_type.clone()).or_default();
            u.invoices += 1;
            u.total_centavos += inv.total_centavos;
            u.billed_litres += inv.billed_litres;
            u.estimated += i64::from(inv.estimated);
            counters.total_centavos += inv.total_centavos;
            counters.estimated += i64::from(inv.estimated);
        }
        let summary = serde_json::json!({"by_use": by_use, "skipped": skipped});
        let mut tx = db.write(tenant).await?;
        db::billing::update_run(&mut tx, run_id, &counters, &summary, None).await?;
        tx.commit().await?;
        progress(&Progress {
            run_id,
            contracts_total: total,
            counters: counters.clone(),
            issued: &r.issued,
        });
    }
    let now = Utc::now();
    let summary = serde_json::json!({"by_use": by_use, "skipped": skipped});
    let mut tx = db.write(tenant).await?;
    db::billing::update_run(
        &mut tx,
        run_id,
        &counters,
        &summary,
        Some(("terminada", now, None)),
    )
    .await?;
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: opts.actor.kind(),
            actor_id: opts.actor.id(),
            action: "billing.run_finished",
            subject_kind: Some("billing_run"),
            subject_id: Some(run_id),
            data: serde_json::json!({"period": key, "counters": counters}),
            ip: None,
            now,
        },
    )
    .await?;
    if opts.settings.issue_cfdi {
        db::repo::enqueue(
            &mut tx,
            fiscal::ISSUE_PERIOD,
            &format!("{}:{key}:{run_id}", fiscal::ISSUE_PERIOD),
            &serde_json::json!({ "period": key }),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(RunSummary {
        run_id,
        period: key,
        contracts_total: total,
        counters,
        by_use,
        skipped_by_reason: skipped,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What one range of contracts produced (only what was actually written now).
struct RangeResult {
    contracts: i64,
    issued: Vec<db::billing::NewInvoice>,
    flagged: i64,
    skipped: BTreeMap<&'static str, i64>,
}

/// A range read and computed, not yet written.
struct Prepared {
    contracts: i64,
    invoices: Vec<db::billing::NewInvoice>,
    reviews: Vec<db::billing::NewReview>,
    skipped: BTreeMap<&'static str, i64>,
}

async fn bill_range(
    db: &Db,
    tenant: TenantId,
    ctx: &run::Ctx<'_>,
    lo: i64,
    hi: i64,
    now: DateTime<Utc>,
) -> Result<RangeResult> {
    let prepared = prepare_range(db, tenant, ctx, lo, hi).await?;
    write_range(db, tenant, prepared, now).await
}

/// Read what contracts `[lo, hi]` need and compute their invoices (no writes).
async fn prepare_range(
    db: &Db,
    tenant: TenantId,
    ctx: &run::Ctx<'_>,
    lo: i64,
    hi: i64,
) -> Result<Prepared> {
    let key = ctx.period_key;
    // Estimates average the last `history_periods` valid periods; look back twice that
    // many months (a year for the default 6) so gaps are tolerated without reading a
    // contract's whole history.
    let months = (2 * ctx.review.history_periods).max(2) as u32;
    let history_from = (0..months).fold(key, |k, _| run::prev_key(k));
    let mut tx = db.read(tenant).await?;
    let contracts = db::billing::billable_contracts(&mut tx, lo, hi).await?;
    let readings = db::billing::readings_for_range(&mut tx, lo, hi, history_from, key).await?;
    let priors = db::billing::invoices_for_range(&mut tx, lo, hi, history_from, key).await?;
    let reviewed = db::billing::reviews_for_range(&mut tx, lo, hi, key).await?;
    drop(tx);

    let mut readings_by: HashMap<i64, Vec<db::billing::MeterReading>> = HashMap::new();
    for r in readings {
        readings_by.entry(r.contract_id).or_default().push(r);
    }
    let mut priors_by: HashMap<i64, Vec<db::billing::PriorInvoice>> = HashMap::new();
    for p in priors {
        priors_by.entry(p.contract_id).or_default().push(p);
    }
    let reviewed: std::collections::HashSet<i64> = reviewed.into_iter().collect();

    let mut invoices = Vec::new();
    let mut reviews = Vec::new();
    let mut skipped: BTreeMap<&'static str, i64> = BTreeMap::new();
    let empty_r = Vec::new();
    let empty_p = Vec::new();
    for c in &contracts {
        let priors = priors_by.get(&c.contract_id).unwrap_or(&empty_p);
        if priors.iter().any(|p| p.period == key) {
            *skipped.entry("ya_emitida").or_default() += 1;
            continue;
        }
        if reviewed.contains(&c.contract_id) {
            *skipped.entry("en_revision").or_default() += 1;
            continue;
        }
        let readings = readings_by.get(&c.contract_id).unwrap_or(&empty_r);
        match run::bill_one(ctx, c, readings, priors)? {
            run::Outcome::Issue(inv) => invoices.push(*inv),
            run::Outcome::Review(r) => reviews.push(r),
            run::Outcome::Skip(why) => *skipped.entry(why).or_default() += 1,
        }
    }
    Ok(Prepared {
        contracts: contracts.len() as i64,
        invoices,
        reviews,
        skipped,
    })
}

/// Write a prepared range in one transaction; invoices that another writer issued in the
/// meantime are counted as already issued.
async fn write_range(
    db: &Db,
    tenant: TenantId,
    p: Prepared,
    now: DateTime<Utc>,
) -> Result<RangeResult> {
    let Prepared {
        contracts,
        mut invoices,
        reviews,
        mut skipped,
    } = p;
    let mut tx = db.write(tenant).await?;
    let inserted = db::billing::issue_invoices(&mut tx, &invoices, now).await?;
    db::billing::insert_reviews(&mut tx, &reviews, now).await?;
    tx.commit().await?;
    let ids: std::collections::HashSet<i64> = inserted.iter().map(|&(_, c)| c).collect();
    let raced = invoices.len() - ids.len();
    if raced > 0 {
        *skipped.entry("ya_emitida").or_default() += raced as i64;
    }
    invoices.retain(|i| ids.contains(&i.contract_id));
    Ok(RangeResult {
        contracts,
        issued: invoices,
        flagged: reviews.len() as i64,
        skipped,
    })
}

/// The outcome of billing one contract for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ContractOutcome {
    Issued { invoice_id: i64 },
    AlreadyIssued,
    FlaggedForReview,
    Skipped(String),
}

/// Bill one contract for `period` (event-driven path). Idempotent.
pub async fn bill_contract(
    db: &Db,
    tenant: TenantId,
    contract_id: i64,
    period: Period,
    settings: &Settings,
    issued_on: Option<NaiveDate>,
) -> Result<ContractOutcome> {
    let tariffs = load_tariffs(db, tenant).await?;
    let issued_on = issued_on.unwrap_or_else(today);
    let ctx = run::Ctx {
        period,
        period_key: period_key(&period),
        issued_on,
        due_date: issued_on + chrono::Duration::days(settings.due_days),
        tariffs: &tariffs,
        review: &settings.review,
        run_id: None,
    };
    let r = bill_range(db, tenant, &ctx, contract_id, contract_id, Utc::now()).await?;
    if r.contracts == 0 {
        return Err(Error::NotFound);
    }
    if r.flagged > 0 {
        return Ok(ContractOutcome::FlaggedForReview);
    }
    if let Some((why, _)) = r.skipped.iter().next() {
        return Ok(if *why == "ya_emitida" {
            ContractOutcome::AlreadyIssued
        } else {
            ContractOutcome::Skipped(why.to_string())
        });
    }
    let mut tx = db.read(tenant).await?;
    let inv = db::billing::invoices_of_contract(&mut tx, contract_id, 1).await?;
    match inv.first() {
        Some(i) if i.period == ctx.period_key => Ok(ContractOutcome::Issued { invoice_id: i.id }),
        _ => Err(Error::NotFound),
    }
}

/// A validated meter reading to record.
#[derive(Debug, Clone)]
pub struct NewReading {
    pub contract_id: i64,
    /// The billing period the reading closes.
    pub period: Period,
    pub read_at: DateTime<Utc>,
    pub value_litres: i64,
    /// `lecturista`, `ciudadano`, `telemetria`, … (domain::ReadingSource).
    pub source: String,
}

/// Record a validated reading on the contract's active meter and, in the same
/// transaction, queue the billing of that contract for the period it closes (outbox
/// kind `billing.bill_contract`, deduplicated per contract and period; the dispatcher
/// calls [`bill_contract`]). Returns false when the same reading was already recorded.
pub async fn record_reading(
    db: &Db,
    tenant: TenantId,
    r: &NewReading,
    actor: Actor,
) -> Result<bool> {
    let now = Utc::now();
    let key = period_key(&r.period);
    let mut tx = db.write(tenant).await?;
    let meter = db::repo::meters_of_contract(&mut tx, r.contract_id)
        .await?
        .into_iter()
        .next()
        .ok_or(Error::Invalid {
            field: "medidor",
            message: "el contrato no tiene un medidor activo".into(),
        })?;
    let Some(id) = db::billing::insert_reading(
        &mut tx,
        meter.id,
        key,
        r.read_at,
        r.value_litres,
        &r.source,
        "valida",
        now,
    )
    .await?
    else {
        return Ok(false);
    };
    let period = format!("{}-{:02}", key / 100, key % 100);
    db::repo::enqueue(
        &mut tx,
        "billing.bill_contract",
        &format!("bill:{}:{key}", r.contract_id),
        &serde_json::json!({"contract_id": r.contract_id, "period": period}),
        now,
    )
    .await?;
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "reading.recorded",
            subject_kind: Some("contract"),
            subject_id: Some(r.contract_id),
            data: serde_json::json!({"reading_id": id, "period": key, "value_litres": r.value_litres}),
            ip: None,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Deliver one `billing.bill_contract` outbox item (idempotent: billing twice issues
/// nothing twice).
pub async fn deliver_bill_contract(
    db: &Db,
    tenant: TenantId,
    payload: &serde_json::Value,
    settings: &Settings,
) -> Result<ContractOutcome> {
    let contract_id = payload
        .get("contract_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or(Error::Invalid {
            field: "contract_id",
            message: "falta en el evento".into(),
        })?;
    let period: Period = payload
        .get("period")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .parse()?;
    bill_contract(db, tenant, contract_id, period, settings, None).await
}
