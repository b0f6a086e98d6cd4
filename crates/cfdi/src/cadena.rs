//! The cadena original of a CFDI 4.0, following SAT's `cadenaoriginal_4_0.xslt`: the
//! values in the stylesheet's order, each preceded by `|`, whitespace-normalized, the
//! whole wrapped in `||…||`. Required values are always written (even empty); optional
//! ones only when present.
//!
//! Tests prove this byte-identical to `xsltproc` with SAT's stylesheet.

use crate::model::{Comprobante, Traslado};
use crate::text::{fixed, normalize_space, quantity};
use crate::xml::fecha;

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
    s.req(&fixed(c.subtotal, 2));
    s.opt(c.descuento.map(|d| fixed(d, 2)).as_deref());
    s.req(c.moneda);
    s.req(&fixed(c.total, 2));
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
        s.req(&crate::xml::unit_value(k.valor_unitario));
        s.req(&fixed(k.importe, 2));
        s.opt(k.descuento.map(|d| fixed(d, 2)).as_deref());
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
    s.0.push_str("||");
    s.0
}
