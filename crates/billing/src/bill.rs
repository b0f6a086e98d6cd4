//! The bill of one account for one period: water, sewer, treatment, discounts,
//! recargos and fees, each line with its tax and SAT codes.
//!
//! Rounding rule: every line amount and every line's tax is rounded to the
//! centavo, half away from zero; `subtotal` = Σ line amounts, `tax` = Σ line
//! taxes, `total` = `subtotal` + `tax`. So the totals always equal the sum of
//! the lines to the centavo.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};
use domain::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{BillingError, fecha_es, invalid, mes};
use crate::tariff::{ServiceCharge, Tariff};
use crate::tax::{SatCode, TaxTreatment};
use crate::water::{Metering, water_charge};

/// A billing period: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveDate,
    /// First day after the period.
    pub end: NaiveDate,
}

impl Period {
    /// Any span of days; `end` (exclusive) must be after `start`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Period, BillingError> {
        if end <= start {
            return Err(invalid(
                "periodo",
                format!(
                    "el periodo debe terminar después de empezar (del {} al {})",
                    fecha_es(start),
                    fecha_es(end)
                ),
            ));
        }
        Ok(Period { start, end })
    }

    /// A calendar month, e.g. `Period::month(2026, 10)` = October 2026 (31 days).
    pub fn month(year: i32, month: u32) -> Result<Period, BillingError> {
        Period::months(year, month, 1)
    }

    /// `count` calendar months starting with `month` of `year`, e.g.
    /// `Period::months(2026, 9, 2)` = September–October 2026 (bimonthly).
    pub fn months(year: i32, month: u32, count: u32) -> Result<Period, BillingError> {
        let start = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| {
            invalid(
                "periodo",
                format!("el mes debe estar entre 1 y 12 (se recibió {month})"),
            )
        })?;
        if count == 0 {
            return Err(invalid("periodo", "el periodo debe durar al menos un mes"));
        }
        let end = start
            .checked_add_months(Months::new(count))
            .ok_or_else(|| invalid("periodo", "fecha fuera de rango"))?;
        Ok(Period { start, end })
    }

    /// Number of days (`end - start`); 0 for an inverted period.
    pub fn days(&self) -> u32 {
        u32::try_from((self.end - self.start).num_days()).unwrap_or(0)
    }

    /// Whole calendar months covered, if the period starts and ends on a 1st.
    fn whole_months(&self) -> Option<i32> {
        if self.start.day() != 1 || self.end.day() != 1 {
            return None;
        }
        let index = |d: NaiveDate| d.year() * 12 + i32::try_from(d.month()).unwrap_or(0);
        let n = index(self.end) - index(self.start);
        (n > 0).then_some(n)
    }

    /// Spanish label: `"octubre 2026"`, `"septiembre–octubre 2026"`,
    /// `"diciembre 2026–enero 2027"`, or `"del 5 de octubre de 2026 al 4 de
    /// noviembre de 2026"` for periods that are not whole months.
    pub fn label_es(&self) -> String {
        let last = self.end.pred_opt().unwrap_or(self.end);
        match self.whole_months() {
            Some(1) => format!("{} {}", mes(self.start.month()), self.start.year()),
            Some(_) if last.year() == self.start.year() => format!(
                "{}–{} {}",
                mes(self.start.month()),
                mes(last.month()),
                last.year()
            ),
            Some(_) => format!(
                "{} {}–{} {}",
                mes(self.start.month()),
                self.start.year(),
                mes(last.month()),
                last.year()
            ),
            None => format!("del {} al {}", fecha_es(self.start), fecha_es(last)),
        }
    }
}

impl FromStr for Period {
    type Err = BillingError;

    /// Parses a month written `AAAA-MM`, e.g. `"2026-10"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() {
            return Err(invalid(
                "periodo",
                "escribe el periodo, por ejemplo 2026-10",
            ));
        }
        let bad = || {
            invalid(
                "periodo",
                format!("periodo no válido «{t}»: escríbelo como AAAA-MM, por ejemplo 2026-10"),
            )
        };
        let (y, m) = t.split_once('-').ok_or_else(bad)?;
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(invalid(
                "periodo",
                format!("periodo no válido «{t}»: el mes debe estar entre 01 y 12"),
            ));
        }
        Period::month(year, month)
    }
}

/// A fee the bill input asks to charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    Reconexion,
    Multa,
}

impl FeeKind {
    /// The key in the tariff's `[fees]` table.
    pub const fn as_str(&self) -> &'static str {
        match self {
            FeeKind::Reconexion => "reconexion",
            FeeKind::Multa => "multa",
        }
    }

    pub const fn label_es(&self) -> &'static str {
        match self {
            FeeKind::Reconexion => "reconexión",
            FeeKind::Multa => "multa",
        }
    }

    pub const fn concept(&self) -> Concept {
        match self {
            FeeKind::Reconexion => Concept::Reconexion,
            FeeKind::Multa => Concept::Multa,
        }
    }
}

/// What a bill line charges for. Serialized as its Spanish code
/// ([`Concept::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Concept {
    #[serde(rename = "agua")]
    Water,
    #[serde(rename = "alcantarillado")]
    Sewer,
    #[serde(rename = "saneamiento")]
    Treatment,
    #[serde(rename = "descuento")]
    Discount,
    #[serde(rename = "recargos")]
    Recargos,
    #[serde(rename = "reconexion")]
    Reconexion,
    #[serde(rename = "multa")]
    Multa,
}

impl Concept {
    pub const ALL: &'static [Concept] = &[
        Concept::Water,
        Concept::Sewer,
        Concept::Treatment,
        Concept::Discount,
        Concept::Recargos,
        Concept::Reconexion,
        Concept::Multa,
    ];

    /// Spanish code: `"agua"`, `"alcantarillado"`, `"saneamiento"`,
    /// `"descuento"`, `"recargos"`, `"reconexion"`, `"multa"`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Concept::Water => "agua",
            Concept::Sewer => "alcantarillado",
            Concept::Treatment => "saneamiento",
            Concept::Discount => "descuento",
            Concept::Recargos => "recargos",
            Concept::Reconexion => "reconexion",
            Concept::Multa => "multa",
        }
    }

    /// The key used for the concept in tariff files (`[taxes]`, `[sat.*]`).
    pub const fn tariff_key(&self) -> &'static str {
        match self {
            Concept::Water => "water",
            Concept::Sewer => "sewer",
            Concept::Treatment => "treatment",
            Concept::Discount => "discount",
            Concept::Recargos => "recargos",
            Concept::Reconexion => "reconexion",
            Concept::Multa => "multa",
        }
    }

    pub const fn label_es(&self) -> &'static str {
        match self {
            Concept::Water => "Agua potable",
            Concept::Sewer => "Alcantarillado",
            Concept::Treatment => "Saneamiento",
            Concept::Discount => "Descuento",
            Concept::Recargos => "Recargos",
            Concept::Reconexion => "Reconexión",
            Concept::Multa => "Multa",
        }
    }
}

impl fmt::Display for Concept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Concept {
    type Err = BillingError;
    /// Accepts the Spanish code or the tariff-file key (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_lowercase();
        Concept::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == code || c.tariff_key() == code)
            .ok_or_else(|| {
                let options: Vec<&str> = Concept::ALL.iter().map(Concept::as_str).collect();
                invalid(
                    "concepto",
                    format!(
                        "concepto no válido «{}»; opciones: {}",
                        s.trim(),
                        options.join(", ")
                    ),
                )
            })
    }
}

/// Everything needed to bill one account for one period. No I/O: the caller
/// loads the tariff versions, the consumption and the account's state.
#[derive(Debug, Clone)]
pub struct BillInput<'a> {
    /// All versions of the tariff for the account's use type and class (any order).
    pub tariffs: &'a [Tariff],
    pub period: Period,
    /// Days with service when the contract started or ended inside the
    /// period; `None` = the whole period.
    pub service_days: Option<u32>,
    pub metering: Metering,
    /// The consumption is an estimate (no reading): the consumption lines
    /// (water, sewer, treatment, discounts) are marked. Ignored for unmetered tomas.
    pub estimated: bool,
    /// Discount programs the account is registered in (e.g. `"inapam"`).
    pub programs: &'a [String],
    /// Overdue, unpaid balance at billing time (base of the recargos).
    pub overdue_balance: Money,
    /// Fees to charge this period; each entry is one charge.
    pub fees: &'a [FeeKind],
}

/// One row of "¿Cómo se calculó?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub description: String,
    pub quantity_m3: Option<Decimal>,
    pub unit_price: Option<Decimal>,
    pub amount: Money,
}

/// One line of the bill (one CFDI concept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillLine {
    pub concept: Concept,
    pub description: String,
    pub quantity: Decimal,
    /// `"m³"` or `"servicio"`.
    pub unit: String,
    /// `Some` when `quantity × unit_price` is the amount before rounding to
    /// the centavo (always for `"servicio"` lines, where quantity is 1).
    pub unit_price: Option<Decimal>,
    /// Rounded to the centavo; negative only for [`Concept::Discount`].
    pub amount: Money,
    pub tax: TaxTreatment,
    /// `amount × rate`, rounded to the centavo (0 for exento / no objeto).
    pub tax_amount: Money,
    pub sat: SatCode,
    /// The line depends on an estimated consumption.
    pub estimated: bool,
    /// How the amount was computed; the step amounts add up to `amount`.
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bill {
    pub period: Period,
    /// m³ billed (after the tariff's volume rule); 0 for an unmetered toma.
    pub billed_m3: Decimal,
    /// The consumption lines rest on an estimated consumption.
    pub estimated: bool,
    pub lines: Vec<BillLine>,
    /// Σ line amounts.
    pub subtotal: Money,
    /// Σ line taxes.
    pub tax: Money,
    /// `subtotal + tax`.
    pub total: Money,
    /// Names of the tariff versions used, oldest first.
    pub tariffs: Vec<String>,
}

/// Internal identity of a consumption-derived line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Water,
    Sewer,
    Treatment,
    DiscountWater,
    DiscountSewer,
    DiscountTreatment,
}

const KEYS: [Key; 6] = [
    Key::Water,
    Key::Sewer,
    Key::Treatment,
    Key::DiscountWater,
    Key::DiscountSewer,
    Key::DiscountTreatment,
];

impl Key {
    fn concept(self) -> Concept {
        match self {
            Key::Water => Concept::Water,
            Key::Sewer => Concept::Sewer,
            Key::Treatment => Concept::Treatment,
            Key::DiscountWater | Key::DiscountSewer | Key::DiscountTreatment => Concept::Discount,
        }
    }

    /// The concept whose tax treatment and SAT codes the line takes: a
    /// discount takes those of the line it discounts.
    fn fiscal_concept(self) -> Concept {
        match self {
            Key::Water | Key::DiscountWater => Concept::Water,
            Key::Sewer | Key::DiscountSewer => Concept::Sewer,
            Key::Treatment | Key::DiscountTreatment => Concept::Treatment,
        }
    }
}

/// A line as computed under one tariff version, before taxes.
#[derive(Debug, Clone)]
struct Part {
    description: String,
    amount: Money,
    quantity: Decimal,
    unit: &'static str,
    unit_price: Option<Decimal>,
    steps: Vec<Step>,
}

const M3: &str = "m³";
const SERVICIO: &str = "servicio";

fn pct(p: Decimal) -> String {
    format!("{} %", p.normalize())
}

/// A unit price as pesos with at least 2 decimals: `$3.10`, `$1.234`.
fn price(v: Decimal) -> String {
    let mut p = v.normalize();
    if p.scale() < 2 {
        p.rescale(2);
    }
    format!("${p}")
}

fn m3(v: Decimal) -> String {
    format!("{} m³", v.normalize())
}

fn step(description: String, amount: Money) -> Step {
    Step {
        description,
        quantity_m3: None,
        unit_price: None,
        amount,
    }
}

fn percent_of(base: Money, percent: Decimal) -> Money {
    Money::from_decimal_rounded(base.amount() * percent / Decimal::ONE_HUNDRED)
}

fn service_part(name: &str, rule: &ServiceCharge, water: Money, billed: Decimal) -> Part {
    if let Some(p) = rule.percent_of_water {
        let amount = percent_of(water, p);
        return Part {
            description: name.to_owned(),
            amount,
            quantity: Decimal::ONE,
            unit: SERVICIO,
            unit_price: None,
            steps: vec![step(
                format!("{} del cargo de agua ({})", pct(p), water.format_mxn()),
                amount,
            )],
        };
    }
    let rate = rule.per_m3.unwrap_or_default();
    let amount = Money::from_decimal_rounded(billed * rate);
    Part {
        description: name.to_owned(),
        amount,
        quantity: billed,
        unit: M3,
        unit_price: Some(rate),
        steps: vec![Step {
            description: format!("{} × {} por m³", m3(billed), price(rate)),
            quantity_m3: Some(billed),
            unit_price: Some(rate),
            amount,
        }],
    }
}

fn is_registered(programs: &[String], program: &str) -> bool {
    programs
        .iter()
        .any(|p| p.trim().eq_ignore_ascii_case(program.trim()))
}

/// The lines one tariff version charges for the whole consumption.
/// `t` is already prorated for partial service.
fn version_parts(
    t: &Tariff,
    metering: Metering,
    programs: &[String],
) -> (Decimal, Vec<(Key, Part)>) {
    let wc = water_charge(t, metering);
    let water = wc.total;
    let billed = wc.billed_m3;
    let metered = matches!(metering, Metering::Metered(_));
    let mut parts = Vec::new();
    parts.push((
        Key::Water,
        Part {
            description: Concept::Water.label_es().to_owned(),
            amount: water,
            quantity: if metered { billed } else { Decimal::ONE },
            unit: if metered { M3 } else { SERVICIO },
            unit_price: None,
            steps: wc
                .lines
                .iter()
                .map(|l| Step {
                    description: l.description.clone(),
                    quantity_m3: l.quantity_m3,
                    unit_price: l.unit_price,
                    amount: l.amount,
                })
                .collect(),
        },
    ));
    let sewer = t
        .sewer
        .as_ref()
        .map(|s| service_part(Concept::Sewer.label_es(), s, water, billed));
    let treatment = t
        .treatment
        .as_ref()
        .map(|s| service_part(Concept::Treatment.label_es(), s, water, billed));

    // Discounts are not cumulative: of the programs the account is registered
    // in, the one giving the largest discount applies (the first on a tie).
    let mut best: Option<(Money, Part, &crate::tariff::Discount)> = None;
    for d in t
        .discounts
        .iter()
        .filter(|d| is_registered(programs, &d.program))
    {
        let (base, what) = match (metering, d.up_to_m3) {
            (Metering::Metered(_), Some(n)) if n < billed => (
                water_charge(t, Metering::Metered(n)).total,
                format!("cargo de agua de los primeros {}", m3(n)),
            ),
            _ => (water, "cargo de agua".to_owned()),
        };
        let amount = percent_of(base, d.percent).min(water);
        if best.as_ref().is_some_and(|(b, ..)| *b >= amount) {
            continue;
        }
        let part = Part {
            description: d.label.clone(),
            amount: -amount,
            quantity: Decimal::ONE,
            unit: SERVICIO,
            unit_price: None,
            steps: vec![step(
                format!("{} del {what} ({})", pct(d.percent), base.format_mxn()),
                -amount,
            )],
        };
        best = Some((amount, part, d));
    }
    if let Some(s) = &sewer {
        parts.push((Key::Sewer, s.clone()));
    }
    if let Some(s) = &treatment {
        parts.push((Key::Treatment, s.clone()));
    }
    if let Some((amount, part, d)) = best {
        parts.push((Key::DiscountWater, part));
        if d.applies_to_sewer && water > Money::ZERO {
            let ratio = amount.amount() / water.amount();
            for (key, name, charge) in [
                (Key::DiscountSewer, "alcantarillado", &sewer),
                (Key::DiscountTreatment, "saneamiento", &treatment),
            ] {
                let Some(c) = charge else { continue };
                let off = Money::from_decimal_rounded(c.amount.amount() * ratio);
                parts.push((
                    key,
                    Part {
                        description: format!("{} sobre {name}", d.label),
                        amount: -off,
                        quantity: Decimal::ONE,
                        unit: SERVICIO,
                        unit_price: None,
                        steps: vec![step(
                            format!(
                                "Misma proporción que el descuento del agua ({} de {}) sobre {}",
                                amount.format_mxn(),
                                water.format_mxn(),
                                c.amount.format_mxn()
                            ),
                            -off,
                        )],
                    },
                ));
            }
        }
    }
    (billed, parts)
}

fn tax_of(amount: Money, tax: TaxTreatment) -> Money {
    tax.rate().map_or(Money::ZERO, |r| {
        Money::from_decimal_rounded(amount.amount() * r)
    })
}

struct LineSpec {
    concept: Concept,
    description: String,
    quantity: Decimal,
    unit: &'static str,
    unit_price: Option<Decimal>,
    amount: Money,
    fiscal: Concept,
    estimated: bool,
    steps: Vec<Step>,
}

fn make_line(spec: LineSpec, tariff: &Tariff) -> BillLine {
    let tax = tariff.tax(spec.fiscal);
    let unit_price = if spec.unit == SERVICIO && spec.quantity == Decimal::ONE {
        Some(spec.amount.amount())
    } else {
        spec.unit_price
    };
    BillLine {
        concept: spec.concept,
        description: spec.description,
        quantity: spec.quantity,
        unit: spec.unit.to_owned(),
        unit_price,
        amount: spec.amount,
        tax,
        tax_amount: tax_of(spec.amount, tax),
        sat: tariff.sat_code(spec.fiscal),
        estimated: spec.estimated,
        steps: spec.steps,
    }
}

/// The tariff versions in force during the period, oldest first, with the
/// days each one covers.
fn segments<'t>(
    tariffs: &'t [Tariff],
    period: &Period,
) -> Result<Vec<(&'t Tariff, u32)>, BillingError> {
    let first = tariffs.first().ok_or(BillingError::NoTariffs)?;
    let use_type = first
        .use_type
        .parse::<domain::UseType>()
        .map_err(|e| invalid("use_type", e.message))?;
    let class = first
        .class
        .parse::<domain::TariffClass>()
        .map_err(|e| invalid("class", e.message))?;
    for t in tariffs {
        t.validate()?;
        if t.use_type.parse::<domain::UseType>() != Ok(use_type)
            || t.class.parse::<domain::TariffClass>() != Ok(class)
        {
            return Err(invalid(
                "tarifas",
                format!(
                    "las versiones recibidas son de usos o clases distintos («{}» {}/{} y «{}» {}/{})",
                    first.name, first.use_type, first.class, t.name, t.use_type, t.class
                ),
            ));
        }
    }
    let mut sorted: Vec<&Tariff> = tariffs.iter().collect();
    sorted.sort_by_key(|t| t.valid_from);
    for w in sorted.windows(2) {
        if w[0].valid_from == w[1].valid_from {
            return Err(invalid(
                "valid_from",
                format!(
                    "las versiones «{}» y «{}» empiezan el mismo día ({})",
                    w[0].name,
                    w[1].name,
                    fecha_es(w[0].valid_from)
                ),
            ));
        }
    }
    if sorted.first().is_none_or(|t| t.valid_from > period.start) {
        return Err(BillingError::NoTariffInForce {
            use_type: use_type.as_str().to_owned(),
            class: class.as_str().to_owned(),
            date: period.start,
        });
    }
    let mut out = Vec::new();
    for (i, t) in sorted.iter().enumerate() {
        let start = t.valid_from.max(period.start);
        let end = sorted
            .get(i + 1)
            .map_or(period.end, |n| n.valid_from.min(period.end));
        if start < end {
            let days = u32::try_from((end - start).num_days()).unwrap_or(0);
            out.push((*t, days));
        }
    }
    Ok(out)
}

/// Compute the bill. See the module documentation for the rounding rule and
/// `docs/tariffs.md` for every rule.
pub fn compute_bill(input: &BillInput) -> Result<Bill, BillingError> {
    let period = Period::new(input.period.start, input.period.end)?;
    let period_days = period.days();
    if let Metering::Metered(v) = input.metering
        && v.is_sign_negative()
        && !v.is_zero()
    {
        return Err(invalid(
            "consumo",
            format!(
                "el consumo es negativo ({}); debe revisarse antes de facturar",
                m3(v)
            ),
        ));
    }
    let service_days = match input.service_days {
        Some(d) if d > period_days => {
            return Err(invalid(
                "service_days",
                format!("{d} días de servicio no caben en un periodo de {period_days} días"),
            ));
        }
        Some(d) if d < period_days => Some(d),
        _ => None,
    };
    let segs = segments(input.tariffs, &period)?;
    let latest = match segs.last() {
        Some((t, _)) => *t,
        None => return Err(BillingError::NoTariffs),
    };
    let metered = matches!(input.metering, Metering::Metered(_));
    let estimated = input.estimated && metered;

    // Each version's charges for the whole consumption.
    let mut billed_m3 = Decimal::ZERO;
    let mut per_version = Vec::new();
    for (t, days) in &segs {
        let charged = match service_days {
            Some(sd) => {
                let factor =
                    (Decimal::from(sd) / Decimal::from(t.nominal_days())).min(Decimal::ONE);
                t.prorated(factor)
            }
            None => (*t).clone(),
        };
        let (billed, parts) = version_parts(&charged, input.metering, input.programs);
        billed_m3 = billed;
        per_version.push((*t, *days, parts));
    }

    let mut lines = Vec::new();
    for key in KEYS {
        let present: Vec<(&Tariff, u32, &Part)> = per_version
            .iter()
            .filter_map(|(t, d, parts)| {
                parts
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, p)| (*t, *d, p))
            })
            .collect();
        let Some((_, _, last)) = present.last() else {
            continue;
        };
        let (amount, unit_price, mut steps) = if segs.len() == 1 {
            (last.amount, last.unit_price, last.steps.clone())
        } else {
            let mut total = Money::ZERO;
            let mut rows = Vec::new();
            for (t, d, p) in &present {
                let share = Money::from_decimal_rounded(
                    p.amount.amount() * Decimal::from(*d) / Decimal::from(period_days),
                );
                total += share;
                rows.push(step(
                    format!(
                        "Tarifa «{}»: {} de {} días de {} (cargo del periodo completo)",
                        t.name,
                        d,
                        period_days,
                        p.amount.format_mxn()
                    ),
                    share,
                ));
            }
            (total, None, rows)
        };
        if amount.is_zero() && key != Key::Water {
            continue;
        }
        let mut description = last.description.clone();
        if key == Key::Water {
            if !metered {
                description.push_str(" (cuota fija)");
            } else if estimated {
                description.push_str(" (consumo estimado)");
            }
            if let Some(sd) = service_days {
                description.push_str(&format!(" — {sd} días de servicio"));
                steps.insert(
                    0,
                    step(
                        format!(
                            "Servicio de {sd} de {period_days} días: cuota base, límites de bloques, mínimo y cuota fija proporcionales a {sd} de {} días",
                            latest.nominal_days()
                        ),
                        Money::ZERO,
                    ),
                );
            }
        }
        lines.push(make_line(
            LineSpec {
                concept: key.concept(),
                description,
                quantity: last.quantity,
                unit: last.unit,
                unit_price,
                amount,
                fiscal: key.fiscal_concept(),
                estimated,
                steps,
            },
            latest,
        ));
    }

    if let Some(r) = &latest.recargos
        && input.overdue_balance > Money::ZERO
    {
        let amount = percent_of(input.overdue_balance, r.monthly_percent);
        if !amount.is_zero() {
            lines.push(make_line(
                LineSpec {
                    concept: Concept::Recargos,
                    description: "Recargos por adeudo vencido".to_owned(),
                    quantity: Decimal::ONE,
                    unit: SERVICIO,
                    unit_price: None,
                    amount,
                    fiscal: Concept::Recargos,
                    estimated: false,
                    steps: vec![step(
                        format!(
                            "{} mensual sobre el adeudo vencido de {}",
                            pct(r.monthly_percent),
                            input.overdue_balance.format_mxn()
                        ),
                        amount,
                    )],
                },
                latest,
            ));
        }
    }

    for fee in input.fees {
        let price = latest.fee(*fee).ok_or_else(|| BillingError::MissingFee {
            tariff: latest.name.clone(),
            fee: *fee,
        })?;
        let amount = Money::from_decimal_rounded(price);
        if amount.is_zero() {
            continue;
        }
        let concept = fee.concept();
        let description = match fee {
            FeeKind::Reconexion => "Reconexión del servicio",
            FeeKind::Multa => "Multa",
        };
        lines.push(make_line(
            LineSpec {
                concept,
                description: description.to_owned(),
                quantity: Decimal::ONE,
                unit: SERVICIO,
                unit_price: None,
                amount,
                fiscal: concept,
                estimated: false,
                steps: vec![step(
                    format!(
                        "Cuota de {} según la tarifa «{}»",
                        fee.label_es(),
                        latest.name
                    ),
                    amount,
                )],
            },
            latest,
        ));
    }

    let subtotal: Money = lines.iter().map(|l| l.amount).sum();
    let tax: Money = lines.iter().map(|l| l.tax_amount).sum();
    Ok(Bill {
        period,
        billed_m3,
        estimated,
        lines,
        subtotal,
        tax,
        total: subtotal + tax,
        tariffs: segs.iter().map(|(t, _)| t.name.clone()).collect(),
    })
}
