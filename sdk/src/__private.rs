//! Items the macros call. Not public API.

use std::process::ExitCode;

pub use serde_json;
pub use serde_json::{Map, Value, json};

pub use crate::cli::PackageInfo;
pub use crate::schema::nullable;

/// Marker for taps in [`Plugin`].
#[derive(Debug)]
pub struct TapKind;

/// A connector `#[singer_sdk::main]` can run; `K` tells taps, targets and mappers apart.
pub trait Plugin<K> {
    /// Runs the connector's CLI.
    fn run(self, info: PackageInfo) -> ExitCode;
}

impl<T: crate::tap::Tap> Plugin<TapKind> for T {
    fn run(self, info: PackageInfo) -> ExitCode {
        crate::cli::run_tap(&self, info)
    }
}

/// Marker for targets in [`Plugin`].
#[derive(Debug)]
pub struct TargetKind;

impl<T: crate::target::Target> Plugin<TargetKind> for crate::target::Run<T> {
    fn run(self, info: PackageInfo) -> ExitCode {
        crate::cli::run_target::<T>(info)
    }
}

/// Marker for standalone mappers in [`Plugin`].
#[derive(Debug)]
pub struct MapperKind;

impl<T: crate::mapper::InlineMapper> Plugin<MapperKind> for T {
    fn run(self, info: PackageInfo) -> ExitCode {
        crate::cli::run_mapper(&self, info)
    }
}

/// The body of a `#[singer_sdk::main]` function.
pub fn run_main<K, C: Plugin<K>>(make: impl FnOnce() -> C, info: PackageInfo) -> ExitCode {
    make().run(info)
}

/// Merges the `properties` and `required` of a flattened field's schema into `target`.
pub fn flatten_into(target: &mut Map<String, Value>, flattened: Value) {
    let Value::Object(mut flattened) = flattened else {
        return;
    };
    if let Some(Value::Object(properties)) = flattened.remove("properties") {
        let entry = target
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(existing) = entry {
            existing.extend(properties);
        }
    }
    if let Some(Value::Array(required)) = flattened.remove("required") {
        let entry = target
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(existing) = entry {
            existing.extend(required);
        }
    }
}

// Helpers for the code `#[derive(Schema)]` and `#[derive(Settings)]` generate
// (maintained with `singer-sdk-macros`).

pub use serde::de::DeserializeOwned;

/// A new object schema: `"type": "object"`, then `annotations`, then empty `properties`.
pub fn object<const N: usize>(annotations: [(&'static str, Value); N]) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("type".to_owned(), Value::from("object"));
    for (keyword, value) in annotations {
        object.insert(keyword.to_owned(), value);
    }
    object.insert("properties".to_owned(), Value::Object(Map::new()));
    object
}

/// Adds property `name` to an object schema made by [`object`], and to its `required` list
/// when `required`.
pub fn property(object: &mut Map<String, Value>, name: &str, schema: Value, required: bool) {
    let properties = object
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(properties) = properties {
        properties.insert(name.to_owned(), schema);
    }
    if required {
        let list = object
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            if !list.iter().any(|existing| existing == name) {
                list.push(Value::from(name));
            }
        }
    }
}

/// `schema` with `annotations` set on it, replacing keywords it already has. A `true` schema
/// becomes `{}` first; other non-object schemas are returned unchanged.
#[must_use]
pub fn annotate<const N: usize>(schema: Value, annotations: [(&'static str, Value); N]) -> Value {
    let mut schema = match schema {
        Value::Bool(true) => Value::Object(Map::new()),
        other => other,
    };
    if let Value::Object(object) = &mut schema {
        for (keyword, value) in annotations {
            object.insert(keyword.to_owned(), value);
        }
    }
    schema
}

/// `{"type": "string", "enum": names}`.
#[must_use]
pub fn string_enum(names: &[&str]) -> Value {
    json!({"type": "string", "enum": names})
}

/// `{"anyOf": branches}`.
#[must_use]
pub fn any_of(branches: Vec<Value>) -> Value {
    let mut object = Map::new();
    object.insert("anyOf".to_owned(), Value::Array(branches));
    Value::Object(object)
}

/// `schema` without its `required` list: a flattened `Option<_>` may be missing entirely.
#[must_use]
pub fn without_required(mut schema: Value) -> Value {
    if let Value::Object(object) = &mut schema {
        object.remove("required");
    }
    schema
}

// Helpers for the `Record` impl of `#[derive(Schema)]`.

/// The key properties `names`, as owned strings built once into `cell`.
pub fn key_properties(
    cell: &'static std::sync::OnceLock<Vec<String>>,
    names: &[&str],
) -> &'static [String] {
    cell.get_or_init(|| names.iter().map(|name| (*name).to_owned()).collect())
}

/// Compiles only when `T` can be a key property (the error names `T`).
pub const fn assert_key_property<T: crate::record::KeyProperty + ?Sized>() {}
