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
            // Out now even when the STATE equalled the last one and was left out: the lines
            // before it (such as a BATCH message after each file) must reach the target while
            // the tap goes on, not when the output buffer fills.
            out.flush()?;
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use tokio::sync::mpsc;

    use super::{Chunk, write_loop};
    use crate::message::MessageWriter;
    use crate::state::State;

    /// Output shared with the test while the loop still runs.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_before_a_state_point_go_out_even_when_the_state_is_unchanged() {
        let out = Shared::default();
        let (sender, receiver) = mpsc::channel(4);
        // A resumed sync: its state goes out first, and the chunk below leaves it unchanged.
        let state = State::from_value(
            serde_json::json!({"bookmarks": {"s": {"replication_key_value": 1}}}),
        )
        .unwrap();
        let first = format!(
            "{{\"type\":\"STATE\",\"value\":{}}}\n",
            serde_json::to_string(&state.to_value()).unwrap()
        );
        let writer = {
            let out = out.clone();
            std::thread::spawn(move || {
                write_loop(receiver, MessageWriter::new(out), state).map(|_| ())
            })
        };
        let line = b"{\"type\":\"BATCH\",\"stream\":\"s\",\"encoding\":{},\"manifest\":[]}\n";
        sender
            .blocking_send(Chunk {
                bytes: line.to_vec(),
                update: None,
                emit_state: true,
                force_state: false,
            })
            .unwrap();
        // The sender stays open (the tap goes on): the line must be out already. A deadline
        // against a hang, not a timing assertion.
        let deadline = Instant::now() + Duration::from_secs(30);
        while out.0.lock().unwrap().len() <= first.len() {
            assert!(
                Instant::now() < deadline,
                "the BATCH line was never flushed"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let expected = [first.as_bytes(), line.as_slice()].concat();
        assert_eq!(
            String::from_utf8_lossy(&out.0.lock().unwrap()),
            String::from_utf8_lossy(&expected)
        );
        drop(sender);
        writer.join().unwrap().unwrap();
    }
}
