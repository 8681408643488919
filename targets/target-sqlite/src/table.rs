//! From a stream to a table: conformed names, column types, SQL text and bound values.
//!
//! Names, types and quoting come from the SDK's SQL base (`singer_sdk::sql`, dialect
//! [`Sqlite`]); what is here is the SQL text of SQLite's row-by-row loading. Everything is
//! pure (no connection), so it is unit-tested directly. Identifiers are always quoted;
//! values are never interpolated, only bound.

use std::collections::HashMap;

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, ValueRef};
use serde_json::Value;
use singer_sdk::sink::StreamSchema;
use singer_sdk::sql::{Dialect, Namer, SqlType, Sqlite, TypeMapper};
use singer_sdk::{Error, Result};

/// A quoted SQL identifier (`"name"`, inner quotes doubled). Identifiers are always quoted,
/// so no name can be read as a key word.
pub(crate) fn quote(identifier: &str) -> String {
    Sqlite.quote(identifier)
}

/// The column name of a stream, property or setting name: singer-sdk's `conform_name`
/// (drop characters outside `[A-Za-z0-9_-.]` and whitespace, lower-case, trim, turn `.`,
/// `-` and spaces into `_`, a leading digit becomes a letter); empty when nothing is left.
pub(crate) fn conform_name(name: &str) -> String {
    Namer::new(&Sqlite).conform(name).unwrap_or_default()
}

/// The column type of a property, by the SDK's [`TypeMapper`] for SQLite: `INTEGER`,
/// `REAL`, `BOOLEAN` (0/1) or `TEXT` (strings, date-times in ISO form, and objects/arrays
/// as JSON text).
pub(crate) fn sql_type(schema: &Value) -> SqlType {
    TypeMapper::new(&Sqlite).sql_type(schema)
}

/// One column of a stream's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    /// The record property it holds; `None` for the load-time column (`timestamp_column`).
    pub(crate) property: Option<String>,
    /// The conformed column name.
    pub(crate) name: String,
    /// The column type (as the SQLite dialect coerces it).
    pub(crate) sql_type: SqlType,
}

/// The columns of a stream, in schema order, plus the load-time column when configured.
///
/// # Errors
/// Two properties (or a property and the load-time column) conform to the same column
/// name, or a property name conforms to nothing.
pub(crate) fn columns(
    stream: &StreamSchema,
    timestamp_column: Option<&str>,
) -> Result<Vec<Column>> {
    let mut out: Vec<Column> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    let properties = stream.properties().into_iter().flatten();
    let extra = timestamp_column.map(|name| (name, None));
    for (property, schema) in properties
        .map(|(name, schema)| (name.as_str(), Some(schema)))
        .chain(extra)
    {
        let name = conform_name(property);
        let what = if schema.is_some() {
            format!("property `{property}`")
        } else {
            format!("the `timestamp_column` setting `{property}`")
        };
        if name.is_empty() {
            return Err(Error::custom(format!(
                "stream `{}`: {what} has no letters, digits, `_`, `-` or `.` to make a column name of; rename it in the tap (or with a stream map)",
                stream.name
            )));
        }
        if let Some(other) = seen.get(&name) {
            return Err(Error::custom(format!(
                "stream `{}`: {other} and {what} both become column `{name}` (names are lower-cased and stripped of special characters); rename one of them in the tap (or with a stream map)",
                stream.name
            )));
        }
        seen.insert(name.clone(), what);
        out.push(Column {
            property: schema.is_some().then(|| property.to_owned()),
            name,
            sql_type: schema.map_or(SqlType::Text, sql_type),
        });
    }
    Ok(out)
}

/// `CREATE TABLE`: nullable columns, except the primary key ones.
pub(crate) fn create_table(table: &str, columns: &[Column], keys: &[String]) -> String {
    let mut parts: Vec<String> = columns
        .iter()
        .map(|c| {
            let not_null = if keys.contains(&c.name) {
                " NOT NULL"
            } else {
                ""
            };
            format!(
                "{} {}{not_null}",
                quote(&c.name),
                Sqlite.type_name(&c.sql_type)
            )
        })
        .collect();
    if !keys.is_empty() {
        parts.push(format!("PRIMARY KEY ({})", quoted_list(keys.iter())));
    }
    format!("CREATE TABLE {} ({})", quote(table), parts.join(", "))
}

/// How an `INSERT` meets an existing row with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnConflict<'a> {
    /// Fail (plain `INSERT`).
    Fail,
    /// `ON CONFLICT (keys) DO UPDATE` the other columns.
    UpdateOn(&'a [String]),
    /// `ON CONFLICT DO UPDATE` every column, whichever uniqueness constraint conflicted.
    UpdateAny,
}

/// `INSERT INTO t (columns) VALUES (?1, …)`, with the conflict clause.
pub(crate) fn insert(table: &str, columns: &[Column], on_conflict: OnConflict<'_>) -> String {
    let names = quoted_list(columns.iter().map(|c| &c.name));
    let params = (1..=columns.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!("INSERT INTO {} ({names}) VALUES ({params})", quote(table));
    let set = |skip: &[String]| {
        columns
            .iter()
            .filter(|c| !skip.contains(&c.name))
            .map(|c| format!("{0} = excluded.{0}", quote(&c.name)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match on_conflict {
        OnConflict::Fail => {}
        OnConflict::UpdateOn(keys) => {
            let set = set(keys);
            sql.push_str(&format!(" ON CONFLICT ({}) DO ", quoted_list(keys.iter())));
            sql.push_str(&if set.is_empty() {
                "NOTHING".to_owned()
            } else {
                format!("UPDATE SET {set}")
            });
        }
        OnConflict::UpdateAny => {
            sql.push_str(&format!(" ON CONFLICT DO UPDATE SET {}", set(&[])));
        }
    }
    sql
}

/// `UPDATE t SET every column WHERE keys match`: parameters are the columns in order, then
/// the key columns.
pub(crate) fn update_by_key(table: &str, columns: &[Column], keys: &[String]) -> String {
    let set = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = ?{}", quote(&c.name), i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let filter = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} = ?{}", quote(k), columns.len() + i + 1))
        .collect::<Vec<_>>()
        .join(" AND ");
    format!("UPDATE {} SET {set} WHERE {filter}", quote(table))
}

fn quoted_list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(|n| quote(n)).collect::<Vec<_>>().join(", ")
}

/// A JSON value bound as an SQLite value: null, 0/1 for booleans, INTEGER or REAL for
/// numbers, TEXT for strings, and JSON text for objects and arrays.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param<'a>(pub(crate) Option<&'a Value>);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            None | Some(Value::Null) => ToSqlOutput::Borrowed(ValueRef::Null),
            Some(Value::Bool(b)) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i)),
                None => ToSqlOutput::Borrowed(ValueRef::Real(n.as_f64().unwrap_or(f64::NAN))),
            },
            Some(Value::String(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            // `to_string` goes through `fmt`, a call per token; this writes the same compact
            // text straight to a buffer.
            Some(other) => ToSqlOutput::Owned(rusqlite::types::Value::Text(
                serde_json::to_string(other).unwrap_or_default(),
            )),
        })
    }
}

/// Keeps the last record of each key, in the order of those last occurrences.
pub(crate) fn dedupe_by_key(
    records: Vec<serde_json::Map<String, Value>>,
    keys: &[String],
) -> (Vec<serde_json::Map<String, Value>>, usize) {
    if keys.is_empty() || records.len() < 2 {
        return (records, 0);
    }
    let ids: Vec<String> = records
        .iter()
        .map(|record| {
            let values: Vec<&Value> = keys
                .iter()
                .map(|k| record.get(k).unwrap_or(&Value::Null))
                .collect();
            serde_json::to_string(&values).unwrap_or_default()
        })
        .collect();
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    for (i, id) in ids.iter().enumerate() {
        last.insert(id, i);
    }
    if last.len() == records.len() {
        return (records, 0);
    }
    let total = records.len();
    let kept: Vec<_> = records
        .into_iter()
        .enumerate()
        .filter(|(i, _)| last.get(ids[*i].as_str()) == Some(i))
        .map(|(_, record)| record)
        .collect();
    let dropped = total - kept.len();
    (kept, dropped)
}
