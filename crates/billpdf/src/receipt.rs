//! The cashier's receipt ("recibo de caja") for an 80 mm thermal printer: one narrow
//! page as tall as its content, in the same fonts as the bill. Like the bill, every
//! value arrives already formatted and the same receipt always gives the same bytes.

use crate::RenderError;
use crate::canvas::{Align, Canvas, Rgb};
use crate::fonts::{self, Weight};

/// 80 mm in points.
pub const WIDTH: f32 = 226.77;
const MARGIN: f32 = 10.0;
const CONTENT: f32 = WIDTH - 2.0 * MARGIN;
const INK: Rgb = Rgb(0.0, 0.0, 0.0);
const RULE: Rgb = Rgb(0.45, 0.45, 0.45);

/// Everything printed on one receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiptDocument {
    pub utility_name: String,
    pub utility_rfc: Option<String>,
    /// e.g. "CAJA-12-0034".
    pub folio: String,
    /// Date and time, already in Spanish.
    pub date: String,
    pub cashier: String,
    pub contract_number: String,
    pub titular: String,
    /// "Efectivo", "Cheque núm. 1234".
    pub method: String,
    pub amount: String,
    /// (bill label, amount) the payment went to, oldest first.
    pub applied: Vec<(String, String)>,
    /// What no bill took ("Saldo a favor").
    pub credit: Option<String>,
    pub balance_after: String,
    pub footer: String,
}

enum Line {
    Text {
        size: f32,
        weight: Weight,
        align: Align,
        text: String,
    },
    Pair {
        size: f32,
        weight: Weight,
        left: String,
        right: String,
    },
    Rule,
    Gap,
}

impl Line {
    fn height(&self) -> f32 {
        match self {
            Line::Text { size, .. } | Line::Pair { size, .. } => size * 1.35,
            Line::Rule => 6.0,
            Line::Gap => 4.0,
        }
    }
}

pub fn render_receipt(doc: &ReceiptDocument) -> Result<Vec<u8>, RenderError> {
    let fonts = fonts::fonts()?;
    let mut canvas = Canvas::new(fonts);
    let (r, b) = (Weight::Regular, Weight::Bold);
    let text = |size, weight, align, t: &str| Line::Text {
        size,
        weight,
        align,
        text: t.to_string(),
    };
    let pair = |size, weight, l: &str, rt: &str| Line::Pair {
        size,
        weight,
        left: l.to_string(),
        right: rt.to_string(),
    };
    let mut lines = vec![];
    for l in canvas.wrap(b, 10.0, &doc.utility_name, CONTENT, 3) {
        lines.push(text(10.0, b, Align::Center, &l));
    }
    if let Some(rfc) = &doc.utility_rfc {
        lines.push(text(7.5, r, Align::Center, &format!("RFC {rfc}")));
    }
    lines.push(Line::Gap);
    lines.push(text(9.5, b, Align::Center, "RECIBO DE PAGO"));
    lines.push(pair(8.0, r, "Folio", &doc.folio));
    lines.push(pair(8.0, r, "Fecha", &doc.date));
    lines.push(pair(8.0, r, "Atendió", &doc.cashier));
    lines.push(Line::Rule);
    lines.push(pair(8.5, b, "Contrato", &doc.contract_number));
    for l in canvas.wrap(r, 8.0, &doc.titular, CONTENT, 2) {
        lines.push(text(8.0, r, Align::Left, &l));
    }
    lines.push(Line::Rule);
    if !doc.applied.is_empty() {
        lines.push(text(8.0, b, Align::Left, "Aplicado a"));
        for (label, amount) in &doc.applied {
            lines.push(pair(8.0, r, label, amount));
        }
    }
    if let Some(credit) = &doc.credit {
        lines.push(pair(8.0, r, "Saldo a favor", credit));
    }
    lines.push(pair(8.0, r, "Forma de pago", &doc.method));
    lines.push(Line::Gap);
    lines.push(pair(11.0, b, "TOTAL PAGADO", &doc.amount));
    lines.push(pair(8.0, r, "Saldo después del pago", &doc.balance_after));
    lines.push(Line::Rule);
    for l in canvas.wrap(r, 7.0, &doc.footer, CONTENT, 6) {
        lines.push(text(7.0, r, Align::Center, &l));
    }
    let height = 2.0 * MARGIN + lines.iter().map(Line::height).sum::<f32>();
    let mut y = height - MARGIN;
    for line in &lines {
        let h = line.height();
        match line {
            Line::Text {
                size,
                weight,
                align,
                text,
            } => {
                let x = match align {
                    Align::Center => WIDTH / 2.0,
                    Align::Right => WIDTH - MARGIN,
                    Align::Left => MARGIN,
                };
                canvas.text(x, y - size, *size, *weight, INK, *align, text, CONTENT);
            }
            Line::Pair {
                size,
                weight,
                left,
                right,
            } => {
                let right_w = canvas.width(*weight, *size, right).min(CONTENT * 0.6);
                canvas.text(
                    MARGIN,
                    y - size,
                    *size,
                    *weight,
                    INK,
                    Align::Left,
                    left,
                    CONTENT - right_w - 6.0,
                );
                canvas.text_shrink(
                    WIDTH - MARGIN,
                    y - size,
                    *size,
                    *weight,
                    INK,
                    Align::Right,
                    right,
                    CONTENT * 0.6,
                );
            }
            Line::Rule => canvas.hrule(MARGIN, y - h / 2.0, CONTENT, 0.5, RULE),
            Line::Gap => {}
        }
        y -= h;
    }
    let title = format!(
        "Recibo de pago {} · Contrato {}",
        doc.folio, doc.contract_number
    );
    crate::pdf::write(
        &canvas.into_pages(),
        fonts,
        &title,
        &doc.utility_name,
        (WIDTH, height),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ReceiptDocument {
        ReceiptDocument {
            utility_name: "Comisión Estatal de Aguas de Querétaro".into(),
            utility_rfc: Some("CEA800101QR2".into()),
            folio: "CAJA-3-000017".into(),
            date: "24 nov 2026, 10:42".into(),
            cashier: "María Cajera".into(),
            contract_number: "195968501".into(),
            titular: "José Hernández Martínez".into(),
            method: "Efectivo".into(),
            amount: "$500.00".into(),
            applied: vec![
                ("Recibo sep 2026".into(), "$230.74".into()),
                ("Recibo oct 2026".into(), "$269.26".into()),
            ],
            credit: None,
            balance_after: "$0.00".into(),
            footer: "Conserve este recibo. Su pago ya está aplicado a su cuenta.".into(),
        }
    }

    #[test]
    fn an_80_mm_receipt_with_every_value_printed() {
        let pdf = render_receipt(&sample()).expect("render");
        assert!(pdf.starts_with(b"%PDF-"));
        let doc = lopdf::Document::load_mem(&pdf).expect("parse");
        let pages = doc.get_pages();
        assert_eq!(pages.len(), 1);
        let page = doc
            .get_dictionary(*pages.get(&1).expect("page 1"))
            .expect("page");
        let media = page
            .get(b"MediaBox")
            .and_then(lopdf::Object::as_array)
            .expect("media box");
        let w = media[2].as_float().expect("width");
        assert!((w - WIDTH).abs() < 0.01, "80 mm wide, got {w}");
        let text = doc.extract_text(&[1]).expect("text");
        for needle in [
            "RECIBO DE PAGO",
            "CAJA-3-000017",
            "195968501",
            "$500.00",
            "$269.26",
            "Efectivo",
        ] {
            assert!(text.contains(needle), "{needle} missing from: {text}");
        }
        // Deterministic.
        assert_eq!(pdf, render_receipt(&sample()).expect("again"));
    }
}
