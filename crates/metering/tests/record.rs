//! Readings into real databases (SQLite and PostgreSQL): duplicates and replays change
//! nothing, shuffled delivery gives the aggregates of in-order delivery, rollover at the
//! register's digit limit, the future refused, ChirpStack uplinks from unknown devices
//! quarantined once.

#[macro_use]
mod support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use metering::uplink::{self, Fate};
use metering::{Incoming, Outcome, Source, record};

use support::Fixture;

/// A new 5-digit ½" meter on the fixture's contract.
async fn new_meter(f: &Fixture, serial: &str) -> i64 {
    let mut tx = f.db.write(f.tenant).await.expect("tx");
    let sql = "INSERT INTO meters (tenant_id, contract_id, serial, make, model, diameter_mm,
        digits, multiplier, installed_on, smart, active)
        VALUES ($1, $2, $3, 'Prueba', 'P1', 15, 5, 1, $4, TRUE, TRUE) RETURNING id";
    let on = NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
    let id: i64 = match tx.tx_mut() {
        db::Tx::Sqlite(c) => sqlx::query_scalar(sql)
            .bind(f.tenant.0)
            .bind(f.contract_id)
            .bind(serial)
            .bind(on)
            .fetch_one(&mut **c)
            .await
            .expect("meter"),
        db::Tx::Postgres(c) => sqlx::query_scalar(sql)
            .bind(f.tenant.0)
            .bind(f.contract_id)
            .bind(serial)
            .bind(on)
            .fetch_one(&mut **c)
            .await
            .expect("meter"),
    };
    tx.commit().await.expect("commit");
    id
}

/// Local (Mexico City, UTC−6) 2027-05-`day` `hour`:00.
fn local(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 5, day, 0, 0, 0)
        .single()
        .expect("time")
        + Duration::hours(i64::from(hour) + 6)
}

fn now() -> DateTime<Utc> {
    local(31, 12)
}

fn reading(meter_id: i64, at: DateTime<Utc>, litres: u64) -> Incoming {
    Incoming {
        meter_id,
        at,
        litres: Some(litres),
        alarms: 0,
        observation: None,
    }
}

async fn store(f: &Fixture, items: &[Incoming]) -> Vec<Outcome> {
    let mut tx = f.db.write(f.tenant).await.expect("tx");
    let out = record(&mut tx, Source::Telemetria, items, now())
        .await
        .expect("record");
    tx.commit().await.expect("commit");
    out
}

async fn daily(f: &Fixture, meter: i64) -> Vec<(NaiveDate, i64, i64, Option<i64>)> {
    let mut tx = f.db.read(f.tenant).await.expect("tx");
    let from = NaiveDate::from_ymd_opt(2027, 1, 1).expect("d");
    let to = NaiveDate::from_ymd_opt(2027, 12, 31).expect("d");
    db::metering::daily(&mut tx, meter, from, to)
        .await
        .expect("daily")
        .into_iter()
        .map(|d| (d.day, d.litres, d.readings, d.night_min_lph))
        .collect()
}

async fn periods(f: &Fixture, meter: i64) -> Vec<(i32, i64, i64, i64)> {
    let mut tx = f.db.read(f.tenant).await.expect("tx");
    db::metering::periods(&mut tx, meter, 202701, 202712)
        .await
        .expect("periods")
        .into_iter()
        .map(|p| (p.period, p.litres, p.readings, p.last_litres))
        .collect()
}

async fn count_readings(f: &Fixture, meter: i64) -> usize {
    let mut tx = f.db.read(f.tenant).await.expect("tx");
    db::metering::readings_of(&mut tx, meter, 10_000)
        .await
        .expect("readings")
        .len()
}

/// Hourly readings for three days, 10 l/h at night and 40 l/h by day.
fn three_days(meter: i64) -> Vec<Incoming> {
    let mut v = Vec::new();
    let mut litres = 1_000u64;
    for day in 10..13 {
        for hour in 0..24 {
            v.push(reading(meter, local(day, hour), litres));
            litres += if (1..6).contains(&hour) { 10 } else { 40 };
        }
    }
    v
}

both!(duplicates_change_nothing, duplicates_change_nothing_body);
async fn duplicates_change_nothing_body(f: Fixture) {
    let m = new_meter(&f, "DUP-1").await;
    let batch = three_days(m);
    let first = store(&f, &batch).await;
    assert!(
        first
            .iter()
            .all(|o| matches!(o, Outcome::Accepted { quality: "valida" }))
    );
    let before = (daily(&f, m).await, periods(&f, m).await);
    assert_eq!(count_readings(&f, m).await, 72);

    // Replay, and a batch that repeats itself: all duplicates, aggregates unchanged.
    let again = store(&f, &batch).await;
    assert!(again.iter().all(|o| *o == Outcome::Duplicate), "{again:?}");
    let twice = [batch[5].clone(), batch[5].clone()];
    assert_eq!(
        store(&f, &twice).await,
        vec![Outcome::Duplicate, Outcome::Duplicate]
    );
    assert_eq!((daily(&f, m).await, periods(&f, m).await), before);
    assert_eq!(count_readings(&f, m).await, 72);

    // Day 10's first reading starts the chain: 23 intervals; days 11 and 12 have 24.
    let d = daily(&f, m).await;
    assert_eq!(d.len(), 3);
    // Intervals ending 01:00..05:00 carry 10 l (the hour before them was a night hour).
    let day11: i64 = (0..24)
        .map(|h: u32| {
            if (1..6).contains(&((h + 23) % 24)) {
                10
            } else {
                40
            }
        })
        .sum();
    assert_eq!(d[1].1, day11);
    assert_eq!(d[1].2, 24);
    assert_eq!(d[1].3, Some(10), "night minimum of day 11");
}

both!(reordering_gives_the_same_aggregates, reordering_body);
async fn reordering_body(f: Fixture) {
    let a = new_meter(&f, "ORD-A").await;
    let b = new_meter(&f, "ORD-B").await;
    store(&f, &three_days(a)).await;

    // Meter B gets the same readings shuffled, in small batches.
    let mut shuffled = three_days(b);
    let n = shuffled.len();
    for i in 0..n {
        shuffled.swap(i, (i * 37 + 11) % n);
    }
    for chunk in shuffled.chunks(7) {
        let out = store(&f, chunk).await;
        assert!(
            out.iter().all(|o| matches!(o, Outcome::Accepted { .. })),
            "{out:?}"
        );
    }
    assert_eq!(daily(&f, a).await, daily(&f, b).await);
    assert_eq!(periods(&f, a).await, periods(&f, b).await);
    let total: i64 = daily(&f, b).await.iter().map(|d| d.1).sum();
    let last = three_days(b).last().and_then(|r| r.litres).expect("last") as i64;
    assert_eq!(
        total,
        last - 1_000,
        "consumption is last minus first reading"
    );
    assert_eq!(
        periods(&f, b).await[0].3,
        last,
        "period keeps its last reading"
    );
}

both!(rollover_and_refusals, rollover_body);
async fn rollover_body(f: Fixture) {
    let m = new_meter(&f, "ROLL-1").await;
    // A 5-digit register shows up to 99,999.999 m³, then starts again.
    let out = store(
        &f,
        &[
            reading(m, local(20, 8), 99_999_900),
            reading(m, local(20, 9), 300),
        ],
    )
    .await;
    assert_eq!(out[1], Outcome::Accepted { quality: "vuelta" });
    let d = daily(&f, m).await;
    assert_eq!(d[0].1, 400, "100 l before the limit + 300 after");

    // The register cannot show 100,000 m³; the future is refused; both are explained.
    let bad = store(
        &f,
        &[
            reading(m, local(20, 10), 100_000_000),
            reading(m, now() + Duration::hours(2), 500),
        ],
    )
    .await;
    assert!(
        matches!(&bad[0], Outcome::Rejected { field: "lectura", message } if message.contains("99999"))
    );
    assert!(
        matches!(&bad[1], Outcome::Rejected { field: "fecha", message } if message.contains("futuro"))
    );

    // Going back without a plausible wrap is reverse flow: kept, flagged, not counted.
    let back = store(&f, &[reading(m, local(20, 11), 250)]).await;
    assert_eq!(back[0], Outcome::Accepted { quality: "reverso" });
    assert_eq!(daily(&f, m).await[0].1, 400);
    assert_eq!(count_readings(&f, m).await, 3);

    // An unknown meter is refused with a reason.
    let unknown = store(&f, &[reading(999_999, local(20, 8), 1)]).await;
    assert!(matches!(
        &unknown[0],
        Outcome::Rejected {
            field: "medidor",
            ..
        }
    ));
}

both!(rebuild_matches_incremental, rebuild_body);
async fn rebuild_body(f: Fixture) {
    // Incremental aggregates after shuffled delivery, a rollover and reverse flow…
    let m = new_meter(&f, "REB-1").await;
    let mut items = three_days(m);
    let n = items.len();
    for i in 0..n {
        items.swap(i, (i * 29 + 5) % n);
    }
    for chunk in items.chunks(9) {
        store(&f, chunk).await;
    }
    store(
        &f,
        &[
            reading(m, local(20, 8), 99_999_900),
            reading(m, local(20, 9), 300),
            reading(m, local(20, 11), 250),
        ],
    )
    .await;
    let incremental = (daily(&f, m).await, periods(&f, m).await);
    assert!(incremental.1.iter().any(|p| p.1 > 0));

    // …are exactly what a rebuild from the stored readings gives.
    let mut tx = f.db.write(f.tenant).await.expect("tx");
    metering::record::rebuild_aggregates(&mut tx, &[m], now())
        .await
        .expect("rebuild");
    tx.commit().await.expect("commit");
    assert_eq!((daily(&f, m).await, periods(&f, m).await), incremental);

    // Bulk-loaded (seeded) history gets its periods; rebuilding twice changes nothing.
    let seeded: i64 = {
        let mut tx = f.db.read(f.tenant).await.expect("tx");
        raw!(
            tx,
            query_scalar(
                "SELECT min(meter_id) FROM readings WHERE tenant_id = $1 AND quality = 'valida'
                 AND source <> 'telemetria'"
            ),
            &[f.tenant.0],
            fetch_one
        )
    };
    let seeded_periods = |f: &Fixture| {
        let (db, t) = (f.db.clone(), f.tenant);
        async move {
            let mut tx = db.read(t).await.expect("tx");
            db::metering::recent_periods(&mut tx, seeded, 100)
                .await
                .expect("periods")
                .into_iter()
                .map(|p| (p.period, p.litres, p.readings))
                .collect::<Vec<_>>()
        }
    };
    assert!(
        seeded_periods(&f).await.is_empty(),
        "the seed loads raw readings only"
    );
    let meters = metering::record::rebuild_all(&f.db, f.tenant, now())
        .await
        .expect("rebuild all");
    assert!(meters >= 5);
    let once = seeded_periods(&f).await;
    assert!(once.len() >= 6, "{once:?}");
    assert!(once.iter().any(|p| p.1 > 0), "{once:?}");
    metering::record::rebuild_all(&f.db, f.tenant, now())
        .await
        .expect("rebuild again");
    assert_eq!(seeded_periods(&f).await, once);
    assert_eq!((daily(&f, m).await, periods(&f, m).await), incremental);
}

fn up_event(dedup: &str, eui: &str, litres: u64, at: DateTime<Utc>) -> Vec<u8> {
    serde_json::json!({
        "deduplicationId": dedup,
        "time": at.to_rfc3339(),
        "deviceInfo": {"tenantId": "t", "applicationId": "app-1", "devEui": eui,
                       "deviceName": "medidor"},
        "fCnt": 7, "fPort": 1, "data": "",
        "object": {"volume_litres": litres, "leak": false}
    })
    .to_string()
    .into_bytes()
}

both!(uplinks_and_quarantine, uplinks_body);
async fn uplinks_body(f: Fixture) {
    let m = new_meter(&f, "LORA-1").await;
    {
        let mut tx = f.db.write(f.tenant).await.expect("tx");
        db::metering::upsert_device(&mut tx, "70b3d5e75e000001", m, now())
            .await
            .expect("device");
        tx.commit().await.expect("commit");
    }
    let known = up_event("d-1", "70b3d5e75e000001", 5_000, local(21, 3));
    let stranger = up_event("d-2", "70b3d5e75e0000ff", 7_000, local(21, 3));
    let garbage = b"{not json".to_vec();
    let events: Vec<&[u8]> = vec![&known, &stranger, &garbage];
    for round in 0..2 {
        let fates = uplink::ingest(&f.db, f.tenant, "mqtt", &events, now())
            .await
            .expect("ingest");
        let expect_first = if round == 0 {
            Fate::Recorded(Outcome::Accepted { quality: "valida" })
        } else {
            Fate::Recorded(Outcome::Duplicate)
        };
        assert_eq!(fates[0], expect_first);
        assert_eq!(
            fates[1],
            Fate::Quarantined("dispositivo no registrado".into())
        );
        assert!(matches!(&fates[2], Fate::Quarantined(_)));
    }
    let mut tx = f.db.read(f.tenant).await.expect("tx");
    let q = db::metering::open_quarantine(&mut tx, 50).await.expect("q");
    assert_eq!(q.len(), 2, "each quarantined once: {q:?}");
    assert!(
        q.iter()
            .any(|r| r.device == "70b3d5e75e0000ff" && r.payload.contains("d-2"))
    );
    drop(tx);
    assert_eq!(count_readings(&f, m).await, 1);
}
