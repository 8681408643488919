//! The [`Target`] trait and the load runtime.
//!
//! The runtime reads Singer messages (one reused line buffer, each line parsed once),
//! validates every record against its stream's compiled schema, normalises date-times,
//! buffers records per stream, and hands full buffers to the stream's [`Sink`] on a thread
//! of its own, so reading goes on while batches are written. A STATE is acknowledged (written
//! to stdout as one bare JSON line) only after every record received before it is written by
//! its sink; it is never held longer than `batch_wait_limit_seconds` while records flow (with
//! 0, each STATE is acknowledged as it arrives, once what came before it is written), and the
//! last one is always written at the end of a clean run.
//!
//! ```
//! use std::sync::Arc;
//! use singer_sdk::sink::{Batch, Sink, StreamSchema};
//! use singer_sdk::target::{Target, TargetOptions};
//! use singer_sdk::Result;
//!
//! struct Discard;
//! impl Sink for Discard {
//!     fn write_batch(&mut self, _batch: Batch) -> Result<()> { Ok(()) }
//! }
//!
//! /// Loads nothing, quickly.
//! struct TargetNull;
//! impl Target for TargetNull {
//!     type Settings = serde_json::Map<String, serde_json::Value>;
//!     type Client = ();
//!     type Sink = Discard;
//!     fn connect(&self, _settings: Self::Settings, _options: &TargetOptions) -> Result<()> { Ok(()) }
//!     fn open_sink(&self, _client: &Arc<()>, _stream: &StreamSchema, _options: &TargetOptions) -> Result<Discard> {
//!         Ok(Discard)
//!     }
//! }
//! # let _ = TargetNull;
//! ```

mod worker;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::logging::RecordCount;
use crate::mapper::Mapper;
use crate::message::{
    ActivateVersionMessage, Message, MessageReader, MessageWriter, RecordMessage, SchemaMessage,
    format_timestamp,
};
use crate::settings::Settings;
use crate::sink::{Batch, Sink, StreamSchema};

use self::worker::Worker;

/// A Singer target: its settings, what its sinks share, and how to open a sink per stream.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Singer target",
    note = "implement `singer_sdk::target::Target` for `{Self}`: `Settings`, `Client`, `Sink`, `connect` and `open_sink`"
)]
pub trait Target: Send + Sync + 'static {
    /// The settings the target reads from `--config`.
    type Settings: Settings;
    /// What every sink shares: a connection, a directory, the settings.
    type Client: Send + Sync + 'static;
    /// The per-stream writer.
    type Sink: Sink;

    /// Builds the shared client once, before the first message is read.
    ///
    /// # Errors
    /// The destination cannot be reached or prepared.
    fn connect(&self, settings: Self::Settings, options: &TargetOptions) -> Result<Self::Client>;

    /// Opens the sink of a stream: at its first SCHEMA, and again when a later SCHEMA changes
    /// its schema or key (the previous sink is drained and closed first).
    ///
    /// # Errors
    /// The stream cannot be written (e.g. a table cannot be created).
    fn open_sink(
        &self,
        client: &Arc<Self::Client>,
        stream: &StreamSchema,
        options: &TargetOptions,
    ) -> Result<Self::Sink>;

    /// The capabilities `--about` reports.
    fn capabilities(&self) -> Vec<&'static str> {
        vec![
            "about",
            "stream-maps",
            "schema-flattening",
            "structured-logging",
            "validate-records",
        ]
    }
}

/// `load_method`: how records meet what the destination already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadMethod {
    /// Add every record.
    #[default]
    AppendOnly,
    /// Replace records with the same key.
    Upsert,
    /// Replace the whole stream at the start of the run.
    Overwrite,
}

impl LoadMethod {
    /// The setting's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LoadMethod::AppendOnly => "append-only",
            LoadMethod::Upsert => "upsert",
            LoadMethod::Overwrite => "overwrite",
        }
    }
}

/// The built-in target settings, typed.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    /// Add `_sdc_*` metadata columns.
    pub add_record_metadata: bool,
    /// How records meet existing ones.
    pub load_method: LoadMethod,
    /// Delete (rather than mark deleted) records of older versions on ACTIVATE_VERSION.
    pub hard_delete: bool,
    /// Records per batch.
    pub batch_size_rows: usize,
    /// Validate records against their schema.
    pub validate_records: bool,
    /// Act on ACTIVATE_VERSION messages.
    pub process_activate_version_messages: bool,
    /// Schema (namespace) to load into, where the destination has them.
    pub default_target_schema: Option<String>,
    /// The longest a record waits in a buffer (and a STATE waits for acknowledgement).
    pub batch_wait_limit: Duration,
    /// How many sinks may write at once.
    pub max_parallelism: usize,
}

impl Default for TargetOptions {
    fn default() -> Self {
        TargetOptions {
            add_record_metadata: false,
            load_method: LoadMethod::AppendOnly,
            hard_delete: false,
            batch_size_rows: 10_000,
            validate_records: true,
            process_activate_version_messages: true,
            default_target_schema: None,
            batch_wait_limit: Duration::from_secs(5),
            max_parallelism: 8,
        }
    }
}

impl TargetOptions {
    /// Reads the built-in settings from a validated config.
    #[must_use]
    pub fn from_config(config: &Map<String, Value>) -> Self {
        let defaults = TargetOptions::default();
        let flag = |name: &str, default: bool| {
            config.get(name).and_then(Value::as_bool).unwrap_or(default)
        };
        let count = |name: &str, default: usize| {
            config
                .get(name)
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        TargetOptions {
            add_record_metadata: flag("add_record_metadata", defaults.add_record_metadata),
            load_method: match config.get("load_method").and_then(Value::as_str) {
                Some("upsert") => LoadMethod::Upsert,
                Some("overwrite") => LoadMethod::Overwrite,
                _ => LoadMethod::AppendOnly,
            },
            hard_delete: flag("hard_delete", defaults.hard_delete),
            batch_size_rows: count("batch_size_rows", defaults.batch_size_rows),
            validate_records: flag("validate_records", defaults.validate_records),
            process_activate_version_messages: flag(
                "process_activate_version_messages",
                defaults.process_activate_version_messages,
            ),
            default_target_schema: config
                .get("default_target_schema")
                .and_then(Value::as_str)
                .map(str::to_owned),
            batch_wait_limit: config
                .get("batch_wait_limit_seconds")
                .and_then(Value::as_f64)
                .filter(|s| *s >= 0.0)
                .map_or(defaults.batch_wait_limit, Duration::from_secs_f64),
            max_parallelism: count("max_parallelism", defaults.max_parallelism),
        }
    }
}

/// Settings every target built with this SDK understands (singer-sdk's names and meanings).
#[must_use]
pub fn builtin_settings(capabilities: &[&str]) -> Value {
    let mut settings = json!({
        "add_record_metadata": {"type": ["boolean", "null"], "title": "Add Singer Record Metadata", "default": false,
            "description": "Add `_sdc_*` metadata columns (extracted, received, batched and deleted times, sequence, table version, sync start) to every record."},
        "load_method": {"type": ["string", "null"], "title": "Load Method", "enum": ["append-only", "upsert", "overwrite", null], "default": "append-only",
            "description": "append-only adds every record; upsert replaces records with the same key; overwrite replaces the whole stream at the start of the run."},
        "batch_size_rows": {"type": ["integer", "null"], "title": "Batch Size Rows", "minimum": 1,
            "description": "Records buffered per stream before they are written (default 10000)."},
        "batch_wait_limit_seconds": {"type": ["number", "null"], "title": "Batch Wait Limit Seconds", "minimum": 0,
            "description": "The longest a record waits in a buffer, and a STATE waits to be acknowledged, while records flow (default 5)."},
        "validate_records": {"type": ["boolean", "null"], "title": "Validate Records", "default": true,
            "description": "Validate every record against its stream's JSON Schema."},
        "max_parallelism": {"type": ["integer", "null"], "title": "Max Parallelism", "minimum": 1,
            "description": "How many streams may be written at once (default 8)."},
    });
    let properties = settings.as_object_mut().expect("an object literal");
    if capabilities.contains(&"activate-version") {
        properties.insert("process_activate_version_messages".to_owned(), json!({"type": ["boolean", "null"], "title": "Process `ACTIVATE_VERSION` messages", "default": true,
            "description": "Act on ACTIVATE_VERSION messages: keep only the records of the newest version."}));
    }
    if capabilities.contains(&"hard-delete") {
        properties.insert("hard_delete".to_owned(), json!({"type": ["boolean", "null"], "title": "Hard Delete", "default": false,
            "description": "On ACTIVATE_VERSION, delete records of older versions instead of setting `_sdc_deleted_at`."}));
    }
    if capabilities.contains(&"target-schema") {
        properties.insert(
            "default_target_schema".to_owned(),
            json!({"type": ["string", "null"], "title": "Default Target Schema",
            "description": "The schema (namespace) to load streams into."}),
        );
    }
    settings
}

/// What one run read and wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Input lines read.
    pub lines: u64,
    /// RECORD messages loaded.
    pub records: u64,
    /// STATE values written to stdout.
    pub states_emitted: u64,
}

/// A stream's buffer is written once its records came in this many bytes of input, whatever
/// `batch_size_rows` says: parsed records take several times their JSON size in memory, and
/// this keeps a target's memory flat and small (two batches per stream at most are held).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// The `_sdc_*` columns `add_record_metadata` adds, with their schemas.
const METADATA_COLUMNS: [(&str, &str); 7] = [
    ("_sdc_extracted_at", "date-time"),
    ("_sdc_received_at", "date-time"),
    ("_sdc_batched_at", "date-time"),
    ("_sdc_deleted_at", "date-time"),
    ("_sdc_sequence", "integer"),
    ("_sdc_table_version", "integer"),
    ("_sdc_sync_started_at", "integer"),
];

/// Reads Singer messages from `input` and loads them through the target's sinks, writing
/// acknowledged state values to `out`.
///
/// # Errors
/// A malformed line, a RECORD before its SCHEMA, an invalid schema, a record failing
/// validation or lacking a key property, or a sink that fails. No state is written after
/// the first error.
pub fn load<T: Target, R: BufRead, W: Write>(
    target: &T,
    client: Arc<T::Client>,
    options: &TargetOptions,
    mut mapper: Option<Mapper>,
    input: R,
    out: &mut MessageWriter<W>,
) -> Result<LoadSummary> {
    let mut run = Loader {
        target,
        client,
        options,
        streams: HashMap::new(),
        in_flight: VecDeque::new(),
        oldest: None,
        latest_state: None,
        last_emitted: None,
        last_emit_time: Instant::now(),
        summary: LoadSummary::default(),
        started_ms: Utc::now().timestamp_millis(),
        warned: HashSet::new(),
        stop: Arc::default(),
        line_bytes: 0,
    };
    let mut reader = MessageReader::new(input);
    // SIGTERM/SIGINT (Meltano's graceful stop): finish what was read, drain, acknowledge.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            tracing::debug!(error = %e, "Cannot watch termination signals.");
        }
    }
    run.stop = stop;
    let result = run.read_all(&mut reader, out, mapper.as_mut());
    if result.is_err() {
        // Let writes already under way finish; their outcome no longer matters.
        run.join_all_quietly();
        return result.map(|()| run.summary.clone());
    }
    run.finish(out)?;
    if let Some(mapper) = &mapper {
        mapper.finish();
    }
    tracing::info!(
        lines = run.summary.lines,
        records = run.summary.records,
        states = run.summary.states_emitted,
        "Reader completed processing input."
    );
    Ok(run.summary)
}

struct Slot {
    stream: Arc<StreamSchema>,
    /// The schema and keys as received, to tell a changed SCHEMA from a repeated one.
    received: (Value, Vec<String>),
    validator: Option<jsonschema::Validator>,
    datetime_fields: Vec<String>,
    worker: Worker,
    buffer: Vec<Map<String, Value>>,
    /// Input bytes of the buffered records.
    buffer_bytes: usize,
    /// Input line of the last buffered record.
    last_line: u64,
    /// Input line of the last record of the batch being written.
    draining_line: u64,
    count: u64,
}

struct Loader<'a, T: Target> {
    target: &'a T,
    client: Arc<T::Client>,
    options: &'a TargetOptions,
    streams: HashMap<String, Slot>,
    /// Streams with a drain under way, oldest first.
    in_flight: VecDeque<String>,
    /// When the oldest record buffered since the last full drain arrived.
    oldest: Option<Instant>,
    latest_state: Option<Value>,
    last_emitted: Option<Value>,
    last_emit_time: Instant,
    summary: LoadSummary,
    started_ms: i64,
    warned: HashSet<String>,
    /// Set by a termination signal.
    stop: Arc<AtomicBool>,
    /// Length of the input line being handled.
    line_bytes: usize,
}

impl<T: Target> Loader<'_, T> {
    fn read_all<R: BufRead, W: Write>(
        &mut self,
        reader: &mut MessageReader<R>,
        out: &mut MessageWriter<W>,
        mut mapper: Option<&mut Mapper>,
    ) -> Result<()> {
        while let Some(message) = reader.next_message()? {
            if self.stop.load(Ordering::Relaxed) {
                tracing::warn!("Termination signal received: loading what was read and stopping.");
                break;
            }
            let line = reader.line_number();
            self.summary.lines = line;
            match message {
                Message::Schema(schema) => match mapper.as_deref_mut() {
                    Some(maps) => {
                        for schema in maps.map_schema(schema).map_err(|e| at_line(line, e))? {
                            self.on_schema(schema, line)?;
                        }
                    }
                    None => self.on_schema(schema, line)?,
                },
                Message::Record(record) => {
                    self.line_bytes = reader.line_len();
                    match mapper.as_deref() {
                        Some(maps) => {
                            for record in maps.map_record(record).map_err(|e| at_line(line, e))? {
                                self.on_record(record, line)?;
                            }
                        }
                        None => self.on_record(record, line)?,
                    }
                    let limit = self.options.batch_wait_limit;
                    if !limit.is_zero() && self.oldest_age() > limit {
                        self.drain_all()?;
                        self.emit_state(out, false)?;
                    }
                }
                Message::State(state) => {
                    self.latest_state = Some(state.value);
                    let idle = self.in_flight.is_empty()
                        && self.streams.values().all(|s| s.buffer.is_empty());
                    if idle || self.last_emit_time.elapsed() >= self.options.batch_wait_limit {
                        self.drain_all()?;
                        self.emit_state(out, false)?;
                    }
                }
                Message::ActivateVersion(message) => match mapper.as_deref() {
                    Some(maps) => {
                        for message in maps.map_activate_version(message) {
                            self.on_activate_version(&message, line)?;
                        }
                    }
                    None => self.on_activate_version(&message, line)?,
                },
                Message::Batch(batch) => {
                    let records =
                        crate::batch::read_records(&batch).map_err(|e| at_line(line, e))?;
                    for record in records {
                        let record = record.map_err(|e| at_line(line, e))?;
                        let outputs = match mapper.as_deref() {
                            Some(maps) => maps
                                .map_batch_record(&batch.stream, record)
                                .map_err(|e| at_line(line, e))?,
                            None => vec![(batch.stream.clone(), record)],
                        };
                        for (stream, record) in outputs {
                            let message = RecordMessage {
                                stream,
                                record,
                                version: None,
                                time_extracted: None,
                            };
                            self.on_record(message, line)?;
                        }
                    }
                }
                Message::Unknown(map) => {
                    let kind = map
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    self.warn_once(
                        &kind,
                        &format!("Ignoring messages of unknown type `{kind}`."),
                    );
                }
            }
        }
        Ok(())
    }

    fn on_activate_version(&mut self, message: &ActivateVersionMessage, line: u64) -> Result<()> {
        if !self.options.process_activate_version_messages {
            self.warn_once(
                "activate",
                "Ignoring ACTIVATE_VERSION messages (process_activate_version_messages is off).",
            );
            return Ok(());
        }
        if !self.streams.contains_key(&message.stream) {
            return Err(line_error(
                line,
                format!(
                    "ACTIVATE_VERSION for stream `{}` before its SCHEMA; the tap must send SCHEMA first",
                    message.stream
                ),
            ));
        }
        self.drain(&message.stream, true)?;
        let slot = self
            .streams
            .get_mut(&message.stream)
            .expect("checked above");
        slot.worker
            .activate(message.version)
            .map_err(|e| stream_error(&message.stream, e))
    }

    fn warn_once(&mut self, key: &str, message: &str) {
        if self.warned.insert(key.to_owned()) {
            tracing::warn!("{message}");
        }
    }

    fn on_schema(&mut self, message: SchemaMessage, line: u64) -> Result<()> {
        let received = (message.schema.clone(), message.key_properties.clone());
        if let Some(slot) = self.streams.get(&message.stream) {
            if slot.received == received {
                return Ok(());
            }
        }
        let Some(properties) = crate::schema::properties(&message.schema) else {
            return Err(line_error(
                line,
                format!(
                    "SCHEMA for stream `{}` has no `properties` object; a target needs an object schema listing its properties",
                    message.stream
                ),
            ));
        };
        for key in &message.key_properties {
            if !properties.contains_key(key) {
                return Err(line_error(
                    line,
                    format!(
                        "SCHEMA for stream `{}` names key property `{key}`, which is not among its properties",
                        message.stream
                    ),
                ));
            }
        }
        let mut schema = message.schema;
        if self.options.add_record_metadata {
            if let Some(Value::Object(properties)) = schema.get_mut("properties") {
                for (name, kind) in METADATA_COLUMNS {
                    let column = if kind == "date-time" {
                        json!({"type": ["null", "string"], "format": "date-time"})
                    } else {
                        json!({"type": ["null", "integer"]})
                    };
                    properties.insert(name.to_owned(), column);
                }
            }
        }
        let validator = if self.options.validate_records {
            let mut for_validation = schema.clone();
            if let Some(object) = for_validation.as_object_mut() {
                object.remove("$schema");
            }
            Some(
                jsonschema::options()
                    // Singer schemas are written with Draft 4/7 keywords; unless the schema
                    // names its draft, Draft 7 reads them as their authors meant.
                    .with_draft(draft_of(&schema))
                    .should_validate_formats(false)
                    .build(&for_validation)
                    .map_err(|e| {
                        line_error(
                            line,
                            format!(
                                "SCHEMA for stream `{}` is not a valid JSON Schema: {e}",
                                message.stream
                            ),
                        )
                    })?,
            )
        } else {
            None
        };
        let datetime_fields = crate::schema::properties(&schema)
            .map(|p| {
                p.iter()
                    .filter(|(_, s)| crate::schema::format(s) == Some("date-time"))
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        let stream = Arc::new(StreamSchema {
            name: message.stream.clone(),
            schema,
            key_properties: message.key_properties,
            bookmark_properties: message.bookmark_properties.unwrap_or_default(),
        });
        // A changed schema or key: finish the old sink before the new one opens.
        if self.streams.contains_key(&message.stream) {
            self.drain(&message.stream, true)?;
            if let Some(old) = self.streams.remove(&message.stream) {
                self.in_flight.retain(|n| n != &message.stream);
                old.worker
                    .close()
                    .map_err(|e| stream_error(&message.stream, e))?;
                RecordCount {
                    stream: &message.stream,
                    context: None,
                    count: old.count,
                }
                .emit();
            }
        }
        let sink = self
            .target
            .open_sink(&self.client, &stream, self.options)
            .map_err(|e| stream_error(&message.stream, e))?;
        let worker = Worker::start(&message.stream, sink)?;
        self.streams.insert(
            message.stream,
            Slot {
                stream,
                received,
                validator,
                datetime_fields,
                worker,
                buffer: Vec::new(),
                buffer_bytes: 0,
                last_line: 0,
                draining_line: 0,
                count: 0,
            },
        );
        Ok(())
    }

    fn on_record(&mut self, message: RecordMessage, line: u64) -> Result<()> {
        let RecordMessage {
            stream,
            mut record,
            version,
            time_extracted,
        } = message;
        let Some(slot) = self.streams.get_mut(&stream) else {
            return Err(line_error(
                line,
                format!(
                    "RECORD for stream `{stream}` before its SCHEMA; the tap must send a SCHEMA message first"
                ),
            ));
        };
        if self.options.add_record_metadata {
            let now = format_timestamp(Utc::now());
            record.insert(
                "_sdc_extracted_at".to_owned(),
                time_extracted.map_or(Value::Null, Value::from),
            );
            record.insert("_sdc_received_at".to_owned(), Value::from(now));
            record.insert("_sdc_batched_at".to_owned(), Value::Null);
            record.entry("_sdc_deleted_at").or_insert(Value::Null);
            record.insert(
                "_sdc_sequence".to_owned(),
                Value::from(Utc::now().timestamp_millis()),
            );
            record.insert(
                "_sdc_table_version".to_owned(),
                version.map_or(Value::Null, Value::from),
            );
            record.insert(
                "_sdc_sync_started_at".to_owned(),
                Value::from(self.started_ms),
            );
        } else if record.keys().any(|k| k.starts_with("_sdc_")) {
            for (name, _) in METADATA_COLUMNS {
                record.shift_remove(name);
            }
        }
        for key in &slot.stream.key_properties {
            if record.get(key).is_none_or(Value::is_null) {
                return Err(line_error(
                    line,
                    format!(
                        "record of stream `{stream}` lacks key property `{key}`; every record needs a value for each of {:?}",
                        slot.stream.key_properties
                    ),
                ));
            }
        }
        let record = Value::Object(record);
        if let Some(validator) = slot.validator.as_ref().filter(|v| !v.is_valid(&record)) {
            if let Some(error) = validator.iter_errors(&record).next() {
                let path = error.instance_path.to_string();
                let rule = error.schema_path.to_string();
                let rule = rule.rsplit('/').next().unwrap_or("").to_owned();
                return Err(line_error(
                    line,
                    format!(
                        "record of stream `{stream}` does not match its schema at `{}`: {error} (rule `{rule}`)",
                        if path.is_empty() { "/" } else { &path }
                    ),
                ));
            }
        }
        let Value::Object(mut record) = record else {
            unreachable!("built as an object above")
        };
        for field in &slot.datetime_fields {
            if let Some(Value::String(text)) = record.get_mut(field) {
                match normalize_datetime(text) {
                    Some(Some(normal)) => *text = normal,
                    Some(None) => {}
                    None => {
                        return Err(line_error(
                            line,
                            format!(
                                "record of stream `{stream}`: `{field}` is {text:?}, which is not a date-time; send RFC 3339 timestamps such as 2024-01-31T12:00:00Z"
                            ),
                        ));
                    }
                }
            }
        }
        slot.buffer.push(record);
        slot.buffer_bytes += self.line_bytes;
        slot.last_line = line;
        slot.count += 1;
        self.oldest.get_or_insert_with(Instant::now);
        self.summary.records += 1;
        if slot.buffer.len() >= self.options.batch_size_rows || slot.buffer_bytes >= MAX_BATCH_BYTES
        {
            self.drain(&stream, false)?;
        }
        Ok(())
    }

    /// How long the oldest record buffered since the last full drain has waited.
    fn oldest_age(&self) -> Duration {
        self.oldest.map(|t| t.elapsed()).unwrap_or_default()
    }

    /// Hands the stream's buffer to its sink's thread; with `wait`, also waits for it.
    fn drain(&mut self, name: &str, wait: bool) -> Result<()> {
        self.join(name)?;
        let has_records = self
            .streams
            .get(name)
            .is_some_and(|slot| !slot.buffer.is_empty());
        if has_records {
            while self.in_flight.len() >= self.options.max_parallelism {
                let oldest = self.in_flight.pop_front().expect("non-empty");
                self.join(&oldest)?;
            }
            let slot = self.streams.get_mut(name).expect("drain of a known stream");
            let mut records = std::mem::take(&mut slot.buffer);
            slot.buffer_bytes = 0;
            let batched_at = Utc::now();
            if self.options.add_record_metadata {
                let at = Value::from(format_timestamp(batched_at));
                for record in &mut records {
                    record.insert("_sdc_batched_at".to_owned(), at.clone());
                }
            }
            slot.worker.write(Batch {
                stream: Arc::clone(&slot.stream),
                records,
                batched_at,
            })?;
            slot.draining_line = slot.last_line;
            self.in_flight.push_back(name.to_owned());
        }
        if wait {
            self.join(name)?;
        }
        Ok(())
    }

    /// Waits for the stream's write under way, if any.
    fn join(&mut self, name: &str) -> Result<()> {
        let Some(slot) = self.streams.get_mut(name) else {
            return Ok(());
        };
        if !slot.worker.is_busy() {
            return Ok(());
        }
        self.in_flight.retain(|n| n != name);
        let line = slot.draining_line;
        slot.worker.wait().map_err(|e| {
            stream_error(
                name,
                Error::context(
                    format!("cannot write the records read up to input line {line}"),
                    e,
                ),
            )
        })
    }

    fn drain_all(&mut self) -> Result<()> {
        self.oldest = None;
        let names: Vec<String> = self.streams.keys().cloned().collect();
        for name in &names {
            self.drain(name, false)?;
        }
        for name in &names {
            self.join(name)?;
        }
        Ok(())
    }

    fn join_all_quietly(&mut self) {
        for slot in self.streams.values_mut() {
            let _ = slot.worker.wait();
        }
    }

    fn emit_state<W: Write>(&mut self, out: &mut MessageWriter<W>, always: bool) -> Result<()> {
        let Some(state) = &self.latest_state else {
            return Ok(());
        };
        self.last_emit_time = Instant::now();
        if !always && self.last_emitted.as_ref() == Some(state) {
            return Ok(());
        }
        let mut line = serde_json::to_vec(state)?;
        line.push(b'\n');
        out.write_raw(&line)?;
        out.flush()?;
        self.last_emitted = Some(state.clone());
        self.summary.states_emitted += 1;
        Ok(())
    }

    fn finish<W: Write>(&mut self, out: &mut MessageWriter<W>) -> Result<()> {
        self.drain_all()?;
        let mut names: Vec<String> = self.streams.keys().cloned().collect();
        names.sort();
        for name in names {
            let slot = self.streams.remove(&name).expect("listed above");
            slot.worker.close().map_err(|e| stream_error(&name, e))?;
            RecordCount {
                stream: &name,
                context: None,
                count: slot.count,
            }
            .emit();
        }
        let unchanged = self.last_emitted.is_some() && self.last_emitted == self.latest_state;
        self.emit_state(out, !unchanged)
    }
}

/// The JSON Schema draft a schema names in `$schema`, Draft 7 when it names none.
fn draft_of(schema: &Value) -> jsonschema::Draft {
    match schema.get("$schema").and_then(Value::as_str) {
        Some(uri) if uri.contains("draft-04") => jsonschema::Draft::Draft4,
        Some(uri) if uri.contains("draft-06") => jsonschema::Draft::Draft6,
        Some(uri) if uri.contains("2019-09") => jsonschema::Draft::Draft201909,
        Some(uri) if uri.contains("2020-12") => jsonschema::Draft::Draft202012,
        _ => jsonschema::Draft::Draft7,
    }
}

/// An error of the stream maps, placed at an input line.
fn at_line(line: u64, error: Error) -> Error {
    Error::context(format!("line {line}"), error)
}

fn line_error(line: u64, message: String) -> Error {
    Error::Message {
        line,
        message,
        excerpt: String::new(),
    }
}

fn stream_error(stream: &str, error: Error) -> Error {
    match error {
        e @ Error::Stream { .. } => e,
        other => Error::Stream {
            stream: stream.to_owned(),
            source: Box::new(other),
        },
    }
}

/// `Some(None)` when `text` already is a UTC RFC 3339 timestamp in singer-sdk's form,
/// `Some(Some(normal))` when it is another valid date-time, `None` when it is not one.
fn normalize_datetime(text: &str) -> Option<Option<String>> {
    let bytes = text.as_bytes();
    let canonical = (bytes.len() == 25 || bytes.len() == 32)
        && text.ends_with("+00:00")
        && bytes[10] == b'T'
        && crate::state::parse_datetime(text).is_some();
    if canonical {
        return Some(None);
    }
    crate::state::parse_datetime(text).map(|t| Some(format_timestamp(t.to_utc())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_normalised_to_utc() {
        assert_eq!(normalize_datetime("2024-01-01T00:00:00+00:00"), Some(None));
        assert_eq!(
            normalize_datetime("2024-01-01T05:30:00+05:30"),
            Some(Some("2024-01-01T00:00:00+00:00".to_owned()))
        );
        assert_eq!(
            normalize_datetime("2024-01-01T00:00:00.5Z"),
            Some(Some("2024-01-01T00:00:00.500000+00:00".to_owned()))
        );
        assert_eq!(normalize_datetime("yesterday"), None);
    }

    #[test]
    fn options_from_config() {
        let config = json!({"load_method": "upsert", "batch_size_rows": 2, "validate_records": false, "batch_wait_limit_seconds": 0.5});
        let options = TargetOptions::from_config(config.as_object().unwrap());
        assert_eq!(options.load_method, LoadMethod::Upsert);
        assert_eq!(options.batch_size_rows, 2);
        assert!(!options.validate_records);
        assert_eq!(options.batch_wait_limit, Duration::from_millis(500));
    }
}
