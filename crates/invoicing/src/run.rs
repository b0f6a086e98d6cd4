//! Pricing one chunk of contracts for one period: pure decisions over rows the caller
//! loaded in bulk (no I/O here), so a 400,000-contract cycle is bounded by SQL bulk
//! statements, and the event-driven path (one contract) runs the very same code.

use std::collections::HashMap;

use billing::{Assessment, Bill, BillInput, Metering, Period, ReviewPolicy, Tariff};
use chrono::NaiveDate;
use db::billing::{BillableContract, MeterReading, NewInvoice, NewLine, NewReview, PriorInvoice};
use domain::consumption::{Consumption, MeterSpec, consumption};
use domain::{M3, Money};
use rust_decimal::Decimal;

/// What happened to one contract.
pub(crate) enum Outcome {
    Issue(Box<NewInvoice>),
    Review(NewReview),
    Skip(&'static str),
}

pub(crate) struct Ctx<'a> {
    pub period: Period,
    pub period_key: i32,
    pub issued_on: NaiveDate,
    pub due_date: NaiveDate,
    pub tariffs: &'a HashMap<(String, String), Vec<Tariff>>,
    pub review: &'a ReviewPolicy,
    pub run_id: Option<i64>,
}

pub fn period_key(p: &Period) -> i32 {
    use chrono::Datelike;
    p.start.year() * 100 + p.start.month() as i32
}

pub(crate) fn prev_key(key: i32) -> i32 {
    let (y, m) = (key / 100, key % 100);
    if m == 1 { (y - 1) * 100 + 12 } else { key - 1 }
}

fn litres_to_m3(l: i64) -> Decimal {
    M3::from_litres(l).value()
}

fn m3_to_litres(m3: Decimal) -> i64 {
    M3::new(m3).litres()
}

/// Decide and price one contract.
pub(crate) fn bill_one(
    ctx: &Ctx<'_>,
    c: &BillableContract,
    readings: &[MeterReading],
    priors: &[PriorInvoice],
) -> Result<Outcome, billing::BillingError> {
    if !matches!(c.status.as_str(), "activo" | "suspendido") {
        return Ok(Outcome::Skip("inactivo"));
    }
    if c.start_date >= ctx.period.end {
        return Ok(Outcome::Skip("sin_servicio"));
    }
    let Some(tariffs) = ctx
        .tariffs
        .get(&(c.use_type.clone(), c.tariff_class.clone()))
    else {
        return Ok(Outcome::Skip("sin_tarifa"));
    };
    let service_days = (c.start_date > ctx.period.start)
        .then(|| (ctx.period.end - c.start_date).num_days() as u32);
    let prior = priors
        .iter()
        .rev()
        .find(|p| p.period < ctx.period_key && !p.cancelled);
    let carry = prior.map_or(0, |p| p.carry_litres);

    let mut prev_reading = None;
    let mut curr_reading = None;
    let (metering, estimated, carry_next) = match (c.meter_id, c.digits) {
        (Some(_), Some(digits)) => {
            let spec = MeterSpec {
                digits: digits.clamp(1, 12) as u8,
                multiplier: Decimal::from(c.multiplier.unwrap_or(1)),
            };
            let valid: Vec<&MeterReading> = readings
                .iter()
                .filter(|r| matches!(r.quality.as_str(), "valida" | "vuelta"))
                .collect();
            let current = valid.iter().rev().find(|r| r.period == ctx.period_key);
            let baseline = valid.iter().rev().find(|r| r.period < ctx.period_key);
            let (history, zero_streak) = history_of(&valid, ctx.period_key, &spec, ctx.review);
            match (current, baseline) {
                (Some(cur), Some(base)) => {
                    prev_reading = Some(*base);
                    curr_reading = Some(*cur);
                    let measured = consumption(
                        M3::from_litres(base.value_litres),
                        M3::from_litres(cur.value_litres),
                        &spec,
                    );
                    let measured_l = measured.m3().litres();
                    if let Consumption::Negative(_) = measured {
                        return Ok(Outcome::Review(review(
                            ctx,
                            c,
                            billing::ReviewReason::Negative {
                                m3: litres_to_m3(measured_l),
                            },
                            Some(measured_l),
                            None,
                        )));
                    }
                    // Carry: + litres measured earlier but not billed (whole-m³
                    // tariffs), − estimated m³ billed since the last real reading.
                    let effective = measured_l + carry;
                    match billing::assess(
                        Some(litres_to_m3(effective.max(0))),
                        &history,
                        zero_streak,
                        ctx.review,
                    ) {
                        Assessment::Review(reason) => {
                            let avg = average(&history);
                            return Ok(Outcome::Review(review(
                                ctx,
                                c,
                                reason,
                                Some(effective),
                                avg.map(m3_to_litres),
                            )));
                        }
                        Assessment::Measured(_) | Assessment::Estimated(_) => {}
                    }
                    (
                        Metering::Metered(litres_to_m3(effective.max(0))),
                        false,
                        effective,
                    )
                }
                _ => match billing::assess(None, &history, zero_streak, ctx.review) {
                    Assessment::Estimated(avg) => (Metering::Metered(avg), true, carry),
                    Assessment::Measured(m3) => (Metering::Metered(m3), false, carry),
                    Assessment::Review(reason) => {
                        return Ok(Outcome::Review(review(ctx, c, reason, None, None)));
                    }
                },
            }
        }
        _ => (Metering::Unmetered, false, 0),
    };

    let programs: Vec<String> = if c.vulnerable {
        vec!["inapam".to_string()]
    } else {
        Vec::new()
    };
    let balance = Money::from_centavos(c.balance_centavos);
    let overdue = if balance.is_negative() {
        Money::from_centavos(0)
    } else {
        balance
    };
    let bill = billing::compute_bill(&BillInput {
        tariffs,
        period: ctx.period,
        service_days,
        metering,
        estimated,
        programs: &programs,
        overdue_balance: overdue,
        fees: &[],
    })?;
    let billed_l = m3_to_litres(bill.billed_m3);
    // Measured: what was not billed stays for later (litres under whole m³, or the
    // estimated excess still to true up). Estimated: the estimate is owed back.
    let carry_next = match metering {
        Metering::Unmetered => 0,
        Metering::Metered(_) => carry_next - billed_l,
    };
    Ok(Outcome::Issue(Box::new(new_invoice(
        ctx,
        c,
        &bill,
        prev_reading,
        curr_reading,
        billed_l,
        carry_next,
    ))))
}

/// Consumption (m³) of the last valid periods before `key`, oldest first, measured
/// between real readings of consecutive periods; and how many of the latest were 0.
fn history_of(
    valid: &[&MeterReading],
    key: i32,
    spec: &MeterSpec,
    policy: &ReviewPolicy,
) -> (Vec<Decimal>, u32) {
    let mut by_period: Vec<(i32, Decimal)> = Vec::new();
    for w in valid.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b.period >= key || prev_key(b.period) != a.period {
            continue;
        }
        let c = consumption(
            M3::from_litres(a.value_litres),
            M3::from_litres(b.value_litres),
            spec,
        );
        if c.is_billable() {
            by_period.push((b.period, c.m3().value()));
        }
    }
    let mut zero_streak = 0;
    let mut expect = prev_key(key);
    for (p, m3) in by_period.iter().rev() {
        if *p != expect || !m3.is_zero() {
            break;
        }
        zero_streak += 1;
        expect = prev_key(expect);
    }
    let n = by_period.len().saturating_sub(policy.history_periods);
    (
        by_period[n..].iter().map(|(_, m)| *m).collect(),
        zero_streak,
    )
}

fn average(h: &[Decimal]) -> Option<Decimal> {
    (!h.is_empty()).then(|| h.iter().sum::<Decimal>() / Decimal::from(h.len()))
}

fn review(
    ctx: &Ctx<'_>,
    c: &BillableContract,
    reason: billing::ReviewReason,
    measured_litres: Option<i64>,
    average_litres: Option<i64>,
) -> NewReview {
    NewReview {
        contract_id: c.contract_id,
        period: ctx.period_key,
        reason: reason_code(&reason).to_string(),
        message: reason.message_es(),
        measured_litres,
        average_litres,
    }
}

fn new_invoice(
    ctx: &Ctx<'_>,
    c: &BillableContract,
    bill: &Bill,
    prev: Option<&MeterReading>,
    curr: Option<&MeterReading>,
    billed_litres: i64,
    carry_litres: i64,
) -> NewInvoice {
    let lines = bill
        .lines
        .iter()
        .map(|l| NewLine {
            concept: l.concept.as_str().to_string(),
            description: l.description.clone(),
            quantity: l.quantity.normalize().to_string(),
            unit: l.unit.clone(),
            unit_price: l.unit_price.map(|p| p.normalize().to_string()),
            amount_centavos: l.amount.centavos(),
            tax: l.tax.as_str().to_string(),
            tax_centavos: l.tax_amount.centavos(),
            clave_prod_serv: l.sat.clave_prod_serv.clone(),
            clave_unidad: l.sat.clave_unidad.clone(),
            estimated: l.estimated,
            steps: serde_json::to_value(&l.steps).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    NewInvoice {
        contract_id: c.contract_id,
        period: ctx.period_key,
        folio: format!("{}-{}", ctx.period_key, c.number),
        issued_on: ctx.issued_on,
        due_date: ctx.due_date,
        use_type: c.use_type.clone(),
        tariff_class: c.tariff_class.clone(),
        meter_id: c.meter_id,
        prev_reading_litres: prev.map(|r| r.value_litres),
        prev_read_at: prev.map(|r| r.read_at),
        curr_reading_litres: curr.map(|r| r.value_litres),
        curr_read_at: curr.map(|r| r.read_at),
        billed_litres,
        estimated: bill.estimated,
        carry_litres,
        previous_balance_centavos: c.balance_centavos,
        subtotal_centavos: bill.subtotal.centavos(),
        tax_centavos: bill.tax.centavos(),
        total_centavos: bill.total.centavos(),
        tariff_names: bill.tariffs.join(" · "),
        run_id: ctx.run_id,
        lines,
        ledger_description: format!(
            "Recibo {} (folio {}-{})",
            ctx.period.label_es(),
            ctx.period_key,
            c.number
        ),
    }
}

/// The stored code of a review reason (`billing_reviews.reason`).
pub fn reason_code(r: &billing::ReviewReason) -> &'static str {
    match r {
        billing::ReviewReason::Negative { .. } => "negativo",
        billing::ReviewReason::ZeroForPeriods { .. } => "sin_consumo",
        billing::ReviewReason::Jump { .. } => "salto",
        billing::ReviewReason::NoHistory => "sin_historial",
    }
}
