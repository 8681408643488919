//! [`Streams`]: the registry of a tap's streams, each with its own record type (erased behind
//! one object-safe trait), their checks, and the catalog discovery prints.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::catalog::{self, Catalog, CatalogEntry, ReplicationMethod};
use crate::error::{Error, Result};
use crate::stream::{Context, Partitions, Stream};

use super::partition::sync_partition;
use super::plan::Plan;
use super::run::{Shared, preamble};

/// The streams of a tap, each with its own record type.
#[derive(Default)]
pub struct Streams {
    pub(super) inner: Vec<Arc<dyn AnyStream>>,
    pub(super) max_concurrency: usize,
}

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.inner.iter().map(|s| s.name().to_owned()))
            .finish()
    }
}

impl Streams {
    /// No streams yet.
    #[must_use]
    pub fn new() -> Self {
        Streams::default()
    }

    /// Adds a stream.
    #[must_use]
    pub fn with<S: Stream>(mut self, stream: S) -> Self {
        self.push(stream);
        self
    }

    /// Adds a stream.
    pub fn push<S: Stream>(&mut self, stream: S) {
        self.inner.push(Arc::new(stream));
    }

    /// How many partitions (of any streams, children included) sync at once, and how many
    /// streams (default 1: one after another, in the same order on every run, as singer-sdk
    /// does). Taps usually pass their `max_concurrency` setting here.
    ///
    /// ```
    /// let streams = singer_sdk::tap::Streams::new().max_concurrency(4);
    /// assert_eq!(streams.concurrency(), 4);
    /// ```
    #[must_use]
    pub fn max_concurrency(mut self, limit: usize) -> Self {
        self.max_concurrency = limit.max(1);
        self
    }

    /// The concurrency limit set by [`max_concurrency`](Self::max_concurrency).
    #[must_use]
    pub fn concurrency(&self) -> usize {
        self.max_concurrency.max(1)
    }

    /// The number of streams.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether there are no streams.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The stream names, in order.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        self.inner.iter().map(|s| s.name()).collect()
    }

    /// Checks the stream definitions: unique names, object schemas with `properties`, key
    /// properties and replication keys that exist in the schema. Call it from a test.
    ///
    /// # Errors
    /// [`Error::StreamDefinition`] for the first mistake found.
    pub fn check(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for stream in &self.inner {
            let name = stream.name();
            let fail = |message: String| Error::StreamDefinition {
                stream: name.to_owned(),
                message,
            };
            if !seen.insert(name) {
                return Err(fail(
                    "two streams have this name; stream names must be unique".to_owned(),
                ));
            }
            let schema = stream.schema();
            let Some(properties) = crate::schema::properties(&schema) else {
                return Err(fail("the schema has no `properties` object".to_owned()));
            };
            for key in stream.key_properties() {
                if !properties.contains_key(key) {
                    return Err(fail(format!(
                        "key property `{key}` is not in the schema; add it to `properties` or remove it from the key"
                    )));
                }
            }
            if let Some(key) = stream.replication_key() {
                if !properties.contains_key(key) {
                    return Err(fail(format!(
                        "replication key `{key}` is not in the schema; add it to `properties` or choose another key"
                    )));
                }
            }
        }
        self.check_parents()
    }

    /// Every parent named by a child exists, and no stream descends from itself.
    pub(super) fn check_parents(&self) -> Result<()> {
        for stream in &self.inner {
            let mut seen = vec![stream.name()];
            let mut current = stream.parent();
            while let Some(parent) = current {
                let fail = |message: String| Error::StreamDefinition {
                    stream: stream.name().to_owned(),
                    message,
                };
                if seen.contains(&parent) {
                    return Err(fail(format!(
                        "its parent chain loops through `{parent}`; a stream cannot descend from itself"
                    )));
                }
                let Some(found) = self.inner.iter().find(|s| s.name() == parent) else {
                    return Err(fail(format!(
                        "its parent `{parent}` is not a stream of this tap (its streams: {}); add the parent stream or fix the name",
                        self.names().join(", ")
                    )));
                };
                seen.push(parent);
                current = found.parent();
            }
        }
        Ok(())
    }

    /// The catalog discovery prints: every stream with its schema and standard metadata.
    #[must_use]
    pub fn catalog(&self) -> Catalog {
        let streams = self
            .inner
            .iter()
            .map(|stream| {
                let schema = stream.schema();
                let keys = stream.key_properties().to_vec();
                let replication_key = stream.replication_key().map(str::to_owned);
                let metadata = catalog::discover_metadata(
                    &schema,
                    &keys,
                    replication_key.as_deref(),
                    None,
                    stream.selected_by_default(),
                );
                let method = if replication_key.is_some() {
                    ReplicationMethod::Incremental
                } else {
                    ReplicationMethod::FullTable
                };
                CatalogEntry {
                    tap_stream_id: stream.name().to_owned(),
                    schema,
                    metadata,
                    replication_key,
                    replication_method: Some(method.as_str().to_owned()),
                    key_properties: Some(keys),
                    stream: Some(stream.name().to_owned()),
                    extra: Map::new(),
                }
            })
            .collect();
        Catalog {
            streams,
            extra: Map::new(),
        }
    }
}

/// A stream with its record type erased, so streams of different types live in one list.
pub(super) trait AnyStream: Send + Sync {
    fn name(&self) -> &str;
    fn schema(&self) -> Value;
    fn key_properties(&self) -> &[String];
    fn replication_key(&self) -> Option<&str>;
    fn selected_by_default(&self) -> bool;
    fn parent(&self) -> Option<&str>;
    fn ignore_parent_replication_key(&self) -> bool;
    fn partitions(&self, from_state: Vec<Context>) -> Partitions;
    /// Syncs one partition of a top-level stream.
    fn sync_partition<'a>(
        &'a self,
        plan: &'a Plan,
        shared: &'a Arc<Shared>,
        partition: Option<Context>,
        bytes: &'a mut Vec<u8>,
    ) -> BoxFuture<'a, Result<()>>;
    /// Syncs one partition of a child stream: its SCHEMA lines again, then its records.
    fn sync_child<'a>(
        &'a self,
        plan: &'a Plan,
        shared: &'a Arc<Shared>,
        context: Context,
        bytes: &'a mut Vec<u8>,
    ) -> BoxFuture<'a, Result<()>>;
}

impl<S: Stream> AnyStream for S {
    fn name(&self) -> &str {
        Stream::name(self)
    }

    fn schema(&self) -> Value {
        Stream::schema(self)
    }

    fn key_properties(&self) -> &[String] {
        Stream::key_properties(self)
    }

    fn replication_key(&self) -> Option<&str> {
        Stream::replication_key(self)
    }

    fn selected_by_default(&self) -> bool {
        Stream::selected_by_default(self)
    }

    fn parent(&self) -> Option<&str> {
        Stream::parent(self)
    }

    fn ignore_parent_replication_key(&self) -> bool {
        Stream::ignore_parent_replication_key(self)
    }

    fn partitions(&self, from_state: Vec<Context>) -> Partitions {
        Stream::partitions(self, from_state)
    }

    fn sync_partition<'a>(
        &'a self,
        plan: &'a Plan,
        shared: &'a Arc<Shared>,
        partition: Option<Context>,
        bytes: &'a mut Vec<u8>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sync_partition(self, plan, shared, partition, bytes)
                .await
                .map_err(|e| in_stream(Stream::name(self), e))
        })
    }

    fn sync_child<'a>(
        &'a self,
        plan: &'a Plan,
        shared: &'a Arc<Shared>,
        context: Context,
        bytes: &'a mut Vec<u8>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            preamble(plan, shared, bytes)?;
            sync_partition(self, plan, shared, Some(context), bytes)
                .await
                .map_err(|e| in_stream(Stream::name(self), e))
        })
    }
}

/// Names the stream in an error that does not name one yet.
fn in_stream(name: &str, error: Error) -> Error {
    match error {
        e @ (Error::UnsortedStream { .. } | Error::Stream { .. } | Error::Io { .. }) => e,
        other => Error::Stream {
            stream: name.to_owned(),
            source: Box::new(other),
        },
    }
}
