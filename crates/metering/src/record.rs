//! Store a batch of readings: checked against each meter's neighbours, deduplicated on
//! (meter, second), aggregates moved by exactly what the batch changed.
//!
//! A reading that arrives late (between two stored ones) re-splits its interval: the
//! day and period of the later stored reading lose what the new one now accounts for.
//! Stored readings keep their quality; only the consumption attributed to them moves.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use db::Scoped;
use db::metering::{self as store, DailyDelta, NewReading, PeriodDelta, Stored};
use ingest::validate::{self, Reading, Register};

use crate::Result;

/// Local time of the utility's meters (billing periods and days are local).
pub const ZONE: Tz = chrono_tz::America::Mexico_City;

/// Night-flow window for leak detection: intervals between these local hours.
const NIGHT_FROM_HOUR: u32 = 2;
const NIGHT_TO_HOUR: u32 = 5;

pub use domain::ReadingSource as Source;

/// One reading as a source delivers it, already tied to a meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub meter_id: i64,
    pub at: DateTime<Utc>,
    /// The register, litres. `None` for a visit that could not read the meter; then
    /// `observation` says why.
    pub litres: Option<u64>,
    /// `ingest::payload::Alarms` bits.
    pub alarms: u8,
    /// An observation code stored as the quality of a visit without a reading
    /// (`sin_acceso`, `medidor_danado`, …).
    pub observation: Option<&'static str>,
}

/// What happened to one incoming reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored with this quality code.
    Accepted { quality: &'static str },
    /// The meter already has a reading at that second.
    Duplicate,
    /// Refused; the message is Spanish, for the sender.
    Rejected {
        field: &'static str,
        message: String,
    },
}

/// The register's reading chain position of an item.
#[derive(Debug, Clone)]
struct Point {
    at: DateTime<Utc>,
    litres: u64,
    quality: &'static str,
    /// Index in the batch, or `None` for a stored reading.
    new: Option<usize>,
}

/// The "last billable reading" of a period that has none yet.
const NO_READING: DateTime<Utc> = DateTime::UNIX_EPOCH;

fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// The local day and billing period (YYYYMM) of an instant.
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&ZONE).date_naive()
}

pub fn period_of(at: DateTime<Utc>) -> i32 {
    let d = local_day(at);
    d.year() * 100 + d.month() as i32
}

fn static_quality(code: &str) -> &'static str {
    match code {
        "valida" => "valida",
        "vuelta" => "vuelta",
        "reverso" => "reverso",
        "salto" => "salto",
        _ => "otra",
    }
}

/// Litres per hour over an interval that lies inside the night window, if it does.
fn night_rate(from: DateTime<Utc>, to: DateTime<Utc>, used: i64) -> Option<i64> {
    let secs = (to - from).num_seconds();
    if secs <= 0 || secs > 3 * 3600 || used < 0 {
        return None;
    }
    let (a, b) = (from.with_timezone(&ZONE), to.with_timezone(&ZONE));
    let inside = a.date_naive() == b.date_naive()
        && a.hour() >= NIGHT_FROM_HOUR
        && (b.hour() < NIGHT_TO_HOUR || (b.hour() == NIGHT_TO_HOUR && b.minute() == 0));
    inside.then(|| used * 3600 / secs)
}

/// Consumption attributed to each point of a chain (by the point's `at`), for points
/// after the first; plus the night rates seen.
fn contributions(
    register: Register,
    chain: &[Point],
    now: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, i64, Option<i64>)> {
    chain
        .windows(2)
        .map(|w| {
            let (p, e) = (&w[0], &w[1]);
            let used = validate::check(
                register,
                Some(Reading {
                    at: p.at,
                    litres: p.litres,
                }),
                Reading {
                    at: e.at,
                    litres: e.litres,
                },
                now.max(e.at),
            )
            .map(|c| c.consumption_litres)
            .unwrap_or(0);
            let counted = if validate::billable(e.quality) {
                used
            } else {
                0
            };
            (e.at, counted, night_rate(p.at, e.at, counted))
        })
        .collect()
}

/// Measured stored readings as chain points, in the order given.
fn stored_chain(rows: &[Stored]) -> Vec<Point> {
    rows.iter()
        .filter(|s| store::MEASURED.contains(&s.quality.as_str()))
        .map(|s| Point {
            at: s.at,
            litres: s.litres.max(0) as u64,
            quality: static_quality(&s.quality),
            new: None,
        })
        .collect()
}

fn register_of(m: &db::metering::MeterRegister) -> Register {
    Register::for_meter(m.digits.max(1) as u32, m.diameter_mm.max(0) as u32)
}

/// What a batch changes in the daily and per-period aggregates.
#[derive(Default)]
struct Deltas {
    daily: HashMap<(i64, NaiveDate), DailyDelta>,
    periods: HashMap<(i64, i32), PeriodDelta>,
}

impl Deltas {
    fn day(&mut self, meter_id: i64, at: DateTime<Utc>) -> &mut DailyDelta {
        let day = local_day(at);
        self.daily
            .entry((meter_id, day))
            .or_insert_with(|| DailyDelta {
                meter_id,
                day,
                litres: 0,
                readings: 0,
                night_min_lph: None,
            })
    }

    fn period(&mut self, meter_id: i64, at: DateTime<Utc>) -> &mut PeriodDelta {
        let period = period_of(at);
        self.periods
            .entry((meter_id, period))
            .or_insert_with(|| PeriodDelta {
                meter_id,
                period,
                litres: 0,
                readings: 0,
                last_at: NO_READING,
                last_litres: 0,
            })
    }

    /// One more stored reading: counted in its day and period, and the period's last
    /// billable reading if it is the latest.
    fn reading(&mut self, meter_id: i64, at: DateTime<Utc>, litres: i64, quality: &str) {
        self.day(meter_id, at).readings += 1;
        let p = self.period(meter_id, at);
        p.readings += 1;
        if validate::billable(quality) && at >= p.last_at {
            p.last_at = at;
            p.last_litres = litres;
        }
    }

    /// `sign` × the litres a chain point accounts for (and, when added, its night rate).
    fn consumption(
        &mut self,
        meter_id: i64,
        at: DateTime<Utc>,
        litres: i64,
        night: Option<i64>,
        sign: i64,
    ) {
        let d = self.day(meter_id, at);
        d.litres += sign * litres;
        if sign > 0
            && let Some(n) = night
        {
            d.night_min_lph = Some(d.night_min_lph.map_or(n, |m| m.min(n)));
        }
        self.period(meter_id, at).litres += sign * litres;
    }

    /// Into the aggregate store, leaving out what nets to nothing. A period touched only
    /// by a late reading's correction keeps its stored last reading: NO_READING never
    /// wins the "latest" comparison.
    async fn store(self, tx: &mut Scoped) -> Result<()> {
        let daily: Vec<DailyDelta> = self
            .daily
            .into_values()
            .filter(|d| d.litres != 0 || d.readings != 0 || d.night_min_lph.is_some())
            .collect();
        let periods: Vec<PeriodDelta> = self
            .periods
            .into_values()
            .filter(|p| p.litres != 0 || p.readings != 0)
            .collect();
        store::add_daily(tx, &daily).await?;
        store::add_periods(tx, &periods).await?;
        Ok(())
    }
}

/// Store `items` (from `source`) in `tx`. Outcomes are in the order of `items`.
pub async fn record(
    tx: &mut Scoped,
    source: Source,
    items: &[Incoming],
    now: DateTime<Utc>,
) -> Result<Vec<Outcome>> {
    let mut out: Vec<Option<Outcome>> = vec![None; items.len()];
    let mut ids: Vec<i64> = items.iter().map(|i| i.meter_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let registers: HashMap<i64, db::metering::MeterRegister> = store::registers_by_id(tx, &ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();

    // Per meter, its items in time order; same-second repeats in the batch are duplicates.
    let mut by_meter: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        match registers.get(&it.meter_id) {
            None => {
                out[i] = Some(Outcome::Rejected {
                    field: "medidor",
                    message: "el medidor no existe".into(),
                })
            }
            Some(m) if !m.active => {
                out[i] = Some(Outcome::Rejected {
                    field: "medidor",
                    message: format!("el medidor {} está dado de baja", m.serial),
                })
            }
            Some(_) => by_meter.entry(it.meter_id).or_default().push(i),
        }
    }
    let at = |i: usize| truncate(items[i].at);
    for list in by_meter.values_mut() {
        list.sort_by_key(|&i| (at(i), i));
        let mut seen = HashSet::new();
        list.retain(|&i| {
            let fresh = seen.insert(at(i));
            if !fresh {
                out[i] = Some(Outcome::Duplicate);
            }
            fresh
        });
    }
    let spans: Vec<(i64, DateTime<Utc>, DateTime<Utc>)> = by_meter
        .iter()
        .filter_map(|(m, l)| Some((*m, at(*l.first()?), at(*l.last()?))))
        .collect();
    let mut stored: HashMap<i64, Vec<Stored>> = HashMap::new();
    for s in store::neighbourhood(tx, &spans).await? {
        stored.entry(s.meter_id).or_default().push(s);
    }

    // Pass 1: qualities, in chain order (stored measured readings + this batch).
    let mut to_insert: Vec<NewReading<'static>> = Vec::new();
    let mut chains: Vec<(Register, Vec<Point>, Vec<Point>)> = Vec::new();
    for (meter_id, list) in &by_meter {
        let reg = &registers[meter_id];
        let register = register_of(reg);
        let mut old: Vec<Stored> = stored.remove(meter_id).unwrap_or_default();
        old.sort_by_key(|s| s.at);
        let stored_at: HashSet<DateTime<Utc>> = old.iter().map(|s| s.at).collect();
        let old_chain = stored_chain(&old);
        let mut chain: Vec<Point> = old_chain.clone();
        for &i in list {
            let it = &items[i];
            let t = at(i);
            if stored_at.contains(&t) {
                out[i] = Some(Outcome::Duplicate);
                continue;
            }
            let Some(litres) = it.litres else {
                // A visit without a reading: kept with the register's last value, outside
                // the chain (it measured nothing).
                if t > now + validate::CLOCK_SKEW {
                    out[i] = Some(Outcome::Rejected {
                        field: "fecha",
                        message: "la lectura tiene fecha en el futuro".into(),
                    });
                    continue;
                }
                let last = chain
                    .iter()
                    .rev()
                    .find(|p| p.at < t)
                    .map_or(0, |p| p.litres);
                let q = it.observation.unwrap_or("sin_lectura");
                to_insert.push(NewReading {
                    meter_id: *meter_id,
                    period: period_of(t),
                    at: t,
                    litres: last as i64,
                    source: source.as_str(),
                    quality: q,
                    alarms: i32::from(it.alarms),
                });
                out[i] = Some(Outcome::Accepted { quality: q });
                continue;
            };
            let pos = chain.partition_point(|p| p.at < t);
            let previous = pos.checked_sub(1).map(|k| Reading {
                at: chain[k].at,
                litres: chain[k].litres,
            });
            match validate::check(register, previous, Reading { at: t, litres }, now) {
                Err(ingest::Error::Invalid { field, reason }) => {
                    out[i] = Some(Outcome::Rejected {
                        field,
                        message: reason,
                    });
                }
                Ok(c) => {
                    let quality = c.quality.code();
                    chain.insert(
                        pos,
                        Point {
                            at: t,
                            litres,
                            quality,
                            new: Some(i),
                        },
                    );
                    to_insert.push(NewReading {
                        meter_id: *meter_id,
                        period: period_of(t),
                        at: t,
                        litres: litres as i64,
                        source: source.as_str(),
                        quality,
                        alarms: i32::from(it.alarms),
                    });
                    out[i] = Some(Outcome::Accepted { quality });
                }
            }
        }
        chains.push((register, old_chain, chain));
    }

    // Insert; what another writer stored first is a duplicate after all.
    let inserted: HashSet<(i64, i64)> = store::insert_readings(tx, &to_insert, now)
        .await?
        .into_iter()
        .collect();
    let mut deltas = Deltas::default();
    for r in &to_insert {
        if inserted.contains(&(r.meter_id, r.at.timestamp())) {
            deltas.reading(r.meter_id, r.at, r.litres, r.quality);
        }
    }
    let lost: HashSet<(i64, DateTime<Utc>)> = to_insert
        .iter()
        .map(|r| (r.meter_id, r.at))
        .filter(|(m, t)| !inserted.contains(&(*m, t.timestamp())))
        .collect();
    if !lost.is_empty() {
        for (i, it) in items.iter().enumerate() {
            if lost.contains(&(it.meter_id, truncate(it.at)))
                && matches!(out[i], Some(Outcome::Accepted { .. }))
            {
                out[i] = Some(Outcome::Duplicate);
            }
        }
    }

    // Pass 2: aggregates move by (new chain − old chain), over what was inserted.
    for ((register, old_chain, chain), (meter_id, _)) in chains.into_iter().zip(&by_meter) {
        let chain: Vec<Point> = chain
            .into_iter()
            .filter(|p| p.new.is_none() || inserted.contains(&(*meter_id, p.at.timestamp())))
            .collect();
        for (at, litres, night) in contributions(register, &chain, now) {
            deltas.consumption(*meter_id, at, litres, night, 1);
        }
        for (at, litres, night) in contributions(register, &old_chain, now) {
            deltas.consumption(*meter_id, at, litres, night, -1);
        }
    }
    deltas.store(tx).await?;
    store::add_rate(tx, source.as_str(), inserted.len() as i64, now).await?;

    Ok(out
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Duplicate))
        .collect())
}

/// Recompute the daily and per-period aggregates of these meters from their stored
/// readings, replacing what was there: for readings loaded in bulk outside [`record`]
/// (the demo seed, a legacy import). Attribution is the same as [`record`]'s.
pub async fn rebuild_aggregates(
    tx: &mut Scoped,
    meter_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    if meter_ids.is_empty() {
        return Ok(());
    }
    let registers: HashMap<i64, db::metering::MeterRegister> =
        store::registers_by_id(tx, meter_ids)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
    let mut by_meter: BTreeMap<i64, Vec<Stored>> = BTreeMap::new();
    for s in store::readings_of_meters(tx, meter_ids).await? {
        by_meter.entry(s.meter_id).or_default().push(s);
    }
    let mut deltas = Deltas::default();
    for (meter_id, rows) in &by_meter {
        let Some(reg) = registers.get(meter_id) else {
            continue;
        };
        for r in rows {
            deltas.reading(*meter_id, r.at, r.litres, &r.quality);
        }
        for (at, litres, night) in contributions(register_of(reg), &stored_chain(rows), now) {
            deltas.consumption(*meter_id, at, litres, night, 1);
        }
    }
    store::clear_aggregates(tx, meter_ids).await?;
    deltas.store(tx).await?;
    Ok(())
}

/// [`rebuild_aggregates`] for every meter of `tenant`, a page of meters per transaction.
/// Returns the number of meters.
pub async fn rebuild_all(db: &db::Db, tenant: db::TenantId, now: DateTime<Utc>) -> Result<usize> {
    const PAGE: i64 = 2_000;
    let (mut after, mut n) = (0_i64, 0_usize);
    loop {
        let mut tx = db.write(tenant).await?;
        let ids = store::meter_ids(&mut tx, after, PAGE).await?;
        let Some(&last) = ids.last() else {
            break;
        };
        rebuild_aggregates(&mut tx, &ids, now).await?;
        tx.commit().await?;
        n += ids.len();
        after = last;
    }
    Ok(n)
}
