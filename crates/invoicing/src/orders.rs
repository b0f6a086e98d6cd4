//! Payment references from a provider (Conekta: OXXO cash, SPEI, card with 3-D Secure); the
//! provider's webhooks that settle them are [`crate::webhooks`].
//!
//! - [`create`]: a citizen (or staff) asks for a reference for an amount. Checked
//!   first: the amount (> 0; OXXO at most $10,000.00 per reference), that collection
//!   is not stopped for the contract, the citizen's idempotency key (a double submit
//!   is one order). A declined card comes back as a field error with Conekta's own
//!   message and the alternatives. A CoDi request ([`Method::Codi`]) needs no
//!   provider call: it is a QR for the contract's own CLABE, confirmed by the SPEI abono
//!   that carries its reference ([`settle_codi`]).

use chrono::{DateTime, Duration, Utc};
use db::payments::{NewOrder, OrderRow};
use db::{Db, TenantId};
use payments::conekta::{CustomerInfo, MethodRequest, OrderRequest};

use crate::{Error, Result};

/// The payment providers this deployment talks to.
#[derive(Debug, Clone)]
pub struct Providers {
    pub conekta: Option<conekta::Conekta>,
    /// Conekta.js and the public key, when cards are taken (the browser tokenizes).
    pub checkout: Option<payments::conekta::Checkout>,
    /// STP's conciliación service (SPEI statements).
    pub stp: Option<stp::Stp>,
    /// Where Conekta is, for staff ("api.conekta.io", "simulador local …").
    pub conekta_label: String,
    /// Days an OXXO reference stays valid.
    pub oxxo_days: i64,
    /// Older webhook events are refused (a replay, or a delivery retried for days).
    pub max_event_age: Duration,
}

impl Default for Providers {
    fn default() -> Self {
        Providers {
            conekta: None,
            checkout: None,
            stp: None,
            conekta_label: "sin configurar".into(),
            oxxo_days: 30,
            max_event_age: Duration::days(3),
        }
    }
}

/// How the citizen pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Oxxo,
    /// A Conekta card token made in the browser; `return_url` is where 3-D Secure
    /// sends the citizen back.
    Card {
        token_id: String,
        return_url: String,
    },
    /// A CoDi QR, paid by SPEI to the contract's CLABE (no Conekta).
    Codi,
    /// Conekta's SPEI option: a CLABE for this one order (for utilities without their
    /// own STP concentradora, whose contracts have no CLABE of their own).
    ConektaSpei,
}

impl Method {
    pub fn channel(&self) -> &'static str {
        match self {
            Method::Oxxo => "oxxo",
            Method::Card { .. } => "card",
            Method::Codi => "codi",
            Method::ConektaSpei => "spei",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewOrderRequest {
    pub contract_id: i64,
    pub citizen_id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub amount_centavos: i64,
    pub method: Method,
    /// From the form: one order per submit, whatever the network does.
    pub idempotency_key: String,
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field,
        message: message.into(),
    }
}

/// Ask the provider for a reference (or charge a card) and keep it.
pub async fn create(
    db: &Db,
    tenant: TenantId,
    providers: &Providers,
    r: &NewOrderRequest,
    now: DateTime<Utc>,
) -> Result<OrderRow> {
    if r.idempotency_key.trim().is_empty() || r.idempotency_key.len() > 100 {
        return Err(invalid(
            "clave",
            "falta la clave de la solicitud; recarga la página",
        ));
    }
    if r.amount_centavos <= 0 {
        return Err(invalid("importe", "escribe un importe mayor que cero"));
    }
    if r.method == Method::Oxxo && r.amount_centavos > payments::conekta::OXXO_MAX_CENTAVOS {
        return Err(invalid(
            "importe",
            "En OXXO se pueden pagar hasta $10,000.00 por referencia. Paga por SPEI o genera varias referencias.",
        ));
    }
    let account = {
        let mut tx = db.read(tenant).await?;
        if let Some(existing) = db::payments::order_by_key(&mut tx, &r.idempotency_key).await? {
            return if existing.contract_id == r.contract_id {
                Ok(existing)
            } else {
                Err(invalid("clave", "esa clave ya se usó; recarga la página"))
            };
        }
        if let Some(reason) = db::payments::collection_block(&mut tx, r.contract_id).await? {
            return Err(invalid(
                "importe",
                format!(
                    "No podemos recibir pagos de este contrato en línea ({reason}). Acude a una oficina de atención."
                ),
            ));
        }
        if let Some(invoice) = r.invoice_id {
            let bill = db::billing::invoice_by_id(&mut tx, invoice).await?;
            if bill.is_none_or(|b| b.contract_id != r.contract_id) {
                return Err(Error::NotFound);
            }
        }
        db::repo::account_by_id(&mut tx, r.contract_id)
            .await?
            .ok_or(Error::NotFound)?
    };
    if r.method == Method::Codi {
        return create_codi(db, tenant, r, now).await;
    }
    let Some(client) = &providers.conekta else {
        return Err(invalid(
            "metodo",
            "El pago en OXXO y con tarjeta no está disponible por ahora. Puedes pagar por SPEI con la CLABE de tu contrato.",
        ));
    };
    let expires_at = now + Duration::days(providers.oxxo_days.max(1));
    let method = match &r.method {
        Method::Oxxo => MethodRequest::Cash {
            expires_at: expires_at.timestamp(),
        },
        Method::Card { token_id, .. } => MethodRequest::Card {
            token_id: token_id.clone(),
        },
        Method::ConektaSpei => MethodRequest::Spei {
            expires_at: expires_at.timestamp(),
        },
        Method::Codi => return create_codi(db, tenant, r, now).await,
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("tenant_id".into(), tenant.0.into());
    metadata.insert("contrato".into(), account.number.clone().into());
    metadata.insert("contract_id".into(), account.contract_id.into());
    if let Some(i) = r.invoice_id {
        metadata.insert("invoice_id".into(), i.into());
    }
    metadata.insert("clave".into(), r.idempotency_key.clone().into());
    let customer = CustomerInfo {
        name: account.full_name.clone(),
        // Conekta requires both; a contract without them is identified by its number.
        email: account
            .email
            .clone()
            .unwrap_or_else(|| format!("contrato-{}@pagos.invalid", account.number)),
        phone: account
            .phone
            .clone()
            .unwrap_or_else(|| "+520000000000".into()),
    };
    let concept = format!("Agua, contrato {}", account.number);
    let mut request = OrderRequest::new(customer, &concept, r.amount_centavos, method, metadata)
        .map_err(|e| invalid("importe", e.to_string()))?;
    if let Method::Card { return_url, .. } = &r.method {
        request.return_url = Some(return_url.clone());
    }
    let order = match client.create_order(&request).await {
        Ok(o) => o,
        // Declined: nothing to keep at Conekta; tell the citizen what to do instead.
        Err(conekta::Error::Declined { message, .. }) => {
            return Err(invalid(
                "tarjeta",
                format!(
                    "{message} Puedes intentar con otra tarjeta, o pagar en OXXO o por transferencia SPEI."
                ),
            ));
        }
        Err(conekta::Error::Rejected { param, message, .. }) => {
            tracing::warn!(?param, %message, "Conekta refused an order");
            let field = if matches!(r.method, Method::Card { .. }) {
                "tarjeta"
            } else {
                "importe"
            };
            return Err(invalid(field, message));
        }
        Err(e) => {
            tracing::warn!(error = %e, "Conekta order not created");
            return Err(invalid(
                "metodo",
                "El servicio de pagos no respondió. Inténtalo en unos minutos o paga por SPEI.",
            ));
        }
    };
    let charge = order.first_charge();
    let method = charge.map(|c| c.payment_method.clone()).unwrap_or_default();
    let reference = method.reference.clone().or(method.clabe.clone());
    let redirect = order
        .next_action
        .as_ref()
        .map(|n| n.redirect_to_url.url.clone());
    let expires = method
        .expires_at
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0));
    let mut tx = db.write(tenant).await?;
    let id = db::payments::insert_order(
        &mut tx,
        &NewOrder {
            contract_id: r.contract_id,
            invoice_id: r.invoice_id,
            channel: r.method.channel(),
            provider: "conekta",
            provider_order_id: &order.id,
            amount_centavos: order.amount,
            reference: reference.as_deref(),
            redirect_url: redirect.as_deref(),
            expires_at: expires,
            status: "pendiente",
            failure: None,
            idempotency_key: &r.idempotency_key,
            citizen_id: r.citizen_id,
        },
        now,
    )
    .await?;
    let row = match id {
        Some(id) => db::payments::order_by_id(&mut tx, id).await?,
        // The same submit raced us here: theirs is the order.
        None => db::payments::order_by_key(&mut tx, &r.idempotency_key).await?,
    }
    .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// The contract's payment orders as the citizen sees them: a pending one past its
/// expiry shows as 'vencido'.
pub async fn of_contract(
    tx: &mut db::Scoped,
    contract_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<OrderRow>> {
    let mut rows = db::payments::orders_of_contract(tx, contract_id, 50).await?;
    for r in &mut rows {
        if r.status == "pendiente" && r.expires_at.is_some_and(|e| e < now) {
            r.status = "vencido".into();
        }
    }
    Ok(rows)
}

/// Where a card payment stands when the citizen comes back from 3-D Secure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardOutcome {
    /// Applied to the contract (the webhook came first).
    Confirmed { received_id: Option<i64> },
    /// The bank approved it; the webhook that applies it has not been processed yet.
    Approved,
    /// Declined or cancelled, with the provider's message.
    Declined { message: String },
    /// Still waiting for the cardholder or the bank.
    Pending,
}

/// What became of the card order `provider_order_id` of `contract_id`. The query
/// string the browser came back with is never trusted: the order is read from our
/// table and, while still pending there, from Conekta.
pub async fn card_outcome(
    db: &Db,
    tenant: TenantId,
    providers: &Providers,
    contract_id: i64,
    provider_order_id: &str,
) -> Result<(OrderRow, CardOutcome)> {
    let row = {
        let mut tx = db.read(tenant).await?;
        db::payments::order_by_provider_id(&mut tx, "conekta", provider_order_id).await?
    }
    .filter(|o| o.contract_id == contract_id && o.channel == "card")
    .ok_or(Error::NotFound)?;
    let outcome = match row.status.as_str() {
        "confirmado" => CardOutcome::Confirmed {
            received_id: row.received_id,
        },
        "rechazado" | "cancelado" | "vencido" => CardOutcome::Declined {
            message: row
                .failure
                .clone()
                .unwrap_or_else(|| "El banco no autorizó el cargo.".into()),
        },
        _ => match &providers.conekta {
            None => CardOutcome::Pending,
            Some(client) => match client.order(provider_order_id).await {
                Ok(order) => match order.payment_status.as_str() {
                    "paid" => CardOutcome::Approved,
                    "declined" | "canceled" | "expired" | "voided" => CardOutcome::Declined {
                        message: order
                            .first_charge()
                            .and_then(|c| c.failure_message.clone())
                            .unwrap_or_else(|| "El banco no autorizó el cargo.".into()),
                    },
                    _ => CardOutcome::Pending,
                },
                Err(e) => {
                    tracing::warn!(error = %e, "Conekta order not read back");
                    CardOutcome::Pending
                }
            },
        },
    };
    Ok((row, outcome))
}

/// Days a CoDi request stays payable.
pub const CODI_DAYS: i64 = 3;

/// A CoDi payment request (QR) for an amount: paid by SPEI from the payer's banking
/// app to the contract's own CLABE, with the request's `referenciaNumerica`. Kept as a
/// payment order (`provider` 'codi', the reference as its id) so the citizen sees it
/// pending and the abono that pays it confirms it ([`settle_codi`]). Reached through
/// [`create`] with [`Method::Codi`], after its checks.
async fn create_codi(
    db: &Db,
    tenant: TenantId,
    r: &NewOrderRequest,
    now: DateTime<Utc>,
) -> Result<OrderRow> {
    let mut tx = db.write(tenant).await?;
    if crate::cobro::spei_clabe(&mut tx, r.contract_id)
        .await?
        .is_none()
    {
        return Err(invalid(
            "metodo",
            "Este organismo aún no recibe pagos CoDi; elige OXXO.",
        ));
    }
    let expires = now + Duration::days(CODI_DAYS);
    for _ in 0..8 {
        let referencia: u32 = rand::Rng::gen_range(
            &mut rand::thread_rng(),
            1_000_000..=payments::codi::MAX_REFERENCIA,
        );
        let reference = referencia.to_string();
        let id = db::payments::insert_order(
            &mut tx,
            &NewOrder {
                contract_id: r.contract_id,
                invoice_id: r.invoice_id,
                channel: "codi",
                provider: "codi",
                provider_order_id: &reference,
                amount_centavos: r.amount_centavos,
                reference: Some(&reference),
                redirect_url: None,
                expires_at: Some(expires),
                status: "pendiente",
                failure: None,
                idempotency_key: &r.idempotency_key,
                citizen_id: r.citizen_id,
            },
            now,
        )
        .await?;
        if let Some(id) = id {
            let row = db::payments::order_by_id(&mut tx, id)
                .await?
                .ok_or(Error::NotFound)?;
            tx.commit().await?;
            return Ok(row);
        }
        // The key raced us (then theirs is the order), or the reference was taken.
        if let Some(existing) = db::payments::order_by_key(&mut tx, &r.idempotency_key).await? {
            tx.commit().await?;
            return Ok(existing);
        }
    }
    Err(invalid(
        "metodo",
        "No pudimos generar el código CoDi; inténtalo de nuevo.",
    ))
}

/// The QR of a CoDi order: the request's text for the contract's CLABE.
pub async fn codi_request(
    tx: &mut db::Scoped,
    order: &OrderRow,
    utility: &str,
) -> Result<payments::codi::MensajeCobro> {
    let referencia = order
        .reference
        .as_deref()
        .and_then(|r| r.parse::<u32>().ok())
        .filter(|_| order.channel == "codi")
        .ok_or(Error::NotFound)?;
    let clabe = crate::cobro::spei_clabe(tx, order.contract_id)
        .await?
        .and_then(|c| c.parse::<domain::Clabe>().ok())
        .ok_or(Error::NotFound)?;
    let number = db::repo::account_by_id(tx, order.contract_id)
        .await?
        .map(|a| a.number)
        .unwrap_or_default();
    payments::codi::MensajeCobro::new(
        order.amount_centavos,
        referencia,
        &format!("Agua contrato {number}"),
        order.expires_at,
        clabe,
        utility,
    )
    .map_err(|e| invalid("codi", e.to_string()))
}

/// An abono that pays a CoDi request (its `referenciaNumerica`, to the same contract)
/// confirms the request. Safe to repeat: only a pending request changes.
pub async fn settle_codi(
    db: &Db,
    tenant: TenantId,
    referencia: &str,
    contract_id: i64,
    received_id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = db.write(tenant).await?;
    let Some(order) = db::payments::order_by_provider_id(&mut tx, "codi", referencia).await? else {
        return Ok(false);
    };
    if order.contract_id != contract_id {
        return Ok(false);
    }
    let changed = db::payments::settle_order(
        &mut tx,
        order.id,
        "confirmado",
        None,
        Some(received_id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(changed)
}
