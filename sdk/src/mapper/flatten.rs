//! Schema and record flattening, as singer-sdk's `helpers/_flattening.py` does it.
//!
//! Objects with `properties` are expanded into `parent<separator>child` keys while the level
//! is below `max_level`; deeper objects and every array become JSON strings (compact, ASCII,
//! as `simplejson.dumps(separators=(",", ":"))` writes them) and their schema becomes
//! `string` (nullable when the original was). A key of `max_key_length` characters or more
//! has its parent segments abbreviated one by one. Two properties flattening to the same key
//! are an error.
//!
//! Differences from singer-sdk, where its behaviour is an accident: a property whose schema
//! is an `anyOf`/`oneOf` of anything but string/array/object is kept as is (singer-sdk drops
//! it from the schema), and the composite is found by name rather than by being the schema's
//! first key.

use serde_json::{Map, Value, json};

use super::expr::compact_json;

/// Flattening settings (`flattening_max_depth` > 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flattening {
    pub(crate) max_level: usize,
    pub(crate) separator: String,
    pub(crate) max_key_length: usize,
}

/// Joins `key` to its parents, abbreviating parent segments while the result is too long.
pub(crate) fn flatten_key(key: &str, parents: &[String], opts: &Flattening) -> String {
    if parents.is_empty() && key.chars().count() < opts.max_key_length {
        return key.to_owned();
    }
    let mut parts: Vec<String> = parents.iter().cloned().chain([key.to_owned()]).collect();
    let mut index = 0;
    while parts.join(&opts.separator).chars().count() >= opts.max_key_length && index < parts.len()
    {
        let reduced: String = camelize(&parts[index])
            .chars()
            .filter(|c| !c.is_ascii_lowercase())
            .collect();
        parts[index] = if reduced.chars().count() > 1 {
            reduced.to_lowercase()
        } else {
            parts[index]
                .chars()
                .take(3)
                .collect::<String>()
                .to_lowercase()
        };
        index += 1;
    }
    parts.join(&opts.separator)
}

/// `inflection.camelize`: upper-cases the first character and each character after `_`,
/// dropping those underscores (`re.sub(r"(?:^|_)(.)", …)`).
fn camelize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
    }
    while let Some(c) = chars.next() {
        if c == '_' {
            match chars.next() {
                Some(next) => out.extend(next.to_uppercase()),
                None => out.push('_'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn has_type(schema: &Value, ty: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == ty,
        Some(Value::Array(types)) => types.iter().any(|t| t == ty),
        _ => false,
    }
}

/// Flattens a stream schema: every key but `properties` is kept, and `properties` (moved last)
/// holds the flattened columns.
///
/// # Errors
/// The duplicated column name when two properties flatten to the same key.
pub(crate) fn flatten_schema(schema: &Value, opts: &Flattening) -> Result<Value, String> {
    let Some(object) = schema.as_object() else {
        return Ok(schema.clone());
    };
    let mut out: Map<String, Value> = object
        .iter()
        .filter(|(k, _)| k.as_str() != "properties")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut columns = Map::new();
    flatten_node(schema, &mut Vec::new(), 0, opts, &mut columns)?;
    out.insert("properties".to_owned(), Value::Object(columns));
    Ok(Value::Object(out))
}

fn flatten_node(
    node: &Value,
    parents: &mut Vec<String>,
    level: usize,
    opts: &Flattening,
    out: &mut Map<String, Value>,
) -> Result<(), String> {
    let Some(properties) = node.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (name, field) in properties {
        let key = flatten_key(name, parents, opts);
        let column = if field.get("type").is_some() {
            if has_type(field, "object")
                && field.get("properties").is_some()
                && level < opts.max_level
            {
                parents.push(name.clone());
                let nested = flatten_node(field, parents, level + 1, opts, out);
                parents.pop();
                nested?;
                continue;
            }
            if has_type(field, "array") || has_type(field, "object") {
                if has_type(field, "null") {
                    json!({"type": ["string", "null"]})
                } else {
                    json!({"type": "string"})
                }
            } else {
                field.clone()
            }
        } else if let Some(first) = ["anyOf", "oneOf"].iter().find_map(|k| {
            field
                .get(*k)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
        }) {
            match first.get("type").and_then(Value::as_str) {
                Some(ty @ ("string" | "array" | "object")) => {
                    let mut branch = first.as_object().cloned().unwrap_or_default();
                    branch.insert("type".to_owned(), json!(["null", ty]));
                    Value::Object(branch)
                }
                _ => field.clone(),
            }
        } else {
            json!({"type": ["null", "string"]})
        };
        if out.contains_key(&key) {
            return Err(format!("duplicate column name produced in schema: {key}"));
        }
        out.insert(key, column);
    }
    Ok(())
}

/// Flattens a record against the flattened schema's `properties`.
///
/// A nested object whose flattened key is not a column is expanded (up to `max_level`);
/// objects and arrays that stay become compact JSON strings. As in singer-sdk, a `null`
/// parent object is kept as one `null` value under the parent's key.
pub(crate) fn flatten_record(
    record: Map<String, Value>,
    columns: &Map<String, Value>,
    opts: &Flattening,
) -> Map<String, Value> {
    let mut out = Map::with_capacity(columns.len().max(record.len()));
    flatten_values(record, columns, &mut Vec::new(), 0, opts, &mut out);
    out
}

fn flatten_values(
    node: Map<String, Value>,
    columns: &Map<String, Value>,
    parents: &mut Vec<String>,
    level: usize,
    opts: &Flattening,
    out: &mut Map<String, Value>,
) {
    for (name, value) in node {
        let key = flatten_key(&name, parents, opts);
        match value {
            Value::Object(child) if !columns.contains_key(&key) && level < opts.max_level => {
                parents.push(name);
                flatten_values(child, columns, parents, level + 1, opts, out);
                parents.pop();
            }
            v @ (Value::Object(_) | Value::Array(_)) => {
                out.insert(key, Value::String(compact_json(&v)));
            }
            v => {
                out.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(max_level: usize) -> Flattening {
        Flattening {
            max_level,
            separator: "__".to_owned(),
            max_key_length: 255,
        }
    }

    fn nested() -> Value {
        json!({"type": "object", "properties": {
            "id": {"type": "string"},
            "foo": {"type": ["object", "null"], "properties": {
                "bar": {"type": ["object", "null"], "properties": {
                    "baz": {"type": ["object", "null"], "properties": {"qux": {"type": "string"}}}}}}}}})
    }

    #[test]
    fn flattens_schemas_like_singer_sdk_doctests() {
        let one = flatten_schema(&nested(), &opts(1)).unwrap();
        assert_eq!(
            one["properties"],
            json!({"id": {"type": "string"}, "foo__bar": {"type": ["string", "null"]}})
        );
        let three = flatten_schema(&nested(), &opts(3)).unwrap();
        assert_eq!(
            three["properties"],
            json!({"id": {"type": "string"}, "foo__bar__baz__qux": {"type": "string"}})
        );
        let composite = json!({"type": "object", "properties": {
            "a": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
            "b": {}, "c": {"type": "array", "items": {}}}});
        assert_eq!(
            flatten_schema(&composite, &opts(1)).unwrap()["properties"],
            json!({"a": {"type": ["null", "string"], "format": "date-time"}, "b": {"type": ["null", "string"]}, "c": {"type": "string"}})
        );
    }

    #[test]
    fn reports_duplicate_columns() {
        let schema = json!({"type": "object", "properties": {
            "a__b": {"type": "string"},
            "a": {"type": "object", "properties": {"b": {"type": "string"}}}}});
        let err = flatten_schema(&schema, &opts(1)).unwrap_err();
        assert!(err.contains("a__b"), "{err}");
    }

    #[test]
    fn flattens_records_against_the_schema() {
        let schema = flatten_schema(&nested(), &opts(1)).unwrap();
        let record = json!({"id": "1", "foo": {"bar": {"baz": {"qux": "é"}}}, "tags": [1, 2]});
        let Value::Object(record) = record else {
            unreachable!()
        };
        let flat = flatten_record(record, schema["properties"].as_object().unwrap(), &opts(1));
        assert_eq!(
            Value::Object(flat),
            json!({"id": "1", "foo__bar": "{\"baz\":{\"qux\":\"\\u00e9\"}}", "tags": "[1,2]"})
        );
    }

    #[test]
    fn abbreviates_long_keys() {
        let o = Flattening {
            max_level: 3,
            separator: "__".to_owned(),
            max_key_length: 20,
        };
        let key = flatten_key(
            "leaf_name",
            &["custom_fields".to_owned(), "someParent".to_owned()],
            &o,
        );
        assert_eq!(key, "cf__sp__leaf_name");
        assert_eq!(camelize("custom_fields"), "CustomFields");
    }
}
