//! Records as rows of `COPY … FROM STDIN` in text format: tab-separated, `\N` for NULL,
//! backslash escapes. Values are written as PostgreSQL reads them for the column's type:
//! JSON text for `json`/`jsonb`, array literals for arrays, the string itself otherwise.
//!
//! PostgreSQL text (and `jsonb`) cannot hold the NUL character: each one, in strings and
//! inside objects and arrays, becomes U+FFFD (`�`), and [`encode_row`] says so.

use std::io::Write;

use serde_json::{Map, Value};

use crate::sink::Fields;
use crate::sql::SqlType;

/// Where one column's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyColumn {
    /// The record property.
    pub property: String,
    /// The column's type in the table.
    pub sql_type: SqlType,
}

/// Appends one row for `record` to `out`; returns whether a NUL character had to be
/// replaced.
///
/// ```
/// use serde_json::json;
/// use singer_sdk::sql::SqlType;
/// use singer_sdk::sql::postgres::copy::{CopyColumn, encode_row};
///
/// let columns = [
///     CopyColumn { property: "id".into(), sql_type: SqlType::BigInt },
///     CopyColumn { property: "note".into(), sql_type: SqlType::Text },
///     CopyColumn { property: "tags".into(), sql_type: SqlType::Jsonb },
/// ];
/// let record = json!({"id": 7, "note": "a\tb", "tags": ["x"]});
/// let mut out = Vec::new();
/// let replaced = encode_row(&columns, record.as_object().unwrap(), &mut out);
/// assert_eq!(String::from_utf8(out).unwrap(), "7\ta\\tb\t[\"x\"]\n");
/// assert!(!replaced);
/// ```
pub fn encode_row(columns: &[CopyColumn], record: &Map<String, Value>, out: &mut Vec<u8>) -> bool {
    let mut replaced = false;
    let mut fields = Fields::new(record);
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        let value = fields.get(&column.property);
        match value {
            None | Some(Value::Null) => out.extend_from_slice(b"\\N"),
            Some(value) if has_nul(value) => {
                replaced = true;
                encode_value(&column.sql_type, &without_nul(value), out);
            }
            Some(value) => encode_value(&column.sql_type, value, out),
        }
    }
    out.push(b'\n');
    replaced
}

/// Whether a NUL character is in a string, key or item of `value`.
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn without_nul(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace('\0', "\u{fffd}")),
        Value::Array(items) => Value::Array(items.iter().map(without_nul).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.replace('\0', "\u{fffd}"), without_nul(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn encode_value(ty: &SqlType, value: &Value, out: &mut Vec<u8>) {
    match (ty, value) {
        (SqlType::Json | SqlType::Jsonb, value) => json_escaped(value, out),
        (SqlType::Array(inner), Value::Array(items)) => {
            let mut literal = String::new();
            array_literal(inner, items, &mut literal);
            escape(&literal, out);
        }
        (_, Value::String(s)) => escape(s, out),
        (_, Value::Bool(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        // Digits, sign, `.`, `e`: nothing to escape.
        (_, Value::Number(n)) => {
            let _ = write!(out, "{n}");
        }
        (_, other) => json_escaped(other, out),
    }
}

/// `value` as JSON text, escaped for COPY as it is written (no intermediate string).
fn json_escaped(value: &Value, out: &mut Vec<u8>) {
    // Writing to a `Vec` cannot fail, nor can serialising a `Value`.
    let _ = serde_json::to_writer(Escaping(out), value);
}

/// Escapes what goes through it for COPY text.
struct Escaping<'a>(&'a mut Vec<u8>);

impl Write for Escaping<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        escape_bytes(buf, self.0);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `{1,2}`, `{"a","b \"c\""}`, `{{1},{2}}`, `NULL` for nulls.
fn array_literal(inner: &SqlType, items: &[Value], out: &mut String) {
    out.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            Value::Null => out.push_str("NULL"),
            Value::Array(nested) if !matches!(inner, SqlType::Json | SqlType::Jsonb) => {
                array_literal(inner, nested, out);
            }
            Value::String(s) if !matches!(inner, SqlType::Json | SqlType::Jsonb) => {
                quote_element(s, out);
            }
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&n.to_string()),
            other => quote_element(&other.to_string(), out),
        }
    }
    out.push('}');
}

fn quote_element(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// COPY text escaping: backslash, tab, newline and carriage return.
fn escape(s: &str, out: &mut Vec<u8>) {
    escape_bytes(s.as_bytes(), out);
}

/// [`escape`] on bytes: the runs between special bytes are copied whole.
fn escape_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let replacement: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(replacement);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(ty: SqlType, value: &Value) -> String {
        let columns = [CopyColumn {
            property: "v".into(),
            sql_type: ty,
        }];
        let mut out = Vec::new();
        let _ = encode_row(&columns, json!({"v": value}).as_object().unwrap(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_as_postgres_reads_them() {
        assert_eq!(row(SqlType::Text, &json!(null)), "\\N\n");
        assert_eq!(
            row(SqlType::Text, &json!("back\\slash\r\n")),
            "back\\\\slash\\r\\n\n"
        );
        assert_eq!(row(SqlType::Boolean, &json!(true)), "true\n");
        assert_eq!(row(SqlType::Text, &json!("a\u{0}b")), "a\u{fffd}b\n");
        assert_eq!(
            row(SqlType::Jsonb, &json!({"k": ["\u{0}"]})),
            "{\"k\":[\"\u{fffd}\"]}\n"
        );
        assert_eq!(row(SqlType::Double, &json!(1.5)), "1.5\n");
        assert_eq!(row(SqlType::Jsonb, &json!("text")), "\"text\"\n");
        assert_eq!(row(SqlType::Text, &json!({"a": 1})), "{\"a\":1}\n");
        assert_eq!(
            row(
                SqlType::Array(Box::new(SqlType::Text)),
                &json!(["a\"b", null, "c"])
            ),
            "{\"a\\\\\"b\",NULL,\"c\"}\n"
        );
        assert_eq!(
            row(
                SqlType::Array(Box::new(SqlType::BigInt)),
                &json!([[1], [2]])
            ),
            "{{1},{2}}\n"
        );
    }
}
