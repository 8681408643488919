//! The [`Sink`] trait: where one stream's records go.
//!
//! The target runtime buffers validated records per stream and hands them to the stream's
//! sink in [`Batch`]es. A sink writes a batch durably and returns; only then does the runtime
//! acknowledge the STATE that followed those records. Sinks run on their own threads, so a
//! slow write never stops the reader, and different streams drain in parallel.
//!
//! ```
//! use singer_sdk::sink::{Batch, Sink};
//!
//! /// Counts records, for tests.
//! struct Counter(usize);
//!
//! impl Sink for Counter {
//!     fn write_batch(&mut self, batch: Batch) -> singer_sdk::Result<()> {
//!         self.0 += batch.records.len();
//!         Ok(())
//!     }
//! }
//! # let _ = Counter(0);
//! ```
//!
//! Sinks that write files build on [`file`](mod@file): durable appends, repair of a tail torn by a
//! crash, file naming templates and atomic rewrites.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::Result;

pub mod file;
pub(crate) mod json;

pub use json::JsonRecords;

/// A stream as the target sees it: its name, its schema (with `_sdc_*` metadata columns when
/// `add_record_metadata` is on) and its keys.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSchema {
    /// The stream name.
    pub name: String,
    /// The JSON Schema of its records.
    pub schema: Value,
    /// The primary key.
    pub key_properties: Vec<String>,
    /// Bookmark properties, if the tap sent any.
    pub bookmark_properties: Vec<String>,
}

impl StreamSchema {
    /// The top-level properties of the schema.
    #[must_use]
    pub fn properties(&self) -> Option<&Map<String, Value>> {
        crate::schema::properties(&self.schema)
    }
}

/// Records of one stream, validated and ready to write.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The stream they belong to.
    pub stream: Arc<StreamSchema>,
    /// The records, in arrival order (empty for a target that takes them as JSON text).
    pub records: Vec<Map<String, Value>>,
    /// The records as JSON lines, in arrival order, for a target that sets
    /// [`Target::JSON_RECORDS`](crate::target::Target::JSON_RECORDS) (else empty).
    pub json: JsonRecords,
    /// When the batch was handed to the sink.
    pub batched_at: DateTime<Utc>,
}

/// Reads a record's fields in the order of a sink's columns: each name is checked first
/// against the record's next field, so a record that holds its fields in that order (as
/// taps emit them, in schema order) is read without a hash lookup per field; any other
/// field is looked up by name.
///
/// ```
/// use singer_sdk::sink::Fields;
///
/// let record = serde_json::json!({"id": 1, "name": "a"});
/// let mut fields = Fields::new(record.as_object().unwrap());
/// assert_eq!(fields.get("id"), Some(&1.into()));
/// assert_eq!(fields.get("missing"), None);
/// assert_eq!(fields.get("name"), Some(&"a".into()));
/// ```
#[derive(Debug)]
pub struct Fields<'a> {
    record: &'a Map<String, Value>,
    next: std::iter::Peekable<serde_json::map::Iter<'a>>,
}

impl<'a> Fields<'a> {
    /// Starts reading `record` from its first field.
    #[must_use]
    pub fn new(record: &'a Map<String, Value>) -> Self {
        Fields {
            record,
            next: record.iter().peekable(),
        }
    }

    /// The value of field `name`, if the record has it.
    pub fn get(&mut self, name: &str) -> Option<&'a Value> {
        match self.next.next_if(|(key, _)| *key == name) {
            Some((_, value)) => Some(value),
            None => self.record.get(name),
        }
    }
}

/// Writes one stream's records somewhere.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Singer sink",
    note = "implement `singer_sdk::sink::Sink` for `{Self}`: `write_batch` is required"
)]
pub trait Sink: Send + 'static {
    /// Writes a batch durably: when this returns `Ok`, the records must survive a crash.
    ///
    /// # Errors
    /// Any failure to write; the runtime stops without acknowledging later state.
    fn write_batch(&mut self, batch: Batch) -> Result<()>;

    /// ACTIVATE_VERSION: the stream should now hold only records of `version` (records of
    /// older versions are deleted or marked deleted). The default logs that the sink ignores it.
    ///
    /// # Errors
    /// Any failure to apply it.
    fn activate_version(&mut self, version: i64) -> Result<()> {
        tracing::warn!(version, "This sink ignores ACTIVATE_VERSION messages.");
        Ok(())
    }

    /// Called once when the stream is done (end of input, or a new schema replaces this
    /// sink), after its last batch: close files, commit, clean up.
    ///
    /// # Errors
    /// Any failure to finish.
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}
