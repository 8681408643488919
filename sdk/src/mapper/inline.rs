//! Standalone mappers: a connector that sits between a tap and a target (`meltano run tap
//! mapping target`), reading Singer messages on stdin and writing transformed ones on stdout.
//!
//! Every inline mapper applies the stream maps and flattening of its built-in settings; the
//! [`InlineMapper`] trait adds a hook for transforms of its own.
//!
//! ```
//! use singer_sdk::mapper::InlineMapper;
//!
//! /// Applies `stream_maps` and flattening from its config, nothing else.
//! struct MapTransform;
//!
//! impl InlineMapper for MapTransform {
//!     type Settings = serde_json::Map<String, serde_json::Value>;
//! }
//! # let _ = MapTransform;
//! ```

use std::io::{BufRead, Write};

use super::Mapper;
use crate::error::{Error, Result};
use crate::message::{Message, MessageReader, MessageWriter, RecordMessage};
use crate::settings::Settings;

/// A standalone mapper.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Singer mapper",
    note = "implement `singer_sdk::mapper::InlineMapper` for `{Self}`: a `Settings` type is all it needs"
)]
pub trait InlineMapper: Send + Sync + 'static {
    /// The settings the mapper reads from `--config` (besides the built-in stream map ones).
    type Settings: Settings;

    /// Transforms one message after the stream maps ran. The default passes it on.
    ///
    /// # Errors
    /// Whatever the transform cannot do; the run stops with it.
    fn map(&self, settings: &Self::Settings, message: Message) -> Result<Vec<Message>> {
        let _ = settings;
        Ok(vec![message])
    }

    /// The capabilities `--about` reports.
    fn capabilities(&self) -> crate::capability::Capabilities {
        crate::capability::Capabilities::mapper()
    }
}

/// Reads messages from `input`, applies the stream maps and the mapper's own transform, and
/// writes the result to `out`. STATE messages pass through unchanged and are flushed at once;
/// messages of unknown types pass through too. The records of BATCH messages are read from
/// their files, mapped, and written as RECORD messages.
///
/// # Errors
/// A malformed line (named by number), a stream map that fails on a record, a BATCH file
/// that cannot be read, or output that cannot be written.
pub fn transform<M: InlineMapper, R: BufRead, W: Write>(
    mapper: &M,
    settings: &M::Settings,
    mut maps: Option<Mapper>,
    input: R,
    out: &mut MessageWriter<W>,
) -> Result<()> {
    let mut reader = MessageReader::new(input);
    let at = |line: u64| move |e: Error| Error::context(format!("line {line}"), e);
    // Streams that had a SCHEMA: a RECORD of any other stream is refused, maps or not.
    let mut described = std::collections::HashSet::new();
    while let Some(message) = reader.next_message()? {
        let line = reader.line_number();
        match &message {
            Message::Schema(schema) => {
                described.insert(schema.stream.clone());
            }
            Message::Record(record) if !described.contains(&record.stream) => {
                return Err(Error::Message {
                    line,
                    message: format!(
                        "RECORD for stream `{}` before its SCHEMA; the tap must send a SCHEMA message first",
                        record.stream
                    ),
                    excerpt: String::new(),
                });
            }
            _ => {}
        }
        let mapped: Vec<Message> = match (maps.as_mut(), message) {
            (Some(maps), Message::Schema(schema)) => maps
                .map_schema(schema)
                .map_err(at(line))?
                .into_iter()
                .map(Message::Schema)
                .collect(),
            (Some(maps), Message::Record(record)) => maps
                .map_record(record)
                .map_err(at(line))?
                .into_iter()
                .map(Message::Record)
                .collect(),
            (Some(maps), Message::ActivateVersion(activate)) => maps
                .map_activate_version(activate)
                .into_iter()
                .map(Message::ActivateVersion)
                .collect(),
            (maps, Message::Batch(batch)) => {
                let mut records = Vec::new();
                for record in crate::batch::read_records(&batch).map_err(at(line))? {
                    let record = record.map_err(at(line))?;
                    let outputs = match maps.as_deref() {
                        Some(maps) => maps
                            .map_batch_record(&batch.stream, record)
                            .map_err(at(line))?,
                        None => vec![(batch.stream.clone(), record)],
                    };
                    records.extend(outputs.into_iter().map(|(stream, record)| {
                        Message::Record(RecordMessage {
                            stream,
                            record,
                            version: None,
                            time_extracted: None,
                        })
                    }));
                }
                records
            }
            (_, other) => vec![other],
        };
        for message in mapped {
            for message in mapper.map(settings, message).map_err(at(line))? {
                out.write(&message)?;
            }
        }
    }
    if let Some(maps) = &maps {
        maps.finish();
    }
    out.flush()
}
