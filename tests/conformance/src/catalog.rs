//! A Singer catalog, typed just enough to select streams and fields the way singer-sdk does.
//!
//! The harness keeps its own model rather than the SDK's so it builds (and judges connectors)
//! independently of the SDK under test; the selection rules follow singer-sdk's
//! `_breadcrumb_is_selected`, the de-facto reference.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Metadata keys.
pub mod keys {
    /// Selected by the user.
    pub const SELECTED: &str = "selected";
    /// Selected unless the user says otherwise.
    pub const SELECTED_BY_DEFAULT: &str = "selected-by-default";
    /// `available`, `automatic` or `unsupported`.
    pub const INCLUSION: &str = "inclusion";
    /// `FULL_TABLE`, `INCREMENTAL` or `LOG_BASED`.
    pub const REPLICATION_METHOD: &str = "replication-method";
    /// The bookmark field.
    pub const REPLICATION_KEY: &str = "replication-key";
    /// The method the tap imposes.
    pub const FORCED_REPLICATION_METHOD: &str = "forced-replication-method";
    /// Candidate replication keys.
    pub const VALID_REPLICATION_KEYS: &str = "valid-replication-keys";
    /// The primary key.
    pub const TABLE_KEY_PROPERTIES: &str = "table-key-properties";
}

/// A catalog: `{"streams": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// The streams.
    pub streams: Vec<Entry>,
    /// Other top-level keys.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One stream of a catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Unique id.
    pub tap_stream_id: String,
    /// The stream's JSON Schema.
    pub schema: Value,
    /// Metadata entries.
    #[serde(default)]
    pub metadata: Vec<MetadataEntry>,
    /// Legacy stream-level replication key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_key: Option<String>,
    /// Legacy stream-level replication method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_method: Option<String>,
    /// Legacy stream-level key properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_properties: Option<Vec<String>>,
    /// Stream name in messages (defaults to `tap_stream_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// Other keys (`selected`, `table_name`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"breadcrumb": [...], "metadata": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetadataEntry {
    /// Path into the schema.
    pub breadcrumb: Vec<String>,
    /// The node's metadata.
    pub metadata: Map<String, Value>,
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
    /// The stream name used in messages.
    #[must_use]
    pub fn stream_name(&self) -> &str {
        self.stream.as_deref().unwrap_or(&self.tap_stream_id)
    }

    /// The metadata at `breadcrumb`.
    #[must_use]
    pub fn metadata_at(&self, breadcrumb: &[&str]) -> Option<&Map<String, Value>> {
        self.metadata
            .iter()
            .find(|e| {
                e.breadcrumb
                    .iter()
                    .map(String::as_str)
                    .eq(breadcrumb.iter().copied())
            })
            .map(|e| &e.metadata)
    }

    /// A stream-level (`[]`) metadata value.
    #[must_use]
    pub fn stream_metadata(&self, key: &str) -> Option<&Value> {
        self.metadata_at(&[]).and_then(|m| m.get(key))
    }

    /// Whether the stream is selected: no metadata means selected; else `[]` metadata's
    /// inclusion/selected/selected-by-default, else the legacy `selected` key.
    #[must_use]
    pub fn is_selected(&self) -> bool {
        if self.metadata.is_empty() {
            return self.extra.get(keys::SELECTED).is_none_or(truthy);
        }
        node_selection(self.metadata_at(&[]))
            .unwrap_or_else(|| self.extra.get(keys::SELECTED).is_some_and(truthy))
    }

    /// Whether the field at `path` (property names) is selected: a deselected parent deselects
    /// its children, `automatic` always, `unsupported` never, else inherited.
    #[must_use]
    pub fn is_field_selected(&self, path: &[&str]) -> bool {
        if self.metadata.is_empty() {
            return true;
        }
        let mut selected = self.is_selected();
        let mut breadcrumb: Vec<&str> = Vec::new();
        for name in path {
            breadcrumb.extend(["properties", name]);
            if !selected {
                return false;
            }
            if let Some(found) = node_selection(self.metadata_at(&breadcrumb)) {
                selected = found;
            }
        }
        selected
    }

    /// The replication method (metadata, then the legacy key), upper-case.
    #[must_use]
    pub fn replication_method(&self) -> Option<&str> {
        self.stream_metadata(keys::REPLICATION_METHOD)
            .and_then(Value::as_str)
            .or(self.replication_method.as_deref())
    }

    /// The replication key (metadata, then the legacy key).
    #[must_use]
    pub fn replication_key(&self) -> Option<&str> {
        match self.stream_metadata(keys::REPLICATION_KEY) {
            Some(Value::String(key)) if !key.is_empty() => Some(key),
            Some(Value::Null | Value::String(_)) => None,
            _ => self.replication_key.as_deref().filter(|k| !k.is_empty()),
        }
    }

    /// The key properties (metadata, then the legacy key).
    #[must_use]
    pub fn key_properties(&self) -> Option<Vec<String>> {
        match self.stream_metadata(keys::TABLE_KEY_PROPERTIES) {
            Some(Value::Array(keys)) => Some(
                keys.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => self.key_properties.clone(),
        }
    }
}

fn node_selection(metadata: Option<&Map<String, Value>>) -> Option<bool> {
    let metadata = metadata?;
    match metadata.get(keys::INCLUSION).and_then(Value::as_str) {
        Some("unsupported") => return Some(false),
        Some("automatic") => return Some(true),
        _ => {}
    }
    metadata
        .get(keys::SELECTED)
        .or_else(|| metadata.get(keys::SELECTED_BY_DEFAULT))
        .map(truthy)
}

/// `true`, `"true"` and non-zero numbers: catalogs in the wild use all three.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
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
