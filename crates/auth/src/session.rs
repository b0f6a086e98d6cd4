//! Server-side sessions. The cookie carries `<tenant>.<token>`; only SHA-256(token) is
//! stored, so a database leak does not leak live sessions.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use db::{Scoped, TenantId, repo};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Auth, AuthError};

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Citizen {
        citizen_id: i64,
        contract_id: Option<i64>,
    },
    Staff {
        staff_id: i64,
        email: String,
        name: String,
        role: domain::StaffRole,
    },
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub session_id: i64,
    pub tenant: TenantId,
    pub actor: Actor,
}

/// A freshly created session: put `cookie_value()` in the cookie.
#[derive(Debug, Clone)]
pub struct NewSessionToken {
    pub tenant: TenantId,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl NewSessionToken {
    pub fn cookie_value(&self) -> String {
        format!("{}.{}", self.tenant.0, self.token)
    }
}

pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Split a cookie value into tenant and token; `None` if malformed.
pub fn parse_cookie(value: &str) -> Option<(TenantId, &str)> {
    let (t, token) = value.split_once('.')?;
    let t: i64 = t.parse().ok()?;
    if token.len() < 20 || token.len() > 100 {
        return None;
    }
    Some((TenantId(t), token))
}

pub(crate) async fn create(
    tx: &mut Scoped,
    actor: &Actor,
    ttl: Duration,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<NewSessionToken, AuthError> {
    let token = new_token();
    let expires_at = now + ttl;
    let (kind, citizen_id, staff_id, contract) = match actor {
        Actor::Citizen {
            citizen_id,
            contract_id,
        } => ("citizen", Some(*citizen_id), None, *contract_id),
        Actor::Staff { staff_id, .. } => ("staff", None, Some(*staff_id), None),
    };
    repo::insert_session(
        tx,
        &repo::NewSession {
            token_hash: &hash_token(&token),
            kind,
            citizen_id,
            staff_id,
            active_contract_id: contract,
            now,
            expires_at,
            ip,
        },
    )
    .await?;
    Ok(NewSessionToken {
        tenant: tx.tenant(),
        token,
        expires_at,
    })
}

impl Auth {
    /// Resolve a cookie value to a live session, sliding its expiry.
    pub async fn session(
        &self,
        cookie_value: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionInfo>, AuthError> {
        let Some((tenant, token)) = parse_cookie(cookie_value) else {
            return Ok(None);
        };
        let hash = hash_token(token);
        let mut tx = self.db.read(tenant).await?;
        let Some(s) = repo::session_by_token_hash(&mut tx, &hash, now).await? else {
            return Ok(None);
        };
        drop(tx);
        let actor = match s.kind.as_str() {
            "citizen" => Actor::Citizen {
                citizen_id: s
                    .citizen_id
                    .ok_or_else(|| AuthError::Internal("citizen session without citizen".into()))?,
                contract_id: s.active_contract_id,
            },
            _ => Actor::Staff {
                staff_id: s
                    .staff_id
                    .ok_or_else(|| AuthError::Internal("staff session without staff".into()))?,
                email: s.staff_email.unwrap_or_default(),
                name: s.staff_name.unwrap_or_default(),
                role: s
                    .staff_role
                    .as_deref()
                    .unwrap_or("")
                    .parse()
                    .map_err(|_| AuthError::Internal("unknown staff role".into()))?,
            },
        };
        // Slide the expiry at most once a minute: a write per request would serialise
        // every read on SQLite.
        if now - s.last_seen_at > Duration::minutes(1) {
            let ttl = match actor {
                Actor::Citizen { .. } => self.policy.citizen_session,
                Actor::Staff { .. } => self.policy.staff_session,
            };
            let mut w = self.db.write(tenant).await?;
            repo::touch_session(&mut w, s.id, now, now + ttl).await?;
            w.commit().await?;
        }
        Ok(Some(SessionInfo {
            session_id: s.id,
            tenant,
            actor,
        }))
    }

    /// End the session (logout). Unknown cookies are ignored.
    pub async fn logout(
        &self,
        cookie_value: &str,
        ip: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let Some((tenant, token)) = parse_cookie(cookie_value) else {
            return Ok(());
        };
        let hash = hash_token(token);
        let mut tx = self.db.write(tenant).await?;
        if let Some(s) = repo::session_by_token_hash(&mut tx, &hash, now).await? {
            repo::delete_session(&mut tx, &hash).await?;
            repo::record_event(
                &mut tx,
                repo::NewEvent {
                    actor_kind: if s.kind == "staff" {
                        "staff"
                    } else {
                        "citizen"
                    },
                    actor_id: s.staff_id.or(s.citizen_id),
                    action: "session.signed_out",
                    subject_kind: None,
                    subject_id: None,
                    data: serde_json::json!({}),
                    ip: Some(ip),
                    now,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
