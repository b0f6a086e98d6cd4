//! A list bound as one parameter: a JSON array, unpacked by the database
//! (`json_each` on SQLite, `jsonb_array_elements_text` on PostgreSQL), so a statement
//! over "these ids" has the same text and a single bind however long the list is.

use crate::Backend;

/// `col` is one of the ids in the JSON array bound as parameter `$n`.
pub(crate) fn in_ids(backend: Backend, col: &str, n: u32) -> String {
    match backend {
        Backend::Sqlite => format!("{col} IN (SELECT value FROM json_each(${n}))"),
        Backend::Postgres => {
            format!("{col} = ANY(ARRAY(SELECT jsonb_array_elements_text(${n}::jsonb)::bigint))")
        }
    }
}

/// `col` is one of the strings in the JSON array bound as parameter `$n`.
pub(crate) fn in_strs(backend: Backend, col: &str, n: u32) -> String {
    match backend {
        Backend::Sqlite => format!("{col} IN (SELECT value FROM json_each(${n}))"),
        Backend::Postgres => {
            format!("{col} = ANY(ARRAY(SELECT jsonb_array_elements_text(${n}::jsonb)))")
        }
    }
}

/// The JSON text to bind for [`in_ids`] / [`in_strs`] (or any JSON parameter).
pub(crate) fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}
