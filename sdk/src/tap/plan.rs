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

/// One stream to run, with the catalog applied, and the children it runs.
pub(super) struct Plan {
    pub(super) stream: Arc<dyn AnyStream>,
    /// The SCHEMA messages to write: the stream's own, or what the stream maps made of it.
    pub(super) schemas: Vec<SchemaMessage>,
    pub(super) replication_key: Option<String>,
    pub(super) key_kind: KeyKind,
    /// Property paths to drop from records (deselected in the catalog), e.g. `["a", "b"]`.
    pub(super) deselected: Vec<Vec<String>>,
    /// Whether the stream is selected: a parent that runs only for its selected children
    /// writes no SCHEMA and no RECORD, only its state.
    pub(super) emit: bool,
    /// The top-level properties of the schema written.
    pub(super) fields: Vec<String>,
    /// The child streams to sync for each record.
    pub(super) children: Vec<Arc<Plan>>,
}

/// The plans of the top-level streams to run, in the tap's order, each with its children.
///
/// # Errors
/// A catalog naming a stream the tap does not have, a replication key outside the schema,
/// a parent that does not exist, or a stream map that does not apply.
pub(super) fn plan(
    streams: &Streams,
    options: &SyncOptions,
    mut mapper: Option<&mut Mapper>,
) -> Result<Vec<Arc<Plan>>> {
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
    streams.check_parents()?;
    let planner = Planner { streams, options };
    let mut plans = Vec::new();
    for stream in streams.inner.iter().filter(|s| s.parent().is_none()) {
        if let Some(plan) = planner.build(stream, mapper.as_deref_mut())? {
            plans.push(Arc::new(plan));
        }
    }
    Ok(plans)
}

struct Planner<'a> {
    streams: &'a Streams,
    options: &'a SyncOptions,
}

impl Planner<'_> {
    fn entry(&self, stream: &dyn AnyStream) -> Option<&CatalogEntry> {
        self.options
            .catalog
            .as_ref()
            .and_then(|c| c.stream(stream.name()))
    }

    fn children<'s>(
        &'s self,
        stream: &'s dyn AnyStream,
    ) -> impl Iterator<Item = &'s Arc<dyn AnyStream>> {
        self.streams
            .inner
            .iter()
            .filter(move |s| s.parent() == Some(stream.name()))
    }

    fn selected(&self, stream: &dyn AnyStream) -> bool {
        self.options.select_all
            || match (&self.options.catalog, self.entry(stream)) {
                (None, _) => stream.selected_by_default(),
                (Some(_), None) => false,
                (Some(_), Some(entry)) => entry.is_selected(),
            }
    }

    /// Whether the stream or one of its descendants is selected.
    fn needed(&self, stream: &dyn AnyStream) -> bool {
        self.selected(stream) || self.children(stream).any(|c| self.needed(&**c))
    }

    fn build(
        &self,
        stream: &Arc<dyn AnyStream>,
        mut mapper: Option<&mut Mapper>,
    ) -> Result<Option<Plan>> {
        if !self.needed(&**stream) {
            tracing::debug!(stream = stream.name(), "Stream not selected; skipping.");
            return Ok(None);
        }
        let emit = self.selected(&**stream);
        let entry = self.entry(&**stream);
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
            if !self.options.select_all && emit {
                let mut keep: Vec<&str> = key_properties.iter().map(String::as_str).collect();
                keep.extend(replication_key.as_deref());
                prune_schema(&mut schema, entry, &keep, &mut Vec::new(), &mut deselected);
            }
        }
        let mut children = Vec::new();
        for child in self.children(&**stream) {
            if let Some(plan) = self.build(child, mapper.as_deref_mut())? {
                if plan.emit && child.ignore_parent_replication_key() && replication_key.is_some() {
                    tracing::warn!(
                        stream = stream.name(),
                        child = child.name(),
                        "The child ignores its parent's replication key: syncing the parent as full-table."
                    );
                    replication_key = None;
                }
                children.push(Arc::new(plan));
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
        let fields = properties
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let schemas = if emit {
            let message = SchemaMessage {
                stream: stream.name().to_owned(),
                schema,
                key_properties,
                bookmark_properties: replication_key.clone().map(|k| vec![k]),
            };
            match mapper {
                Some(mapper) => mapper.map_schema(message)?,
                None => vec![message],
            }
        } else {
            Vec::new()
        };
        Ok(Some(Plan {
            stream: Arc::clone(stream),
            schemas,
            replication_key,
            key_kind,
            deselected,
            emit,
            fields,
            children,
        }))
    }
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
