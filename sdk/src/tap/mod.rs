//! The [`Tap`] trait and the sync runtime.
//!
//! A tap hands the runtime its [`Streams`]; the runtime applies the catalog, restores
//! bookmarks from state, runs each selected stream, drops records older than the bookmark,
//! tracks the newest replication key value with a typed comparison, and writes SCHEMA, RECORD
//! and STATE messages. Records are serialised once, straight into an output buffer; a single
//! writer puts whole chunks on stdout and applies each chunk's bookmark only after the chunk's
//! records are written, so a STATE never covers a record that was not emitted before it.

mod options;
mod output;
mod partition;
mod plan;
mod run;
mod streams;
mod writer;

use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use chrono::Utc;
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::capability::Capabilities;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::mapper::Mapper;
use crate::message::{Message, MessageWriter, SchemaMessage};
use crate::settings::Settings;
use crate::state::State;

pub use options::TapOptions;
pub use streams::Streams;

use self::run::{Shared, sync_stream};
use self::writer::{Chunk, write_loop};

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
    fn capabilities(&self) -> Capabilities {
        Capabilities::tap()
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
    /// Write records to BATCH files instead of RECORD lines (`batch_config`).
    pub batch: Option<crate::batch::BatchConfig>,
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
            key_properties: stream.key_properties().to_vec(),
            bookmark_properties: stream.replication_key().map(|k| vec![k.to_owned()]),
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
    let plans = plan::plan(streams, &options, mapper.as_mut())?;
    let mapper = mapper.map(Arc::new);
    let started = Utc::now();
    let (sender, receiver) = mpsc::channel::<Chunk>(32);
    let initial = options.state.clone();
    let writer = tokio::task::spawn_blocking(move || write_loop(receiver, out, options.state));

    let parallelism = options.max_parallelism.max(streams.concurrency());
    let shared = Arc::new(Shared {
        mapper: mapper.clone(),
        initial,
        start_date: options.start_date,
        record_limit: options.record_limit,
        started,
        version: options.emit_activate_version.then(|| started.timestamp()),
        batch: options.batch,
        sender: sender.clone(),
        permits: Arc::new(tokio::sync::Semaphore::new(parallelism)),
    });
    let jobs = plans
        .into_iter()
        .map(|plan| sync_stream(plan, Arc::clone(&shared)));
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
    // Stop partitions still running, and let go of their senders.
    shared.permits.close();
    drop(shared);
    if stopped {
        let last = Chunk {
            bytes: Vec::new(),
            update: None,
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
