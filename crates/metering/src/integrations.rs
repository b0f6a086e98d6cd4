//! Senders allowed to post readings (ChirpStack's HTTP integration). ChirpStack does
//! not sign its requests; the integration is configured with a header carrying a
//! secret we issued. Only the secret's SHA-256 is stored.

use chrono::{DateTime, Utc};
use db::{Db, TenantId};
use sha2::{Digest, Sha256};

use crate::Result;

/// The kind of integration for ChirpStack's HTTP integration.
pub const CHIRPSTACK_HTTP: &str = "chirpstack_http";

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Create (or re-key) integration `name` with `secret`.
pub async fn set(
    db: &Db,
    tenant: TenantId,
    name: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if secret.len() < 24 {
        return Err(crate::Error::Invalid {
            field: "secreto",
            message: "el secreto debe tener al menos 24 caracteres".into(),
        });
    }
    let mut tx = db.write(tenant).await?;
    db::metering::upsert_integration(&mut tx, name, CHIRPSTACK_HTTP, &digest(secret), now).await?;
    tx.commit().await?;
    Ok(())
}

/// The name of the integration `secret` belongs to, if any.
pub async fn authenticate(
    db: &Db,
    tenant: TenantId,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    let mut tx = db.write(tenant).await?;
    let name =
        db::metering::integration_by_secret(&mut tx, CHIRPSTACK_HTTP, &digest(secret), now).await?;
    tx.commit().await?;
    Ok(name)
}
