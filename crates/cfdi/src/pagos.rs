//! Complemento para recepción de Pagos 2.0: the CFDI of type P issued for each payment
//! received against PPD invoices.
//!
//! Per related document: ImpSaldoInsoluto = ImpSaldoAnt − ImpPagado, and the taxes paid
//! are the invoice's tax summary scaled by ImpPagado / invoice total (BaseDR rounded to
//! the centavo, ImporteDR = BaseDR × TasaOCuota rounded). ImpuestosP groups the DR taxes
//! and Totales sums them per rate.

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use rust_decimal::Decimal;

use crate::model::{
    Comprobante, Concepto, Emisor, Impuesto, ObjetoImp, Receptor, TipoDeComprobante, TipoFactor,
    Traslado,
};
use crate::text::{normalize_space, round};
use crate::{Error, Result};

/// One invoice a payment applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctoInput {
    /// The invoice's UUID (from its TimbreFiscalDigital).
    pub id_documento: String,
    pub serie: Option<String>,
    pub folio: Option<String>,
    /// 1 for the first payment to this invoice, 2 for the next…
    pub num_parcialidad: u32,
    pub imp_saldo_ant: Decimal,
    pub imp_pagado: Decimal,
    /// The invoice's Total.
    pub invoice_total: Decimal,
    /// The invoice's tax summary (cfdi:Impuestos/Traslados); empty when it had none.
    pub invoice_traslados: Vec<Traslado>,
}

/// A related document as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctoRelacionado {
    pub id_documento: String,
    pub serie: Option<String>,
    pub folio: Option<String>,
    pub num_parcialidad: u32,
    pub imp_saldo_ant: Decimal,
    pub imp_pagado: Decimal,
    pub imp_saldo_insoluto: Decimal,
    pub objeto_imp: ObjetoImp,
    pub traslados: Vec<Traslado>,
}

/// A payment as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pago {
    /// Local time the money was received.
    pub fecha_pago: NaiveDateTime,
    /// c_FormaPago of the payment (01 efectivo, 03 transferencia, 04 tarjeta…).
    pub forma_de_pago: String,
    pub monto: Decimal,
    pub num_operacion: Option<String>,
    pub doctos: Vec<DoctoRelacionado>,
    /// ImpuestosP: the DR taxes grouped by Impuesto + TipoFactor + TasaOCuota.
    pub traslados: Vec<Traslado>,
}

/// The Pagos 2.0 complement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pagos {
    pub totales: Totales,
    pub pagos: Vec<Pago>,
}

/// Pagos/Totales: sums per IVA rate over every payment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totales {
    pub base_iva16: Option<Decimal>,
    pub impuesto_iva16: Option<Decimal>,
    pub base_iva8: Option<Decimal>,
    pub impuesto_iva8: Option<Decimal>,
    pub base_iva0: Option<Decimal>,
    pub impuesto_iva0: Option<Decimal>,
    pub base_iva_exento: Option<Decimal>,
    pub monto_total_pagos: Decimal,
}

/// Input of one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagoInput {
    pub fecha_pago: NaiveDateTime,
    pub forma_de_pago: String,
    pub monto: Decimal,
    pub num_operacion: Option<String>,
    pub doctos: Vec<DoctoInput>,
}

/// Build the CFDI of type P for `pagos` (MXN). The receptor's UsoCFDI becomes CP01.
pub fn comprobante(
    emisor: Emisor,
    mut receptor: Receptor,
    lugar_expedicion: impl Into<String>,
    fecha: DateTime<FixedOffset>,
    serie_folio: Option<(String, String)>,
    pagos: Vec<PagoInput>,
) -> Result<Comprobante> {
    if pagos.is_empty() {
        return Err(Error::invalid(
            "Pago",
            "el complemento necesita al menos un pago",
        ));
    }
    receptor.uso_cfdi = "CP01".into();
    receptor.nombre = normalize_space(&receptor.nombre);
    let lugar = lugar_expedicion.into();
    let pagos = pagos
        .into_iter()
        .map(build_pago)
        .collect::<Result<Vec<_>>>()?;
    let totales = totales(&pagos);
    let (serie, folio) = match serie_folio {
        Some((s, f)) => (Some(s), Some(f)),
        None => (None, None),
    };
    Ok(Comprobante {
        serie,
        folio,
        fecha,
        forma_pago: None,
        no_certificado: String::new(),
        certificado: String::new(),
        sello: String::new(),
        condiciones_de_pago: None,
        subtotal: Decimal::ZERO,
        descuento: None,
        moneda: "XXX",
        total: Decimal::ZERO,
        tipo: TipoDeComprobante::Pago,
        exportacion: "01",
        metodo_pago: None,
        lugar_expedicion: lugar,
        informacion_global: None,
        relacionados: None,
        emisor,
        receptor,
        conceptos: vec![Concepto {
            clave_prod_serv: "84111506".into(),
            no_identificacion: None,
            cantidad: Decimal::ONE,
            clave_unidad: "ACT".into(),
            unidad: None,
            descripcion: "Pago".into(),
            valor_unitario: Decimal::ZERO,
            importe: Decimal::ZERO,
            descuento: None,
            objeto_imp: ObjetoImp::No,
            traslado: None,
        }],
        impuestos: None,
        pagos: Some(Pagos { totales, pagos }),
    })
}

fn build_pago(p: PagoInput) -> Result<Pago> {
    if p.monto <= Decimal::ZERO || round(p.monto, 2) != p.monto {
        return Err(Error::invalid(
            "Monto",
            format!("{} no es un monto válido", p.monto),
        ));
    }
    if p.doctos.is_empty() {
        return Err(Error::invalid(
            "DoctoRelacionado",
            "el pago no se aplica a ningún documento",
        ));
    }
    let doctos = p
        .doctos
        .into_iter()
        .map(build_docto)
        .collect::<Result<Vec<_>>>()?;
    let pagado: Decimal = doctos.iter().map(|d| d.imp_pagado).sum();
    if pagado > p.monto {
        return Err(Error::invalid(
            "Monto",
            format!(
                "lo aplicado a los documentos ({pagado}) excede el monto del pago ({})",
                p.monto
            ),
        ));
    }
    let mut traslados: Vec<Traslado> = Vec::new();
    for t in doctos.iter().flat_map(|d| &d.traslados) {
        match traslados
            .iter_mut()
            .find(|g| g.tipo_factor == t.tipo_factor && g.tasa_o_cuota == t.tasa_o_cuota)
        {
            Some(g) => {
                g.base += t.base;
                g.importe = g
                    .importe
                    .zip(t.importe)
                    .map(|(a, b)| a + b)
                    .or(g.importe.or(t.importe));
            }
            None => traslados.push(t.clone()),
        }
    }
    Ok(Pago {
        fecha_pago: p.fecha_pago,
        forma_de_pago: p.forma_de_pago,
        monto: p.monto,
        num_operacion: p.num_operacion,
        doctos,
        traslados,
    })
}

fn build_docto(d: DoctoInput) -> Result<DoctoRelacionado> {
    crate::model::check_uuid(&d.id_documento)?;
    if d.num_parcialidad == 0 {
        return Err(Error::invalid("NumParcialidad", "empieza en 1"));
    }
    if d.imp_pagado <= Decimal::ZERO || d.imp_pagado > d.imp_saldo_ant {
        return Err(Error::invalid(
            "ImpPagado",
            format!(
                "el importe pagado {} debe ser mayor que cero y no exceder el saldo anterior {}",
                d.imp_pagado, d.imp_saldo_ant
            ),
        ));
    }
    if d.invoice_total <= Decimal::ZERO || d.imp_saldo_ant > d.invoice_total {
        return Err(Error::invalid(
            "ImpSaldoAnt",
            "el saldo anterior no puede exceder el total de la factura",
        ));
    }
    let share = d.imp_pagado / d.invoice_total;
    let traslados: Vec<Traslado> = d
        .invoice_traslados
        .iter()
        .map(|t| {
            let base = round(t.base * share, 2);
            Traslado {
                base,
                impuesto: t.impuesto,
                tipo_factor: t.tipo_factor,
                tasa_o_cuota: t.tasa_o_cuota,
                importe: t.tasa_o_cuota.map(|r| round(base * r, 2)),
            }
        })
        .filter(|t| t.base > Decimal::ZERO)
        .collect();
    Ok(DoctoRelacionado {
        id_documento: d.id_documento,
        serie: d.serie,
        folio: d.folio,
        num_parcialidad: d.num_parcialidad,
        imp_saldo_ant: d.imp_saldo_ant,
        imp_pagado: d.imp_pagado,
        imp_saldo_insoluto: d.imp_saldo_ant - d.imp_pagado,
        objeto_imp: if traslados.is_empty() {
            ObjetoImp::No
        } else {
            ObjetoImp::Si
        },
        traslados,
    })
}

fn totales(pagos: &[Pago]) -> Totales {
    let mut t = Totales {
        monto_total_pagos: pagos.iter().map(|p| p.monto).sum(),
        ..Totales::default()
    };
    let add = |slot: &mut Option<Decimal>, v: Decimal| *slot = Some(slot.unwrap_or_default() + v);
    for tr in pagos.iter().flat_map(|p| &p.traslados) {
        let rate = tr.tasa_o_cuota.unwrap_or_default();
        let imp = tr.importe.unwrap_or_default();
        match (tr.tipo_factor, rate) {
            (TipoFactor::Exento, _) => add(&mut t.base_iva_exento, tr.base),
            (TipoFactor::Tasa, r) if r == Decimal::new(16, 2) => {
                add(&mut t.base_iva16, tr.base);
                add(&mut t.impuesto_iva16, imp);
            }
            (TipoFactor::Tasa, r) if r == Decimal::new(8, 2) => {
                add(&mut t.base_iva8, tr.base);
                add(&mut t.impuesto_iva8, imp);
            }
            (TipoFactor::Tasa, _) => {
                add(&mut t.base_iva0, tr.base);
                add(&mut t.impuesto_iva0, imp);
            }
        }
    }
    t
}

/// What a Complemento de Pago needs from the stamped invoice it pays: read from the
/// stamped XML itself, the fiscally binding document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidInvoice {
    pub uuid: String,
    pub serie: Option<String>,
    pub folio: Option<String>,
    pub total: Decimal,
    /// "PPD" or "PUE".
    pub metodo_pago: String,
    /// The receptor, as the invoice names it (the P document goes to the same one).
    pub receptor: Receptor,
    /// The invoice's tax summary (root `Impuestos/Traslados`).
    pub traslados: Vec<Traslado>,
}

/// Read a stamped Ingreso. Fails when it is not stamped or its amounts are unreadable.
pub fn paid_invoice(stamped_xml: &str) -> Result<PaidInvoice> {
    let doc = roxmltree::Document::parse(stamped_xml)
        .map_err(|e| Error::invalid("XML", e.to_string()))?;
    let root = doc.root_element();
    let dec = |v: Option<&str>, field: &'static str| -> Result<Decimal> {
        v.unwrap_or_default()
            .parse()
            .map_err(|_| Error::invalid(field, "no es un importe"))
    };
    fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
        n.children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
    }
    let uuid = root
        .descendants()
        .find(|n| n.tag_name().name() == "TimbreFiscalDigital")
        .and_then(|n| n.attribute("UUID"))
        .ok_or_else(|| Error::invalid("TimbreFiscalDigital", "el CFDI no está timbrado"))?
        .to_string();
    let r = child(root, "Receptor")
        .ok_or_else(|| Error::invalid("Receptor", "el CFDI no tiene receptor"))?;
    let ra = |k: &str| r.attribute(k).unwrap_or_default().to_string();
    let receptor = Receptor {
        rfc: ra("Rfc")
            .parse()
            .map_err(|e: domain::InvalidValue| Error::invalid("Receptor", e.to_string()))?,
        nombre: ra("Nombre"),
        domicilio_fiscal: ra("DomicilioFiscalReceptor"),
        regimen_fiscal: ra("RegimenFiscalReceptor"),
        uso_cfdi: ra("UsoCFDI"),
    };
    let mut traslados = Vec::new();
    if let Some(ts) = child(root, "Impuestos").and_then(|i| child(i, "Traslados")) {
        for t in ts.children().filter(|c| c.is_element()) {
            let exento = t.attribute("TipoFactor") == Some("Exento");
            traslados.push(Traslado {
                base: dec(t.attribute("Base"), "Base")?,
                impuesto: Impuesto::Iva,
                tipo_factor: if exento {
                    TipoFactor::Exento
                } else {
                    TipoFactor::Tasa
                },
                tasa_o_cuota: if exento {
                    None
                } else {
                    Some(dec(t.attribute("TasaOCuota"), "TasaOCuota")?)
                },
                importe: if exento {
                    None
                } else {
                    Some(dec(t.attribute("Importe"), "Importe")?)
                },
            });
        }
    }
    Ok(PaidInvoice {
        uuid,
        serie: root.attribute("Serie").map(str::to_string),
        folio: root.attribute("Folio").map(str::to_string),
        total: dec(root.attribute("Total"), "Total")?,
        metodo_pago: root.attribute("MetodoPago").unwrap_or_default().to_string(),
        receptor,
        traslados,
    })
}
