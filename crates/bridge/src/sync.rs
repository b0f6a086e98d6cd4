//! The nightly sync: what changed in AquaCIS since the last watermark — contracts,
//! their titular, meter, readings and debt — into SUPRA's store, a record at a time;
//! what cannot be taken (a malformed RFC, a negative debt, an unknown status, a
//! reading refused by validation) is quarantined with the reason, the rest imported.
//! Then SUPRA and AquaCIS are reconciled: counts and balances per contract.
//!
//! The watermark is AquaCIS's own clock (`fechaConsulta` of the first page), so a
//! record changed while the sync pages is taken the next night; a run that fails
//! keeps the old watermark and the next one repeats it (every write is an upsert or
//! deduplicated by `metering::record`).

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use db::{Db, TenantId};
use legacy::ops;
use serde::{Deserialize, Serialize};

use crate::{Bridge, Error, Result};

/// The first sync takes everything.
const BEGINNING: &str = "1970-01-01T00:00:00Z";
const KNOWN_STATUS: &[&str] = &["ALTA", "BAJA", "SUSPENDIDO"];
/// Mismatches kept in the report (the counts cover all).
const MISMATCHES_SHOWN: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub run_id: i64,
    pub seen: i64,
    pub imported: i64,
    pub quarantined: i64,
    pub readings: i64,
    pub watermark_from: String,
    pub watermark_to: String,
    pub reconciliation: Reconciliation,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub supra_contracts: i64,
    pub legacy_contracts: i64,
    pub in_both: i64,
    pub only_supra: i64,
    pub only_legacy: i64,
    pub balances_equal: i64,
    pub balances_different: i64,
    pub supra_total_centavos: i64,
    pub legacy_total_centavos: i64,
    /// (contract, SUPRA's balance, AquaCIS's debt), the first few.
    pub mismatches: Vec<(String, i64, i64)>,
}

/// What every step of a run needs.
struct Ctx<'a> {
    db: &'a Db,
    tenant: TenantId,
    bridge: &'a Bridge,
    run_id: i64,
    now: DateTime<Utc>,
    counts: db::legacy::RunCounts,
}

/// One night's run.
pub async fn run(db: &Db, tenant: TenantId, bridge: &Bridge, now: DateTime<Utc>) -> Result<Report> {
    let from = {
        let mut tx = db.read(tenant).await?;
        db::legacy::last_watermark(&mut tx).await?
    }
    .unwrap_or_else(|| BEGINNING.to_owned());
    let run_id = {
        let mut tx = db.write(tenant).await?;
        let id = db::legacy::start_run(&mut tx, Some(&from), now).await?;
        tx.commit().await?;
        id
    };
    let mut ctx = Ctx {
        db,
        tenant,
        bridge,
        run_id,
        now,
        counts: db::legacy::RunCounts::default(),
    };
    let imported = import(&mut ctx, &from).await;
    let counts = ctx.counts;
    match imported {
        Ok(to) => {
            let reconciliation = reconcile(db, tenant).await?;
            let report = Report {
                run_id,
                seen: counts.seen,
                imported: counts.imported,
                quarantined: counts.quarantined,
                readings: counts.readings,
                watermark_from: from,
                watermark_to: to.clone(),
                reconciliation,
            };
            let json = serde_json::to_string(&report).expect("report serializes");
            let mut tx = db.write(tenant).await?;
            let finish = db::legacy::Finish {
                status: "terminada",
                watermark_to: Some(&to),
                counts: &counts,
                error: None,
                report: Some(&json),
            };
            db::legacy::finish_run(&mut tx, run_id, &finish, Utc::now()).await?;
            tx.commit().await?;
            Ok(report)
        }
        Err(e) => {
            let mut tx = db.write(tenant).await?;
            let error = e.to_string();
            let finish = db::legacy::Finish {
                status: "fallida",
                watermark_to: None,
                counts: &counts,
                error: Some(&error),
                report: None,
            };
            db::legacy::finish_run(&mut tx, run_id, &finish, Utc::now()).await?;
            tx.commit().await?;
            Err(e)
        }
    }
}

/// Page through the changed contracts and import each. Returns the new watermark.
async fn import(ctx: &mut Ctx<'_>, from: &str) -> Result<String> {
    let client = ctx.bridge.client();
    let mut watermark = None;
    let mut page = 1;
    loop {
        let listing = client
            .call(&ops::ConsultaContratosModificados {
                fecha_desde: from.to_owned(),
                pagina: page,
            })
            .await?;
        if watermark.is_none() {
            watermark = Some(if listing.fecha_consulta.trim().is_empty() {
                ctx.now.to_rfc3339()
            } else {
                listing.fecha_consulta.trim().to_owned()
            });
        }
        for number in &listing.contratos {
            ctx.counts.seen += 1;
            contract(ctx, number).await?;
        }
        if !listing.hay_mas || listing.contratos.is_empty() {
            break;
        }
        page += 1;
    }
    Ok(watermark.unwrap_or_else(|| ctx.now.to_rfc3339()))
}

async fn quarantine(
    ctx: &mut Ctx<'_>,
    entity: &str,
    key: &str,
    reason: &str,
    raw: &impl Serialize,
) -> Result<()> {
    let raw = serde_json::to_string(raw).unwrap_or_default();
    let mut tx = ctx.db.write(ctx.tenant).await?;
    db::legacy::quarantine(&mut tx, ctx.run_id, entity, key, reason, &raw, ctx.now).await?;
    tx.commit().await?;
    ctx.counts.quarantined += 1;
    tracing::warn!(entity, key, reason, "AquaCIS record quarantined");
    Ok(())
}

/// Why a contract as AquaCIS gives it cannot be imported.
fn malformed(c: &ops::Contrato, debt: &ops::Deuda) -> Option<String> {
    if c.num_contrato.parse::<domain::ContractNumber>().is_err() {
        return Some(format!("número de contrato inválido: «{}»", c.num_contrato));
    }
    // AquaCIS's NIF holds the RFC, or the CURP of a person without one.
    if let Err(e) = c.nif.parse::<domain::Rfc>()
        && c.nif.parse::<domain::Curp>().is_err()
    {
        return Some(format!("NIF inválido «{}» (ni RFC ni CURP): {e}", c.nif));
    }
    if c.titular.trim().is_empty() {
        return Some("contrato sin titular".into());
    }
    if !KNOWN_STATUS.contains(&c.estado.as_str()) {
        return Some(format!("estado desconocido: «{}»", c.estado));
    }
    if debt.deuda_total.is_sign_negative() {
        return Some(format!("adeudo negativo: {}", debt.deuda_total));
    }
    if debt.deuda_total.scale() > 2 && debt.deuda_total.round_dp(2) != debt.deuda_total {
        return Some(format!(
            "adeudo con más de dos decimales: {}",
            debt.deuda_total
        ));
    }
    None
}

async fn contract(ctx: &mut Ctx<'_>, number: &str) -> Result<()> {
    let client = ctx.bridge.client();
    // AquaCIS refusing one contract is that record's problem; not answering stops the run.
    let detail = match client
        .call(&ops::ConsultaDetalleContrato {
            num_contrato: number.to_owned(),
        })
        .await
    {
        Ok(d) => d,
        Err(e) if !e.is_transient() => {
            return quarantine(ctx, "contrato", number, &e.to_string(), &number).await;
        }
        Err(e) => return Err(e.into()),
    };
    let Some(c) = detail.contrato else {
        return quarantine(
            ctx,
            "contrato",
            number,
            "AquaCIS no devolvió el contrato",
            &number,
        )
        .await;
    };
    let debt = match client
        .call(&ops::GetDeuda {
            num_contrato: number.to_owned(),
        })
        .await
    {
        Ok(d) => d.resultado,
        Err(e) if !e.is_transient() => {
            return quarantine(ctx, "deuda", number, &e.to_string(), &c).await;
        }
        Err(e) => return Err(e.into()),
    };
    let Some(debt) = debt else {
        return quarantine(ctx, "deuda", number, "AquaCIS no devolvió el adeudo", &c).await;
    };
    if let Some(reason) = malformed(&c, &debt) {
        return quarantine(ctx, "contrato", number, &reason, &(&c, &debt)).await;
    }
    let row = db::legacy::LegacyContract {
        number: c
            .num_contrato
            .parse::<domain::ContractNumber>()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        nif: c.nif.trim().to_uppercase(),
        holder: c.titular.trim().to_owned(),
        status: c.estado.clone(),
        use_type: c.uso.clone(),
        meter_serial: c.numero_serie_contador.clone(),
        email: c.email.clone(),
        phone: c.telefono.clone(),
        debt_centavos: domain::Money::from_decimal_rounded(debt.deuda_total).centavos(),
    };
    {
        let mut tx = ctx.db.write(ctx.tenant).await?;
        db::legacy::upsert_contract(&mut tx, &row, ctx.run_id, ctx.now).await?;
        tx.commit().await?;
    }
    ctx.counts.imported += 1;
    if let Some(serial) = &c.numero_serie_contador {
        readings(ctx, number, serial).await?;
    }
    Ok(())
}

/// A contract's readings into `metering::record` with source `legado` (deduplicated
/// on meter and time, validated like any other source). Readings of a meter SUPRA does
/// not know, or that validation refuses, are quarantined.
async fn readings(ctx: &mut Ctx<'_>, number: &str, serial: &str) -> Result<()> {
    let list = match ctx
        .bridge
        .client()
        .call(&ops::GetLecturas {
            num_contrato: number.to_owned(),
        })
        .await
    {
        Ok(l) => l.lecturas,
        Err(e) if !e.is_transient() => {
            return quarantine(ctx, "lectura", number, &e.to_string(), &number).await;
        }
        Err(e) => return Err(e.into()),
    };
    if list.is_empty() {
        return Ok(());
    }
    let mut tx = ctx.db.write(ctx.tenant).await?;
    let meter = db::metering::registers_by_serial(&mut tx, &[serial.to_owned()])
        .await?
        .into_iter()
        .next();
    let Some(meter) = meter else {
        drop(tx);
        return quarantine(
            ctx,
            "lectura",
            number,
            &format!("el medidor {serial} no existe en SUPRA"),
            &list,
        )
        .await;
    };
    let mut items = Vec::new();
    let mut refused = Vec::new();
    let local = |d: chrono::NaiveDate, h: u32| {
        chrono_tz::America::Mexico_City
            .from_local_datetime(&d.and_time(NaiveTime::from_hms_opt(h, 0, 0).expect("hour")))
            .earliest()
            .map(|d| d.with_timezone(&Utc))
    };
    for l in &list {
        if l.lectura < 0 {
            refused.push((l, "lectura negativa".to_owned()));
            continue;
        }
        // AquaCIS keeps dates: a day SUPRA already has a reading for is that reading;
        // a new one is placed at noon, Querétaro time.
        let (Some(at), Some(start), Some(end)) = (
            local(l.fecha, 12),
            local(l.fecha, 0),
            l.fecha.succ_opt().and_then(|d| local(d, 0)),
        ) else {
            refused.push((l, "fecha inválida".to_owned()));
            continue;
        };
        if db::legacy::has_reading_between(&mut tx, meter.id, start, end).await? {
            continue;
        }
        items.push((
            l,
            metering::Incoming {
                meter_id: meter.id,
                at,
                litres: Some(l.lectura as u64 * 1000),
                alarms: 0,
                observation: None,
            },
        ));
    }
    let incoming: Vec<metering::Incoming> = items.iter().map(|(_, i)| i.clone()).collect();
    let outcomes = metering::record(&mut tx, metering::Source::Legado, &incoming, ctx.now)
        .await
        .map_err(|e| match e {
            metering::Error::Db(d) => Error::Db(d),
            other => Error::Invalid {
                field: "lectura",
                message: other.to_string(),
            },
        })?;
    tx.commit().await?;
    for ((l, _), o) in items.iter().zip(outcomes) {
        match o {
            metering::Outcome::Accepted { .. } => ctx.counts.readings += 1,
            metering::Outcome::Duplicate => {}
            metering::Outcome::Rejected { message, .. } => refused.push((l, message)),
        }
    }
    for (l, reason) in refused {
        quarantine(ctx, "lectura", number, &reason, l).await?;
    }
    Ok(())
}

/// SUPRA's ledger against AquaCIS's debt, contract by contract.
pub async fn reconcile(db: &Db, tenant: TenantId) -> Result<Reconciliation> {
    let rows = {
        let mut tx = db.read(tenant).await?;
        db::legacy::compare_balances(&mut tx).await?
    };
    let mut r = Reconciliation::default();
    for row in rows {
        match (row.supra_centavos, row.legacy_centavos) {
            (Some(s), Some(l)) => {
                r.supra_contracts += 1;
                r.legacy_contracts += 1;
                r.in_both += 1;
                r.supra_total_centavos += s;
                r.legacy_total_centavos += l;
                // A credit in SUPRA is no debt in AquaCIS.
                if s.max(0) == l {
                    r.balances_equal += 1;
                } else {
                    r.balances_different += 1;
                    if r.mismatches.len() < MISMATCHES_SHOWN {
                        r.mismatches.push((row.number, s, l));
                    }
                }
            }
            (Some(s), None) => {
                r.supra_contracts += 1;
                r.only_supra += 1;
                r.supra_total_centavos += s;
            }
            (None, Some(l)) => {
                r.legacy_contracts += 1;
                r.only_legacy += 1;
                r.legacy_total_centavos += l;
            }
            (None, None) => {}
        }
    }
    Ok(r)
}
