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
