//! The per-stream buffers of the load loop: checked records are buffered per stream and
//! full buffers handed to each stream's sink on its own thread, at most `max_parallelism`
//! writes under way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::sink::{Batch, JsonRecords};
use crate::target::{Target, metadata};
use crate::time::format_timestamp;

use super::super::worker::{Failure, Unchecked};
use super::{Checked, Loader, line_error, stream_error};

impl<T: Target> Loader<'_, T> {
    /// Buffers a checked record, draining the stream's buffer when it is full.
    pub(super) fn push(&mut self, stream: &str, record: Checked<'_>, line: u64) -> Result<()> {
        let Some(slot) = self.streams.get_mut(stream) else {
            return Err(line_error(
                line,
                format!(
                    "RECORD for stream `{stream}` before its SCHEMA; the tap must send a SCHEMA message first"
                ),
            ));
        };
        match record {
            Checked::Object(record) => slot.buffer.push(record),
            Checked::Json(line, batched_at) => slot.json.push_line(line, batched_at),
        }
        slot.buffer_bytes += self.line_bytes;
        slot.last_line = line;
        slot.count += 1;
        self.oldest.get_or_insert_with(Instant::now);
        self.summary.records += 1;
        if slot.pending() >= self.options.batch_size_rows || slot.buffer_bytes >= T::BATCH_BYTES {
            self.drain(stream, false)?;
        }
        Ok(())
    }

    /// How long the oldest record buffered since the last full drain has waited.
    pub(super) fn oldest_age(&self) -> Duration {
        self.oldest.map(|t| t.elapsed()).unwrap_or_default()
    }

    /// Hands the stream's buffer to its sink's thread; with `wait`, also waits for it.
    pub(super) fn drain(&mut self, name: &str, wait: bool) -> Result<()> {
        self.join(name)?;
        let has_records = self
            .streams
            .get(name)
            .is_some_and(|slot| slot.pending() > 0);
        if has_records {
            while self.in_flight.len() >= self.options.max_parallelism {
                let oldest = self.in_flight.pop_front().expect("non-empty");
                self.join(&oldest)?;
            }
            let slot = self.streams.get_mut(name).expect("drain of a known stream");
            let mut records = std::mem::take(&mut slot.buffer);
            let room = slot.json.byte_len();
            let mut json = std::mem::replace(&mut slot.json, JsonRecords::with_capacity(room));
            slot.buffer_bytes = 0;
            let batched_at = Utc::now();
            let stamp = self.options.add_record_metadata;
            // Records buffered unchecked are checked, then stamped, on the sink's thread.
            let unchecked = (!slot.lines.is_empty()).then(|| Unchecked {
                check: Arc::clone(&slot.check),
                lines: std::mem::take(&mut slot.lines),
                stamp,
            });
            if stamp && unchecked.is_none() {
                metadata::stamp_batch(&mut records, batched_at);
                json.set_batched_at(Value::from(format_timestamp(batched_at)).to_string());
            }
            let batch = Batch {
                stream: Arc::clone(&slot.stream),
                records,
                json,
                batched_at,
            };
            slot.worker.write(batch, unchecked)?;
            slot.draining_line = slot.last_line;
            self.in_flight.push_back(name.to_owned());
        }
        if wait {
            self.join(name)?;
        }
        Ok(())
    }

    /// Waits for the stream's write under way, if any.
    pub(super) fn join(&mut self, name: &str) -> Result<()> {
        let Some(slot) = self.streams.get_mut(name) else {
            return Ok(());
        };
        if !slot.worker.is_busy() {
            return Ok(());
        }
        self.in_flight.retain(|n| n != name);
        let line = slot.draining_line;
        slot.worker.wait().map_err(|failure| match failure {
            Failure::Record(e) => e,
            Failure::Sink(e) => stream_error(
                name,
                Error::context(
                    format!("cannot write the records read up to input line {line}"),
                    e,
                ),
            ),
        })
    }

    pub(super) fn drain_all(&mut self) -> Result<()> {
        self.oldest = None;
        let names: Vec<String> = self.streams.keys().cloned().collect();
        for name in &names {
            self.drain(name, false)?;
        }
        for name in &names {
            self.join(name)?;
        }
        Ok(())
    }

    /// Waits for the writes under way after `error` stopped the run, and returns the error to
    /// report: when `error` is at an input line, the first record before that line that was
    /// left to its sink's thread to check and fails, if any, else `error`. On every other
    /// path records are checked as they are read, so the run reports the input's first bad
    /// line whichever path read it.
    pub(super) fn first_failure(&mut self, error: Error) -> Error {
        let mut first = match &error {
            Error::Message { line, .. } => *line,
            _ => 0,
        };
        let mut earlier = None;
        for (name, slot) in &mut self.streams {
            // A write's failure no longer matters, but an unchecked record's does.
            if let Err(Failure::Record(e @ Error::Message { line, .. })) = slot.worker.wait() {
                if line < first {
                    first = line;
                    earlier = Some(e);
                }
            }
            let buffered = slot.buffer.iter().zip(&slot.lines);
            for (record, &line) in buffered.filter(|(_, line)| **line != 0) {
                if line >= first {
                    break;
                }
                if let Err(message) = slot.check.check(name, record.clone()) {
                    first = line;
                    earlier = Some(line_error(line, message));
                    break;
                }
            }
        }
        earlier.unwrap_or(error)
    }
}
