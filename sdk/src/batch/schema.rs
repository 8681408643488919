//! JSON Schema → Arrow schema, for writing parquet batch files.
//!
//! | JSON Schema | Arrow (parquet) |
//! |---|---|
//! | `integer` | `Int64` |
//! | `number` | `Float64`; `Decimal128(38, s)` when `multipleOf` is `10^-s` |
//! | `boolean` | `Boolean` |
//! | `string` | `Utf8`; `format: date-time` → `Timestamp(µs, UTC)`, `format: date` → `Date32` |
//! | `object` with `properties` | `Struct` of its properties |
//! | `array` with `items` | `List` of the items |
//! | anything else (several types, `anyOf`, free-form objects, arrays without `items`) | `Utf8` holding JSON text, marked with [`JSON_TEXT`] field metadata so readers decode it back |
//!
//! Every field is nullable: a record may leave out any property.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Field metadata key marking a `Utf8` column that holds JSON text.
pub const JSON_TEXT: &str = "singer.json";

/// The Arrow schema of records of the JSON Schema `schema` (an object with `properties`).
///
/// ```
/// use arrow_schema::DataType;
/// let schema = serde_json::json!({"type": "object", "properties": {
///     "id": {"type": "integer"},
///     "at": {"type": ["null", "string"], "format": "date-time"},
///     "tags": {"type": "array", "items": {"type": "string"}}
/// }});
/// let arrow = singer_sdk::batch::arrow_schema(&schema).unwrap();
/// assert_eq!(arrow.field(0).data_type(), &DataType::Int64);
/// assert!(matches!(arrow.field(1).data_type(), DataType::Timestamp(_, Some(_))));
/// assert!(matches!(arrow.field(2).data_type(), DataType::List(_)));
/// ```
///
/// # Errors
/// A schema that is not an object with `properties`.
pub fn arrow_schema(schema: &Value) -> Result<Schema> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Err(Error::custom(
            "parquet batch files need a stream schema of type object with `properties`; use the jsonl format for this stream",
        ));
    };
    Ok(Schema::new(fields(properties)))
}

fn fields(properties: &Map<String, Value>) -> Fields {
    properties
        .iter()
        .map(|(name, schema)| field(name, schema))
        .collect()
}

fn field(name: &str, schema: &Value) -> Field {
    match data_type(schema) {
        Some(data_type) => Field::new(name, data_type, true),
        None => Field::new(name, DataType::Utf8, true)
            .with_metadata(HashMap::from([(JSON_TEXT.to_owned(), "true".to_owned())])),
    }
}

/// The Arrow type of a property; `None` for JSON text.
fn data_type(schema: &Value) -> Option<DataType> {
    let schema = single_branch(schema)?;
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => return None,
    };
    let kind = match types.as_slice() {
        [one] => *one,
        [a, b] if (*a == "number" && *b == "integer") || (*a == "integer" && *b == "number") => {
            "number"
        }
        _ => return None,
    };
    match kind {
        "integer" => Some(DataType::Int64),
        "number" => Some(
            decimal_scale(schema)
                .map_or(DataType::Float64, |scale| DataType::Decimal128(38, scale)),
        ),
        "boolean" => Some(DataType::Boolean),
        "string" => Some(match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
            Some("date") => DataType::Date32,
            _ => DataType::Utf8,
        }),
        "object" => {
            let properties = schema.get("properties").and_then(Value::as_object)?;
            let open = schema
                .get("additionalProperties")
                .is_some_and(Value::is_object)
                || schema.get("patternProperties").is_some();
            if properties.is_empty() || open {
                return None;
            }
            Some(DataType::Struct(fields(properties)))
        }
        "array" => {
            let items = schema.get("items").filter(|i| i.is_object())?;
            Some(DataType::List(Arc::new(field("item", items))))
        }
        _ => None,
    }
}

/// The schema itself, or the one non-null branch of its `anyOf`/`oneOf`.
fn single_branch(schema: &Value) -> Option<&Value> {
    let branches = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array);
    let Some(branches) = branches else {
        return Some(schema);
    };
    let mut real = branches
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"));
    match (real.next(), real.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// `s` when `multipleOf` is `10^-s` (a decimal with `s` digits after the point).
fn decimal_scale(schema: &Value) -> Option<i8> {
    let step = schema.get("multipleOf")?.as_f64()?;
    (1..=18i8).find(|s| (step - 10f64.powi(-i32::from(*s))).abs() < f64::EPSILON * 10.0)
}

/// Whether any field (at any depth) holds JSON text.
pub(crate) fn has_json_text(fields: &Fields) -> bool {
    fields.iter().any(|f| field_has_json_text(f))
}

fn field_has_json_text(field: &Field) -> bool {
    if is_json_text(field) {
        return true;
    }
    match field.data_type() {
        DataType::Struct(children) => has_json_text(children),
        DataType::List(item) | DataType::LargeList(item) => field_has_json_text(item),
        _ => false,
    }
}

/// Whether the field holds JSON text.
pub(crate) fn is_json_text(field: &Field) -> bool {
    field.metadata().get(JSON_TEXT).is_some_and(|v| v == "true")
}

/// Replaces the values of JSON text fields in `record` by their JSON text.
pub(crate) fn encode_json_text(record: &mut Map<String, Value>, fields: &Fields) {
    for field in fields {
        if let Some(value) = record.get_mut(field.name()) {
            encode_value(value, field);
        }
    }
}

fn encode_value(value: &mut Value, field: &Field) {
    if value.is_null() {
        return;
    }
    if is_json_text(field) {
        *value = Value::String(value.to_string());
        return;
    }
    match (field.data_type(), value) {
        (DataType::Struct(children), Value::Object(object)) => encode_json_text(object, children),
        (DataType::List(item) | DataType::LargeList(item), Value::Array(items)) => {
            for element in items {
                encode_value(element, item);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_nested_objects_lists_decimals_and_free_form_values() {
        let schema = arrow_schema(&json!({"type": "object", "properties": {
            "price": {"type": ["number", "null"], "multipleOf": 0.01},
            "ratio": {"type": "number"},
            "born": {"type": "string", "format": "date"},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}},
            "extra": {"type": "object"},
            "either": {"type": ["string", "integer"]},
            "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "points": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}
        }}))
        .unwrap();
        let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
        assert_eq!(types[0], &DataType::Decimal128(38, 2));
        assert_eq!(types[1], &DataType::Float64);
        assert_eq!(types[2], &DataType::Date32);
        assert!(matches!(types[3], DataType::Struct(f) if f[0].name() == "city"));
        assert!(is_json_text(schema.field(4)) && is_json_text(schema.field(5)));
        assert_eq!(types[6], &DataType::Int64);
        assert!(
            matches!(types[7], DataType::List(i) if matches!(i.data_type(), DataType::List(_)))
        );
        assert!(has_json_text(schema.fields()));
    }

    #[test]
    fn json_text_is_encoded_at_any_depth() {
        let schema = arrow_schema(&json!({"type": "object", "properties": {
            "a": {"type": "object", "properties": {"free": {}}},
            "b": {"type": "array", "items": {"type": "object"}}
        }}))
        .unwrap();
        let mut record = json!({"a": {"free": [1, 2]}, "b": [{"x": 1}, null]})
            .as_object()
            .cloned()
            .unwrap();
        encode_json_text(&mut record, schema.fields());
        assert_eq!(
            Value::Object(record),
            json!({"a": {"free": "[1,2]"}, "b": ["{\"x\":1}", null]})
        );
    }

    #[test]
    fn refuses_schemas_without_properties() {
        assert!(arrow_schema(&json!({"type": "object"})).is_err());
    }
}
