//! Syncing one stream: its SCHEMA (and ACTIVATE_VERSION) lines, then each partition's
//! records, filtered by the bookmark and tracked by a typed comparison, sent to the writer
//! in chunks with the bookmark they reach.

use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::logging::{RecordCount, SyncDuration};
use crate::mapper::Mapper;
use crate::message::{ActivateVersionMessage, Message};
use crate::record::Record;
use crate::state::bookmark::Observation;
use crate::state::{Bookmark, KeyKind, State, Tracker};
use crate::stream::{Context, Partitions, Stream, SyncContext};
use crate::time::format_timestamp;

use super::output::Output;
use super::plan::Plan;
use super::writer::{Chunk, Update};

/// Everything one stream's sync needs from the run.
pub(super) struct Job<'a> {
    pub(super) plan: &'a Plan,
    pub(super) mapper: Option<&'a Mapper>,
    pub(super) initial: &'a State,
    pub(super) start_date: Option<&'a Value>,
    pub(super) record_limit: Option<u64>,
    pub(super) started: DateTime<Utc>,
    pub(super) version: Option<i64>,
    pub(super) sender: mpsc::Sender<Chunk>,
}

/// Bytes buffered per stream before they go to the writer.
const CHUNK_BYTES: usize = 64 * 1024;

/// Syncs a stream, partition by partition.
///
/// # Errors
/// The stream fails, a replication key value is invalid or goes backwards in a sorted
/// stream, or the output is gone.
pub(super) async fn sync_stream<S: Stream>(stream: &S, job: Job<'_>) -> Result<()> {
    let plan = job.plan;
    let name = stream.name();
    let version = if plan.replication_key.is_some() {
        None
    } else {
        job.version
    };
    let mut bytes = Vec::with_capacity(CHUNK_BYTES + 4096);
    for schema in &plan.schemas {
        serde_json::to_writer(&mut bytes, &Message::Schema(schema.clone()))?;
        bytes.push(b'\n');
    }
    if let Some(version) = version {
        let activate = ActivateVersionMessage {
            stream: name.to_owned(),
            version,
        };
        let activations = match job.mapper {
            Some(mapper) => mapper.map_activate_version(activate),
            None => vec![activate],
        };
        for activate in activations {
            serde_json::to_writer(&mut bytes, &Message::ActivateVersion(activate))?;
            bytes.push(b'\n');
        }
    }
    let partitions = match stream.partitions(job.initial.partitions(name)) {
        Partitions::Whole => vec![None],
        Partitions::Each(list) => list.into_iter().map(Some).collect(),
    };
    let mut output = Output::new(name, version, job.mapper);
    let sorted = plan.replication_key.is_some() && stream.is_sorted();
    for partition in partitions {
        let started = Instant::now();
        let mut run = PartitionRun::new(stream, &job, partition);
        let result = run.records(stream, &job, &mut output, &mut bytes).await;
        RecordCount {
            stream: name,
            context: run.partition.as_ref(),
            count: run.count,
        }
        .emit();
        SyncDuration {
            stream: name,
            context: run.partition.as_ref(),
            seconds: started.elapsed().as_secs_f64(),
            succeeded: result.is_ok(),
        }
        .emit();
        if let Err(error) = result {
            // Records already produced were good: write them, with the progress they made
            // where it is resumable, before failing.
            let update = run.update(run.tracker.progress());
            send(&job, std::mem::take(&mut bytes), Some(update), sorted).await?;
            return Err(error);
        }
        let count = run.count;
        let update = run.update(run.tracker.finalize());
        bytes = send(&job, bytes, Some(update), true).await?;
        tracing::info!(stream = name, records = count, "Stream partition finished.");
    }
    send(&job, bytes, None, false).await?;
    Ok(())
}

/// Sends a chunk to the writer and returns a fresh buffer.
async fn send(
    job: &Job<'_>,
    bytes: Vec<u8>,
    update: Option<Update>,
    emit_state: bool,
) -> Result<Vec<u8>> {
    if bytes.is_empty() && update.is_none() && !emit_state {
        return Ok(bytes);
    }
    job.sender
        .send(Chunk {
            bytes,
            update,
            emit_state,
            force_state: false,
        })
        .await
        .map_err(|_| {
            Error::io(
                "cannot write messages",
                std::io::ErrorKind::BrokenPipe.into(),
            )
        })?;
    Ok(Vec::with_capacity(CHUNK_BYTES + 4096))
}

/// How a record's replication key value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyAccess {
    /// The stream is full-table.
    None,
    /// Straight from the typed record's field.
    Typed,
    /// Looked up by name in the serialised record.
    ByName,
}

/// The bookkeeping of one partition (or a whole unpartitioned stream) while it syncs.
struct PartitionRun {
    stream: String,
    partition: Option<Context>,
    tracker: Tracker,
    access: KeyAccess,
    count: u64,
    emitted_since_state: usize,
}

impl PartitionRun {
    fn new<S: Stream>(stream: &S, job: &Job<'_>, partition: Option<Context>) -> Self {
        let plan = job.plan;
        let stored = job
            .initial
            .bookmark(stream.name(), partition.as_ref())
            .cloned()
            .map(Bookmark::from_map)
            .unwrap_or_default();
        let key = plan.replication_key.as_deref();
        let access = match key {
            None => KeyAccess::None,
            Some(key) if <S::Record as Record>::replication_key() == Some(key) => KeyAccess::Typed,
            Some(_) => KeyAccess::ByName,
        };
        let signpost = key.and_then(|_| {
            stream.replication_signpost(job.started).or_else(|| {
                (plan.key_kind == KeyKind::DateTime)
                    .then(|| Value::from(format_timestamp(job.started)))
            })
        });
        let tracker = Tracker::start(
            stored,
            key,
            plan.key_kind,
            stream.is_sorted(),
            job.start_date,
            signpost,
        );
        PartitionRun {
            stream: stream.name().to_owned(),
            partition,
            tracker,
            access,
            count: 0,
            emitted_since_state: 0,
        }
    }

    fn update(&self, bookmark: Bookmark) -> Update {
        Update {
            stream: self.stream.clone(),
            partition: self.partition.clone(),
            bookmark,
        }
    }

    async fn records<S: Stream>(
        &mut self,
        stream: &S,
        job: &Job<'_>,
        output: &mut Output<'_>,
        bytes: &mut Vec<u8>,
    ) -> Result<()> {
        let plan = job.plan;
        let cx = SyncContext {
            partition: self.partition.clone(),
            starting_value: self.tracker.starting_value().cloned(),
            record_limit: job.record_limit,
        };
        let frequency = stream.state_message_frequency().max(1);
        let mut records = stream.records(&cx);
        while let Some(record) = records.next().await {
            let record = record?;
            let keep = match self.access {
                KeyAccess::None => Ok(true),
                KeyAccess::Typed => match record.replication_value() {
                    Some(key) => self.tracker.observe_typed(key),
                    None => Ok(true),
                },
                KeyAccess::ByName => {
                    let key = plan.replication_key.as_deref().unwrap_or_default();
                    let raw = crate::record::field_value(&record, key).unwrap_or(Value::Null);
                    self.tracker.observe_json(raw)
                }
            };
            if !keep.map_err(|e| observation_error(stream.name(), plan, e))? {
                continue;
            }
            output.record(&record, &plan.deselected, bytes)?;
            self.count += 1;
            self.emitted_since_state += 1;
            if job.record_limit.is_some_and(|limit| self.count >= limit) {
                break;
            }
            if self.emitted_since_state >= frequency {
                self.emitted_since_state = 0;
                let update = self.update(self.tracker.progress());
                *bytes = send(job, std::mem::take(bytes), Some(update), true).await?;
                output.refresh();
            } else if bytes.len() >= CHUNK_BYTES {
                *bytes = send(job, std::mem::take(bytes), None, false).await?;
                output.refresh();
            }
        }
        Ok(())
    }
}

fn observation_error(stream: &str, plan: &Plan, observation: Observation) -> Error {
    let key = plan.replication_key.clone().unwrap_or_default();
    match observation {
        Observation::Backwards(previous, current) => Error::UnsortedStream {
            stream: stream.to_owned(),
            key,
            previous,
            current,
        },
        Observation::Invalid(value) => Error::custom(format!(
            "replication key `{key}` has value {value}, which is not a valid {}",
            match plan.key_kind {
                KeyKind::DateTime => "date-time",
                KeyKind::Date => "date",
                KeyKind::Number => "number",
                KeyKind::Text => "value",
            }
        )),
    }
}
