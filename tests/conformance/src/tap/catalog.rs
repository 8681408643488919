//! Preparing catalogs the way an orchestrator does: select everything, enable incremental
//! replication where the tap offers it, deselect a stream or a field.

use crate::catalog::{Catalog, Entry as CatalogEntry, MetadataEntry, keys};
use serde_json::{Map, Value};

/// Selects every stream and every field that is not `unsupported` (Meltano's default
/// `select: ["*.*"]`), and turns on INCREMENTAL replication by the first valid replication key
/// of streams that offer one and have no method set.
pub(crate) fn select_all(mut catalog: Catalog) -> Catalog {
    for entry in &mut catalog.streams {
        entry
            .extra
            .insert(keys::SELECTED.to_owned(), Value::Bool(true));
        for field in property_names(entry) {
            let node = metadata_mut(entry, &["properties", &field]);
            if node.get(keys::INCLUSION).and_then(Value::as_str) != Some("unsupported") {
                node.insert(keys::SELECTED.to_owned(), Value::Bool(true));
            }
        }
        let valid_key = entry
            .stream_metadata(keys::VALID_REPLICATION_KEYS)
            .and_then(Value::as_array)
            .and_then(|k| k.first())
            .and_then(Value::as_str)
            .map(str::to_owned);
        let forced_full = entry
            .stream_metadata(keys::FORCED_REPLICATION_METHOD)
            .and_then(Value::as_str)
            == Some("FULL_TABLE");
        let method_set = entry.replication_method().is_some();
        let root = metadata_mut(entry, &[]);
        root.insert(keys::SELECTED.to_owned(), Value::Bool(true));
        if let (Some(key), false, false) = (valid_key, forced_full, method_set) {
            root.insert(keys::REPLICATION_METHOD.to_owned(), "INCREMENTAL".into());
            root.entry(keys::REPLICATION_KEY).or_insert(key.into());
        }
    }
    catalog
}

/// The top-level property names of a stream's schema.
pub(crate) fn property_names(entry: &CatalogEntry) -> Vec<String> {
    entry
        .schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The metadata map at `breadcrumb`, created if missing.
pub(crate) fn metadata_mut<'a>(
    entry: &'a mut CatalogEntry,
    breadcrumb: &[&str],
) -> &'a mut Map<String, Value> {
    let position = entry.metadata.iter().position(|e| {
        e.breadcrumb
            .iter()
            .map(String::as_str)
            .eq(breadcrumb.iter().copied())
    });
    let index = position.unwrap_or_else(|| {
        entry.metadata.push(MetadataEntry {
            breadcrumb: breadcrumb.iter().map(|s| (*s).to_owned()).collect(),
            metadata: Map::new(),
        });
        entry.metadata.len() - 1
    });
    &mut entry.metadata[index].metadata
}

/// Sets `selected` on a stream (metadata and the legacy stream-level key).
pub(crate) fn set_stream_selected(entry: &mut CatalogEntry, selected: bool) {
    entry
        .extra
        .insert(keys::SELECTED.to_owned(), Value::Bool(selected));
    metadata_mut(entry, &[]).insert(keys::SELECTED.to_owned(), Value::Bool(selected));
}

/// The `inclusion` of a top-level field.
pub(crate) fn inclusion<'a>(entry: &'a CatalogEntry, field: &str) -> Option<&'a str> {
    entry
        .metadata_at(&["properties", field])
        .and_then(|m| m.get(keys::INCLUSION))
        .and_then(Value::as_str)
}

/// Streams replicated incrementally in this catalog: `(stream name, tap_stream_id, key)`.
pub(crate) fn incremental_streams(catalog: &Catalog) -> Vec<(String, String, String)> {
    catalog
        .streams
        .iter()
        .filter(|e| e.is_selected())
        .filter(|e| e.replication_method() == Some("INCREMENTAL"))
        .filter_map(|e| {
            let key = e.replication_key()?.to_owned();
            Some((e.stream_name().to_owned(), e.tap_stream_id.clone(), key))
        })
        .collect()
}
