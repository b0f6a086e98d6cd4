//! Repository functions. Each takes a tenant-[`Scoped`] transaction and filters by
//! its tenant explicitly (RLS on PostgreSQL is the backstop, not the mechanism).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use crate::models::*;
use crate::{Result, Scoped, TenantId, on};

// ---------------------------------------------------------------- tenants

/// Tenants are public metadata; readable without a tenant scope.
pub async fn list_tenants(db: &crate::Db) -> Result<Vec<Tenant>> {
    const SQL: &str = "SELECT id, slug, name, short_name, hostname FROM tenants ORDER BY id";
    Ok(match db {
        crate::Db::Sqlite { read, .. } => sqlx::query_as(SQL).fetch_all(read).await?,
        crate::Db::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await?,
    })
}

// ---------------------------------------------------------------- accounts

const ACCOUNT_SELECT: &str =
    "SELECT c.id AS contract_id, c.number, c.use_type, c.tariff_class, c.status,
        c.start_date, c.vulnerable, p.id AS person_id, p.full_name, p.phone, p.email, p.rfc, p.curp,
        a.street, a.ext_number, a.int_number, a.colonia, a.municipio, a.cp, s.name AS sector_name,
        t.id AS toma_id, t.kind AS toma_kind, t.diameter_mm AS toma_diameter_mm,
        (SELECT CAST(COALESCE(SUM(l.amount_centavos), 0) AS BIGINT) FROM ledger_entries l
           WHERE l.tenant_id = c.tenant_id AND l.contract_id = c.id) AS balance_centavos
    FROM contracts c
    JOIN persons p ON p.id = c.person_id AND p.tenant_id = c.tenant_id
    JOIN tomas t ON t.id = c.toma_id AND t.tenant_id = c.tenant_id
    JOIN addresses a ON a.id = t.address_id AND a.tenant_id = c.tenant_id
    LEFT JOIN sectors s ON s.id = a.sector_id AND s.tenant_id = c.tenant_id";

pub async fn account_by_id(tx: &mut Scoped, contract_id: i64) -> Result<Option<AccountRow>> {
    let t = tx.tenant().0;
    let sql = format!("{ACCOUNT_SELECT} WHERE c.tenant_id = $1 AND c.id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(contract_id)
        .fetch_optional(c)
        .await?))
}

pub async fn contract_contact(tx: &mut Scoped, number: &str) -> Result<Option<ContractContact>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT c.id AS contract_id, c.number, c.status, p.phone, p.email
        FROM contracts c JOIN persons p ON p.id = c.person_id AND p.tenant_id = c.tenant_id
        WHERE c.tenant_id = $1 AND c.number = $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(number)
        .fetch_optional(c)
        .await?))
}

pub async fn meters_of_contract(tx: &mut Scoped, contract_id: i64) -> Result<Vec<MeterRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, serial, make, model, diameter_mm, digits, multiplier, installed_on, smart
        FROM meters WHERE tenant_id = $1 AND contract_id = $2 AND active = TRUE ORDER BY installed_on DESC, id DESC";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(contract_id)
        .fetch_all(c)
        .await?))
}

/// The newest `limit` readings of a meter, newest first.
pub async fn recent_readings(
    tx: &mut Scoped,
    meter_id: i64,
    limit: i64,
) -> Result<Vec<ReadingRow>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT id, meter_id, period, read_at, value_litres, source, quality
        FROM readings WHERE tenant_id = $1 AND meter_id = $2 ORDER BY read_at DESC LIMIT $3";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(meter_id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Accent- and case-insensitive partial search over contract number, titular, meter
/// serial, street/colonia and phone. `tokens` must already be normalised with
/// `domain::normalize_search` and split on spaces; every token must match.
pub async fn search_accounts(
    tx: &mut Scoped,
    tokens: &[String],
    limit: i64,
) -> Result<Vec<SearchHit>> {
    let t = tx.tenant().0;
    if tokens.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = String::from(
        "SELECT c.id AS contract_id, c.number, p.full_name, a.street, a.ext_number, a.colonia, a.municipio,
                c.status, c.use_type,
                (SELECT m.serial FROM meters m WHERE m.tenant_id = c.tenant_id AND m.contract_id = c.id
                   AND m.active = TRUE ORDER BY m.id DESC LIMIT 1) AS meter_serial
         FROM contracts c
         JOIN persons p ON p.id = c.person_id AND p.tenant_id = c.tenant_id
         JOIN tomas tm ON tm.id = c.toma_id AND tm.tenant_id = c.tenant_id
         JOIN addresses a ON a.id = tm.address_id AND a.tenant_id = c.tenant_id
         WHERE c.tenant_id = $1",
    );
    for i in 0..tokens.len() {
        sql.push_str(&format!(" AND c.search_text LIKE ${}", i + 2));
    }
    // Exact contract-number hits first, then by name.
    sql.push_str(&format!(
        " ORDER BY CASE WHEN c.number = ${} THEN 0 ELSE 1 END, p.full_name, c.number LIMIT ${}",
        tokens.len() + 2,
        tokens.len() + 3
    ));
    let patterns: Vec<String> = tokens
        .iter()
        .map(|tk| format!("%{}%", escape_like(tk)))
        .collect();
    let first = tokens[0].clone();
    Ok(on!(tx, |c| {
        let mut q = sqlx::query_as(&sql).bind(t);
        for p in &patterns {
            q = q.bind(p);
        }
        q.bind(&first).bind(limit).fetch_all(c).await?
    }))
}

fn escape_like(s: &str) -> String {
    // search_text only holds [a-z0-9 .@], so LIKE wildcards cannot come from data;
    // strip them from the query so "%" or "_" never widen a search.
    s.chars().filter(|c| *c != '%' && *c != '_').collect()
}

// ---------------------------------------------------------------- citizens

pub async fn citizen_by_primary_contract(tx: &mut Scoped, contract_id: i64) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT id FROM citizen_accounts WHERE tenant_id = $1 AND primary_contract_id = $2";
    Ok(on!(tx, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(t)
        .bind(contract_id)
        .fetch_optional(c)
        .await?))
}

pub async fn create_citizen(
    tx: &mut Scoped,
    primary_contract_id: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO citizen_accounts (tenant_id, primary_contract_id, created_at)
        VALUES ($1, $2, $3) RETURNING id";
    let id = on!(tx, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(t)
        .bind(primary_contract_id)
        .bind(now)
        .fetch_one(c)
        .await?);
    link_contract(tx, id, primary_contract_id, now).await?;
    Ok(id)
}

/// Link a contract to a citizen account; linking twice is a no-op.
pub async fn link_contract(
    tx: &mut Scoped,
    citizen_id: i64,
    contract_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str =
        "INSERT INTO citizen_contracts (tenant_id, citizen_id, contract_id, linked_at)
        VALUES ($1, $2, $3, $4) ON CONFLICT (citizen_id, contract_id) DO NOTHING";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(citizen_id)
        .bind(contract_id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn touch_citizen_login(
    tx: &mut Scoped,
    citizen_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str =
        "UPDATE citizen_accounts SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(citizen_id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn linked_contracts(tx: &mut Scoped, citizen_id: i64) -> Result<Vec<LinkedContract>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT c.id AS contract_id, c.number, a.street, a.ext_number, a.colonia
        FROM citizen_contracts cc
        JOIN contracts c ON c.id = cc.contract_id AND c.tenant_id = cc.tenant_id
        JOIN tomas tm ON tm.id = c.toma_id AND tm.tenant_id = c.tenant_id
        JOIN addresses a ON a.id = tm.address_id AND a.tenant_id = c.tenant_id
        WHERE cc.tenant_id = $1 AND cc.citizen_id = $2 ORDER BY cc.linked_at, c.number";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(citizen_id)
        .fetch_all(c)
        .await?))
}

pub async fn citizen_has_contract(
    tx: &mut Scoped,
    citizen_id: i64,
    contract_id: i64,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT COUNT(*) FROM citizen_contracts WHERE tenant_id = $1 AND citizen_id = $2 AND contract_id = $3";
    let n = on!(tx, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(t)
        .bind(citizen_id)
        .bind(contract_id)
        .fetch_one(c)
        .await?);
    Ok(n > 0)
}

// ---------------------------------------------------------------- one-time codes

pub struct NewOtp<'a> {
    pub contract_id: i64,
    pub purpose: &'a str,
    pub citizen_id: Option<i64>,
    pub code_hash: &'a str,
    pub channel: &'a str,
    pub destination_masked: &'a str,
    pub ip: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_otp(tx: &mut Scoped, o: &NewOtp<'_>) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str =
        "INSERT INTO otp_challenges (tenant_id, contract_id, purpose, citizen_id, code_hash,
            channel, destination_masked, ip, attempts, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(t)
        .bind(o.contract_id)
        .bind(o.purpose)
        .bind(o.citizen_id)
        .bind(o.code_hash)
        .bind(o.channel)
        .bind(o.destination_masked)
        .bind(o.ip)
        .bind(o.now)
        .bind(o.expires_at)
        .fetch_one(c)
        .await?))
}

const OTP_COLS: &str =
    "id, contract_id, purpose, citizen_id, code_hash, channel, destination_masked,
    attempts, created_at, expires_at, consumed_at, locked_until";

/// The newest challenge for a contract and purpose (consumed or not).
pub async fn latest_otp(
    tx: &mut Scoped,
    contract_id: i64,
    purpose: &str,
) -> Result<Option<OtpChallenge>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {OTP_COLS} FROM otp_challenges WHERE tenant_id = $1 AND contract_id = $2 AND purpose = $3
         ORDER BY created_at DESC, id DESC LIMIT 1"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(contract_id)
        .bind(purpose)
        .fetch_optional(c)
        .await?))
}

/// Latest lock (cool-down end) on any challenge of the contract still in the future.
pub async fn otp_locked_until(
    tx: &mut Scoped,
    contract_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT locked_until FROM otp_challenges
        WHERE tenant_id = $1 AND contract_id = $2 AND locked_until IS NOT NULL AND locked_until > $3
        ORDER BY locked_until DESC LIMIT 1";
    Ok(on!(tx, |c| sqlx::query_scalar::<_, DateTime<Utc>>(SQL)
        .bind(t)
        .bind(contract_id)
        .bind(now)
        .fetch_optional(c)
        .await?))
}

pub async fn count_otps_for_contract_since(
    tx: &mut Scoped,
    contract_id: i64,
    since: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT COUNT(*) FROM otp_challenges WHERE tenant_id = $1 AND contract_id = $2 AND created_at > $3";
    Ok(on!(tx, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(t)
        .bind(contract_id)
        .bind(since)
        .fetch_one(c)
        .await?))
}

pub async fn count_otps_for_ip_since(
    tx: &mut Scoped,
    ip: &str,
    since: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT COUNT(*) FROM otp_challenges WHERE tenant_id = $1 AND ip = $2 AND created_at > $3";
    Ok(on!(tx, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(t)
        .bind(ip)
        .bind(since)
        .fetch_one(c)
        .await?))
}

/// Record a wrong attempt; sets `locked_until` when `lock` is given.
pub async fn otp_failed_attempt(
    tx: &mut Scoped,
    id: i64,
    lock: Option<DateTime<Utc>>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE otp_challenges SET attempts = attempts + 1, locked_until = COALESCE($3, locked_until)
        WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(lock)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Mark consumed; returns false if it was already consumed (a replay).
pub async fn otp_consume(tx: &mut Scoped, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE otp_challenges SET consumed_at = $3 WHERE tenant_id = $1 AND id = $2 AND consumed_at IS NULL";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

// ---------------------------------------------------------------- staff

pub async fn staff_by_email(tx: &mut Scoped, email: &str) -> Result<Option<StaffUser>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT id, email, full_name, role, password_hash, active, failed_logins, locked_until
        FROM staff_users WHERE tenant_id = $1 AND email = $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(email)
        .fetch_optional(c)
        .await?))
}

pub async fn staff_login_result(
    tx: &mut Scoped,
    id: i64,
    failed_logins: i32,
    locked_until: Option<DateTime<Utc>>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE staff_users SET failed_logins = $3, locked_until = $4 WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(failed_logins)
        .bind(locked_until)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn insert_staff(
    tx: &mut Scoped,
    email: &str,
    full_name: &str,
    role: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO staff_users (tenant_id, email, full_name, role, password_hash, created_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (tenant_id, email) DO UPDATE SET full_name = excluded.full_name, role = excluded.role,
            password_hash = excluded.password_hash
        RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(t)
        .bind(email)
        .bind(full_name)
        .bind(role)
        .bind(password_hash)
        .bind(now)
        .fetch_one(c)
        .await?))
}

// ---------------------------------------------------------------- sessions

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub kind: &'a str,
    pub citizen_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub active_contract_id: Option<i64>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: &'a str,
}

pub async fn insert_session(tx: &mut Scoped, s: &NewSession<'_>) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO sessions (tenant_id, token_hash, kind, citizen_id, staff_id, active_contract_id,
            created_at, expires_at, last_seen_at, ip)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $9) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(t)
        .bind(s.token_hash)
        .bind(s.kind)
        .bind(s.citizen_id)
        .bind(s.staff_id)
        .bind(s.active_contract_id)
        .bind(s.now)
        .bind(s.expires_at)
        .bind(s.ip)
        .fetch_one(c)
        .await?))
}

pub async fn session_by_token_hash(
    tx: &mut Scoped,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT s.id, s.kind, s.citizen_id, s.staff_id, s.active_contract_id, s.expires_at, s.last_seen_at,
            u.email AS staff_email, u.full_name AS staff_name, u.role AS staff_role
        FROM sessions s LEFT JOIN staff_users u ON u.id = s.staff_id AND u.tenant_id = s.tenant_id
        WHERE s.tenant_id = $1 AND s.token_hash = $2 AND s.expires_at > $3
          AND (s.staff_id IS NULL OR u.active = TRUE)";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(c)
        .await?))
}

/// Slide the session's expiry (called at most once a minute per session).
pub async fn touch_session(
    tx: &mut Scoped,
    id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str =
        "UPDATE sessions SET last_seen_at = $3, expires_at = $4 WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn set_session_contract(tx: &mut Scoped, id: i64, contract_id: i64) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str =
        "UPDATE sessions SET active_contract_id = $3 WHERE tenant_id = $1 AND id = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(contract_id)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

pub async fn delete_session(tx: &mut Scoped, token_hash: &str) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "DELETE FROM sessions WHERE tenant_id = $1 AND token_hash = $2";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(token_hash)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

// ---------------------------------------------------------------- audit trail

pub struct NewEvent<'a> {
    pub actor_kind: &'a str,
    pub actor_id: Option<i64>,
    pub action: &'a str,
    pub subject_kind: Option<&'a str>,
    pub subject_id: Option<i64>,
    pub data: Value,
    pub ip: Option<&'a str>,
    pub now: DateTime<Utc>,
}

pub async fn record_event(tx: &mut Scoped, e: NewEvent<'_>) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str =
        "INSERT INTO domain_events (tenant_id, occurred_at, actor_kind, actor_id, action,
            subject_kind, subject_id, data, ip)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(t)
        .bind(e.now)
        .bind(e.actor_kind)
        .bind(e.actor_id)
        .bind(e.action)
        .bind(e.subject_kind)
        .bind(e.subject_id)
        .bind(Json(&e.data))
        .bind(e.ip)
        .fetch_one(c)
        .await?))
}

pub async fn events_for_subject(
    tx: &mut Scoped,
    kind: &str,
    id: i64,
    limit: i64,
) -> Result<Vec<DomainEvent>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT id, occurred_at, actor_kind, actor_id, action, subject_kind, subject_id, data, ip
        FROM domain_events WHERE tenant_id = $1 AND subject_kind = $2 AND subject_id = $3
        ORDER BY id DESC LIMIT $4";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(kind)
        .bind(id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

pub async fn recent_events(tx: &mut Scoped, limit: i64) -> Result<Vec<DomainEvent>> {
    let t = tx.tenant().0;
    const SQL: &str =
        "SELECT id, occurred_at, actor_kind, actor_id, action, subject_kind, subject_id, data, ip
        FROM domain_events WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

// ---------------------------------------------------------------- outbox

/// Enqueue a side effect in the caller's transaction. Enqueuing the same
/// `dedupe_key` twice is a no-op (returns false).
pub async fn enqueue(
    tx: &mut Scoped,
    kind: &str,
    dedupe_key: &str,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO outbox (tenant_id, kind, dedupe_key, payload, created_at, available_at, attempts)
        VALUES ($1, $2, $3, $4, $5, $5, 0) ON CONFLICT (tenant_id, dedupe_key) DO NOTHING";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(kind)
        .bind(dedupe_key)
        .bind(Json(payload))
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

const OUTBOX_COLS: &str =
    "id, kind, dedupe_key, payload, created_at, attempts, delivered_at, last_error,
    dead_at, sent_at";

pub async fn outbox_due(
    tx: &mut Scoped,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OutboxItem>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {OUTBOX_COLS} FROM outbox WHERE tenant_id = $1 AND delivered_at IS NULL AND dead_at IS NULL
         AND available_at <= $2 ORDER BY id LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(now)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

pub async fn outbox_recent(
    tx: &mut Scoped,
    kind_prefix: &str,
    limit: i64,
) -> Result<Vec<OutboxItem>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {OUTBOX_COLS} FROM outbox WHERE tenant_id = $1 AND kind LIKE $2 ORDER BY id DESC LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(format!("{kind_prefix}%"))
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Mark delivered, optionally replacing the payload (e.g. to drop a one-time code
/// once it has been handed to the channel). Returns false if already delivered.
pub async fn outbox_delivered(
    tx: &mut Scoped,
    id: i64,
    now: DateTime<Utc>,
    payload: Option<&Value>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str =
        "UPDATE outbox SET delivered_at = $3, attempts = attempts + 1, last_error = NULL,
            payload = COALESCE($4, payload)
        WHERE tenant_id = $1 AND id = $2 AND delivered_at IS NULL";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(now)
        .bind(payload.map(Json))
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

pub async fn outbox_failed(
    tx: &mut Scoped,
    id: i64,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str =
        "UPDATE outbox SET attempts = attempts + 1, last_error = $3, available_at = $4
        WHERE tenant_id = $1 AND id = $2 AND delivered_at IS NULL";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(error)
        .bind(retry_at)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Claim a due row for `lease`: true for exactly one caller (a compare-and-set on
/// `available_at`), so two dispatchers never work on the same row at once.
pub async fn outbox_claim(
    tx: &mut Scoped,
    id: i64,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE outbox SET available_at = $4
        WHERE tenant_id = $1 AND id = $2 AND delivered_at IS NULL AND dead_at IS NULL
          AND available_at <= $3";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(now)
        .bind(now + lease)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// A non-idempotent effect is about to go out: from now on its outcome is unknown
/// until it is marked delivered, and a later attempt must check before sending again.
pub async fn outbox_sending(tx: &mut Scoped, id: i64, now: DateTime<Utc>) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE outbox SET sent_at = $3
        WHERE tenant_id = $1 AND id = $2 AND delivered_at IS NULL";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Try again later without counting an attempt (nothing was attempted: e.g. the
/// provider's circuit breaker is open).
pub async fn outbox_postpone(
    tx: &mut Scoped,
    id: i64,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE outbox SET last_error = $3, available_at = $4
        WHERE tenant_id = $1 AND id = $2 AND delivered_at IS NULL";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(error)
        .bind(retry_at)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Give up on a row until staff replay it (a dead letter).
pub async fn outbox_dead(tx: &mut Scoped, id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE outbox SET attempts = attempts + 1, last_error = $3, dead_at = $4
        WHERE tenant_id = $1 AND id = $2 AND delivered_at IS NULL";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(error)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Dead letters whose kind starts with `kind_prefix`, newest first.
pub async fn outbox_dead_letters(
    tx: &mut Scoped,
    kind_prefix: &str,
    limit: i64,
) -> Result<Vec<OutboxItem>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {OUTBOX_COLS} FROM outbox WHERE tenant_id = $1 AND kind LIKE $2
         AND delivered_at IS NULL AND dead_at IS NOT NULL ORDER BY dead_at DESC, id DESC LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(format!("{kind_prefix}%"))
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Put a dead letter back in the queue, due now, with its attempts counted afresh
/// (`sent_at` is kept: a replay still checks before sending again). False if the row
/// is not a dead letter.
pub async fn outbox_replay(tx: &mut Scoped, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE outbox SET dead_at = NULL, attempts = 0, available_at = $3
        WHERE tenant_id = $1 AND id = $2 AND delivered_at IS NULL AND dead_at IS NOT NULL";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// Undelivered rows of a kind prefix: (waiting, dead).
pub async fn outbox_depth(tx: &mut Scoped, kind_prefix: &str) -> Result<(i64, i64)> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT
            CAST(COALESCE(SUM(CASE WHEN dead_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN dead_at IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT)
        FROM outbox WHERE tenant_id = $1 AND kind LIKE $2 AND delivered_at IS NULL";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(format!("{kind_prefix}%"))
        .fetch_one(c)
        .await?))
}

impl TenantId {
    pub fn new(id: i64) -> Self {
        TenantId(id)
    }
}
