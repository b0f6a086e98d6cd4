//! Anomaly detection over real databases (SQLite and PostgreSQL), fed through
//! `metering::record`: a night leak found once (and a normal night pattern never), high
//! use against the average, a stuck meter only on an active contract, device alarms one
//! per kind and day, repeated runs adding nothing, and the staff's review actions.

#[macro_use]
mod support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use metering::anomalies::{self, Action, Kind, Settings, Status};
use metering::{Error, Incoming, Outcome, Source, record};

use support::Fixture;

/// A new 5-digit ½" meter on `contract_id`.
async fn new_meter(f: &Fixture, serial: &str, contract_id: i64, smart: bool) -> i64 {
    let mut tx = f.db.write(f.tenant).await.expect("tx");
    let sql = "INSERT INTO meters (tenant_id, contract_id, serial, make, model, diameter_mm,
        digits, multiplier, installed_on, smart, active)
        VALUES ($1, $2, $3, 'Prueba', 'P1', 15, 5, 1, $4, $5, TRUE) RETURNING id";
    let on = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let id: i64 = match tx.tx_mut() {
        db::Tx::Sqlite(c) => sqlx::query_scalar(sql)
            .bind(f.tenant.0)
            .bind(contract_id)
            .bind(serial)
            .bind(on)
            .bind(smart)
            .fetch_one(&mut **c)
            .await
            .expect("meter"),
        db::Tx::Postgres(c) => sqlx::query_scalar(sql)
            .bind(f.tenant.0)
            .bind(contract_id)
            .bind(serial)
            .bind(on)
            .bind(smart)
            .fetch_one(&mut **c)
            .await
            .expect("meter"),
    };
    tx.commit().await.expect("commit");
    id
}

/// Local (Mexico City, UTC−6) `y`-`m`-`d` `hour`:00.
fn local(y: i32, m: u32, d: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
        .single()
        .expect("time")
        + Duration::hours(i64::from(hour) + 6)
}

/// Local 20:00 of the last day of period `(y, m)`.
fn month_end(y: i32, m: u32) -> DateTime<Utc> {
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    }
    .expect("date");
    let last = next.pred_opt().expect("date");
    local(y, m, chrono::Datelike::day(&last), 20)
}

/// 2027-06-01 08:00 local: May is the last complete period.
fn now() -> DateTime<Utc> {
    local(2027, 6, 1, 8)
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

async fn store(f: &Fixture, source: Source, items: &[Incoming]) {
    store_at(f, source, items, now()).await;
}

async fn store_at(f: &Fixture, source: Source, items: &[Incoming], now: DateTime<Utc>) {
    let mut tx = f.db.write(f.tenant).await.expect("tx");
    let out = record(&mut tx, source, items, now).await.expect("record");
    tx.commit().await.expect("commit");
    assert!(
        out.iter().all(|o| matches!(o, Outcome::Accepted { .. })),
        "{out:?}"
    );
}

/// Dedupe keys of a meter's anomalies, sorted.
async fn keys(f: &Fixture, meter: i64) -> Vec<String> {
    let mut tx = f.db.read(f.tenant).await.expect("tx");
    raw!(
        tx,
        query_scalar(
            "SELECT dedupe_key FROM anomalies WHERE tenant_id = $1 AND meter_id = $2
             ORDER BY dedupe_key"
        ),
        &[f.tenant.0, meter],
        fetch_all
    )
}

async fn count_anomalies(f: &Fixture) -> i64 {
    let mut tx = f.db.read(f.tenant).await.expect("tx");
    raw!(
        tx,
        query_scalar("SELECT count(*) FROM anomalies WHERE tenant_id = $1"),
        &[f.tenant.0],
        fetch_one
    )
}

/// Hourly readings from local 2027-05-25 00:00 to 05-29 00:00; `rate(hour)` litres
/// flow in the hour that starts at `hour`.
fn four_days(meter: i64, rate: impl Fn(u32) -> u64) -> Vec<Incoming> {
    let mut v = Vec::new();
    let mut litres = 1_000u64;
    for day in 25..29 {
        for hour in 0..24 {
            v.push(reading(meter, local(2027, 5, day, hour), litres));
            litres += rate(hour);
        }
    }
    v.push(reading(meter, local(2027, 5, 29, 0), litres));
    v
}

both!(night_leak_found_once, night_leak_body);
async fn night_leak_body(f: Fixture) {
    let leak = new_meter(&f, "FUGA-1", f.contract_id, true).await;
    let normal = new_meter(&f, "NORMAL-1", f.contract_id, true).await;
    // Constant 15 l/h day and night; the other uses nothing between 01:00 and 06:00.
    store(&f, Source::Telemetria, &four_days(leak, |_| 15)).await;
    store(
        &f,
        Source::Telemetria,
        &four_days(normal, |h| if (1..6).contains(&h) { 0 } else { 40 }),
    )
    .await;

    let s = Settings::default();
    let first = anomalies::detect(&f.db, f.tenant, &s, now())
        .await
        .expect("detect");
    assert_eq!(first.count(Kind::FugaNocturna), 1, "{first:?}");
    assert_eq!(first.total(), 1, "{first:?}");
    assert!(first.meters >= 2);
    assert_eq!(
        keys(&f, leak).await,
        [format!("fuga_nocturna:{leak}:2027-05-25")]
    );
    assert!(keys(&f, normal).await.is_empty());

    // The staff queue and the customer's alert.
    let queue = anomalies::open_for_staff(&f.db, f.tenant, 50)
        .await
        .expect("queue");
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].meter_serial, "FUGA-1");
    assert_eq!(queue[0].kind, "fuga_nocturna");
    let alerts = anomalies::for_contract(&f.db, f.tenant, f.contract_id, now())
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, Kind::FugaNocturna);
    assert_eq!(alerts[0].status, Status::Abierta);
    assert!(!alerts[0].work_order);
    assert_eq!(
        alerts[0].detail,
        "Posible fuga: tu medidor registró agua toda la noche durante 4 noches seguidas \
         (mínimo 15 litros por hora)."
    );

    // Again, and a day later: nothing new.
    let again = anomalies::detect(&f.db, f.tenant, &s, now())
        .await
        .expect("detect");
    assert_eq!(again.total(), 0, "{again:?}");
    let later = anomalies::detect(&f.db, f.tenant, &s, now() + Duration::days(1))
        .await
        .expect("detect");
    assert_eq!(later.total(), 0, "{later:?}");
    assert_eq!(count_anomalies(&f).await, 1);

    // A stricter threshold is refused when not an allowed percentage.
    let bad = Settings {
        high_use_percent: 175,
        ..s
    };
    assert!(matches!(
        anomalies::detect(&f.db, f.tenant, &bad, now()).await,
        Err(Error::Invalid {
            field: "porcentaje_consumo",
            ..
        })
    ));
}

/// Readings at the end of each month from 2026-10, `used[i]` litres after the previous.
fn month_ends(meter: i64, start: (i32, u32), used: &[u64]) -> Vec<Incoming> {
    let (mut y, mut m) = start;
    let mut litres = 1_000u64;
    let mut v = vec![reading(meter, month_end(y, m), litres)];
    for u in used {
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        litres += u;
        v.push(reading(meter, month_end(y, m), litres));
    }
    v
}

both!(high_use_and_stuck_meters, periods_body);
async fn periods_body(f: Fixture) {
    // Other contract, suspended.
    let suspended: i64 = {
        let mut tx = f.db.write(f.tenant).await.expect("tx");
        let id: i64 = raw!(
            tx,
            query_scalar("SELECT max(id) FROM contracts WHERE tenant_id = $1"),
            &[f.tenant.0],
            fetch_one
        );
        let _: i64 = raw!(
            tx,
            query_scalar(
                "UPDATE contracts SET status = 'suspendido' WHERE tenant_id = $1 AND id = $2
                 RETURNING id"
            ),
            &[f.tenant.0, id],
            fetch_one
        );
        tx.commit().await.expect("commit");
        id
    };
    assert_ne!(suspended, f.contract_id);

    let high = new_meter(&f, "ALTO-1", f.contract_id, false).await;
    let steady = new_meter(&f, "PAREJO-1", f.contract_id, false).await;
    let stuck = new_meter(&f, "DETENIDO-1", f.contract_id, false).await;
    let stuck_suspended = new_meter(&f, "DETENIDO-2", suspended, false).await;
    // Six months at 18 m³, then 32 m³ in May; the steady one uses 20 m³ in May.
    let six = [18_000; 6];
    let mut used = six.to_vec();
    used.push(32_000);
    store(&f, Source::Lecturista, &month_ends(high, (2026, 10), &used)).await;
    used[6] = 20_000;
    store(
        &f,
        Source::Lecturista,
        &month_ends(steady, (2026, 10), &used),
    )
    .await;
    // 3 m³ in February, then the register stops.
    let stopped = [3_000, 0, 0, 0];
    for m in [stuck, stuck_suspended] {
        store(&f, Source::Lecturista, &month_ends(m, (2027, 1), &stopped)).await;
    }

    let s = Settings::default();
    let summary = anomalies::detect(&f.db, f.tenant, &s, now())
        .await
        .expect("detect");
    assert_eq!(summary.count(Kind::ConsumoAlto), 1, "{summary:?}");
    assert_eq!(summary.count(Kind::MedidorDetenido), 1, "{summary:?}");
    assert_eq!(summary.total(), 2, "{summary:?}");
    assert_eq!(
        keys(&f, high).await,
        [format!("consumo_alto:{high}:202705")]
    );
    assert!(keys(&f, steady).await.is_empty());
    assert_eq!(
        keys(&f, stuck).await,
        [format!("medidor_detenido:{stuck}:202705")]
    );
    assert!(keys(&f, stuck_suspended).await.is_empty());

    let alerts = anomalies::for_contract(&f.db, f.tenant, f.contract_id, now())
        .await
        .expect("alerts");
    let high_alert = alerts
        .iter()
        .find(|a| a.kind == Kind::ConsumoAlto)
        .expect("alert");
    assert_eq!(
        high_alert.detail,
        "Tu consumo de mayo de 2027 (32 m³) es 178 % de tu promedio (18 m³)."
    );

    // At 200 % nothing new either way; running again adds nothing.
    let double = Settings {
        high_use_percent: 200,
        ..s
    };
    let again = anomalies::detect(&f.db, f.tenant, &double, now())
        .await
        .expect("detect");
    assert_eq!(again.total(), 0, "{again:?}");
    // A month later the stuck meter's key moves on (June at zero too), but one is still
    // open: nothing new. Once staff have looked at it, the next one is raised.
    let july = now() + Duration::days(30);
    for m in [stuck, stuck_suspended] {
        store_at(
            &f,
            Source::Lecturista,
            &[reading(m, month_end(2027, 6), 4_000)],
            july,
        )
        .await;
    }
    let summary = anomalies::detect(&f.db, f.tenant, &s, july)
        .await
        .expect("detect");
    assert_eq!(summary.total(), 0, "{summary:?}");
    let stuck_id = anomalies::open_for_staff(&f.db, f.tenant, 50)
        .await
        .expect("queue")
        .into_iter()
        .find(|a| a.meter_id == stuck)
        .expect("open")
        .id;
    anomalies::review(
        &f.db,
        f.tenant,
        stuck_id,
        Action::Reviewed,
        "supervisor",
        july,
    )
    .await
    .expect("reviewed");
    let summary = anomalies::detect(&f.db, f.tenant, &s, july)
        .await
        .expect("detect");
    assert_eq!(summary.count(Kind::MedidorDetenido), 1, "{summary:?}");
    assert_eq!(
        keys(&f, stuck).await,
        [
            format!("medidor_detenido:{stuck}:202705"),
            format!("medidor_detenido:{stuck}:202706"),
        ]
    );
}

both!(device_alarms_once_per_day, alarms_body);
async fn alarms_body(f: Fixture) {
    let m = new_meter(&f, "ALARMA-1", f.contract_id, true).await;
    let with = |at, litres, alarms| Incoming {
        alarms,
        ..reading(m, at, litres)
    };
    store(
        &f,
        Source::Telemetria,
        &[
            // Too old for this run.
            with(local(2027, 5, 20, 10), 1_000, 0b0001),
            with(local(2027, 5, 31, 10), 1_100, 0b1000),
            with(local(2027, 5, 31, 11), 1_200, 0b1000),
            // Low battery only: not an anomaly.
            with(local(2027, 5, 31, 12), 1_300, 0b10_0000),
            with(local(2027, 6, 1, 7), 1_400, 0b0100),
        ],
    )
    .await;
    let summary = anomalies::detect(&f.db, f.tenant, &Settings::default(), now())
        .await
        .expect("detect");
    assert_eq!(summary.count(Kind::AlarmaManipulacion), 1, "{summary:?}");
    assert_eq!(summary.count(Kind::AlarmaReverso), 1, "{summary:?}");
    assert_eq!(summary.total(), 2, "{summary:?}");
    assert_eq!(
        keys(&f, m).await,
        [
            format!("alarma_manipulacion:{m}:2027-05-31"),
            format!("alarma_reverso:{m}:2027-06-01"),
        ]
    );
    let again = anomalies::detect(&f.db, f.tenant, &Settings::default(), now())
        .await
        .expect("detect");
    assert_eq!(again.total(), 0);
}

both!(review_actions, review_body);
async fn review_body(f: Fixture) {
    let leak = new_meter(&f, "FUGA-2", f.contract_id, true).await;
    store(&f, Source::Telemetria, &four_days(leak, |_| 15)).await;
    anomalies::detect(&f.db, f.tenant, &Settings::default(), now())
        .await
        .expect("detect");
    let queue = anomalies::open_for_staff(&f.db, f.tenant, 50)
        .await
        .expect("queue");
    let id = queue[0].id;

    // A dismissal needs a reason.
    let err = anomalies::review(
        &f.db,
        f.tenant,
        id,
        Action::Dismissed {
            reason: "  ".into(),
        },
        "supervisor",
        now(),
    )
    .await
    .expect_err("no reason");
    assert!(
        matches!(&err, Error::Invalid { field: "motivo", message } if message.contains("motivo")),
        "{err:?}"
    );

    // A work order: created with the anomaly's kind, the anomaly closed, in one go.
    let later = now() + Duration::hours(1);
    let order = anomalies::review(
        &f.db,
        f.tenant,
        id,
        Action::WorkOrder {
            description: "Revisar la toma por posible fuga".into(),
        },
        "supervisor",
        later,
    )
    .await
    .expect("work order")
    .expect("order id");
    let mut tx = f.db.read(f.tenant).await.expect("tx");
    let orders = db::anomalies::work_orders_of_contract(&mut tx, f.contract_id)
        .await
        .expect("orders");
    let a = db::anomalies::get(&mut tx, id)
        .await
        .expect("get")
        .expect("anomaly");
    drop(tx);
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o.id, order);
    assert_eq!(o.kind, "revision_fuga");
    assert_eq!(o.anomaly_id, Some(id));
    assert_eq!(o.meter_id, Some(leak));
    assert_eq!(o.status, "pendiente");
    assert_eq!(o.created_by, "supervisor");
    assert_eq!(o.description, "Revisar la toma por posible fuga");
    assert_eq!(a.status, "orden_creada");
    assert_eq!(a.resolved_by.as_deref(), Some("supervisor"));
    assert_eq!(a.resolved_at, Some(later));

    // Acting again is refused; the customer still sees it, with a work order.
    let again = anomalies::review(&f.db, f.tenant, id, Action::Reviewed, "otro", later)
        .await
        .expect_err("closed");
    assert!(
        matches!(&again, Error::Invalid { message, .. } if message == "esta anomalía ya fue atendida"),
        "{again:?}"
    );
    let alerts = anomalies::for_contract(&f.db, f.tenant, f.contract_id, later)
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].work_order);
    assert_eq!(alerts[0].status, Status::OrdenCreada);
    assert!(
        anomalies::open_for_staff(&f.db, f.tenant, 50)
            .await
            .expect("queue")
            .is_empty()
    );

    // Stored directly: idempotent; dismissed with a reason it leaves the alert.
    let tamper = db::anomalies::NewAnomaly {
        meter_id: leak,
        contract_id: f.contract_id,
        kind: "alarma_manipulacion".into(),
        dedupe_key: format!("alarma_manipulacion:{leak}:2027-05-30"),
        detail: "Tu medidor avisó de una posible manipulación el 30/05/2027.".into(),
        data: "{}".into(),
    };
    let mut tx = f.db.write(f.tenant).await.expect("tx");
    assert!(
        db::anomalies::insert(&mut tx, &tamper, now())
            .await
            .expect("insert")
    );
    assert!(
        !db::anomalies::insert(&mut tx, &tamper, now())
            .await
            .expect("insert")
    );
    tx.commit().await.expect("commit");
    let queue = anomalies::open_for_staff(&f.db, f.tenant, 50)
        .await
        .expect("queue");
    assert_eq!(queue.len(), 1);
    let tamper_id = queue[0].id;
    assert_eq!(
        anomalies::for_contract(&f.db, f.tenant, f.contract_id, now())
            .await
            .expect("alerts")
            .len(),
        2
    );
    let none = anomalies::review(
        &f.db,
        f.tenant,
        tamper_id,
        Action::Dismissed {
            reason: "Lo causó el cambio de batería".into(),
        },
        "supervisor",
        now(),
    )
    .await
    .expect("dismiss");
    assert_eq!(none, None);
    let alerts = anomalies::for_contract(&f.db, f.tenant, f.contract_id, now())
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 1, "dismissed ones leave the alert");
    // After 90 days the work-order one leaves it too.
    let old = anomalies::for_contract(&f.db, f.tenant, f.contract_id, now() + Duration::days(91))
        .await
        .expect("alerts");
    assert!(old.is_empty());

    // An unknown anomaly.
    assert!(matches!(
        anomalies::review(&f.db, f.tenant, 999_999, Action::Reviewed, "x", now()).await,
        Err(Error::Invalid {
            field: "anomalia",
            ..
        })
    ));
}
