//! Planning a sync: which streams are selected, with the catalog applied (key properties,
//! replication key and method, deselected fields pruned from the schema), and the SCHEMA
//! messages the stream maps make of each.

use std::sync::Arc;

use serde_json::Value;

use crate::catalog::{CatalogEntry, ReplicationMethod};
use crate::error::{Error, Result};
use crate::mapper::Mapper;
use crate::message::SchemaMessage;
use crate::state::KeyKind;

use super::SyncOptions;
use super::streams::{AnyStream, Streams};

/// One selected stream, with the catalog applied.
pub(super) struct Plan {
    pub(super) stream: Arc<dyn AnyStream>,
    /// The SCHEMA messages to write: the stream's own, or what the stream maps made of it.
    pub(super) schemas: Vec<SchemaMessage>,
    pub(super) replication_key: Option<String>,
    pub(super) key_kind: KeyKind,
    /// Property paths to drop from records (deselected in the catalog), e.g. `["a", "b"]`.
    pub(super) deselected: Vec<Vec<String>>,
}

/// The plans of the selected streams, in the tap's order.
///
/// # Errors
/// A catalog naming a stream the tap does not have, a replication key outside the schema,
/// or a stream map that does not apply.
pub(super) fn plan(
    streams: &Streams,
    options: &SyncOptions,
    mut mapper: Option<&mut Mapper>,
) -> Result<Vec<Plan>> {
    if let Some(catalog) = &options.catalog {
        for entry in &catalog.streams {
            if !streams
                .inner
                .iter()
                .any(|s| s.name() == entry.tap_stream_id)
            {
                return Err(Error::Catalog(format!(
                    "stream `{}` is not a stream of this tap (its streams: {}); run --discover for a fresh catalog",
                    entry.tap_stream_id,
                    streams.names().join(", ")
                )));
            }
        }
    }
    let mut plans = Vec::new();
    for stream in &streams.inner {
        let entry = options
            .catalog
            .as_ref()
            .and_then(|c| c.stream(stream.name()));
        let selected = options.select_all
            || match (&options.catalog, entry) {
                (None, _) => stream.selected_by_default(),
                (Some(_), None) => false,
                (Some(_), Some(entry)) => entry.is_selected(),
            };
        if !selected {
            tracing::debug!(stream = stream.name(), "Stream not selected; skipping.");
            continue;
        }
        let mut schema = stream.schema();
        let mut key_properties = stream.key_properties().to_vec();
        let mut replication_key = stream.replication_key().map(str::to_owned);
        let mut deselected = Vec::new();
        if let Some(entry) = entry {
            if let Some(keys) = entry.key_properties() {
                key_properties = keys;
            }
            match entry.replication_method() {
                Some(ReplicationMethod::FullTable) => replication_key = None,
                _ => {
                    if let Some(key) = entry.replication_key() {
                        replication_key = Some(key.to_owned());
                    }
                }
            }
            if !options.select_all {
                let mut keep: Vec<&str> = key_properties.iter().map(String::as_str).collect();
                keep.extend(replication_key.as_deref());
                prune_schema(&mut schema, entry, &keep, &mut Vec::new(), &mut deselected);
            }
        }
        let properties = crate::schema::properties(&schema);
        let key_kind = match &replication_key {
            None => KeyKind::Text,
            Some(key) => match properties.and_then(|p| p.get(key)) {
                Some(property) => KeyKind::from_schema(property),
                None => {
                    return Err(Error::StreamDefinition {
                        stream: stream.name().to_owned(),
                        message: format!(
                            "replication key `{key}` is not in the schema; choose a property of the stream as replication key"
                        ),
                    });
                }
            },
        };
        let message = SchemaMessage {
            stream: stream.name().to_owned(),
            schema: schema.clone(),
            key_properties: key_properties.clone(),
            bookmark_properties: replication_key.clone().map(|k| vec![k]),
        };
        let schemas = match mapper.as_deref_mut() {
            Some(mapper) => mapper.map_schema(message)?,
            None => vec![message],
        };
        plans.push(Plan {
            stream: Arc::clone(stream),
            schemas,
            replication_key,
            key_kind,
            deselected,
        });
    }
    Ok(plans)
}

/// Drops deselected properties from a schema (recursively through nested objects), with
/// their `required` entries, and lists their paths. Top-level names in `keep` (keys and the
/// replication key) are never dropped.
fn prune_schema(
    schema: &mut Value,
    entry: &CatalogEntry,
    keep: &[&str],
    path: &mut Vec<String>,
    dropped: &mut Vec<Vec<String>>,
) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    let mut gone = Vec::new();
    properties.retain(|name, property| {
        path.push(name.clone());
        let crumbs: Vec<&str> = path.iter().map(String::as_str).collect();
        let selected =
            entry.is_field_selected(&crumbs) || (path.len() == 1 && keep.contains(&name.as_str()));
        if selected {
            prune_schema(property, entry, keep, path, dropped);
        } else {
            dropped.push(path.clone());
            gone.push(name.clone());
        }
        path.pop();
        selected
    });
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|r| r.as_str().is_none_or(|r| !gone.iter().any(|g| g == r)));
    }
}
