//! Writing BATCH files: records of one stream go in as serialised JSON lines, and every
//! `batch_size` records come out as one file (jsonl, jsonl.gz or parquet) plus the BATCH
//! message that names it.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_json::reader::Decoder;
use arrow_schema::{Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCompression, GzipLevel};
use parquet::file::properties::WriterProperties;
use serde_json::{Map, Value};

use super::config::{BatchConfig, Compression, Encoding, Format};
use super::schema::{arrow_schema, encode_json_text, has_json_text};
use super::store::{Place, Stores};
use crate::error::{Error, Result};
use crate::message::BatchMessage;

const FIT_HINT: &str =
    "fix the records or the stream's schema, or use the jsonl format for this stream";

/// Writes the records of one stream as BATCH files.
///
/// [`push`](BatchWriter::push) takes one record as a serialised JSON object and, once
/// `batch_size` records are in, writes a file and returns the BATCH message naming it;
/// [`finish`](BatchWriter::finish) writes what is left. The caller sends each message (and a
/// STATE after it) in turn. Files are named
/// `<prefix><stream>-<run id>-<n>.<json.gz|json|parquet|parquet.gz>` under `storage.root`.
///
/// A writer that failed once (a record that does not fit the parquet columns, a file that
/// could not be written) has records that are in no file: every later `push` and `finish`
/// fails too, so that no STATE is sent as if they had been written.
///
/// ```
/// use singer_sdk::batch::{BatchConfig, BatchWriter, read_records};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let config = BatchConfig::from_value(&serde_json::json!({
///     "encoding": {"format": "parquet", "compression": "gzip"},
///     "storage": {"root": dir.path()},
///     "batch_size": 2
/// })).unwrap();
/// let schema = serde_json::json!({"type": "object", "properties": {"id": {"type": "integer"}}});
/// let mut writer = BatchWriter::new(&config, "users", &schema).unwrap();
/// assert!(writer.push(br#"{"id": 1}"#).await.unwrap().is_none());
/// let first = writer.push(br#"{"id": 2}"#).await.unwrap().unwrap();
/// writer.push(br#"{"id": 3}"#).await.unwrap();
/// let last = writer.finish().await.unwrap().unwrap();
/// assert_eq!(read_records(&first).unwrap().count(), 2);
/// assert_eq!(read_records(&last).unwrap().count(), 1);
/// # });
/// ```
pub struct BatchWriter {
    encoding: Encoding,
    batch_size: usize,
    stream: String,
    root: Place,
    file_stem: String,
    files: usize,
    pending: Pending,
    /// What made the writer fail, once it has.
    failed: Option<String>,
}

impl std::fmt::Debug for BatchWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter")
            .field("stream", &self.stream)
            .field("encoding", &self.encoding)
            .field("root", &self.root.url())
            .field("files", &self.files)
            .field("pending", &self.pending.len())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

/// The records of the file being filled.
enum Pending {
    Jsonl {
        lines: Vec<u8>,
        count: usize,
    },
    Parquet {
        schema: SchemaRef,
        decoder: Box<Decoder>,
        json_text: bool,
        count: usize,
    },
}

impl Pending {
    fn len(&self) -> usize {
        match self {
            Pending::Jsonl { count, .. } | Pending::Parquet { count, .. } => *count,
        }
    }
}

impl BatchWriter {
    /// A writer for `stream`, whose records follow the JSON Schema `schema` (parquet files
    /// take their columns from it; see [`arrow_schema`](super::arrow_schema)).
    ///
    /// # Errors
    /// A storage root that names no usable place (or an object store that cannot be set
    /// up), or, for parquet, a schema that is not an object with `properties`.
    pub fn new(config: &BatchConfig, stream: &str, schema: &Value) -> Result<Self> {
        let context = |e| Error::context(format!("batch_config for stream `{stream}`"), e);
        let root = Stores::new(config.storage.store_options())
            .place(&config.storage.root)
            .map_err(context)?;
        let mut writer = BatchWriter {
            encoding: config.encoding,
            batch_size: config.batch_size(),
            stream: stream.to_owned(),
            root,
            file_stem: format!(
                "{}{}-{}",
                config.storage.prefix.as_deref().unwrap_or(""),
                file_safe(stream),
                run_id()
            ),
            files: 0,
            pending: Pending::Jsonl {
                lines: Vec::new(),
                count: 0,
            },
            failed: None,
        };
        if config.encoding.format == Format::Parquet {
            let schema = Arc::new(arrow_schema(schema).map_err(context)?);
            writer.pending = parquet_pending(schema, writer.batch_size)?;
        }
        Ok(writer)
    }

    /// Adds one record, a serialised JSON object (a trailing newline is allowed); returns
    /// the BATCH message of the file written when this record filled it.
    ///
    /// # Errors
    /// A record that does not fit the parquet schema, or a file that cannot be written;
    /// each names the stream and the file. After an error every call fails.
    pub async fn push(&mut self, record: &[u8]) -> Result<Option<BatchMessage>> {
        self.usable()?;
        let result = self.take(record).await;
        self.note(result)
    }

    async fn take(&mut self, record: &[u8]) -> Result<Option<BatchMessage>> {
        let record = record.trim_ascii_end();
        match &mut self.pending {
            Pending::Jsonl { lines, count } => {
                lines.extend_from_slice(record);
                lines.push(b'\n');
                *count += 1;
            }
            Pending::Parquet {
                schema,
                decoder,
                json_text,
                count,
            } => {
                let result = if *json_text {
                    let mut object: Map<String, Value> =
                        serde_json::from_slice(record).map_err(|e| {
                            Error::context(
                                format!(
                                    "a record of stream `{}` is not a JSON object",
                                    self.stream
                                ),
                                e,
                            )
                        })?;
                    encode_json_text(&mut object, schema.fields());
                    decoder.serialize(&[object])
                } else {
                    decoder.decode(record).map(|_| ())
                };
                result.map_err(|e| {
                    Error::custom(format!(
                        "record {} of stream `{}` does not fit its parquet columns: {e}; {FIT_HINT}",
                        self.files * self.batch_size + *count + 1,
                        self.stream
                    ))
                })?;
                *count += 1;
            }
        }
        if self.pending.len() >= self.batch_size {
            return self.flush().await.map(Some);
        }
        Ok(None)
    }

    /// Writes the records not yet in a file; returns their BATCH message, or `None` when
    /// there were none.
    ///
    /// # Errors
    /// As [`push`](BatchWriter::push).
    pub async fn finish(&mut self) -> Result<Option<BatchMessage>> {
        self.usable()?;
        if self.pending.len() == 0 {
            return Ok(None);
        }
        let result = self.flush().await.map(Some);
        self.note(result)
    }

    /// An error when an earlier call failed: records taken then are in no file.
    fn usable(&self) -> Result<()> {
        match &self.failed {
            None => Ok(()),
            Some(reason) => Err(Error::custom(format!(
                "stream `{}`: records taken for a BATCH file are in no file, as an earlier write failed ({reason}); no more batch files are written for it",
                self.stream
            ))),
        }
    }

    /// Remembers that `result` failed, when it did.
    fn note<T>(&mut self, result: Result<T>) -> Result<T> {
        if let Err(error) = &result {
            self.failed.get_or_insert_with(|| {
                let mut reason = error.to_string();
                let mut source = std::error::Error::source(error);
                while let Some(cause) = source {
                    reason.push_str(": ");
                    reason.push_str(&cause.to_string());
                    source = cause.source();
                }
                reason
            });
        }
        result
    }

    /// Records taken but not yet written to a file.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    async fn flush(&mut self) -> Result<BatchMessage> {
        self.files += 1;
        let name = format!(
            "{}-{}.{}",
            self.file_stem,
            self.files,
            self.encoding.extension()
        );
        let place = self.root.join(&name)?;
        let data = self.encode().map_err(|e| {
            Error::custom(format!(
                "the records of batch file `{}` of stream `{}` do not fit its parquet columns: {e}; {FIT_HINT}",
                place.url(),
                self.stream
            ))
        })?;
        place
            .store(data)
            .await
            .map_err(|e| Error::context(format!("BATCH for stream `{}`", self.stream), e))?;
        tracing::debug!(stream = %self.stream, file = %place.url(), "Batch file written.");
        Ok(BatchMessage {
            stream: self.stream.clone(),
            encoding: self.encoding.to_value(),
            manifest: vec![place.url()],
        })
    }

    /// The pending records as file contents; the writer is empty again afterwards.
    fn encode(&mut self) -> std::result::Result<Bytes, String> {
        match &mut self.pending {
            Pending::Jsonl { lines, count } => {
                *count = 0;
                let lines = std::mem::take(lines);
                if self.encoding.compression == Compression::None {
                    return Ok(Bytes::from(lines));
                }
                let mut gzip = flate2::write::GzEncoder::new(
                    Vec::with_capacity(lines.len() / 4),
                    flate2::Compression::fast(),
                );
                gzip.write_all(&lines).map_err(|e| e.to_string())?;
                gzip.finish().map(Bytes::from).map_err(|e| e.to_string())
            }
            Pending::Parquet {
                schema,
                decoder,
                count,
                ..
            } => {
                *count = 0;
                let batch = decoder.flush().map_err(|e| e.to_string())?;
                let compression = match self.encoding.compression {
                    Compression::Gzip => ParquetCompression::GZIP(GzipLevel::default()),
                    Compression::None => ParquetCompression::UNCOMPRESSED,
                };
                let properties = WriterProperties::builder()
                    .set_compression(compression)
                    .build();
                let mut writer =
                    ArrowWriter::try_new(Vec::new(), Arc::clone(schema), Some(properties))
                        .map_err(|e| e.to_string())?;
                if let Some(batch) = batch {
                    writer.write(&batch).map_err(|e| e.to_string())?;
                }
                writer
                    .into_inner()
                    .map(Bytes::from)
                    .map_err(|e| e.to_string())
            }
        }
    }
}

fn parquet_pending(schema: Arc<Schema>, batch_size: usize) -> Result<Pending> {
    let decoder = arrow_json::ReaderBuilder::new(Arc::clone(&schema))
        .with_batch_size(batch_size)
        .with_coerce_primitive(true)
        .build_decoder()
        .map_err(|e| Error::context("cannot set up the parquet encoder", e))?;
    Ok(Pending::Parquet {
        json_text: has_json_text(schema.fields()),
        schema,
        decoder: Box::new(decoder),
        count: 0,
    })
}

/// The stream name with every character that is not safe in a file name replaced by `_`.
fn file_safe(stream: &str) -> String {
    stream
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A name part that differs between runs and between writers of one run.
fn run_id() -> String {
    static WRITERS: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{:x}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%6f"),
        std::process::id(),
        WRITERS.fetch_add(1, Ordering::Relaxed)
    )
}
