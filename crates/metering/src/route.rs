//! A lecturista's route file, processed in chunks: each chunk's rows tied to meters by
//! serial and recorded in one short transaction (other writers get the database
//! between chunks), the batch's counts moved in the same transaction, a per-row report
//! kept at the end. Re-uploading a file is safe: stored rows come back `duplicada`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use db::{Db, TenantId};
use ingest::route::{self, ReportLine, RowVerdict};

use crate::record::{self, Incoming, Outcome, Source};
use crate::{Error, Result};

/// Rows per transaction.
pub const CHUNK: usize = 2_000;

/// A finished batch's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

/// Open a batch for an uploaded file; process it with [`process`].
pub async fn open(
    db: &Db,
    tenant: TenantId,
    filename: &str,
    uploaded_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let mut tx = db.write(tenant).await?;
    let id = db::metering::insert_batch(&mut tx, "ruta", filename, uploaded_by, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Process batch `id`'s file. A file-level problem (not UTF-8, missing columns) closes
/// the batch `fallido` and is returned as [`Error::Invalid`].
pub async fn process(
    db: &Db,
    tenant: TenantId,
    id: i64,
    file: &[u8],
    now: DateTime<Utc>,
) -> Result<Summary> {
    let reader = match route::read_route(file, now) {
        Ok(r) => r,
        Err(ingest::Error::Invalid { field, reason }) => {
            let mut tx = db.write(tenant).await?;
            db::metering::finish_batch(&mut tx, id, "fallido", None, Some(&reason), now).await?;
            tx.commit().await?;
            return Err(Error::Invalid {
                field,
                message: reason,
            });
        }
    };
    let mut summary = Summary::default();
    let mut report: Vec<ReportLine> = Vec::new();
    let mut chunk: Vec<RowVerdict> = Vec::with_capacity(CHUNK);
    let mut rows = reader.peekable();
    while rows.peek().is_some() {
        chunk.clear();
        chunk.extend(rows.by_ref().take(CHUNK));
        let lines = record_chunk(db, tenant, id, &chunk, now).await?;
        for l in &lines {
            summary.rows += 1;
            match l.outcome {
                ReportLine::DUPLICADA => summary.duplicates += 1,
                ReportLine::RECHAZADA => summary.rejected += 1,
                _ => summary.accepted += 1,
            }
        }
        report.extend(lines);
        // Let the server's other work run between chunks.
        tokio::task::yield_now().await;
    }
    let csv = route::report_csv(report);
    let mut tx = db.write(tenant).await?;
    db::metering::finish_batch(&mut tx, id, "terminado", Some(&csv), None, now).await?;
    tx.commit().await?;
    Ok(summary)
}

async fn record_chunk(
    db: &Db,
    tenant: TenantId,
    batch: i64,
    chunk: &[RowVerdict],
    now: DateTime<Utc>,
) -> Result<Vec<ReportLine>> {
    let mut tx = db.write(tenant).await?;
    let mut serials: Vec<String> = chunk
        .iter()
        .filter_map(|v| match v {
            RowVerdict::Ok(r) => Some(r.serial.clone()),
            RowVerdict::Rejected { .. } => None,
        })
        .collect();
    serials.sort();
    serials.dedup();
    let meters: HashMap<String, i64> = db::metering::registers_by_serial(&mut tx, &serials)
        .await?
        .into_iter()
        .map(|m| (m.serial, m.id))
        .collect();
    let mut lines: Vec<ReportLine> = chunk.iter().map(RowVerdict::report_line).collect();
    let mut incoming = Vec::new();
    let mut at_line = Vec::new();
    for (k, v) in chunk.iter().enumerate() {
        let RowVerdict::Ok(row) = v else { continue };
        let Some(&meter_id) = meters.get(&row.serial) else {
            lines[k].outcome = ReportLine::RECHAZADA;
            lines[k].detail = format!("el medidor {} no está registrado", row.serial);
            continue;
        };
        incoming.push(Incoming {
            meter_id,
            at: row.at,
            litres: row.litres,
            alarms: 0,
            observation: row.litres.is_none().then(|| row.observation.code()),
        });
        at_line.push(k);
    }
    let outcomes = record::record(&mut tx, Source::Lecturista, &incoming, now).await?;
    for (k, o) in at_line.into_iter().zip(outcomes) {
        match o {
            Outcome::Accepted { quality } => {
                if !matches!(quality, "valida" | "vuelta")
                    && lines[k].outcome == ReportLine::ACEPTADA
                {
                    lines[k].detail = format!("{}; calidad: {quality}", lines[k].detail);
                }
            }
            Outcome::Duplicate => {
                lines[k].outcome = ReportLine::DUPLICADA;
                lines[k].detail = "ya estaba registrada".into();
            }
            Outcome::Rejected { message, .. } => {
                lines[k].outcome = ReportLine::RECHAZADA;
                lines[k].detail = message;
            }
        }
    }
    let count = |o: &str| lines.iter().filter(|l| l.outcome == o).count() as i64;
    let rows = lines.len() as i64;
    let (dups, rejected) = (count(ReportLine::DUPLICADA), count(ReportLine::RECHAZADA));
    db::metering::batch_progress(&mut tx, batch, rows, rows - dups - rejected, dups, rejected)
        .await?;
    tx.commit().await?;
    Ok(lines)
}
