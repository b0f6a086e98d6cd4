//! Deterministic synthetic utility for SUPRA Water (`supra seed`).
//!
//! Pure data generation: [`generate`] returns plain structs and another crate
//! stores them. The same [`SeedParams`] give identical output on every
//! platform: all randomness comes from `ChaCha8Rng` streams seeded from the
//! seed, drawn through integer-only helpers, and nothing stored is a float
//! (money in centavos, volumes in litres).

mod data;
mod ids;
mod rng;

pub use ids::{curp_check_digit, rfc_check_digit};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use data::{MAKES, SECTORS};
use rng::{Permutation, Rng};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedParams {
    /// Number of contracts (one toma, address and meter each).
    pub contracts: usize,
    pub seed: u64,
    /// Months of reading history (default 24).
    pub months: u32,
    /// Last billing period `(year, month)`, inclusive.
    pub end_period: (i32, u32),
}

impl SeedParams {
    pub fn new(contracts: usize, seed: u64) -> Self {
        SeedParams {
            contracts,
            seed,
            months: 24,
            end_period: (2026, 10),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Utility {
    pub tenant: Tenant,
    pub sectors: Vec<Sector>,
    pub persons: Vec<Person>,
    pub addresses: Vec<Address>,
    pub tomas: Vec<Toma>,
    pub contracts: Vec<Contract>,
    pub meters: Vec<Meter>,
    /// Sorted by (meter index, period).
    pub readings: Vec<Reading>,
    /// Debt migrated from the legacy system.
    pub opening_balances: Vec<OpeningBalance>,
    pub staff: Vec<StaffUser>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub slug: &'static str,
    pub name: &'static str,
    pub short_name: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sector {
    pub code: String,
    pub name: String,
    pub municipio: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// Uppercase, with accents and Ñ, as utilities store titulares.
    pub full_name: String,
    pub given_names: String,
    pub surname1: String,
    pub surname2: String,
    /// 10 national digits.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub rfc: Option<String>,
    pub curp: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub street: String,
    pub ext_number: String,
    pub int_number: Option<String>,
    pub colonia: String,
    pub municipio: &'static str,
    pub cp: String,
    /// Index into `Utility::sectors`.
    pub sector: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toma {
    /// Index into `Utility::addresses`.
    pub address: usize,
    /// "domiciliaria" | "comercial" | "industrial"
    pub kind: &'static str,
    pub diameter_mm: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    /// 9 digits, unique.
    pub number: String,
    /// Index into `Utility::persons`.
    pub person: usize,
    /// Index into `Utility::tomas`.
    pub toma: usize,
    /// "domestico" | "comercial" | "industrial" | "gobierno" | "mixto"
    pub use_type: &'static str,
    /// "popular" | "economica" | "media" | "residencial" | "general"
    pub tariff_class: &'static str,
    /// "activo" | "suspendido" | "cortado" | "baja"
    pub status: &'static str,
    pub start_date: NaiveDate,
    /// Pensionado / INAPAM discount.
    pub vulnerable: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Meter {
    /// Index into `Utility::contracts`.
    pub contract: usize,
    pub serial: String,
    pub make: &'static str,
    pub model: &'static str,
    pub diameter_mm: u16,
    /// Register digits (m3): 4, 5 or 6.
    pub digits: u8,
    /// 1, or 10 for some big industrial meters.
    pub multiplier: u32,
    pub installed_on: NaiveDate,
    /// LoRaWAN telemetry.
    pub smart: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Index into `Utility::meters`.
    pub meter: usize,
    /// Billing period (year, month).
    pub period: (i32, u32),
    pub read_at: DateTime<Utc>,
    /// Register value in litres (register m3 × 1000), wrapped by rollover:
    /// `0 <= value < 10^digits * 1000`.
    pub value_litres: i64,
    /// "lecturista" | "telemetria" | "ciudadano" | "estimada"
    pub source: &'static str,
    /// "valida" | "estimada" | "sin_acceso" | "medidor_danado"
    pub quality: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpeningBalance {
    /// Index into `Utility::contracts`.
    pub contract: usize,
    /// Positive = the customer owes.
    pub centavos: i64,
    pub as_of: NaiveDate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaffUser {
    pub email: String,
    pub full_name: String,
    /// "admin" | "facturacion" | "cajero" | "atencion" | "campo" | "auditor"
    pub role: &'static str,
}

const TENANT: Tenant = Tenant {
    slug: "cea-qro",
    name: "Comisión Estatal de Aguas de Querétaro",
    short_name: "CEA Querétaro",
};

const USE_TYPES: &[(&str, u32)] = &[
    ("domestico", 880),
    ("comercial", 80),
    ("industrial", 10),
    ("gobierno", 15),
    ("mixto", 15),
];

const TARIFFS: &[(&str, u32)] = &[
    ("popular", 20),
    ("economica", 35),
    ("media", 35),
    ("residencial", 10),
];

const STATUSES: &[(&str, u32)] = &[
    ("activo", 960),
    ("suspendido", 25),
    ("cortado", 10),
    ("baja", 5),
];

// RNG streams: one per phase, so that phases do not disturb each other.
const STREAM_FLAGS: u64 = 1;
const STREAM_ENTITIES: u64 = 2;
const STREAM_READINGS: u64 = 3;
const STREAM_DEBT: u64 = 4;

/// Contracts that get a leak / a meter near its register maximum: 0.5% each,
/// at least one each when there is room.
#[derive(Clone, Copy, PartialEq)]
enum Special {
    None,
    Leak,
    Rollover,
}

/// Periods as a single month counter: `year * 12 + (month - 1)`.
fn pidx(y: i32, m: u32) -> i32 {
    y * 12 + m as i32 - 1
}

fn period_of(p: i32) -> (i32, u32) {
    (p.div_euclid(12), p.rem_euclid(12) as u32 + 1)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid calendar date")
}

fn last_day_of(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = period_of(pidx(y, m) + 1);
    ymd(ny, nm, 1).pred_opt().expect("date in range")
}

fn days(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

fn from_days(n: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(n as i32).expect("date in range")
}

fn date_between(rng: &mut Rng, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
    if hi <= lo {
        return lo;
    }
    from_days(rng.range_i64(days(lo), days(hi)))
}

fn years_before(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_sub_months(chrono::Months::new(12 * years))
        .expect("date in range")
}

/// Generate the whole synthetic utility.
///
/// Panics if `params.contracts > 10_000_000` (meter serials have 7 digits)
/// or if `end_period` is not a valid month.
pub fn generate(params: &SeedParams) -> Utility {
    let n = params.contracts;
    assert!(n <= 10_000_000, "at most 10,000,000 contracts");
    let (end_y, end_m) = params.end_period;
    assert!((1..=12).contains(&end_m), "end_period month must be 1..=12");
    let months = params.months.max(1) as i32;
    let end_pi = pidx(end_y, end_m);
    let start_pi = end_pi - months + 1;
    let (ws_y, ws_m) = period_of(start_pi);
    let window_start = ymd(ws_y, ws_m, 1);
    let end_date = last_day_of(end_y, end_m);

    let specials = choose_specials(params.seed, n);
    let number_perm = Permutation::new(params.seed, 0xC0, 14, 100_000_000);
    let serial_perm = Permutation::new(params.seed, 0x5E, 12, 10_000_000);

    let sectors: Vec<Sector> = SECTORS
        .iter()
        .enumerate()
        .map(|(i, s)| Sector {
            code: format!("S-{:02}", i + 1),
            name: s.name.to_string(),
            municipio: s.municipio,
        })
        .collect();
    let sector_weights: Vec<u32> = SECTORS.iter().map(|s| s.weight).collect();

    let mut ent = Rng::new(params.seed, STREAM_ENTITIES);
    let mut rd = Rng::new(params.seed, STREAM_READINGS);

    let mut persons: Vec<Person> = Vec::with_capacity(n);
    let mut addresses: Vec<Address> = Vec::with_capacity(n);
    let mut tomas: Vec<Toma> = Vec::with_capacity(n);
    let mut contracts: Vec<Contract> = Vec::with_capacity(n);
    let mut meters: Vec<Meter> = Vec::with_capacity(n);
    let mut readings: Vec<Reading> = Vec::with_capacity(n * months as usize);
    // Scratch buffer: register advance (litres) per period.
    let mut adv: Vec<i64> = Vec::with_capacity(months as usize);

    // One titular is always a NÚÑEZ (search demos rely on it).
    let nunez_idx = n.min(12).saturating_sub(1);

    for (i, &special) in specials.iter().enumerate() {
        let forced = special != Special::None;

        // --- contract attributes ---
        let use_type = *ent.weighted(USE_TYPES);
        let tariff_class = if use_type == "domestico" {
            *ent.weighted(TARIFFS)
        } else {
            "general"
        };
        let status = if forced {
            "activo"
        } else {
            *ent.weighted(STATUSES)
        };
        let vulnerable = use_type == "domestico" && ent.per_mille(68);

        // --- titular ---
        let person = if i == nunez_idx {
            persons.push(gen_person(&mut ent, true));
            persons.len() - 1
        } else if !persons.is_empty() && ent.per_mille(30) {
            // Some titulares hold several contracts.
            ent.below64(persons.len() as u64) as usize
        } else {
            persons.push(gen_person(&mut ent, false));
            persons.len() - 1
        };

        // --- address and toma ---
        let sector = ent.weighted_index(&sector_weights);
        addresses.push(gen_address(&mut ent, sector, use_type));
        let (kind, diameter_mm) = toma_kind(&mut ent, use_type);
        tomas.push(Toma {
            address: addresses.len() - 1,
            kind,
            diameter_mm,
        });

        // --- dates ---
        let start_date = if !forced && ent.per_mille(80) {
            // New connection during the reading window.
            date_between(&mut ent, window_start, end_date)
        } else {
            // Older contract, skewed towards recent years (city growth).
            let lo = days(ymd(1980, 1, 1));
            let hi = days(window_start) - if forced { 400 } else { 1 };
            let a = ent.range_i64(lo, hi);
            let b = ent.range_i64(lo, hi);
            from_days(a.max(b))
        };

        // --- meter ---
        let smart = ent.per_mille(30) && special != Special::Rollover;
        let make_weights: Vec<u32> = MAKES
            .iter()
            .map(|m| {
                if smart && m.smart_model.is_none() {
                    0
                } else {
                    m.weight
                }
            })
            .collect();
        let mk = &MAKES[ent.weighted_index(&make_weights)];
        let model = match (smart, mk.smart_model) {
            (true, Some(sm)) => sm,
            _ if diameter_mm >= 25 => mk.large_model,
            _ => mk.small_model,
        };
        let last_install = if forced {
            window_start.pred_opt().expect("date in range")
        } else {
            end_date
        };
        let installed_on = if smart {
            let lo = start_date.max(ymd(2021, 1, 1));
            date_between(&mut ent, lo, last_install.max(lo))
        } else if start_date >= years_before(window_start, 10) {
            let d = start_date + Days::new(u64::from(ent.below(15)));
            d.min(last_install.max(start_date))
        } else if !forced && ent.per_mille(50) {
            // Meter replaced during the window.
            date_between(&mut ent, window_start, end_date)
        } else {
            date_between(
                &mut ent,
                years_before(window_start, 10),
                window_start.pred_opt().expect("date in range"),
            )
        };
        let mut digits: u8 = if use_type == "industrial" {
            6
        } else if diameter_mm >= 25 || use_type != "domestico" {
            if ent.per_mille(700) { 5 } else { 6 }
        } else {
            match ent.below(100) {
                0..=11 => 4,
                12..=94 => 5,
                _ => 6,
            }
        };
        let multiplier: u32 = if use_type == "industrial" && diameter_mm >= 38 && ent.per_mille(500)
        {
            10
        } else {
            1
        };

        let c_idx = contracts.len();
        contracts.push(Contract {
            number: format!("1{:08}", number_perm.apply(c_idx as u64)),
            person,
            toma: tomas.len() - 1,
            use_type,
            tariff_class,
            status,
            start_date,
            vulnerable,
        });

        // --- consumption series ---
        let base = base_consumption(&mut rd, use_type, tariff_class, special);
        let install_pi = pidx(installed_on.year(), installed_on.month());
        let first_pi = start_pi.max(install_pi + 1);
        let mut last_pi = end_pi;
        let mut cut_from = i32::MAX; // cortado: no consumption from here on
        let mut restrict_from = i32::MAX; // suspendido: restricted supply
        match status {
            "baja" if first_pi <= end_pi => {
                last_pi = rd.range_i64(i64::from(first_pi), i64::from(end_pi)) as i32 - 1;
            }
            "cortado" if first_pi <= end_pi => {
                cut_from = rd.range_i64(i64::from(first_pi), i64::from(end_pi)) as i32;
            }
            "suspendido" if first_pi <= end_pi => {
                restrict_from = rd.range_i64(i64::from(first_pi), i64::from(end_pi)) as i32;
            }
            _ => {}
        }
        let n_read = (last_pi - first_pi + 1).max(0) as usize;
        let (leak_from, leak_pct) = if special == Special::Leak && n_read >= 8 {
            let from = first_pi + rd.range(4, n_read as u32 - 4) as i32;
            (from, i64::from(rd.range(200, 400)))
        } else {
            (i32::MAX, 100)
        };
        adv.clear();
        let mult = i64::from(multiplier);
        let mut carry = 0i64;
        for p in first_pi..=last_pi {
            let (_, m) = period_of(p);
            let mut litres =
                base * data::SEASON[m as usize - 1] * i64::from(rd.range(85, 115)) / 10_000;
            if p >= leak_from {
                litres = litres * leak_pct / 100;
            }
            if p >= cut_from {
                litres = 0;
            } else if p >= restrict_from {
                litres = litres * 30 / 100;
            }
            carry += litres;
            adv.push(carry / mult);
            carry %= mult;
        }
        let total: i64 = adv.iter().sum();
        let max_of = |d: u8| 10i64.pow(u32::from(d)) * 1000;
        while digits < 6 && total * 2 >= max_of(digits) {
            digits += 1;
        }
        let reg_max = max_of(digits);

        // --- register value before the first reading ---
        let start_value = if special == Special::Rollover && n_read >= 3 {
            // Wrap during the k-th reading (k in 2..=12).
            let k = rd.range(2, (n_read as u32).min(12)) as usize;
            let head: i64 = adv[..k].iter().sum();
            let last = adv[k - 1];
            reg_max - head
                + if last > 0 {
                    rd.range_i64(0, last - 1)
                } else {
                    0
                }
        } else if install_pi < start_pi {
            let hist_months = i64::from(start_pi - install_pi);
            let hist = (base / mult) * hist_months + rd.range_i64(0, 5_000);
            hist % (reg_max - total).max(1)
        } else {
            // Freshly installed meter: bench-test water only.
            rd.range_i64(0, 3_000)
        };

        // --- readings ---
        let meter_idx = meters.len();
        let route_day = rd.range(20, 26);
        let est_per_month = (base / mult).max(0);
        let mut true_value = start_value;
        let mut reported = start_value;
        for (k, p) in (first_pi..=last_pi).enumerate() {
            true_value += adv[k];
            let (y, m) = period_of(p);
            let (source, quality) = if smart {
                ("telemetria", "valida")
            } else {
                match rd.below(1000) {
                    0..=19 => ("lecturista", "sin_acceso"),
                    20..=34 => ("estimada", "estimada"),
                    35..=39 => ("lecturista", "medidor_danado"),
                    40..=59 => ("ciudadano", "valida"),
                    _ => ("lecturista", "valida"),
                }
            };
            reported = match quality {
                "valida" => true_value,
                // Estimates never overshoot the real register, so the next
                // real reading is never below them.
                "estimada" => reported + est_per_month.min(true_value - reported),
                _ => reported,
            };
            let day = route_day + rd.below(3);
            let read_at = ymd(y, m, day)
                .and_hms_opt(rd.range(14, 22), rd.below(60), rd.below(60))
                .expect("valid time")
                .and_utc();
            readings.push(Reading {
                meter: meter_idx,
                period: (y, m),
                read_at,
                value_litres: reported % reg_max,
                source,
                quality,
            });
        }

        meters.push(Meter {
            contract: c_idx,
            serial: format!(
                "{}-{:02}-{:07}",
                mk.prefix,
                installed_on.year() % 100,
                serial_perm.apply(meter_idx as u64)
            ),
            make: mk.make,
            model,
            diameter_mm,
            digits,
            multiplier,
            installed_on,
            smart,
        });
    }

    let opening_balances = gen_debt(params.seed, &contracts, end_date);

    Utility {
        tenant: TENANT,
        sectors,
        persons,
        addresses,
        tomas,
        contracts,
        meters,
        readings,
        opening_balances,
        staff: staff(),
    }
}

/// Pick exactly ceil(0.5%) leak contracts and as many rollover meters
/// (disjoint), independent of the other random draws.
fn choose_specials(seed: u64, n: usize) -> Vec<Special> {
    let mut out = vec![Special::None; n];
    if n == 0 {
        return out;
    }
    let k = n.div_ceil(200);
    let mut rng = Rng::new(seed, STREAM_FLAGS);
    for kind in [Special::Leak, Special::Rollover] {
        let mut placed = 0;
        let mut tries = 0;
        while placed < k && tries < 100 * k + 100 {
            tries += 1;
            let j = rng.below64(n as u64) as usize;
            if out[j] == Special::None {
                out[j] = kind;
                placed += 1;
            }
        }
    }
    out
}

/// Base monthly consumption in litres for one contract.
fn base_consumption(rng: &mut Rng, use_type: &str, tariff: &str, special: Special) -> i64 {
    let (lo, hi) = match (use_type, tariff) {
        ("domestico", _) if special == Special::None && rng.per_mille(20) => (0, 3),
        ("domestico", "popular") => (8, 16),
        ("domestico", "economica") => (11, 20),
        ("domestico", "media") => (14, 25),
        ("domestico", _) => (20, 45),
        ("comercial", _) => (20, 80),
        ("industrial", _) => (100, 2000),
        ("gobierno", _) => (40, 300),
        _ => (20, 45),
    };
    rng.range_i64(lo * 1000, hi * 1000)
}

fn toma_kind(rng: &mut Rng, use_type: &str) -> (&'static str, u16) {
    match use_type {
        "domestico" => ("domiciliaria", if rng.per_mille(950) { 13 } else { 19 }),
        "industrial" => (
            "industrial",
            *rng.weighted(&[(25u16, 30), (38, 40), (50, 30)]),
        ),
        "gobierno" => (
            "comercial",
            *rng.weighted(&[(19u16, 40), (25, 40), (38, 20)]),
        ),
        "mixto" => ("comercial", *rng.weighted(&[(13u16, 70), (19, 30)])),
        _ => (
            "comercial",
            *rng.weighted(&[(13u16, 50), (19, 30), (25, 20)]),
        ),
    }
}

fn gen_address(rng: &mut Rng, sector: usize, use_type: &str) -> Address {
    let def = &SECTORS[sector];
    let (colonia, cp) = *rng.pick(def.colonias);
    let prefix = *rng.weighted(data::STREET_PREFIXES);
    let name = *rng.pick(data::STREETS);
    let ext_number = match rng.below(100) {
        0 => "S/N".to_string(),
        1..=8 => format!(
            "{}-{}",
            rng.range(1, 400),
            ['A', 'B', 'C'][rng.below(3) as usize]
        ),
        _ => rng.range(1, 999).to_string(),
    };
    let int_number = if use_type == "comercial" && rng.per_mille(300) {
        Some(format!("LOCAL {}", rng.range(1, 20)))
    } else if rng.per_mille(100) {
        Some(match rng.below(3) {
            0 => ['A', 'B', 'C', 'D'][rng.below(4) as usize].to_string(),
            1 => rng.range(1, 12).to_string(),
            _ => format!("DEPTO {}", rng.range(1, 40)),
        })
    } else {
        None
    };
    Address {
        street: format!("{prefix} {name}"),
        ext_number,
        int_number,
        colonia: colonia.to_string(),
        municipio: def.municipio,
        cp: cp.to_string(),
        sector,
    }
}

fn gen_person(rng: &mut Rng, force_nunez: bool) -> Person {
    let female = rng.below(2) == 0;
    let given = *rng.pick(if female {
        data::FEMALE_GIVEN
    } else {
        data::MALE_GIVEN
    });
    let mut surname1 = *rng.weighted(data::SURNAMES);
    let surname2 = *rng.weighted(data::SURNAMES);
    if force_nunez {
        surname1 = "NÚÑEZ";
    }
    let birth = ymd(
        rng.range(1945, 2004) as i32,
        rng.range(1, 12),
        rng.range(1, 28),
    );

    let phone = rng.per_mille(900).then(|| {
        let area = *rng.weighted(data::AREA_CODES);
        format!("{area}{}{:06}", rng.range(2, 9), rng.below(1_000_000))
    });
    let email = rng.per_mille(400).then(|| {
        let g = ids::ascii_lower(given.split_whitespace().next().unwrap_or(given));
        let s1 = ids::ascii_lower(surname1);
        let s2 = ids::ascii_lower(surname2);
        let local = match rng.below(4) {
            0 => format!("{g}.{s1}{}", rng.range(1, 99)),
            1 => format!(
                "{}{s1}{}{}",
                &g[..1.min(g.len())],
                &s2[..1.min(s2.len())],
                rng.range(1, 999)
            ),
            2 => format!("{g}_{s1}{:02}", birth.year() % 100),
            _ => format!("{s1}.{g}{}", rng.range(1, 999)),
        };
        let domain = if rng.per_mille(600) {
            "correo.example"
        } else {
            "mail.example"
        };
        format!("{local}@{domain}")
    });
    let rfc = rng.per_mille(150).then(|| {
        const HOMO: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789";
        let h = [char::from(*rng.pick(HOMO)), char::from(*rng.pick(HOMO))];
        ids::make_rfc(surname1, surname2, given, birth, h)
    });
    let curp = rng.per_mille(300).then(|| {
        let state = *rng.weighted(data::CURP_STATES);
        let homoclave = if birth.year() < 2000 {
            char::from(b'0' + rng.below(10) as u8)
        } else {
            char::from(b'A' + rng.below(26) as u8)
        };
        ids::make_curp(surname1, surname2, given, birth, female, state, homoclave)
    });

    Person {
        full_name: format!("{given} {surname1} {surname2}"),
        given_names: given.to_string(),
        surname1: surname1.to_string(),
        surname2: surname2.to_string(),
        phone,
        email,
        rfc,
        curp,
    }
}

/// Migrated legacy debt: suspended and cut-off contracts always owe (and owe
/// more); about 2.6% of the others owe too (~6% overall).
fn gen_debt(seed: u64, contracts: &[Contract], as_of: NaiveDate) -> Vec<OpeningBalance> {
    let mut rng = Rng::new(seed, STREAM_DEBT);
    let mut out = Vec::new();
    for (i, c) in contracts.iter().enumerate() {
        let roll = rng.below(1000);
        let cents = rng.range_i64(0, 99);
        let centavos = match c.status {
            "suspendido" => rng.range_i64(3_000, 25_000) * 100 + cents,
            "cortado" => rng.range_i64(6_000, 24_999) * 100 + cents,
            _ if roll < 26 => {
                // Skewed towards small amounts: 150.00 .. 8,000.00 MXN.
                let u = i64::from(rng.below(1000));
                15_000 + u * u * 785_000 / 1_000_000 + cents
            }
            _ => continue,
        };
        out.push(OpeningBalance {
            contract: i,
            centavos,
            as_of,
        });
    }
    out
}

fn staff() -> Vec<StaffUser> {
    [
        ("admin", "Alejandra Reséndiz Olvera"),
        ("facturacion", "José Luis Ugalde Martínez"),
        ("cajero", "María Fernanda Peña Hernández"),
        ("atencion", "Rocío Ibáñez Gómez"),
        ("campo", "Martín Feregrino Trejo"),
        ("auditor", "Héctor Muñoz Bárcenas"),
    ]
    .into_iter()
    .map(|(role, name)| StaffUser {
        email: format!("{role}@{}.example", TENANT.slug),
        full_name: name.to_string(),
        role,
    })
    .collect()
}

/// Logins to print for the demo: a few contracts with a phone on file, the
/// first one a "normal" active domestic contract without debt.
pub fn demo_logins(u: &Utility) -> Vec<(String, String)> {
    let mut owes = vec![false; u.contracts.len()];
    for b in &u.opening_balances {
        if let Some(o) = owes.get_mut(b.contract) {
            *o = true;
        }
    }
    let phone_of = |c: &Contract| u.persons.get(c.person).and_then(|p| p.phone.as_deref());
    type Pred<'a> = Box<dyn Fn(usize, &Contract) -> bool + 'a>;
    let wanted: Vec<Pred> = vec![
        Box::new(|i, c| {
            c.status == "activo"
                && c.use_type == "domestico"
                && matches!(c.tariff_class, "economica" | "media")
                && !c.vulnerable
                && !owes[i]
        }),
        Box::new(|i, c| c.status == "activo" && owes[i]),
        Box::new(|_, c| c.status == "activo" && c.use_type == "comercial"),
        Box::new(|_, c| c.status == "activo" && c.vulnerable),
        Box::new(|_, c| c.status == "suspendido"),
    ];
    let mut out: Vec<(String, String)> = Vec::new();
    for pred in &wanted {
        let found = u.contracts.iter().enumerate().find(|(i, c)| {
            phone_of(c).is_some() && pred(*i, c) && !out.iter().any(|(n, _)| *n == c.number)
        });
        if let Some((_, c)) = found
            && let Some(p) = phone_of(c)
        {
            out.push((c.number.clone(), mask_phone(p)));
        }
    }
    out
}

/// "4421234567" → "*** *** 45 67".
fn mask_phone(p: &str) -> String {
    let tail: Vec<char> = p.chars().rev().take(4).collect();
    let d = |i: usize| tail.get(i).copied().unwrap_or('*');
    format!("*** *** {}{} {}{}", d(3), d(2), d(1), d(0))
}

#[cfg(test)]
mod tests;
