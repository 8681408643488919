//! The parallel read of the load loop: the input read on a thread of its own, lines parsed
//! and records checked on a pool of workers, outcomes handled in input order.

use std::io::{BufRead, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::mapper::Mapper;
use crate::message::{Message, MessageWriter};

use super::super::pool::{self, Item, Parsed, Prep, Published, Snapshot};
use super::{Checked, Loader, line_error};
use crate::target::Target;

impl<T: Target> Loader<'_, T> {
    /// Reads the input on a thread of its own and parses and checks its lines on a pool of
    /// `workers` threads, handling the outcomes in input order as [`read_all`](Self::read_all)
    /// handles messages. The input thread borrows `input`, so this returns only once it has
    /// stopped: at the input's end, or at the chunk after an early stop.
    pub(super) fn read_parallel<R: BufRead + Send, W: Write>(
        &mut self,
        input: R,
        out: &mut MessageWriter<W>,
        mapper: Option<&mut Mapper>,
    ) -> Result<()> {
        let published = self.start_publishing();
        let prep = self.prep(mapper.is_none());
        let workers = self.options.workers_for::<T>();
        std::thread::scope(|scope| {
            let (outcomes, read) = pool::start(input, workers, prep, &published)?;
            std::thread::Builder::new()
                .name("read".to_owned())
                .spawn_scoped(scope, read)
                .map_err(|e| Error::io("cannot start the input thread", e))?;
            // Dropping `outcomes` on the way out stops the input thread.
            self.handle_outcomes(&outcomes, out, mapper)
        })
    }

    /// [`read_parallel`](Self::read_parallel) on an input the input thread owns: an early
    /// stop returns at once, leaving that thread to end at the input's end (or with the
    /// process) instead of waiting for its `read` to return.
    pub(super) fn read_parallel_owned<R: BufRead + Send + 'static, W: Write>(
        &mut self,
        input: R,
        out: &mut MessageWriter<W>,
        mapper: Option<&mut Mapper>,
    ) -> Result<()> {
        let published = self.start_publishing();
        let prep = self.prep(mapper.is_none());
        let (outcomes, read) =
            pool::start(input, self.options.workers_for::<T>(), prep, &published)?;
        std::thread::Builder::new()
            .name("read".to_owned())
            .spawn(read)
            .map_err(|e| Error::io("cannot start the input thread", e))?;
        self.handle_outcomes(&outcomes, out, mapper)
    }

    fn start_publishing(&mut self) -> Published {
        let published: Published = Arc::new(Mutex::new(Arc::new(Snapshot::default())));
        self.published = Some(Arc::clone(&published));
        self.publish();
        published
    }

    fn prep(&self, check: bool) -> Prep {
        Prep {
            check,
            add_record_metadata: self.options.add_record_metadata,
            started_ms: self.started_ms,
            json: T::JSON_RECORDS,
        }
    }

    fn handle_outcomes<W: Write>(
        &mut self,
        outcomes: &Receiver<Receiver<Parsed>>,
        out: &mut MessageWriter<W>,
        mut mapper: Option<&mut Mapper>,
    ) -> Result<()> {
        for outcome in outcomes {
            let Parsed { text, items, json } = outcome.recv().map_err(|_| {
                Error::custom(
                    "a parse thread stopped unexpectedly (it panicked); this is a bug in the SDK",
                )
            })?;
            for item in items {
                if let Item::Error(error) = item {
                    return Err(error);
                }
                if self.stop.load(Ordering::Relaxed) {
                    tracing::warn!(
                        "Termination signal received: loading what was read and stopping."
                    );
                    return Ok(());
                }
                match item {
                    Item::Checked {
                        stream,
                        record,
                        generation,
                        line,
                        len,
                        ..
                    } if generation == self.generation => {
                        self.take(&stream, Checked::Object(record), line, len, out)?;
                    }
                    Item::Encoded {
                        stream,
                        json: at,
                        batched_at,
                        generation,
                        line,
                        len,
                        ..
                    } if generation == self.generation => {
                        let record = Checked::Json(&json[at], batched_at);
                        self.take(&stream, record, line, len, out)?;
                    }
                    Item::Rejected {
                        error,
                        generation,
                        line,
                        ..
                    } if generation == self.generation => {
                        self.summary.lines = line;
                        return Err(line_error(line, error));
                    }
                    // Checked against a schema a later SCHEMA replaced: parse and check again.
                    Item::Checked {
                        line, len, range, ..
                    }
                    | Item::Encoded {
                        line, len, range, ..
                    }
                    | Item::Rejected {
                        line, len, range, ..
                    } => {
                        let body = String::from_utf8_lossy(&text[range]);
                        let message = Message::parse(&body, line)?;
                        self.handle(message, line, len, Some(&body), out, mapper.as_deref_mut())?;
                    }
                    Item::Message { message, line, len } => {
                        self.handle(message, line, len, None, out, mapper.as_deref_mut())?;
                    }
                    Item::Error(error) => return Err(error),
                }
            }
        }
        Ok(())
    }

    /// Buffers a record a worker checked against the checks in force, read from input line
    /// `line` of `len` bytes.
    fn take<W: Write>(
        &mut self,
        stream: &str,
        record: Checked<'_>,
        line: u64,
        len: usize,
        out: &mut MessageWriter<W>,
    ) -> Result<()> {
        self.summary.lines = line;
        self.line_bytes = len;
        self.push(stream, record, line)?;
        self.after_record(out)
    }

    /// Publishes the checks in force to the parse workers.
    pub(super) fn publish(&self) {
        if let Some(published) = &self.published {
            let snapshot = Snapshot {
                generation: self.generation,
                checks: self
                    .streams
                    .iter()
                    .map(|(name, slot)| (name.clone(), Arc::clone(&slot.check)))
                    .collect(),
            };
            *published.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
        }
    }
}
