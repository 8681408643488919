//! The catalog: streams, their schemas and metadata, and the selection rules.
//!
//! A catalog is what `--discover` prints and what `--catalog` reads back, usually after the
//! user (or Meltano) marked streams and fields `selected`. Unknown keys are kept so a catalog
//! round-trips unchanged.
//!
//! ```
//! use singer_sdk::catalog::Catalog;
//!
//! let catalog: Catalog = serde_json::from_str(r#"{"streams": [{
//!     "tap_stream_id": "users", "schema": {"properties": {"id": {}, "email": {}}},
//!     "metadata": [
//!         {"breadcrumb": [], "metadata": {"selected": true}},
//!         {"breadcrumb": ["properties", "email"], "metadata": {"selected": false}}
//!     ]}]}"#).unwrap();
//! let users = catalog.stream("users").unwrap();
//! assert!(users.is_selected());
//! assert!(!users.is_field_selected(&["email"]));
//! assert!(users.is_field_selected(&["id"]));
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Metadata keys, as Singer spells them.
pub mod keys {
    /// Whether a node is chosen for replication.
    pub const SELECTED: &str = "selected";
    /// Whether a node is selected when the user said nothing.
    pub const SELECTED_BY_DEFAULT: &str = "selected-by-default";
    /// `available`, `automatic` or `unsupported`.
    pub const INCLUSION: &str = "inclusion";
    /// `FULL_TABLE`, `INCREMENTAL` or `LOG_BASED`.
    pub const REPLICATION_METHOD: &str = "replication-method";
    /// The property used as bookmark.
    pub const REPLICATION_KEY: &str = "replication-key";
    /// A method the tap forces.
    pub const FORCED_REPLICATION_METHOD: &str = "forced-replication-method";
    /// Candidate replication keys.
    pub const VALID_REPLICATION_KEYS: &str = "valid-replication-keys";
    /// The primary key.
    pub const TABLE_KEY_PROPERTIES: &str = "table-key-properties";
}

/// A whole catalog: `{"streams": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// The streams.
    pub streams: Vec<CatalogEntry>,
    /// Other top-level keys, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One stream of a catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// Unique id of the stream.
    pub tap_stream_id: String,
    /// The stream's JSON Schema.
    pub schema: Value,
    /// Metadata entries, by breadcrumb.
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
    /// The stream name used in messages (defaults to `tap_stream_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// Other keys (`selected`, `table_name`, `stream_alias`, ...), kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"breadcrumb": [...], "metadata": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetadataEntry {
    /// Path into the schema: `[]` for the stream, `["properties", "a"]` for field `a`.
    pub breadcrumb: Vec<String>,
    /// The metadata of that node.
    pub metadata: Map<String, Value>,
}

/// Whether a field is emitted: the `inclusion` metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inclusion {
    /// Emitted when selected.
    Available,
    /// Always emitted (keys, replication keys).
    Automatic,
    /// Never emitted.
    Unsupported,
}

impl Inclusion {
    /// The metadata spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Inclusion::Available => "available",
            Inclusion::Automatic => "automatic",
            Inclusion::Unsupported => "unsupported",
        }
    }
}

/// How a stream is replicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicationMethod {
    /// Everything, every run.
    FullTable,
    /// Only records at or after the bookmark.
    Incremental,
    /// From a change log.
    LogBased,
}

impl ReplicationMethod {
    /// The metadata spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicationMethod::FullTable => "FULL_TABLE",
            ReplicationMethod::Incremental => "INCREMENTAL",
            ReplicationMethod::LogBased => "LOG_BASED",
        }
    }

    /// Parses the metadata spelling (case-insensitive).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "FULL_TABLE" => Some(ReplicationMethod::FullTable),
            "INCREMENTAL" => Some(ReplicationMethod::Incremental),
            "LOG_BASED" => Some(ReplicationMethod::LogBased),
            _ => None,
        }
    }
}

impl Catalog {
    /// The entry with this `tap_stream_id`.
    #[must_use]
    pub fn stream(&self, tap_stream_id: &str) -> Option<&CatalogEntry> {
        self.streams
            .iter()
            .find(|s| s.tap_stream_id == tap_stream_id)
    }
}

impl CatalogEntry {
    /// The stream name used in messages.
    #[must_use]
    pub fn stream_name(&self) -> &str {
        self.stream.as_deref().unwrap_or(&self.tap_stream_id)
    }

    /// The metadata at `breadcrumb`, if any.
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

    /// The stream-level (`[]`) metadata value for `key`.
    #[must_use]
    pub fn stream_metadata(&self, key: &str) -> Option<&Value> {
        self.metadata_at(&[]).and_then(|m| m.get(key))
    }

    /// Whether the stream is selected.
    ///
    /// Rules as in the Python singer-sdk: no metadata at all means selected; otherwise the
    /// stream's explicit `selected`, else `selected-by-default`, else the legacy stream-level
    /// `selected` key, else not selected. `unsupported` streams are never selected.
    #[must_use]
    pub fn is_selected(&self) -> bool {
        if self.metadata.is_empty() {
            return self.extra.get(keys::SELECTED).is_none_or(truthy);
        }
        let root = self.metadata_at(&[]);
        match node_selection(root) {
            Some(selected) => selected,
            None => self.extra.get(keys::SELECTED).is_some_and(truthy),
        }
    }

    /// Whether the (possibly nested) field at `path` is selected.
    ///
    /// `path` holds property names, e.g. `["address", "city"]`. A deselected parent deselects
    /// its children; `automatic` fields are always selected and `unsupported` never; a field
    /// without metadata inherits its parent's selection.
    #[must_use]
    pub fn is_field_selected(&self, path: &[&str]) -> bool {
        if self.metadata.is_empty() {
            return true;
        }
        let mut selected = self.is_selected();
        let mut breadcrumb: Vec<&str> = Vec::with_capacity(path.len() * 2);
        for name in path {
            breadcrumb.push("properties");
            breadcrumb.push(name);
            if !selected {
                return false;
            }
            if let Some(found) = node_selection(self.metadata_at(&breadcrumb)) {
                selected = found;
            }
        }
        selected
    }

    /// Replication method set in the catalog (metadata first, then the legacy key).
    #[must_use]
    pub fn replication_method(&self) -> Option<ReplicationMethod> {
        self.stream_metadata(keys::REPLICATION_METHOD)
            .and_then(Value::as_str)
            .or(self.replication_method.as_deref())
            .and_then(ReplicationMethod::parse)
    }

    /// Replication key set in the catalog (metadata first, then the legacy key).
    #[must_use]
    pub fn replication_key(&self) -> Option<&str> {
        match self.stream_metadata(keys::REPLICATION_KEY) {
            Some(Value::String(key)) if !key.is_empty() => Some(key),
            Some(Value::Null | Value::String(_)) => None,
            _ => self.replication_key.as_deref().filter(|k| !k.is_empty()),
        }
    }

    /// Key properties set in the catalog (metadata first, then the legacy key).
    #[must_use]
    pub fn key_properties(&self) -> Option<Vec<String>> {
        if let Some(Value::Array(keys)) = self.stream_metadata(keys::TABLE_KEY_PROPERTIES) {
            return Some(
                keys.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            );
        }
        self.key_properties.clone()
    }
}

/// The selection a single metadata node expresses, if any.
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

/// `true`, `"true"` (any case) and non-zero numbers are true: catalogs in the wild use all three.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// Builds the metadata a tap discovers for one stream: stream-level entry plus one entry per
/// property (recursively through nested objects), keys and the replication key `automatic`.
#[must_use]
pub fn discover_metadata(
    schema: &Value,
    key_properties: &[String],
    replication_key: Option<&str>,
    forced_method: Option<ReplicationMethod>,
    selected_by_default: bool,
) -> Vec<MetadataEntry> {
    let mut entries = Vec::new();
    if let Some(properties) = crate::schema::properties(schema) {
        for (name, property) in properties {
            let automatic =
                key_properties.iter().any(|k| k == name) || replication_key == Some(name.as_str());
            let inclusion = if automatic {
                Inclusion::Automatic
            } else {
                Inclusion::Available
            };
            push_property(
                &mut entries,
                &["properties".to_owned(), name.clone()],
                property,
                inclusion,
            );
        }
    }
    let mut root = Map::new();
    root.insert(keys::INCLUSION.to_owned(), Value::from("available"));
    if selected_by_default {
        root.insert(keys::SELECTED.to_owned(), Value::Bool(true));
    }
    root.insert(
        keys::SELECTED_BY_DEFAULT.to_owned(),
        Value::Bool(selected_by_default),
    );
    root.insert(
        keys::TABLE_KEY_PROPERTIES.to_owned(),
        Value::from(key_properties.to_vec()),
    );
    if let Some(key) = replication_key {
        root.insert(keys::REPLICATION_KEY.to_owned(), Value::from(key));
        root.insert(
            keys::VALID_REPLICATION_KEYS.to_owned(),
            Value::from(vec![key]),
        );
    }
    if let Some(method) = forced_method {
        root.insert(
            keys::FORCED_REPLICATION_METHOD.to_owned(),
            Value::from(method.as_str()),
        );
    }
    entries.push(MetadataEntry {
        breadcrumb: Vec::new(),
        metadata: root,
    });
    entries
}

fn push_property(
    entries: &mut Vec<MetadataEntry>,
    breadcrumb: &[String],
    schema: &Value,
    inclusion: Inclusion,
) {
    let mut metadata = Map::new();
    metadata.insert(keys::INCLUSION.to_owned(), Value::from(inclusion.as_str()));
    entries.push(MetadataEntry {
        breadcrumb: breadcrumb.to_vec(),
        metadata,
    });
    if let Some(properties) = crate::schema::properties(schema) {
        for (name, property) in properties {
            let mut child = breadcrumb.to_vec();
            child.push("properties".to_owned());
            child.push(name.clone());
            push_property(entries, &child, property, Inclusion::Available);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(metadata: &Value) -> CatalogEntry {
        serde_json::from_value(json!({
            "tap_stream_id": "s",
            "schema": {"properties": {"a": {"properties": {"b": {}}}, "k": {}}},
            "metadata": metadata,
        }))
        .unwrap()
    }

    #[test]
    fn selection_follows_singer_sdk_rules() {
        let e = entry(&json!([
            {"breadcrumb": [], "metadata": {"selected": true}},
            {"breadcrumb": ["properties", "a"], "metadata": {"selected": false}},
            {"breadcrumb": ["properties", "a", "properties", "b"], "metadata": {"selected": true}},
            {"breadcrumb": ["properties", "k"], "metadata": {"inclusion": "automatic", "selected": false}},
        ]));
        assert!(e.is_selected());
        assert!(!e.is_field_selected(&["a"]));
        assert!(!e.is_field_selected(&["a", "b"]), "deselected parent wins");
        assert!(e.is_field_selected(&["k"]), "automatic wins");
        assert!(e.is_field_selected(&["unknown"]), "inherits from stream");
    }

    #[test]
    fn string_booleans_and_legacy_keys() {
        let e = entry(&json!([{"breadcrumb": [], "metadata": {"selected": "true"}}]));
        assert!(e.is_selected());
        let e = entry(&json!([{"breadcrumb": [], "metadata": {"selected-by-default": false}}]));
        assert!(!e.is_selected());
        let e = entry(&json!([{"breadcrumb": [], "metadata": {"inclusion": "available"}}]));
        assert!(!e.is_selected());
        let e = entry(&json!([]));
        assert!(e.is_selected());
    }

    #[test]
    fn round_trips_unknown_keys() {
        let text = r#"{"streams":[{"tap_stream_id":"s","schema":{},"metadata":[],"stream":"s","selected":true,"table_name":"t"}],"version":1}"#;
        let catalog: Catalog = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&catalog).unwrap(), text);
    }

    #[test]
    fn discovered_metadata_marks_keys_automatic() {
        let schema = json!({"properties": {"id": {}, "n": {"properties": {"x": {}}}}});
        let md = discover_metadata(&schema, &["id".into()], None, None, true);
        assert_eq!(md[0].metadata["inclusion"], "automatic");
        assert_eq!(md[2].breadcrumb, vec!["properties", "n", "properties", "x"]);
        assert_eq!(md.last().unwrap().metadata["selected"], true);
    }
}
