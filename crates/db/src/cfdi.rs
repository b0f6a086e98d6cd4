//! CFDI storage: the issuer's fiscal data, customers' datos fiscales, folio series and
//! the documents themselves (sealed XML first, stamped XML exactly as the PAC returned).

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::{Result, Scoped, on};

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct Issuer {
    pub rfc: String,
    pub nombre: String,
    pub regimen_fiscal: String,
    pub lugar_expedicion: String,
    pub serie_ingreso: String,
    pub serie_egreso: String,
    pub serie_pago: String,
    pub factura_global: bool,
}

pub async fn issuer(tx: &mut Scoped) -> Result<Option<Issuer>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT rfc, nombre, regimen_fiscal, lugar_expedicion, serie_ingreso,
        serie_egreso, serie_pago, factura_global FROM cfdi_issuers WHERE tenant_id = $1";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .fetch_optional(c)
        .await?))
}

pub async fn save_issuer(tx: &mut Scoped, i: &Issuer, now: DateTime<Utc>) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO cfdi_issuers (tenant_id, rfc, nombre, regimen_fiscal,
        lugar_expedicion, serie_ingreso, serie_egreso, serie_pago, factura_global, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (tenant_id) DO UPDATE SET rfc = excluded.rfc, nombre = excluded.nombre,
            regimen_fiscal = excluded.regimen_fiscal,
            lugar_expedicion = excluded.lugar_expedicion,
            serie_ingreso = excluded.serie_ingreso, serie_egreso = excluded.serie_egreso,
            serie_pago = excluded.serie_pago, factura_global = excluded.factura_global,
            updated_at = excluded.updated_at";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(&i.rfc)
        .bind(&i.nombre)
        .bind(&i.regimen_fiscal)
        .bind(&i.lugar_expedicion)
        .bind(&i.serie_ingreso)
        .bind(&i.serie_egreso)
        .bind(&i.serie_pago)
        .bind(i.factura_global)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// A customer's datos fiscales.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct FiscalProfile {
    pub contract_id: i64,
    pub rfc: String,
    pub nombre: String,
    pub regimen_fiscal: String,
    pub domicilio_fiscal: String,
    pub uso_cfdi: String,
}

pub async fn save_fiscal_profile(
    tx: &mut Scoped,
    p: &FiscalProfile,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO fiscal_profiles (tenant_id, contract_id, rfc, nombre,
        regimen_fiscal, domicilio_fiscal, uso_cfdi, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (tenant_id, contract_id) DO UPDATE SET rfc = excluded.rfc,
            nombre = excluded.nombre, regimen_fiscal = excluded.regimen_fiscal,
            domicilio_fiscal = excluded.domicilio_fiscal, uso_cfdi = excluded.uso_cfdi,
            updated_at = excluded.updated_at";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(p.contract_id)
        .bind(&p.rfc)
        .bind(&p.nombre)
        .bind(&p.regimen_fiscal)
        .bind(&p.domicilio_fiscal)
        .bind(&p.uso_cfdi)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Datos fiscales of the contracts in `[lo, hi]`.
pub async fn fiscal_profiles_for_range(
    tx: &mut Scoped,
    lo: i64,
    hi: i64,
) -> Result<Vec<FiscalProfile>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT contract_id, rfc, nombre, regimen_fiscal, domicilio_fiscal, uso_cfdi
        FROM fiscal_profiles WHERE tenant_id = $1 AND contract_id BETWEEN $2 AND $3";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(lo)
        .bind(hi)
        .fetch_all(c)
        .await?))
}

/// Datos fiscales and holder names of the contracts billed in `period` by the invoices
/// with ids in `[lo, hi]` (bulk reads for CFDI issuing): (profiles, (contract id, name)).
pub async fn receptors_for_invoice_range(
    tx: &mut Scoped,
    period: i32,
    lo: i64,
    hi: i64,
) -> Result<(Vec<FiscalProfile>, Vec<(i64, String)>)> {
    let t = tx.tenant().0;
    const BILLED: &str = "SELECT contract_id FROM invoices
        WHERE tenant_id = $1 AND period = $2 AND id BETWEEN $3 AND $4";
    let profiles_sql = format!(
        "SELECT contract_id, rfc, nombre, regimen_fiscal, domicilio_fiscal, uso_cfdi
        FROM fiscal_profiles WHERE tenant_id = $1 AND contract_id IN ({BILLED})"
    );
    let profiles: Vec<FiscalProfile> = on!(tx, |c| sqlx::query_as(&profiles_sql)
        .bind(t)
        .bind(period)
        .bind(lo)
        .bind(hi)
        .fetch_all(c)
        .await?);
    let names_sql = format!(
        "SELECT c.id, p.full_name FROM contracts c
        JOIN persons p ON p.id = c.person_id AND p.tenant_id = c.tenant_id
        WHERE c.tenant_id = $1 AND c.id IN ({BILLED})"
    );
    let names: Vec<(i64, String)> = on!(tx, |c| sqlx::query_as(&names_sql)
        .bind(t)
        .bind(period)
        .bind(lo)
        .bind(hi)
        .fetch_all(c)
        .await?);
    Ok((profiles, names))
}

/// Take `count` consecutive folios of `serie`; returns the first. Runs inside the
/// transaction that stores the documents, so a rollback gives the folios back and two
/// writers never get the same folio (the row is locked by the update).
pub async fn take_folios(tx: &mut Scoped, serie: &str, count: i64) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str =
        "INSERT INTO cfdi_folios (tenant_id, serie, next_folio) VALUES ($1, $2, 1 + $3)
        ON CONFLICT (tenant_id, serie) DO UPDATE SET next_folio = cfdi_folios.next_folio + $3
        RETURNING next_folio - $3";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(serie)
        .bind(count)
        .fetch_one(c)
        .await?))
}

/// A sealed document to store.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub tipo: &'static str,
    pub invoice_id: Option<i64>,
    pub period: i32,
    pub serie: String,
    pub folio: String,
    pub fecha: String,
    pub receptor_rfc: String,
    pub total_centavos: i64,
    pub sealed_xml: String,
    /// The payment a CFDI of type P covers.
    pub payment_id: Option<i64>,
}

/// Store sealed documents; one that already exists for its invoice (or its serie and
/// folio) is left alone — `ON CONFLICT` without a target, so that concurrent writers
/// never fail on whichever unique index they meet first.
/// Returns the ids of the rows inserted now, with their invoice ids.
pub async fn insert_documents(
    tx: &mut Scoped,
    docs: &[NewDocument],
    now: DateTime<Utc>,
) -> Result<Vec<(i64, Option<i64>)>> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO cfdi_documents (tenant_id, tipo, invoice_id, period, serie,
        folio, fecha, receptor_rfc, total_centavos, status, sealed_xml, attempts, created_at,
        updated_at, payment_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'sellado', $10, 0, $11, $11, $12)
        ON CONFLICT DO NOTHING
        RETURNING id, invoice_id";
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        let row: Option<(i64, Option<i64>)> = on!(tx, |c| sqlx::query_as(SQL)
            .bind(t)
            .bind(d.tipo)
            .bind(d.invoice_id)
            .bind(d.period)
            .bind(&d.serie)
            .bind(&d.folio)
            .bind(&d.fecha)
            .bind(&d.receptor_rfc)
            .bind(d.total_centavos)
            .bind(&d.sealed_xml)
            .bind(now)
            .bind(d.payment_id)
            .fetch_optional(c)
            .await?);
        out.extend(row);
    }
    Ok(out)
}

#[derive(Debug, Clone, FromRow)]
pub struct DocumentRow {
    pub id: i64,
    pub tipo: String,
    pub invoice_id: Option<i64>,
    pub period: i32,
    pub serie: String,
    pub folio: String,
    pub fecha: String,
    pub receptor_rfc: String,
    pub total_centavos: i64,
    pub status: String,
    pub sealed_xml: String,
    pub stamped_xml: Option<String>,
    pub uuid: Option<String>,
    pub pac_code: Option<String>,
    pub pac_message: Option<String>,
    pub attempts: i32,
    pub payment_id: Option<i64>,
}

const DOC_COLUMNS: &str = "id, tipo, invoice_id, period, serie, folio, fecha, receptor_rfc,
    total_centavos, status, sealed_xml, stamped_xml, uuid, pac_code, pac_message, attempts,
    payment_id";

/// One document by id.
pub async fn document(tx: &mut Scoped, id: i64) -> Result<Option<DocumentRow>> {
    let t = tx.tenant().0;
    let sql = format!("SELECT {DOC_COLUMNS} FROM cfdi_documents WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// A document by its folio fiscal.
pub async fn document_by_uuid(tx: &mut Scoped, uuid: &str) -> Result<Option<DocumentRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {DOC_COLUMNS} FROM cfdi_documents WHERE tenant_id = $1 AND uuid = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(uuid)
        .fetch_optional(c)
        .await?))
}

/// A line of the staff CFDI list (without the XML).
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct DocumentSummary {
    pub id: i64,
    pub tipo: String,
    pub invoice_id: Option<i64>,
    pub period: i32,
    pub serie: String,
    pub folio: String,
    pub fecha: String,
    pub receptor_rfc: String,
    pub total_centavos: i64,
    pub status: String,
    pub uuid: Option<String>,
    pub pac_code: Option<String>,
    pub pac_message: Option<String>,
    pub attempts: i32,
}

impl From<DocumentRow> for DocumentSummary {
    fn from(d: DocumentRow) -> Self {
        DocumentSummary {
            id: d.id,
            tipo: d.tipo,
            invoice_id: d.invoice_id,
            period: d.period,
            serie: d.serie,
            folio: d.folio,
            fecha: d.fecha,
            receptor_rfc: d.receptor_rfc,
            total_centavos: d.total_centavos,
            status: d.status,
            uuid: d.uuid,
            pac_code: d.pac_code,
            pac_message: d.pac_message,
            attempts: d.attempts,
        }
    }
}

/// What the staff list filters on; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct DocumentFilter {
    pub status: Option<String>,
    pub tipo: Option<String>,
    pub period: Option<i32>,
    /// Matches the UUID, the receptor's RFC or "Serie-Folio" (prefix, case-insensitive).
    pub text: Option<String>,
}

/// Documents matching `f`, newest first, and how many match in all.
pub async fn list_documents(
    tx: &mut Scoped,
    f: &DocumentFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DocumentSummary>, i64)> {
    let t = tx.tenant().0;
    const WHERE: &str = "WHERE tenant_id = $1
          AND ($2 IS NULL OR status = $2)
          AND ($3 IS NULL OR tipo = $3)
          AND ($4 IS NULL OR period = $4)
          AND ($5 IS NULL OR UPPER(uuid) LIKE $5 OR UPPER(receptor_rfc) LIKE $5
               OR UPPER(serie || '-' || folio) LIKE $5)";
    let text = f
        .text
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("{}%", s.to_uppercase().replace(['%', '_'], "")));
    let sql = format!(
        "SELECT id, tipo, invoice_id, period, serie, folio, fecha, receptor_rfc, total_centavos,
            status, uuid, pac_code, pac_message, attempts
        FROM cfdi_documents {WHERE} ORDER BY id DESC LIMIT $6 OFFSET $7"
    );
    let rows: Vec<DocumentSummary> = on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(f.status.as_deref())
        .bind(f.tipo.as_deref())
        .bind(f.period)
        .bind(text.as_deref())
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await?);
    let count_sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM cfdi_documents {WHERE}");
    let total: i64 = on!(tx, |c| sqlx::query_scalar(&count_sql)
        .bind(t)
        .bind(f.status.as_deref())
        .bind(f.tipo.as_deref())
        .bind(f.period)
        .bind(text.as_deref())
        .fetch_one(c)
        .await?);
    Ok((rows, total))
}

/// Documents of a period, by serie and folio.
pub async fn documents_of_period(tx: &mut Scoped, period: i32) -> Result<Vec<DocumentRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {DOC_COLUMNS} FROM cfdi_documents WHERE tenant_id = $1 AND period = $2
        ORDER BY serie, folio"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(period)
        .fetch_all(c)
        .await?))
}

/// The CFDI of an invoice, if one was issued.
pub async fn document_of_invoice(tx: &mut Scoped, invoice_id: i64) -> Result<Option<DocumentRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {DOC_COLUMNS} FROM cfdi_documents WHERE tenant_id = $1 AND tipo = 'I'
        AND invoice_id = $2"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(invoice_id)
        .fetch_optional(c)
        .await?))
}

/// Ids of a period's invoices (not cancelled) that have no CFDI yet, in `[lo, hi]`
/// of invoice id, at most `limit`.
pub async fn invoices_without_cfdi(
    tx: &mut Scoped,
    period: i32,
    after_id: i64,
    limit: i64,
) -> Result<Vec<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT i.id FROM invoices i
        WHERE i.tenant_id = $1 AND i.period = $2 AND i.cancelled = FALSE AND i.id > $3
          AND NOT EXISTS (SELECT 1 FROM cfdi_documents d
                          WHERE d.tenant_id = i.tenant_id AND d.tipo = 'I' AND d.invoice_id = i.id)
          AND NOT EXISTS (SELECT 1 FROM cfdi_global_items g
                          WHERE g.tenant_id = i.tenant_id AND g.invoice_id = i.id)
        ORDER BY i.id LIMIT $4";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(period)
        .bind(after_id)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Documents in `status` ('sellado' = waiting for the PAC, 'rechazado' = the staff
/// queue, …), oldest first.
pub async fn documents_with_status(
    tx: &mut Scoped,
    status: &str,
    limit: i64,
) -> Result<Vec<DocumentRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {DOC_COLUMNS} FROM cfdi_documents WHERE tenant_id = $1 AND status = $2
        ORDER BY id LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(status)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Record the stamp (only once: a document already stamped is left as it is). Also
/// writes the UUID on the bill. Returns whether this call recorded it.
pub async fn mark_stamped(
    tx: &mut Scoped,
    id: i64,
    uuid: &str,
    stamped_xml: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE cfdi_documents SET status = 'timbrado', uuid = $3,
        stamped_xml = $4, stamped_at = $5, updated_at = $5, attempts = attempts + 1,
        pac_code = NULL, pac_message = NULL
        WHERE tenant_id = $1 AND id = $2 AND status <> 'timbrado'
        RETURNING invoice_id";
    let invoice: Option<Option<i64>> = on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(id)
        .bind(uuid)
        .bind(stamped_xml)
        .bind(now)
        .fetch_optional(c)
        .await?);
    if let Some(Some(invoice_id)) = invoice {
        const INV: &str = "UPDATE invoices SET cfdi_uuid = $3 WHERE tenant_id = $1 AND id = $2";
        on!(tx, |c| sqlx::query(INV)
            .bind(t)
            .bind(invoice_id)
            .bind(uuid)
            .execute(c)
            .await
            .map(|_| ())?);
    }
    Ok(invoice.is_some())
}

/// A permanent PAC rejection: the document goes to the staff queue with the PAC's code.
pub async fn mark_rejected(
    tx: &mut Scoped,
    id: i64,
    code: &str,
    message: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE cfdi_documents SET status = 'rechazado', pac_code = $3,
        pac_message = $4, attempts = attempts + 1, updated_at = $5
        WHERE tenant_id = $1 AND id = $2 AND status = 'sellado'";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(code)
        .bind(message)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// A transient failure: count the attempt and keep the document queued.
pub async fn note_attempt(
    tx: &mut Scoped,
    id: i64,
    message: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE cfdi_documents SET attempts = attempts + 1, pac_message = $3,
        updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'sellado'";
    on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(message)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Staff retry of a rejected document: back to the queue.
pub async fn requeue(tx: &mut Scoped, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE cfdi_documents SET status = 'sellado', updated_at = $3
        WHERE tenant_id = $1 AND id = $2 AND status = 'rechazado'";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(id)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// Store a factura global and the bills it covers, unless one with the same serie and
/// folio exists. Returns the new document id, or `None` when it already existed.
pub async fn insert_global(
    tx: &mut Scoped,
    doc: &NewDocument,
    invoice_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO cfdi_documents (tenant_id, tipo, invoice_id, period, serie,
        folio, fecha, receptor_rfc, total_centavos, status, sealed_xml, attempts, created_at,
        updated_at)
        VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, 'sellado', $9, 0, $10, $10)
        ON CONFLICT DO NOTHING
        RETURNING id";
    let id: Option<i64> = on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(doc.tipo)
        .bind(doc.period)
        .bind(&doc.serie)
        .bind(&doc.folio)
        .bind(&doc.fecha)
        .bind(&doc.receptor_rfc)
        .bind(doc.total_centavos)
        .bind(&doc.sealed_xml)
        .bind(now)
        .fetch_optional(c)
        .await?);
    let Some(id) = id else { return Ok(None) };
    const ITEM: &str =
        "INSERT INTO cfdi_global_items (tenant_id, document_id, invoice_id) VALUES ($1, $2, $3)";
    for invoice_id in invoice_ids {
        on!(tx, |c| sqlx::query(ITEM)
            .bind(t)
            .bind(id)
            .bind(invoice_id)
            .execute(c)
            .await
            .map(|_| ())?);
    }
    Ok(Some(id))
}

/// How many documents are in each status.
pub async fn status_counts(tx: &mut Scoped) -> Result<Vec<(String, i64)>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT status, CAST(COUNT(*) AS BIGINT) FROM cfdi_documents
        WHERE tenant_id = $1 GROUP BY status ORDER BY status";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .fetch_all(c)
        .await?))
}

// ---------------------------------------------------------------------------------------
// Payments applied to invoices (the source of Complementos de Pago)

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: i64,
    pub contract_id: i64,
    pub invoice_id: i64,
    pub amount_centavos: i64,
    pub forma_pago: String,
    pub paid_at: DateTime<Utc>,
    pub num_operacion: Option<String>,
    pub num_parcialidad: i32,
    pub saldo_anterior_centavos: i64,
    pub idempotency_key: String,
}

const PAYMENT_COLUMNS: &str = "id, contract_id, invoice_id, amount_centavos, forma_pago, paid_at,
    num_operacion, num_parcialidad, saldo_anterior_centavos, idempotency_key";

/// A payment to record against one invoice.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub contract_id: i64,
    pub invoice_id: i64,
    pub amount_centavos: i64,
    pub forma_pago: String,
    pub paid_at: DateTime<Utc>,
    /// The local date of `paid_at` (the ledger's occurred_on).
    pub paid_on: chrono::NaiveDate,
    pub num_operacion: Option<String>,
    pub idempotency_key: String,
    pub recorded_by: Option<i64>,
    /// The ledger line's text.
    pub description: String,
}

pub async fn payment_by_key(tx: &mut Scoped, key: &str) -> Result<Option<PaymentRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM invoice_payments WHERE tenant_id = $1 AND idempotency_key = $2"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(key)
        .fetch_optional(c)
        .await?))
}

pub async fn payment(tx: &mut Scoped, id: i64) -> Result<Option<PaymentRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {PAYMENT_COLUMNS} FROM invoice_payments WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// The payments of an invoice in order of parcialidad.
/// (invoice id, centavos) of each part of one ledger payment, in order.
pub async fn applications_of_entry(
    tx: &mut Scoped,
    ledger_entry_id: i64,
) -> Result<Vec<(i64, i64)>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT invoice_id, amount_centavos FROM invoice_payments
        WHERE tenant_id = $1 AND ledger_entry_id = $2 ORDER BY id";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(ledger_entry_id)
        .fetch_all(c)
        .await?))
}

pub async fn payments_of_invoice(tx: &mut Scoped, invoice_id: i64) -> Result<Vec<PaymentRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM invoice_payments WHERE tenant_id = $1 AND invoice_id = $2
        ORDER BY num_parcialidad"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(invoice_id)
        .fetch_all(c)
        .await?))
}

/// Record a payment: its ledger entry (the contract's balance goes down) and its
/// application to the invoice with the next NumParcialidad and the balance before it.
/// The caller has checked the amount against `saldo_anterior_centavos` inside the same
/// transaction; the unique (invoice, parcialidad) makes a concurrent second payment fail
/// rather than share a number.
pub async fn insert_payment(
    tx: &mut Scoped,
    p: &NewPayment,
    num_parcialidad: i32,
    saldo_anterior_centavos: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let entry = insert_ledger_payment(
        tx,
        p.contract_id,
        p.amount_centavos,
        &p.description,
        p.paid_on,
        now,
    )
    .await?;
    insert_application(tx, p, entry, num_parcialidad, saldo_anterior_centavos, now).await
}

/// The ledger entry of a payment received (negative: the balance goes down). Returns
/// its id.
pub async fn insert_ledger_payment(
    tx: &mut Scoped,
    contract_id: i64,
    amount_centavos: i64,
    description: &str,
    paid_on: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const LEDGER: &str =
        "INSERT INTO ledger_entries (tenant_id, contract_id, kind, amount_centavos,
        description, occurred_on, created_at) VALUES ($1, $2, 'pago', $3, $4, $5, $6) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(LEDGER)
        .bind(t)
        .bind(contract_id)
        .bind(-amount_centavos)
        .bind(description)
        .bind(paid_on)
        .bind(now)
        .fetch_one(c)
        .await?))
}

/// The part of a payment (ledger entry `ledger_entry_id`) applied to one invoice, with
/// its NumParcialidad and the invoice's balance before it. `p.amount_centavos` is the
/// part applied; `p.description` is not used.
pub async fn insert_application(
    tx: &mut Scoped,
    p: &NewPayment,
    entry: i64,
    num_parcialidad: i32,
    saldo_anterior_centavos: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = tx.tenant().0;
    const SQL: &str = "INSERT INTO invoice_payments (tenant_id, contract_id, invoice_id,
        ledger_entry_id, amount_centavos, forma_pago, paid_at, num_operacion, num_parcialidad,
        saldo_anterior_centavos, idempotency_key, recorded_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
    Ok(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(p.contract_id)
        .bind(p.invoice_id)
        .bind(entry)
        .bind(p.amount_centavos)
        .bind(&p.forma_pago)
        .bind(p.paid_at)
        .bind(p.num_operacion.as_deref())
        .bind(num_parcialidad)
        .bind(saldo_anterior_centavos)
        .bind(&p.idempotency_key)
        .bind(p.recorded_by)
        .bind(now)
        .fetch_one(c)
        .await?))
}

/// The CFDI of type P of a payment, if issued.
pub async fn document_of_payment(tx: &mut Scoped, payment_id: i64) -> Result<Option<DocumentRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {DOC_COLUMNS} FROM cfdi_documents WHERE tenant_id = $1 AND payment_id = $2"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(payment_id)
        .fetch_optional(c)
        .await?))
}

// ---------------------------------------------------------------------------------------
// Cancellations

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct CancellationRow {
    pub id: i64,
    pub document_id: i64,
    pub motivo: String,
    pub folio_sustitucion: Option<String>,
    pub note: String,
    pub status: String,
    pub sat_estatus: Option<String>,
    pub acuse_xml: Option<String>,
    pub pac_code: Option<String>,
    pub pac_message: Option<String>,
    pub attempts: i32,
    pub requested_by: Option<i64>,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const CANCEL_COLUMNS: &str = "id, document_id, motivo, folio_sustitucion, note, status,
    sat_estatus, acuse_xml, pac_code, pac_message, attempts, requested_by, requested_at,
    updated_at";

/// Open a cancellation request for a stamped document and mark the document
/// 'cancelacion_en_proceso'. `None` when the document is not stamped or already has an
/// open request.
pub async fn insert_cancellation(
    tx: &mut Scoped,
    document_id: i64,
    motivo: &str,
    folio_sustitucion: Option<&str>,
    note: &str,
    requested_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let t = tx.tenant().0;
    const DOC: &str = "UPDATE cfdi_documents SET status = 'cancelacion_en_proceso', updated_at = $3
        WHERE tenant_id = $1 AND id = $2 AND status = 'timbrado'";
    let n = on!(tx, |c| sqlx::query(DOC)
        .bind(t)
        .bind(document_id)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    if n != 1 {
        return Ok(None);
    }
    const SQL: &str = "INSERT INTO cfdi_cancellations (tenant_id, document_id, motivo,
        folio_sustitucion, note, status, attempts, requested_by, requested_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, 'solicitada', 0, $6, $7, $7) RETURNING id";
    Ok(Some(on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(document_id)
        .bind(motivo)
        .bind(folio_sustitucion)
        .bind(note)
        .bind(requested_by)
        .bind(now)
        .fetch_one(c)
        .await?)))
}

pub async fn cancellation(tx: &mut Scoped, id: i64) -> Result<Option<CancellationRow>> {
    let t = tx.tenant().0;
    let sql =
        format!("SELECT {CANCEL_COLUMNS} FROM cfdi_cancellations WHERE tenant_id = $1 AND id = $2");
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// Requests in `status`, oldest first.
pub async fn cancellations_with_status(
    tx: &mut Scoped,
    status: &str,
    limit: i64,
) -> Result<Vec<CancellationRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {CANCEL_COLUMNS} FROM cfdi_cancellations WHERE tenant_id = $1 AND status = $2
        ORDER BY id LIMIT $3"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(status)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// The requests for one document, newest first.
pub async fn cancellations_of_document(
    tx: &mut Scoped,
    document_id: i64,
) -> Result<Vec<CancellationRow>> {
    let t = tx.tenant().0;
    let sql = format!(
        "SELECT {CANCEL_COLUMNS} FROM cfdi_cancellations WHERE tenant_id = $1 AND document_id = $2
        ORDER BY id DESC"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(t)
        .bind(document_id)
        .fetch_all(c)
        .await?))
}

/// What the PAC or SAT said about a request.
#[derive(Debug, Clone, Default)]
pub struct CancellationUpdate<'a> {
    /// 'solicitada' (still to send), 'en_proceso', 'cancelado', 'rechazado' or 'error'.
    pub status: &'a str,
    pub sat_estatus: Option<&'a str>,
    /// Stored only when given (the first acuse is kept otherwise).
    pub acuse_xml: Option<&'a str>,
    pub pac_code: Option<&'a str>,
    pub pac_message: Option<&'a str>,
}

/// Record progress of an open request and move its document along: 'cancelado' cancels
/// the document (and takes the UUID off the bill); 'rechazado' and 'error' return it to
/// 'timbrado' — the CFDI stays valid. A request no longer open is left alone.
pub async fn update_cancellation(
    tx: &mut Scoped,
    id: i64,
    u: &CancellationUpdate<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = tx.tenant().0;
    const SQL: &str = "UPDATE cfdi_cancellations SET status = $3,
            sat_estatus = COALESCE($4, sat_estatus), acuse_xml = COALESCE(acuse_xml, $5),
            pac_code = $6, pac_message = $7, attempts = attempts + 1, updated_at = $8
        WHERE tenant_id = $1 AND id = $2 AND status IN ('solicitada', 'en_proceso')
        RETURNING document_id";
    let doc: Option<i64> = on!(tx, |c| sqlx::query_scalar(SQL)
        .bind(t)
        .bind(id)
        .bind(u.status)
        .bind(u.sat_estatus)
        .bind(u.acuse_xml)
        .bind(u.pac_code)
        .bind(u.pac_message)
        .bind(now)
        .fetch_optional(c)
        .await?);
    let Some(doc) = doc else { return Ok(false) };
    let doc_status = match u.status {
        "cancelado" => "cancelado",
        "rechazado" | "error" => "timbrado",
        _ => return Ok(true),
    };
    const DOC: &str = "UPDATE cfdi_documents SET status = $3, updated_at = $4
        WHERE tenant_id = $1 AND id = $2 AND status = 'cancelacion_en_proceso'
        RETURNING invoice_id";
    let invoice: Option<Option<i64>> = on!(tx, |c| sqlx::query_scalar(DOC)
        .bind(t)
        .bind(doc)
        .bind(doc_status)
        .bind(now)
        .fetch_optional(c)
        .await?);
    if let (Some(Some(invoice_id)), "cancelado") = (invoice, doc_status) {
        const INV: &str = "UPDATE invoices SET cfdi_uuid = NULL WHERE tenant_id = $1 AND id = $2";
        on!(tx, |c| sqlx::query(INV)
            .bind(t)
            .bind(invoice_id)
            .execute(c)
            .await
            .map(|_| ())?);
    }
    Ok(true)
}

/// Payments with no CFDI of type P yet whose bill has a stamped CFDI, with that CFDI's
/// stamped XML; oldest first.
pub async fn payments_awaiting_complement(
    tx: &mut Scoped,
    limit: i64,
) -> Result<Vec<(PaymentRow, String)>> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        p: PaymentRow,
        stamped_xml: String,
    }
    let t = tx.tenant().0;
    const SQL: &str = "SELECT p.id, p.contract_id, p.invoice_id, p.amount_centavos, p.forma_pago,
            p.paid_at, p.num_operacion, p.num_parcialidad, p.saldo_anterior_centavos,
            p.idempotency_key, d.stamped_xml
        FROM invoice_payments p
        JOIN cfdi_documents d ON d.tenant_id = p.tenant_id AND d.tipo = 'I'
            AND d.invoice_id = p.invoice_id AND d.status = 'timbrado'
            AND d.stamped_xml IS NOT NULL
        WHERE p.tenant_id = $1
          AND NOT EXISTS (SELECT 1 FROM cfdi_documents x
                          WHERE x.tenant_id = p.tenant_id AND x.payment_id = p.id)
        ORDER BY p.id LIMIT $2";
    let rows: Vec<Row> = on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(limit)
        .fetch_all(c)
        .await?);
    Ok(rows.into_iter().map(|r| (r.p, r.stamped_xml)).collect())
}
