//! From a stream to a table: conformed names, column types, SQL text and bound values.
//!
//! Everything here is pure (no connection), so it is unit-tested directly. Identifiers are
//! always quoted; values are never interpolated, only bound.

use std::collections::HashMap;

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, ValueRef};
use serde_json::Value;
use singer_sdk::sink::StreamSchema;
use singer_sdk::{Error, Result};

/// singer-sdk's `SQLSink.conform_name`: drop characters outside `[A-Za-z0-9_-.]` and
/// whitespace, lower-case, trim, turn `.`, `-` and spaces into `_`, and replace a leading
/// digit with a letter (`0` → `a` … `9` → `j`).
pub(crate) fn conform_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') || c.is_whitespace())
        .collect();
    let mut conformed: String = kept
        .to_lowercase()
        .trim()
        .chars()
        .map(|c| if matches!(c, '.' | '-' | ' ') { '_' } else { c })
        .collect();
    if let Some(first) = conformed.chars().next() {
        if let Some(digit) = first.to_digit(10) {
            let letter = char::from(b'a' + u8::try_from(digit).unwrap_or(0));
            conformed.replace_range(..1, &letter.to_string());
        }
    }
    conformed
}

/// A quoted SQL identifier (`"name"`, inner quotes doubled).
pub(crate) fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// The declared SQLite type of a property: `INTEGER`, `REAL`, `BOOLEAN` (0/1) or `TEXT`
/// (strings, date-times in ISO form, and objects/arrays as JSON text).
pub(crate) fn sql_type(schema: &Value) -> &'static str {
    match first_type(schema) {
        Some("integer") => "INTEGER",
        Some("number") => "REAL",
        Some("boolean") => "BOOLEAN",
        _ => "TEXT",
    }
}

/// The first non-null JSON type a property schema allows: from `type` (a string or a list),
/// else the first `anyOf`/`oneOf`/`allOf` branch that has one, else `object`/`array` when
/// the schema has `properties`/`items`.
fn first_type(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(ty)) if ty != "null" => return Some(ty),
        Some(Value::Array(types)) => {
            if let Some(ty) = types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
            {
                return Some(ty);
            }
        }
        _ => {}
    }
    for keyword in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = schema.get(keyword).and_then(Value::as_array) {
            if let Some(ty) = branches.iter().find_map(first_type) {
                return Some(ty);
            }
        }
    }
    if schema.get("properties").is_some() {
        Some("object")
    } else if schema.get("items").is_some() {
        Some("array")
    } else {
        None
    }
}

/// One column of a stream's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    /// The record property it holds; `None` for the load-time column (`timestamp_column`).
    pub(crate) property: Option<String>,
    /// The conformed column name.
    pub(crate) name: String,
    /// The declared SQLite type.
    pub(crate) sql_type: &'static str,
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
            sql_type: schema.map_or("TEXT", sql_type),
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
            format!("{} {}{not_null}", quote(&c.name), c.sql_type)
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
            Some(other) => ToSqlOutput::Owned(rusqlite::types::Value::Text(other.to_string())),
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
