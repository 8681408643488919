//! One thread per sink: batches go in through a channel and the outcome comes back, so the
//! reader keeps parsing while the sink writes, and the sink's memory stays on one thread.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::error::{Error, Result};
use crate::sink::{Batch, Sink};

enum Command {
    Write(Batch),
    Activate(i64),
    Close,
}

/// A sink running on its own thread, with at most one command under way.
pub(super) struct Worker {
    stream: String,
    commands: SyncSender<Command>,
    outcomes: Receiver<Result<()>>,
    thread: Option<JoinHandle<()>>,
    busy: bool,
}

impl Worker {
    /// Moves `sink` onto a new thread.
    pub(super) fn start<S: Sink>(stream: &str, mut sink: S) -> Result<Worker> {
        let (commands, inbox) = sync_channel::<Command>(1);
        let (reply, outcomes) = sync_channel::<Result<()>>(1);
        let thread = std::thread::Builder::new()
            .name(format!("sink-{stream}"))
            .spawn(move || {
                for command in inbox {
                    let (outcome, last) = match command {
                        Command::Write(batch) => (sink.write_batch(batch), false),
                        Command::Activate(version) => (sink.activate_version(version), false),
                        Command::Close => (sink.close(), true),
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

    /// Starts writing a batch; the caller waits for the previous command first.
    pub(super) fn write(&mut self, batch: Batch) -> Result<()> {
        self.send(Command::Write(batch))
    }

    /// Applies ACTIVATE_VERSION and waits for it.
    pub(super) fn activate(&mut self, version: i64) -> Result<()> {
        self.send(Command::Activate(version))?;
        self.wait()
    }

    /// Waits for the command under way, if any, and returns its outcome.
    pub(super) fn wait(&mut self) -> Result<()> {
        if !self.busy {
            return Ok(());
        }
        self.busy = false;
        match self.outcomes.recv() {
            Ok(outcome) => outcome,
            Err(_) => Err(self.died()),
        }
    }

    /// Finishes the sink (after its last batch) and ends the thread.
    pub(super) fn close(mut self) -> Result<()> {
        self.wait()?;
        self.send(Command::Close)?;
        let outcome = self.wait();
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
