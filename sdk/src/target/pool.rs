//! The parse pool of the parallel load path: a reader thread cuts the input into chunks, a
//! pool of workers parses each chunk's lines and checks its records, and the loader takes the
//! outcomes chunk by chunk in input order.
//!
//! A worker checks a record against the checks of its stream in force when it took the chunk
//! (a [`Snapshot`], numbered by a generation the loader bumps at every SCHEMA that changes a
//! stream). The loader uses the outcome only when the generation is still the one in force
//! at that line; otherwise (a SCHEMA came in between, in the same chunk or an earlier one
//! still being handled) it parses and checks the line again, so every record is checked
//! against the schema in force at its line, as on one thread.

use std::collections::HashMap;
use std::io::BufRead;
use std::ops::Range;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::message::{Message, RecordMessage};

use super::chunks::{CHUNK_BYTES, each_line, read_chunks, text_of};
use super::metadata;
use super::splice;
use super::validate::RecordCheck;

/// The record checks in force, by stream, at one generation.
#[derive(Default)]
pub(super) struct Snapshot {
    /// Bumped by the loader whenever a stream's checks change.
    pub(super) generation: u64,
    /// The checks of each stream with a SCHEMA.
    pub(super) checks: HashMap<String, Arc<RecordCheck>>,
}

/// The snapshot the loader publishes and the workers read.
pub(super) type Published = Arc<Mutex<Arc<Snapshot>>>;

/// What workers do to a record besides parsing it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Prep {
    /// Check records (off when stream maps run first, on the loader's thread).
    pub(super) check: bool,
    /// Stamp the `_sdc_*` columns (else strip those a record brought).
    pub(super) add_record_metadata: bool,
    /// The `_sdc_sync_started_at` value.
    pub(super) started_ms: i64,
    /// Encode checked records as JSON lines ([`Target::JSON_RECORDS`](super::Target)).
    pub(super) json: bool,
}

/// One input line's outcome.
pub(super) enum Item {
    /// A message for the loader to handle as on one thread.
    Message {
        message: Message,
        line: u64,
        /// The line's length in bytes, line ending included.
        len: usize,
    },
    /// A record stamped and checked against the checks of `generation`.
    Checked {
        stream: String,
        record: Map<String, Value>,
        generation: u64,
        line: u64,
        len: usize,
        /// Where the line's text is in the chunk, to read it again.
        range: Range<usize>,
    },
    /// A record stamped, checked against the checks of `generation` and encoded as a JSON
    /// line, at `json` in the chunk's [`Parsed::json`].
    Encoded {
        stream: String,
        json: Range<usize>,
        /// Where the line's `_sdc_batched_at` value goes, from the line's start.
        batched_at: Option<usize>,
        generation: u64,
        line: u64,
        len: usize,
        range: Range<usize>,
    },
    /// A record that failed the checks of `generation`.
    Rejected {
        error: String,
        generation: u64,
        line: u64,
        len: usize,
        range: Range<usize>,
    },
    /// A line that is not a message, or a read error: the end of the input.
    Error(Error),
}

/// A chunk and the outcomes of its lines, in order (ending at the first error).
pub(super) struct Parsed {
    pub(super) text: Vec<u8>,
    pub(super) items: Vec<Item>,
    /// The JSON lines of the chunk's [`Item::Encoded`] records.
    pub(super) json: Vec<u8>,
}

struct Job {
    text: Vec<u8>,
    first_line: u64,
    reply: SyncSender<Parsed>,
}

/// Starts `workers` parse threads and returns, first, the receiver that yields, in input
/// order, one receiver per chunk for its outcome, and second, the body of the input thread,
/// which reads `input` and hands its chunks to the workers; the caller runs it on a thread
/// (scoped when `input` is borrowed). Dropping the receiver stops the input thread at its
/// next chunk.
///
/// # Errors
/// A thread cannot be started.
pub(super) fn start<R: BufRead + Send>(
    mut input: R,
    workers: usize,
    prep: Prep,
    published: &Published,
) -> Result<(Receiver<Receiver<Parsed>>, impl FnOnce() + Send + use<R>)> {
    let (jobs, inbox) = channel::<Job>();
    let inbox = Arc::new(Mutex::new(inbox));
    for n in 0..workers {
        let inbox = Arc::clone(&inbox);
        let published = Arc::clone(published);
        std::thread::Builder::new()
            .name(format!("parse-{n}"))
            .spawn(move || work(&inbox, &published, prep))
            .map_err(|e| Error::io("cannot start a parse thread", e))?;
    }
    let (order, outcomes) = sync_channel::<Receiver<Parsed>>(read_ahead(workers));
    let chunk = chunk_bytes(workers);
    let read = move || {
        let read = read_chunks(&mut input, chunk, |text, first_line| {
            dispatch(&order, &jobs, text, first_line)
        });
        if let Err(error) = read {
            let (reply, outcome) = sync_channel(1);
            let _ = reply.send(Parsed {
                text: Vec::new(),
                items: vec![Item::Error(error)],
                json: Vec::new(),
            });
            let _ = order.send(outcome);
        }
    };
    Ok((outcomes, read))
}

/// The input bytes read ahead of the loader, whatever the number of workers: the chunks
/// handed on and not yet taken, each held parsed (several times its size) once a worker is
/// done with it.
pub(super) const READ_AHEAD_BYTES: usize = 1024 * 1024;

/// The smallest chunk: below it, handing chunks around costs more than parsing them.
const MIN_CHUNK_BYTES: usize = 32 * 1024;

/// The chunk size for `workers`: [`CHUNK_BYTES`], smaller when that many workers would
/// otherwise need more than [`READ_AHEAD_BYTES`] in flight to all be busy.
pub(super) fn chunk_bytes(workers: usize) -> usize {
    (READ_AHEAD_BYTES / (workers + 1)).clamp(MIN_CHUNK_BYTES, CHUNK_BYTES)
}

/// How many chunks the input thread may have handed on that the loader has not taken yet
/// (besides the one it is handling and the one the input thread is filling): what fits in
/// [`READ_AHEAD_BYTES`], and at least one per worker while that still fits.
pub(super) fn read_ahead(workers: usize) -> usize {
    (READ_AHEAD_BYTES / chunk_bytes(workers)).max(1)
}

fn dispatch(
    order: &SyncSender<Receiver<Parsed>>,
    jobs: &Sender<Job>,
    text: Vec<u8>,
    first_line: u64,
) -> bool {
    let (reply, outcome) = sync_channel(1);
    order.send(outcome).is_ok()
        && jobs
            .send(Job {
                text,
                first_line,
                reply,
            })
            .is_ok()
}

fn work(inbox: &Mutex<Receiver<Job>>, published: &Mutex<Arc<Snapshot>>, prep: Prep) {
    loop {
        // One idle worker waits for the next job holding the lock; the others wait for it.
        let Ok(job) = inbox.lock().unwrap_or_else(PoisonError::into_inner).recv() else {
            return;
        };
        let snapshot = Arc::clone(&published.lock().unwrap_or_else(PoisonError::into_inner));
        let mut json = Vec::new();
        let items = parse_chunk(&job.text, job.first_line, prep, &snapshot, &mut json);
        let _ = job.reply.send(Parsed {
            text: job.text,
            items,
            json,
        });
    }
}

/// The outcomes of a chunk's lines, up to the first error; records encoded as JSON lines go
/// to `json`.
pub(super) fn parse_chunk(
    text: &[u8],
    first_line: u64,
    prep: Prep,
    snapshot: &Snapshot,
    json: &mut Vec<u8>,
) -> Vec<Item> {
    let mut items = Vec::new();
    each_line(text, first_line, |line, start, raw| {
        let item = match text_of(raw, line) {
            Err(error) => Item::Error(error),
            Ok(None) => return true,
            Ok(Some(body)) => match Message::parse(body, line) {
                Err(error) => Item::Error(error),
                Ok(Message::Record(record)) if prep.check => {
                    let range = start..start + body.len();
                    let read = Read {
                        line,
                        len: raw.len(),
                        range,
                        body: body.as_bytes(),
                    };
                    check(record, read, prep, snapshot, json)
                }
                Ok(message) => Item::Message {
                    message,
                    line,
                    len: raw.len(),
                },
            },
        };
        let go_on = !matches!(item, Item::Error(_));
        items.push(item);
        go_on
    });
    items
}

/// Where a record was read.
struct Read<'a> {
    line: u64,
    len: usize,
    range: Range<usize>,
    body: &'a [u8],
}

fn check(
    message: RecordMessage,
    read: Read<'_>,
    prep: Prep,
    snapshot: &Snapshot,
    json: &mut Vec<u8>,
) -> Item {
    let Read {
        line,
        len,
        range,
        body,
    } = read;
    let Some(check) = snapshot.checks.get(&message.stream) else {
        return Item::Message {
            message: Message::Record(message),
            line,
            len,
        };
    };
    let RecordMessage {
        stream,
        mut record,
        version,
        time_extracted,
    } = message;
    metadata::receive(
        &mut record,
        prep.add_record_metadata,
        time_extracted,
        version,
        prep.started_ms,
    );
    let generation = snapshot.generation;
    match check.check(&stream, record) {
        Ok((record, rewritten)) if prep.json => {
            let text = (!rewritten)
                .then(|| splice::record_text(body))
                .flatten()
                .map(|text| (body, text));
            let start = json.len();
            let batched_at = splice::encode(&record, text, prep.add_record_metadata, json);
            Item::Encoded {
                stream,
                json: start..json.len(),
                batched_at: batched_at.map(|at| at - start),
                generation,
                line,
                len,
                range,
            }
        }
        Ok((record, _)) => Item::Checked {
            stream,
            record,
            generation,
            line,
            len,
            range,
        },
        Err(error) => Item::Rejected {
            error,
            generation,
            line,
            len,
            range,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_is_bounded_in_bytes_and_feeds_every_worker_it_can() {
        for workers in 1..=512 {
            let (chunk, ahead) = (chunk_bytes(workers), read_ahead(workers));
            assert!(chunk * ahead <= READ_AHEAD_BYTES, "{workers} workers");
            assert!(
                ahead >= workers.min(READ_AHEAD_BYTES / MIN_CHUNK_BYTES),
                "{workers} workers"
            );
        }
    }
}
