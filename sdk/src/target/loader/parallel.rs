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
use super::{Loader, line_error};
use crate::target::Target;

impl<T: Target> Loader<'_, T> {
    /// Reads the input on a thread of its own and parses and checks its lines on a pool of
    /// `workers` threads, handling the outcomes in input order as [`read_all`](Self::read_all)
    /// handles messages.
    pub(super) fn read_parallel<R: BufRead + Send, W: Write>(
        &mut self,
        input: R,
        out: &mut MessageWriter<W>,
        mapper: Option<&mut Mapper>,
    ) -> Result<()> {
        let published: Published = Arc::new(Mutex::new(Arc::new(Snapshot::default())));
        self.published = Some(Arc::clone(&published));
        self.publish();
        let prep = Prep {
            check: mapper.is_none(),
            add_record_metadata: self.options.add_record_metadata,
            started_ms: self.started_ms,
        };
        let workers = self.options.workers;
        std::thread::scope(|scope| {
            let outcomes = pool::start(scope, input, workers, prep, &published)?;
            // Dropping `outcomes` on the way out stops the input thread.
            self.handle_outcomes(&outcomes, out, mapper)
        })
    }

    fn handle_outcomes<W: Write>(
        &mut self,
        outcomes: &Receiver<Receiver<Parsed>>,
        out: &mut MessageWriter<W>,
        mut mapper: Option<&mut Mapper>,
    ) -> Result<()> {
        for outcome in outcomes {
            let Parsed { text, items } = outcome.recv().map_err(|_| {
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
                        self.summary.lines = line;
                        self.line_bytes = len;
                        self.push(&stream, record, line)?;
                        self.after_record(out)?;
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
                    | Item::Rejected {
                        line, len, range, ..
                    } => {
                        let body = String::from_utf8_lossy(&text[range]);
                        let message = Message::parse(&body, line)?;
                        self.handle(message, line, len, out, mapper.as_deref_mut())?;
                    }
                    Item::Message { message, line, len } => {
                        self.handle(message, line, len, out, mapper.as_deref_mut())?;
                    }
                    Item::Error(error) => return Err(error),
                }
            }
        }
        Ok(())
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
