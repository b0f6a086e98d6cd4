//! The AquaCIS bridge for staff (atención and facturación see it; admin also switches
//! the source of truth, replays dead letters and runs the sync). Thin: authenticate,
//! authorise, call `bridge`, map errors.

use super::*;

/// Who sees the bridge's health.
pub const BRIDGE: &[StaffRole] = &[StaffRole::Atencion, StaffRole::Facturacion];

impl From<bridge::Error> for AppError {
    fn from(e: bridge::Error) -> Self {
        match e {
            bridge::Error::Invalid { field, message } => AppError::invalid(field, message),
            bridge::Error::Legacy(l) if l.is_transient() => AppError::invalid(
                "legado",
                format!("AquaCIS no respondió; inténtelo más tarde. ({l})"),
            ),
            bridge::Error::Legacy(l) => AppError::invalid("legado", l.to_string()),
            other => internal(other),
        }
    }
}

fn ms(v: Option<u64>) -> String {
    v.map_or("—".into(), |v| format!("{v} ms"))
}

fn money(c: i64) -> String {
    Money::from_centavos(c).format_mxn()
}

fn summary(kind: &str, p: &serde_json::Value) -> String {
    let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    match kind {
        bridge::AVISAR_PAGO => format!(
            "Aviso de pago · contrato {} · ${} · {} · {}",
            s("numContrato"),
            s("importe"),
            s("fechaPago"),
            s("referenciaExterna")
        ),
        bridge::CREAR_OT => format!(
            "Orden de trabajo · medidor {} · {}",
            s("numero_serie"),
            s("referencia")
        ),
        bridge::CAMBIAR_EMAIL => format!("Cambio de correo · {}", s("nif")),
        bridge::LECTURA => format!(
            "Lectura · contrato {} · {} m³ · {}",
            s("numContrato"),
            p.get("lectura").map(|v| v.to_string()).unwrap_or_default(),
            s("fecha")
        ),
        other => other.to_owned(),
    }
}

fn run_view(run: db::legacy::SyncRun, quarantine: Vec<db::legacy::QuarantineRow>) -> SyncRunView {
    let report: Option<bridge::sync::Reconciliation> = run
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .and_then(|v| serde_json::from_value(v.get("reconciliation")?.clone()).ok());
    let (reconciliation, mismatches) = match report {
        Some(r) => (
            vec![
                format!(
                    "Contratos en SUPRA: {} · en AquaCIS: {}",
                    r.supra_contracts, r.legacy_contracts
                ),
                format!(
                    "En ambos: {} · solo en SUPRA: {} · solo en AquaCIS: {}",
                    r.in_both, r.only_supra, r.only_legacy
                ),
                format!(
                    "Saldos iguales: {} · distintos: {}",
                    r.balances_equal, r.balances_different
                ),
                format!(
                    "Total adeudado según SUPRA: {} · según AquaCIS: {}",
                    money(r.supra_total_centavos),
                    money(r.legacy_total_centavos)
                ),
            ],
            r.mismatches
                .into_iter()
                .map(|(n, s, l)| (n, money(s), money(l)))
                .collect(),
        ),
        None => (vec![], vec![]),
    };
    SyncRunView {
        id: run.id,
        started: auth::format_local(run.started_at),
        finished: run.finished_at.map(auth::format_local),
        status: match run.status.as_str() {
            "terminada" => "Terminada".into(),
            "en_curso" => "En curso".into(),
            _ => format!("Falló: {}", run.error.unwrap_or_default()),
        },
        seen: run.seen,
        imported: run.imported,
        quarantined: run.quarantined,
        readings: run.readings,
        watermark: run.watermark_to,
        reconciliation,
        mismatches,
        quarantine: quarantine
            .into_iter()
            .map(|q| LegacyQuarantineView {
                entity: q.entity,
                key: q.legacy_key,
                reason: q.reason,
            })
            .collect(),
    }
}

pub async fn bridge_view() -> Result<LegacyBridgeView, AppError> {
    let s = staff(BRIDGE).await?;
    let (db, tenant) = (&s.r.st.db, s.r.tenant);
    let legacy = s.r.st.legacy.clone();
    let domains = bridge::settings::all(db, tenant)
        .await
        .or_else(|e| fail(e.into()))?;
    let mut tx = db.read(tenant).await?;
    let (waiting, dead_total) = repo::outbox_depth(&mut tx, bridge::KIND_PREFIX).await?;
    let dead = repo::outbox_dead_letters(&mut tx, bridge::KIND_PREFIX, 50).await?;
    let last = db::legacy::runs(&mut tx, 1).await?.into_iter().next();
    let last_sync = match last {
        Some(run) => {
            let q = db::legacy::quarantined(&mut tx, run.id).await?;
            Some(run_view(run, q))
        }
        None => None,
    };
    drop(tx);
    let services = legacy
        .as_ref()
        .map(|b| {
            b.client()
                .health()
                .into_iter()
                .map(|h| LegacyServiceView {
                    name: h.service.label().into(),
                    ws_name: h.service.ws_name().into(),
                    breaker: h.breaker.label().into(),
                    healthy: h.breaker == legacy::BreakerState::Closed,
                    calls: h.calls,
                    failures: h.failures,
                    p50: ms(h.p50_ms),
                    p95: ms(h.p95_ms),
                    p99: ms(h.p99_ms),
                    last_error: h
                        .last_error
                        .map(|(at, e)| format!("{}: {e}", auth::format_local(at))),
                })
                .collect()
        })
        .unwrap_or_default();
    let cache = match legacy.as_ref().map(|b| b.cache_stats()) {
        Some(c) => match c.hit_rate() {
            Some(rate) => format!(
                "{rate} % desde la caché ({} vigentes, {} consultas a AquaCIS, {} servidas sin conexión)",
                c.hits, c.misses, c.stale
            ),
            None => "Sin consultas todavía".into(),
        },
        None => "—".into(),
    };
    Ok(LegacyBridgeView {
        configured: legacy.is_some(),
        url: legacy
            .as_ref()
            .map(|b| b.client().base_url().to_owned())
            .unwrap_or_default(),
        services,
        cache,
        waiting,
        dead_total,
        dead: dead
            .into_iter()
            .map(|d| DeadLetterView {
                id: d.id,
                summary: summary(&d.kind, &d.payload.0),
                kind: d.kind,
                created: auth::format_local(d.created_at),
                dead_since: d.dead_at.map(auth::format_local).unwrap_or_default(),
                attempts: d.attempts,
                error: d.last_error.unwrap_or_default(),
            })
            .collect(),
        last_sync,
        domains: domains
            .into_iter()
            .map(|d| DomainView {
                domain: d.domain.as_str().into(),
                label: d.domain.label().into(),
                reads: d.reads.as_str().into(),
                writes: d.writes.as_str().into(),
                updated: d
                    .updated_at
                    .map(auth::format_local)
                    .unwrap_or_else(|| "Sin cambios (solo SUPRA)".into()),
            })
            .collect(),
        can_switch: s.role == StaffRole::Admin,
    })
}

pub async fn set_domain(
    dominio: String,
    lecturas: String,
    escrituras: String,
) -> Result<String, AppError> {
    let s = staff(&[]).await?;
    let parsed = (|| {
        Ok::<_, bridge::Error>((
            bridge::Domain::parse(&dominio)?,
            bridge::ReadFrom::parse(&lecturas)?,
            bridge::WriteTo::parse(&escrituras)?,
        ))
    })();
    let (domain, reads, writes) = parsed.or_else(|e| fail(e.into()))?;
    if s.r.st.legacy.is_none()
        && (reads != bridge::ReadFrom::Supra || writes != bridge::WriteTo::Supra)
    {
        return fail(AppError::invalid(
            "escrituras",
            "No hay conexión con AquaCIS configurada (AQUACIS_URL): solo puede elegirse SUPRA.",
        ));
    }
    bridge::settings::set(
        &s.r.st.db,
        s.r.tenant,
        domain,
        reads,
        writes,
        Some(s.id),
        Utc::now(),
    )
    .await
    .or_else(|e| fail(e.into()))?;
    Ok(format!("{}: se guardó el cambio.", domain.label()))
}

pub async fn replay(id: i64) -> Result<String, AppError> {
    let s = staff(&[]).await?;
    match bridge::replay(&s.r.st.db, s.r.tenant, id, Some(s.id), Utc::now()).await {
        Ok(true) => Ok("Se volverá a enviar en unos segundos.".into()),
        Ok(false) => fail(AppError::NotFound),
        Err(e) => fail(e.into()),
    }
}

pub async fn sync_now() -> Result<String, AppError> {
    let s = staff(&[]).await?;
    let Some(b) = s.r.st.legacy.clone() else {
        return fail(AppError::invalid(
            "legado",
            "No hay conexión con AquaCIS configurada.",
        ));
    };
    let (db, tenant) = (s.r.st.db.clone(), s.r.tenant);
    let mut tx = db.read(tenant).await?;
    let running = db::legacy::runs(&mut tx, 1)
        .await?
        .into_iter()
        .next()
        .is_some_and(|r| {
            r.status == "en_curso" && Utc::now() - r.started_at < chrono::Duration::hours(6)
        });
    drop(tx);
    if running {
        return fail(AppError::invalid(
            "legado",
            "Ya hay una sincronización en curso.",
        ));
    }
    // A whole night's changes take minutes: it runs on its own; the page shows it.
    tokio::spawn(async move {
        match bridge::sync::run(&db, tenant, &b, Utc::now()).await {
            Ok(r) => tracing::info!(
                seen = r.seen,
                imported = r.imported,
                quarantined = r.quarantined,
                "AquaCIS sync (by staff) done"
            ),
            Err(e) => tracing::error!(error = %e, "AquaCIS sync (by staff) failed"),
        }
    });
    audit(&s, "legacy.sync.started", None, serde_json::json!({})).await?;
    Ok("Sincronización iniciada. Actualice la página para ver el avance.".into())
}
