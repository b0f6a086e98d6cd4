//! The utility's CSD: loaded from `[cfdi] csd_dir/<tenant slug>/` (`csd.cer`, `csd.key`,
//! `password.txt`), or — in development only — generated there on first use, clearly
//! marked as not issued by SAT.

use std::path::PathBuf;

use anyhow::Context;
use db::{Db, TenantId};

use crate::{Config, Mode};

/// Days before expiry from which staff are warned.
pub use invoicing::fiscal::CSD_WARNING_DAYS;

fn csd_paths(config: &Config, slug: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = PathBuf::from(&config.cfdi.csd_dir).join(slug);
    (
        dir.join("csd.cer"),
        dir.join("csd.key"),
        dir.join("password.txt"),
    )
}

/// Load the tenant's CSD and check it belongs to the issuer on file.
pub async fn load_csd(
    config: &Config,
    db: &Db,
    tenant: TenantId,
    slug: &str,
) -> anyhow::Result<cfdi::csd::Csd> {
    let issuer = {
        let mut tx = db.read(tenant).await?;
        db::cfdi::issuer(&mut tx)
            .await?
            .context("the tenant has no CFDI issuer data (cfdi_issuers)")?
    };
    let (cer, key, pass) = csd_paths(config, slug);
    if !cer.exists() && config.mode == Mode::Development {
        generate_demo_csd(&issuer, &cer, &key, &pass)?;
    }
    let csd = cfdi::csd::Csd::from_files(&cer, &key, &pass)
        .with_context(|| format!("loading the CSD from {}", cer.display()))?;
    anyhow::ensure!(
        csd.certificate().rfc() == issuer.rfc,
        "the CSD in {} belongs to RFC {}, the issuer is {}",
        cer.display(),
        csd.certificate().rfc(),
        issuer.rfc
    );
    let now = chrono::Utc::now();
    if csd.certificate().expires_within(now, CSD_WARNING_DAYS) {
        tracing::warn!(
            not_after = %csd.certificate().not_after(),
            "the CSD expires within {CSD_WARNING_DAYS} days: request a new one from SAT"
        );
    }
    Ok(csd)
}

fn generate_demo_csd(
    issuer: &db::cfdi::Issuer,
    cer: &std::path::Path,
    key: &std::path::Path,
    pass: &std::path::Path,
) -> anyhow::Result<()> {
    use rand::Rng;
    let dir = cer.parent().context("CSD path has no parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let password: String = rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    let now = chrono::Utc::now();
    let (cer_der, key_der) = cfdi::csd::generate_self_signed(
        &issuer.rfc,
        &issuer.nombre,
        "00001000000900000001",
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(4 * 365),
        &password,
    )?;
    write_private(key, &key_der)?;
    write_private(pass, password.as_bytes())?;
    std::fs::write(cer, cer_der).with_context(|| format!("writing {}", cer.display()))?;
    tracing::info!(dir = %dir.display(), "generated a demo CSD (self-made, not issued by SAT)");
    Ok(())
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

/// The demo utility's fiscal data (a made-up RFC; a real utility enters its own).
pub fn demo_issuer() -> db::cfdi::Issuer {
    db::cfdi::Issuer {
        rfc: "CEA800101QR2".into(),
        nombre: "COMISION ESTATAL DE AGUAS".into(),
        regimen_fiscal: "603".into(),
        lugar_expedicion: "76000".into(),
        serie_ingreso: "A".into(),
        serie_egreso: "NC".into(),
        serie_pago: "P".into(),
        factura_global: false,
    }
}

/// The fiscal runtime for `serve`: each tenant's CSD, and the PAC client — Finkok from
/// the environment (`FINKOK_URL` or `FINKOK_ENVIRONMENT`, `FINKOK_USERNAME`,
/// `FINKOK_PASSWORD`), or, in development when none is configured, the PAC simulator
/// started on a local port (the same client, pointed at it by URL). In production
/// without a PAC, documents are sealed and wait; staff see why.
pub async fn runtime(
    config: &Config,
    db: &Db,
    tenants: &[db::models::Tenant],
) -> invoicing::fiscal::Runtime {
    let mut rt = invoicing::fiscal::Runtime::default();
    for t in tenants {
        let csd = load_csd(config, db, TenantId(t.id), &t.slug)
            .await
            .map_err(|e| format!("{e:#}"));
        if let Err(e) = &csd {
            tracing::warn!(tenant = %t.slug, error = %e, "no CSD: CFDIs will not be sealed");
        }
        rt.csds.insert(t.id, csd);
    }
    let configured = ["FINKOK_URL", "FINKOK_ENVIRONMENT", "FINKOK_USERNAME"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
    if configured {
        match pac::Finkok::from_env() {
            Ok(p) => {
                rt.pac_label = std::env::var("FINKOK_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| {
                        format!(
                            "Finkok {}",
                            std::env::var("FINKOK_ENVIRONMENT")
                                .unwrap_or_else(|_| "sandbox".into())
                        )
                    });
                rt.pac = Some(p);
            }
            Err(e) => tracing::error!(error = %e, "PAC configuration"),
        }
    } else if config.mode == Mode::Development {
        match start_dev_pac().await {
            Ok((p, url)) => {
                tracing::info!(%url, "PAC simulator for development");
                rt.pac_label = format!("simulador local en {url} (desarrollo)");
                rt.pac = Some(p);
            }
            Err(e) => tracing::error!(error = %e, "could not start the PAC simulator"),
        }
    } else {
        tracing::warn!("no PAC configured: CFDIs are sealed and wait until FINKOK_* is set");
    }
    rt
}

async fn start_dev_pac() -> anyhow::Result<(pac::Finkok, String)> {
    let password = uuid::Uuid::new_v4().to_string();
    let sim = crate::sim::pac::PacSim::new("desarrollo", &password, None)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, crate::sim::pac::router(sim)).await });
    let client = pac::Finkok::new(&url, "desarrollo", &password, pac::Retry::default())?;
    Ok((client, url))
}
