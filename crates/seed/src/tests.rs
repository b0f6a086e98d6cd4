use super::*;
use chrono::Timelike;
use std::collections::BTreeSet;
use std::sync::OnceLock;

fn u2000() -> &'static Utility {
    static U: OnceLock<Utility> = OnceLock::new();
    U.get_or_init(|| generate(&SeedParams::new(2000, 20_261_031)))
}

fn reg_max(m: &Meter) -> i64 {
    10i64.pow(u32::from(m.digits)) * 1000
}

/// Readings grouped by meter (they are sorted by meter, then period).
fn by_meter(u: &Utility) -> Vec<&[Reading]> {
    let mut out: Vec<&[Reading]> = vec![&[]; u.meters.len()];
    let mut start = 0;
    while start < u.readings.len() {
        let m = u.readings[start].meter;
        let mut end = start;
        while end < u.readings.len() && u.readings[end].meter == m {
            end += 1;
        }
        out[m] = &u.readings[start..end];
        start = end;
    }
    out
}

#[test]
fn deterministic_for_same_params() {
    let p = SeedParams::new(500, 7);
    let a = generate(&p);
    let b = generate(&p);
    assert_eq!(a, b);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    let c = generate(&SeedParams::new(500, 8));
    assert_ne!(a.contracts, c.contracts);
    assert_ne!(a.readings, c.readings);
}

/// FNV-1a over a canonical, integer/text-only rendering of the output.
fn fingerprint(u: &Utility) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |s: &str| {
        for b in s.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for p in &u.persons {
        eat(&p.full_name);
        eat(p.phone.as_deref().unwrap_or("-"));
        eat(p.email.as_deref().unwrap_or("-"));
        eat(p.rfc.as_deref().unwrap_or("-"));
        eat(p.curp.as_deref().unwrap_or("-"));
    }
    for a in &u.addresses {
        eat(&format!(
            "{}|{}|{}|{}",
            a.street, a.ext_number, a.colonia, a.sector
        ));
    }
    for c in &u.contracts {
        eat(&format!(
            "{}|{}|{}|{}|{}|{}|{}",
            c.number, c.person, c.use_type, c.tariff_class, c.status, c.start_date, c.vulnerable
        ));
    }
    for m in &u.meters {
        eat(&format!(
            "{}|{}|{}|{}",
            m.serial, m.model, m.digits, m.installed_on
        ));
    }
    for r in &u.readings {
        eat(&format!(
            "{}|{}|{}|{}|{}|{}",
            r.meter,
            r.period.0 * 100 + r.period.1 as i32,
            r.read_at.timestamp(),
            r.value_litres,
            r.source,
            r.quality
        ));
    }
    for b in &u.opening_balances {
        eat(&format!("{}|{}", b.contract, b.centavos));
    }
    h
}

#[test]
fn stable_fingerprint() {
    // Pins the generated data so that the same (N, seed) stays byte-identical
    // across platforms and builds. A deliberate change to the catalogues or
    // the generator must update this constant.
    let u = generate(&SeedParams::new(200, 1));
    assert_eq!(
        fingerprint(&u),
        0x7128_b02b_6d41_2530,
        "fingerprint {:#018x}",
        fingerprint(&u)
    );
}

#[test]
fn counts_and_links() {
    let u = u2000();
    assert_eq!(u.contracts.len(), 2000);
    assert_eq!(u.meters.len(), 2000);
    assert_eq!(u.tomas.len(), 2000);
    assert_eq!(u.addresses.len(), 2000);
    assert!(
        u.persons.len() >= 1900 && u.persons.len() <= 2000,
        "{}",
        u.persons.len()
    );
    assert_eq!(u.sectors.len(), 12);
    for (i, m) in u.meters.iter().enumerate() {
        assert_eq!(m.contract, i);
        assert!([4, 5, 6].contains(&m.digits));
        assert!(m.multiplier == 1 || m.multiplier == 10);
        assert!(m.installed_on >= u.contracts[i].start_date);
    }
    for c in &u.contracts {
        assert!(c.person < u.persons.len());
        assert!(c.toma < u.tomas.len());
    }
    for t in &u.tomas {
        assert!(t.address < u.addresses.len());
    }
    let colonias: BTreeSet<&str> = u.addresses.iter().map(|a| a.colonia.as_str()).collect();
    assert!(colonias.len() >= 40, "{}", colonias.len());
    for a in &u.addresses {
        assert!(a.sector < u.sectors.len());
        assert_eq!(a.municipio, u.sectors[a.sector].municipio);
        let cp: u32 = a.cp.parse().expect("numeric cp");
        assert_eq!(a.cp.len(), 5);
        let ok = match a.municipio {
            "Querétaro" => (76000..=76249).contains(&cp),
            "Corregidora" => (76900..=76925).contains(&cp),
            "El Marqués" => (76240..=76250).contains(&cp),
            "San Juan del Río" => (76800..=76830).contains(&cp),
            "Huimilpan" => (76950..=76990).contains(&cp),
            other => panic!("unexpected municipio {other}"),
        };
        assert!(ok, "{} {}", a.municipio, a.cp);
    }
}

#[test]
fn identifiers_unique() {
    let u = u2000();
    let numbers: BTreeSet<&str> = u.contracts.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(numbers.len(), u.contracts.len());
    for n in &numbers {
        assert_eq!(n.len(), 9);
        assert!(n.starts_with('1') && n.bytes().all(|b| b.is_ascii_digit()));
    }
    // Not sequential-looking.
    let a: u64 = u.contracts[0].number.parse().expect("digits");
    let b: u64 = u.contracts[1].number.parse().expect("digits");
    assert!(a.abs_diff(b) > 1000);
    let serials: BTreeSet<&str> = u.meters.iter().map(|m| m.serial.as_str()).collect();
    assert_eq!(serials.len(), u.meters.len());
}

#[test]
fn persons_look_right() {
    let u = u2000();
    let mut phones = 0;
    let (mut rfcs, mut curps) = (0, 0);
    for p in &u.persons {
        assert_eq!(p.full_name, p.full_name.to_uppercase());
        assert_eq!(
            p.full_name,
            format!("{} {} {}", p.given_names, p.surname1, p.surname2)
        );
        if let Some(ph) = &p.phone {
            phones += 1;
            assert_eq!(ph.len(), 10);
            assert!(ph.bytes().all(|b| b.is_ascii_digit()));
            assert!(!ph.starts_with('0') && !ph.starts_with('1'));
        }
        if let Some(e) = &p.email {
            assert!(e.ends_with("@correo.example") || e.ends_with("@mail.example"));
            assert!(e.is_ascii() && *e == e.to_lowercase());
        }
        if let Some(r) = &p.rfc {
            rfcs += 1;
            assert_eq!(r.chars().count(), 13, "{r}");
            assert_eq!(rfc_check_digit(&r[..12]), r.chars().last().expect("13"));
        }
        if let Some(c) = &p.curp {
            curps += 1;
            assert_eq!(c.chars().count(), 18, "{c}");
            assert_eq!(curp_check_digit(&c[..17]), c.chars().last().expect("18"));
        }
    }
    let n = u.persons.len();
    assert!(phones * 100 > n * 85 && phones * 100 < n * 95);
    assert!(rfcs * 100 > n * 10 && rfcs * 100 < n * 20);
    assert!(curps * 100 > n * 25 && curps * 100 < n * 35);
}

#[test]
fn nunez_titular_exists_for_small_n() {
    for n in [1, 50, 51] {
        let u = generate(&SeedParams::new(n, 99));
        assert!(
            u.contracts
                .iter()
                .any(|c| u.persons[c.person].surname1 == "NÚÑEZ"),
            "n={n}"
        );
    }
}

#[test]
fn readings_in_range_and_monotonic() {
    let u = u2000();
    let groups = by_meter(u);
    let mut rollovers = 0;
    for w in u.readings.windows(2) {
        assert!((w[0].meter, w[0].period) < (w[1].meter, w[1].period));
    }
    for (mi, rs) in groups.iter().enumerate() {
        let m = &u.meters[mi];
        let max = reg_max(m);
        let mut wraps = 0;
        for r in rs.iter() {
            assert!(r.value_litres >= 0 && r.value_litres < max);
            let d = r.read_at.day();
            assert!((20..=28).contains(&d));
            assert!((14..=22).contains(&r.read_at.hour()));
            assert_eq!((r.read_at.year(), r.read_at.month()), r.period);
            if m.smart {
                assert_eq!(r.source, "telemetria");
            }
        }
        for w in rs.windows(2) {
            if w[1].value_litres < w[0].value_litres {
                wraps += 1;
                assert!(
                    rs[0].value_litres * 10 >= max * 8,
                    "meter {mi} wrapped but did not start near its maximum"
                );
            }
        }
        assert!(wraps <= 1);
        if wraps == 1 {
            rollovers += 1;
        }
        // Baja contracts stop being read before the end.
        if u.contracts[mi].status == "baja" {
            assert!(rs.last().is_none_or(|r| r.period != (2026, 10)));
        }
    }
    assert!(rollovers >= 1);
    // Active, long-standing meters have the full 24 months.
    let full = groups.iter().filter(|g| g.len() == 24).count();
    assert!(full * 100 > u.meters.len() * 75, "{full}");
    assert!(u.readings.len() > 2000 * 20);
}

#[test]
fn reading_quality_mix() {
    let u = u2000();
    let total = u.readings.len();
    let unread = u.readings.iter().filter(|r| r.quality != "valida").count();
    let citizen = u
        .readings
        .iter()
        .filter(|r| r.source == "ciudadano")
        .count();
    let tele = u
        .readings
        .iter()
        .filter(|r| r.source == "telemetria")
        .count();
    assert!(
        unread * 100 > total * 3 && unread * 100 < total * 5,
        "{unread}"
    );
    assert!(citizen * 100 > total && citizen * 100 < total * 3);
    assert!(tele > 0);
    for r in &u.readings {
        match r.quality {
            "estimada" => assert_eq!(r.source, "estimada"),
            "valida" => assert_ne!(r.source, "estimada"),
            _ => {}
        }
    }
}

#[test]
fn has_leak() {
    let u = u2000();
    let groups = by_meter(u);
    let leaks = groups
        .iter()
        .enumerate()
        .filter(|(mi, rs)| {
            if rs.len() < 12 {
                return false;
            }
            let max = reg_max(&u.meters[*mi]);
            let delta =
                |a: &Reading, b: &Reading| (b.value_litres - a.value_litres).rem_euclid(max);
            let n = rs.len();
            let valid = |i: usize| rs[i].quality == "valida";
            if !(valid(0) && valid(3) && valid(n - 4) && valid(n - 1)) {
                return false;
            }
            let head = delta(&rs[0], &rs[3]);
            let tail = delta(&rs[n - 4], &rs[n - 1]);
            head > 0 && tail * 10 >= head * 18
        })
        .count();
    // 0.5% leaks = 10 contracts; a few other meters may look alike.
    assert!((1..=20).contains(&leaks), "{leaks}");
}

#[test]
fn has_debtors() {
    let u = u2000();
    let n = u.opening_balances.len();
    assert!(n * 100 > 2000 * 4 && n * 100 < 2000 * 9, "{n}");
    let mut prev = None;
    for b in &u.opening_balances {
        assert!(b.centavos >= 15_000 && b.centavos <= 2_500_000);
        assert_eq!(
            b.as_of,
            NaiveDate::from_ymd_opt(2026, 10, 31).expect("date")
        );
        assert!(prev.is_none_or(|p| p < b.contract));
        prev = Some(b.contract);
    }
    for (i, c) in u.contracts.iter().enumerate() {
        if matches!(c.status, "suspendido" | "cortado") {
            assert!(u.opening_balances.iter().any(|b| b.contract == i));
        }
    }
}

#[test]
fn distributions_roughly_as_specified() {
    let u = u2000();
    let share = |f: &dyn Fn(&Contract) -> bool| {
        u.contracts.iter().filter(|c| f(c)).count() * 1000 / u.contracts.len()
    };
    let dom = share(&|c| c.use_type == "domestico");
    assert!((840..=920).contains(&dom), "{dom}");
    let com = share(&|c| c.use_type == "comercial");
    assert!((50..=110).contains(&com), "{com}");
    let act = share(&|c| c.status == "activo");
    assert!((940..=980).contains(&act), "{act}");
    let vul = share(&|c| c.vulnerable);
    assert!((40..=85).contains(&vul), "{vul}");
    let smart = u.meters.iter().filter(|m| m.smart).count();
    assert!(smart > 20 && smart < 110, "{smart}");
    for c in &u.contracts {
        if c.use_type == "domestico" {
            assert!(["popular", "economica", "media", "residencial"].contains(&c.tariff_class));
        } else {
            assert_eq!(c.tariff_class, "general");
        }
    }
    let qro = u
        .addresses
        .iter()
        .filter(|a| a.municipio == "Querétaro")
        .count();
    assert!(qro * 2 > u.addresses.len());
}

#[test]
fn staff_one_per_role() {
    let u = u2000();
    let roles: Vec<&str> = u.staff.iter().map(|s| s.role).collect();
    assert_eq!(
        roles,
        [
            "admin",
            "facturacion",
            "cajero",
            "atencion",
            "campo",
            "auditor"
        ]
    );
    assert_eq!(u.staff[0].email, "admin@cea-qro.example");
    assert_eq!(u.tenant.slug, "cea-qro");
}

#[test]
fn demo_logins_have_phones() {
    let u = u2000();
    let logins = demo_logins(u);
    assert!(logins.len() >= 3);
    let (num, masked) = &logins[0];
    let c = u
        .contracts
        .iter()
        .find(|c| c.number == *num)
        .expect("known contract");
    assert_eq!(c.use_type, "domestico");
    assert_eq!(c.status, "activo");
    let phone = u.persons[c.person].phone.as_ref().expect("phone");
    assert_eq!(
        *masked,
        format!("*** *** {} {}", &phone[6..8], &phone[8..10])
    );
}

#[test]
fn empty_and_tiny() {
    let u = generate(&SeedParams::new(0, 1));
    assert!(u.contracts.is_empty() && u.readings.is_empty());
    assert!(demo_logins(&u).is_empty());
    let u = generate(&SeedParams {
        contracts: 10,
        seed: 3,
        months: 3,
        end_period: (2025, 1),
    });
    assert_eq!(u.contracts.len(), 10);
    assert!(u.readings.iter().all(|r| r.period >= (2024, 11)));
}
