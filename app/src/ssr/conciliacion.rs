//! Reconciliation for staff (caja, facturación; admin always): the daily runs per
//! provider, their differences, and running a day again. Thin: authenticate,
//! authorise, call `invoicing::conciliacion`, map errors.

use super::*;

const PAYMENTS: &[StaffRole] = &[StaffRole::Cajero, StaffRole::Facturacion];

fn provider_label(p: &str) -> String {
    match p {
        "stp" => "SPEI (STP)".into(),
        "conekta" => "OXXO y tarjeta (Conekta)".into(),
        other => other.into(),
    }
}

fn kind_label(k: &str) -> &'static str {
    match k {
        "faltante" => "Pagado al proveedor, sin registro nuestro",
        "sobrante" => "Registrado por nosotros, no está en el estado de cuenta",
        "importe_distinto" => "Importe distinto",
        "duplicado" => "Duplicado en el estado de cuenta",
        _ => "Otro",
    }
}

fn run_view(r: db::payments::ReconciliationRunRow) -> ReconRunView {
    ReconRunView {
        id: r.id,
        provider: provider_label(&r.provider),
        day: r.day.format("%Y-%m-%d").to_string(),
        ran_at: auth::format_local(r.ran_at),
        statement_count: r.statement_count,
        ours_count: r.ours_count,
        matched: r.matched,
        issues: r.issues,
        error: r.error,
    }
}

fn amount(c: Option<i64>) -> String {
    c.map(|c| Money::from_centavos(c).format_mxn())
        .unwrap_or_else(|| "—".into())
}

pub async fn runs() -> Result<Vec<ReconRunView>, AppError> {
    let s = staff(PAYMENTS).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    Ok(db::payments::reconciliation_runs(&mut tx, 60)
        .await?
        .into_iter()
        .map(run_view)
        .collect())
}

pub async fn items(corrida: i64) -> Result<(ReconRunView, Vec<ReconItemView>), AppError> {
    let s = staff(PAYMENTS).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let Some(run) = db::payments::reconciliation_run(&mut tx, corrida).await? else {
        return fail(AppError::NotFound);
    };
    let items = db::payments::reconciliation_items(&mut tx, corrida)
        .await?
        .into_iter()
        .map(|i| ReconItemView {
            kind_label: kind_label(&i.kind).into(),
            kind: i.kind,
            key: i.provider_key,
            reference: i.reference,
            statement_amount: amount(i.statement_centavos),
            ours_amount: amount(i.ours_centavos),
        })
        .collect();
    Ok((run_view(run), items))
}

pub async fn run(dia: String) -> Result<usize, AppError> {
    let s = staff(PAYMENTS).await?;
    let Ok(day) = chrono::NaiveDate::parse_from_str(dia.trim(), "%Y-%m-%d") else {
        return fail(AppError::invalid(
            "dia",
            "Escriba la fecha como AAAA-MM-DD, por ejemplo 2026-11-23.",
        ));
    };
    if day > invoicing::today() {
        return fail(AppError::invalid(
            "dia",
            "No se puede conciliar un día que aún no llega.",
        ));
    }
    let st = &s.r.st;
    if st.payments.conekta.is_none() && st.payments.stp.is_none() {
        return fail(AppError::invalid(
            "dia",
            "No hay proveedores de pago configurados.",
        ));
    }
    match invoicing::conciliacion::run_day(&st.db, s.r.tenant, &st.payments, day, Utc::now()).await
    {
        Ok(runs) => Ok(runs.len()),
        Err(e) => fail(e.into()),
    }
}
