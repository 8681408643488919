//! What only target-sqlite's tests need: querying the database back, and reading the whole
//! destination.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::types::Value as Sql;
use serde_json::{Value, json};

use crate::Dest;
use crate::expected::Content;

impl Dest {
    /// The database the target loads (the destination, [`Dest::out`]).
    #[must_use]
    pub fn db(&self) -> PathBuf {
        self.out()
    }

    /// Runs `sql` on the database; rows as JSON values (TEXT stays a string).
    ///
    /// # Panics
    /// When the query fails.
    #[must_use]
    pub fn query(&self, sql: &str) -> Vec<Vec<Value>> {
        query(&self.db(), sql)
    }

    /// The tables of the database, sorted (none when it does not exist).
    #[must_use]
    pub fn tables(&self) -> Vec<String> {
        tables(&self.db()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Column name → declared type, in table order.
    #[must_use]
    pub fn columns(&self, table: &str) -> Vec<(String, String)> {
        let rows = self.query(&format!(
            "SELECT name, type FROM pragma_table_info('{table}')"
        ));
        rows.into_iter()
            .map(|row| (text(&row[0]), text(&row[1])))
            .collect()
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Runs `sql` on the database at `path`, rows as JSON values (TEXT stays a string).
///
/// # Panics
/// When the query fails.
#[must_use]
pub fn query(path: &Path, sql: &str) -> Vec<Vec<Value>> {
    try_query(path, sql).unwrap_or_else(|e| panic!("{e}"))
}

fn try_query(path: &Path, sql: &str) -> Result<Vec<Vec<Value>>, String> {
    let fault = |e: rusqlite::Error| format!("{} `{sql}`: {e}", path.display());
    let connection = rusqlite::Connection::open(path).map_err(fault)?;
    let mut statement = connection.prepare(sql).map_err(fault)?;
    let width = statement.column_count();
    let rows = statement.query_map([], |row| {
        (0..width)
            .map(|i| {
                Ok(match row.get::<_, Sql>(i)? {
                    Sql::Null => Value::Null,
                    Sql::Integer(n) => json!(n),
                    Sql::Real(x) => json!(x),
                    Sql::Text(s) => json!(s),
                    Sql::Blob(b) => json!(b),
                })
            })
            .collect()
    });
    rows.map_err(fault)?
        .collect::<Result<_, _>>()
        .map_err(fault)
}

fn tables(path: &Path) -> Result<Vec<String>, String> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let rows = try_query(
        path,
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )?;
    Ok(rows.iter().map(|row| text(&row[0])).collect())
}

/// Every table of the database `out`: first its columns (`{name: declared type}`), then its
/// rows in `rowid` order, each a list of typed values.
///
/// # Errors
/// When the database cannot be read.
pub fn dump(out: &Path) -> Result<Content, String> {
    let mut content = BTreeMap::new();
    for table in tables(out)? {
        let columns = try_query(
            out,
            &format!("SELECT name, type FROM pragma_table_info('{table}')"),
        )?;
        let header: serde_json::Map<String, Value> = columns
            .iter()
            .map(|c| (text(&c[0]), c[1].clone()))
            .collect();
        let mut rows = vec![Value::Object(header)];
        let data = try_query(out, &format!("SELECT * FROM \"{table}\" ORDER BY rowid"))?;
        rows.extend(data.into_iter().map(Value::from));
        content.insert(table, rows);
    }
    Ok(content)
}

/// The `id`s loaded into table `conformance_kill` of the database `out`.
///
/// # Errors
/// When the table cannot be read.
pub fn ids(out: &Path) -> Result<Vec<i64>, String> {
    let rows = try_query(out, "SELECT id FROM conformance_kill")?;
    Ok(rows.iter().filter_map(|row| row[0].as_i64()).collect())
}
