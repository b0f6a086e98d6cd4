//! Payments for staff: the queue of payments that name no contract, and assigning one.
//! Thin: authenticate, authorise, call `invoicing::cobro`, map errors.

use super::*;

/// Roles that handle payments (admin always may).
const PAYMENTS: &[StaffRole] = &[StaffRole::Cajero, StaffRole::Facturacion];

pub async fn unmatched() -> Result<Vec<UnmatchedRow>, AppError> {
    let s = staff(PAYMENTS).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    Ok(
        db::payments::received_with_status(&mut tx, "sin_asignar", 200)
            .await?
            .into_iter()
            .map(|p| UnmatchedRow {
                id: p.id,
                channel: invoicing::caja::channel_label(&p.channel).into(),
                amount: Money::from_centavos(p.amount_centavos).format_mxn(),
                received_at: auth::format_local(p.received_at),
                reference: p.reference,
                payer: p.payer,
                reason: p.reason.unwrap_or_default(),
            })
            .collect(),
    )
}

pub async fn assign(id: i64, contrato: String, nota: String) -> Result<(), AppError> {
    let s = staff(PAYMENTS).await?;
    match invoicing::cobro::assign(
        &s.r.st.db,
        s.r.tenant,
        id,
        &contrato,
        &nota,
        invoicing::Actor::Staff(s.id),
        Utc::now(),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(e) => fail(super::cfdi::spanish_sentence(e.into())),
    }
}

pub async fn search(q: String) -> Result<Vec<PaymentSearchRow>, AppError> {
    let s = staff(PAYMENTS).await?;
    let q = q.trim();
    if q.chars().count() < 3 {
        return fail(AppError::invalid(
            "q",
            "Escriba al menos 3 caracteres: número de contrato, referencia, CLABE o clave del proveedor.",
        ));
    }
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    Ok(db::payments::search_received(&mut tx, q, 100)
        .await?
        .into_iter()
        .map(|(p, number)| PaymentSearchRow {
            id: p.id,
            date: auth::format_local(p.received_at),
            channel: invoicing::caja::channel_label(&p.channel).into(),
            contract: number.unwrap_or_else(|| "—".into()),
            amount: Money::from_centavos(p.amount_centavos).format_mxn(),
            reference: p.reference,
            status: if p.status == "aplicado" {
                "Aplicado".into()
            } else {
                "Sin asignar".into()
            },
        })
        .collect())
}
