//! JSON Schema helpers and the [`Schema`] trait that `#[derive(Schema)]` implements.
//!
//! Singer describes every stream with a JSON Schema. Typed records describe themselves through
//! [`Schema`]; dynamic streams build a [`serde_json::Value`] by hand or with [`object`].
//!
//! ```
//! use singer_sdk::schema::Schema;
//!
//! assert_eq!(<Option<i64>>::json_schema(), serde_json::json!({"type": ["integer", "null"]}));
//! ```

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

/// A type that can describe itself as a JSON Schema.
///
/// Implemented for the standard scalar types, `Option`, `Vec`, string-keyed maps, chrono's
/// date and time types and [`serde_json::Value`]; derive it for your own records with
/// `#[derive(Schema)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not describe itself as a JSON Schema",
    note = "add `#[derive(singer_sdk::Schema)]` to `{Self}` or implement `singer_sdk::schema::Schema` by hand"
)]
pub trait Schema {
    /// The JSON Schema of this type.
    fn json_schema() -> Value;
}

/// Builds an object schema from `(name, schema)` pairs; every property is optional.
///
/// ```
/// use serde_json::json;
/// let schema = singer_sdk::schema::object([("id", json!({"type": "integer"}))]);
/// assert_eq!(schema, json!({"type": "object", "properties": {"id": {"type": "integer"}}}));
/// ```
pub fn object<'a>(properties: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    let properties: Map<String, Value> = properties
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect();
    json!({"type": "object", "properties": properties})
}

/// Returns `schema` widened to also accept `null`.
///
/// A string `type` becomes `[type, "null"]`, an array of types gains `"null"`, and a schema
/// without `type` (e.g. `anyOf`) is wrapped as `{"anyOf": [schema, {"type": "null"}]}`.
///
/// ```
/// use serde_json::json;
/// let schema = singer_sdk::schema::nullable(json!({"type": "string", "format": "date"}));
/// assert_eq!(schema, json!({"type": ["string", "null"], "format": "date"}));
/// ```
#[must_use]
pub fn nullable(mut schema: Value) -> Value {
    let Some(object) = schema.as_object_mut() else {
        return schema;
    };
    if object.is_empty() {
        return schema;
    }
    match object.get_mut("type") {
        Some(Value::String(ty)) if ty != "null" => {
            let ty = std::mem::take(ty);
            object.insert("type".to_owned(), json!([ty, "null"]));
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(json!("null"));
            }
        }
        Some(_) => {}
        None => return json!({"anyOf": [schema, {"type": "null"}]}),
    }
    // An `enum` must list `null` too, or the widened type still rejects it.
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
    schema
}

/// Whether `schema` accepts `null` (by its `type` or an `anyOf` branch).
#[must_use]
pub fn is_nullable(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(ty)) => ty == "null",
        Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
        _ => schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|branches| branches.iter().any(is_nullable)),
    }
}

/// The non-null JSON types `schema` allows, looking through `anyOf` branches.
#[must_use]
pub fn types(schema: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    match schema.get("type") {
        Some(Value::String(ty)) => out.push(ty.as_str()),
        Some(Value::Array(types)) => out.extend(types.iter().filter_map(Value::as_str)),
        _ => {}
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        for branch in branches {
            out.extend(types(branch));
        }
    }
    out.retain(|t| *t != "null");
    out
}

/// The `format` of `schema`, looking through `anyOf` branches.
#[must_use]
pub fn format(schema: &Value) -> Option<&str> {
    schema.get("format").and_then(Value::as_str).or_else(|| {
        schema
            .get("anyOf")
            .and_then(Value::as_array)
            .and_then(|branches| branches.iter().find_map(format))
    })
}

/// The top-level `properties` of an object schema.
#[must_use]
pub fn properties(schema: &Value) -> Option<&Map<String, Value>> {
    schema.get("properties").and_then(Value::as_object)
}

macro_rules! impl_schema {
    ($($ty:ty => $schema:tt),* $(,)?) => {$(
        impl Schema for $ty {
            fn json_schema() -> Value {
                json!($schema)
            }
        }
    )*};
}

impl_schema! {
    bool => {"type": "boolean"},
    i8 => {"type": "integer"},
    i16 => {"type": "integer"},
    i32 => {"type": "integer"},
    i64 => {"type": "integer"},
    i128 => {"type": "integer"},
    isize => {"type": "integer"},
    u8 => {"type": "integer", "minimum": 0},
    u16 => {"type": "integer", "minimum": 0},
    u32 => {"type": "integer", "minimum": 0},
    u64 => {"type": "integer", "minimum": 0},
    u128 => {"type": "integer", "minimum": 0},
    usize => {"type": "integer", "minimum": 0},
    f32 => {"type": "number"},
    f64 => {"type": "number"},
    char => {"type": "string", "minLength": 1, "maxLength": 1},
    String => {"type": "string"},
    str => {"type": "string"},
    std::path::PathBuf => {"type": "string"},
    Value => {},
    Map<String, Value> => {"type": "object"},
    chrono::NaiveDate => {"type": "string", "format": "date"},
    chrono::NaiveTime => {"type": "string", "format": "time"},
    chrono::NaiveDateTime => {"type": "string", "format": "date-time"},
}

impl<Tz: chrono::TimeZone> Schema for chrono::DateTime<Tz> {
    fn json_schema() -> Value {
        json!({"type": "string", "format": "date-time"})
    }
}

impl<T: Schema> Schema for Option<T> {
    fn json_schema() -> Value {
        nullable(T::json_schema())
    }
}

impl<T: Schema + ?Sized> Schema for Box<T> {
    fn json_schema() -> Value {
        T::json_schema()
    }
}

impl<T: Schema + ?Sized> Schema for &T {
    fn json_schema() -> Value {
        T::json_schema()
    }
}

impl<T: Schema> Schema for Vec<T> {
    fn json_schema() -> Value {
        json!({"type": "array", "items": T::json_schema()})
    }
}

impl<T: Schema, const N: usize> Schema for [T; N] {
    fn json_schema() -> Value {
        json!({"type": "array", "items": T::json_schema()})
    }
}

impl<T: Schema> Schema for [T] {
    fn json_schema() -> Value {
        json!({"type": "array", "items": T::json_schema()})
    }
}

impl<K, V: Schema, S> Schema for HashMap<K, V, S> {
    fn json_schema() -> Value {
        json!({"type": "object", "additionalProperties": V::json_schema()})
    }
}

impl<K, V: Schema> Schema for BTreeMap<K, V> {
    fn json_schema() -> Value {
        json!({"type": "object", "additionalProperties": V::json_schema()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_handles_each_shape() {
        assert_eq!(
            nullable(json!({"type": "integer"})),
            json!({"type": ["integer", "null"]})
        );
        assert_eq!(
            nullable(json!({"type": ["integer", "string"]})),
            json!({"type": ["integer", "string", "null"]})
        );
        assert_eq!(
            nullable(json!({"type": ["integer", "null"]})),
            json!({"type": ["integer", "null"]})
        );
        assert_eq!(
            nullable(json!({"anyOf": [{"type": "integer"}]})),
            json!({"anyOf": [{"anyOf": [{"type": "integer"}]}, {"type": "null"}]})
        );
        assert_eq!(nullable(json!({})), json!({}));
        assert_eq!(
            nullable(json!({"type": "string", "enum": ["a"]})),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
    }

    #[test]
    fn types_and_format_look_through_any_of() {
        let schema =
            json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]});
        assert_eq!(types(&schema), vec!["string"]);
        assert_eq!(format(&schema), Some("date-time"));
        assert!(is_nullable(&schema));
        assert!(!is_nullable(&json!({"type": "string"})));
    }

    #[test]
    fn std_types() {
        assert_eq!(
            <Vec<Option<bool>>>::json_schema(),
            json!({"type": "array", "items": {"type": ["boolean", "null"]}})
        );
        assert_eq!(
            <chrono::DateTime<chrono::Utc>>::json_schema(),
            json!({"type": "string", "format": "date-time"})
        );
    }
}
