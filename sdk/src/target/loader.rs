//! The load loop: reads messages, checks records, buffers them per stream, hands full
//! buffers to each stream's sink on its own thread, and acknowledges STATE only once
//! everything before it is written.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::Utc;
use serde_json::{Map, Value};

use crate::batch::BatchReader;
use crate::error::{Error, Result};
use crate::logging::RecordCount;
use crate::mapper::Mapper;
use crate::message::{
    ActivateVersionMessage, Message, MessageReader, MessageWriter, RecordMessage, SchemaMessage,
};
use crate::sink::{JsonRecords, StreamSchema};

use super::pool::Published;
use super::splice;
use super::validate::RecordCheck;
use super::worker::Worker;
use super::{Target, TargetOptions, metadata};

mod buffers;
mod parallel;

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
/// `batch_size_rows` says, unless the target sets [`Target::BATCH_BYTES`]: parsed records take
/// several times their JSON size in memory, and this keeps a target's memory flat and small
/// (two batches per stream at most are held).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Reads Singer messages from `input` and loads them through the target's sinks, writing
/// acknowledged state values to `out`.
///
/// # Errors
/// A malformed line, a RECORD before its SCHEMA, an invalid schema, a record failing
/// validation or lacking a key property, or a sink that fails. No state is written after
/// the first error.
pub fn load<T: Target, R: BufRead + Send, W: Write>(
    target: Arc<T>,
    options: &TargetOptions,
    mapper: Option<Mapper>,
    input: R,
    out: &mut MessageWriter<W>,
) -> Result<LoadSummary> {
    load_with(target, options, mapper, out, |run, out, mapper| {
        if options.workers_for::<T>() > 1 {
            run.read_parallel(input, out, mapper)
        } else {
            run.read_all(&mut MessageReader::new(input), out, mapper)
        }
    })
}

/// [`load`] on an input it owns, as a process's stdin: the parallel path reads it on a
/// thread that is left behind, not waited for, when the load stops early (an error, a
/// termination signal), so the error comes back at once even while the producer keeps the
/// input open and sends nothing. That thread ends at the input's end or with the process.
///
/// # Errors
/// As [`load`].
pub fn load_owned<T: Target, R: BufRead + Send + 'static, W: Write>(
    target: Arc<T>,
    options: &TargetOptions,
    mapper: Option<Mapper>,
    input: R,
    out: &mut MessageWriter<W>,
) -> Result<LoadSummary> {
    load_with(target, options, mapper, out, |run, out, mapper| {
        if options.workers_for::<T>() > 1 {
            run.read_parallel_owned(input, out, mapper)
        } else {
            run.read_all(&mut MessageReader::new(input), out, mapper)
        }
    })
}

/// The load loop around `read`, which reads the input and handles every message.
fn load_with<T: Target, W: Write>(
    target: Arc<T>,
    options: &TargetOptions,
    mut mapper: Option<Mapper>,
    out: &mut MessageWriter<W>,
    read: impl FnOnce(&mut Loader<'_, T>, &mut MessageWriter<W>, Option<&mut Mapper>) -> Result<()>,
) -> Result<LoadSummary> {
    let mut run = Loader {
        target,
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
        batches: options
            .batch_storage
            .as_ref()
            .map_or_else(BatchReader::new, BatchReader::with_storage),
        generation: 0,
        published: None,
        scratch: Vec::new(),
    };
    // SIGTERM/SIGINT (Meltano's graceful stop): finish what was read, drain, acknowledge.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            tracing::debug!(error = %e, "Cannot watch termination signals.");
        }
    }
    run.stop = stop;
    if let Err(error) = read(&mut run, out, mapper.as_mut()).and_then(|()| run.finish(out)) {
        return Err(run.first_failure(error));
    }
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
    check: Arc<RecordCheck>,
    worker: Worker,
    buffer: Vec<Map<String, Value>>,
    /// With checks left to the sink's thread: the input line of each buffered record, 0 for
    /// one checked already.
    lines: Vec<u64>,
    /// The buffered records as JSON text, for a target with [`Target::JSON_RECORDS`].
    json: JsonRecords,
    /// Input bytes of the buffered records.
    buffer_bytes: usize,
    /// Input line of the last buffered record.
    last_line: u64,
    /// Input line of the last record of the batch being written.
    draining_line: u64,
    count: u64,
}

impl Slot {
    /// The number of buffered records.
    fn pending(&self) -> usize {
        self.buffer.len() + self.json.len()
    }
}

/// A checked record on its way to its stream's buffer.
enum Checked<'a> {
    Object(Map<String, Value>),
    /// Encoded as a JSON line, with where its `_sdc_batched_at` value goes.
    Json(&'a [u8], Option<usize>),
}

struct Loader<'a, T: Target> {
    target: Arc<T>,
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
    /// Reads the files of BATCH messages, keeping the object stores it opened.
    batches: BatchReader,
    /// Bumped whenever a stream's record checks change.
    generation: u64,
    /// Where the checks in force are published to the parse workers (parallel path only).
    published: Option<Published>,
    /// Where a record is encoded before it is buffered (with [`Target::JSON_RECORDS`]).
    scratch: Vec<u8>,
}

impl<T: Target> Loader<'_, T> {
    fn read_all<R: BufRead, W: Write>(
        &mut self,
        reader: &mut MessageReader<R>,
        out: &mut MessageWriter<W>,
        mut mapper: Option<&mut Mapper>,
    ) -> Result<()> {
        while let Some((line, text, len)) = reader.next_numbered()? {
            let message = Message::parse(text, line)?;
            if self.stop.load(Ordering::Relaxed) {
                tracing::warn!("Termination signal received: loading what was read and stopping.");
                break;
            }
            self.handle(message, line, len, Some(text), out, mapper.as_deref_mut())?;
        }
        Ok(())
    }

    /// Handles one message read from input line `line` of `line_len` bytes, whose text is
    /// `text` when at hand.
    fn handle<W: Write>(
        &mut self,
        message: Message,
        line: u64,
        line_len: usize,
        text: Option<&str>,
        out: &mut MessageWriter<W>,
        mut mapper: Option<&mut Mapper>,
    ) -> Result<()> {
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
                self.line_bytes = line_len;
                match mapper.as_deref() {
                    Some(maps) => {
                        for record in maps.map_record(record).map_err(|e| at_line(line, e))? {
                            self.on_record(record, line, None, true)?;
                        }
                    }
                    None => self.on_record(record, line, text, true)?,
                }
                self.after_record(out)?;
            }
            Message::State(state) => {
                self.latest_state = Some(state.value);
                let idle =
                    self.in_flight.is_empty() && self.streams.values().all(|s| s.pending() == 0);
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
                let mut records = self.batches.read(&batch).map_err(|e| at_line(line, e))?;
                while let Some(record) = records.next() {
                    let record = record.map_err(|e| at_line(line, e))?;
                    let outputs = match mapper.as_deref() {
                        Some(maps) => maps
                            .map_batch_record(&batch.stream, record)
                            .map_err(|e| at_line(line, records.locate(e)))?,
                        None => vec![(batch.stream.clone(), record)],
                    };
                    for (stream, record) in outputs {
                        let message = RecordMessage {
                            stream,
                            record,
                            version: None,
                            time_extracted: None,
                        };
                        // Checked here, so a failure names the record's place in its file.
                        self.on_record(message, line, None, false)
                            .map_err(|e| records.locate(e))?;
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
        Ok(())
    }

    /// After a record: drains everything and acknowledges state when the oldest buffered
    /// record has waited `batch_wait_limit_seconds`.
    fn after_record<W: Write>(&mut self, out: &mut MessageWriter<W>) -> Result<()> {
        let limit = self.options.batch_wait_limit;
        if !limit.is_zero() && self.oldest_age() > limit {
            self.drain_all()?;
            self.emit_state(out, false)?;
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
        let mut schema = message.schema;
        if self.options.add_record_metadata {
            metadata::add_columns(&mut schema);
        }
        let check = RecordCheck::new(
            &message.stream,
            &schema,
            &message.key_properties,
            self.options.validate_records,
        )
        .map_err(|e| line_error(line, e))?;
        let check = Arc::new(check);
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
        let sink = Arc::clone(&self.target)
            .open_sink(&stream)
            .map_err(|e| stream_error(&message.stream, e))?;
        let worker = Worker::start(&message.stream, sink)?;
        self.streams.insert(
            message.stream,
            Slot {
                stream,
                received,
                check,
                worker,
                buffer: Vec::new(),
                lines: Vec::new(),
                json: JsonRecords::default(),
                buffer_bytes: 0,
                last_line: 0,
                draining_line: 0,
                count: 0,
            },
        );
        self.generation += 1;
        self.publish();
        Ok(())
    }

    /// Checks and buffers a record read from `text`, when at hand (not when a stream map or a
    /// BATCH file made it). With `deferrable`, a record a target takes as an object is
    /// buffered unchecked on the line-by-line path and checked on its sink's thread (see
    /// [`Unchecked`]).
    fn on_record(
        &mut self,
        message: RecordMessage,
        line: u64,
        text: Option<&str>,
        deferrable: bool,
    ) -> Result<()> {
        let RecordMessage {
            stream,
            mut record,
            version,
            time_extracted,
        } = message;
        let defer = self.defer_checks();
        let Some(slot) = self.streams.get_mut(&stream) else {
            return Err(line_error(
                line,
                format!(
                    "RECORD for stream `{stream}` before its SCHEMA; the tap must send a SCHEMA message first"
                ),
            ));
        };
        metadata::receive(
            &mut record,
            self.options.add_record_metadata,
            time_extracted,
            version,
            self.started_ms,
        );
        if defer {
            // Line 0: checked already.
            let (record, at) = if deferrable {
                (record, line)
            } else {
                let (record, _) = slot
                    .check
                    .check(&stream, record)
                    .map_err(|e| line_error(line, e))?;
                (record, 0)
            };
            slot.lines.push(at);
            return self.push(&stream, Checked::Object(record), line);
        }
        let (record, rewritten) = slot
            .check
            .check(&stream, record)
            .map_err(|e| line_error(line, e))?;
        if !T::JSON_RECORDS {
            return self.push(&stream, Checked::Object(record), line);
        }
        let text = text
            .filter(|_| !rewritten)
            .map(str::as_bytes)
            .and_then(|text| Some((text, splice::record_text(text)?)));
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let batched_at = splice::encode(
            &record,
            text,
            self.options.add_record_metadata,
            &mut scratch,
        );
        drop(record);
        let pushed = self.push(&stream, Checked::Json(&scratch, batched_at), line);
        self.scratch = scratch;
        pushed
    }

    /// Whether records are checked on their sink's thread: on the line-by-line path, for a
    /// target that takes records as objects.
    fn defer_checks(&self) -> bool {
        !T::JSON_RECORDS && self.published.is_none()
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

/// An error of the stream maps, placed at an input line.
fn at_line(line: u64, error: Error) -> Error {
    Error::context(format!("line {line}"), error)
}

/// An error of input line `line`.
pub(super) fn line_error(line: u64, message: String) -> Error {
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
