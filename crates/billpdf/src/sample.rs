//! A realistic bill for tests, examples and benchmarks.

use rust_decimal::Decimal;

use crate::{BillDocument, DocLine, HistoryBar, HowRow, PaymentInfo, ReadingRow};

fn line(description: &str, quantity: &str, amount: &str, tax_label: &str, tax: &str) -> DocLine {
    DocLine {
        description: description.to_owned(),
        quantity: quantity.to_owned(),
        amount: amount.to_owned(),
        tax_label: tax_label.to_owned(),
        tax_amount: tax.to_owned(),
    }
}

fn how(description: &str, quantity: &str, unit_price: &str, amount: &str) -> HowRow {
    HowRow {
        description: description.to_owned(),
        quantity: quantity.to_owned(),
        unit_price: unit_price.to_owned(),
        amount: amount.to_owned(),
    }
}

/// A domestic bill for October 2026: 12 history bars, 8 lines, the
/// "¿Cómo se calculó?" rows, a notice, and no payment references yet.
/// The amounts add up (subtotal + taxes = total; + balance = amount due).
pub fn sample_document() -> BillDocument {
    let months = [
        ("nov", 14),
        ("dic", 16),
        ("ene", 15),
        ("feb", 13),
        ("mar", 17),
        ("abr", 19),
        ("may", 22),
        ("jun", 21),
        ("jul", 18),
        ("ago", 16),
        ("sep", 17),
        ("oct", 18),
    ];
    BillDocument {
        utility_name: "Sistema de Agua Potable y Alcantarillado de San Andrés Cholula".to_owned(),
        utility_rfc: Some("SAP850101AB1".to_owned()),
        utility_address: "Av. Benito Juárez 120, Centro, C.P. 72810, San Andrés Cholula, Pue."
            .to_owned(),
        utility_phone: Some("222 123 4567".to_owned()),
        contract_number: "0012-3456-78".to_owned(),
        titular: "María José Núñez Güemes".to_owned(),
        service_address:
            "Calle Niños Héroes 45 int. 3, Col. La Paz, C.P. 72160, San Andrés Cholula, Pue."
                .to_owned(),
        use_label: "Doméstico · media".to_owned(),
        period_label: "octubre 2026".to_owned(),
        issue_date: "3 de noviembre de 2026".to_owned(),
        due_date: "24 de noviembre de 2026".to_owned(),
        folio: "F-2026-10-000123".to_owned(),
        meter_serial: Some("MX-19-004512".to_owned()),
        previous_reading: Some(ReadingRow {
            date: "30/09/2026".to_owned(),
            value: "1,234".to_owned(),
        }),
        current_reading: Some(ReadingRow {
            date: "31/10/2026".to_owned(),
            value: "1,252".to_owned(),
        }),
        consumption_m3: "18".to_owned(),
        estimated: false,
        history: months
            .iter()
            .map(|(label, m3)| HistoryBar {
                label: (*label).to_owned(),
                m3: Decimal::from(*m3),
            })
            .collect(),
        lines: vec![
            line(
                "Agua potable (uso doméstico)",
                "18 m³",
                "$312.40",
                "IVA 0 %",
                "$0.00",
            ),
            line("Cuota fija de servicio", "1", "$85.00", "IVA 0 %", "$0.00"),
            line(
                "Drenaje (25 % del agua)",
                "1",
                "$78.10",
                "IVA 16 %",
                "$12.50",
            ),
            line(
                "Saneamiento de aguas residuales",
                "18 m³",
                "$54.00",
                "IVA 16 %",
                "$8.64",
            ),
            line(
                "Mantenimiento de medidor",
                "1",
                "$15.00",
                "IVA 16 %",
                "$2.40",
            ),
            line("Aportación a bomberos", "1", "$5.00", "Exento", "$0.00"),
            line(
                "Recargo por pago tardío (septiembre)",
                "1",
                "$12.35",
                "Exento",
                "$0.00",
            ),
            line(
                "Descuento por pago puntual",
                "1",
                "-$10.00",
                "Exento",
                "$0.00",
            ),
        ],
        how: vec![
            how("Cuota fija (base)", "1", "$85.00", "$85.00"),
            how("Bloque 0–10 m³", "10 m³", "$15.20", "$152.00"),
            how("Bloque 11–20 m³", "8 m³", "$20.05", "$160.40"),
        ],
        previous_balance: "$120.00".to_owned(),
        subtotal: "$551.85".to_owned(),
        tax: "$23.54".to_owned(),
        total: "$575.39".to_owned(),
        amount_due: "$695.39".to_owned(),
        payment: PaymentInfo::default(),
        notice: Some(
            "Tarifas del Año 2026 publicadas en el Periódico Oficial del Estado. \
             ¿Dudas sobre tu recibo? Llama al 222 123 4567. ¡Gracias por pagar a tiempo!"
                .to_owned(),
        ),
        fiscal: None,
    }
}
