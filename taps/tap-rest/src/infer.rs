//! Schema inference from sample records: each field's types widened across the records
//! (`integer` and `number` make `number`), `null` where a field was null or missing, and
//! `format: date-time` where every string value is an RFC 3339 date-time.

use serde_json::{Map, Value, json};

/// What one field held across the sample.
#[derive(Debug, Default)]
struct Seen {
    null: bool,
    boolean: bool,
    integer: bool,
    number: bool,
    string: bool,
    object: bool,
    array: bool,
    /// Every string seen was a date-time.
    all_date_times: bool,
    /// In how many records the field was present.
    present: usize,
}

/// The JSON Schema of `records` (objects; anything else is ignored).
pub(crate) fn infer<'a>(records: impl IntoIterator<Item = &'a Map<String, Value>>) -> Value {
    let mut fields: Vec<(String, Seen)> = Vec::new();
    let mut count = 0;
    for record in records {
        count += 1;
        for (name, value) in record {
            let index = match fields.iter().position(|(n, _)| n == name) {
                Some(index) => index,
                None => {
                    fields.push((
                        name.clone(),
                        Seen {
                            all_date_times: true,
                            ..Seen::default()
                        },
                    ));
                    fields.len() - 1
                }
            };
            let seen = &mut fields[index].1;
            seen.present += 1;
            match value {
                Value::Null => seen.null = true,
                Value::Bool(_) => seen.boolean = true,
                Value::Number(n) if n.is_i64() || n.is_u64() => seen.integer = true,
                Value::Number(_) => seen.number = true,
                Value::String(text) => {
                    seen.string = true;
                    seen.all_date_times &= is_date_time(text);
                }
                Value::Object(_) => seen.object = true,
                Value::Array(_) => seen.array = true,
            }
        }
    }
    let properties: Map<String, Value> = fields
        .into_iter()
        .map(|(name, seen)| {
            let schema = field_schema(&seen, seen.present < count);
            (name, schema)
        })
        .collect();
    json!({"type": "object", "properties": properties})
}

/// Adds `fields` (keys the config names) the sample did not show, as nullable strings.
pub(crate) fn ensure_fields(schema: &mut Value, fields: &[&str]) {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for field in fields {
            properties
                .entry((*field).to_owned())
                .or_insert_with(|| json!({"type": ["null", "string"]}));
        }
    }
}

fn field_schema(seen: &Seen, missing: bool) -> Value {
    let mut types = Vec::new();
    if seen.array {
        types.push("array");
    }
    if seen.boolean {
        types.push("boolean");
    }
    if seen.number {
        types.push("number");
    } else if seen.integer {
        types.push("integer");
    }
    if seen.null || missing {
        types.push("null");
    }
    if seen.object {
        types.push("object");
    }
    if seen.string {
        types.push("string");
    }
    if types == ["null"] {
        // Only nulls: a column still needs a type; a string holds anything.
        types.push("string");
    }
    let mut schema = Map::new();
    schema.insert(
        "type".to_owned(),
        match types.as_slice() {
            [one] => json!(one),
            many => json!(many),
        },
    );
    if seen.string && seen.all_date_times && !seen.boolean && !seen.integer && !seen.number {
        schema.insert("format".to_owned(), json!("date-time"));
    }
    Value::Object(schema)
}

/// An RFC 3339 date-time (`2024-05-01T10:00:00Z`, with offset or fraction), or the same
/// without a zone (`2024-05-01T10:00:00`), as APIs often write it.
fn is_date_time(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::needless_pass_by_value)] // the json! literal is built for this call
    fn objects(values: Value) -> Vec<Map<String, Value>> {
        let Value::Array(items) = values else {
            return Vec::new();
        };
        items
            .into_iter()
            .filter_map(|v| match v {
                Value::Object(map) => Some(map),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn types_widen_and_missing_fields_are_nullable() {
        let records = objects(json!([
            {"id": 1, "score": 1, "name": "a", "at": "2024-01-01T00:00:00Z", "flag": true, "gone": null},
            {"id": 2, "score": 2.5, "at": "2024-01-02T10:00:00+02:00", "flag": false, "gone": null}
        ]));
        let schema = infer(&records);
        assert_eq!(
            schema["properties"],
            json!({
                "id": {"type": "integer"},
                "score": {"type": "number"},
                "name": {"type": ["null", "string"]},
                "at": {"type": "string", "format": "date-time"},
                "flag": {"type": "boolean"},
                "gone": {"type": ["null", "string"]},
            })
        );
    }

    #[test]
    fn a_non_date_string_drops_the_format() {
        let records = objects(json!([{"at": "2024-01-01T00:00:00Z"}, {"at": "yesterday"}]));
        assert_eq!(
            infer(&records)["properties"]["at"],
            json!({"type": "string"})
        );
        let mixed = objects(json!([{"v": 1}, {"v": "x"}]));
        assert_eq!(
            infer(&mixed)["properties"]["v"],
            json!({"type": ["integer", "string"]})
        );
    }
}
