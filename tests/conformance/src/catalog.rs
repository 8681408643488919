//! A Singer catalog, typed just enough to select streams and fields the way singer-sdk does.
//!
//! The harness keeps its own model rather than the SDK's so it builds (and judges connectors)
//! independently of the SDK under test; the selection rules follow singer-sdk's
//! `_breadcrumb_is_selected`, the de-facto reference. Only what the harness reads is typed: the
//! legacy stream-level keys (`replication_key`, `replication_method`, `key_properties`,
//! `stream`, `selected`) stay in [`Entry::extra`] and are read through [`LEGACY`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The metadata keys the harness reads or writes, as Singer spells them: `selected` (chosen by
/// the user), `selected-by-default` (chosen unless the user says otherwise), `inclusion`
/// (`available`, `automatic` or `unsupported`), `replication-method` (`FULL_TABLE`,
/// `INCREMENTAL` or `LOG_BASED`), `replication-key` (the bookmark field),
/// `forced-replication-method` (the method the tap imposes), `valid-replication-keys`
/// (candidate replication keys) and `table-key-properties` (the primary key).
pub mod keys {
    /// One `pub const` per `NAME = "key"` row.
    macro_rules! keys {
        ($($name:ident = $key:literal),* $(,)?) => {
            $(#[doc = concat!("The metadata key `", $key, "`.")] pub const $name: &str = $key;)*
        };
    }

    keys! {
        SELECTED = "selected",
        SELECTED_BY_DEFAULT = "selected-by-default",
        INCLUSION = "inclusion",
        REPLICATION_METHOD = "replication-method",
        REPLICATION_KEY = "replication-key",
        FORCED_REPLICATION_METHOD = "forced-replication-method",
        VALID_REPLICATION_KEYS = "valid-replication-keys",
        TABLE_KEY_PROPERTIES = "table-key-properties",
    }
}

/// Stream-level settings: the `[]` metadata key, and the legacy entry key read when the
/// metadata does not say.
pub const LEGACY: &[(&str, &str)] = &[
    (keys::SELECTED, "selected"),
    (keys::REPLICATION_METHOD, "replication_method"),
    (keys::REPLICATION_KEY, "replication_key"),
    (keys::TABLE_KEY_PROPERTIES, "key_properties"),
];

/// `{"breadcrumb": [...], "metadata": {...}}`: the metadata of the schema node at `breadcrumb`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetadataEntry {
    /// Path into the schema.
    pub breadcrumb: Vec<String>,
    /// The node's metadata.
    pub metadata: Map<String, Value>,
}

/// A catalog, `{"streams": [...]}`, other top-level keys kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// The streams.
    pub streams: Vec<Entry>,
    /// Other top-level keys.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One stream: its id, JSON Schema and metadata entries; every other key (the legacy ones of
/// [`LEGACY`], `stream`, `table_name`, ...) kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Unique id.
    pub tap_stream_id: String,
    /// The stream's JSON Schema.
    pub schema: Value,
    /// Metadata entries.
    #[serde(default)]
    pub metadata: Vec<MetadataEntry>,
    /// Every other key.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Catalog {
    /// The entry with this `tap_stream_id`.
    #[must_use]
    pub fn stream(&self, tap_stream_id: &str) -> Option<&Entry> {
        self.streams
            .iter()
            .find(|s| s.tap_stream_id == tap_stream_id)
    }
}

impl Entry {
    /// The stream name used in messages (`stream`, else `tap_stream_id`).
    #[must_use]
    pub fn stream_name(&self) -> &str {
        self.extra
            .get("stream")
            .and_then(Value::as_str)
            .unwrap_or(&self.tap_stream_id)
    }

    /// The metadata at `breadcrumb`.
    #[must_use]
    pub fn metadata_at(&self, breadcrumb: &[&str]) -> Option<&Map<String, Value>> {
        let path = |e: &&MetadataEntry| {
            e.breadcrumb
                .iter()
                .map(String::as_str)
                .eq(breadcrumb.iter().copied())
        };
        self.metadata.iter().find(path).map(|e| &e.metadata)
    }

    /// A stream-level (`[]`) metadata value.
    #[must_use]
    pub fn stream_metadata(&self, key: &str) -> Option<&Value> {
        self.metadata_at(&[])?.get(key)
    }

    /// The legacy entry-level value standing in for the metadata `key` (see [`LEGACY`]).
    #[must_use]
    pub fn legacy(&self, key: &str) -> Option<&Value> {
        let (_, name) = LEGACY.iter().find(|(k, _)| *k == key)?;
        self.extra.get(*name)
    }

    /// Whether the stream is selected: no metadata means selected unless the legacy `selected`
    /// says no; else the `[]` metadata decides, else the legacy `selected` must say yes.
    #[must_use]
    pub fn is_selected(&self) -> bool {
        let legacy = self.legacy(keys::SELECTED).map(truthy);
        if self.metadata.is_empty() {
            legacy.unwrap_or(true)
        } else {
            self.metadata_at(&[])
                .and_then(decides)
                .or(legacy)
                .unwrap_or(false)
        }
    }

    /// Whether the field at `path` (property names) is selected: a deselected parent deselects
    /// its children, `automatic` always, `unsupported` never, else inherited.
    #[must_use]
    pub fn is_field_selected(&self, path: &[&str]) -> bool {
        if self.metadata.is_empty() {
            return true;
        }
        let mut breadcrumb = Vec::new();
        let verdict = path.iter().try_fold(self.is_selected(), |selected, name| {
            breadcrumb.extend(["properties", name]);
            let own = self.metadata_at(&breadcrumb).and_then(decides);
            selected.then(|| own.unwrap_or(selected))
        });
        verdict == Some(true)
    }

    /// The replication method (metadata, then the legacy key), upper-case.
    #[must_use]
    pub fn replication_method(&self) -> Option<&str> {
        let metadata = self.stream_metadata(keys::REPLICATION_METHOD);
        let legacy = || {
            self.legacy(keys::REPLICATION_METHOD)
                .and_then(Value::as_str)
        };
        metadata.and_then(Value::as_str).or_else(legacy)
    }

    /// The replication key (metadata, then the legacy key); an empty or `null` metadata key
    /// means none.
    #[must_use]
    pub fn replication_key(&self) -> Option<&str> {
        let value = match self.stream_metadata(keys::REPLICATION_KEY) {
            Some(found @ (Value::String(_) | Value::Null)) => Some(found),
            _ => self.legacy(keys::REPLICATION_KEY),
        };
        value.and_then(Value::as_str).filter(|k| !k.is_empty())
    }

    /// The key properties (metadata if it is a list, then the legacy key).
    #[must_use]
    pub fn key_properties(&self) -> Option<Vec<String>> {
        let names = |v: &Value| -> Option<Vec<String>> {
            let list = v.as_array()?;
            Some(
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            )
        };
        self.stream_metadata(keys::TABLE_KEY_PROPERTIES)
            .and_then(names)
            .or_else(|| self.legacy(keys::TABLE_KEY_PROPERTIES).and_then(names))
    }
}

/// What a node's own metadata decides, if anything: `inclusion` overrules the user
/// (`unsupported` never, `automatic` always), then `selected`, then `selected-by-default`.
fn decides(metadata: &Map<String, Value>) -> Option<bool> {
    match metadata.get(keys::INCLUSION).and_then(Value::as_str) {
        Some("unsupported") => Some(false),
        Some("automatic") => Some(true),
        _ => [keys::SELECTED, keys::SELECTED_BY_DEFAULT]
            .iter()
            .find_map(|k| metadata.get(*k))
            .map(truthy),
    }
}

/// `true`, `"true"` and non-zero numbers: catalogs in the wild use all three.
fn truthy(value: &Value) -> bool {
    value.as_bool().unwrap_or_else(|| match value {
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selection_rules() {
        let entry: Entry = serde_json::from_value(json!({
            "tap_stream_id": "s", "schema": {"properties": {"a": {}, "b": {}, "k": {}}},
            "metadata": [
                {"breadcrumb": [], "metadata": {"selected": true}},
                {"breadcrumb": ["properties", "a"], "metadata": {"selected": false}},
                {"breadcrumb": ["properties", "k"], "metadata": {"inclusion": "automatic", "selected": false}}
            ]
        }))
        .unwrap();
        assert!(entry.is_selected());
        assert!(!entry.is_field_selected(&["a"]));
        assert!(entry.is_field_selected(&["b"]));
        assert!(entry.is_field_selected(&["k"]));
    }
}
