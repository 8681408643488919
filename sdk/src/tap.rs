//! The [`Tap`] trait and the sync runtime.
//!
//! A tap hands the runtime its [`Streams`]; the runtime applies the catalog, restores
//! bookmarks from state, runs each selected stream, drops records older than the bookmark,
//! tracks the newest replication key value with a typed comparison, and writes SCHEMA, RECORD
//! and STATE messages. Records are serialised once, straight into an output buffer; a single
//! writer puts whole chunks on stdout and applies each chunk's bookmark only after the chunk's
//! records are written, so a STATE never covers a record that was not emitted before it.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::catalog::{self, Catalog, CatalogEntry, ReplicationMethod};
use crate::error::{Error, Result};
use crate::logging::{RecordCount, SyncDuration};
use crate::mapper::Mapper;
use crate::message::{
    ActivateVersionMessage, Message, MessageWriter, RecordEncoder, RecordMessage, SchemaMessage,
};
use crate::settings::Settings;
use crate::state::{self, KeyKind, State};
use crate::stream::{Context, Stream, SyncContext};

/// A Singer tap: its settings type and its streams.
///
/// ```
/// use serde::Deserialize;
/// use singer_sdk::tap::{Streams, Tap};
/// use singer_sdk::{Result, Settings};
///
/// #[derive(Deserialize, Settings)]
/// struct Config {
///     /// Where the data lives.
///     path: String,
/// }
///
/// struct MyTap;
///
/// impl Tap for MyTap {
///     type Settings = Config;
///     async fn streams(&self, settings: &Config) -> Result<Streams> {
///         if settings.path.is_empty() {
///             return Err(singer_sdk::Error::custom("`path` is empty; set it to a folder"));
///         }
///         Ok(Streams::new())
///     }
/// }
///
/// // `#[singer_sdk::main] fn main() -> MyTap { MyTap }` turns it into a full binary.
/// let _tap = MyTap;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Singer tap",
    note = "implement `singer_sdk::tap::Tap` for `{Self}`: a `Settings` type and `streams`"
)]
pub trait Tap: Send + Sync + 'static {
    /// The settings the tap reads from `--config`.
    type Settings: Settings;

    /// The tap's streams, built from its settings.
    fn streams(&self, settings: &Self::Settings) -> impl Future<Output = Result<Streams>> + Send;

    /// The capabilities `--about` reports (and Meltano's `capabilities:` should list).
    fn capabilities(&self) -> crate::capability::Capabilities {
        crate::capability::Capabilities::tap()
    }

    /// The catalog `--discover` prints. The default describes every stream with its schema
    /// and standard metadata; override it to add metadata (e.g. `schema-name`, `row-count`).
    ///
    /// # Errors
    /// Whatever discovery needs and cannot get.
    fn catalog(&self, streams: &Streams) -> Result<Catalog> {
        Ok(streams.catalog())
    }

    /// How many streams sync at once. The default, 1, gives the same message order on every
    /// run, as singer-sdk does.
    fn max_parallelism(&self) -> usize {
        1
    }
}

/// The streams of a tap, each with its own record type.
#[derive(Default)]
pub struct Streams {
    inner: Vec<Arc<dyn AnyStream>>,
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
                if !properties.contains_key(&key) {
                    return Err(fail(format!(
                        "key property `{key}` is not in the schema; add it to `properties` or remove it from the key"
                    )));
                }
            }
            if let Some(key) = stream.replication_key() {
                if !properties.contains_key(&key) {
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
                let keys = stream.key_properties();
                let replication_key = stream.replication_key();
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

/// What to run.
#[derive(Default)]
pub struct SyncOptions {
    /// The input catalog (`--catalog`); `None` syncs every stream selected by default.
    pub catalog: Option<Catalog>,
    /// The input state (`--state`).
    pub state: State,
    /// Stop each stream after this many records (`--test` uses 1).
    pub record_limit: Option<u64>,
    /// Select every stream whatever the catalog says (`--test`).
    pub select_all: bool,
    /// `start_date` from the config: the floor for incremental streams without a bookmark.
    pub start_date: Option<Value>,
    /// Emit ACTIVATE_VERSION for full-table streams and version their records.
    pub emit_activate_version: bool,
    /// How many streams sync at once.
    pub max_parallelism: usize,
    /// Stream maps and flattening, applied to every SCHEMA, RECORD and ACTIVATE_VERSION.
    pub mapper: Option<Mapper>,
}

/// Writes a SCHEMA message per stream and nothing else (`--test=schema`).
///
/// # Errors
/// [`Error::Io`] when writing fails.
pub fn write_schemas<W: Write>(streams: &Streams, out: &mut MessageWriter<W>) -> Result<()> {
    for stream in &streams.inner {
        out.write(&Message::Schema(SchemaMessage {
            stream: stream.name().to_owned(),
            schema: stream.schema(),
            key_properties: stream.key_properties(),
            bookmark_properties: stream.replication_key().map(|k| vec![k]),
        }))?;
    }
    out.flush()
}

/// Syncs the selected streams, writing Singer messages to `out`; returns the final state.
///
/// # Errors
/// A catalog that names unknown streams or a replication key outside the schema, a stream
/// that fails, or output that cannot be written. The state emitted before the failure stays
/// valid.
pub async fn sync<W: Write + Send + 'static>(
    streams: &Streams,
    options: SyncOptions,
    out: MessageWriter<W>,
) -> Result<(State, MessageWriter<W>)> {
    let mut options = options;
    let mut mapper = options.mapper.take();
    let plans = plan(streams, &options, mapper.as_mut())?;
    let mapper = mapper.map(Arc::new);
    let started = Utc::now();
    let initial = Arc::new(options.state.clone());
    let (sender, receiver) = mpsc::channel::<Chunk>(32);
    let writer = tokio::task::spawn_blocking(move || write_loop(receiver, out, options.state));

    let parallelism = options.max_parallelism.max(1);
    let record_limit = options.record_limit;
    let start_date = options.start_date;
    let version = options.emit_activate_version.then(|| started.timestamp());
    let jobs = plans.into_iter().map(|plan| {
        let sender = sender.clone();
        let initial = Arc::clone(&initial);
        let start_date = start_date.clone();
        let mapper = mapper.clone();
        async move {
            let job = Job {
                plan: &plan,
                mapper: mapper.as_deref(),
                initial: &initial,
                start_date: start_date.as_ref(),
                record_limit,
                started,
                version,
                sender,
            };
            plan.stream.clone().sync(job).await
        }
    });
    let mut results = futures::stream::iter(jobs).buffer_unordered(parallelism);
    let mut failure = None;
    let mut stopped = false;
    let terminated = termination();
    tokio::pin!(terminated);
    loop {
        tokio::select! {
            result = results.next() => match result {
                None => break,
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    failure = Some(e);
                    break;
                }
            },
            () = &mut terminated => {
                tracing::warn!("Termination signal received: writing the last state and stopping.");
                stopped = true;
                break;
            }
        }
    }
    drop(results);
    if stopped {
        let last = Chunk {
            bytes: Vec::new(),
            bookmark: None,
            emit_state: true,
            force_state: true,
        };
        // The writer may be gone already (output closed); the state then cannot go out.
        let _ = sender.send(last).await;
    }
    drop(sender);
    let written = writer
        .await
        .map_err(|e| Error::custom(format!("the output writer stopped unexpectedly: {e}")))?;
    if let Some(error) = failure {
        return Err(error);
    }
    if let Some(mapper) = &mapper {
        mapper.finish();
    }
    written
}

/// Resolves on SIGTERM or SIGINT (never, where signals cannot be watched).
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    std::future::pending::<()>().await;
}

/// One selected stream, with the catalog applied.
struct Plan {
    stream: Arc<dyn AnyStream>,
    /// The SCHEMA messages to write: the stream's own, or what the stream maps made of it.
    schemas: Vec<SchemaMessage>,
    replication_key: Option<String>,
    key_kind: KeyKind,
    /// Property paths to drop from records (deselected in the catalog), e.g. `["a", "b"]`.
    deselected: Vec<Vec<String>>,
}

fn plan(
    streams: &Streams,
    options: &SyncOptions,
    mut mapper: Option<&mut Mapper>,
) -> Result<Vec<Plan>> {
    if let Some(catalog) = &options.catalog {
        for entry in &catalog.streams {
            if !streams
                .inner
                .iter()
                .any(|s| s.name() == entry.tap_stream_id)
            {
                return Err(Error::Catalog(format!(
                    "stream `{}` is not a stream of this tap (its streams: {}); run --discover for a fresh catalog",
                    entry.tap_stream_id,
                    streams.names().join(", ")
                )));
            }
        }
    }
    let mut plans = Vec::new();
    for stream in &streams.inner {
        let entry = options
            .catalog
            .as_ref()
            .and_then(|c| c.stream(stream.name()));
        let selected = options.select_all
            || match (&options.catalog, entry) {
                (None, _) => stream.selected_by_default(),
                (Some(_), None) => false,
                (Some(_), Some(entry)) => entry.is_selected(),
            };
        if !selected {
            tracing::debug!(stream = stream.name(), "Stream not selected; skipping.");
            continue;
        }
        let mut schema = stream.schema();
        let mut key_properties = stream.key_properties();
        let mut replication_key = stream.replication_key();
        let mut deselected = Vec::new();
        if let Some(entry) = entry {
            if let Some(keys) = entry.key_properties() {
                key_properties = keys;
            }
            match entry.replication_method() {
                Some(ReplicationMethod::FullTable) => replication_key = None,
                _ => {
                    if let Some(key) = entry.replication_key() {
                        replication_key = Some(key.to_owned());
                    }
                }
            }
            if !options.select_all {
                let mut keep: Vec<&str> = key_properties.iter().map(String::as_str).collect();
                keep.extend(replication_key.as_deref());
                prune_schema(&mut schema, entry, &keep, &mut Vec::new(), &mut deselected);
            }
        }
        let properties = crate::schema::properties(&schema);
        let key_kind = match &replication_key {
            None => KeyKind::Text,
            Some(key) => match properties.and_then(|p| p.get(key)) {
                Some(property) => KeyKind::from_schema(property),
                None => {
                    return Err(Error::StreamDefinition {
                        stream: stream.name().to_owned(),
                        message: format!(
                            "replication key `{key}` is not in the schema; choose a property of the stream as replication key"
                        ),
                    });
                }
            },
        };
        let message = SchemaMessage {
            stream: stream.name().to_owned(),
            schema: schema.clone(),
            key_properties: key_properties.clone(),
            bookmark_properties: replication_key.clone().map(|k| vec![k]),
        };
        let schemas = match mapper.as_deref_mut() {
            Some(mapper) => mapper.map_schema(message)?,
            None => vec![message],
        };
        plans.push(Plan {
            stream: Arc::clone(stream),
            schemas,
            replication_key,
            key_kind,
            deselected,
        });
    }
    Ok(plans)
}

/// What a stream's task sends to the writer.
struct Chunk {
    /// Whole message lines.
    bytes: Vec<u8>,
    /// A bookmark to store once `bytes` are written: (stream, partition, bookmark).
    bookmark: Option<(String, Option<Context>, Map<String, Value>)>,
    /// Write a STATE message after this chunk.
    emit_state: bool,
    /// Write it even when it equals the last one written.
    force_state: bool,
}

fn write_loop<W: Write>(
    mut receiver: mpsc::Receiver<Chunk>,
    mut out: MessageWriter<W>,
    mut state: State,
) -> Result<(State, MessageWriter<W>)> {
    let mut last_emitted: Option<Value> = None;
    let mut emit = |state: &State, out: &mut MessageWriter<W>, force: bool| -> Result<()> {
        let value = state.to_value();
        if force || last_emitted.as_ref() != Some(&value) {
            out.write_state(&value)?;
            last_emitted = Some(value);
        }
        Ok(())
    };
    if !state.is_empty() {
        emit(&state, &mut out, false)?;
    }
    while let Some(chunk) = receiver.blocking_recv() {
        out.write_raw(&chunk.bytes)?;
        if let Some((stream, context, bookmark)) = chunk.bookmark {
            *state.bookmark_mut(&stream, context.as_ref()) =
                bookmark_with_context(bookmark, context.as_ref());
        }
        if chunk.emit_state {
            emit(&state, &mut out, chunk.force_state)?;
        }
    }
    // Whatever was written is covered by the state now held: make sure it is out, also when
    // the sync stopped early (a failure or a termination signal).
    if !state.is_empty() {
        emit(&state, &mut out, false)?;
    }
    out.flush()?;
    Ok((state, out))
}

fn bookmark_with_context(
    bookmark: Map<String, Value>,
    context: Option<&Context>,
) -> Map<String, Value> {
    match context {
        None => bookmark,
        Some(context) => {
            let mut with = Map::new();
            with.insert(
                state::keys::CONTEXT.to_owned(),
                Value::Object(context.clone()),
            );
            with.extend(
                bookmark
                    .into_iter()
                    .filter(|(k, _)| k != state::keys::CONTEXT),
            );
            with
        }
    }
}

struct Job<'a> {
    plan: &'a Plan,
    mapper: Option<&'a Mapper>,
    initial: &'a State,
    start_date: Option<&'a Value>,
    record_limit: Option<u64>,
    started: DateTime<Utc>,
    version: Option<i64>,
    sender: mpsc::Sender<Chunk>,
}

/// A stream with its record type erased, so streams of different types live in one list.
trait AnyStream: Send + Sync {
    fn name(&self) -> &str;
    fn schema(&self) -> Value;
    fn key_properties(&self) -> Vec<String>;
    fn replication_key(&self) -> Option<String>;
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

    fn key_properties(&self) -> Vec<String> {
        Stream::key_properties(self)
    }

    fn replication_key(&self) -> Option<String> {
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

/// Bytes buffered per stream before they go to the writer.
const CHUNK_BYTES: usize = 64 * 1024;

async fn sync_stream<S: Stream>(stream: &S, job: Job<'_>) -> Result<()> {
    let plan = job.plan;
    let name = stream.name();
    let incremental = plan.replication_key.is_some();
    let version = if incremental { None } else { job.version };
    let mut bytes = Vec::with_capacity(CHUNK_BYTES + 4096);
    for schema in &plan.schemas {
        serde_json::to_writer(&mut bytes, &Message::Schema(schema.clone()))?;
        bytes.push(b'\n');
    }
    if let Some(version) = version {
        let activate = ActivateVersionMessage {
            stream: name.to_owned(),
            version,
        };
        let activations = match job.mapper {
            Some(mapper) => mapper.map_activate_version(activate),
            None => vec![activate],
        };
        for activate in activations {
            serde_json::to_writer(&mut bytes, &Message::ActivateVersion(activate))?;
            bytes.push(b'\n');
        }
    }
    let partitions = stream.partitions(job.initial.partitions(name));
    let partitions: Vec<Option<Context>> = match partitions {
        None => vec![None],
        Some(list) => list.into_iter().map(Some).collect(),
    };
    let mut encoder = Output::new(name, version, job.mapper);
    for partition in partitions {
        let started = Instant::now();
        let mut run = PartitionRun::new(stream, &job, partition.as_ref());
        let result = run
            .records(stream, &job, &mut encoder, &mut bytes, partition.clone())
            .await;
        let count = run.count;
        RecordCount {
            stream: name,
            context: partition.as_ref(),
            count,
        }
        .emit();
        SyncDuration {
            stream: name,
            context: partition.as_ref(),
            seconds: started.elapsed().as_secs_f64(),
            succeeded: result.is_ok(),
        }
        .emit();
        if let Err(error) = result {
            // Records already produced were good: write them, with the progress they made
            // where it is resumable, before failing.
            let bookmark = run.progress(&job);
            send(
                &job,
                std::mem::take(&mut bytes),
                Some(bookmark),
                plan.stream_is_sorted(stream),
            )
            .await?;
            return Err(error);
        }
        let bookmark = run.finalize(&job);
        bytes = send(
            &job,
            bytes,
            Some((name.to_owned(), partition, bookmark)),
            true,
        )
        .await?;
        tracing::info!(stream = name, records = count, "Stream partition finished.");
    }
    send(&job, bytes, None, false).await?;
    Ok(())
}

impl Plan {
    fn stream_is_sorted<S: Stream>(&self, stream: &S) -> bool {
        self.replication_key.is_some() && stream.is_sorted()
    }
}

/// Sends a chunk to the writer and returns a fresh buffer.
async fn send(
    job: &Job<'_>,
    bytes: Vec<u8>,
    bookmark: Option<(String, Option<Context>, Map<String, Value>)>,
    emit_state: bool,
) -> Result<Vec<u8>> {
    if bytes.is_empty() && bookmark.is_none() && !emit_state {
        return Ok(bytes);
    }
    job.sender
        .send(Chunk {
            bytes,
            bookmark,
            emit_state,
            force_state: false,
        })
        .await
        .map_err(|_| {
            Error::io(
                "cannot write messages",
                std::io::ErrorKind::BrokenPipe.into(),
            )
        })?;
    Ok(Vec::with_capacity(CHUNK_BYTES + 4096))
}

/// The bookkeeping of one partition (or a whole unpartitioned stream) while it syncs.
struct PartitionRun {
    /// The bookmark as it stands (from state, then updated).
    bookmark: Map<String, Value>,
    partition: Option<Context>,
    sorted: bool,
    starting: Option<Value>,
    max: Option<Value>,
    signpost: Option<Value>,
    count: u64,
    emitted_since_state: usize,
}

impl PartitionRun {
    fn new<S: Stream>(stream: &S, job: &Job<'_>, partition: Option<&Context>) -> Self {
        let plan = job.plan;
        let mut bookmark = job
            .initial
            .bookmark(stream.name(), partition)
            .cloned()
            .unwrap_or_default();
        bookmark.remove(state::keys::CONTEXT);
        let sorted = stream.is_sorted();
        let mut run = PartitionRun {
            bookmark,
            partition: partition.cloned(),
            sorted,
            starting: None,
            max: None,
            signpost: None,
            count: 0,
            emitted_since_state: 0,
        };
        let Some(key) = &plan.replication_key else {
            return run;
        };
        // Where to start: the bookmark if it is on this key, raised to start_date if later.
        let mut starting = None;
        if run
            .bookmark
            .get(state::keys::REPLICATION_KEY)
            .and_then(Value::as_str)
            == Some(key)
        {
            starting = run
                .bookmark
                .get(state::keys::REPLICATION_KEY_VALUE)
                .filter(|v| !v.is_null())
                .cloned();
        }
        if let Some(start_date) = job.start_date {
            let later = match &starting {
                None => true,
                Some(current) => {
                    plan.key_kind.compare(start_date, current) == Some(Ordering::Greater)
                }
            };
            if later && plan.key_kind.parse(start_date).is_some() {
                starting = Some(start_date.clone());
            }
        }
        run.starting = starting
            .clone()
            .filter(|v| plan.key_kind.parse(v).is_some());
        run.signpost = stream.replication_signpost(job.started).or_else(|| {
            (plan.key_kind == KeyKind::DateTime)
                .then(|| Value::from(crate::time::format_timestamp(job.started)))
        });
        if let Some(signpost) = &run.signpost {
            run.bookmark
                .insert(state::keys::SIGNPOST.to_owned(), signpost.clone());
        }
        run.bookmark.insert(
            state::keys::STARTING_VALUE.to_owned(),
            starting.unwrap_or(Value::Null),
        );
        run
    }

    async fn records<S: Stream>(
        &mut self,
        stream: &S,
        job: &Job<'_>,
        encoder: &mut Output<'_>,
        bytes: &mut Vec<u8>,
        partition: Option<Context>,
    ) -> Result<()> {
        let plan = job.plan;
        let cx = SyncContext {
            partition: partition.clone(),
            starting_value: self
                .bookmark
                .get(state::keys::STARTING_VALUE)
                .filter(|v| !v.is_null())
                .cloned(),
            record_limit: job.record_limit,
        };
        let frequency = stream.state_message_frequency().max(1);
        let mut records = stream.records(&cx);
        while let Some(record) = records.next().await {
            let record = record?;
            if let Some(key) = &plan.replication_key {
                let raw = crate::record::field_value(&record, key).unwrap_or(Value::Null);
                if !raw.is_null() && !self.observe(stream.name(), key, plan.key_kind, raw)? {
                    continue;
                }
            }
            encoder.record(&record, &plan.deselected, bytes)?;
            self.count += 1;
            self.emitted_since_state += 1;
            if job.record_limit.is_some_and(|limit| self.count >= limit) {
                break;
            }
            if self.emitted_since_state >= frequency {
                self.emitted_since_state = 0;
                let bookmark = self.progress(job);
                *bytes = send(job, std::mem::take(bytes), Some(bookmark), true).await?;
                encoder.refresh();
            } else if bytes.len() >= CHUNK_BYTES {
                *bytes = send(job, std::mem::take(bytes), None, false).await?;
                encoder.refresh();
            }
        }
        Ok(())
    }

    /// Takes a record's replication key value into account; `false` when the record is older
    /// than the starting value and must be skipped.
    fn observe(&mut self, stream: &str, key: &str, kind: KeyKind, raw: Value) -> Result<bool> {
        let invalid = || {
            Error::custom(format!(
                "replication key `{key}` has value {raw}, which is not a valid {}",
                match kind {
                    KeyKind::DateTime => "date-time",
                    KeyKind::Date => "date",
                    KeyKind::Number => "number",
                    KeyKind::Text => "value",
                }
            ))
        };
        if let Some(start) = &self.starting {
            match kind.compare(&raw, start) {
                Some(Ordering::Less) => return Ok(false),
                Some(_) => {}
                None => return Err(invalid()),
            }
        }
        match &self.max {
            None => {
                if kind.parse(&raw).is_none() {
                    return Err(invalid());
                }
                self.max = Some(raw);
            }
            Some(max) => match kind.compare(&raw, max) {
                None => return Err(invalid()),
                Some(Ordering::Less) if self.sorted => {
                    return Err(Error::UnsortedStream {
                        stream: stream.to_owned(),
                        key: key.to_owned(),
                        previous: max.to_string(),
                        current: raw.to_string(),
                    });
                }
                Some(Ordering::Less) => {}
                Some(_) => self.max = Some(raw),
            },
        }
        Ok(true)
    }

    /// The bookmark mid-sync: sorted streams advance the bookmark itself, unsorted ones keep
    /// `progress_markers` (not resumable, as in singer-sdk).
    fn progress(&self, job: &Job<'_>) -> (String, Option<Context>, Map<String, Value>) {
        let mut bookmark = self.bookmark.clone();
        if let (Some(key), Some(raw)) = (&job.plan.replication_key, &self.max) {
            if self.sorted {
                bookmark.insert(
                    state::keys::REPLICATION_KEY.to_owned(),
                    Value::from(key.as_str()),
                );
                bookmark.insert(state::keys::REPLICATION_KEY_VALUE.to_owned(), raw.clone());
            } else {
                let mut markers = Map::new();
                markers.insert(
                    state::keys::PROGRESS_NOTE.to_owned(),
                    Value::from(state::keys::PROGRESS_NOTE_TEXT),
                );
                markers.insert(
                    state::keys::REPLICATION_KEY.to_owned(),
                    Value::from(key.as_str()),
                );
                markers.insert(state::keys::REPLICATION_KEY_VALUE.to_owned(), raw.clone());
                bookmark.insert(
                    state::keys::PROGRESS_MARKERS.to_owned(),
                    Value::Object(markers),
                );
            }
        }
        (
            job.plan.stream.name().to_owned(),
            self.partition.clone(),
            bookmark,
        )
    }

    /// The bookmark at the end of the partition: progress promoted, capped by the signpost.
    fn finalize(&self, job: &Job<'_>) -> Map<String, Value> {
        let mut bookmark = self.bookmark.clone();
        bookmark.remove(state::keys::SIGNPOST);
        bookmark.remove(state::keys::STARTING_VALUE);
        bookmark.remove(state::keys::PROGRESS_MARKERS);
        if let (Some(key), Some(raw)) = (&job.plan.replication_key, &self.max) {
            let mut value = raw.clone();
            if !self.sorted {
                if let Some(signpost) = &self.signpost {
                    if job.plan.key_kind.compare(raw, signpost) == Some(Ordering::Greater) {
                        value = signpost.clone();
                    }
                }
            }
            bookmark.insert(
                state::keys::REPLICATION_KEY.to_owned(),
                Value::from(key.as_str()),
            );
            bookmark.insert(state::keys::REPLICATION_KEY_VALUE.to_owned(), value);
        }
        bookmark
    }
}

/// Turns a stream's records into RECORD lines: straight from the typed record, or through
/// the stream maps (which may rename, split, filter or flatten them).
struct Output<'a> {
    stream: &'a str,
    version: Option<i64>,
    direct: RecordEncoder,
    mapper: Option<&'a Mapper>,
    mapped: HashMap<String, RecordEncoder>,
}

impl<'a> Output<'a> {
    fn new(stream: &'a str, version: Option<i64>, mapper: Option<&'a Mapper>) -> Self {
        Output {
            stream,
            version,
            direct: RecordEncoder::new(stream, version),
            mapper,
            mapped: HashMap::new(),
        }
    }

    /// Appends the line(s) of one record, dropping deselected properties first.
    fn record<R: Serialize>(
        &mut self,
        record: &R,
        deselected: &[Vec<String>],
        bytes: &mut Vec<u8>,
    ) -> Result<()> {
        if self.mapper.is_none() && deselected.is_empty() {
            return self.direct.encode(record, bytes);
        }
        let mut value = serde_json::to_value(record)?;
        for path in deselected {
            remove_path(&mut value, path);
        }
        let Some(mapper) = self.mapper else {
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
            let version = self.version;
            let encoder = self
                .mapped
                .entry(out.stream)
                .or_insert_with_key(|stream| RecordEncoder::new(stream, version));
            encoder.encode(&out.record, bytes)?;
        }
        Ok(())
    }

    /// Takes a fresh `time_extracted` for the lines that follow.
    fn refresh(&mut self) {
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

/// Drops deselected properties from a schema (recursively through nested objects), with
/// their `required` entries, and lists their paths. Top-level names in `keep` (keys and the
/// replication key) are never dropped.
fn prune_schema(
    schema: &mut Value,
    entry: &CatalogEntry,
    keep: &[&str],
    path: &mut Vec<String>,
    dropped: &mut Vec<Vec<String>>,
) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    let mut gone = Vec::new();
    properties.retain(|name, property| {
        path.push(name.clone());
        let crumbs: Vec<&str> = path.iter().map(String::as_str).collect();
        let selected =
            entry.is_field_selected(&crumbs) || (path.len() == 1 && keep.contains(&name.as_str()));
        if selected {
            prune_schema(property, entry, keep, path, dropped);
        } else {
            dropped.push(path.clone());
            gone.push(name.clone());
        }
        path.pop();
        selected
    });
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|r| r.as_str().is_none_or(|r| !gone.iter().any(|g| g == r)));
    }
}
