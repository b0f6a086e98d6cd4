//! Payments received from providers: each once (dedupe key), applied to a contract's
//! ledger or waiting, unmatched, for staff.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::{Result, Scoped, on};

/// A payment a provider reported.
#[derive(Debug, Clone)]
pub struct NewReceived<'a> {
    pub channel: &'a str,
    pub dedupe_key: &'a str,
    pub contract_id: Option<i64>,
    pub amount_centavos: i64,
    pub received_at: DateTime<Utc>,
    pub reference: &'a str,
    pub payer: &'a str,
    /// 'aplicado' or 'sin_asignar'.
    pub status: &'a str,
    pub reason: Option<&'a str>,
    pub ledger_entry_id: Option<i64>,
    /// The provider's message as received.
    pub payload: &'a str,
    /// The cashier's session, for counter payments.
    pub cash_session_id: Option<i64>,
}

/// Store it unless its dedupe key is known. `None` = a duplicate (nothing written).
pub async fn insert_received(
    tx: &mut Scoped,
    r: &NewReceived<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO payments_received (tenant_id, channel, dedupe_key,
        contract_id, amount_centavos, received_at, reference, payer, status, reason,
        ledger_entry_id, payload, created_at, cash_session_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT DO NOTHING RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(r.channel)
        .bind(r.dedupe_key)
        .bind(r.contract_id)
        .bind(r.amount_centavos)
        .bind(r.received_at)
        .bind(r.reference)
        .bind(r.payer)
        .bind(r.status)
        .bind(r.reason)
        .bind(r.ledger_entry_id)
        .bind(r.payload)
        .bind(now)
        .bind(r.cash_session_id)
        .fetch_optional(c)
        .await?))
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReceivedRow {
    pub id: i64,
    pub channel: String,
    pub dedupe_key: String,
    pub contract_id: Option<i64>,
    pub amount_centavos: i64,
    pub received_at: DateTime<Utc>,
    pub reference: String,
    pub payer: String,
    pub status: String,
    pub reason: Option<String>,
    pub ledger_entry_id: Option<i64>,
    pub cash_session_id: Option<i64>,
}

const COLUMNS: &str = "id, channel, dedupe_key, contract_id, amount_centavos, received_at,
    reference, payer, status, reason, ledger_entry_id, cash_session_id";

pub async fn received_by_key(tx: &mut Scoped, key: &str) -> Result<Option<ReceivedRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {COLUMNS} FROM payments_received WHERE tenant_id = $1 AND dedupe_key = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(key)
        .fetch_optional(c)
        .await?))
}

/// Payments in `status`, newest first.
pub async fn received_with_status(
    tx: &mut Scoped,
    status: &str,
    limit: i64,
) -> Result<Vec<ReceivedRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {COLUMNS} FROM payments_received WHERE tenant_id = $1 AND status = $2
        ORDER BY id DESC LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(status)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// The utility's STP prefix, if configured.
pub async fn stp_prefix(tx: &mut Scoped) -> Result<Option<String>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT stp_prefix FROM payment_settings WHERE tenant_id = $1";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .fetch_optional(c)
        .await?))
}

pub async fn save_stp_prefix(tx: &mut Scoped, prefix: &str, now: DateTime<Utc>) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO payment_settings (tenant_id, stp_prefix, updated_at)
        VALUES ($1, $2, $3)
        ON CONFLICT (tenant_id) DO UPDATE SET stp_prefix = excluded.stp_prefix,
            updated_at = excluded.updated_at";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(prefix)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Serialise payments of one contract until the transaction ends: on PostgreSQL a row
/// lock on the contract (two payments would otherwise read the same balance and claim the
/// same NumParcialidad); SQLite already runs one writer at a time.
pub async fn lock_contract(tx: &mut Scoped, contract_id: i64) -> Result<()> {
    if tx.backend() == crate::Backend::Postgres {
        let t = tx.tenant().0;
        const SQL: &str = "SELECT id FROM contracts WHERE tenant_id = $1 AND id = $2 FOR UPDATE";
        on!(tx, |c| sqlx::query(SQL)
            .bind(t)
            .bind(contract_id)
            .fetch_optional(c)
            .await
            .map(|_| ())?);
    }
    Ok(())
}

pub async fn received_by_id(tx: &mut Scoped, id: i64) -> Result<Option<ReceivedRow>> {
    let t = tx.tenant().0;
    let sql = format!("SELECT {COLUMNS} FROM payments_received WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// An unmatched payment assigned by staff. False when it was no longer unmatched.
pub async fn mark_assigned(
    tx: &mut Scoped,
    id: i64,
    contract_id: i64,
    ledger_entry_id: i64,
    note: &str,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE payments_received SET status = 'aplicado', contract_id = $3,
        ledger_entry_id = $4, reason = $5
        WHERE tenant_id = $1 AND id = $2 AND status = 'sin_asignar'";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(contract_id)
        .bind(ledger_entry_id)
        .bind(note)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// A payment order a provider gave us (an OXXO reference, a SPEI CLABE, a card charge).
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    pub contract_id: i64,
    pub invoice_id: Option<i64>,
    pub channel: &'a str,
    pub provider: &'a str,
    pub provider_order_id: &'a str,
    pub amount_centavos: i64,
    pub reference: Option<&'a str>,
    pub redirect_url: Option<&'a str>,
    pub expires_at: Option<DateTime<Utc>>,
    /// 'pendiente', or 'rechazado' for a declined card.
    pub status: &'a str,
    pub failure: Option<&'a str>,
    pub idempotency_key: &'a str,
    pub citizen_id: Option<i64>,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct OrderRow {
    pub id: i64,
    pub contract_id: i64,
    pub invoice_id: Option<i64>,
    pub channel: String,
    pub provider: String,
    pub provider_order_id: String,
    pub amount_centavos: i64,
    pub reference: Option<String>,
    pub redirect_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub status: String,
    pub failure: Option<String>,
    pub received_id: Option<i64>,
    pub idempotency_key: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ORDER_COLUMNS: &str = "id, contract_id, invoice_id, channel, provider, provider_order_id,
    amount_centavos, reference, redirect_url, expires_at, status, failure, received_id,
    idempotency_key, created_at, updated_at";

/// Store an order. `None` when its idempotency key (or provider id) is known already.
pub async fn insert_order(
    tx: &mut Scoped,
    o: &NewOrder<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO payment_orders (tenant_id, contract_id, invoice_id, channel,
        provider, provider_order_id, amount_centavos, reference, redirect_url, expires_at,
        status, failure, idempotency_key, citizen_id, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
        ON CONFLICT DO NOTHING RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(o.contract_id)
        .bind(o.invoice_id)
        .bind(o.channel)
        .bind(o.provider)
        .bind(o.provider_order_id)
        .bind(o.amount_centavos)
        .bind(o.reference)
        .bind(o.redirect_url)
        .bind(o.expires_at)
        .bind(o.status)
        .bind(o.failure)
        .bind(o.idempotency_key)
        .bind(o.citizen_id)
        .bind(now)
        .fetch_optional(c)
        .await?))
}

async fn order_where(
    tx: &mut Scoped,
    cond: &str,
    a: &str,
    b: Option<&str>,
) -> Result<Option<OrderRow>> {
    let t = tx.tenant().0;
    let sql = format!("SELECT {ORDER_COLUMNS} FROM payment_orders WHERE tenant_id = $1 AND {cond}");
    Ok(on!(tx, |c| {
        let q = sqlx::query_as(&sql).bind(t).bind(a);
        let q = match b {
            Some(b) => q.bind(b),
            None => q,
        };
        q.fetch_optional(c).await?
    }))
}

pub async fn order_by_key(tx: &mut Scoped, idempotency_key: &str) -> Result<Option<OrderRow>> {
    order_where(tx, "idempotency_key = $2", idempotency_key, None).await
}

pub async fn order_by_provider_id(
    tx: &mut Scoped,
    provider: &str,
    provider_order_id: &str,
) -> Result<Option<OrderRow>> {
    order_where(
        tx,
        "provider = $2 AND provider_order_id = $3",
        provider,
        Some(provider_order_id),
    )
    .await
}

pub async fn order_by_id(tx: &mut Scoped, id: i64) -> Result<Option<OrderRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {ORDER_COLUMNS} FROM payment_orders WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// A contract's orders, newest first.
pub async fn orders_of_contract(
    tx: &mut Scoped,
    contract_id: i64,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM payment_orders WHERE tenant_id = $1 AND contract_id = $2
        ORDER BY id DESC LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(contract_id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Move an order on from 'pendiente' (or 'vencido', which a late payment still
/// confirms). False when it had already moved.
pub async fn settle_order(
    tx: &mut Scoped,
    id: i64,
    status: &str,
    failure: Option<&str>,
    received_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE payment_orders SET status = $3, failure = $4, received_id = $5,
        updated_at = $6
        WHERE tenant_id = $1 AND id = $2 AND status IN ('pendiente', 'vencido')";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(status)
        .bind(failure)
        .bind(received_id)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// Store a verified webhook. `None` when this provider event was stored before.
pub async fn insert_webhook_event(
    tx: &mut Scoped,
    provider: &str,
    event_id: &str,
    kind: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO webhook_events (tenant_id, provider, event_id, kind, payload,
        status, received_at) VALUES ($1, $2, $3, $4, $5, 'pendiente', $6)
        ON CONFLICT DO NOTHING RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(provider)
        .bind(event_id)
        .bind(kind)
        .bind(payload)
        .bind(now)
        .fetch_optional(c)
        .await?))
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct WebhookEventRow {
    pub id: i64,
    pub provider: String,
    pub event_id: String,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub result: Option<String>,
    pub received_at: DateTime<Utc>,
}

pub async fn webhook_event(tx: &mut Scoped, id: i64) -> Result<Option<WebhookEventRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, provider, event_id, kind, payload, status, result, received_at
        FROM webhook_events WHERE tenant_id = $1 AND id = $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

pub async fn finish_webhook_event(
    tx: &mut Scoped,
    id: i64,
    status: &str,
    result: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE webhook_events SET status = $3, result = $4, processed_at = $5
        WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(status)
        .bind(result)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// The public key Conekta signs this utility's webhooks with: (key id, PEM).
pub async fn conekta_webhook_key(tx: &mut Scoped) -> Result<Option<(String, String)>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT webhook_key_id, webhook_public_key FROM conekta_settings WHERE tenant_id = $1";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .fetch_optional(c)
        .await?))
}

pub async fn save_conekta_webhook_key(
    tx: &mut Scoped,
    key_id: &str,
    pem: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO conekta_settings (tenant_id, webhook_key_id,
        webhook_public_key, updated_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (tenant_id) DO UPDATE SET webhook_key_id = excluded.webhook_key_id,
            webhook_public_key = excluded.webhook_public_key, updated_at = excluded.updated_at";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(key_id)
        .bind(pem)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Why collection is stopped for a contract, if it is.
pub async fn collection_block(tx: &mut Scoped, contract_id: i64) -> Result<Option<String>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT reason FROM collection_blocks WHERE tenant_id = $1 AND contract_id = $2";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(contract_id)
        .fetch_optional(c)
        .await?))
}

/// Stop (`Some(reason)`) or resume (`None`) collection for a contract.
pub async fn set_collection_block(
    tx: &mut Scoped,
    contract_id: i64,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    match reason {
        Some(reason) => {
            const SQL: &str = "INSERT INTO collection_blocks (tenant_id, contract_id, reason,
                created_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (tenant_id, contract_id) DO UPDATE SET reason = excluded.reason";
            on!(tx, |c| sqlx::query(SQL)
                .bind(t)
                .bind(contract_id)
                .bind(reason)
                .bind(now)
                .execute(c)
                .await
                .map(|_| ())?);
        }
        None => {
            const SQL: &str =
                "DELETE FROM collection_blocks WHERE tenant_id = $1 AND contract_id = $2";
            on!(tx, |c| sqlx::query(SQL)
                .bind(t)
                .bind(contract_id)
                .execute(c)
                .await
                .map(|_| ())?);
        }
    }
    Ok(())
}

/// Stored webhooks not yet processed.
pub async fn webhook_events_pending(tx: &mut Scoped) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT COUNT(*) FROM webhook_events WHERE tenant_id = $1 AND status = 'pendiente'";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .fetch_one(c)
        .await?))
}

/// All stored webhooks.
pub async fn webhook_events_count(tx: &mut Scoped) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT COUNT(*) FROM webhook_events WHERE tenant_id = $1";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .fetch_one(c)
        .await?))
}

/// Every payment received (applied or not).
pub async fn count_received(tx: &mut Scoped) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT COUNT(*) FROM payments_received WHERE tenant_id = $1";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .fetch_one(c)
        .await?))
}

/// Up to `limit` contract ids, lowest first (load generators, benchmarks).
pub async fn contract_ids(tx: &mut Scoped, limit: i64) -> Result<Vec<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id FROM contracts WHERE tenant_id = $1 ORDER BY id LIMIT $2";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct CashSessionRow {
    pub id: i64,
    pub staff_id: i64,
    pub opened_at: DateTime<Utc>,
    pub opening_float_centavos: i64,
    pub status: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub expected_cash_centavos: Option<i64>,
    pub counted_cash_centavos: Option<i64>,
    pub discrepancy_centavos: Option<i64>,
    pub note: Option<String>,
}

const SESSION_COLUMNS: &str = "id, staff_id, opened_at, opening_float_centavos, status,
    closed_at, expected_cash_centavos, counted_cash_centavos, discrepancy_centavos, note";

/// Open a session for a cashier. `None` when they have one open already.
pub async fn open_cash_session(
    tx: &mut Scoped,
    staff_id: i64,
    float_centavos: i64,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO cash_sessions (tenant_id, staff_id, opened_at,
        opening_float_centavos, status) VALUES ($1, $2, $3, $4, 'abierta')
        ON CONFLICT DO NOTHING RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(staff_id)
        .bind(now)
        .bind(float_centavos)
        .fetch_optional(c)
        .await?))
}

/// The cashier's open session.
pub async fn open_session_of(tx: &mut Scoped, staff_id: i64) -> Result<Option<CashSessionRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM cash_sessions
        WHERE tenant_id = $1 AND staff_id = $2 AND status = 'abierta'"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(staff_id)
        .fetch_optional(c)
        .await?))
}

pub async fn cash_session(tx: &mut Scoped, id: i64) -> Result<Option<CashSessionRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {SESSION_COLUMNS} FROM cash_sessions WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// The cashier's sessions, newest first.
pub async fn cash_sessions_of(
    tx: &mut Scoped,
    staff_id: i64,
    limit: i64,
) -> Result<Vec<CashSessionRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM cash_sessions WHERE tenant_id = $1 AND staff_id = $2
        ORDER BY id DESC LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(staff_id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Close an open session with its corte. False when it was not open.
pub async fn close_cash_session(
    tx: &mut Scoped,
    id: i64,
    expected: i64,
    counted: i64,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE cash_sessions SET status = 'cerrada', closed_at = $3,
        expected_cash_centavos = $4, counted_cash_centavos = $5,
        discrepancy_centavos = $5 - $4, note = $6
        WHERE tenant_id = $1 AND id = $2 AND status = 'abierta'";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(now)
        .bind(expected)
        .bind(counted)
        .bind(note)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// Payments a session took, oldest first.
pub async fn session_payments(tx: &mut Scoped, session_id: i64) -> Result<Vec<ReceivedRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {COLUMNS} FROM payments_received WHERE tenant_id = $1 AND cash_session_id = $2
        ORDER BY id"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(session_id)
        .fetch_all(c)
        .await?))
}

/// Payments whose dedupe key starts with `prefix` (a provider: `stp:`, `conekta:`)
/// received in `[from, to)`.
pub async fn received_between(
    tx: &mut Scoped,
    prefix: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ReceivedRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {COLUMNS} FROM payments_received WHERE tenant_id = $1
        AND dedupe_key LIKE $2 AND received_at >= $3 AND received_at < $4 ORDER BY id"
    );
    let like = format!("{prefix}%");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(&like)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await?))
}

/// A provider's orders created in `[from, to)`.
pub async fn orders_created_between(
    tx: &mut Scoped,
    provider: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<OrderRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM payment_orders WHERE tenant_id = $1 AND provider = $2
        AND created_at >= $3 AND created_at < $4 ORDER BY id"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(provider)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await?))
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReconciliationRunRow {
    pub id: i64,
    pub provider: String,
    pub day: chrono::NaiveDate,
    pub ran_at: DateTime<Utc>,
    pub statement_count: i64,
    pub ours_count: i64,
    pub matched: i64,
    pub issues: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReconciliationItem {
    pub kind: &'static str,
    pub provider_key: String,
    pub reference: String,
    pub statement_centavos: Option<i64>,
    pub ours_centavos: Option<i64>,
    pub received_id: Option<i64>,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReconciliationItemRow {
    pub id: i64,
    pub kind: String,
    pub provider_key: String,
    pub reference: String,
    pub statement_centavos: Option<i64>,
    pub ours_centavos: Option<i64>,
    pub received_id: Option<i64>,
}

/// Store a reconciliation run with its items.
#[allow(clippy::too_many_arguments)]
pub async fn insert_reconciliation(
    tx: &mut Scoped,
    provider: &str,
    day: chrono::NaiveDate,
    statement_count: i64,
    ours_count: i64,
    matched: i64,
    items: &[NewReconciliationItem],
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const RUN: &str = "INSERT INTO reconciliation_runs (tenant_id, provider, day, ran_at,
        statement_count, ours_count, matched, issues, error)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    let issues = items.len() as i64;
    let id: i64 = on!(tx, |c| sqlx::query_scalar(RUN)
        .bind(t)
        .bind(provider)
        .bind(day)
        .bind(now)
        .bind(statement_count)
        .bind(ours_count)
        .bind(matched)
        .bind(issues)
        .bind(error)
        .fetch_one(c)
        .await?);
    const ITEM: &str = "INSERT INTO reconciliation_items (tenant_id, run_id, kind, provider_key,
        reference, statement_centavos, ours_centavos, received_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    for i in items {
        on!(tx, |c| sqlx::query(ITEM)
            .bind(t)
            .bind(id)
            .bind(i.kind)
            .bind(&i.provider_key)
            .bind(&i.reference)
            .bind(i.statement_centavos)
            .bind(i.ours_centavos)
            .bind(i.received_id)
            .execute(c)
            .await
            .map(|_| ())?);
    }
    Ok(id)
}

const RUN_COLUMNS: &str =
    "id, provider, day, ran_at, statement_count, ours_count, matched, issues, error";

pub async fn reconciliation_runs(tx: &mut Scoped, limit: i64) -> Result<Vec<ReconciliationRunRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM reconciliation_runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

pub async fn reconciliation_run(tx: &mut Scoped, id: i64) -> Result<Option<ReconciliationRunRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {RUN_COLUMNS} FROM reconciliation_runs WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

pub async fn reconciliation_items(
    tx: &mut Scoped,
    run_id: i64,
) -> Result<Vec<ReconciliationItemRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, kind, provider_key, reference, statement_centavos,
        ours_centavos, received_id FROM reconciliation_items
        WHERE tenant_id = $1 AND run_id = $2 ORDER BY id";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(run_id)
        .fetch_all(c)
        .await?))
}

/// A contract's applied payments, newest first.
pub async fn received_of_contract(
    tx: &mut Scoped,
    contract_id: i64,
    limit: i64,
) -> Result<Vec<ReceivedRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {COLUMNS} FROM payments_received WHERE tenant_id = $1 AND contract_id = $2
        AND status = 'aplicado' ORDER BY received_at DESC, id DESC LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(contract_id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Payments matching `q`: the contract number, the reference or CLABE it was paid to
/// (prefix), or the provider key (`stp:…`, `conekta:ord_…`); newest first.
pub async fn search_received(
    tx: &mut Scoped,
    q: &str,
    limit: i64,
) -> Result<Vec<(ReceivedRow, Option<String>)>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {cols}, c.number AS contract_number FROM payments_received p
        LEFT JOIN contracts c ON c.tenant_id = p.tenant_id AND c.id = p.contract_id
        WHERE p.tenant_id = $1 AND (c.number = $2 OR p.reference LIKE $3 OR p.dedupe_key = $2
            OR p.dedupe_key = 'stp:' || $2 OR p.dedupe_key = 'conekta:' || $2)
        ORDER BY p.received_at DESC, p.id DESC LIMIT $4",
        cols = COLUMNS
            .split(',')
            .map(|c| format!("p.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let like = format!("{}%", q.replace(['%', '_'], ""));
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        r: ReceivedRow,
        contract_number: Option<String>,
    }
    let rows: Vec<Row> = on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(q)
        .bind(&like)
        .bind(limit)
        .fetch_all(c)
        .await?);
    Ok(rows.into_iter().map(|r| (r.r, r.contract_number)).collect())
}
