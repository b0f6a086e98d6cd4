//! Consumption anomalies (issue #6): rules over the daily and per-period aggregates and
//! the device alarm flags, for staff to act on and for the customer to see as an alert.
//!
//! - **Night leak** (`fuga_nocturna`): the lowest night flow (02:00–05:00) stayed above
//!   a threshold for N nights in a row — water never stopped.
//! - **High use** (`consumo_alto`): a period used at least X % of the average of the
//!   previous six periods with data (three at least).
//! - **Stuck meter** (`medidor_detenido`): zero litres for M complete periods in a row
//!   on an active contract, with readings in each.
//! - **Device alarms** (`alarma_fuga`, `alarma_ruptura`, `alarma_reverso`,
//!   `alarma_manipulacion`): one per meter, kind and local day.
//!
//! The rules are pure functions ([`night_leak`], [`high_use`], [`stuck`],
//! [`device_alarms`]); [`detect`] feeds them the aggregates in pages of meters and stores
//! what they find once per dedupe key, so running it again adds nothing. [`review`] is
//! the staff's decision; [`for_contract`] the customer's alert. Volumes are integer
//! litres, shown in m³ through `domain::M3` (exact).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use db::anomalies::{self as store, NewAnomaly};
use db::{Db, TenantId};
use domain::M3;
use serde_json::{Value, json};

use crate::record::{ZONE, local_day, period_of};
use crate::{Error, Result};

/// Meters per detection page (each page is a handful of bounded queries).
const PAGE: i64 = 1_000;
/// Nights of daily aggregates detection looks at (at least twice the nights needed).
const NIGHT_LOOKBACK_DAYS: i64 = 31;
/// Local hour after which tonight's 02:00–05:00 window counts as seen.
const NIGHT_SEEN_HOUR: u32 = 6;
/// Previous periods averaged by the high-use rule.
const HIGH_USE_HISTORY: i32 = 6;
/// Fewest previous periods with data the high-use rule needs.
const HIGH_USE_MIN_PERIODS: usize = 3;
/// How far back detection looks for readings with alarm flags.
const ALARM_DAYS: i64 = 2;
/// How long the customer's alert shows an anomaly.
const ALERT_DAYS: i64 = 90;
/// Alarm bits that raise an anomaly: leak, burst, reverse flow, tamper
/// (`ingest::payload::Alarms`).
pub const ALARM_MASK: u8 = 0b1111;

/// Allowed values of [`Settings::high_use_percent`].
pub const HIGH_USE_PERCENTS: [u32; 3] = [120, 150, 200];

/// What kind of anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    FugaNocturna,
    ConsumoAlto,
    MedidorDetenido,
    AlarmaFuga,
    AlarmaRuptura,
    AlarmaReverso,
    AlarmaManipulacion,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::FugaNocturna,
        Kind::ConsumoAlto,
        Kind::MedidorDetenido,
        Kind::AlarmaFuga,
        Kind::AlarmaRuptura,
        Kind::AlarmaReverso,
        Kind::AlarmaManipulacion,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Kind::FugaNocturna => "fuga_nocturna",
            Kind::ConsumoAlto => "consumo_alto",
            Kind::MedidorDetenido => "medidor_detenido",
            Kind::AlarmaFuga => "alarma_fuga",
            Kind::AlarmaRuptura => "alarma_ruptura",
            Kind::AlarmaReverso => "alarma_reverso",
            Kind::AlarmaManipulacion => "alarma_manipulacion",
        }
    }

    pub fn from_code(code: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// A short Spanish title for lists and the customer's alert.
    pub fn title(self) -> &'static str {
        match self {
            Kind::FugaNocturna => "Posible fuga",
            Kind::ConsumoAlto => "Consumo alto",
            Kind::MedidorDetenido => "Medidor detenido",
            Kind::AlarmaFuga => "Alarma de fuga",
            Kind::AlarmaRuptura => "Alarma de ruptura",
            Kind::AlarmaReverso => "Flujo en sentido contrario",
            Kind::AlarmaManipulacion => "Posible manipulación del medidor",
        }
    }

    /// The kind of work order staff create for it.
    pub fn work_order_kind(self) -> &'static str {
        match self {
            Kind::FugaNocturna | Kind::AlarmaFuga | Kind::AlarmaRuptura => "revision_fuga",
            Kind::MedidorDetenido => "cambio_medidor",
            Kind::AlarmaManipulacion => "inspeccion_toma",
            Kind::ConsumoAlto | Kind::AlarmaReverso => "inspeccion",
        }
    }

    /// The alarm bit (`ingest::payload::Alarms`) behind a device-alarm kind.
    fn alarm_bit(self) -> Option<u8> {
        match self {
            Kind::AlarmaFuga => Some(0),
            Kind::AlarmaRuptura => Some(1),
            Kind::AlarmaReverso => Some(2),
            Kind::AlarmaManipulacion => Some(3),
            _ => None,
        }
    }

    /// A condition that persists while nobody fixes it: its dedupe key moves with time
    /// (the first night of a run seen in the window, the last stuck period), so a new one
    /// is not raised while the meter still has one open.
    fn continuing(self) -> bool {
        matches!(self, Kind::FugaNocturna | Kind::MedidorDetenido)
    }
}

/// Where an anomaly is in the staff's hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Abierta,
    Revisada,
    Descartada,
    OrdenCreada,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Abierta => store::OPEN,
            Status::Revisada => store::REVIEWED,
            Status::Descartada => store::DISMISSED,
            Status::OrdenCreada => store::WORK_ORDER,
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        [
            Status::Abierta,
            Status::Revisada,
            Status::Descartada,
            Status::OrdenCreada,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// The utility's detection thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// A night counts toward a leak when its lowest flow is above this, l/h.
    pub night_threshold_lph: i64,
    /// Consecutive such nights that make a leak.
    pub nights: u32,
    /// A period is high use at this % of the average (120, 150 or 200).
    pub high_use_percent: u32,
    /// Complete periods at zero that make a stuck meter.
    pub stuck_periods: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            night_threshold_lph: 10,
            nights: 3,
            high_use_percent: 150,
            stuck_periods: 3,
        }
    }
}

impl Settings {
    /// Refuse settings the rules cannot use (Spanish messages).
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &'static str, message: &str| {
            Err(Error::Invalid {
                field,
                message: message.into(),
            })
        };
        if self.night_threshold_lph < 0 {
            return invalid(
                "umbral_nocturno",
                "el umbral de flujo nocturno no puede ser negativo",
            );
        }
        if !(1..=30).contains(&self.nights) {
            return invalid("noches", "el número de noches debe estar entre 1 y 30");
        }
        if !HIGH_USE_PERCENTS.contains(&self.high_use_percent) {
            return invalid(
                "porcentaje_consumo",
                "el porcentaje de consumo alto debe ser 120, 150 o 200",
            );
        }
        if !(1..=24).contains(&self.stuck_periods) {
            return invalid(
                "periodos_detenido",
                "el número de periodos sin consumo debe estar entre 1 y 24",
            );
        }
        Ok(())
    }
}

/// The meter (and its contract) a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterRef {
    pub meter_id: i64,
    pub contract_id: i64,
}

/// What a rule found, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub meter_id: i64,
    pub contract_id: i64,
    pub kind: Kind,
    pub dedupe_key: String,
    /// Plain Spanish, for the customer.
    pub detail: String,
    /// The numbers behind it.
    pub data: Value,
}

impl Finding {
    fn new(m: MeterRef, kind: Kind, key_suffix: &str, detail: String, data: Value) -> Finding {
        Finding {
            meter_id: m.meter_id,
            contract_id: m.contract_id,
            kind,
            dedupe_key: format!("{}:{}:{key_suffix}", kind.code(), m.meter_id),
            detail,
            data,
        }
    }
}

/// One period of a meter's consumption, as the period rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodUse {
    /// YYYYMM.
    pub period: i32,
    pub litres: i64,
    pub readings: i64,
}

/// The period `months` after (or before, if negative) `period` (YYYYMM).
pub fn shift_period(period: i32, months: i32) -> i32 {
    let idx = (period / 100) * 12 + (period % 100 - 1) + months;
    idx.div_euclid(12) * 100 + idx.rem_euclid(12) + 1
}

/// `202705` → `"mayo de 2027"`.
fn period_name(period: i32) -> String {
    let m = usize::try_from(period % 100 - 1).unwrap_or(0).min(11);
    format!("{} de {}", domain::MONTHS_ES[m], period / 100)
}

/// Night leak: the latest run of at least `s.nights` consecutive nights whose lowest
/// flow was above `s.night_threshold_lph`. `nights` are `(day, night minimum l/h)`, any
/// order; a missing day, a night without data or a night at or below the threshold ends
/// a run. Keyed by the run's first night.
pub fn night_leak(
    m: MeterRef,
    nights: &[(NaiveDate, Option<i64>)],
    s: &Settings,
) -> Option<Finding> {
    let mut sorted: Vec<(NaiveDate, Option<i64>)> = nights.to_vec();
    sorted.sort_by_key(|n| n.0);
    // (first night, last night, nights, lowest flow)
    let mut run: Option<(NaiveDate, NaiveDate, u32, i64)> = None;
    let mut found: Option<(NaiveDate, NaiveDate, u32, i64)> = None;
    for (day, min) in sorted {
        run = match (min.filter(|v| *v > s.night_threshold_lph), run) {
            (None, _) => None,
            (Some(v), Some((first, last, n, low))) if last.succ_opt() == Some(day) => {
                Some((first, day, n + 1, low.min(v)))
            }
            (Some(v), _) => Some((day, day, 1, v)),
        };
        if let Some(r) = run.filter(|r| r.2 >= s.nights) {
            found = Some(r);
        }
    }
    let (first, last, n, low) = found?;
    Some(Finding::new(
        m,
        Kind::FugaNocturna,
        &first.to_string(),
        format!(
            "Posible fuga: tu medidor registró agua toda la noche durante {n} noches \
             seguidas (mínimo {low} litros por hora)."
        ),
        json!({
            "first_night": first.to_string(),
            "last_night": last.to_string(),
            "nights": n,
            "min_lph": low,
            "threshold_lph": s.night_threshold_lph,
        }),
    ))
}

/// High use: `period` used at least `s.high_use_percent` % of the average of the six
/// periods before it that have data (at least three of them; an average of zero flags
/// nothing). Keyed by the period.
pub fn high_use(m: MeterRef, period: i32, uses: &[PeriodUse], s: &Settings) -> Option<Finding> {
    let by_period: HashMap<i32, i64> = uses.iter().map(|u| (u.period, u.litres)).collect();
    let litres = *by_period.get(&period)?;
    let previous: Vec<i64> = (1..=HIGH_USE_HISTORY)
        .filter_map(|k| by_period.get(&shift_period(period, -k)).copied())
        .collect();
    if previous.len() < HIGH_USE_MIN_PERIODS {
        return None;
    }
    let count = previous.len() as i128;
    let sum: i128 = previous.iter().map(|l| i128::from(*l)).sum();
    if sum <= 0 {
        return None;
    }
    // litres ≥ pct % × sum / count, exactly.
    let current = i128::from(litres);
    if current * 100 * count < i128::from(s.high_use_percent) * sum {
        return None;
    }
    let rounded_div = |a: i128, b: i128| (2 * a + b) / (2 * b);
    let average = i64::try_from(rounded_div(sum, count)).unwrap_or(i64::MAX);
    let percent = i64::try_from(rounded_div(current * 100 * count, sum)).unwrap_or(i64::MAX);
    Some(Finding::new(
        m,
        Kind::ConsumoAlto,
        &period.to_string(),
        format!(
            "Tu consumo de {} ({}) es {percent} % de tu promedio ({}).",
            period_name(period),
            M3::from_litres(litres),
            M3::from_litres(average)
        ),
        json!({
            "period": period,
            "litres": litres,
            "average_litres": average,
            "percent": percent,
            "periods_averaged": previous.len(),
            "threshold_percent": s.high_use_percent,
        }),
    ))
}

/// Stuck meter: the `s.stuck_periods` complete periods before `current` (YYYYMM) each
/// had readings and zero litres, on an active contract. Keyed by the last of them.
pub fn stuck(
    m: MeterRef,
    contract_active: bool,
    current: i32,
    uses: &[PeriodUse],
    s: &Settings,
) -> Option<Finding> {
    if !contract_active || s.stuck_periods == 0 {
        return None;
    }
    let by_period: HashMap<i32, &PeriodUse> = uses.iter().map(|u| (u.period, u)).collect();
    let n = i32::try_from(s.stuck_periods).unwrap_or(i32::MAX);
    let periods: Vec<i32> = (1..=n).map(|k| shift_period(current, -k)).collect();
    let all_zero = periods.iter().all(|p| {
        by_period
            .get(p)
            .is_some_and(|u| u.readings > 0 && u.litres == 0)
    });
    if !all_zero {
        return None;
    }
    let last = periods[0];
    let first = periods[periods.len() - 1];
    Some(Finding::new(
        m,
        Kind::MedidorDetenido,
        &last.to_string(),
        format!(
            "Tu medidor no ha registrado consumo en los últimos {n} periodos \
             (de {} a {}); puede estar detenido.",
            period_name(first),
            period_name(last)
        ),
        json!({
            "first_period": first,
            "last_period": last,
            "periods": n,
        }),
    ))
}

/// Device alarms: readings `(time, alarm bits)` with leak, burst, reverse-flow or
/// tamper bits give one finding per kind and local day.
pub fn device_alarms(m: MeterRef, readings: &[(DateTime<Utc>, u8)]) -> Vec<Finding> {
    // (kind, day) → (first, count)
    let mut seen: BTreeMap<(Kind, NaiveDate), (DateTime<Utc>, u32)> = BTreeMap::new();
    for &(at, bits) in readings {
        for kind in Kind::ALL {
            let Some(bit) = kind.alarm_bit() else {
                continue;
            };
            if bits & (1 << bit) == 0 {
                continue;
            }
            let e = seen.entry((kind, local_day(at))).or_insert((at, 0));
            e.0 = e.0.min(at);
            e.1 += 1;
        }
    }
    seen.into_iter()
        .map(|((kind, day), (first, count))| {
            let shown = day.format("%d/%m/%Y");
            let detail = match kind {
                Kind::AlarmaFuga => format!("Tu medidor avisó de una posible fuga el {shown}."),
                Kind::AlarmaRuptura => format!(
                    "Tu medidor avisó de un flujo muy alto, como el de una tubería rota, \
                     el {shown}."
                ),
                Kind::AlarmaReverso => {
                    format!("Tu medidor registró agua corriendo en sentido contrario el {shown}.")
                }
                _ => format!("Tu medidor avisó de una posible manipulación el {shown}."),
            };
            Finding::new(
                m,
                kind,
                &day.to_string(),
                detail,
                json!({
                    "day": day.to_string(),
                    "first_at": first.to_rfc3339(),
                    "readings": count,
                }),
            )
        })
        .collect()
}

/// New anomalies stored by one [`detect`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetectSummary {
    /// Active meters looked at.
    pub meters: u64,
    /// New anomalies per kind (kinds with none are absent).
    pub new: BTreeMap<Kind, u64>,
}

impl DetectSummary {
    pub fn count(&self, kind: Kind) -> u64 {
        self.new.get(&kind).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.new.values().sum()
    }
}

/// The page's aggregates, grouped by meter.
#[derive(Default)]
struct PageData {
    nights: HashMap<i64, Vec<(NaiveDate, Option<i64>)>>,
    periods: HashMap<i64, Vec<PeriodUse>>,
    alarms: HashMap<i64, Vec<(DateTime<Utc>, u8)>>,
    open: HashSet<(i64, String)>,
}

/// Run every rule over the tenant's active meters, a page of meters at a time, from the
/// aggregates (and the readings with alarm flags of the last two days), storing what is
/// new. Running it again adds nothing.
pub async fn detect(
    db: &Db,
    tenant: TenantId,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<DetectSummary> {
    settings.validate()?;
    let local_now = now.with_timezone(&ZONE);
    let today = local_now.date_naive();
    let last_night = if local_now.hour() >= NIGHT_SEEN_HOUR {
        today
    } else {
        today - Duration::days(1)
    };
    let lookback = NIGHT_LOOKBACK_DAYS.max(2 * i64::from(settings.nights));
    let first_night = last_night - Duration::days(lookback - 1);
    let current = period_of(now);
    let stuck_back = i32::try_from(settings.stuck_periods).unwrap_or(i32::MAX);
    let first_period = shift_period(current, -(HIGH_USE_HISTORY + 1).max(stuck_back));
    let since = now - Duration::days(ALARM_DAYS);
    let continuing: Vec<&str> = Kind::ALL
        .into_iter()
        .filter(|k| k.continuing())
        .map(Kind::code)
        .collect();

    let mut summary = DetectSummary::default();
    let mut after = 0;
    loop {
        let mut tx = db.read(tenant).await?;
        let page = store::meters_page(&mut tx, after, PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.id;
        let ids: Vec<i64> = page.iter().map(|m| m.id).collect();
        let smart: Vec<i64> = page.iter().filter(|m| m.smart).map(|m| m.id).collect();
        let mut contracts: Vec<i64> = page.iter().map(|m| m.contract_id).collect();
        contracts.sort_unstable();
        contracts.dedup();

        let mut data = PageData::default();
        for n in store::nights(&mut tx, &smart, first_night, last_night).await? {
            data.nights
                .entry(n.meter_id)
                .or_default()
                .push((n.day, n.night_min_lph));
        }
        for p in store::period_litres(&mut tx, &ids, first_period, current).await? {
            data.periods.entry(p.meter_id).or_default().push(PeriodUse {
                period: p.period,
                litres: p.litres,
                readings: p.readings,
            });
        }
        let mask = i32::from(ALARM_MASK);
        for a in store::alarm_readings(&mut tx, &ids, since, mask).await? {
            let bits = u8::try_from(a.alarms & 0xff).unwrap_or(0);
            data.alarms
                .entry(a.meter_id)
                .or_default()
                .push((a.read_at, bits));
        }
        data.open = store::open_kinds(&mut tx, &contracts, &continuing)
            .await?
            .into_iter()
            .collect();
        drop(tx);

        let mut found: Vec<NewAnomaly> = Vec::new();
        let mut keys: HashSet<String> = HashSet::new();
        for meter in &page {
            let m = MeterRef {
                meter_id: meter.id,
                contract_id: meter.contract_id,
            };
            let none = Vec::new();
            let uses = data.periods.get(&meter.id).unwrap_or(&none);
            let mut findings: Vec<Finding> = Vec::new();
            if let Some(n) = data.nights.get(&meter.id) {
                findings.extend(night_leak(m, n, settings));
            }
            if !uses.is_empty() {
                for p in [shift_period(current, -1), current] {
                    findings.extend(high_use(m, p, uses, settings));
                }
                let active = meter.contract_status == "activo";
                findings.extend(stuck(m, active, current, uses, settings));
            }
            if let Some(a) = data.alarms.get(&meter.id) {
                findings.extend(device_alarms(m, a));
            }
            for f in findings {
                if f.kind.continuing() && data.open.contains(&(f.meter_id, f.kind.code().into())) {
                    continue;
                }
                if !keys.insert(f.dedupe_key.clone()) {
                    continue;
                }
                found.push(NewAnomaly {
                    meter_id: f.meter_id,
                    contract_id: f.contract_id,
                    kind: f.kind.code().into(),
                    dedupe_key: f.dedupe_key,
                    detail: f.detail,
                    data: f.data.to_string(),
                });
            }
        }
        if !found.is_empty() {
            let mut tx = db.write(tenant).await?;
            let inserted = store::insert_many(&mut tx, &found, now).await?;
            tx.commit().await?;
            for (kind, _) in inserted {
                if let Some(k) = Kind::from_code(&kind) {
                    *summary.new.entry(k).or_default() += 1;
                }
            }
        }
        summary.meters += page.len() as u64;
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    tracing::info!(
        tenant = tenant.0,
        meters = summary.meters,
        new = summary.total(),
        "anomaly detection"
    );
    Ok(summary)
}

/// What staff do with an open anomaly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Looked at; nothing else to do.
    Reviewed,
    /// Not a problem; the reason is required.
    Dismissed { reason: String },
    /// Send someone: creates a work order.
    WorkOrder { description: String },
}

/// Act on an open anomaly, in one transaction. Returns the work order's id when one was
/// created. A dismissal without a reason, an unknown anomaly and one already acted on
/// are `Error::Invalid`.
pub async fn review(
    db: &Db,
    tenant: TenantId,
    anomaly_id: i64,
    action: Action,
    staff: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let invalid = |field: &'static str, message: &str| Error::Invalid {
        field,
        message: message.into(),
    };
    if let Action::Dismissed { reason } = &action
        && reason.trim().is_empty()
    {
        return Err(invalid(
            "motivo",
            "escribe el motivo por el que descartas la anomalía",
        ));
    }
    let mut tx = db.write(tenant).await?;
    let Some(a) = store::get(&mut tx, anomaly_id).await? else {
        return Err(invalid("anomalia", "la anomalía no existe"));
    };
    let already = || invalid("anomalia", "esta anomalía ya fue atendida");
    if a.status != store::OPEN {
        return Err(already());
    }
    let (status, resolution) = match &action {
        Action::Reviewed => (Status::Revisada, None),
        Action::Dismissed { reason } => (Status::Descartada, Some(reason.trim().to_string())),
        Action::WorkOrder { description } => {
            (Status::OrdenCreada, Some(description.trim().to_string()))
        }
    };
    let resolution = resolution.filter(|r| !r.is_empty());
    if !store::close(
        &mut tx,
        anomaly_id,
        status.code(),
        resolution.as_deref(),
        staff,
        now,
    )
    .await?
    {
        return Err(already());
    }
    let mut order = None;
    if let Action::WorkOrder { .. } = action {
        let kind = Kind::from_code(&a.kind).map_or("inspeccion", Kind::work_order_kind);
        let description = resolution.unwrap_or_else(|| a.detail.clone());
        order = Some(
            store::insert_work_order(
                &mut tx,
                &store::NewWorkOrder {
                    contract_id: a.contract_id,
                    meter_id: Some(a.meter_id),
                    anomaly_id: Some(a.id),
                    kind,
                    description: &description,
                    created_by: staff,
                },
                now,
            )
            .await?,
        );
        // While AquaCIS dispatches the crews, the order is also created there (through
        // the outbox, in this transaction; `bridge::deliver` sends it once).
        if let Some(id) = order
            && db::legacy::writes_to_legacy(&mut tx, "ordenes").await?
        {
            let serial = db::metering::registers_by_id(&mut tx, &[a.meter_id])
                .await?
                .into_iter()
                .next()
                .map(|m| m.serial)
                .unwrap_or_default();
            db::repo::enqueue(
                &mut tx,
                db::legacy::CREAR_OT,
                &format!("{}:{id}", db::legacy::CREAR_OT),
                &serde_json::json!({
                    "numero_serie": serial,
                    "tipo": kind,
                    "descripcion": a.detail,
                    "referencia": format!("SUPRA-OT-{id}"),
                }),
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(order)
}

/// An anomaly as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: i64,
    pub kind: Kind,
    pub title: &'static str,
    pub detail: String,
    pub status: Status,
    /// Staff already sent someone.
    pub work_order: bool,
    pub detected_at: DateTime<Utc>,
}

/// The contract's anomalies of the last 90 days that are open or have a work order,
/// newest first (the customer's in-app alert).
pub async fn for_contract(
    db: &Db,
    tenant: TenantId,
    contract_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>> {
    let mut tx = db.read(tenant).await?;
    let rows = store::of_contract(&mut tx, contract_id, now - Duration::days(ALERT_DAYS)).await?;
    drop(tx);
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let kind = Kind::from_code(&r.kind)?;
            let status = Status::from_code(&r.status)?;
            Some(Alert {
                id: r.id,
                kind,
                title: kind.title(),
                detail: r.detail,
                status,
                work_order: status == Status::OrdenCreada,
                detected_at: r.detected_at,
            })
        })
        .collect())
}

/// Open anomalies for the staff queue, newest first.
pub async fn open_for_staff(db: &Db, tenant: TenantId, limit: i64) -> Result<Vec<store::StaffRow>> {
    let mut tx = db.read(tenant).await?;
    Ok(store::open_for_staff(&mut tx, limit).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const M: MeterRef = MeterRef {
        meter_id: 7,
        contract_id: 3,
    };

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 5, d).expect("date")
    }

    fn nights(values: &[(u32, Option<i64>)]) -> Vec<(NaiveDate, Option<i64>)> {
        values.iter().map(|(d, v)| (day(*d), *v)).collect()
    }

    #[test]
    fn continuous_night_flow_is_a_leak() {
        let s = Settings::default();
        let n = nights(&[
            (24, Some(0)),
            (25, Some(15)),
            (26, Some(14)),
            (27, Some(20)),
            (28, Some(16)),
        ]);
        let f = night_leak(M, &n, &s).expect("leak");
        assert_eq!(f.kind, Kind::FugaNocturna);
        assert_eq!(f.dedupe_key, "fuga_nocturna:7:2027-05-25");
        assert_eq!(
            f.detail,
            "Posible fuga: tu medidor registró agua toda la noche durante 4 noches seguidas \
             (mínimo 14 litros por hora)."
        );
        assert_eq!(f.data["min_lph"], 14);
        assert_eq!(f.data["last_night"], "2027-05-28");
        // Input order does not matter.
        let mut rev = n.clone();
        rev.reverse();
        assert_eq!(night_leak(M, &rev, &s), Some(f));
    }

    #[test]
    fn a_night_at_zero_or_a_gap_breaks_the_run() {
        let s = Settings::default();
        let normal = nights(&[
            (25, Some(15)),
            (26, Some(0)),
            (27, Some(15)),
            (28, Some(15)),
        ]);
        assert_eq!(night_leak(M, &normal, &s), None);
        let gap = nights(&[
            (25, Some(15)),
            (26, Some(15)),
            (28, Some(15)),
            (29, Some(15)),
        ]);
        assert_eq!(night_leak(M, &gap, &s), None);
        let unseen = nights(&[(25, Some(15)), (26, None), (27, Some(15)), (28, Some(15))]);
        assert_eq!(night_leak(M, &unseen, &s), None);
        // The threshold itself is not above the threshold.
        let at = nights(&[(25, Some(10)), (26, Some(10)), (27, Some(10))]);
        assert_eq!(night_leak(M, &at, &s), None);
        let two = nights(&[(25, Some(50)), (26, Some(50))]);
        assert_eq!(night_leak(M, &two, &s), None);
        let strict = Settings { nights: 2, ..s };
        assert!(night_leak(M, &two, &strict).is_some());
    }

    #[test]
    fn the_latest_run_is_reported() {
        let s = Settings::default();
        let n = nights(&[
            (1, Some(30)),
            (2, Some(30)),
            (3, Some(30)),
            (4, Some(0)),
            (10, Some(12)),
            (11, Some(12)),
            (12, Some(12)),
        ]);
        let f = night_leak(M, &n, &s).expect("leak");
        assert_eq!(f.dedupe_key, "fuga_nocturna:7:2027-05-10");
    }

    fn uses(v: &[(i32, i64)]) -> Vec<PeriodUse> {
        v.iter()
            .map(|&(period, litres)| PeriodUse {
                period,
                litres,
                readings: 1,
            })
            .collect()
    }

    #[test]
    fn high_use_against_the_average() {
        let s = Settings::default();
        let u = uses(&[
            (202611, 18_000),
            (202612, 18_000),
            (202701, 18_000),
            (202702, 18_000),
            (202703, 18_000),
            (202704, 18_000),
            (202705, 32_000),
        ]);
        let f = high_use(M, 202705, &u, &s).expect("high");
        assert_eq!(f.dedupe_key, "consumo_alto:7:202705");
        assert_eq!(
            f.detail,
            "Tu consumo de mayo de 2027 (32 m³) es 178 % de tu promedio (18 m³)."
        );
        assert_eq!(f.data["average_litres"], 18_000);
        assert_eq!(f.data["periods_averaged"], 6);
        // 200 % is not reached; exactly 150 % is.
        let double = Settings {
            high_use_percent: 200,
            ..s
        };
        assert_eq!(high_use(M, 202705, &u, &double), None);
        let exact = uses(&[
            (202702, 10_000),
            (202703, 10_000),
            (202704, 10_000),
            (202705, 15_000),
        ]);
        assert!(high_use(M, 202705, &exact, &s).is_some());
        let below = uses(&[
            (202702, 10_000),
            (202703, 10_000),
            (202704, 10_000),
            (202705, 14_999),
        ]);
        assert_eq!(high_use(M, 202705, &below, &s), None);
    }

    #[test]
    fn high_use_needs_three_periods_and_a_nonzero_average() {
        let s = Settings::default();
        let two = uses(&[(202703, 10_000), (202704, 10_000), (202705, 90_000)]);
        assert_eq!(high_use(M, 202705, &two, &s), None);
        let zero = uses(&[(202702, 0), (202703, 0), (202704, 0), (202705, 90_000)]);
        assert_eq!(high_use(M, 202705, &zero, &s), None);
        // Periods older than six before are not averaged; gaps are skipped.
        let old = uses(&[
            (202610, 1_000),
            (202612, 12_000),
            (202702, 12_000),
            (202704, 12_500),
            (202705, 20_000),
        ]);
        let f = high_use(M, 202705, &old, &s).expect("high");
        assert_eq!(f.data["periods_averaged"], 3);
        assert_eq!(f.data["average_litres"], 12_167);
        assert!(f.detail.contains("(12.167 m³)"), "{}", f.detail);
        // No data for the period itself: nothing.
        assert_eq!(high_use(M, 202706, &old, &s), None);
    }

    #[test]
    fn stuck_meter() {
        let s = Settings::default();
        let u = uses(&[(202702, 5_000), (202703, 0), (202704, 0), (202705, 0)]);
        let f = stuck(M, true, 202706, &u, &s).expect("stuck");
        assert_eq!(f.dedupe_key, "medidor_detenido:7:202705");
        assert!(f.detail.contains("de marzo de 2027 a mayo de 2027"));
        assert_eq!(stuck(M, false, 202706, &u, &s), None, "inactive contract");
        // The current period is not complete; a used period breaks it.
        assert_eq!(stuck(M, true, 202705, &u, &s), None);
        // A period without readings is no evidence.
        let missing = uses(&[(202703, 0), (202705, 0)]);
        assert_eq!(stuck(M, true, 202706, &missing, &s), None);
        let mut no_reads = uses(&[(202703, 0), (202704, 0), (202705, 0)]);
        no_reads[1].readings = 0;
        assert_eq!(stuck(M, true, 202706, &no_reads, &s), None);
    }

    #[test]
    fn device_alarms_once_per_kind_and_local_day() {
        // 2027-05-20 23:30 and 2027-05-21 00:30 local (UTC−6) are different days.
        let at = |h: u32, mi: u32| {
            Utc.with_ymd_and_hms(2027, 5, 21, h, mi, 0)
                .single()
                .expect("t")
        };
        let r = [
            (at(5, 30), 0b0001),  // leak, 20th
            (at(5, 45), 0b0101),  // leak + reverse, 20th
            (at(6, 30), 0b1000),  // tamper, 21st
            (at(7, 0), 0b110000), // dry + low battery: nothing
            (at(8, 0), 0b0010),   // burst, 21st
        ];
        let f = device_alarms(M, &r);
        let keys: Vec<&str> = f.iter().map(|f| f.dedupe_key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "alarma_fuga:7:2027-05-20",
                "alarma_ruptura:7:2027-05-21",
                "alarma_reverso:7:2027-05-20",
                "alarma_manipulacion:7:2027-05-21",
            ]
        );
        assert_eq!(f[0].data["readings"], 2);
        assert!(f[0].detail.ends_with("el 20/05/2027."), "{}", f[0].detail);
    }

    #[test]
    fn periods_and_kinds() {
        assert_eq!(shift_period(202701, -1), 202612);
        assert_eq!(shift_period(202612, 1), 202701);
        assert_eq!(shift_period(202705, -7), 202610);
        assert_eq!(shift_period(202705, -24), 202505);
        assert_eq!(period_name(202612), "diciembre de 2026");
        for k in Kind::ALL {
            assert_eq!(Kind::from_code(k.code()), Some(k));
        }
        assert_eq!(Kind::FugaNocturna.work_order_kind(), "revision_fuga");
        assert_eq!(Kind::AlarmaFuga.work_order_kind(), "revision_fuga");
        assert_eq!(Kind::AlarmaRuptura.work_order_kind(), "revision_fuga");
        assert_eq!(Kind::MedidorDetenido.work_order_kind(), "cambio_medidor");
        assert_eq!(
            Kind::AlarmaManipulacion.work_order_kind(),
            "inspeccion_toma"
        );
        assert_eq!(Kind::ConsumoAlto.work_order_kind(), "inspeccion");
        assert_eq!(Kind::AlarmaReverso.work_order_kind(), "inspeccion");
    }

    #[test]
    fn settings_are_checked() {
        assert!(Settings::default().validate().is_ok());
        for p in HIGH_USE_PERCENTS {
            let s = Settings {
                high_use_percent: p,
                ..Settings::default()
            };
            assert!(s.validate().is_ok());
        }
        let bad = Settings {
            high_use_percent: 175,
            ..Settings::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(Error::Invalid {
                field: "porcentaje_consumo",
                ..
            })
        ));
        let zero = Settings {
            nights: 0,
            ..Settings::default()
        };
        assert!(zero.validate().is_err());
    }
}
