//! Provider webhooks: verified and stored on the request path, applied from the queue.
//!
//! - [`accept_conekta`]: Conekta's signature (`digest`, RSA SHA-256 over the raw body
//!   with the utility's webhook key) is checked, stale events are refused, and the
//!   event is stored once per event id together with an outbox row — then answered.
//! - [`accept_stp`]: an STP abono (STP does not sign; its addresses are restricted at
//!   the network) is parsed — exact amounts — and stored once per abono id the same way.
//!   STP is always answered `confirmar`: money that names no contract waits for staff.
//! - [`process`]: the outbox worker takes a stored event. An abono is applied to the
//!   contract its CLABE names. For a Conekta payment the worker asks Conekta for the
//!   order (trusting what Conekta says now, not the event's copy) and applies it keyed
//!   by the order id, so `charge.paid` and `order.paid` of one payment — and any
//!   re-delivery — apply it once. Expiry, decline and cancellation move the reference.
//!
//! Nothing but storing happens on the request path, so a provider is answered in
//! milliseconds and a crash after the answer loses nothing: the stored event and its
//! outbox row were committed together.

use chrono::{DateTime, Utc};
use db::{Db, TenantId};
use payments::conekta::Event;

use crate::cobro::{Outcome, Received};
use crate::orders::{Providers, invalid};
use crate::{Error, Result};

/// Outbox kind of a stored provider webhook.
pub const WEBHOOK: &str = "payment.webhook";

/// What became of a delivered webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Stored and queued (id of the stored event).
    Queued(i64),
    /// Delivered before: nothing stored.
    Duplicate,
}

/// Why a webhook is refused (answered 4xx/5xx; nothing stored).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("{0}")]
    Signature(String),
    #[error("{0}")]
    Invalid(String),
    #[error("evento de hace más de {0} horas: no se procesa (¿reenvío antiguo?)")]
    Stale(i64),
    #[error("el organismo no tiene configurado este proveedor (llave de Conekta o prefijo STP)")]
    NotConfigured,
    #[error(transparent)]
    Db(#[from] db::Error),
}

/// Verify, store once and queue a Conekta webhook.
pub async fn accept_conekta(
    db: &Db,
    tenant: TenantId,
    providers: &Providers,
    digest: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> std::result::Result<Accepted, Refused> {
    let pem = {
        let mut tx = db.read(tenant).await?;
        db::payments::conekta_webhook_key(&mut tx).await?
    };
    let Some((_, pem)) = pem else {
        return Err(Refused::NotConfigured);
    };
    let key = payments::conekta::public_key(&pem).map_err(|e| Refused::Signature(e.to_string()))?;
    let digest = digest.ok_or_else(|| Refused::Signature("falta el encabezado digest".into()))?;
    payments::conekta::verify(&key, digest, body).map_err(|e| Refused::Signature(e.to_string()))?;
    let event = Event::parse(body).map_err(|e| Refused::Invalid(e.to_string()))?;
    if let Some(created) = event
        .created_at
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        && now - created > providers.max_event_age
    {
        return Err(Refused::Stale(providers.max_event_age.num_hours()));
    }
    let payload =
        std::str::from_utf8(body).map_err(|_| Refused::Invalid("el cuerpo no es UTF-8".into()))?;
    store(db, tenant, "conekta", &event.id, &event.kind, payload, now).await
}

/// Parse, store once and queue an STP abono.
pub async fn accept_stp(
    db: &Db,
    tenant: TenantId,
    body: &str,
    now: DateTime<Utc>,
) -> std::result::Result<Accepted, Refused> {
    let abono = payments::stp::Abono::parse(body).map_err(|e| Refused::Invalid(e.to_string()))?;
    {
        let mut tx = db.read(tenant).await?;
        if db::payments::stp_prefix(&mut tx).await?.is_none() {
            return Err(Refused::NotConfigured);
        }
    }
    store(db, tenant, "stp", &abono.id.to_string(), "abono", body, now).await
}

async fn store(
    db: &Db,
    tenant: TenantId,
    provider: &str,
    event_id: &str,
    kind: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> std::result::Result<Accepted, Refused> {
    let mut tx = db.write(tenant).await?;
    let Some(id) =
        db::payments::insert_webhook_event(&mut tx, provider, event_id, kind, payload, now).await?
    else {
        return Ok(Accepted::Duplicate);
    };
    db::repo::enqueue(
        &mut tx,
        WEBHOOK,
        &format!("{WEBHOOK}:{id}"),
        &serde_json::json!({ "event": id }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Accepted::Queued(id))
}

/// Process one stored webhook (the outbox worker). Idempotent: safe to run again
/// after a crash at any point. Returns a summary for the log.
pub async fn process(
    db: &Db,
    tenant: TenantId,
    providers: &Providers,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<String> {
    let id = payload
        .get("event")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| invalid("event", "falta el id del evento"))?;
    let row = {
        let mut tx = db.read(tenant).await?;
        db::payments::webhook_event(&mut tx, id)
            .await?
            .ok_or(Error::NotFound)?
    };
    if row.status != "pendiente" {
        return Ok(format!("evento {} ya procesado", row.event_id));
    }
    let (status, result) = match row.provider.as_str() {
        "stp" => apply_abono(db, tenant, &row.payload, now).await?,
        "conekta" => {
            let event = Event::parse(row.payload.as_bytes())
                .map_err(|e| invalid("evento", e.to_string()))?;
            settle(db, tenant, providers, &event, &row.payload, now).await?
        }
        other => ("ignorado", format!("proveedor desconocido {other}")),
    };
    let mut tx = db.write(tenant).await?;
    db::payments::finish_webhook_event(&mut tx, id, status, &result, now).await?;
    tx.commit().await?;
    Ok(format!(
        "{} {} {}: {result}",
        row.provider, row.kind, row.event_id
    ))
}

/// Apply a stored STP abono to the contract its CLABE names (or keep it unmatched).
async fn apply_abono(
    db: &Db,
    tenant: TenantId,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<(&'static str, String)> {
    let abono =
        payments::stp::Abono::parse(payload).map_err(|e| invalid("abono", e.to_string()))?;
    let prefix = {
        let mut tx = db.read(tenant).await?;
        db::payments::stp_prefix(&mut tx)
            .await?
            .ok_or_else(|| invalid("prefijo_stp", "el organismo no tiene prefijo STP"))?
    };
    let received = crate::cobro::from_stp_abono(&abono, &prefix, payload);
    let outcome = crate::cobro::apply(db, tenant, &received, now).await?;
    // A CoDi payment confirms its request — also when this is a retry after a crash
    // between the two (the payment is then a duplicate, the request still pending).
    if let (Some(_), Some(referencia), Some(contract_id)) = (
        &abono.folio_codi,
        &abono.referencia_numerica,
        received.contract_id,
    ) {
        let received_id = match &outcome {
            crate::cobro::Outcome::Applied { received_id, .. } => Some(*received_id),
            crate::cobro::Outcome::Duplicate => {
                let mut tx = db.read(tenant).await?;
                db::payments::received_by_key(&mut tx, &received.dedupe_key)
                    .await?
                    .filter(|r| r.contract_id == Some(contract_id))
                    .map(|r| r.id)
            }
            crate::cobro::Outcome::Unmatched { .. } => None,
        };
        if let Some(received_id) = received_id {
            crate::orders::settle_codi(db, tenant, referencia, contract_id, received_id, now)
                .await?;
        }
    }
    Ok(("procesado", format!("abono {}: {outcome:?}", abono.id)))
}

async fn settle(
    db: &Db,
    tenant: TenantId,
    providers: &Providers,
    event: &Event,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<(&'static str, String)> {
    let Some(order_id) = event.order_id.clone() else {
        return Ok(("ignorado", "el evento no trae orden".into()));
    };
    let mine = {
        let mut tx = db.read(tenant).await?;
        db::payments::order_by_provider_id(&mut tx, "conekta", &order_id).await?
    };
    let final_status = match event.kind.as_str() {
        "order.paid" | "charge.paid" => None,
        "order.expired" | "charge.expired" => Some("vencido"),
        "order.declined" | "charge.declined" => Some("rechazado"),
        "order.canceled" | "charge.canceled" => Some("cancelado"),
        _ => return Ok(("ignorado", format!("{} no cambia pagos", event.kind))),
    };
    if let Some(status) = final_status {
        let Some(mine) = mine else {
            return Ok(("ignorado", "orden desconocida".into()));
        };
        let mut tx = db.write(tenant).await?;
        let moved = status != "vencido" || mine.status == "pendiente";
        if moved {
            db::payments::settle_order(&mut tx, mine.id, status, None, None, now).await?;
        }
        tx.commit().await?;
        return Ok(("procesado", format!("orden {order_id} {status}")));
    }
    // Money: trust Conekta's current view of the order, not the event's copy.
    let Some(client) = &providers.conekta else {
        return Err(invalid(
            "conekta",
            "Conekta no está configurado; el evento espera",
        ));
    };
    let order = match client.order(&order_id).await {
        Ok(o) => o,
        Err(conekta::Error::NotFound(_)) => {
            return Ok(("ignorado", format!("Conekta no conoce la orden {order_id}")));
        }
        Err(e) => return Err(invalid("conekta", e.to_string())),
    };
    if !order.is_paid() {
        return Ok((
            "ignorado",
            format!(
                "Conekta reporta la orden {order_id} como {}",
                order.payment_status
            ),
        ));
    }
    let charge = order.first_charge();
    let paid_at = charge
        .and_then(|c| c.paid_at)
        .or(event.created_at)
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .unwrap_or(now);
    let channel = mine.as_ref().map_or_else(
        || match charge.map(|c| c.payment_method.object.as_str()) {
            Some("card_payment") => "card",
            Some("bank_transfer_payment") => "spei",
            _ => "oxxo",
        },
        |m| match m.channel.as_str() {
            "card" => "card",
            "spei" => "spei",
            _ => "oxxo",
        },
    );
    let reference = mine
        .as_ref()
        .and_then(|m| m.reference.clone())
        .unwrap_or_else(|| order_id.clone());
    let received = Received {
        channel,
        dedupe_key: format!("conekta:{order_id}"),
        contract_id: mine.as_ref().map(|m| m.contract_id),
        unmatched_reason: mine
            .is_none()
            .then(|| format!("la orden {order_id} de Conekta no es de una referencia nuestra")),
        amount_centavos: order.amount,
        forma_pago: crate::cobro::forma_of_channel(channel),
        paid_at,
        reference: &reference,
        payer: &order_payer(&order),
        num_operacion: charge.map(|c| c.id.clone()),
        payload,
        cash_session_id: None,
    };
    let outcome = crate::cobro::apply(db, tenant, &received, now).await?;
    let received_id = match &outcome {
        Outcome::Applied { received_id, .. } | Outcome::Unmatched { received_id } => {
            Some(*received_id)
        }
        Outcome::Duplicate => {
            let mut tx = db.read(tenant).await?;
            db::payments::received_by_key(&mut tx, &received.dedupe_key)
                .await?
                .map(|r| r.id)
        }
    };
    if let Some(mine) = &mine {
        let mut tx = db.write(tenant).await?;
        db::payments::settle_order(&mut tx, mine.id, "confirmado", None, received_id, now).await?;
        tx.commit().await?;
    }
    Ok(("procesado", format!("orden {order_id}: {outcome:?}")))
}

fn order_payer(order: &payments::conekta::Order) -> String {
    order
        .metadata
        .get("contrato")
        .and_then(serde_json::Value::as_str)
        .map(|c| format!("contrato {c}"))
        .unwrap_or_default()
}
