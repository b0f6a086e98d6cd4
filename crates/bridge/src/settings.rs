//! Where each domain's truth lives, changed at run time by an admin (audited). A
//! domain without a stored setting reads and writes SUPRA only.

use chrono::{DateTime, Utc};
use db::{Db, TenantId};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    Contratos,
    Lecturas,
    Deuda,
    Ordenes,
    Pagos,
    DatosCliente,
}

impl Domain {
    pub const ALL: [Domain; 6] = [
        Domain::Contratos,
        Domain::Lecturas,
        Domain::Deuda,
        Domain::Ordenes,
        Domain::Pagos,
        Domain::DatosCliente,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Contratos => "contratos",
            Domain::Lecturas => "lecturas",
            Domain::Deuda => "deuda",
            Domain::Ordenes => "ordenes",
            Domain::Pagos => "pagos",
            Domain::DatosCliente => "datos_cliente",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Domain::Contratos => "Contratos",
            Domain::Lecturas => "Lecturas",
            Domain::Deuda => "Adeudos",
            Domain::Ordenes => "Órdenes de trabajo",
            Domain::Pagos => "Pagos",
            Domain::DatosCliente => "Datos del cliente",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        Domain::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| Error::Invalid {
                field: "dominio",
                message: format!("dominio desconocido: {s}"),
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadFrom {
    Supra,
    Legado,
}

impl ReadFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadFrom::Supra => "supra",
            ReadFrom::Legado => "legado",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "supra" => Ok(ReadFrom::Supra),
            "legado" => Ok(ReadFrom::Legado),
            _ => Err(Error::Invalid {
                field: "lecturas",
                message: "elija SUPRA o AquaCIS para las consultas".into(),
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteTo {
    Supra,
    Legado,
    Ambos,
}

impl WriteTo {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteTo::Supra => "supra",
            WriteTo::Legado => "legado",
            WriteTo::Ambos => "ambos",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "supra" => Ok(WriteTo::Supra),
            "legado" => Ok(WriteTo::Legado),
            "ambos" => Ok(WriteTo::Ambos),
            _ => Err(Error::Invalid {
                field: "escrituras",
                message: "elija SUPRA, AquaCIS o ambos para los cambios".into(),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub domain: Domain,
    pub reads: ReadFrom,
    pub writes: WriteTo,
    /// None: never changed (SUPRA only).
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<i64>,
}

/// Every domain's setting, defaults included.
pub async fn all(db: &Db, tenant: TenantId) -> Result<Vec<Setting>> {
    let mut tx = db.read(tenant).await?;
    let rows = db::legacy::domains(&mut tx).await?;
    Ok(Domain::ALL
        .into_iter()
        .map(|d| match rows.iter().find(|r| r.domain == d.as_str()) {
            Some(r) => Setting {
                domain: d,
                reads: ReadFrom::parse(&r.reads).unwrap_or(ReadFrom::Supra),
                writes: WriteTo::parse(&r.writes).unwrap_or(WriteTo::Supra),
                updated_at: Some(r.updated_at),
                updated_by: r.updated_by,
            },
            None => Setting {
                domain: d,
                reads: ReadFrom::Supra,
                writes: WriteTo::Supra,
                updated_at: None,
                updated_by: None,
            },
        })
        .collect())
}

pub async fn reads_from_legacy(db: &Db, tenant: TenantId, domain: Domain) -> Result<bool> {
    let mut tx = db.read(tenant).await?;
    Ok(db::legacy::domain(&mut tx, domain.as_str())
        .await?
        .is_some_and(|r| r.reads == ReadFrom::Legado.as_str()))
}

/// Change a domain's setting; audited with the old and new values.
pub async fn set(
    db: &Db,
    tenant: TenantId,
    domain: Domain,
    reads: ReadFrom,
    writes: WriteTo,
    staff_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = db.write(tenant).await?;
    let before = db::legacy::domain(&mut tx, domain.as_str()).await?;
    db::legacy::set_domain(
        &mut tx,
        domain.as_str(),
        reads.as_str(),
        writes.as_str(),
        staff_id,
        now,
    )
    .await?;
    db::repo::record_event(
        &mut tx,
        db::repo::NewEvent {
            actor_kind: if staff_id.is_some() { "staff" } else { "system" },
            actor_id: staff_id,
            action: "legacy.source_of_truth.changed",
            subject_kind: Some("legacy_domain"),
            subject_id: None,
            data: serde_json::json!({
                "dominio": domain.as_str(),
                "antes": before.map(|b| serde_json::json!({"lecturas": b.reads, "escrituras": b.writes})),
                "despues": {"lecturas": reads.as_str(), "escrituras": writes.as_str()},
            }),
            ip: None,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
