//! The CFDI 4.0 XML document. Attributes follow the XSD's order; values are the same
//! strings the cadena original uses, so what is signed is what is written.

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use rust_decimal::Decimal;

use crate::model::{Comprobante, Traslado};
use crate::pagos::Pagos;
use crate::text::{fixed, quantity, round};

pub const NS_CFDI: &str = "http://www.sat.gob.mx/cfd/4";
pub const SCHEMA_LOCATION: &str =
    "http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd";
pub const NS_PAGOS: &str = "http://www.sat.gob.mx/Pagos20";
pub const SCHEMA_LOCATION_PAGOS: &str =
    "http://www.sat.gob.mx/Pagos20 http://www.sat.gob.mx/sitio_internet/cfd/Pagos/Pagos20.xsd";

/// `AAAA-MM-DDThh:mm:ss` in the document's local time, no offset.
pub fn fecha(f: DateTime<FixedOffset>) -> String {
    fecha_local(f.naive_local())
}

/// `AAAA-MM-DDThh:mm:ss` of a local date-time.
pub fn fecha_local(f: NaiveDateTime) -> String {
    f.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// ValorUnitario: the currency's decimals, or up to 6 when the price needs them.
pub fn unit_value(v: Decimal, currency_dp: u32) -> String {
    let n = round(v, 6).normalize();
    if n.scale() <= currency_dp {
        fixed(n, currency_dp)
    } else {
        n.to_string()
    }
}

struct Doc(Writer<Vec<u8>>);

impl Doc {
    fn write(&mut self, e: Event<'_>) {
        // Writing into a Vec cannot fail.
        if let Err(e) = self.0.write_event(e) {
            unreachable!("in-memory XML write failed: {e}");
        }
    }

    fn start(name: &str, attrs: &[(&str, Option<String>)]) -> BytesStart<'static> {
        let mut start = BytesStart::new(name.to_string());
        for (k, v) in attrs {
            if let Some(v) = v {
                start.push_attribute((*k, v.as_str()));
            }
        }
        start
    }

    /// An element with children written by `children`.
    fn element(
        &mut self,
        name: &str,
        attrs: &[(&str, Option<String>)],
        children: impl FnOnce(&mut Doc),
    ) {
        self.write(Event::Start(Self::start(name, attrs)));
        children(self);
        self.write(Event::End(BytesEnd::new(name)));
    }

    /// An element without children.
    fn empty(&mut self, name: &str, attrs: &[(&str, Option<String>)]) {
        self.write(Event::Empty(Self::start(name, attrs)));
    }

    fn traslado(&mut self, name: &str, t: &Traslado) {
        self.empty(
            name,
            &[
                ("Base", Some(fixed(t.base, 2))),
                ("Impuesto", Some(t.impuesto.code().into())),
                ("TipoFactor", Some(t.tipo_factor.code().into())),
                ("TasaOCuota", t.tasa_o_cuota.map(|r| fixed(r, 6))),
                ("Importe", t.importe.map(|i| fixed(i, 2))),
            ],
        );
    }
}

impl Doc {
    fn traslado_pagos(&mut self, name: &str, suffix: &str, t: &Traslado) {
        let k = |n: &str| format!("{n}{suffix}");
        let (base, imp, tf, tasa, importe) = (
            k("Base"),
            k("Impuesto"),
            k("TipoFactor"),
            k("TasaOCuota"),
            k("Importe"),
        );
        self.empty(
            name,
            &[
                (base.as_str(), Some(fixed(t.base, 2))),
                (imp.as_str(), Some(t.impuesto.code().into())),
                (tf.as_str(), Some(t.tipo_factor.code().into())),
                (tasa.as_str(), t.tasa_o_cuota.map(|r| fixed(r, 6))),
                (importe.as_str(), t.importe.map(|i| fixed(i, 2))),
            ],
        );
    }

    fn pagos(&mut self, p: &Pagos) {
        let m = |v: Option<Decimal>| v.map(|v| fixed(v, 2));
        let t = &p.totales;
        self.element("pago20:Pagos", &[("Version", s("2.0"))], |d| {
            d.empty(
                "pago20:Totales",
                &[
                    ("TotalTrasladosBaseIVA16", m(t.base_iva16)),
                    ("TotalTrasladosImpuestoIVA16", m(t.impuesto_iva16)),
                    ("TotalTrasladosBaseIVA8", m(t.base_iva8)),
                    ("TotalTrasladosImpuestoIVA8", m(t.impuesto_iva8)),
                    ("TotalTrasladosBaseIVA0", m(t.base_iva0)),
                    ("TotalTrasladosImpuestoIVA0", m(t.impuesto_iva0)),
                    ("TotalTrasladosBaseIVAExento", m(t.base_iva_exento)),
                    ("MontoTotalPagos", Some(fixed(t.monto_total_pagos, 2))),
                ],
            );
            for pago in &p.pagos {
                let attrs = [
                    ("FechaPago", Some(fecha_local(pago.fecha_pago))),
                    ("FormaDePagoP", s(&pago.forma_de_pago)),
                    ("MonedaP", s("MXN")),
                    ("TipoCambioP", s("1")),
                    ("Monto", Some(fixed(pago.monto, 2))),
                    ("NumOperacion", pago.num_operacion.clone()),
                ];
                d.element("pago20:Pago", &attrs, |d| {
                    for dr in &pago.doctos {
                        let attrs = [
                            ("IdDocumento", s(&dr.id_documento)),
                            ("Serie", dr.serie.clone()),
                            ("Folio", dr.folio.clone()),
                            ("MonedaDR", s("MXN")),
                            ("EquivalenciaDR", s("1")),
                            ("NumParcialidad", Some(dr.num_parcialidad.to_string())),
                            ("ImpSaldoAnt", Some(fixed(dr.imp_saldo_ant, 2))),
                            ("ImpPagado", Some(fixed(dr.imp_pagado, 2))),
                            ("ImpSaldoInsoluto", Some(fixed(dr.imp_saldo_insoluto, 2))),
                            ("ObjetoImpDR", s(dr.objeto_imp.code())),
                        ];
                        if dr.traslados.is_empty() {
                            d.empty("pago20:DoctoRelacionado", &attrs);
                        } else {
                            d.element("pago20:DoctoRelacionado", &attrs, |d| {
                                d.element("pago20:ImpuestosDR", &[], |d| {
                                    d.element("pago20:TrasladosDR", &[], |d| {
                                        for t in &dr.traslados {
                                            d.traslado_pagos("pago20:TrasladoDR", "DR", t);
                                        }
                                    });
                                });
                            });
                        }
                    }
                    if !pago.traslados.is_empty() {
                        d.element("pago20:ImpuestosP", &[], |d| {
                            d.element("pago20:TrasladosP", &[], |d| {
                                for t in &pago.traslados {
                                    d.traslado_pagos("pago20:TrasladoP", "P", t);
                                }
                            });
                        });
                    }
                });
            }
        });
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// The XML of `c` (UTF-8, with declaration, indented).
pub fn to_string(c: &Comprobante) -> String {
    let mut d = Doc(Writer::new_with_indent(Vec::with_capacity(8192), b' ', 2));
    d.write(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let dp = c.currency_decimals();
    let schema_location = match c.pagos {
        Some(_) => format!("{SCHEMA_LOCATION} {SCHEMA_LOCATION_PAGOS}"),
        None => SCHEMA_LOCATION.to_string(),
    };
    let attrs = [
        ("xmlns:cfdi", s(NS_CFDI)),
        ("xmlns:xsi", s("http://www.w3.org/2001/XMLSchema-instance")),
        (
            "xmlns:pago20",
            c.pagos.as_ref().map(|_| NS_PAGOS.to_string()),
        ),
        ("xsi:schemaLocation", Some(schema_location)),
        ("Version", s("4.0")),
        ("Serie", c.serie.clone()),
        ("Folio", c.folio.clone()),
        ("Fecha", Some(fecha(c.fecha))),
        ("Sello", s(&c.sello)),
        ("FormaPago", c.forma_pago.clone()),
        ("NoCertificado", s(&c.no_certificado)),
        ("Certificado", s(&c.certificado)),
        ("CondicionesDePago", c.condiciones_de_pago.clone()),
        ("SubTotal", Some(fixed(c.subtotal, dp))),
        ("Descuento", c.descuento.map(|v| fixed(v, dp))),
        ("Moneda", s(c.moneda)),
        ("Total", Some(fixed(c.total, dp))),
        ("TipoDeComprobante", s(c.tipo.code())),
        ("Exportacion", s(c.exportacion)),
        ("MetodoPago", c.metodo_pago.map(|m| m.code().to_string())),
        ("LugarExpedicion", s(&c.lugar_expedicion)),
    ];
    d.element("cfdi:Comprobante", &attrs, |d| {
        if let Some(g) = &c.informacion_global {
            d.empty(
                "cfdi:InformacionGlobal",
                &[
                    ("Periodicidad", s(&g.periodicidad)),
                    ("Meses", s(&g.meses)),
                    ("Año", Some(g.anio.to_string())),
                ],
            );
        }
        if let Some(r) = &c.relacionados {
            d.element(
                "cfdi:CfdiRelacionados",
                &[("TipoRelacion", s(&r.tipo_relacion))],
                |d| {
                    for u in &r.uuids {
                        d.empty("cfdi:CfdiRelacionado", &[("UUID", s(u))]);
                    }
                },
            );
        }
        d.empty(
            "cfdi:Emisor",
            &[
                ("Rfc", s(c.emisor.rfc.as_str())),
                ("Nombre", s(&c.emisor.nombre)),
                ("RegimenFiscal", s(&c.emisor.regimen_fiscal)),
            ],
        );
        let r = &c.receptor;
        d.empty(
            "cfdi:Receptor",
            &[
                ("Rfc", s(r.rfc.as_str())),
                ("Nombre", s(&r.nombre)),
                ("DomicilioFiscalReceptor", s(&r.domicilio_fiscal)),
                ("RegimenFiscalReceptor", s(&r.regimen_fiscal)),
                ("UsoCFDI", s(&r.uso_cfdi)),
            ],
        );
        d.element("cfdi:Conceptos", &[], |d| {
            for k in &c.conceptos {
                let attrs = [
                    ("ClaveProdServ", s(&k.clave_prod_serv)),
                    ("NoIdentificacion", k.no_identificacion.clone()),
                    ("Cantidad", Some(quantity(k.cantidad))),
                    ("ClaveUnidad", s(&k.clave_unidad)),
                    ("Unidad", k.unidad.clone()),
                    ("Descripcion", s(&k.descripcion)),
                    ("ValorUnitario", Some(unit_value(k.valor_unitario, dp))),
                    ("Importe", Some(fixed(k.importe, dp))),
                    ("Descuento", k.descuento.map(|v| fixed(v, dp))),
                    ("ObjetoImp", s(k.objeto_imp.code())),
                ];
                match &k.traslado {
                    Some(t) => d.element("cfdi:Concepto", &attrs, |d| {
                        d.element("cfdi:Impuestos", &[], |d| {
                            d.element("cfdi:Traslados", &[], |d| d.traslado("cfdi:Traslado", t));
                        });
                    }),
                    None => d.empty("cfdi:Concepto", &attrs),
                }
            }
        });
        if let Some(i) = &c.impuestos {
            d.element(
                "cfdi:Impuestos",
                &[(
                    "TotalImpuestosTrasladados",
                    i.total_trasladados.map(|t| fixed(t, 2)),
                )],
                |d| {
                    d.element("cfdi:Traslados", &[], |d| {
                        for t in &i.traslados {
                            d.traslado("cfdi:Traslado", t);
                        }
                    });
                },
            );
        }
        if let Some(p) = &c.pagos {
            d.element("cfdi:Complemento", &[], |d| d.pagos(p));
        }
    });
    let bytes = d.0.into_inner();
    // quick-xml writes only what it was given, all of it UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| unreachable!("XML is UTF-8: {e}"))
}
