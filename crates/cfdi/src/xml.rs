//! The CFDI 4.0 XML document. Attributes follow the XSD's order; values are the same
//! strings the cadena original uses, so what is signed is what is written.

use chrono::{DateTime, FixedOffset};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use rust_decimal::Decimal;

use crate::model::{Comprobante, Traslado};
use crate::text::{fixed, quantity, round};

pub const NS_CFDI: &str = "http://www.sat.gob.mx/cfd/4";
pub const SCHEMA_LOCATION: &str =
    "http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd";

/// `AAAA-MM-DDThh:mm:ss` in the document's local time, no offset.
pub fn fecha(f: DateTime<FixedOffset>) -> String {
    f.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// ValorUnitario: 2 decimals, or up to 6 when the price needs them.
pub fn unit_value(v: Decimal) -> String {
    let n = round(v, 6).normalize();
    if n.scale() <= 2 {
        fixed(n, 2)
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

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// The XML of `c` (UTF-8, with declaration, indented).
pub fn to_string(c: &Comprobante) -> String {
    let mut d = Doc(Writer::new_with_indent(Vec::with_capacity(8192), b' ', 2));
    d.write(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let attrs = [
        ("xmlns:cfdi", s(NS_CFDI)),
        ("xmlns:xsi", s("http://www.w3.org/2001/XMLSchema-instance")),
        ("xsi:schemaLocation", s(SCHEMA_LOCATION)),
        ("Version", s("4.0")),
        ("Serie", c.serie.clone()),
        ("Folio", c.folio.clone()),
        ("Fecha", Some(fecha(c.fecha))),
        ("Sello", s(&c.sello)),
        ("FormaPago", c.forma_pago.clone()),
        ("NoCertificado", s(&c.no_certificado)),
        ("Certificado", s(&c.certificado)),
        ("CondicionesDePago", c.condiciones_de_pago.clone()),
        ("SubTotal", Some(fixed(c.subtotal, 2))),
        ("Descuento", c.descuento.map(|v| fixed(v, 2))),
        ("Moneda", s(c.moneda)),
        ("Total", Some(fixed(c.total, 2))),
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
                    ("ValorUnitario", Some(unit_value(k.valor_unitario))),
                    ("Importe", Some(fixed(k.importe, 2))),
                    ("Descuento", k.descuento.map(|v| fixed(v, 2))),
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
    });
    let bytes = d.0.into_inner();
    // quick-xml writes only what it was given, all of it UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| unreachable!("XML is UTF-8: {e}"))
}
