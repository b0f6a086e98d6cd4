//! The `Comprobante` and its parts (Anexo 20, CFDI 4.0).
//!
//! A [`Comprobante`] is made by [`ComprobanteBuilder::build`], which derives every
//! computed amount from the concepts:
//! - concept `Importe` = Cantidad × ValorUnitario rounded to 2 decimals (MXN);
//! - concept tax `Base` = Importe − Descuento; `Importe` = Base × TasaOCuota rounded to
//!   2 decimals; exento carries Base only;
//! - the summary groups concept taxes by Impuesto + TipoFactor + TasaOCuota and sums
//!   their Base and Importe (so the summary equals the concepts to the centavo);
//! - SubTotal = Σ Importe; Descuento = Σ Descuento; Total = SubTotal − Descuento +
//!   TotalImpuestosTrasladados.
//!
//! Fields that only sealing sets (`no_certificado`, `certificado`, `sello`) start empty.

use chrono::{DateTime, FixedOffset};
use domain::Rfc;
use rust_decimal::Decimal;

use crate::text::{normalize_space, round};
use crate::{Error, Result};

/// Nombre SAT requires with the generic RFC in a factura global.
pub const PUBLICO_EN_GENERAL: &str = "PUBLICO EN GENERAL";

/// c_TipoDeComprobante.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipoDeComprobante {
    /// I — an invoice.
    Ingreso,
    /// E — a credit note.
    Egreso,
    /// P — a payment receipt (Complemento de Pago).
    Pago,
}

impl TipoDeComprobante {
    pub fn code(self) -> &'static str {
        match self {
            TipoDeComprobante::Ingreso => "I",
            TipoDeComprobante::Egreso => "E",
            TipoDeComprobante::Pago => "P",
        }
    }
}

/// c_MetodoPago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetodoPago {
    /// Pago en una sola exhibición: paid when the CFDI is issued.
    Pue,
    /// Pago en parcialidades o diferido: payments come later, each with a Complemento de
    /// Pago; FormaPago must be 99.
    Ppd,
}

impl MetodoPago {
    pub fn code(self) -> &'static str {
        match self {
            MetodoPago::Pue => "PUE",
            MetodoPago::Ppd => "PPD",
        }
    }
}

/// c_ObjetoImp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjetoImp {
    /// 01 — not subject to tax: no Impuestos node.
    No,
    /// 02 — subject to tax: the concept carries its Traslados.
    Si,
}

impl ObjetoImp {
    pub fn code(self) -> &'static str {
        match self {
            ObjetoImp::No => "01",
            ObjetoImp::Si => "02",
        }
    }
}

/// The tax treatment of one concept (IVA only: water utilities charge no IEPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tax {
    /// IVA at 16 %.
    Iva16,
    /// IVA at 8 % (border region).
    Iva8,
    /// IVA at 0 %.
    Iva0,
    /// IVA exento: a Traslado with Base only.
    Exento,
    /// "No objeto de impuesto" (ObjetoImp 01).
    NoObjeto,
}

impl Tax {
    pub fn objeto_imp(self) -> ObjetoImp {
        match self {
            Tax::NoObjeto => ObjetoImp::No,
            _ => ObjetoImp::Si,
        }
    }

    /// (TipoFactor, TasaOCuota) for the Traslado, `None` when not subject.
    fn factor(self) -> Option<(TipoFactor, Option<Decimal>)> {
        match self {
            Tax::Iva16 => Some((TipoFactor::Tasa, Some(Decimal::new(16, 2)))),
            Tax::Iva8 => Some((TipoFactor::Tasa, Some(Decimal::new(8, 2)))),
            Tax::Iva0 => Some((TipoFactor::Tasa, Some(Decimal::ZERO))),
            Tax::Exento => Some((TipoFactor::Exento, None)),
            Tax::NoObjeto => None,
        }
    }
}

/// c_TipoFactor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TipoFactor {
    Tasa,
    Exento,
}

impl TipoFactor {
    pub fn code(self) -> &'static str {
        match self {
            TipoFactor::Tasa => "Tasa",
            TipoFactor::Exento => "Exento",
        }
    }
}

/// c_Impuesto: 002 is IVA, the only one a water utility transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impuesto {
    Iva,
}

impl Impuesto {
    pub fn code(self) -> &'static str {
        match self {
            Impuesto::Iva => "002",
        }
    }
}

/// A transferred tax, on a concept or in the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traslado {
    pub base: Decimal,
    pub impuesto: Impuesto,
    pub tipo_factor: TipoFactor,
    /// `None` for exento.
    pub tasa_o_cuota: Option<Decimal>,
    /// `None` for exento.
    pub importe: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emisor {
    pub rfc: Rfc,
    /// The name as registered with SAT, without the régimen de capital ("SA DE CV").
    pub nombre: String,
    /// c_RegimenFiscal, e.g. 603 (personas morales con fines no lucrativos).
    pub regimen_fiscal: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receptor {
    pub rfc: Rfc,
    pub nombre: String,
    /// The customer's fiscal postal code (c_CodigoPostal).
    pub domicilio_fiscal: String,
    /// c_RegimenFiscal of the customer.
    pub regimen_fiscal: String,
    /// c_UsoCFDI.
    pub uso_cfdi: String,
}

impl Receptor {
    /// The generic receptor of a factura global: XAXX010101000, "PUBLICO EN GENERAL",
    /// régimen 616, UsoCFDI S01, domicilio fiscal = LugarExpedicion.
    pub fn publico_en_general(lugar_expedicion: &str) -> Receptor {
        Receptor {
            rfc: Rfc::PUBLICO_EN_GENERAL
                .parse()
                .unwrap_or_else(|_| unreachable!("the generic RFC is valid")),
            nombre: PUBLICO_EN_GENERAL.into(),
            domicilio_fiscal: lugar_expedicion.into(),
            regimen_fiscal: "616".into(),
            uso_cfdi: "S01".into(),
        }
    }

    fn is_publico_en_general(&self) -> bool {
        self.rfc.as_str() == Rfc::PUBLICO_EN_GENERAL && self.nombre == PUBLICO_EN_GENERAL
    }
}

/// InformacionGlobal of a factura global.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformacionGlobal {
    /// c_Periodicidad: 01 diario, 02 semanal, 03 quincenal, 04 mensual, 05 bimestral.
    pub periodicidad: String,
    /// c_Meses: 01–12, or 13–18 for bimonthly periods.
    pub meses: String,
    pub anio: i32,
}

/// What the caller gives for one concept; the builder computes the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConceptoInput {
    pub clave_prod_serv: String,
    pub no_identificacion: Option<String>,
    pub cantidad: Decimal,
    pub clave_unidad: String,
    pub unidad: Option<String>,
    pub descripcion: String,
    pub valor_unitario: Decimal,
    pub descuento: Option<Decimal>,
    pub tax: Tax,
}

/// A concept as it appears in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concepto {
    pub clave_prod_serv: String,
    pub no_identificacion: Option<String>,
    pub cantidad: Decimal,
    pub clave_unidad: String,
    pub unidad: Option<String>,
    pub descripcion: String,
    pub valor_unitario: Decimal,
    pub importe: Decimal,
    pub descuento: Option<Decimal>,
    pub objeto_imp: ObjetoImp,
    pub traslado: Option<Traslado>,
}

/// The tax summary of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impuestos {
    pub traslados: Vec<Traslado>,
    /// Absent when every traslado is exento.
    pub total_trasladados: Option<Decimal>,
}

/// CfdiRelacionados: this document relates to earlier ones (c_TipoRelacion, e.g. 01 nota
/// de crédito, 04 sustitución).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relacionados {
    pub tipo_relacion: String,
    pub uuids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comprobante {
    pub serie: Option<String>,
    pub folio: Option<String>,
    /// Local time of LugarExpedicion; written without the offset.
    pub fecha: DateTime<FixedOffset>,
    /// c_FormaPago (01 efectivo, 03 transferencia, 04 tarjeta de crédito, 28 débito, 99 por
    /// definir…); absent on tipo P.
    pub forma_pago: Option<String>,
    pub no_certificado: String,
    pub certificado: String,
    pub sello: String,
    pub condiciones_de_pago: Option<String>,
    pub subtotal: Decimal,
    pub descuento: Option<Decimal>,
    pub moneda: &'static str,
    pub total: Decimal,
    pub tipo: TipoDeComprobante,
    /// c_Exportacion: always 01 (no export) for a utility.
    pub exportacion: &'static str,
    pub metodo_pago: Option<MetodoPago>,
    pub lugar_expedicion: String,
    pub informacion_global: Option<InformacionGlobal>,
    pub relacionados: Option<Relacionados>,
    pub emisor: Emisor,
    pub receptor: Receptor,
    pub conceptos: Vec<Concepto>,
    pub impuestos: Option<Impuestos>,
    /// Complemento de Pagos 2.0 (tipo P only).
    pub pagos: Option<crate::pagos::Pagos>,
}

impl Comprobante {
    /// Decimals of the document's currency: 2 for MXN, 0 for XXX (tipo P).
    pub fn currency_decimals(&self) -> u32 {
        if self.moneda == "XXX" { 0 } else { 2 }
    }
}

/// Builds a consistent [`Comprobante`] of type I (ingreso) or E (egreso).
#[derive(Debug, Clone)]
pub struct ComprobanteBuilder {
    tipo: TipoDeComprobante,
    serie: Option<String>,
    folio: Option<String>,
    fecha: DateTime<FixedOffset>,
    lugar_expedicion: String,
    emisor: Emisor,
    receptor: Receptor,
    metodo_pago: MetodoPago,
    forma_pago: String,
    condiciones_de_pago: Option<String>,
    informacion_global: Option<InformacionGlobal>,
    relacionados: Option<Relacionados>,
    conceptos: Vec<ConceptoInput>,
}

impl ComprobanteBuilder {
    /// An invoice (tipo I), paid later (PPD, FormaPago 99) until [`Self::paid`] says
    /// otherwise.
    pub fn ingreso(
        emisor: Emisor,
        receptor: Receptor,
        lugar_expedicion: impl Into<String>,
        fecha: DateTime<FixedOffset>,
    ) -> Self {
        ComprobanteBuilder {
            tipo: TipoDeComprobante::Ingreso,
            serie: None,
            folio: None,
            fecha,
            lugar_expedicion: lugar_expedicion.into(),
            emisor,
            receptor,
            metodo_pago: MetodoPago::Ppd,
            forma_pago: "99".into(),
            condiciones_de_pago: None,
            informacion_global: None,
            relacionados: None,
            conceptos: Vec::new(),
        }
    }

    /// A credit note (tipo E) related to `uuids` with TipoRelacion 01.
    pub fn egreso(
        emisor: Emisor,
        receptor: Receptor,
        lugar_expedicion: impl Into<String>,
        fecha: DateTime<FixedOffset>,
        uuids: Vec<String>,
    ) -> Self {
        let mut b = Self::ingreso(emisor, receptor, lugar_expedicion, fecha);
        b.tipo = TipoDeComprobante::Egreso;
        b.relacionados = Some(Relacionados {
            tipo_relacion: "01".into(),
            uuids,
        });
        b
    }

    pub fn serie_folio(mut self, serie: impl Into<String>, folio: impl Into<String>) -> Self {
        self.serie = Some(serie.into());
        self.folio = Some(folio.into());
        self
    }

    /// Paid in one exhibition (PUE) with c_FormaPago `forma_pago`.
    pub fn paid(mut self, forma_pago: impl Into<String>) -> Self {
        self.metodo_pago = MetodoPago::Pue;
        self.forma_pago = forma_pago.into();
        self
    }

    pub fn condiciones_de_pago(mut self, text: impl Into<String>) -> Self {
        self.condiciones_de_pago = Some(text.into());
        self
    }

    pub fn informacion_global(mut self, info: InformacionGlobal) -> Self {
        self.informacion_global = Some(info);
        self
    }

    /// Relate to earlier CFDIs (replaces any relation set before).
    pub fn relacionados(mut self, tipo_relacion: impl Into<String>, uuids: Vec<String>) -> Self {
        self.relacionados = Some(Relacionados {
            tipo_relacion: tipo_relacion.into(),
            uuids,
        });
        self
    }

    pub fn concepto(mut self, c: ConceptoInput) -> Self {
        self.conceptos.push(c);
        self
    }

    pub fn build(self) -> Result<Comprobante> {
        check_code("LugarExpedicion", &self.lugar_expedicion, 5, 5, true)?;
        check_code("RegimenFiscal", &self.emisor.regimen_fiscal, 3, 3, true)?;
        check_text("Emisor.Nombre", &self.emisor.nombre, 254)?;
        check_receptor(&self.receptor)?;
        check_code("FormaPago", &self.forma_pago, 2, 2, true)?;
        if self.metodo_pago == MetodoPago::Ppd && self.forma_pago != "99" {
            return Err(Error::invalid(
                "FormaPago",
                "con método PPD la forma de pago debe ser 99 (por definir)",
            ));
        }
        if self.metodo_pago == MetodoPago::Pue && self.forma_pago == "99" {
            return Err(Error::invalid(
                "FormaPago",
                "con método PUE la forma de pago no puede ser 99",
            ));
        }
        let publico = self.receptor.is_publico_en_general();
        match (&self.informacion_global, publico) {
            (None, true) => {
                return Err(Error::invalid(
                    "InformacionGlobal",
                    "una factura a PUBLICO EN GENERAL necesita InformacionGlobal",
                ));
            }
            (Some(_), false) => {
                return Err(Error::invalid(
                    "InformacionGlobal",
                    "solo la factura global a PUBLICO EN GENERAL lleva InformacionGlobal",
                ));
            }
            (Some(info), true) => {
                check_global(info, self.fecha, &self.receptor, &self.lugar_expedicion)?
            }
            (None, false) => {}
        }
        if let Some(r) = &self.relacionados {
            check_code("TipoRelacion", &r.tipo_relacion, 2, 2, true)?;
            if r.uuids.is_empty() {
                return Err(Error::invalid(
                    "CfdiRelacionado",
                    "falta el UUID relacionado",
                ));
            }
            for u in &r.uuids {
                check_uuid(u)?;
            }
        }
        for (name, v) in [("Serie", &self.serie), ("Folio", &self.folio)] {
            if let Some(v) = v {
                let max = if name == "Serie" { 25 } else { 40 };
                check_text(name, v, max)?;
            }
        }
        if self.conceptos.is_empty() {
            return Err(Error::invalid(
                "Conceptos",
                "el comprobante no tiene conceptos",
            ));
        }

        let conceptos = self
            .conceptos
            .into_iter()
            .map(build_concepto)
            .collect::<Result<Vec<_>>>()?;

        let subtotal: Decimal = conceptos.iter().map(|c| c.importe).sum();
        let descuento = conceptos.iter().any(|c| c.descuento.is_some()).then(|| {
            conceptos
                .iter()
                .filter_map(|c| c.descuento)
                .sum::<Decimal>()
        });
        let impuestos = summarize(&conceptos);
        let trasladados = impuestos
            .as_ref()
            .and_then(|i| i.total_trasladados)
            .unwrap_or_default();
        let total = subtotal - descuento.unwrap_or_default() + trasladados;
        if total < Decimal::ZERO {
            return Err(Error::invalid("Total", "el total no puede ser negativo"));
        }

        Ok(Comprobante {
            serie: self.serie.map(|s| normalize_space(&s)),
            folio: self.folio.map(|s| normalize_space(&s)),
            fecha: self.fecha,
            forma_pago: Some(self.forma_pago),
            no_certificado: String::new(),
            certificado: String::new(),
            sello: String::new(),
            condiciones_de_pago: self.condiciones_de_pago.map(|s| normalize_space(&s)),
            subtotal,
            descuento,
            moneda: "MXN",
            total,
            tipo: self.tipo,
            exportacion: "01",
            metodo_pago: Some(self.metodo_pago),
            lugar_expedicion: self.lugar_expedicion,
            informacion_global: self.informacion_global,
            relacionados: self.relacionados,
            emisor: Emisor {
                nombre: normalize_space(&self.emisor.nombre),
                ..self.emisor
            },
            receptor: Receptor {
                nombre: normalize_space(&self.receptor.nombre),
                ..self.receptor
            },
            conceptos,
            impuestos,
            pagos: None,
        })
    }
}

fn build_concepto(c: ConceptoInput) -> Result<Concepto> {
    check_code("ClaveProdServ", &c.clave_prod_serv, 8, 8, true)?;
    check_code("ClaveUnidad", &c.clave_unidad, 2, 3, false)?;
    check_text("Descripcion", &c.descripcion, 1000)?;
    if c.cantidad <= Decimal::ZERO || c.cantidad.scale() > 6 {
        return Err(Error::invalid(
            "Cantidad",
            format!(
                "{} no es una cantidad válida (mayor que cero, hasta 6 decimales)",
                c.cantidad
            ),
        ));
    }
    if c.valor_unitario < Decimal::ZERO || c.valor_unitario.scale() > 6 {
        return Err(Error::invalid(
            "ValorUnitario",
            format!(
                "{} no es un valor unitario válido (no negativo, hasta 6 decimales)",
                c.valor_unitario
            ),
        ));
    }
    let importe = round(c.cantidad * c.valor_unitario, 2);
    let descuento = c.descuento.map(|d| round(d, 2));
    if let Some(d) = descuento
        && (d < Decimal::ZERO || d > importe)
    {
        return Err(Error::invalid(
            "Descuento",
            format!("el descuento {d} debe estar entre 0 y el importe {importe}"),
        ));
    }
    let base = importe - descuento.unwrap_or_default();
    // SAT requires a Traslado Base > 0: a concept that is free after its discount (e.g. a
    // 100 % INAPAM discount) carries no tax and is "no objeto de impuesto" (01).
    let tax = if base.is_zero() { Tax::NoObjeto } else { c.tax };
    let traslado = tax.factor().map(|(tipo_factor, tasa)| Traslado {
        base,
        impuesto: Impuesto::Iva,
        tipo_factor,
        tasa_o_cuota: tasa,
        importe: tasa.map(|t| round(base * t, 2)),
    });
    Ok(Concepto {
        clave_prod_serv: c.clave_prod_serv,
        no_identificacion: c.no_identificacion.map(|s| normalize_space(&s)),
        cantidad: c.cantidad,
        clave_unidad: c.clave_unidad,
        unidad: c.unidad.map(|s| normalize_space(&s)),
        descripcion: normalize_space(&c.descripcion),
        valor_unitario: c.valor_unitario,
        importe,
        descuento,
        objeto_imp: tax.objeto_imp(),
        traslado,
    })
}

/// Group concept traslados by Impuesto + TipoFactor + TasaOCuota (one node per group).
fn summarize(conceptos: &[Concepto]) -> Option<Impuestos> {
    let mut groups: Vec<Traslado> = Vec::new();
    for t in conceptos.iter().filter_map(|c| c.traslado.as_ref()) {
        match groups.iter_mut().find(|g| {
            g.impuesto == t.impuesto
                && g.tipo_factor == t.tipo_factor
                && g.tasa_o_cuota == t.tasa_o_cuota
        }) {
            Some(g) => {
                g.base += t.base;
                g.importe = match (g.importe, t.importe) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
            }
            None => groups.push(t.clone()),
        }
    }
    if groups.is_empty() {
        return None;
    }
    // Stable, readable order: Tasa before Exento, higher rates first.
    groups.sort_by(|a, b| {
        a.tipo_factor
            .cmp(&b.tipo_factor)
            .then(b.tasa_o_cuota.cmp(&a.tasa_o_cuota))
    });
    let total = groups
        .iter()
        .any(|g| g.importe.is_some())
        .then(|| groups.iter().filter_map(|g| g.importe).sum());
    Some(Impuestos {
        traslados: groups,
        total_trasladados: total,
    })
}

fn check_receptor(r: &Receptor) -> Result<()> {
    check_text("Receptor.Nombre", &r.nombre, 254)?;
    check_code("DomicilioFiscalReceptor", &r.domicilio_fiscal, 5, 5, true)?;
    check_code("RegimenFiscalReceptor", &r.regimen_fiscal, 3, 3, true)?;
    check_code("UsoCFDI", &r.uso_cfdi, 3, 4, false)?;
    if r.rfc.as_str() == Rfc::PUBLICO_EN_GENERAL
        && (r.regimen_fiscal != "616" || r.uso_cfdi != "S01")
    {
        return Err(Error::invalid(
            "Receptor",
            "con RFC genérico el régimen debe ser 616 y el uso S01",
        ));
    }
    Ok(())
}

fn check_global(
    info: &InformacionGlobal,
    fecha: DateTime<FixedOffset>,
    receptor: &Receptor,
    lugar: &str,
) -> Result<()> {
    use chrono::Datelike;
    let periodicidad: u8 = info.periodicidad.parse().unwrap_or(0);
    if info.periodicidad.len() != 2 || !(1..=5).contains(&periodicidad) {
        return Err(Error::invalid("Periodicidad", "debe ser 01 a 05"));
    }
    let meses: u8 = info.meses.parse().unwrap_or(0);
    let ok = info.meses.len() == 2
        && if periodicidad == 5 {
            (13..=18).contains(&meses)
        } else {
            (1..=12).contains(&meses)
        };
    if !ok {
        return Err(Error::invalid(
            "Meses",
            "01 a 12 (o 13 a 18 con periodicidad bimestral)",
        ));
    }
    let year = fecha.year();
    if info.anio != year && info.anio != year - 1 {
        return Err(Error::invalid(
            "Año",
            "debe ser el año en curso o el anterior",
        ));
    }
    if receptor.domicilio_fiscal != lugar {
        return Err(Error::invalid(
            "DomicilioFiscalReceptor",
            "en la factura global debe ser igual al LugarExpedicion",
        ));
    }
    Ok(())
}

fn check_code(field: &'static str, v: &str, min: usize, max: usize, digits: bool) -> Result<()> {
    let ok = (min..=max).contains(&v.len())
        && v.chars().all(|c| {
            if digits {
                c.is_ascii_digit()
            } else {
                c.is_ascii_uppercase() || c.is_ascii_digit()
            }
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("«{v}» no es una clave válida"),
        ))
    }
}

fn check_text(field: &'static str, v: &str, max: usize) -> Result<()> {
    let n = normalize_space(v);
    if n.is_empty() {
        return Err(Error::invalid(field, "no puede ir vacío"));
    }
    if n.chars().count() > max {
        return Err(Error::invalid(field, format!("más de {max} caracteres")));
    }
    if n.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(field, "contiene caracteres de control"));
    }
    Ok(())
}

pub(crate) fn check_uuid(u: &str) -> Result<()> {
    let ok = u.len() == 36
        && u.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("UUID", format!("«{u}» no es un UUID")))
    }
}
