//! The demo utility's billing history (development first start and `supra seed`):
//! the published tariffs in `tariffs/cea-qro-2026/`, six billed periods, and payments
//! for most of the older bills so the demo shows paid, partial and overdue bills.

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use db::{Db, TenantId};

/// The demo tariff files, compiled in so the binary can seed anywhere.
pub const DEMO_TARIFFS: &[(&str, &str)] = &[
    (
        "domestico-popular.toml",
        include_str!("../../tariffs/cea-qro-2026/domestico-popular.toml"),
    ),
    (
        "domestico-economica.toml",
        include_str!("../../tariffs/cea-qro-2026/domestico-economica.toml"),
    ),
    (
        "domestico-media.toml",
        include_str!("../../tariffs/cea-qro-2026/domestico-media.toml"),
    ),
    (
        "domestico-residencial.toml",
        include_str!("../../tariffs/cea-qro-2026/domestico-residencial.toml"),
    ),
    (
        "comercial-general.toml",
        include_str!("../../tariffs/cea-qro-2026/comercial-general.toml"),
    ),
    (
        "industrial-general.toml",
        include_str!("../../tariffs/cea-qro-2026/industrial-general.toml"),
    ),
    (
        "gobierno-general.toml",
        include_str!("../../tariffs/cea-qro-2026/gobierno-general.toml"),
    ),
    (
        "mixto-general.toml",
        include_str!("../../tariffs/cea-qro-2026/mixto-general.toml"),
    ),
];

/// Periods billed in the demo (the seed's readings end in October 2026).
const FIRST: (i32, u32) = (2026, 5);
const LAST: (i32, u32) = (2026, 10);

/// Import the demo tariffs, bill the demo periods and pay ~85 % of all but the last.
pub async fn billing_history(db: &Db, tenant: TenantId) -> anyhow::Result<String> {
    for (name, toml) in DEMO_TARIFFS {
        invoicing::save_tariff(db, tenant, toml, invoicing::Actor::System)
            .await
            .with_context(|| format!("demo tariff {name}"))?;
    }
    let settings = invoicing::Settings::default();
    let mut issued = 0;
    let (mut y, mut m) = FIRST;
    loop {
        let period = billing::Period::month(y, m).context("demo period")?;
        let opts = invoicing::RunOptions {
            issued_on: Some(period.end),
            actor: invoicing::Actor::System,
            settings: invoicing::Settings {
                // The demo asks for CFDIs of its latest period only.
                issue_cfdi: (y, m) == LAST,
                ..settings.clone()
            },
        };
        let run = invoicing::start_run(db, tenant, &period, opts.actor).await?;
        let s = invoicing::run_period(db, tenant, period, run, &opts, |_| {}).await?;
        issued += s.counters.invoices_issued;
        if (y, m) == LAST {
            break;
        }
        let paid_on = period.end + chrono::Duration::days(10);
        db::seed_load::pay_demo_invoices(db, tenant, invoicing::period_key(&period), 850, paid_on)
            .await?;
        let next: NaiveDate = period.end;
        (y, m) = (next.year(), next.month());
    }
    Ok(format!(
        "Billing history: {} tariffs, {issued} invoices for {}-{:02} … {}-{:02}",
        DEMO_TARIFFS.len(),
        FIRST.0,
        FIRST.1,
        LAST.0,
        LAST.1
    ))
}
