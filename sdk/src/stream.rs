//! The [`Stream`] trait: one kind of record a tap extracts.
//!
//! A stream names itself, describes its records with a JSON Schema, and produces them as an
//! async [`RecordStream`] given a [`SyncContext`] (the partition being synced and where to
//! start). Everything else (catalog selection, incremental filtering, bookmarks, STATE
//! messages, metrics) is the runtime's job.
//!
//! ```
//! use serde::Serialize;
//! use singer_sdk::stream::{RecordStream, Stream, SyncContext, records_from_iter};
//! use singer_sdk::Schema;
//!
//! #[derive(Serialize, Schema)]
//! struct Planet { id: i64, name: String }
//!
//! struct Planets;
//!
//! impl Stream for Planets {
//!     type Record = Planet;
//!     fn name(&self) -> &str { "planets" }
//!     fn records<'a>(&'a self, _cx: &'a SyncContext) -> RecordStream<'a, Planet> {
//!         records_from_iter(["Mercury", "Venus"].into_iter().enumerate()
//!             .map(|(i, name)| Ok(Planet { id: i as i64, name: name.into() })))
//!     }
//! }
//!
//! let streams = singer_sdk::tap::Streams::new().with(Planets);
//! assert_eq!(streams.names(), ["planets"]);
//! ```

use std::pin::Pin;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::record::Record;
use crate::schema::Schema;

/// A partition's context: the values that identify it (e.g. `{"file": "a.csv"}`).
pub type Context = Map<String, Value>;

/// The records of one partition of a stream, produced asynchronously.
pub type RecordStream<'a, R> = Pin<Box<dyn futures::Stream<Item = Result<R>> + Send + 'a>>;

/// Turns an iterator of records into a [`RecordStream`].
///
/// Fine for sources that read synchronously (files, in-memory data); each record is handed
/// over without extra allocation.
pub fn records_from_iter<'a, R, I>(iter: I) -> RecordStream<'a, R>
where
    I: IntoIterator<Item = Result<R>>,
    I::IntoIter: Send + 'a,
{
    Box::pin(futures::stream::iter(iter))
}

/// Which partitions a stream syncs, each with its own bookmark.
#[derive(Debug, Clone, PartialEq)]
pub enum Partitions {
    /// The stream is synced as one whole, with one bookmark.
    Whole,
    /// One sync (and one bookmark) per context; an empty list syncs nothing.
    Each(Vec<Context>),
}

/// One stream of a tap.
///
/// Only [`name`](Stream::name) and [`records`](Stream::records) are required when the record
/// type derives [`Schema`]: the schema, key properties and replication key
/// come from the type (`#[schema(key)]`, `#[schema(replication_key)]`). Streams of
/// `serde_json::Map<String, Value>` records (dynamic schemas: CSV headers, open APIs) override
/// [`schema`](Stream::schema), [`key_properties`](Stream::key_properties) and
/// [`replication_key`](Stream::replication_key).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Singer stream",
    note = "implement `singer_sdk::stream::Stream` for `{Self}`: `name` and `records` are required"
)]
pub trait Stream: Send + Sync + 'static {
    /// The record type: a struct deriving `Serialize` and [`Schema`] (the fast
    /// path), or `serde_json::Map<String, Value>`.
    type Record: Record + Schema + Serialize + Send;

    /// The stream name (also its `tap_stream_id`).
    fn name(&self) -> &str;

    /// The JSON Schema of the records: an object schema with `properties`. Defaults to the
    /// record type's.
    fn schema(&self) -> Value {
        <Self::Record as Schema>::json_schema()
    }

    /// Top-level properties forming the primary key. Defaults to the record type's.
    fn key_properties(&self) -> &[String] {
        <Self::Record as Record>::key_properties()
    }

    /// The property used as bookmark for incremental replication, if any. Defaults to the
    /// record type's.
    fn replication_key(&self) -> Option<&str> {
        <Self::Record as Record>::replication_key()
    }

    /// Whether records come in ascending replication key order. A sorted stream's bookmark
    /// is resumable mid-stream; a value going backwards is then an error.
    fn is_sorted(&self) -> bool {
        false
    }

    /// The partitions to sync. The default reuses the partitions found in the input state,
    /// and syncs the stream whole when there are none.
    fn partitions(&self, from_state: Vec<Context>) -> Partitions {
        if from_state.is_empty() {
            Partitions::Whole
        } else {
            Partitions::Each(from_state)
        }
    }

    /// Whether the stream is selected when the catalog says nothing.
    fn selected_by_default(&self) -> bool {
        true
    }

    /// How many records between STATE messages.
    fn state_message_frequency(&self) -> usize {
        10_000
    }

    /// The upper bound for bookmarks of an unsorted stream, captured when its sync starts.
    /// The default is the sync start time for date-time replication keys, none otherwise.
    fn replication_signpost(&self, sync_started_at: DateTime<Utc>) -> Option<Value> {
        let _ = sync_started_at;
        None
    }

    /// The name of this stream's parent, for a child stream (default: none).
    ///
    /// A child never runs on its own: each record of the parent gives it zero or more
    /// contexts ([`child_contexts`](Stream::child_contexts)), and the child syncs one partition
    /// per context, before the parent's record is written (as singer-sdk does). A child that is
    /// selected makes its parent run even when the parent is not selected; the parent then
    /// emits nothing but its state.
    fn parent(&self) -> Option<&str> {
        None
    }

    /// For a parent stream: the contexts of the child partitions a record opens. The default
    /// is the parent's own partition context when it has one, else the record itself (as
    /// singer-sdk does). Return no context to skip the children of a record.
    ///
    /// # Errors
    /// Whatever building a context needs and cannot get.
    fn child_contexts(
        &self,
        record: &Self::Record,
        partition: Option<&Context>,
    ) -> Result<Vec<Context>> {
        if let Some(partition) = partition {
            return Ok(vec![partition.clone()]);
        }
        match serde_json::to_value(record)? {
            Value::Object(map) => Ok(vec![map]),
            _ => Ok(Vec::new()),
        }
    }

    /// Which keys of a partition's context identify its bookmark in state (default: all).
    /// `Some(&[])` keeps one bookmark for the whole stream, however many partitions it has.
    /// Keys of this state context are added to records that lack them, when the schema has
    /// them.
    fn state_partitioning_keys(&self) -> Option<&[String]> {
        None
    }

    /// For a child stream: sync the parent as full-table even when it is incremental, since
    /// the parent's bookmark would skip records whose children changed (default `false`).
    fn ignore_parent_replication_key(&self) -> bool {
        false
    }

    /// Whether this stream's records go to BATCH files when the config has `batch_config`
    /// (default `true`); `false` keeps RECORD lines for it.
    fn batches(&self) -> bool {
        true
    }

    /// Produces the records of one partition.
    ///
    /// Use [`SyncContext::starting_value`] to ask the source only for new records; the
    /// runtime drops records older than the bookmark either way.
    fn records<'a>(&'a self, cx: &'a SyncContext) -> RecordStream<'a, Self::Record>;
}

/// What a stream needs to know to produce one partition's records.
#[derive(Debug, Clone, Default)]
pub struct SyncContext {
    pub(crate) partition: Option<Context>,
    pub(crate) starting_value: Option<Value>,
    pub(crate) record_limit: Option<u64>,
    pub(crate) replication_key: Option<String>,
}

impl SyncContext {
    /// A context for tests and tools: the given partition and starting value.
    #[must_use]
    pub fn new(partition: Option<Context>, starting_value: Option<Value>) -> Self {
        SyncContext {
            partition,
            starting_value,
            record_limit: None,
            replication_key: None,
        }
    }

    /// The same context syncing incrementally by `key`.
    #[must_use]
    pub fn with_replication_key(mut self, key: impl Into<String>) -> Self {
        self.replication_key = Some(key.into());
        self
    }

    /// The replication key in effect: the stream's own
    /// ([`Stream::replication_key`]), or the one the catalog selects (`replication-key`
    /// metadata), `None` for a full-table sync (also when the catalog asks for
    /// `FULL_TABLE`). A source that filters or orders by the key must use this one, and
    /// [`starting_value`](Self::starting_value) is a value of it.
    #[must_use]
    pub fn replication_key(&self) -> Option<&str> {
        self.replication_key.as_deref()
    }

    /// The partition being synced, if the stream has partitions.
    #[must_use]
    pub fn partition(&self) -> Option<&Context> {
        self.partition.as_ref()
    }

    /// Where this sync starts: the bookmark from state, or `start_date` from the config,
    /// whichever is later; `None` for a first full sync.
    #[must_use]
    pub fn starting_value(&self) -> Option<&Value> {
        self.starting_value.as_ref()
    }

    /// The starting value as a timestamp, when it is one.
    #[must_use]
    pub fn starting_timestamp(&self) -> Option<DateTime<FixedOffset>> {
        self.starting_value
            .as_ref()
            .and_then(Value::as_str)
            .and_then(crate::time::parse_datetime)
    }

    /// The most records the runtime will take (set by `--test`); sources may stop early.
    #[must_use]
    pub fn record_limit(&self) -> Option<u64> {
        self.record_limit
    }
}
