//! Citizen sign-in with a one-time code.

use chrono::{DateTime, Utc};
use db::{TenantId, repo};
use domain::{ContractNumber, Email, PhoneMx};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::session::{self, Actor, NewSessionToken};
use crate::{Auth, AuthError};

/// Why a code is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Sign in with a contract.
    Login,
    /// Add another contract to the signed-in citizen's account.
    Link { citizen_id: i64 },
}

impl Purpose {
    fn as_str(&self) -> &'static str {
        match self {
            Purpose::Login => "login",
            Purpose::Link { .. } => "link",
        }
    }
}

/// Where the code went, for the "Te enviamos un código al *** *** 45 67" message.
#[derive(Debug, Clone)]
pub struct CodeSent {
    pub contract_number: String,
    pub channel: &'static str,
    pub destination_masked: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct CitizenSignedIn {
    pub citizen_id: i64,
    pub contract_id: i64,
    /// `None` when a contract was linked to an existing session.
    pub session: Option<NewSessionToken>,
}

fn code_mac(key: &[u8], tenant: TenantId, contract_id: i64, code: &str) -> String {
    // The MAC binds the code to its tenant and contract.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(format!("{}:{}:{}", tenant.0, contract_id, code).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn parse_code(input: &str) -> Result<String, AuthError> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.is_empty() {
        return Err(AuthError::field(
            "codigo",
            "Escribe el código de 6 números que te enviamos.",
        ));
    }
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(AuthError::field(
            "codigo",
            "El código tiene 6 números, sin letras ni espacios.",
        ));
    }
    Ok(digits)
}

fn minutes_until(t: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    ((t - now).num_seconds() + 59).max(60) / 60
}

fn cooldown_message(until: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let m = minutes_until(until, now);
    format!(
        "Por seguridad bloqueamos el acceso con este contrato. Espera {m} {} y pide un código nuevo.",
        if m == 1 { "minuto" } else { "minutos" }
    )
}

impl Auth {
    /// Send a one-time code to the phone (or else e-mail) on file for the contract.
    pub async fn request_code(
        &self,
        tenant: TenantId,
        contract_input: &str,
        purpose: Purpose,
        ip: &str,
        now: DateTime<Utc>,
    ) -> Result<CodeSent, AuthError> {
        let number: ContractNumber = contract_input.parse()?;
        let mut tx = self.db.write(tenant).await?;
        let Some(contract) = repo::contract_contact(&mut tx, number.as_str()).await? else {
            return Err(AuthError::field(
                "contrato",
                "No encontramos ese número de contrato. Revísalo en tu recibo de agua.",
            ));
        };
        if contract.status == "baja" {
            return Err(AuthError::field(
                "contrato",
                "Este contrato está dado de baja. Acude a una oficina de atención si necesitas ayuda.",
            ));
        }
        if let Some(until) = repo::otp_locked_until(&mut tx, contract.contract_id, now).await? {
            return Err(AuthError::RateLimited {
                message: cooldown_message(until, now),
            });
        }
        let p = &self.policy;
        if repo::count_otps_for_contract_since(
            &mut tx,
            contract.contract_id,
            now - p.contract_window,
        )
        .await?
            >= p.codes_per_contract
        {
            return Err(AuthError::RateLimited {
                message: format!(
                    "Ya te enviamos {} códigos. Espera {} minutos antes de pedir otro.",
                    p.codes_per_contract,
                    p.contract_window.num_minutes()
                ),
            });
        }
        if repo::count_otps_for_ip_since(&mut tx, ip, now - p.ip_window).await? >= p.codes_per_ip {
            return Err(AuthError::RateLimited {
                message: "Se pidieron demasiados códigos desde esta conexión. Intenta más tarde."
                    .into(),
            });
        }
        // Phone first (SMS reaches everyone); e-mail if there is no valid phone.
        let phone = contract
            .phone
            .as_deref()
            .and_then(|p| p.parse::<PhoneMx>().ok());
        let email = contract
            .email
            .as_deref()
            .and_then(|e| e.parse::<Email>().ok());
        let (channel, to, masked) = match (phone, email) {
            (Some(p), _) => ("sms", p.e164(), p.masked()),
            (None, Some(e)) => ("email", e.as_str().to_string(), e.masked()),
            (None, None) => {
                return Err(AuthError::field(
                    "contrato",
                    "Tu contrato no tiene teléfono ni correo registrado. Acude a una oficina de atención con tu recibo para registrarlo.",
                ));
            }
        };
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
        let expires_at = now + p.code_ttl;
        let citizen_id = match purpose {
            Purpose::Link { citizen_id } => Some(citizen_id),
            Purpose::Login => None,
        };
        let challenge = repo::insert_otp(
            &mut tx,
            &repo::NewOtp {
                contract_id: contract.contract_id,
                purpose: purpose.as_str(),
                citizen_id,
                code_hash: &code_mac(&self.secrets.code_key, tenant, contract.contract_id, &code),
                channel,
                destination_masked: &masked,
                ip,
                now,
                expires_at,
            },
        )
        .await?;
        let text = format!(
            "Tu código para entrar a SUPRA Agua es {code}. Vence en {} minutos. No lo compartas con nadie.",
            p.code_ttl.num_minutes()
        );
        repo::enqueue(
            &mut tx,
            &format!("notify.{channel}"),
            &format!("otp:{challenge}"),
            &serde_json::json!({
                "to": to,
                "to_masked": masked,
                "contract": contract.number,
                "purpose": "codigo_acceso",
                "text": text,
            }),
            now,
        )
        .await?;
        repo::record_event(
            &mut tx,
            repo::NewEvent {
                actor_kind: if citizen_id.is_some() { "citizen" } else { "system" },
                actor_id: citizen_id,
                action: "citizen.code_requested",
                subject_kind: Some("contract"),
                subject_id: Some(contract.contract_id),
                data: serde_json::json!({"channel": channel, "to": masked, "purpose": purpose.as_str()}),
                ip: Some(ip),
                now,
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(contract = %contract.number, channel, "one-time code enqueued");
        Ok(CodeSent {
            contract_number: contract.number,
            channel,
            destination_masked: masked,
            expires_at,
        })
    }

    /// Check a code. On success either signs in (new session) or, for
    /// [`Purpose::Link`], links the contract to the citizen's account.
    pub async fn verify_code(
        &self,
        tenant: TenantId,
        contract_input: &str,
        code_input: &str,
        purpose: Purpose,
        ip: &str,
        now: DateTime<Utc>,
    ) -> Result<CitizenSignedIn, AuthError> {
        let number: ContractNumber = contract_input.parse()?;
        let code = parse_code(code_input)?;
        let mut tx = self.db.write(tenant).await?;
        let Some(contract) = repo::contract_contact(&mut tx, number.as_str()).await? else {
            return Err(AuthError::field(
                "contrato",
                "No encontramos ese número de contrato.",
            ));
        };
        if let Some(until) = repo::otp_locked_until(&mut tx, contract.contract_id, now).await? {
            return Err(AuthError::RateLimited {
                message: cooldown_message(until, now),
            });
        }
        let challenge = repo::latest_otp(&mut tx, contract.contract_id, purpose.as_str()).await?;
        let Some(ch) = challenge.filter(|c| c.consumed_at.is_none()) else {
            return Err(AuthError::field("codigo", "Primero pide un código."));
        };
        if let Purpose::Link { citizen_id } = purpose
            && ch.citizen_id != Some(citizen_id)
        {
            return Err(AuthError::field("codigo", "Primero pide un código."));
        }
        if ch.expires_at <= now {
            return Err(AuthError::field(
                "codigo",
                "El código venció. Pide uno nuevo.",
            ));
        }
        let expected = code_mac(&self.secrets.code_key, tenant, contract.contract_id, &code);
        let ok: bool = expected.as_bytes().ct_eq(ch.code_hash.as_bytes()).into();
        if !ok {
            let attempts = ch.attempts + 1;
            let left = self.policy.max_attempts - attempts;
            let lock = (left <= 0).then(|| now + self.policy.cooldown);
            repo::otp_failed_attempt(&mut tx, ch.id, lock).await?;
            repo::record_event(
                &mut tx,
                repo::NewEvent {
                    actor_kind: "system",
                    actor_id: None,
                    action: if lock.is_some() {
                        "citizen.code_locked"
                    } else {
                        "citizen.code_wrong"
                    },
                    subject_kind: Some("contract"),
                    subject_id: Some(contract.contract_id),
                    data: serde_json::json!({"attempts": attempts}),
                    ip: Some(ip),
                    now,
                },
            )
            .await?;
            tx.commit().await?;
            return Err(match lock {
                Some(until) => AuthError::RateLimited {
                    message: format!(
                        "Escribiste mal el código {} veces. {}",
                        self.policy.max_attempts,
                        cooldown_message(until, now)
                    ),
                },
                None => AuthError::field(
                    "codigo",
                    format!(
                        "El código no es correcto. Te {} {left} {}.",
                        if left == 1 { "queda" } else { "quedan" },
                        if left == 1 { "intento" } else { "intentos" }
                    ),
                ),
            });
        }
        if !repo::otp_consume(&mut tx, ch.id, now).await? {
            return Err(AuthError::field(
                "codigo",
                "Ese código ya se usó. Pide uno nuevo.",
            ));
        }
        let (citizen_id, session, action) = match purpose {
            Purpose::Login => {
                let citizen_id =
                    match repo::citizen_by_primary_contract(&mut tx, contract.contract_id).await? {
                        Some(id) => id,
                        None => repo::create_citizen(&mut tx, contract.contract_id, now).await?,
                    };
                repo::touch_citizen_login(&mut tx, citizen_id, now).await?;
                let s = session::create(
                    &mut tx,
                    &Actor::Citizen {
                        citizen_id,
                        contract_id: Some(contract.contract_id),
                    },
                    self.policy.citizen_session,
                    ip,
                    now,
                )
                .await?;
                (citizen_id, Some(s), "citizen.signed_in")
            }
            Purpose::Link { citizen_id } => {
                repo::link_contract(&mut tx, citizen_id, contract.contract_id, now).await?;
                (citizen_id, None, "citizen.contract_linked")
            }
        };
        repo::record_event(
            &mut tx,
            repo::NewEvent {
                actor_kind: "citizen",
                actor_id: Some(citizen_id),
                action,
                subject_kind: Some("contract"),
                subject_id: Some(contract.contract_id),
                data: serde_json::json!({}),
                ip: Some(ip),
                now,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(CitizenSignedIn {
            citizen_id,
            contract_id: contract.contract_id,
            session,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_parsed_strictly() {
        assert_eq!(parse_code(" 123 456 ").ok().as_deref(), Some("123456"));
        assert!(parse_code("").is_err());
        assert!(parse_code("12345").is_err());
        assert!(parse_code("12a456").is_err());
    }

    #[test]
    fn mac_binds_tenant_and_contract() {
        let k = b"k";
        let a = code_mac(k, TenantId(1), 7, "123456");
        assert_ne!(a, code_mac(k, TenantId(2), 7, "123456"));
        assert_ne!(a, code_mac(k, TenantId(1), 8, "123456"));
        assert_eq!(a, code_mac(k, TenantId(1), 7, "123456"));
    }
}
