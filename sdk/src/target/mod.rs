//! The [`Target`] trait and the load runtime.
//!
//! The runtime reads Singer messages, parses and validates them on a pool of `workers`
//! threads (the input read in large chunks on a thread of its own; with one worker, one
//! reused line buffer on the calling thread), checks every record against the schema in
//! force at its line, normalises date-times, takes the outcomes in input order,
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
//! use singer_sdk::target::{Run, Target, TargetOptions};
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
//!     type Sink = Discard;
//!     fn connect(_settings: Self::Settings, _options: &TargetOptions) -> Result<Self> { Ok(TargetNull) }
//!     fn open_sink(self: Arc<Self>, _stream: &StreamSchema) -> Result<Discard> {
//!         Ok(Discard)
//!     }
//! }
//!
//! // In a binary crate, all of `main`:
//! // #[singer_sdk::main]
//! // fn main() -> Run<TargetNull> { Run::new() }
//! let _: Run<TargetNull> = Run::new();
//! ```

mod chunks;
mod loader;
mod metadata;
mod options;
mod pool;
mod splice;
mod validate;
mod worker;

use std::marker::PhantomData;
use std::sync::Arc;

use crate::capability::Capabilities;
use crate::error::Result;
use crate::settings::Settings;
use crate::sink::{Sink, StreamSchema};

pub use loader::{LoadSummary, MAX_BATCH_BYTES, load, load_owned};
pub use options::{LoadMethod, TargetOptions};

/// A Singer target: what its sinks share (a connection, a directory, open files), built once
/// from the settings, and how to open a sink per stream.
///
/// The target value is the shared state itself: [`connect`](Target::connect) builds it before
/// the first message is read, and every sink gets an `Arc` of it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Singer target",
    note = "implement `singer_sdk::target::Target` for `{Self}`: `Settings`, `Sink`, `connect` and `open_sink`"
)]
pub trait Target: Sized + Send + Sync + 'static {
    /// The settings the target reads from `--config`.
    type Settings: Settings;
    /// The per-stream writer.
    type Sink: Sink;

    /// A stream's records are handed to its sink once they came in this many bytes of input
    /// (or `batch_size_rows` records, whichever comes first). The default,
    /// [`MAX_BATCH_BYTES`], keeps memory small; raise it where every batch has a fixed cost,
    /// such as a database transaction's commit. Up to two batches per stream are held parsed,
    /// at several times their input size each.
    const BATCH_BYTES: usize = MAX_BATCH_BYTES;

    /// The cores the load keeps busy besides parsing: the loader's thread, the sinks' threads
    /// and, when it shares the machine, the server they drive. Unless the `workers` setting
    /// says otherwise, input is parsed on the machine's cores less these (at least one
    /// thread; one means the line-by-line path, with no parse threads). The default, 1,
    /// leaves a core to the loader and the sinks: on 2 cores, the line-by-line path loaded
    /// 1M records 9–18 % faster than two parse threads for target-jsonl, target-csv and
    /// target-sqlite, in half the memory.
    const SINK_CORES: usize = 1;

    /// Whether the sinks take records as JSON text, in [`Batch::json`](crate::sink::Batch),
    /// instead of as objects in [`Batch::records`](crate::sink::Batch). For targets that
    /// write records as JSON (files of JSON lines, a JSON column, a request body): the
    /// runtime then copies a record's input text where it already is what `serde_json` would
    /// write for the checked record (compact, `serde_json`'s escapes and numbers, no date-time
    /// rewritten, no stream map), and serialises the record otherwise, on the parse threads.
    /// Records are still parsed and checked as with objects. The default is objects.
    const JSON_RECORDS: bool = false;

    /// The capabilities `--about` reports; add to [`Capabilities::target`] what the target
    /// does beyond it.
    #[must_use]
    fn capabilities() -> Capabilities {
        Capabilities::target()
    }

    /// Builds the target from its settings and the built-in options, once, before the first
    /// message is read.
    ///
    /// # Errors
    /// The destination cannot be reached or prepared.
    fn connect(settings: Self::Settings, options: &TargetOptions) -> Result<Self>;

    /// Opens the sink of a stream: at its first SCHEMA, and again when a later SCHEMA changes
    /// its schema or key (the previous sink is drained and closed first).
    ///
    /// # Errors
    /// The stream cannot be written (e.g. a table cannot be created).
    fn open_sink(self: Arc<Self>, stream: &StreamSchema) -> Result<Self::Sink>;
}

/// Runs target `T` as a command line: what `#[singer_sdk::main]` returns for a target.
///
/// ```
/// # use std::sync::Arc;
/// # use singer_sdk::sink::{Batch, Sink, StreamSchema};
/// # use singer_sdk::target::{Run, Target, TargetOptions};
/// # struct Discard;
/// # impl Sink for Discard { fn write_batch(&mut self, _: Batch) -> singer_sdk::Result<()> { Ok(()) } }
/// # struct TargetNull;
/// # impl Target for TargetNull {
/// #     type Settings = serde_json::Map<String, serde_json::Value>;
/// #     type Sink = Discard;
/// #     fn connect(_: Self::Settings, _: &TargetOptions) -> singer_sdk::Result<Self> { Ok(TargetNull) }
/// #     fn open_sink(self: Arc<Self>, _: &StreamSchema) -> singer_sdk::Result<Discard> { Ok(Discard) }
/// # }
/// // In a binary crate, all of `main`:
/// //
/// //     #[singer_sdk::main]
/// //     fn main() -> Run<TargetNull> {
/// //         Run::new()
/// //     }
/// let run: Run<TargetNull> = Run::new();
/// # let _ = run;
/// ```
#[derive(Debug)]
pub struct Run<T>(PhantomData<fn() -> T>);

impl<T: Target> Run<T> {
    /// The runner of `T`.
    #[must_use]
    pub fn new() -> Self {
        Run(PhantomData)
    }
}

impl<T: Target> Default for Run<T> {
    fn default() -> Self {
        Run::new()
    }
}

/// The built-in settings every target understands, for a target with `capabilities`: a
/// `properties` object.
#[must_use]
pub fn builtin_settings(capabilities: &Capabilities) -> serde_json::Value {
    TargetOptions::settings(capabilities)
}
