//! A customer's own meter reading, from the app (possibly queued offline and sent
//! later, possibly twice): one per idempotency key, checked against the meter's last
//! reading more strictly than telemetry — going back (unless the register plausibly
//! wrapped) or more than the meter could pass is refused with a plain explanation, as
//! it is almost always a typo.

use chrono::{DateTime, Duration, Utc};
use db::{Db, TenantId};
use domain::M3;
use ingest::validate::{self, Quality, Reading, Register};

use crate::record::{self, Incoming, Outcome, Source};
use crate::{Error, Result};

/// Largest photo accepted, bytes.
pub const MAX_PHOTO: usize = 5 * 1024 * 1024;
/// How old a queued reading may be when it finally arrives.
pub const MAX_AGE: Duration = Duration::days(7);

/// A reading as the customer sends it.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub key: &'a str,
    pub contract_id: i64,
    pub litres: u64,
    /// When the customer took it (the phone's clock), if the app says.
    pub taken_at: Option<DateTime<Utc>>,
    pub photo: Option<(&'a [u8], &'a str)>,
}

/// The answer (the same one every time for the same key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub id: i64,
    pub accepted: bool,
    /// Spanish: what happened.
    pub message: String,
    pub read_at: DateTime<Utc>,
    pub litres: i64,
    /// Litres since the previous reading, when there is one.
    pub since_last: Option<i64>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field,
        message: message.into(),
    }
}

fn photo_kind(bytes: &[u8], declared: &str) -> Option<&'static str> {
    let kind = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return None;
    };
    (declared.is_empty() || declared.starts_with("image/")).then_some(kind)
}

pub async fn submit(
    db: &Db,
    tenant: TenantId,
    s: Submission<'_>,
    now: DateTime<Utc>,
) -> Result<Receipt> {
    let key = s.key.trim();
    if key.is_empty() || key.len() > 80 {
        return Err(invalid(
            "clave",
            "Falta la clave de envío; recarga la página.",
        ));
    }
    let photo = match s.photo {
        Some(([], _)) => None,
        Some((b, _)) if b.len() > MAX_PHOTO => {
            return Err(invalid(
                "foto",
                "La foto pesa más de 5 MB; toma una más ligera.",
            ));
        }
        Some((b, t)) => Some((
            b,
            photo_kind(b, t)
                .ok_or_else(|| invalid("foto", "La foto debe ser una imagen JPG, PNG o WebP."))?,
        )),
        None => None,
    };
    let mut tx = db.write(tenant).await?;
    if let Some(prev) = db::metering::self_read_by_key(&mut tx, key).await? {
        if prev.outcome != "aceptada" {
            return Err(invalid("lectura", prev.message.unwrap_or_default()));
        }
        return Ok(Receipt {
            id: prev.id,
            accepted: prev.outcome == "aceptada",
            message: prev.message.unwrap_or_default(),
            read_at: prev.read_at,
            litres: prev.litres,
            since_last: None,
        });
    }
    let meter = db::repo::meters_of_contract(&mut tx, s.contract_id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            invalid(
                "lectura",
                "Tu contrato no tiene medidor; no hace falta enviar lectura.",
            )
        })?;
    // The phone's clock, unless it is off (future, or older than the queue keeps).
    let at = s
        .taken_at
        .filter(|t| *t <= now + validate::CLOCK_SKEW && *t >= now - MAX_AGE)
        .unwrap_or(now);
    let at = DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at);
    let register = Register::for_meter(meter.digits.max(1) as u32, meter.diameter_mm.max(0) as u32);
    let previous = db::metering::neighbourhood(&mut tx, &[(meter.id, at, at)])
        .await?
        .into_iter()
        .filter(|r| r.at < at && db::metering::MEASURED.contains(&r.quality.as_str()))
        .max_by_key(|r| r.at);
    let show = |l: i64| M3::from_litres(l).value().normalize().to_string();
    let checked = validate::check(
        register,
        previous.as_ref().map(|p| Reading {
            at: p.at,
            litres: p.litres.max(0) as u64,
        }),
        Reading {
            at,
            litres: s.litres,
        },
        now,
    );
    let refusal = match (&checked, &previous) {
        (Err(ingest::Error::Invalid { field, reason }), _) => Some((*field, reason.clone())),
        (Ok(c), Some(p)) if c.quality == Quality::ReverseFlow => Some((
            "lectura",
            format!(
                "La lectura es menor que la anterior ({} m³ el {}). Revisa los números del medidor.",
                show(p.litres),
                p.at.with_timezone(&record::ZONE).format("%d/%m/%Y")
            ),
        )),
        (Ok(c), Some(p)) if c.quality == Quality::ImplausibleJump => Some((
            "lectura",
            format!(
                "La lectura es mucho mayor de lo que el medidor puede marcar desde la anterior ({} m³). Revisa los números del medidor.",
                show(p.litres)
            ),
        )),
        _ => None,
    };
    let litres = i64::try_from(s.litres).unwrap_or(i64::MAX);
    if let Some((field, message)) = refusal {
        // Remember the refusal under the key: a queued copy arriving later gets the
        // same answer instead of a second attempt.
        db::metering::insert_self_read(
            &mut tx,
            key,
            s.contract_id,
            meter.id,
            at,
            litres,
            "rechazada",
            Some(&message),
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        return Err(invalid(field, message));
    }
    let outcome = record::record(
        &mut tx,
        Source::Ciudadano,
        &[Incoming {
            meter_id: meter.id,
            at,
            litres: Some(s.litres),
            alarms: 0,
            observation: None,
        }],
        now,
    )
    .await?;
    let message = match outcome.first() {
        Some(Outcome::Accepted { .. }) => "Recibimos tu lectura. Gracias.".to_string(),
        Some(Outcome::Duplicate) => "Ya teníamos una lectura de ese momento.".to_string(),
        Some(Outcome::Rejected { field, message }) => {
            return Err(invalid(field, message.clone()));
        }
        None => String::new(),
    };
    let id = db::metering::insert_self_read(
        &mut tx,
        key,
        s.contract_id,
        meter.id,
        at,
        litres,
        "aceptada",
        Some(&message),
        photo,
        now,
    )
    .await?;
    // While AquaCIS bills from its own readings, it gets the customer's reading too
    // (`solicitudIntroduccionLectura`, through the outbox, once per self-read).
    if matches!(outcome.first(), Some(Outcome::Accepted { .. }))
        && db::legacy::writes_to_legacy(&mut tx, "lecturas").await?
        && let Some(number) = db::repo::account_by_id(&mut tx, s.contract_id)
            .await?
            .map(|a| a.number)
    {
        db::repo::enqueue(
            &mut tx,
            db::legacy::LECTURA,
            &format!("{}:{id}", db::legacy::LECTURA),
            &serde_json::json!({
                "numContrato": number,
                "lectura": litres / 1000,
                "fecha": at.with_timezone(&record::ZONE).date_naive().to_string(),
            }),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Receipt {
        id,
        accepted: true,
        message,
        read_at: at,
        litres,
        since_last: checked
            .ok()
            .filter(|_| previous.is_some())
            .map(|c| c.consumption_litres),
    })
}
