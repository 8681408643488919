//! Records flattened as tap-rest-api-msdk flattens them: nested objects become
//! `parent_child` fields, arrays and `except_keys` become JSON strings, `-` and `.` in names
//! become `_`; optionally the raw record in `_sdc_raw_json`.

use serde_json::{Map, Value};

/// The field holding the raw record when `store_raw_json_message` is on.
pub(crate) const RAW_JSON: &str = "_sdc_raw_json";

/// `record` flattened; `except_keys` are full paths with `_` between levels (`owner_address`).
pub(crate) fn flatten(record: &Value, except_keys: &[String], raw: bool) -> Map<String, Value> {
    let mut out = Map::new();
    walk(record, except_keys, "", &mut out);
    if raw {
        out.insert(RAW_JSON.to_owned(), record.clone());
    }
    out
}

fn walk(value: &Value, except_keys: &[String], prefix: &str, out: &mut Map<String, Value>) {
    match value {
        Value::Object(fields) => {
            for (key, value) in fields {
                let name = format!("{prefix}{key}");
                if except_keys.contains(&name) {
                    out.insert(column(&name), Value::String(python_dumps(value)));
                } else {
                    walk(value, except_keys, &format!("{name}_"), out);
                }
            }
        }
        Value::Array(_) => {
            out.insert(column(strip(prefix)), Value::String(python_dumps(value)));
        }
        scalar => {
            out.insert(column(strip(prefix)), scalar.clone());
        }
    }
}

fn strip(prefix: &str) -> &str {
    prefix.strip_suffix('_').unwrap_or(prefix)
}

/// A database-friendly column name: `-` and `.` become `_`.
fn column(name: &str) -> String {
    name.replace(['-', '.'], "_")
}

/// JSON text as Python's `json.dumps` writes it by default (`", "` and `": "` separators,
/// non-ASCII escaped), so the strings match tap-rest-api-msdk's byte for byte.
pub(crate) fn python_dumps(value: &Value) -> String {
    let mut out = String::new();
    dump(value, &mut out);
    out
}

fn dump(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump(item, out);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                string(key, out);
                out.push_str(": ");
                dump(item, out);
            }
            out.push('}');
        }
        Value::String(text) => string(text, out),
        other => out.push_str(&other.to_string()),
    }
}

fn string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_flatten_with_underscores() {
        let record =
            json!({"id": 1, "owner": {"name": "a", "address": {"zip-code": "1"}}, "meta.x": true});
        let flat = flatten(&record, &[], false);
        assert_eq!(
            Value::Object(flat),
            json!({"id": 1, "owner_name": "a", "owner_address_zip_code": "1", "meta_x": true})
        );
    }

    #[test]
    fn arrays_and_except_keys_become_python_json_strings() {
        let record = json!({"tags": ["a", "é"], "owner": {"name": "a", "n": null}, "empty": {}});
        let flat = flatten(&record, &["owner".to_owned()], true);
        assert_eq!(flat["tags"], json!("[\"a\", \"\\u00e9\"]"));
        assert_eq!(flat["owner"], json!("{\"name\": \"a\", \"n\": null}"));
        assert!(
            !flat.contains_key("empty"),
            "an empty object leaves no field"
        );
        assert_eq!(flat[RAW_JSON], record);
    }
}
