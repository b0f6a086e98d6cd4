//! CFDI for issued bills: map a stored invoice to a `cfdi::Comprobante`, seal it with the
//! utility's CSD, store the sealed XML, and export a period's documents.
//!
//! - Each bill is an Ingreso, PPD with FormaPago 99 (bills are issued unpaid; each
//!   payment later gets its Complemento de Pago). Serie = the issuer's `serie_ingreso`,
//!   Folio = the bill's folio.
//! - Receptor: the customer's datos fiscales when they gave them; otherwise, when the
//!   issuer does not aggregate them into a factura global, XAXX010101000 with the
//!   customer's name (régimen 616, uso S01, domicilio = LugarExpedicion).
//! - A discount line becomes the Descuento of the water concept; zero-amount lines are
//!   left out. The CFDI's Total must equal the bill's total to the centavo, or the bill
//!   is reported instead of sealed.

use std::path::Path;

use chrono::{DateTime, Utc};
use db::billing::{InvoiceRow, LineRow};
use db::cfdi::{FiscalProfile, Issuer, NewDocument};
use db::{Db, TenantId};
use rust_decimal::Decimal;

use crate::{Error, Result};

/// How many bills are read, sealed and stored per transaction.
const CHUNK: i64 = 500;

/// What [`issue_period`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IssueSummary {
    pub sealed: usize,
    /// Bills of customers without datos fiscales, left for the factura global.
    pub for_factura_global: usize,
    /// Bills that could not be sealed: (invoice id, reason).
    pub failed: Vec<(i64, String)>,
}

fn parse_rfc(rfc: &str) -> Result<domain::Rfc> {
    rfc.parse()
        .map_err(|e: domain::InvalidValue| Error::Invalid {
            field: "rfc",
            message: e.to_string(),
        })
}

/// `now` in the issuer's local time (Querétaro), as the CFDI's Fecha is written.
pub(crate) fn local_fecha(now: DateTime<Utc>) -> chrono::DateTime<chrono::FixedOffset> {
    now.with_timezone(&chrono_tz::America::Mexico_City)
        .fixed_offset()
}

pub(crate) async fn issuer_of(db: &Db, tenant: TenantId) -> Result<Issuer> {
    let mut tx = db.read(tenant).await?;
    db::cfdi::issuer(&mut tx)
        .await?
        .ok_or_else(|| Error::Invalid {
            field: "emisor",
            message: "faltan los datos fiscales del organismo (emisor)".into(),
        })
}

/// Days before the CSD expires from which staff are warned.
pub const CSD_WARNING_DAYS: i64 = 90;

/// The outbox kind that wakes the fiscal worker (seal complements, stamp, cancel).
pub const PROCESS: &str = "cfdi.process";
/// The outbox kind that asks for a period's CFDIs after a billing run.
pub const ISSUE_PERIOD: &str = "cfdi.issue_period";

/// Enqueue a wake-up for the fiscal worker in the caller's transaction; `cause` makes
/// the dedupe key (one wake-up per cause).
pub(crate) async fn wake_fiscal_worker(
    tx: &mut db::Scoped,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    db::repo::enqueue(
        tx,
        PROCESS,
        &format!("{PROCESS}:{cause}"),
        &serde_json::json!({ "cause": cause }),
        now,
    )
    .await?;
    Ok(())
}

/// A stored bill with its lines and the customer's datos fiscales, if any.
async fn load_bill(
    tx: &mut db::Scoped,
    id: i64,
) -> Result<(InvoiceRow, Vec<LineRow>, Option<FiscalProfile>)> {
    let inv = db::billing::invoice_by_id(tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let lines = db::billing::invoice_lines(tx, id).await?;
    let profile = db::cfdi::fiscal_profiles_for_range(tx, inv.contract_id, inv.contract_id)
        .await?
        .into_iter()
        .next();
    Ok((inv, lines, profile))
}

/// The issuer as CFDI data.
pub fn emisor(issuer: &Issuer) -> Result<cfdi::Emisor> {
    Ok(cfdi::Emisor {
        rfc: parse_rfc(&issuer.rfc)?,
        nombre: issuer.nombre.clone(),
        regimen_fiscal: issuer.regimen_fiscal.clone(),
    })
}

fn receptor(
    issuer: &Issuer,
    profile: Option<&FiscalProfile>,
    customer_name: &str,
) -> Result<Option<cfdi::Receptor>> {
    if let Some(p) = profile {
        return Ok(Some(cfdi::Receptor {
            rfc: parse_rfc(&p.rfc)?,
            nombre: p.nombre.clone(),
            domicilio_fiscal: p.domicilio_fiscal.clone(),
            regimen_fiscal: p.regimen_fiscal.clone(),
            uso_cfdi: p.uso_cfdi.clone(),
        }));
    }
    if issuer.factura_global {
        return Ok(None);
    }
    let mut r = cfdi::Receptor::publico_en_general(&issuer.lugar_expedicion);
    r.nombre = customer_name.to_uppercase();
    Ok(Some(r))
}

fn tax_of(code: &str) -> Result<cfdi::Tax> {
    Ok(match code {
        "iva16" => cfdi::Tax::Iva16,
        "iva0" => cfdi::Tax::Iva0,
        "exento" => cfdi::Tax::Exento,
        "no_objeto" => cfdi::Tax::NoObjeto,
        other => {
            return Err(Error::Invalid {
                field: "tax",
                message: format!("tratamiento fiscal desconocido «{other}»"),
            });
        }
    })
}

fn decimal(field: &'static str, s: &str) -> Result<Decimal> {
    s.trim().parse().map_err(|_| Error::Invalid {
        field,
        message: format!("«{s}» no es un número"),
    })
}

/// The concepts of a bill: one per non-zero line, discounts folded into the water line.
pub fn conceptos(inv: &InvoiceRow, lines: &[LineRow]) -> Result<Vec<cfdi::ConceptoInput>> {
    let mut out: Vec<(String, cfdi::ConceptoInput)> = Vec::new();
    let mut discount = Decimal::ZERO;
    for l in lines {
        let amount = Decimal::new(l.amount_centavos, 2);
        if l.concept == "descuento" || amount < Decimal::ZERO {
            discount += -amount;
            continue;
        }
        if amount.is_zero() {
            continue;
        }
        // Quantity × unit price when that is the amount to the centavo; otherwise one
        // unit at the amount (prorated and stepped lines).
        let (cantidad, valor_unitario) = match &l.unit_price {
            Some(p) => {
                let q = decimal("quantity", &l.quantity)?;
                let p = decimal("unit_price", p)?;
                if q > Decimal::ZERO && (q * p).round_dp(2) == amount && q.scale() <= 6 {
                    (q, p)
                } else {
                    (Decimal::ONE, amount)
                }
            }
            None => (Decimal::ONE, amount),
        };
        out.push((
            l.concept.clone(),
            cfdi::ConceptoInput {
                clave_prod_serv: l.clave_prod_serv.clone(),
                no_identificacion: Some(inv.folio.clone()),
                cantidad,
                clave_unidad: l.clave_unidad.clone(),
                unidad: Some(l.unit.clone()).filter(|u| !u.trim().is_empty()),
                descripcion: l.description.clone(),
                valor_unitario,
                descuento: None,
                tax: tax_of(&l.tax)?,
            },
        ));
    }
    if discount > Decimal::ZERO {
        let water = out
            .iter_mut()
            .find(|(c, _)| c == "agua")
            .ok_or_else(|| Error::Invalid {
                field: "descuento",
                message: "el recibo tiene descuento pero no cargo de agua".into(),
            })?;
        water.1.descuento = Some(discount);
    }
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// The comprobante of one bill, or `None` when it belongs in the factura global.
pub fn comprobante(
    issuer: &Issuer,
    inv: &InvoiceRow,
    lines: &[LineRow],
    profile: Option<&FiscalProfile>,
    customer_name: &str,
    now: DateTime<Utc>,
) -> Result<Option<cfdi::Comprobante>> {
    let Some(receptor) = receptor(issuer, profile, customer_name)? else {
        return Ok(None);
    };
    let fecha = local_fecha(now);
    let mut b = cfdi::ComprobanteBuilder::ingreso(
        emisor(issuer)?,
        receptor,
        issuer.lugar_expedicion.clone(),
        fecha,
    )
    .serie_folio(issuer.serie_ingreso.clone(), inv.folio.clone())
    .condiciones_de_pago(format!("Vence el {}", crate::date_es(inv.due_date)));
    for c in conceptos(inv, lines)? {
        b = b.concepto(c);
    }
    let c = b.build()?;
    let expected = Decimal::new(inv.total_centavos, 2);
    if c.total != expected {
        return Err(Error::Invalid {
            field: "total",
            message: format!(
                "el CFDI suma {} y el recibo {}: no se timbra un CFDI que no cuadra",
                c.total, expected
            ),
        });
    }
    Ok(Some(c))
}

/// Seal and store the CFDI of every bill of `period` that has none yet. Idempotent: a
/// second call finds nothing to do; bills that fail are reported and retried next time.
pub async fn issue_period(
    db: &Db,
    tenant: TenantId,
    period: i32,
    csd: &cfdi::csd::Csd,
    now: DateTime<Utc>,
) -> Result<IssueSummary> {
    let issuer = issuer_of(db, tenant).await?;
    let mut summary = IssueSummary::default();
    let mut after = 0;
    loop {
        // Bulk reads per chunk: the bills without CFDI, then their invoices, lines,
        // holders and datos fiscales in four queries over the chunk's id range.
        let mut tx = db.read(tenant).await?;
        let ids = db::cfdi::invoices_without_cfdi(&mut tx, period, after, CHUNK).await?;
        let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
            break;
        };
        after = last;
        let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
        let invoices = db::billing::invoices_in_id_range(&mut tx, period, first, last).await?;
        let mut lines: std::collections::HashMap<i64, Vec<LineRow>> = Default::default();
        for (invoice_id, line) in db::billing::lines_in_invoice_range(&mut tx, first, last).await? {
            lines.entry(invoice_id).or_default().push(line);
        }
        let (profiles, names) =
            db::cfdi::receptors_for_invoice_range(&mut tx, period, first, last).await?;
        drop(tx);
        let profiles: std::collections::HashMap<i64, FiscalProfile> =
            profiles.into_iter().map(|p| (p.contract_id, p)).collect();
        let names: std::collections::HashMap<i64, String> = names.into_iter().collect();
        let mut built = Vec::with_capacity(ids.len());
        for inv in invoices.into_iter().filter(|i| wanted.contains(&i.id)) {
            let no_lines = Vec::new();
            match comprobante(
                &issuer,
                &inv,
                lines.get(&inv.id).unwrap_or(&no_lines),
                profiles.get(&inv.contract_id),
                names.get(&inv.contract_id).map_or("", String::as_str),
                now,
            ) {
                Ok(None) => summary.for_factura_global += 1,
                Ok(Some(c)) => built.push((inv, c)),
                Err(e) => summary.failed.push((inv.id, e.to_string())),
            }
        }
        // The signature is nearly all the cost: seal the chunk on all cores.
        let sealed = {
            let csd = csd.clone();
            tokio::task::spawn_blocking(move || {
                use rayon::prelude::*;
                built
                    .into_par_iter()
                    .map(|(inv, c)| (cfdi::seal(c, &csd), inv))
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| Error::Invalid {
                field: "sello",
                message: format!("el sellado se interrumpió: {e}"),
            })?
        };
        let mut docs = Vec::with_capacity(sealed.len());
        for (s, inv) in sealed {
            match s {
                Ok(s) => docs.push(NewDocument {
                    tipo: "I",
                    invoice_id: Some(inv.id),
                    period: inv.period,
                    serie: issuer.serie_ingreso.clone(),
                    folio: inv.folio.clone(),
                    fecha: cfdi::xml::fecha(s.comprobante.fecha),
                    receptor_rfc: s.comprobante.receptor.rfc.as_str().to_string(),
                    total_centavos: inv.total_centavos,
                    sealed_xml: s.xml,
                    payment_id: None,
                }),
                Err(e) => summary.failed.push((inv.id, e.to_string())),
            }
        }
        let mut tx = db.write(tenant).await?;
        let inserted = db::cfdi::insert_documents(&mut tx, &docs, now).await?;
        tx.commit().await?;
        summary.sealed += inserted.len();
    }
    Ok(summary)
}

/// What [`issue_global`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GlobalSummary {
    /// Serie-Folio of the factura global, when one was issued now.
    pub folio: Option<String>,
    pub bills: usize,
    pub total_centavos: i64,
    /// Bills that could not go in: (invoice id, reason).
    pub failed: Vec<(i64, String)>,
}

/// The folio of a period's factura global (one per period: the unique serie + folio
/// makes issuing it idempotent).
pub fn global_folio(period: i32) -> String {
    format!("G{period}")
}

/// Issue the factura global of `period` (monthly, to PUBLICO EN GENERAL): the bills of
/// customers without datos fiscales that have no CFDI yet, one concept per bill line as
/// SAT's guide asks (01010101 / ACT / "Venta", NoIdentificacion = the bill's folio).
/// Only for issuers with `factura_global`; a second call for the period does nothing.
pub async fn issue_global(
    db: &Db,
    tenant: TenantId,
    period: i32,
    csd: &cfdi::csd::Csd,
    now: DateTime<Utc>,
) -> Result<GlobalSummary> {
    let issuer = issuer_of(db, tenant).await?;
    if !issuer.factura_global {
        return Err(Error::Invalid {
            field: "factura_global",
            message: "el organismo emite un CFDI por recibo, no factura global".into(),
        });
    }
    let fecha = local_fecha(now);
    let info = cfdi::InformacionGlobal {
        periodicidad: "04".into(),
        meses: format!("{:02}", period % 100),
        anio: period / 100,
    };
    let builder = || -> Result<cfdi::ComprobanteBuilder> {
        Ok(cfdi::ComprobanteBuilder::ingreso(
            emisor(&issuer)?,
            cfdi::Receptor::publico_en_general(&issuer.lugar_expedicion),
            issuer.lugar_expedicion.clone(),
            fecha,
        )
        .informacion_global(info.clone()))
    };
    let mut summary = GlobalSummary::default();
    let mut concepts = Vec::new();
    let mut ids = Vec::new();
    let mut after = 0;
    let mut tx = db.read(tenant).await?;
    loop {
        let batch = db::cfdi::invoices_without_cfdi(&mut tx, period, after, CHUNK).await?;
        let Some(&last) = batch.last() else { break };
        after = last;
        for id in batch {
            let (inv, lines, profile) = load_bill(&mut tx, id).await?;
            if profile.is_some() {
                continue; // gets its own CFDI
            }
            let mine: Vec<cfdi::ConceptoInput> = match conceptos(&inv, &lines) {
                Ok(c) => c
                    .into_iter()
                    .map(|c| cfdi::ConceptoInput {
                        clave_prod_serv: "01010101".into(),
                        clave_unidad: "ACT".into(),
                        unidad: None,
                        descripcion: "Venta".into(),
                        cantidad: Decimal::ONE,
                        valor_unitario: (c.cantidad * c.valor_unitario).round_dp(2),
                        ..c
                    })
                    .collect(),
                Err(e) => {
                    summary.failed.push((id, e.to_string()));
                    continue;
                }
            };
            // The bill's own total must come out of its concepts to the centavo.
            let alone = mine
                .iter()
                .cloned()
                .fold(builder()?, |b, c| b.concepto(c))
                .build();
            match alone {
                Ok(c) if c.total == Decimal::new(inv.total_centavos, 2) => {
                    concepts.extend(mine);
                    ids.push(id);
                    summary.total_centavos += inv.total_centavos;
                }
                Ok(c) => summary.failed.push((
                    id,
                    format!(
                        "el CFDI suma {} y el recibo {}",
                        c.total,
                        Decimal::new(inv.total_centavos, 2)
                    ),
                )),
                Err(e) => summary.failed.push((id, e.to_string())),
            }
        }
    }
    drop(tx);
    if ids.is_empty() {
        return Ok(summary);
    }
    let folio = global_folio(period);
    let c = concepts
        .into_iter()
        .fold(
            builder()?.serie_folio(issuer.serie_ingreso.clone(), folio.clone()),
            |b, c| b.concepto(c),
        )
        .build()?;
    let sealed = cfdi::seal(c, csd)?;
    let doc = NewDocument {
        tipo: "I",
        invoice_id: None,
        period,
        serie: issuer.serie_ingreso.clone(),
        folio: folio.clone(),
        fecha: cfdi::xml::fecha(sealed.comprobante.fecha),
        receptor_rfc: sealed.comprobante.receptor.rfc.as_str().to_string(),
        total_centavos: summary.total_centavos,
        sealed_xml: sealed.xml,
        payment_id: None,
    };
    let mut tx = db.write(tenant).await?;
    let inserted = db::cfdi::insert_global(&mut tx, &doc, &ids, now).await?;
    tx.commit().await?;
    if inserted.is_some() {
        summary.folio = Some(format!("{}-{folio}", issuer.serie_ingreso));
        summary.bills = ids.len();
    } else {
        summary.total_centavos = 0;
    }
    Ok(summary)
}

/// Write every CFDI of `period` to `dir` as `<UUID>.xml` when stamped (the stamped bytes
/// as received) or `<Serie>-<Folio>.xml` when only sealed. Returns how many were written.
pub async fn export_period(db: &Db, tenant: TenantId, period: i32, dir: &Path) -> Result<usize> {
    let docs = {
        let mut tx = db.read(tenant).await?;
        db::cfdi::documents_of_period(&mut tx, period).await?
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::Invalid {
        field: "out",
        message: format!("no se pudo crear {}: {e}", dir.display()),
    })?;
    for d in &docs {
        let (name, xml) = match (&d.uuid, &d.stamped_xml) {
            (Some(uuid), Some(xml)) => (format!("{uuid}.xml"), xml),
            _ => (format!("{}-{}.xml", d.serie, d.folio), &d.sealed_xml),
        };
        let path = dir.join(name);
        std::fs::write(&path, xml).map_err(|e| Error::Invalid {
            field: "out",
            message: format!("no se pudo escribir {}: {e}", path.display()),
        })?;
    }
    Ok(docs.len())
}

/// What [`stamp_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StampSummary {
    pub stamped: usize,
    /// Permanent PAC rejections now in the staff queue: (document id, code, message).
    pub rejected: Vec<(i64, String, String)>,
    /// Transient failures left queued for the next pass.
    pub deferred: usize,
}

/// Send sealed documents to the PAC. The sealed XML was stored before this call, so a
/// crash at any point loses nothing; a document the PAC stamped before (the answer to a
/// request whose reply was lost) comes back with its original stamp, never a new one.
pub async fn stamp_pending(
    db: &Db,
    tenant: TenantId,
    pac: &pac::Finkok,
    limit: i64,
) -> Result<StampSummary> {
    let docs = {
        let mut tx = db.read(tenant).await?;
        db::cfdi::documents_with_status(&mut tx, "sellado", limit).await?
    };
    let mut summary = StampSummary::default();
    for d in docs {
        let now = Utc::now();
        // SAT refuses a Fecha older than 72 h or in the future; do not send what would
        // be refused — staff re-issue it with a new Fecha.
        if let Some(why) = fecha_out_of_range(&d.fecha, now) {
            let mut tx = db.write(tenant).await?;
            db::cfdi::mark_rejected(&mut tx, d.id, "401", &why, now).await?;
            tx.commit().await?;
            summary.rejected.push((d.id, "401".into(), why));
            continue;
        }
        let outcome = pac.stamp(&d.sealed_xml).await;
        let now = Utc::now();
        let mut tx = db.write(tenant).await?;
        match outcome {
            Ok(pac::Outcome::Stamped(s)) => {
                if db::cfdi::mark_stamped(&mut tx, d.id, &s.uuid, &s.xml, now).await? {
                    summary.stamped += 1;
                }
            }
            Ok(pac::Outcome::Rejected { code, message }) => {
                db::cfdi::mark_rejected(&mut tx, d.id, &code, &message, now).await?;
                summary.rejected.push((d.id, code, message));
            }
            Err(e) => {
                db::cfdi::note_attempt(&mut tx, d.id, &e.to_string(), now).await?;
                summary.deferred += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(summary)
}

/// The XML of a bill's CFDI as a download: `(file name, xml)`. With `stamped_only`
/// (citizens) only a stamped CFDI — the fiscally valid document — is returned; staff also
/// get a sealed one still waiting for the PAC.
pub async fn invoice_xml(
    db: &Db,
    tenant: TenantId,
    invoice_id: i64,
    stamped_only: bool,
) -> Result<Option<(String, String)>> {
    let mut tx = db.read(tenant).await?;
    let d = db::cfdi::document_of_invoice(&mut tx, invoice_id).await?;
    Ok(d.and_then(|d| download(d, stamped_only)))
}

/// Any CFDI's XML by document id, for staff: stamped, or sealed while it waits.
pub async fn document_xml(
    db: &Db,
    tenant: TenantId,
    document_id: i64,
) -> Result<Option<(String, String)>> {
    let mut tx = db.read(tenant).await?;
    let d = db::cfdi::document(&mut tx, document_id).await?;
    Ok(d.and_then(|d| download(d, false)))
}

/// `(file name, xml)` of a document: `<UUID>.xml` when stamped, otherwise
/// `<Serie>-<Folio>-sellado.xml` — except with `stamped_only`, which also refuses a
/// cancelled CFDI (no longer the bill's invoice for the citizen).
fn download(d: db::cfdi::DocumentRow, stamped_only: bool) -> Option<(String, String)> {
    let valid = matches!(d.status.as_str(), "timbrado" | "cancelacion_en_proceso");
    match (d.uuid, d.stamped_xml) {
        (Some(_), Some(_)) if stamped_only && !valid => None,
        (Some(uuid), Some(xml)) => Some((format!("{uuid}.xml"), xml)),
        _ if stamped_only => None,
        _ => Some((format!("{}-{}-sellado.xml", d.serie, d.folio), d.sealed_xml)),
    }
}

/// Why a document's Fecha (issuer's local time) can no longer be stamped, if it can't.
fn fecha_out_of_range(fecha: &str, now: DateTime<Utc>) -> Option<String> {
    let local = local_fecha(now).naive_local();
    let Ok(f) = chrono::NaiveDateTime::parse_from_str(fecha, "%Y-%m-%dT%H:%M:%S") else {
        return Some(format!("fecha ilegible «{fecha}»"));
    };
    if local - f > chrono::Duration::hours(72) {
        Some(format!(
            "la fecha {fecha} tiene más de 72 horas: el SAT no la acepta; hay que volver a emitir el CFDI"
        ))
    } else if f - local > chrono::Duration::minutes(5) {
        Some(format!("la fecha {fecha} está en el futuro"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_older_than_72_hours_or_in_the_future_are_not_sent() {
        let now: DateTime<Utc> = "2026-11-24T18:00:00Z".parse().expect("date");
        // 12:00 in Mexico City.
        assert_eq!(fecha_out_of_range("2026-11-24T11:00:00", now), None);
        assert_eq!(fecha_out_of_range("2026-11-21T13:00:00", now), None);
        assert!(
            fecha_out_of_range("2026-11-21T11:59:00", now).is_some_and(|m| m.contains("72 horas"))
        );
        assert!(
            fecha_out_of_range("2026-11-24T12:30:00", now).is_some_and(|m| m.contains("futuro"))
        );
        assert!(fecha_out_of_range("ayer", now).is_some());
    }
}

/// One document of the staff queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueuedDocument {
    pub id: i64,
    pub serie: String,
    pub folio: String,
    pub pac_code: Option<String>,
    pub pac_message: Option<String>,
    pub attempts: i32,
}

/// The CFDI queue of a tenant: documents per status and the rejected ones.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueStatus {
    pub by_status: std::collections::BTreeMap<String, i64>,
    pub rejected: Vec<QueuedDocument>,
}

pub async fn queue_status(db: &Db, tenant: TenantId) -> Result<QueueStatus> {
    let mut tx = db.read(tenant).await?;
    let by_status = db::cfdi::status_counts(&mut tx)
        .await?
        .into_iter()
        .collect();
    let rejected = db::cfdi::documents_with_status(&mut tx, "rechazado", 100)
        .await?
        .into_iter()
        .map(|d| QueuedDocument {
            id: d.id,
            serie: d.serie,
            folio: d.folio,
            pac_code: d.pac_code,
            pac_message: d.pac_message,
            attempts: d.attempts,
        })
        .collect();
    Ok(QueueStatus {
        by_status,
        rejected,
    })
}

/// Put a rejected document back in the queue (after the cause was fixed); audited, and
/// the fiscal worker is woken to send it.
pub async fn retry(db: &Db, tenant: TenantId, document_id: i64, actor: crate::Actor) -> Result<()> {
    let now = Utc::now();
    let mut tx = db.write(tenant).await?;
    if !db::cfdi::requeue(&mut tx, document_id, now).await? {
        return Err(Error::Invalid {
            field: "id",
            message: format!("el CFDI {document_id} no está en la cola de rechazados"),
        });
    }
    db::repo::record_event(
        &mut tx,
        db::repo::NewEvent {
            actor_kind: actor.kind(),
            actor_id: actor.id(),
            action: "cfdi.retry",
            subject_kind: Some("cfdi"),
            subject_id: Some(document_id),
            data: serde_json::json!({}),
            ip: None,
            now,
        },
    )
    .await?;
    wake_fiscal_worker(
        &mut tx,
        &format!("reintento:{document_id}:{}", now.timestamp_micros()),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What one pass of the fiscal worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProcessSummary {
    #[serde(flatten)]
    pub stamp: StampSummary,
    pub complementos: crate::complemento::ComplementSummary,
    pub cancelaciones: crate::cancelacion::CancelSummary,
}

/// [`stamp_pending`] in batches of `batch` until no sealed document is left, or the PAC
/// is failing (a batch with transient failures ends the pass; they stay queued).
async fn stamp_all(
    db: &Db,
    tenant: TenantId,
    pac: &pac::Finkok,
    batch: i64,
) -> Result<StampSummary> {
    let mut total = StampSummary::default();
    loop {
        let s = stamp_pending(db, tenant, pac, batch).await?;
        let handled = s.stamped + s.rejected.len() + s.deferred;
        total.stamped += s.stamped;
        total.deferred += s.deferred;
        total.rejected.extend(s.rejected);
        if s.deferred > 0 || (handled as i64) < batch {
            return Ok(total);
        }
    }
}

/// One pass of the fiscal worker: seal the Complementos de Pago that are due, send
/// sealed documents to the PAC, then send and follow cancellation requests. Every step
/// is idempotent and driven by stored state, so a pass can be repeated or interrupted
/// at any point.
pub async fn process(
    db: &Db,
    tenant: TenantId,
    pac: &pac::Finkok,
    csd: &cfdi::csd::Csd,
    limit: i64,
) -> Result<ProcessSummary> {
    let complementos = crate::complemento::issue_complements(db, tenant, csd, Utc::now()).await?;
    let mut stamp = stamp_all(db, tenant, pac, limit).await?;
    // Complements of payments whose bill was stamped in this pass.
    let more = crate::complemento::issue_complements(db, tenant, csd, Utc::now()).await?;
    if more.sealed > 0 {
        let s = stamp_all(db, tenant, pac, limit).await?;
        stamp.stamped += s.stamped;
        stamp.deferred += s.deferred;
        stamp.rejected.extend(s.rejected);
    }
    let complementos = crate::complemento::ComplementSummary {
        sealed: complementos.sealed + more.sealed,
        not_required: complementos.not_required.max(more.not_required),
        failed: complementos.failed.into_iter().chain(more.failed).collect(),
    };
    let cancelaciones = crate::cancelacion::process(db, tenant, pac, csd).await?;
    Ok(ProcessSummary {
        stamp,
        complementos,
        cancelaciones,
    })
}

/// What the fiscal worker and the staff CFDI page need from the server's configuration:
/// the PAC client and each tenant's CSD (or why it could not be loaded).
#[derive(Debug, Default)]
pub struct Runtime {
    pub pac: Option<pac::Finkok>,
    /// Where the PAC client points, for staff (e.g. "simulador local (desarrollo)").
    pub pac_label: String,
    pub csds: std::collections::HashMap<i64, std::result::Result<cfdi::csd::Csd, String>>,
}

/// The tenant's CSD and the PAC, or why the fiscal worker cannot run for it.
impl Runtime {
    pub fn ready(
        &self,
        tenant: TenantId,
    ) -> std::result::Result<(&pac::Finkok, &cfdi::csd::Csd), String> {
        let pac = self.pac.as_ref().ok_or_else(|| {
            "no hay PAC configurado (FINKOK_URL o FINKOK_ENVIRONMENT)".to_string()
        })?;
        match self.csds.get(&tenant.0) {
            Some(Ok(csd)) => Ok((pac, csd)),
            Some(Err(e)) => Err(e.clone()),
            None => Err("el organismo no tiene CSD cargado".into()),
        }
    }
}

/// The fiscal worker's handling of one outbox row of kind [`PROCESS`] or
/// [`ISSUE_PERIOD`]: everything it does is idempotent, so a row delivered twice
/// (a crash before it was marked) repeats no-ops.
pub async fn deliver(
    db: &Db,
    tenant: TenantId,
    runtime: &Runtime,
    kind: &str,
    payload: &serde_json::Value,
) -> std::result::Result<serde_json::Value, String> {
    let (pac, csd) = runtime.ready(tenant)?;
    let mut out = serde_json::Map::new();
    if kind == ISSUE_PERIOD {
        let period = payload
            .get("period")
            .and_then(|p| p.as_i64())
            .and_then(|p| i32::try_from(p).ok())
            .ok_or("payload sin periodo")?;
        let s = issue_period(db, tenant, period, csd, Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        out.insert("emitidos".into(), serde_json::json!(s));
    }
    let s = process(db, tenant, pac, csd, 1000)
        .await
        .map_err(|e| e.to_string())?;
    // Work left for later (the PAC unreachable, SAT still deciding a cancellation):
    // report a failure so the outbox comes back to it.
    if s.stamp.deferred > 0 || s.cancelaciones.pending > 0 {
        return Err(format!(
            "quedan pendientes: {} por timbrar, {} cancelaciones en espera del SAT",
            s.stamp.deferred, s.cancelaciones.pending
        ));
    }
    out.insert("proceso".into(), serde_json::json!(s));
    Ok(serde_json::Value::Object(out))
}
