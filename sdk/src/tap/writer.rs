//! The single writer: puts whole chunks of message lines on the output and applies each
//! chunk's bookmark only after its lines are written, so a STATE never covers a record that
//! was not emitted before it.

use std::io::Write;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::message::MessageWriter;
use crate::state::{Bookmark, State};
use crate::stream::Context;

/// A bookmark to store once a chunk is written.
pub(super) struct Update {
    pub(super) stream: String,
    pub(super) partition: Option<Context>,
    pub(super) bookmark: Bookmark,
}

/// What a stream's task sends to the writer.
pub(super) struct Chunk {
    /// Whole message lines.
    pub(super) bytes: Vec<u8>,
    /// The bookmark to store once `bytes` are written.
    pub(super) update: Option<Update>,
    /// Write a STATE message after this chunk.
    pub(super) emit_state: bool,
    /// Write it even when it equals the last one written, and stop: nothing after it is
    /// written (the termination signal's last chunk).
    pub(super) force_state: bool,
}

/// Writes chunks until every sender is gone; returns the final state and the output.
///
/// # Errors
/// The output cannot be written.
pub(super) fn write_loop<W: Write>(
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
        if let Some(update) = chunk.update {
            let context = update.partition.as_ref();
            *state.bookmark_mut(&update.stream, context) = update.bookmark.to_map(context);
        }
        if chunk.emit_state {
            emit(&state, &mut out, chunk.force_state)?;
        }
        if chunk.force_state {
            // The sync was stopped: partitions still winding down on other tasks must not
            // write after this last STATE.
            break;
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
