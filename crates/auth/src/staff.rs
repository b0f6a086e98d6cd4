//! Staff sign-in with e-mail and password.

use chrono::{DateTime, Utc};
use db::{TenantId, repo};
use domain::{Email, StaffRole};

use crate::session::{self, Actor, NewSessionToken};
use crate::{Auth, AuthError, password};

const WRONG: &str = "Correo o contraseña incorrectos.";

impl Auth {
    pub async fn staff_login(
        &self,
        tenant: TenantId,
        email_input: &str,
        password_input: &str,
        ip: &str,
        now: DateTime<Utc>,
    ) -> Result<(Actor, NewSessionToken), AuthError> {
        let email: Email = email_input.parse()?;
        if password_input.is_empty() {
            return Err(AuthError::field("contrasena", "Escribe tu contraseña."));
        }
        let mut tx = self.db.write(tenant).await?;
        let Some(user) = repo::staff_by_email(&mut tx, email.as_str()).await? else {
            // Same work and message as a wrong password: do not reveal who has an account.
            let pw = password_input.to_string();
            let _ = tokio::task::spawn_blocking(move || password::verify(&pw, DUMMY_HASH)).await;
            return Err(AuthError::field("contrasena", WRONG));
        };
        if !user.active {
            return Err(AuthError::field("contrasena", WRONG));
        }
        if let Some(until) = user.locked_until.filter(|u| *u > now) {
            let m = ((until - now).num_seconds() + 59) / 60;
            return Err(AuthError::RateLimited {
                message: format!(
                    "Demasiados intentos fallidos. Espera {m} minutos o pide ayuda a administración."
                ),
            });
        }
        let pw = password_input.to_string();
        let stored = user.password_hash.clone();
        let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &stored))
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        if !ok {
            let failures = user.failed_logins + 1;
            let lock = (failures >= self.policy.staff_max_failures)
                .then(|| now + self.policy.staff_lockout);
            repo::staff_login_result(
                &mut tx,
                user.id,
                if lock.is_some() { 0 } else { failures },
                lock,
            )
            .await?;
            repo::record_event(
                &mut tx,
                repo::NewEvent {
                    actor_kind: "staff",
                    actor_id: Some(user.id),
                    action: if lock.is_some() {
                        "staff.locked_out"
                    } else {
                        "staff.login_failed"
                    },
                    subject_kind: Some("staff"),
                    subject_id: Some(user.id),
                    data: serde_json::json!({"failures": failures}),
                    ip: Some(ip),
                    now,
                },
            )
            .await?;
            tx.commit().await?;
            return Err(AuthError::field("contrasena", WRONG));
        }
        let role: StaffRole = user
            .role
            .parse()
            .map_err(|_| AuthError::Internal("unknown role".into()))?;
        repo::staff_login_result(&mut tx, user.id, 0, None).await?;
        let actor = Actor::Staff {
            staff_id: user.id,
            email: user.email.clone(),
            name: user.full_name.clone(),
            role,
        };
        let token = session::create(&mut tx, &actor, self.policy.staff_session, ip, now).await?;
        repo::record_event(
            &mut tx,
            repo::NewEvent {
                actor_kind: "staff",
                actor_id: Some(user.id),
                action: "staff.signed_in",
                subject_kind: Some("staff"),
                subject_id: Some(user.id),
                data: serde_json::json!({"role": role.as_str()}),
                ip: Some(ip),
                now,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((actor, token))
    }
}

/// A valid argon2id hash of a random string, verified against when the e-mail is
/// unknown so both paths take the same time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2sW3mR2s6vQ0yq4Jb2c5nJt2hQ0f8b7aE9m1n3o5p7Q";
