use domain::Money;
use rust_decimal::Decimal;

use crate::tariff::{BlockMode, Tariff, VolumeRule};

/// What the period's reading says about the toma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metering {
    /// Consumption in m³ from a working meter (already rollover/multiplier-corrected).
    Metered(Decimal),
    /// No working meter: cuota fija.
    Unmetered,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    Base,
    Block {
        from_m3: Decimal,
        to_m3: Option<Decimal>,
    },
    MinimumAdjustment,
    FlatFee,
}

/// One line of the "¿Cómo se calculó?" breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    pub quantity_m3: Option<Decimal>,
    pub unit_price: Option<Decimal>,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaterCharge {
    pub billed_m3: Decimal,
    pub lines: Vec<Line>,
    pub total: Money,
}

fn line(
    kind: LineKind,
    description: String,
    qty: Option<Decimal>,
    price: Option<Decimal>,
    amount: Decimal,
) -> Line {
    Line {
        kind,
        description,
        quantity_m3: qty,
        unit_price: price,
        amount: Money::from_decimal_rounded(amount),
    }
}

/// The water charge (agua potable) for one period under `tariff`.
/// Each line is rounded to the centavo; the total is the sum of the lines.
pub fn water_charge(tariff: &Tariff, metering: Metering) -> WaterCharge {
    let m3 = match metering {
        Metering::Unmetered => {
            let fee = tariff.flat_fee.unwrap_or_default();
            let l = line(
                LineKind::FlatFee,
                "Cuota fija (toma sin medidor funcionando)".into(),
                None,
                None,
                fee,
            );
            let total = l.amount;
            return WaterCharge {
                billed_m3: Decimal::ZERO,
                lines: vec![l],
                total,
            };
        }
        Metering::Metered(m3) => m3.max(Decimal::ZERO),
    };
    let billed = match tariff.volume {
        VolumeRule::Whole => m3.trunc(),
        VolumeRule::Decimal => m3,
    };
    let mut lines = Vec::new();
    let covered = match &tariff.base {
        Some(b) => {
            lines.push(line(
                LineKind::Base,
                format!("Cuota base (incluye hasta {} m³)", b.covers_m3.normalize()),
                Some(billed.min(b.covers_m3)),
                None,
                b.amount,
            ));
            b.covers_m3
        }
        None => Decimal::ZERO,
    };
    match tariff.block_mode {
        BlockMode::Incremental => {
            let mut from = Decimal::ZERO;
            for b in &tariff.blocks {
                let to = b.up_to_m3;
                let lo = from.max(covered);
                let hi = to.map_or(billed, |t| t.min(billed));
                if hi > lo {
                    lines.push(line(
                        LineKind::Block {
                            from_m3: from,
                            to_m3: to,
                        },
                        block_label(from, to),
                        Some(hi - lo),
                        Some(b.price_per_m3),
                        (hi - lo) * b.price_per_m3,
                    ));
                }
                match to {
                    Some(t) if t < billed => from = t,
                    _ => break,
                }
            }
        }
        BlockMode::WholeVolume => {
            let qty = billed - covered;
            if qty > Decimal::ZERO {
                let mut from = Decimal::ZERO;
                for b in &tariff.blocks {
                    if b.up_to_m3.is_none_or(|t| billed <= t) {
                        lines.push(line(
                            LineKind::Block {
                                from_m3: from,
                                to_m3: b.up_to_m3,
                            },
                            format!(
                                "{} (todo el consumo a este precio)",
                                block_label(from, b.up_to_m3)
                            ),
                            Some(qty),
                            Some(b.price_per_m3),
                            qty * b.price_per_m3,
                        ));
                        break;
                    }
                    from = b.up_to_m3.unwrap_or(from);
                }
            }
        }
    }
    let subtotal: Money = lines.iter().map(|l| l.amount).sum();
    if let Some(min) = tariff.minimum_charge.map(Money::from_decimal_rounded)
        && subtotal < min
    {
        lines.push(Line {
            kind: LineKind::MinimumAdjustment,
            description: "Ajuste al cargo mínimo".into(),
            quantity_m3: None,
            unit_price: None,
            amount: min - subtotal,
        });
    }
    let total = lines.iter().map(|l| l.amount).sum();
    WaterCharge {
        billed_m3: billed,
        lines,
        total,
    }
}

fn block_label(from: Decimal, to: Option<Decimal>) -> String {
    match to {
        Some(t) => format!("Consumo de {} a {} m³", from.normalize(), t.normalize()),
        None => format!("Consumo de más de {} m³", from.normalize()),
    }
}
