//! Turning records into RECORD lines: straight from the typed record into the output
//! buffer, or through the catalog's field deselection and the stream maps.

use std::collections::HashMap;

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use crate::batch::{BatchConfig, BatchWriter};
use crate::error::{Error, Result};
use crate::mapper::Mapper;
use crate::message::{Message, RecordEncoder, RecordMessage, SchemaMessage};

/// Turns a stream's records into RECORD lines: straight from the typed record, or through
/// the stream maps (which may rename, split, filter or flatten them).
pub(super) struct Output<'a> {
    stream: &'a str,
    version: Option<i64>,
    direct: RecordEncoder,
    mapper: Option<&'a Mapper>,
    mapped: HashMap<String, RecordEncoder>,
    batches: Option<Batches<'a>>,
}

/// BATCH files instead of RECORD lines: one writer per output stream, and the records
/// serialised since the last [`Output::write_batches`].
struct Batches<'a> {
    config: &'a BatchConfig,
    schemas: &'a [SchemaMessage],
    writers: HashMap<String, BatchWriter>,
    pending: Vec<(String, Vec<u8>)>,
}

impl<'a> Output<'a> {
    pub(super) fn new(stream: &'a str, version: Option<i64>, mapper: Option<&'a Mapper>) -> Self {
        Output {
            stream,
            version,
            direct: RecordEncoder::new(stream, version),
            mapper,
            mapped: HashMap::new(),
            batches: None,
        }
    }

    /// Writes records to BATCH files (`batch_config`) instead of RECORD lines; `schemas` are
    /// the SCHEMA messages of the output streams (parquet columns follow them).
    pub(super) fn with_batches(
        mut self,
        config: &'a BatchConfig,
        schemas: &'a [SchemaMessage],
    ) -> Self {
        self.batches = Some(Batches {
            config,
            schemas,
            writers: HashMap::new(),
            pending: Vec::new(),
        });
        self
    }

    /// Whether records go to BATCH files.
    pub(super) fn batching(&self) -> bool {
        self.batches.is_some()
    }

    /// Appends the line(s) of one record, dropping deselected properties first and adding
    /// the `inject`ed values (a child's partition context) where the record lacks them.
    pub(super) fn record<R: Serialize>(
        &mut self,
        record: &R,
        deselected: &[Vec<String>],
        inject: &[(String, Value)],
        bytes: &mut Vec<u8>,
    ) -> Result<()> {
        if self.mapper.is_none() && deselected.is_empty() && inject.is_empty() {
            if let Some(batches) = &mut self.batches {
                batches
                    .pending
                    .push((self.stream.to_owned(), serde_json::to_vec(record)?));
                return Ok(());
            }
            return self.direct.encode(record, bytes);
        }
        let mut value = serde_json::to_value(record)?;
        for path in deselected {
            remove_path(&mut value, path);
        }
        if let Value::Object(map) = &mut value {
            for (key, context) in inject {
                if !map.contains_key(key) {
                    map.insert(key.clone(), context.clone());
                }
            }
        }
        let Some(mapper) = self.mapper else {
            if let Some(batches) = &mut self.batches {
                batches
                    .pending
                    .push((self.stream.to_owned(), serde_json::to_vec(&value)?));
                return Ok(());
            }
            return self.direct.encode(&value, bytes);
        };
        let Value::Object(record) = value else {
            return Err(Error::custom(format!(
                "a record of stream `{}` is not a JSON object, so stream maps cannot apply to it",
                self.stream
            )));
        };
        let message = RecordMessage {
            stream: self.stream.to_owned(),
            record,
            version: self.version,
            time_extracted: None,
        };
        for out in mapper.map_record(message)? {
            if let Some(batches) = &mut self.batches {
                batches
                    .pending
                    .push((out.stream, serde_json::to_vec(&out.record)?));
                continue;
            }
            let version = self.version;
            let encoder = self
                .mapped
                .entry(out.stream)
                .or_insert_with_key(|stream| RecordEncoder::new(stream, version));
            encoder.encode(&out.record, bytes)?;
        }
        Ok(())
    }

    /// Puts the records serialised so far into their BATCH files, appending a BATCH message
    /// to `bytes` for each file written; with `all`, also writes the files not yet full, so
    /// that every record taken so far is in a file. Returns whether a file was written.
    ///
    /// # Errors
    /// A writer that cannot be set up (storage) or a file that cannot be written.
    pub(super) async fn write_batches(&mut self, bytes: &mut Vec<u8>, all: bool) -> Result<bool> {
        let Some(batches) = &mut self.batches else {
            return Ok(false);
        };
        let mut written = Vec::new();
        for (stream, record) in std::mem::take(&mut batches.pending) {
            let writer = match batches.writers.get_mut(&stream) {
                Some(writer) => writer,
                None => {
                    let schema = batches
                        .schemas
                        .iter()
                        .find(|s| s.stream == stream)
                        .map(|s| s.schema.clone())
                        .unwrap_or(Value::Null);
                    let writer = BatchWriter::new(batches.config, &stream, &schema)?;
                    batches.writers.entry(stream).or_insert(writer)
                }
            };
            written.extend(writer.push(&record).await?);
        }
        if all || !written.is_empty() {
            // A STATE follows: every record taken so far must be in a file before it.
            for writer in batches.writers.values_mut() {
                written.extend(writer.finish().await?);
            }
        }
        for message in &written {
            serde_json::to_writer(&mut *bytes, &Message::Batch(message.clone()))?;
            bytes.push(b'\n');
        }
        Ok(!written.is_empty())
    }

    /// Takes a fresh `time_extracted` for the lines that follow.
    pub(super) fn refresh(&mut self) {
        let now = Utc::now();
        self.direct.set_time_extracted(now, self.version);
        for encoder in self.mapped.values_mut() {
            encoder.set_time_extracted(now, self.version);
        }
    }
}

/// Removes the property at `path` (through nested objects) from a record.
fn remove_path(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = value;
    for name in parents {
        match node.get_mut(name) {
            Some(child) => node = child,
            None => return,
        }
    }
    if let Value::Object(map) = node {
        map.shift_remove(last);
    }
}
