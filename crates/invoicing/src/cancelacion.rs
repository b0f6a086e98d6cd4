//! Cancelling stamped CFDIs with SAT's motivos (01–04).
//!
//! Staff ask ([`request`]): the document must be stamped, motivo 01 names a stamped
//! replacement of ours, and a note is required. One transaction marks the document
//! "cancelación en proceso", stores the request, writes the audit event and wakes the
//! fiscal worker. The worker ([`process`]) signs the request with the CSD and sends it
//! through the PAC (the acuse is stored as received), then asks SAT for the document's
//! state until it is Cancelado, or the request was refused — the acuse alone is never
//! taken to mean "cancelled". Refused or failed requests return the document to
//! "timbrado": it is still fiscally valid.

use chrono::{DateTime, Utc};
use db::cfdi::CancellationUpdate;
use db::repo::{NewEvent, record_event};
use db::{Db, TenantId};
use rust_decimal::Decimal;

use crate::fiscal::{issuer_of, local_fecha, wake_fiscal_worker};
use crate::{Actor, Error, Result};

/// SAT answers 205 ("UUID no existe") for a document stamped moments ago; such a request
/// is retried this many times before it is reported as failed.
const NOT_FOUND_RETRIES: i32 = 5;

fn invalid(field: &'static str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field,
        message: message.into(),
    }
}

/// A staff request to cancel a document.
#[derive(Debug, Clone)]
pub struct CancelRequest {
    pub document_id: i64,
    /// "01" … "04".
    pub motivo: String,
    /// UUID of the replacement CFDI (motivo 01 only).
    pub folio_sustitucion: Option<String>,
    /// Why, in staff's words (kept in the audit trail).
    pub note: String,
}

/// Validate and queue a cancellation (see the module docs). Returns the request id.
pub async fn request(
    db: &Db,
    tenant: TenantId,
    r: &CancelRequest,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<i64> {
    let motivo = cfdi::cancelacion::Motivo::parse(&r.motivo)
        .map_err(|_| invalid("motivo", "elija un motivo de cancelación del SAT (01 a 04)"))?;
    let note = r.note.trim();
    if note.chars().count() < 5 {
        return Err(invalid(
            "nota",
            "escriba por qué se cancela (al menos 5 caracteres); queda en la bitácora",
        ));
    }
    if note.chars().count() > 500 {
        return Err(invalid(
            "nota",
            "la nota es demasiado larga (máximo 500 caracteres)",
        ));
    }
    let mut tx = db.write(tenant).await?;
    let doc = db::cfdi::document(&mut tx, r.document_id)
        .await?
        .ok_or(Error::NotFound)?;
    let Some(uuid) = doc.uuid.clone().filter(|_| doc.status == "timbrado") else {
        return Err(invalid(
            "documento",
            match doc.status.as_str() {
                "cancelacion_en_proceso" => "este CFDI ya tiene una cancelación en proceso",
                "cancelado" => "este CFDI ya está cancelado",
                _ => "sólo se cancela un CFDI timbrado; uno sin timbrar no tiene validez fiscal",
            },
        ));
    };
    let sustitucion = r
        .folio_sustitucion
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let folio = cfdi::cancelacion::Folio::new(&uuid, motivo, sustitucion).map_err(|e| {
        invalid(
            "folio_sustitucion",
            match e {
                cfdi::Error::Invalid { reason, .. } => reason,
                other => other.to_string(),
            },
        )
    })?;
    if let Some(s) = folio.folio_sustitucion() {
        let replacement = db::cfdi::document_by_uuid(&mut tx, s).await?;
        if replacement.is_none_or(|d| d.status != "timbrado") {
            return Err(invalid(
                "folio_sustitucion",
                "el CFDI sustituto no es un CFDI timbrado de este organismo",
            ));
        }
    }
    let staff = match actor {
        Actor::Staff(id) => Some(id),
        Actor::System => None,
    };
    let id = db::cfdi::insert_cancellation(
        &mut tx,
        doc.id,
        motivo.code(),
        folio.folio_sustitucion(),
        note,
        staff,
        now,
    )
    .await?
    .ok_or_else(|| invalid("documento", "este CFDI ya tiene una cancelación en proceso"))?;
    record_event(
        &mut tx,
        NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "cfdi.cancel_requested",
            subject_kind: Some("cfdi"),
            subject_id: Some(doc.id),
            data: serde_json::json!({"cancellation_id": id, "uuid": uuid,
                "motivo": motivo.code(), "folio_sustitucion": folio.folio_sustitucion(),
                "nota": note}),
            ip: None,
            now,
        },
    )
    .await?;
    wake_fiscal_worker(&mut tx, &format!("cancelacion:{id}"), now).await?;
    tx.commit().await?;
    Ok(id)
}

/// What [`process`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CancelSummary {
    /// Requests SAT accepted for processing now.
    pub sent: usize,
    pub cancelled: usize,
    /// Refused by the receptor or SAT; the CFDI stays valid.
    pub refused: usize,
    /// The PAC refused the request: (request id, code, message).
    pub failed: Vec<(i64, String, String)>,
    /// Left for the next pass (PAC unreachable, SAT still deciding).
    pub pending: usize,
}

/// Send queued requests and follow those SAT is processing (see the module docs).
pub async fn process(
    db: &Db,
    tenant: TenantId,
    pac: &pac::Finkok,
    csd: &cfdi::csd::Csd,
) -> Result<CancelSummary> {
    let mut summary = CancelSummary::default();
    let queued = {
        let mut tx = db.read(tenant).await?;
        db::cfdi::cancellations_with_status(&mut tx, "solicitada", 100).await?
    };
    let issuer = issuer_of(db, tenant).await?;
    for c in queued {
        let doc = {
            let mut tx = db.read(tenant).await?;
            db::cfdi::document(&mut tx, c.document_id)
                .await?
                .ok_or(Error::NotFound)?
        };
        let uuid = doc.uuid.clone().unwrap_or_default();
        let motivo = cfdi::cancelacion::Motivo::parse(&c.motivo)?;
        let folio = cfdi::cancelacion::Folio::new(&uuid, motivo, c.folio_sustitucion.as_deref())?;
        let signed = cfdi::cancelacion::Cancelacion {
            rfc_emisor: issuer.rfc.clone(),
            fecha: local_fecha(Utc::now()).naive_local(),
            folios: vec![folio],
        }
        .sign(csd)?;
        let outcome = pac.cancel_signature(&signed).await;
        let now = Utc::now();
        let mut tx = db.write(tenant).await?;
        let update = match &outcome {
            Ok(pac::CancelOutcome::Answered { folios, acuse, .. }) => {
                let f = folios.iter().find(|f| f.uuid.eq_ignore_ascii_case(&uuid));
                match f {
                    Some(f) if f.accepted() => {
                        summary.sent += 1;
                        CancellationUpdate {
                            status: "en_proceso",
                            sat_estatus: Some("En proceso"),
                            acuse_xml: Some(acuse),
                            pac_code: Some(&f.estatus_uuid),
                            pac_message: None,
                        }
                    }
                    Some(f) if f.estatus_uuid == "205" && c.attempts + 1 < NOT_FOUND_RETRIES => {
                        summary.pending += 1;
                        CancellationUpdate {
                            status: "solicitada",
                            pac_code: Some("205"),
                            pac_message: Some(
                                "el SAT aún no registra el UUID; se reintenta más tarde",
                            ),
                            ..Default::default()
                        }
                    }
                    other => {
                        let code = other.map_or("sin_folio", |f| f.estatus_uuid.as_str());
                        let message = folio_message(code);
                        summary.failed.push((c.id, code.into(), message.into()));
                        CancellationUpdate {
                            status: "error",
                            acuse_xml: Some(acuse),
                            pac_code: Some(code),
                            pac_message: Some(message),
                            ..Default::default()
                        }
                    }
                }
            }
            Ok(pac::CancelOutcome::Rejected { code, message }) => {
                summary.failed.push((c.id, code.clone(), message.clone()));
                CancellationUpdate {
                    status: "error",
                    pac_code: Some(code),
                    pac_message: Some(message),
                    ..Default::default()
                }
            }
            Err(e) => {
                summary.pending += 1;
                let message = e.to_string();
                db::cfdi::update_cancellation(
                    &mut tx,
                    c.id,
                    &CancellationUpdate {
                        status: "solicitada",
                        pac_message: Some(&message),
                        ..Default::default()
                    },
                    now,
                )
                .await?;
                tx.commit().await?;
                continue;
            }
        };
        db::cfdi::update_cancellation(&mut tx, c.id, &update, now).await?;
        tx.commit().await?;
    }
    // Then ask SAT about every open request, including those just sent: cancellations
    // without acceptance usually show as Cancelado at once.
    let open = {
        let mut tx = db.read(tenant).await?;
        db::cfdi::cancellations_with_status(&mut tx, "en_proceso", 100).await?
    };
    for c in open {
        let doc = {
            let mut tx = db.read(tenant).await?;
            db::cfdi::document(&mut tx, c.document_id)
                .await?
                .ok_or(Error::NotFound)?
        };
        let total = Decimal::new(doc.total_centavos, 2).to_string();
        let status = pac
            .get_sat_status(
                &issuer.rfc,
                &doc.receptor_rfc,
                doc.uuid.as_deref().unwrap_or_default(),
                &total,
            )
            .await;
        let Ok(s) = status else {
            summary.pending += 1;
            continue;
        };
        let next = if s.estado == "Cancelado" {
            summary.cancelled += 1;
            "cancelado"
        } else if s.estatus_cancelacion == "Solicitud rechazada" {
            summary.refused += 1;
            "rechazado"
        } else {
            summary.pending += 1;
            "en_proceso"
        };
        let mut tx = db.write(tenant).await?;
        db::cfdi::update_cancellation(
            &mut tx,
            c.id,
            &CancellationUpdate {
                status: next,
                sat_estatus: Some(&s.estatus_cancelacion)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.as_str()),
                pac_code: Some(&s.codigo_estatus),
                ..Default::default()
            },
            Utc::now(),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(summary)
}

/// SAT's motivos as (code, description), for forms.
pub fn motivos() -> Vec<(&'static str, &'static str)> {
    cfdi::cancelacion::Motivo::ALL
        .iter()
        .map(|m| (m.code(), m.description()))
        .collect()
}

/// Finkok's per-folio codes in plain Spanish for the staff queue.
fn folio_message(code: &str) -> &'static str {
    match code {
        "203" => "el UUID no corresponde al RFC del emisor",
        "205" => "el SAT no encuentra el UUID",
        "207" => "motivo de cancelación no válido",
        "208" => "la fecha de la solicitud es posterior a la de la declaración",
        "no_cancelable" => "el CFDI tiene documentos relacionados vigentes; no es cancelable",
        _ => "el PAC no aceptó la solicitud de cancelación",
    }
}

/// One request, for the staff page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CancellationView {
    pub id: i64,
    pub motivo: String,
    pub motivo_label: String,
    pub folio_sustitucion: Option<String>,
    pub note: String,
    pub status: String,
    pub sat_estatus: Option<String>,
    pub pac_code: Option<String>,
    pub pac_message: Option<String>,
    pub has_acuse: bool,
    pub requested_at: DateTime<Utc>,
}

pub async fn of_document(
    db: &Db,
    tenant: TenantId,
    document_id: i64,
) -> Result<Vec<CancellationView>> {
    let mut tx = db.read(tenant).await?;
    Ok(db::cfdi::cancellations_of_document(&mut tx, document_id)
        .await?
        .into_iter()
        .map(|c| CancellationView {
            id: c.id,
            motivo_label: cfdi::cancelacion::Motivo::parse(&c.motivo)
                .map(|m| m.description().to_string())
                .unwrap_or_default(),
            motivo: c.motivo,
            folio_sustitucion: c.folio_sustitucion,
            note: c.note,
            status: c.status,
            sat_estatus: c.sat_estatus,
            pac_code: c.pac_code,
            pac_message: c.pac_message,
            has_acuse: c.acuse_xml.is_some(),
            requested_at: c.requested_at,
        })
        .collect())
}
