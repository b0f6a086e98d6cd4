//! Multi-row `INSERT … VALUES (…), (…)` for bulk loads (seeding, billing runs): the
//! same statement text on both backends, under their bind-parameter limits.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;

use crate::{Result, Scoped, on};

/// One bound value of a bulk insert.
pub(crate) enum Val<'a> {
    I64(i64),
    OptI64(Option<i64>),
    I32(i32),
    Bool(bool),
    Str(&'a str),
    OptStr(Option<&'a str>),
    Date(NaiveDate),
    Ts(DateTime<Utc>),
    OptTs(Option<DateTime<Utc>>),
    Json(&'a serde_json::Value),
}

pub(crate) struct Row<'a>(Vec<Val<'a>>);

impl<'a> Row<'a> {
    pub(crate) fn push_i64(&mut self, v: i64) -> &mut Self {
        self.0.push(Val::I64(v));
        self
    }
    pub(crate) fn push_opt_i64(&mut self, v: Option<i64>) -> &mut Self {
        self.0.push(Val::OptI64(v));
        self
    }
    pub(crate) fn push_i32(&mut self, v: i32) -> &mut Self {
        self.0.push(Val::I32(v));
        self
    }
    pub(crate) fn push_bool(&mut self, v: bool) -> &mut Self {
        self.0.push(Val::Bool(v));
        self
    }
    pub(crate) fn push_str(&mut self, v: &'a str) -> &mut Self {
        self.0.push(Val::Str(v));
        self
    }
    pub(crate) fn push_opt_str(&mut self, v: Option<&'a str>) -> &mut Self {
        self.0.push(Val::OptStr(v));
        self
    }
    pub(crate) fn push_date(&mut self, v: NaiveDate) -> &mut Self {
        self.0.push(Val::Date(v));
        self
    }
    pub(crate) fn push_ts(&mut self, v: DateTime<Utc>) -> &mut Self {
        self.0.push(Val::Ts(v));
        self
    }
    pub(crate) fn push_opt_ts(&mut self, v: Option<DateTime<Utc>>) -> &mut Self {
        self.0.push(Val::OptTs(v));
        self
    }
    pub(crate) fn push_json(&mut self, v: &'a serde_json::Value) -> &mut Self {
        self.0.push(Val::Json(v));
        self
    }
}

/// Insert `items` with multi-row `INSERT … VALUES (…), (…)` statements, staying under
/// both backends' bind-parameter limits.
pub(crate) async fn batch<'a, T>(
    tx: &mut Scoped,
    table: &str,
    cols: &[&str],
    items: &'a [T],
    row: impl Fn(&mut Row<'a>, usize, &'a T),
) -> Result<()> {
    batch_returning(tx, table, cols, "", items, row)
        .await
        .map(|_| ())
}

/// Like [`batch`], with `suffix` appended to each statement (e.g. `ON CONFLICT DO
/// NOTHING RETURNING id, contract_id`); returns the `(i64, i64)` pairs the statements
/// return (empty when `suffix` has no `RETURNING`).
pub(crate) async fn batch_returning<'a, T>(
    tx: &mut Scoped,
    table: &str,
    cols: &[&str],
    suffix: &str,
    items: &'a [T],
    row: impl Fn(&mut Row<'a>, usize, &'a T),
) -> Result<Vec<(i64, i64)>> {
    let per_stmt = (30_000 / cols.len()).max(1);
    let sqlite = tx.backend() == crate::Backend::Sqlite;
    let mut returned = Vec::new();
    for (chunk_no, chunk) in items.chunks(per_stmt).enumerate() {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
        let mut vals: Vec<Val<'a>> = Vec::with_capacity(chunk.len() * cols.len());
        for (j, item) in chunk.iter().enumerate() {
            let mut r = Row(Vec::with_capacity(cols.len()));
            row(&mut r, chunk_no * per_stmt + j, item);
            debug_assert_eq!(r.0.len(), cols.len());
            if j > 0 {
                sql.push(',');
            }
            sql.push('(');
            for k in 0..cols.len() {
                if k > 0 {
                    sql.push(',');
                }
                // SQLite resolves named parameters (`$n`) by a linear scan per parameter,
                // which is quadratic in a 30,000-parameter statement: use `?` there.
                if sqlite {
                    sql.push('?');
                } else {
                    sql.push('$');
                    sql.push_str(&(j * cols.len() + k + 1).to_string());
                }
            }
            sql.push(')');
            vals.extend(r.0);
        }
        if !suffix.is_empty() {
            sql.push(' ');
            sql.push_str(suffix);
        }
        let returning = suffix.contains("RETURNING");
        on!(tx, |c| {
            let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
            for v in &vals {
                q = match v {
                    Val::I64(x) => q.bind(*x),
                    Val::OptI64(x) => q.bind(*x),
                    Val::I32(x) => q.bind(*x),
                    Val::Bool(x) => q.bind(*x),
                    Val::Str(x) => q.bind(*x),
                    Val::OptStr(x) => q.bind(*x),
                    Val::Date(x) => q.bind(*x),
                    Val::Ts(x) => q.bind(*x),
                    Val::OptTs(x) => q.bind(*x),
                    Val::Json(x) => q.bind(Json(*x)),
                };
            }
            if returning {
                returned.extend(q.fetch_all(c).await?);
            } else {
                q.fetch_all(c).await.map(|_| ())?;
            }
        });
    }
    Ok(returned)
}
