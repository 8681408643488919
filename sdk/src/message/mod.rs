//! Singer messages: the types, a lenient reader (lines → messages) and a buffered writer
//! (messages → stdout).
//!
//! ```
//! use singer_sdk::message::{Message, MessageReader};
//!
//! let input = "{\"type\":\"record\",\"stream\":\"users\",\"record\":{\"id\":1}}\n";
//! let mut reader = MessageReader::new(input.as_bytes());
//! let Some(Message::Record(record)) = reader.next_message().unwrap() else { panic!() };
//! assert_eq!(record.stream, "users");
//! ```

use std::io::{self, BufRead, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::time::format_timestamp;

mod object;

/// Protocol strings used in more than one place.
pub mod names {
    /// `type` of a SCHEMA message.
    pub const SCHEMA: &str = "SCHEMA";
    /// `type` of a RECORD message.
    pub const RECORD: &str = "RECORD";
    /// `type` of a STATE message.
    pub const STATE: &str = "STATE";
    /// `type` of an ACTIVATE_VERSION message.
    pub const ACTIVATE_VERSION: &str = "ACTIVATE_VERSION";
    /// `type` of a BATCH message.
    pub const BATCH: &str = "BATCH";
}

/// One Singer message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// Describes a stream's records.
    Schema(SchemaMessage),
    /// One record of a stream.
    Record(RecordMessage),
    /// A checkpoint: the tap's state, opaque to everyone else.
    State(StateMessage),
    /// The stream's table should now hold only records of this version.
    ActivateVersion(ActivateVersionMessage),
    /// Records stored in files rather than inline.
    Batch(BatchMessage),
    /// A message of a type this SDK does not know, kept whole so it can be passed on.
    Unknown(Map<String, Value>),
}

/// A SCHEMA message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaMessage {
    /// The stream name.
    pub stream: String,
    /// The JSON Schema of the stream's records.
    pub schema: Value,
    /// Top-level properties forming the primary key (may be empty).
    pub key_properties: Vec<String>,
    /// Top-level properties used as bookmarks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookmark_properties: Option<Vec<String>>,
}

/// A RECORD message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordMessage {
    /// The stream name.
    pub stream: String,
    /// The record.
    pub record: Map<String, Value>,
    /// The version of a versioned (full-table) stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// When the record was observed in the source, as sent (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_extracted: Option<String>,
}

/// A STATE message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateMessage {
    /// The state document.
    pub value: Value,
}

/// An ACTIVATE_VERSION message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivateVersionMessage {
    /// The stream name.
    pub stream: String,
    /// The version now active.
    pub version: i64,
}

/// A BATCH message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchMessage {
    /// The stream name.
    pub stream: String,
    /// How the files are encoded (`format`, `compression`).
    pub encoding: Value,
    /// The files, as URLs.
    pub manifest: Vec<String>,
}

impl Message {
    /// The upper-case `type` of this message (for unknown messages, as received).
    #[must_use]
    pub fn type_name(&self) -> &str {
        match self {
            Message::Schema(_) => names::SCHEMA,
            Message::Record(_) => names::RECORD,
            Message::State(_) => names::STATE,
            Message::ActivateVersion(_) => names::ACTIVATE_VERSION,
            Message::Batch(_) => names::BATCH,
            Message::Unknown(map) => map.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// Parses one line. `line_number` is used in the error only.
    ///
    /// # Errors
    /// [`Error::Message`] naming the line when it is not a JSON object with a `type`, or when a
    /// known message type lacks a required field.
    pub fn parse(line: &str, line_number: u64) -> Result<Message> {
        let fail = |message: String| Error::Message {
            line: line_number,
            message,
            excerpt: excerpt(line),
        };
        let envelope: Envelope<'_> = serde_json::from_str(line).map_err(|e| {
            if e.is_data() {
                fail("a Singer message must be a JSON object with a string `type`".to_owned())
            } else {
                fail(format!(
                    "not valid JSON ({})",
                    crate::settings::json_reason(&e)
                ))
            }
        })?;
        let Some(kind) = envelope.kind else {
            return Err(fail("message has no `type`".to_owned()));
        };
        let kind = kind.to_ascii_uppercase();
        let stream = |value: Option<Value>| match value {
            Some(Value::String(s)) => Ok(s),
            _ => Err(fail(format!("{kind} message has no string `stream`"))),
        };
        let version = |value: Option<Value>| -> Result<Option<i64>> {
            match value {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                    .map(Some)
                    .ok_or_else(|| fail("`version` must be an integer".to_owned())),
                Some(_) => Err(fail("`version` must be an integer".to_owned())),
            }
        };
        Ok(match kind.as_str() {
            names::SCHEMA => {
                let stream = stream(envelope.stream)?;
                let schema = envelope
                    .schema
                    .ok_or_else(|| fail(format!("SCHEMA for `{stream}` has no `schema`")))?;
                let key_properties = string_list(envelope.key_properties)
                    .map_err(|()| fail("`key_properties` must be a list of strings".to_owned()))?
                    .unwrap_or_default();
                let bookmark_properties =
                    string_list(envelope.bookmark_properties).map_err(|()| {
                        fail("`bookmark_properties` must be a list of strings".to_owned())
                    })?;
                Message::Schema(SchemaMessage {
                    stream,
                    schema,
                    key_properties,
                    bookmark_properties,
                })
            }
            names::RECORD => {
                let stream = stream(envelope.stream)?;
                let Some(Value::Object(record)) = envelope.record else {
                    return Err(fail(format!(
                        "RECORD for `{stream}` has no object `record`"
                    )));
                };
                Message::Record(RecordMessage {
                    stream,
                    record,
                    version: version(envelope.version)?,
                    time_extracted: match envelope.time_extracted {
                        Some(Value::String(s)) => Some(s),
                        _ => None,
                    },
                })
            }
            names::STATE => Message::State(StateMessage {
                value: envelope.value.unwrap_or(Value::Null),
            }),
            names::ACTIVATE_VERSION => {
                let stream = stream(envelope.stream)?;
                let version = version(envelope.version)?
                    .ok_or_else(|| fail("ACTIVATE_VERSION has no `version`".to_owned()))?;
                Message::ActivateVersion(ActivateVersionMessage { stream, version })
            }
            names::BATCH => {
                let stream = stream(envelope.stream)?;
                let manifest = string_list(envelope.manifest)
                    .map_err(|()| fail("`manifest` must be a list of strings".to_owned()))?
                    .unwrap_or_default();
                Message::Batch(BatchMessage {
                    stream,
                    encoding: envelope.encoding.unwrap_or(Value::Null),
                    manifest,
                })
            }
            _ => match serde_json::from_str(line) {
                Ok(Value::Object(map)) => Message::Unknown(map),
                _ => return Err(fail("a Singer message must be a JSON object".to_owned())),
            },
        })
    }
}

/// The fields of any Singer message, read in one pass; unknown keys are skipped.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    stream: Option<Value>,
    #[serde(default, deserialize_with = "object::record")]
    record: Option<Value>,
    #[serde(default)]
    schema: Option<Value>,
    #[serde(default)]
    key_properties: Option<Value>,
    #[serde(default)]
    bookmark_properties: Option<Value>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    time_extracted: Option<Value>,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    encoding: Option<Value>,
    #[serde(default)]
    manifest: Option<Value>,
}

fn string_list(value: Option<Value>) -> std::result::Result<Option<Vec<String>>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s])),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(()),
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(()),
    }
}

/// The first 80 characters of a line, for error messages.
pub(crate) fn excerpt(line: &str) -> String {
    let mut chars = line.chars();
    let head: String = chars.by_ref().take(80).collect();
    if chars.next().is_some() {
        format!("`{head}…`")
    } else {
        format!("`{head}`")
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !matches!(self, Message::Unknown(_)) {
            map.serialize_entry("type", self.type_name())?;
        }
        match self {
            Message::Schema(m) => {
                map.serialize_entry("stream", &m.stream)?;
                map.serialize_entry("schema", &m.schema)?;
                map.serialize_entry("key_properties", &m.key_properties)?;
                if let Some(bookmarks) = &m.bookmark_properties {
                    map.serialize_entry("bookmark_properties", bookmarks)?;
                }
            }
            Message::Record(m) => {
                map.serialize_entry("stream", &m.stream)?;
                map.serialize_entry("record", &m.record)?;
                if let Some(version) = m.version {
                    map.serialize_entry("version", &version)?;
                }
                if let Some(time) = &m.time_extracted {
                    map.serialize_entry("time_extracted", time)?;
                }
            }
            Message::State(m) => map.serialize_entry("value", &m.value)?,
            Message::ActivateVersion(m) => {
                map.serialize_entry("stream", &m.stream)?;
                map.serialize_entry("version", &m.version)?;
            }
            Message::Batch(m) => {
                map.serialize_entry("stream", &m.stream)?;
                map.serialize_entry("encoding", &m.encoding)?;
                map.serialize_entry("manifest", &m.manifest)?;
            }
            Message::Unknown(m) => {
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
            }
        }
        map.end()
    }
}

/// Reads Singer messages line by line, reusing one buffer, counting lines for errors.
///
/// Blank lines are skipped. Unknown message types come back as [`Message::Unknown`].
#[derive(Debug)]
pub struct MessageReader<R> {
    input: R,
    buffer: String,
    line: u64,
}

impl<R: BufRead> MessageReader<R> {
    /// Wraps a buffered reader.
    pub fn new(input: R) -> Self {
        MessageReader {
            input,
            buffer: String::new(),
            line: 0,
        }
    }

    /// The number of the last line read (1-based).
    #[must_use]
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// The length in bytes of the last line read.
    #[must_use]
    pub fn line_len(&self) -> usize {
        self.buffer.len()
    }

    /// Reads the next raw line (without its line ending); `None` at end of input.
    ///
    /// # Errors
    /// [`Error::Message`] when the line is not UTF-8, [`Error::Io`] when reading fails.
    pub fn next_line(&mut self) -> Result<Option<&str>> {
        Ok(self.advance()?.map(|len| &self.buffer[..len]))
    }

    /// Reads the next raw line: its number, its text (without its line ending) and its
    /// length in bytes with its line ending; `None` at end of input.
    pub(crate) fn next_numbered(&mut self) -> Result<Option<(u64, &str, usize)>> {
        Ok(self
            .advance()?
            .map(|len| (self.line, &self.buffer[..len], self.buffer.len())))
    }

    /// Reads and parses the next message; `None` at end of input.
    ///
    /// # Errors
    /// As [`next_line`](Self::next_line) and [`Message::parse`].
    pub fn next_message(&mut self) -> Result<Option<Message>> {
        match self.advance()? {
            None => Ok(None),
            Some(len) => Message::parse(&self.buffer[..len], self.line).map(Some),
        }
    }

    /// Moves to the next non-blank line and returns its length without the line ending.
    fn advance(&mut self) -> Result<Option<usize>> {
        loop {
            self.buffer.clear();
            let read = match self.input.read_line(&mut self.buffer) {
                Ok(read) => read,
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(Error::Message {
                        line: self.line + 1,
                        message: "input is not valid UTF-8; Singer messages are UTF-8 JSON"
                            .to_owned(),
                        excerpt: String::new(),
                    });
                }
                Err(e) => return Err(Error::io("cannot read input", e)),
            };
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            let trimmed = self.buffer.trim_end_matches(['\n', '\r']);
            if !trimmed.trim().is_empty() {
                return Ok(Some(trimmed.len()));
            }
        }
    }
}

impl<R: BufRead> Iterator for MessageReader<R> {
    type Item = Result<Message>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_message().transpose()
    }
}

/// Writes Singer messages as compact JSON lines through a buffer, flushed at every STATE and
/// when dropped or [`flush`](Self::flush)ed.
#[derive(Debug)]
pub struct MessageWriter<W: Write> {
    out: io::BufWriter<W>,
}

impl MessageWriter<io::Stdout> {
    /// A writer on the process's stdout.
    #[must_use]
    pub fn stdout() -> Self {
        MessageWriter::new(io::stdout())
    }
}

impl<W: Write> MessageWriter<W> {
    /// Wraps any writer with a 64 KiB buffer.
    pub fn new(out: W) -> Self {
        MessageWriter {
            out: io::BufWriter::with_capacity(64 * 1024, out),
        }
    }

    /// Writes one message; a STATE is flushed at once.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails (e.g. the reader went away).
    pub fn write(&mut self, message: &Message) -> Result<()> {
        serde_json::to_writer(&mut self.out, message).map_err(|e| Error::Json {
            context: "cannot write message".to_owned(),
            source: e,
        })?;
        self.out
            .write_all(b"\n")
            .map_err(|e| Error::io("cannot write message", e))?;
        if matches!(message, Message::State(_)) {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes bytes that already hold whole message lines.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_raw(&mut self, lines: &[u8]) -> Result<()> {
        self.out
            .write_all(lines)
            .map_err(|e| Error::io("cannot write messages", e))
    }

    /// Writes a STATE message holding `value` and flushes.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_state(&mut self, value: &Value) -> Result<()> {
        self.write_raw(b"{\"type\":\"STATE\",\"value\":")?;
        serde_json::to_writer(&mut self.out, value)?;
        self.write_raw(b"}\n")?;
        self.flush()
    }

    /// Flushes buffered output.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn flush(&mut self) -> Result<()> {
        self.out
            .flush()
            .map_err(|e| Error::io("cannot flush output", e))
    }

    /// The writer underneath, after flushing.
    ///
    /// # Errors
    /// [`Error::Io`] when the final flush fails.
    pub fn into_inner(self) -> Result<W> {
        self.out
            .into_inner()
            .map_err(|e| Error::io("cannot flush output", e.into_error()))
    }
}

/// Appends RECORD lines for one stream to a byte buffer without building intermediate JSON
/// values: the envelope prefix is computed once.
#[derive(Debug, Clone)]
pub struct RecordEncoder {
    prefix: Vec<u8>,
    suffix: Vec<u8>,
}

impl RecordEncoder {
    /// An encoder for `stream`, with an optional `version` on every record.
    #[must_use]
    pub fn new(stream: &str, version: Option<i64>) -> Self {
        let mut prefix = b"{\"type\":\"RECORD\",\"stream\":".to_vec();
        // Writing a string into a Vec cannot fail.
        serde_json::to_writer(&mut prefix, stream).unwrap_or_default();
        prefix.extend_from_slice(b",\"record\":");
        let mut encoder = RecordEncoder {
            prefix,
            suffix: Vec::new(),
        };
        encoder.set_time_extracted(Utc::now(), version);
        encoder
    }

    /// Sets the `time_extracted` (and `version`) written after each record.
    pub fn set_time_extracted(&mut self, time: DateTime<Utc>, version: Option<i64>) {
        self.suffix.clear();
        if let Some(version) = version {
            self.suffix
                .extend_from_slice(format!(",\"version\":{version}").as_bytes());
        }
        self.suffix.extend_from_slice(b",\"time_extracted\":\"");
        self.suffix
            .extend_from_slice(format_timestamp(time).as_bytes());
        self.suffix.extend_from_slice(b"\"}\n");
    }

    /// Appends one RECORD line for `record` to `out`.
    ///
    /// # Errors
    /// [`Error::Json`] when the record cannot be serialised (e.g. a map with non-string keys);
    /// `out` is left as it was.
    pub fn encode<R: Serialize + ?Sized>(&self, record: &R, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.extend_from_slice(&self.prefix);
        if let Err(source) = serde_json::to_writer(&mut *out, record) {
            out.truncate(start);
            return Err(Error::Json {
                context: "cannot serialise record".to_owned(),
                source,
            });
        }
        out.extend_from_slice(&self.suffix);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_each_type_leniently() {
        let m = Message::parse(
            r#"{"type":"schema","stream":"s","schema":{"properties":{}}}"#,
            1,
        )
        .unwrap();
        let Message::Schema(schema) = m else { panic!() };
        assert!(schema.key_properties.is_empty());
        let m = Message::parse(r#"{"type":"STATE","value":{"a":1}}"#, 1).unwrap();
        assert_eq!(
            m,
            Message::State(StateMessage {
                value: json!({"a":1})
            })
        );
        let m = Message::parse(r#"{"type":"CUSTOM","x":1}"#, 1).unwrap();
        assert_eq!(m.type_name(), "CUSTOM");
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"type":"CUSTOM","x":1}"#
        );
    }

    #[test]
    fn malformed_line_names_line_and_excerpt() {
        let err = Message::parse("{not json", 7).unwrap_err().to_string();
        assert!(err.starts_with("line 7: not valid JSON"), "{err}");
        assert!(err.ends_with("`{not json`"), "{err}");
        let err = Message::parse(r#"{"type":"RECORD","stream":"s"}"#, 3).unwrap_err();
        assert!(err.to_string().contains("has no object `record`"));
    }

    #[test]
    fn writes_python_compatible_lines() {
        let m = Message::Schema(SchemaMessage {
            stream: "s".into(),
            schema: json!({"type": "object", "properties": {}}),
            key_properties: vec!["id".into()],
            bookmark_properties: None,
        });
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"type":"SCHEMA","stream":"s","schema":{"type":"object","properties":{}},"key_properties":["id"]}"#
        );
        let mut enc = RecordEncoder::new("s\"q", Some(5));
        enc.set_time_extracted(
            DateTime::parse_from_rfc3339("2022-01-01T00:00:00.5Z")
                .unwrap()
                .to_utc(),
            Some(5),
        );
        let mut out = Vec::new();
        enc.encode(&json!({"id": 1}), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"type\":\"RECORD\",\"stream\":\"s\\\"q\",\"record\":{\"id\":1},\"version\":5,\"time_extracted\":\"2022-01-01T00:00:00.500000+00:00\"}\n"
        );
    }

    #[test]
    fn reader_counts_lines_and_skips_blanks() {
        let input = "\n{\"type\":\"STATE\",\"value\":{}}\n\nnope\n";
        let mut reader = MessageReader::new(input.as_bytes());
        assert!(matches!(
            reader.next_message().unwrap(),
            Some(Message::State(_))
        ));
        let err = reader.next_message().unwrap_err().to_string();
        assert!(err.starts_with("line 4:"), "{err}");
    }
}
