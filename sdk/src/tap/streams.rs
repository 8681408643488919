//! [`Streams`]: the registry of a tap's streams, each with its own record type (erased behind
//! one object-safe trait), their checks, and the catalog discovery prints.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::catalog::{self, Catalog, CatalogEntry, ReplicationMethod};
use crate::error::{Error, Result};
use crate::stream::Stream;

use super::run::{Job, sync_stream};

/// The streams of a tap, each with its own record type.
#[derive(Default)]
pub struct Streams {
    pub(super) inner: Vec<Arc<dyn AnyStream>>,
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
    fn sync<'a>(self: Arc<Self>, job: Job<'a>) -> BoxFuture<'a, Result<()>>;
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

    fn sync<'a>(self: Arc<Self>, job: Job<'a>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let name = Stream::name(&*self).to_owned();
            sync_stream(&*self, job)
                .await
                .map_err(|source| match source {
                    e
                    @ (Error::UnsortedStream { .. } | Error::Stream { .. } | Error::Io { .. }) => e,
                    other => Error::Stream {
                        stream: name,
                        source: Box::new(other),
                    },
                })
        })
    }
}
