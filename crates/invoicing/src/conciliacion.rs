//! Daily reconciliation per channel: our recorded payments against what the provider
//! says it paid, for one operation day (Mexico City).
//!
//! - STP: the conciliación service lists the day's abonos; each is parsed exactly like
//!   a webhook and keyed `stp:<id>`.
//! - Conekta: every reference we issued in the last 35 days is looked up
//!   (`GET /orders/{id}`, what Conekta says now); the charges it reports paid that day
//!   are its statement, keyed `conekta:<order>`.
//!
//! Reported: `faltante` (the provider paid it, we have no record — a lost or pending
//! notification), `sobrante` (we recorded it that day, the provider does not list
//! it), `importe_distinto` (both, different amounts) and `duplicado` (the statement
//! lists one payment twice). Each run is stored with its items for the staff report.
//! The report changes no balance: staff decide.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use db::payments::NewReconciliationItem;
use db::{Db, TenantId};

use crate::Result;
use crate::orders::Providers;

/// Outbox kind of a reconciliation for one provider and day.
pub const RECONCILE: &str = "payment.reconcile";

/// One payment as the provider's statement lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementItem {
    /// Our dedupe key for it (`stp:<id>`, `conekta:<order>`).
    pub key: String,
    pub amount_centavos: i64,
    pub reference: String,
}

/// [start, end) of a Mexico City day, in UTC.
pub fn day_bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let tz = chrono_tz::America::Mexico_City;
    let at = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&d.and_hms_opt(6, 0, 0).unwrap_or_default()))
    };
    (at(day), at(day + Duration::days(1)))
}

/// Compare and store. Returns the run id.
pub async fn reconcile(
    db: &Db,
    tenant: TenantId,
    provider: &str,
    day: NaiveDate,
    statement: &[StatementItem],
    now: DateTime<Utc>,
) -> Result<i64> {
    let (from, to) = day_bounds(day);
    let mut tx = db.write(tenant).await?;
    let ours = db::payments::received_between(&mut tx, &format!("{provider}:"), from, to).await?;
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut matched = 0i64;
    for s in statement {
        if !seen.insert(s.key.clone()) {
            items.push(NewReconciliationItem {
                kind: "duplicado",
                provider_key: s.key.clone(),
                reference: s.reference.clone(),
                statement_centavos: Some(s.amount_centavos),
                ours_centavos: None,
                received_id: None,
            });
            continue;
        }
        match db::payments::received_by_key(&mut tx, &s.key).await? {
            None => items.push(NewReconciliationItem {
                kind: "faltante",
                provider_key: s.key.clone(),
                reference: s.reference.clone(),
                statement_centavos: Some(s.amount_centavos),
                ours_centavos: None,
                received_id: None,
            }),
            Some(r) if r.amount_centavos != s.amount_centavos => {
                items.push(NewReconciliationItem {
                    kind: "importe_distinto",
                    provider_key: s.key.clone(),
                    reference: s.reference.clone(),
                    statement_centavos: Some(s.amount_centavos),
                    ours_centavos: Some(r.amount_centavos),
                    received_id: Some(r.id),
                })
            }
            Some(_) => matched += 1,
        }
    }
    let listed: HashSet<&str> = statement.iter().map(|s| s.key.as_str()).collect();
    for r in &ours {
        if !listed.contains(r.dedupe_key.as_str()) {
            items.push(NewReconciliationItem {
                kind: "sobrante",
                provider_key: r.dedupe_key.clone(),
                reference: r.reference.clone(),
                statement_centavos: None,
                ours_centavos: Some(r.amount_centavos),
                received_id: Some(r.id),
            });
        }
    }
    let id = db::payments::insert_reconciliation(
        &mut tx,
        provider,
        day,
        statement.len() as i64,
        ours.len() as i64,
        matched,
        &items,
        None,
        now,
    )
    .await?;
    db::repo::record_event(
        &mut tx,
        db::repo::NewEvent {
            actor_kind: "system",
            actor_id: None,
            action: "payments.reconciled",
            subject_kind: Some("reconciliation"),
            subject_id: Some(id),
            data: serde_json::json!({"proveedor": provider, "dia": day, "diferencias": items.len()}),
            ip: None,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Record that a provider's statement could not be had (shown to staff; retried).
async fn failed(
    db: &Db,
    tenant: TenantId,
    provider: &str,
    day: NaiveDate,
    why: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let mut tx = db.write(tenant).await?;
    let id =
        db::payments::insert_reconciliation(&mut tx, provider, day, 0, 0, 0, &[], Some(why), now)
            .await?;
    tx.commit().await?;
    Ok(id)
}

/// STP's statement for a day.
pub async fn stp_statement(
    client: &stp::Stp,
    day: NaiveDate,
) -> std::result::Result<Vec<StatementItem>, String> {
    let raw = client.received_on(day).await.map_err(|e| e.to_string())?;
    raw.iter()
        .map(|r| {
            let a = payments::stp::Abono::parse(r).map_err(|e| e.to_string())?;
            Ok(StatementItem {
                key: a.dedupe_key(),
                amount_centavos: a.centavos,
                reference: a.clave_rastreo.clone(),
            })
        })
        .collect()
}

/// Conekta's view of the references we issued: those it reports paid on `day`.
pub async fn conekta_statement(
    db: &Db,
    tenant: TenantId,
    client: &conekta::Conekta,
    day: NaiveDate,
) -> std::result::Result<Vec<StatementItem>, String> {
    let (from, to) = day_bounds(day);
    let orders = {
        let mut tx = db.read(tenant).await.map_err(|e| e.to_string())?;
        db::payments::orders_created_between(&mut tx, "conekta", from - Duration::days(35), to)
            .await
            .map_err(|e| e.to_string())?
    };
    let mut out = Vec::new();
    for o in orders {
        let order = match client.order(&o.provider_order_id).await {
            Ok(order) => order,
            Err(conekta::Error::NotFound(_)) => continue,
            Err(e) => return Err(e.to_string()),
        };
        if !order.is_paid() {
            continue;
        }
        let paid_at = order
            .first_charge()
            .and_then(|c| c.paid_at)
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0));
        if paid_at.is_some_and(|p| p >= from && p < to) {
            out.push(StatementItem {
                key: format!("conekta:{}", order.id),
                amount_centavos: order.amount,
                reference: o.reference.clone().unwrap_or_else(|| order.id.clone()),
            });
        }
    }
    Ok(out)
}

/// Reconcile every configured provider for `day`. Returns the run ids.
pub async fn run_day(
    db: &Db,
    tenant: TenantId,
    providers: &Providers,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut runs = Vec::new();
    if let Some(client) = &providers.stp {
        runs.push(match stp_statement(client, day).await {
            Ok(items) => reconcile(db, tenant, "stp", day, &items, now).await?,
            Err(e) => failed(db, tenant, "stp", day, &e, now).await?,
        });
    }
    if let Some(client) = &providers.conekta {
        runs.push(match conekta_statement(db, tenant, client, day).await {
            Ok(items) => reconcile(db, tenant, "conekta", day, &items, now).await?,
            Err(e) => failed(db, tenant, "conekta", day, &e, now).await?,
        });
    }
    Ok(runs)
}

/// Queue yesterday's reconciliation (once per day: the outbox key is the day).
pub async fn schedule_yesterday(db: &Db, tenant: TenantId, now: DateTime<Utc>) -> Result<()> {
    let today = now
        .with_timezone(&chrono_tz::America::Mexico_City)
        .date_naive();
    let day = today - Duration::days(1);
    let mut tx = db.write(tenant).await?;
    db::repo::enqueue(
        &mut tx,
        RECONCILE,
        &format!("{RECONCILE}:{day}"),
        &serde_json::json!({ "day": day }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The outbox worker's side of [`RECONCILE`].
pub async fn deliver(
    db: &Db,
    tenant: TenantId,
    providers: &Providers,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<String> {
    let day: NaiveDate = payload
        .get("day")
        .and_then(|d| d.as_str())
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| crate::orders::invalid("day", "falta el día a conciliar"))?;
    let runs = run_day(db, tenant, providers, day, now).await?;
    Ok(format!("conciliación del {day}: {} corridas", runs.len()))
}
