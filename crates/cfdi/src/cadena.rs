//! The cadena original of a CFDI 4.0, following SAT's `cadenaoriginal_4_0.xslt`: the
//! values in the stylesheet's order, each preceded by `|`, whitespace-normalized, the
//! whole wrapped in `||…||`. Required values are always written (even empty); optional
//! ones only when present.
//!
//! Tests prove this byte-identical to `xsltproc` with SAT's stylesheet.

use rust_decimal::Decimal;

use crate::model::{Comprobante, Traslado};
use crate::pagos::Pagos;
use crate::text::{fixed, normalize_space, quantity};
use crate::xml::NS_CFDI;
use crate::xml::{fecha, fecha_local};

struct Cadena(String);

impl Cadena {
    fn req(&mut self, v: &str) {
        self.0.push('|');
        self.0.push_str(&normalize_space(v));
    }

    fn opt(&mut self, v: Option<&str>) {
        if let Some(v) = v {
            self.req(v);
        }
    }

    fn traslado(&mut self, t: &Traslado) {
        self.req(&fixed(t.base, 2));
        self.req(t.impuesto.code());
        self.req(t.tipo_factor.code());
        self.opt(t.tasa_o_cuota.map(|r| fixed(r, 6)).as_deref());
        self.opt(t.importe.map(|i| fixed(i, 2)).as_deref());
    }
}

impl Cadena {
    /// Pagos20.xslt.
    fn pagos(&mut self, p: &Pagos) {
        let m = |v: Option<Decimal>| v.map(|v| fixed(v, 2));
        self.req("2.0");
        let t = &p.totales;
        for v in [
            t.base_iva16,
            t.impuesto_iva16,
            t.base_iva8,
            t.impuesto_iva8,
            t.base_iva0,
            t.impuesto_iva0,
            t.base_iva_exento,
        ] {
            self.opt(m(v).as_deref());
        }
        self.req(&fixed(t.monto_total_pagos, 2));
        for pago in &p.pagos {
            self.req(&fecha_local(pago.fecha_pago));
            self.req(&pago.forma_de_pago);
            self.req("MXN");
            self.opt(Some("1"));
            self.req(&fixed(pago.monto, 2));
            self.opt(pago.num_operacion.as_deref());
            for d in &pago.doctos {
                self.req(&d.id_documento);
                self.opt(d.serie.as_deref());
                self.opt(d.folio.as_deref());
                self.req("MXN");
                self.opt(Some("1"));
                self.req(&d.num_parcialidad.to_string());
                self.req(&fixed(d.imp_saldo_ant, 2));
                self.req(&fixed(d.imp_pagado, 2));
                self.req(&fixed(d.imp_saldo_insoluto, 2));
                self.req(d.objeto_imp.code());
                for t in &d.traslados {
                    self.traslado(t);
                }
            }
            for t in &pago.traslados {
                self.traslado(t);
            }
        }
    }
}

/// The cadena original of `c` (as sealed: NoCertificado must already be set).
pub fn of(c: &Comprobante) -> String {
    let mut s = Cadena(String::with_capacity(1024));
    s.0.push('|');
    s.req("4.0");
    s.opt(c.serie.as_deref());
    s.opt(c.folio.as_deref());
    s.req(&fecha(c.fecha));
    s.opt(c.forma_pago.as_deref());
    s.req(&c.no_certificado);
    s.opt(c.condiciones_de_pago.as_deref());
    let dp = c.currency_decimals();
    s.req(&fixed(c.subtotal, dp));
    s.opt(c.descuento.map(|d| fixed(d, dp)).as_deref());
    s.req(c.moneda);
    s.req(&fixed(c.total, dp));
    s.req(c.tipo.code());
    s.req(c.exportacion);
    s.opt(c.metodo_pago.map(|m| m.code()));
    s.req(&c.lugar_expedicion);
    if let Some(g) = &c.informacion_global {
        s.req(&g.periodicidad);
        s.req(&g.meses);
        s.req(&g.anio.to_string());
    }
    if let Some(r) = &c.relacionados {
        s.req(&r.tipo_relacion);
        for u in &r.uuids {
            s.req(u);
        }
    }
    s.req(c.emisor.rfc.as_str());
    s.req(&c.emisor.nombre);
    s.req(&c.emisor.regimen_fiscal);
    let r = &c.receptor;
    s.req(r.rfc.as_str());
    s.req(&r.nombre);
    s.req(&r.domicilio_fiscal);
    s.req(&r.regimen_fiscal);
    s.req(&r.uso_cfdi);
    for k in &c.conceptos {
        s.req(&k.clave_prod_serv);
        s.opt(k.no_identificacion.as_deref());
        s.req(&quantity(k.cantidad));
        s.req(&k.clave_unidad);
        s.opt(k.unidad.as_deref());
        s.req(&k.descripcion);
        s.req(&crate::xml::unit_value(k.valor_unitario, dp));
        s.req(&fixed(k.importe, dp));
        s.opt(k.descuento.map(|d| fixed(d, dp)).as_deref());
        s.req(k.objeto_imp.code());
        if let Some(t) = &k.traslado {
            s.traslado(t);
        }
    }
    if let Some(i) = &c.impuestos {
        for t in &i.traslados {
            s.traslado(t);
        }
        s.opt(i.total_trasladados.map(|t| fixed(t, 2)).as_deref());
    }
    if let Some(p) = &c.pagos {
        s.pagos(p);
    }
    s.0.push_str("||");
    s.0
}

// ------------------------------------------------------------------ from XML

/// `(attribute, required)` in the stylesheet's order.
type Attrs = &'static [(&'static str, bool)];

const COMPROBANTE: Attrs = &[
    ("Version", true),
    ("Serie", false),
    ("Folio", false),
    ("Fecha", true),
    ("FormaPago", false),
    ("NoCertificado", true),
    ("CondicionesDePago", false),
    ("SubTotal", true),
    ("Descuento", false),
    ("Moneda", true),
    ("TipoCambio", false),
    ("Total", true),
    ("TipoDeComprobante", true),
    ("Exportacion", true),
    ("MetodoPago", false),
    ("LugarExpedicion", true),
    ("Confirmacion", false),
];
const INFO_GLOBAL: Attrs = &[("Periodicidad", true), ("Meses", true), ("Año", true)];
const EMISOR: Attrs = &[
    ("Rfc", true),
    ("Nombre", true),
    ("RegimenFiscal", true),
    ("FacAtrAdquirente", false),
];
const RECEPTOR: Attrs = &[
    ("Rfc", true),
    ("Nombre", true),
    ("DomicilioFiscalReceptor", true),
    ("ResidenciaFiscal", false),
    ("NumRegIdTrib", false),
    ("RegimenFiscalReceptor", true),
    ("UsoCFDI", true),
];
const CONCEPTO: Attrs = &[
    ("ClaveProdServ", true),
    ("NoIdentificacion", false),
    ("Cantidad", true),
    ("ClaveUnidad", true),
    ("Unidad", false),
    ("Descripcion", true),
    ("ValorUnitario", true),
    ("Importe", true),
    ("Descuento", false),
    ("ObjetoImp", true),
];
const TRASLADO: Attrs = &[
    ("Base", true),
    ("Impuesto", true),
    ("TipoFactor", true),
    ("TasaOCuota", false),
    ("Importe", false),
];
const RETENCION: Attrs = &[
    ("Base", true),
    ("Impuesto", true),
    ("TipoFactor", true),
    ("TasaOCuota", true),
    ("Importe", true),
];
const A_CUENTA_TERCEROS: Attrs = &[
    ("RfcACuentaTerceros", true),
    ("NombreACuentaTerceros", true),
    ("RegimenFiscalACuentaTerceros", true),
    ("DomicilioFiscalACuentaTerceros", true),
];
const PARTE: Attrs = &[
    ("ClaveProdServ", true),
    ("NoIdentificacion", false),
    ("Cantidad", true),
    ("Unidad", false),
    ("Descripcion", true),
    ("ValorUnitario", false),
    ("Importe", false),
];
const PAGOS_TOTALES: Attrs = &[
    ("TotalRetencionesIVA", false),
    ("TotalRetencionesISR", false),
    ("TotalRetencionesIEPS", false),
    ("TotalTrasladosBaseIVA16", false),
    ("TotalTrasladosImpuestoIVA16", false),
    ("TotalTrasladosBaseIVA8", false),
    ("TotalTrasladosImpuestoIVA8", false),
    ("TotalTrasladosBaseIVA0", false),
    ("TotalTrasladosImpuestoIVA0", false),
    ("TotalTrasladosBaseIVAExento", false),
    ("MontoTotalPagos", true),
];
const PAGO: Attrs = &[
    ("FechaPago", true),
    ("FormaDePagoP", true),
    ("MonedaP", true),
    ("TipoCambioP", false),
    ("Monto", true),
    ("NumOperacion", false),
    ("RfcEmisorCtaOrd", false),
    ("NomBancoOrdExt", false),
    ("CtaOrdenante", false),
    ("RfcEmisorCtaBen", false),
    ("CtaBeneficiario", false),
    ("TipoCadPago", false),
    ("CertPago", false),
    ("CadPago", false),
    ("SelloPago", false),
];
const DOCTO: Attrs = &[
    ("IdDocumento", true),
    ("Serie", false),
    ("Folio", false),
    ("MonedaDR", true),
    ("EquivalenciaDR", false),
    ("NumParcialidad", true),
    ("ImpSaldoAnt", true),
    ("ImpPagado", true),
    ("ImpSaldoInsoluto", true),
    ("ObjetoImpDR", true),
];
const RETENCION_DR: Attrs = &[
    ("BaseDR", true),
    ("ImpuestoDR", true),
    ("TipoFactorDR", true),
    ("TasaOCuotaDR", true),
    ("ImporteDR", true),
];
const TRASLADO_DR: Attrs = &[
    ("BaseDR", true),
    ("ImpuestoDR", true),
    ("TipoFactorDR", true),
    ("TasaOCuotaDR", false),
    ("ImporteDR", false),
];
const RETENCION_P: Attrs = &[("ImpuestoP", true), ("ImporteP", true)];
const TRASLADO_P: Attrs = &[
    ("BaseP", true),
    ("ImpuestoP", true),
    ("TipoFactorP", true),
    ("TasaOCuotaP", false),
    ("ImporteP", false),
];

const NS_PAGOS: &str = "http://www.sat.gob.mx/Pagos20";

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

fn children<'a, 'i>(
    n: Node<'a, 'i>,
    ns: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(move |c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

/// `path` of element names below `n`, all in namespace `ns`.
fn descendants<'a, 'i>(
    n: Node<'a, 'i>,
    ns: &'static str,
    path: &'static [&'static str],
) -> Vec<Node<'a, 'i>> {
    let mut level = vec![n];
    for name in path {
        level = level
            .into_iter()
            .flat_map(|x| children(x, ns, name))
            .collect();
    }
    level
}

impl Cadena {
    fn attrs(&mut self, n: Node<'_, '_>, attrs: Attrs) {
        for (name, required) in attrs {
            match (n.attribute(*name), required) {
                (Some(v), _) => self.req(v),
                (None, true) => self.req(""),
                (None, false) => {}
            }
        }
    }

    fn concepto(&mut self, c: Node<'_, '_>) {
        self.attrs(c, CONCEPTO);
        for t in descendants(c, NS_CFDI, &["Impuestos", "Traslados", "Traslado"]) {
            self.attrs(t, TRASLADO);
        }
        for r in descendants(c, NS_CFDI, &["Impuestos", "Retenciones", "Retencion"]) {
            self.attrs(r, RETENCION);
        }
        for a in children(c, NS_CFDI, "ACuentaTerceros") {
            self.attrs(a, A_CUENTA_TERCEROS);
        }
        for a in children(c, NS_CFDI, "InformacionAduanera") {
            self.attrs(a, &[("NumeroPedimento", true)]);
        }
        for a in children(c, NS_CFDI, "CuentaPredial") {
            self.attrs(a, &[("Numero", true)]);
        }
        for p in c.descendants().filter(|d| {
            d.is_element()
                && d.tag_name().name() == "Parte"
                && d.tag_name().namespace() == Some(NS_CFDI)
        }) {
            self.attrs(p, PARTE);
            for a in p.descendants().filter(|d| {
                d.is_element()
                    && d.tag_name().name() == "InformacionAduanera"
                    && d.tag_name().namespace() == Some(NS_CFDI)
            }) {
                self.attrs(a, &[("NumeroPedimento", true)]);
            }
        }
    }

    fn pagos_xml(&mut self, p: Node<'_, '_>) {
        self.attrs(p, &[("Version", true)]);
        for t in children(p, NS_PAGOS, "Totales") {
            self.attrs(t, PAGOS_TOTALES);
        }
        for pago in children(p, NS_PAGOS, "Pago") {
            self.attrs(pago, PAGO);
            for d in children(pago, NS_PAGOS, "DoctoRelacionado") {
                self.attrs(d, DOCTO);
                for r in descendants(
                    d,
                    NS_PAGOS,
                    &["ImpuestosDR", "RetencionesDR", "RetencionDR"],
                ) {
                    self.attrs(r, RETENCION_DR);
                }
                for t in descendants(d, NS_PAGOS, &["ImpuestosDR", "TrasladosDR", "TrasladoDR"]) {
                    self.attrs(t, TRASLADO_DR);
                }
            }
            for i in children(pago, NS_PAGOS, "ImpuestosP") {
                for r in descendants(i, NS_PAGOS, &["RetencionesP", "RetencionP"]) {
                    self.attrs(r, RETENCION_P);
                }
                for t in descendants(i, NS_PAGOS, &["TrasladosP", "TrasladoP"]) {
                    self.attrs(t, TRASLADO_P);
                }
            }
        }
    }
}

/// The cadena original of a CFDI 4.0 document given as XML — what SAT's stylesheet
/// computes — for the complements a water utility meets (Pagos 2.0; the
/// TimbreFiscalDigital contributes nothing). Used to verify documents we did not build
/// (the PAC simulator, imported XML).
pub fn of_xml(xml: &str) -> Result<String, crate::Error> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| crate::Error::invalid("XML", format!("mal formado: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Comprobante" || root.tag_name().namespace() != Some(NS_CFDI) {
        return Err(crate::Error::invalid(
            "XML",
            "no es un cfdi:Comprobante 4.0",
        ));
    }
    let mut s = Cadena(String::with_capacity(2048));
    s.0.push('|');
    s.attrs(root, COMPROBANTE);
    for g in children(root, NS_CFDI, "InformacionGlobal") {
        s.attrs(g, INFO_GLOBAL);
    }
    for r in children(root, NS_CFDI, "CfdiRelacionados") {
        s.attrs(r, &[("TipoRelacion", true)]);
        for u in children(r, NS_CFDI, "CfdiRelacionado") {
            s.attrs(u, &[("UUID", true)]);
        }
    }
    for e in children(root, NS_CFDI, "Emisor") {
        s.attrs(e, EMISOR);
    }
    for r in children(root, NS_CFDI, "Receptor") {
        s.attrs(r, RECEPTOR);
    }
    for c in descendants(root, NS_CFDI, &["Conceptos", "Concepto"]) {
        s.concepto(c);
    }
    for i in children(root, NS_CFDI, "Impuestos") {
        for r in descendants(i, NS_CFDI, &["Retenciones", "Retencion"]) {
            s.attrs(r, &[("Impuesto", true), ("Importe", true)]);
        }
        s.attrs(i, &[("TotalImpuestosRetenidos", false)]);
        for t in descendants(i, NS_CFDI, &["Traslados", "Traslado"]) {
            s.attrs(t, TRASLADO);
        }
        s.attrs(i, &[("TotalImpuestosTrasladados", false)]);
    }
    for comp in children(root, NS_CFDI, "Complemento") {
        for child in comp.children().filter(|c| c.is_element()) {
            match (child.tag_name().namespace(), child.tag_name().name()) {
                (Some(NS_PAGOS), "Pagos") => s.pagos_xml(child),
                (Some("http://www.sat.gob.mx/TimbreFiscalDigital"), _) => {}
                (ns, name) => {
                    return Err(crate::Error::invalid(
                        "Complemento",
                        format!("complemento no soportado: {{{}}}{name}", ns.unwrap_or("")),
                    ));
                }
            }
        }
    }
    s.0.push_str("||");
    Ok(s.0)
}
