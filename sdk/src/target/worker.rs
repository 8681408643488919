//! One thread per sink: batches go in through a channel and the outcome comes back, so the
//! reader keeps parsing while the sink writes, and the sink's memory stays on one thread.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::error::{Error, Result};
use crate::sink::{Batch, Sink};

use super::loader::line_error;
use super::metadata;
use super::validate::RecordCheck;

enum Command {
    Write(Batch, Option<Unchecked>),
    Activate(i64),
    Close,
}

/// The checks a batch's records still need, run on the sink's thread before the sink sees
/// them, so that on the line-by-line path the loader's thread only reads and parses while the
/// sink's thread checks and writes.
pub(super) struct Unchecked {
    /// The stream's checks.
    pub(super) check: Arc<RecordCheck>,
    /// The input line of each record of the batch, 0 for one checked already.
    pub(super) lines: Vec<u64>,
    /// Stamp `_sdc_batched_at` once the records are checked.
    pub(super) stamp: bool,
}

impl Unchecked {
    /// Checks the batch's records in place, in order; the first that fails is the error, at
    /// its input line.
    fn apply(self, batch: &mut Batch) -> Result<()> {
        let name = &batch.stream.name;
        for (record, &line) in batch.records.iter_mut().zip(&self.lines) {
            if line == 0 {
                continue;
            }
            let (checked, _) = self
                .check
                .check(name, std::mem::take(record))
                .map_err(|message| line_error(line, message))?;
            *record = checked;
        }
        if self.stamp {
            metadata::stamp_batch(&mut batch.records, batch.batched_at);
        }
        Ok(())
    }
}

/// Why a command failed.
pub(super) enum Failure {
    /// A record of the batch failed its checks (an [`Error::Message`] at its line).
    Record(Error),
    /// The sink failed.
    Sink(Error),
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        match failure {
            Failure::Record(e) | Failure::Sink(e) => e,
        }
    }
}

/// A sink running on its own thread, with at most one command under way.
pub(super) struct Worker {
    stream: String,
    commands: SyncSender<Command>,
    outcomes: Receiver<Result<(), Failure>>,
    thread: Option<JoinHandle<()>>,
    busy: bool,
}

impl Worker {
    /// Moves `sink` onto a new thread.
    pub(super) fn start<S: Sink>(stream: &str, mut sink: S) -> Result<Worker> {
        let (commands, inbox) = sync_channel::<Command>(1);
        let (reply, outcomes) = sync_channel::<Result<(), Failure>>(1);
        let thread = std::thread::Builder::new()
            .name(format!("sink-{stream}"))
            .spawn(move || {
                for command in inbox {
                    let (outcome, last) = match command {
                        Command::Write(mut batch, unchecked) => {
                            let outcome = match unchecked.map(|u| u.apply(&mut batch)) {
                                Some(Err(e)) => Err(Failure::Record(e)),
                                _ => sink.write_batch(batch).map_err(Failure::Sink),
                            };
                            (outcome, false)
                        }
                        Command::Activate(version) => {
                            (sink.activate_version(version).map_err(Failure::Sink), false)
                        }
                        Command::Close => (sink.close().map_err(Failure::Sink), true),
                    };
                    if reply.send(outcome).is_err() || last {
                        break;
                    }
                }
            })
            .map_err(|e| Error::io("cannot start a sink thread", e))?;
        Ok(Worker {
            stream: stream.to_owned(),
            commands,
            outcomes,
            thread: Some(thread),
            busy: false,
        })
    }

    /// Whether a command is under way.
    pub(super) fn is_busy(&self) -> bool {
        self.busy
    }

    /// Starts writing a batch, checking its records first when they come `unchecked`; the
    /// caller waits for the previous command first.
    pub(super) fn write(&mut self, batch: Batch, unchecked: Option<Unchecked>) -> Result<()> {
        self.send(Command::Write(batch, unchecked))
    }

    /// Applies ACTIVATE_VERSION and waits for it.
    pub(super) fn activate(&mut self, version: i64) -> Result<()> {
        self.send(Command::Activate(version))?;
        Ok(self.wait()?)
    }

    /// Waits for the command under way, if any, and returns its outcome.
    pub(super) fn wait(&mut self) -> Result<(), Failure> {
        if !self.busy {
            return Ok(());
        }
        self.busy = false;
        match self.outcomes.recv() {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::Sink(self.died())),
        }
    }

    /// Finishes the sink (after its last batch) and ends the thread.
    pub(super) fn close(mut self) -> Result<()> {
        self.wait()?;
        self.send(Command::Close)?;
        let outcome = self.wait().map_err(Error::from);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        outcome
    }

    fn send(&mut self, command: Command) -> Result<()> {
        debug_assert!(!self.busy, "one command at a time");
        self.commands.send(command).map_err(|_| self.died())?;
        self.busy = true;
        Ok(())
    }

    fn died(&self) -> Error {
        Error::custom(format!(
            "the sink of stream `{}` stopped unexpectedly (it panicked); this is a bug in the target",
            self.stream
        ))
    }
}
