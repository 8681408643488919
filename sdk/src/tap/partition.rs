//! Syncing one partition of a stream: its records, filtered by the bookmark and tracked by a
//! typed comparison; for a parent, each record's child partitions first (inline, or on a
//! task of their own while the run has permits to spare); then the STATE it reaches.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::logging::{RecordCount, SyncDuration};
use crate::record::Record;
use crate::state::bookmark::Observation;
use crate::state::{Bookmark, KeyKind, Tracker};
use crate::stream::{Context, Stream, SyncContext};
use crate::time::format_timestamp;

use super::output::Output;
use super::plan::Plan;
use super::run::{CHUNK_BYTES, Shared, buffer, finished, send, state_context};
use super::writer::Update;

/// Syncs one partition (or a whole unpartitioned stream), appending to `bytes` and sending
/// chunks to the writer; the last chunk carries the partition's final bookmark.
///
/// # Errors
/// The stream fails, a replication key value is invalid or goes backwards in a sorted
/// stream, a child fails, or the output is gone. Records already produced are written with
/// the progress they made before the error is returned. [`Error::SkipPartition`] is not a
/// failure: it is logged as a warning, the records already produced are written with a
/// bookmark that goes no further than they do, and the result is `Ok`.
pub(super) async fn sync_partition<S: Stream>(
    stream: &S,
    plan: &Plan,
    shared: &Arc<Shared>,
    partition: Option<Context>,
    bytes: &mut Vec<u8>,
) -> Result<()> {
    let name = stream.name();
    let started = Instant::now();
    let mut run = PartitionRun::new(stream, plan, shared, partition);
    let mut output = Output::new(name, shared.version(plan), shared.mapper.as_deref());
    if let Some(config) = shared
        .batch
        .as_ref()
        .filter(|_| stream.batches() && plan.emit)
    {
        output = output.with_batches(config, &plan.schemas);
    }
    let mut children = Children::default();
    let result = run
        .records(stream, plan, shared, &mut output, &mut children, bytes)
        .await;
    // `Some(reason)`: the partition is skipped, after the records it emitted.
    let result = match result {
        Ok(()) => Ok(None),
        Err(Error::SkipPartition { reason }) => Ok(Some(reason)),
        Err(e) => Err(e),
    };
    let result = match result {
        Ok(skipped) => match children.wait().await {
            // Every record taken is in a BATCH file before the final STATE.
            Ok(()) => output.write_batches(bytes, true).await.map(|_| skipped),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    RecordCount {
        stream: name,
        context: run.state_context.as_ref(),
        count: run.count,
    }
    .emit();
    SyncDuration {
        stream: name,
        context: run.state_context.as_ref(),
        seconds: started.elapsed().as_secs_f64(),
        succeeded: matches!(result, Ok(None)),
    }
    .emit();
    let sorted = run.tracker_sorted;
    let skipped = match result {
        Ok(skipped) => skipped,
        Err(error) => {
            // Records already produced were good: write them, with the progress they made
            // where it is resumable, before failing (unless they could not be put in files).
            let written = !output.batching() || output.write_batches(bytes, true).await.is_ok();
            let update = written.then(|| run.update(run.tracker.progress()));
            send(shared, std::mem::take(bytes), update, sorted && written).await?;
            return Err(error);
        }
    };
    if let Some(reason) = skipped {
        let context = run.partition.clone().map_or(Value::Null, Value::Object);
        tracing::warn!(
            stream = name,
            context = %context,
            reason = %reason,
            records = run.count,
            "Skipping the rest of this partition; the sync goes on with the other partitions."
        );
        // The records emitted stand; the bookmark covers them and no more: a sorted stream's
        // reaches the last record emitted, an unsorted one's stays where it started (its
        // mid-sync progress markers are dropped, as nothing after them was synced).
        let mut bookmark = run.tracker.progress();
        bookmark.signpost = None;
        bookmark.starting_value = None;
        bookmark.progress_markers = None;
        *bytes = send(
            shared,
            std::mem::take(bytes),
            Some(run.update(bookmark)),
            true,
        )
        .await?;
        return Ok(());
    }
    let update = run.update(run.tracker.finalize());
    *bytes = send(shared, std::mem::take(bytes), Some(update), true).await?;
    tracing::info!(
        stream = name,
        records = run.count,
        "Stream partition finished."
    );
    Ok(())
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

/// The bookkeeping of one partition while it syncs.
struct PartitionRun {
    stream: String,
    /// The whole context, handed to the stream.
    partition: Option<Context>,
    /// The context the bookmark is stored under.
    state_context: Option<Context>,
    /// State context values added to records that lack them.
    inject: Vec<(String, Value)>,
    tracker: Tracker,
    tracker_sorted: bool,
    access: KeyAccess,
    count: u64,
    emitted_since_state: usize,
}

impl PartitionRun {
    fn new<S: Stream>(
        stream: &S,
        plan: &Plan,
        shared: &Shared,
        partition: Option<Context>,
    ) -> Self {
        let state_context = state_context(partition.as_ref(), stream.state_partitioning_keys());
        let inject = state_context
            .iter()
            .flatten()
            .filter(|(k, _)| plan.fields.iter().any(|f| f == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let stored = shared
            .initial
            .bookmark(stream.name(), state_context.as_ref())
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
            stream.replication_signpost(shared.started).or_else(|| {
                (plan.key_kind == KeyKind::DateTime)
                    .then(|| Value::from(format_timestamp(shared.started)))
            })
        });
        // A bookmark shared by several partitions cannot be resumed mid-partition.
        let sorted = stream.is_sorted() && stream.state_partitioning_keys().is_none();
        let tracker = Tracker::start(
            stored,
            key,
            plan.key_kind,
            sorted,
            shared.start_date.as_ref(),
            signpost,
        );
        PartitionRun {
            stream: stream.name().to_owned(),
            partition,
            state_context,
            inject,
            tracker,
            tracker_sorted: key.is_some() && sorted,
            access,
            count: 0,
            emitted_since_state: 0,
        }
    }

    fn update(&self, bookmark: Bookmark) -> Update {
        Update {
            stream: self.stream.clone(),
            partition: self.state_context.clone(),
            bookmark,
        }
    }

    async fn records<S: Stream>(
        &mut self,
        stream: &S,
        plan: &Plan,
        shared: &Arc<Shared>,
        output: &mut Output<'_>,
        children: &mut Children,
        bytes: &mut Vec<u8>,
    ) -> Result<()> {
        let cx = SyncContext {
            partition: self.partition.clone(),
            starting_value: self.tracker.starting_value().cloned(),
            record_limit: shared.record_limit,
            replication_key: plan.replication_key.clone(),
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
            if !plan.children.is_empty() {
                for context in stream.child_contexts(&record, self.partition.as_ref())? {
                    for child in &plan.children {
                        children.run(child, shared, context.clone(), bytes).await?;
                    }
                }
            }
            if plan.emit {
                output.record(&record, &plan.deselected, &self.inject, bytes)?;
            }
            // A STATE follows each BATCH file, as singer-sdk writes them.
            let batched = output.batching() && output.write_batches(bytes, false).await?;
            self.count += 1;
            self.emitted_since_state += 1;
            if shared.record_limit.is_some_and(|limit| self.count >= limit) {
                break;
            }
            if batched || self.emitted_since_state >= frequency {
                self.emitted_since_state = 0;
                // The state covers this record's children too, and its records are in files.
                children.wait().await?;
                output.write_batches(bytes, true).await?;
                let update = self.update(self.tracker.progress());
                *bytes = send(shared, std::mem::take(bytes), Some(update), true).await?;
                output.refresh();
            } else if bytes.len() >= CHUNK_BYTES {
                *bytes = send(shared, std::mem::take(bytes), None, false).await?;
                output.refresh();
            }
        }
        Ok(())
    }
}

/// The child partitions a parent partition started on tasks of their own.
#[derive(Default)]
struct Children {
    tasks: JoinSet<Result<()>>,
}

impl Children {
    /// Syncs one child partition: on a task of its own when the run has a permit to spare,
    /// else right here, appending to the parent's buffer (so the child's lines come before
    /// the parent's record, as singer-sdk writes them).
    async fn run(
        &mut self,
        child: &Arc<Plan>,
        shared: &Arc<Shared>,
        context: Context,
        bytes: &mut Vec<u8>,
    ) -> Result<()> {
        while let Some(done) = self.tasks.try_join_next() {
            finished(done)?;
        }
        let Some(permit) = shared.try_permit() else {
            return child.stream.sync_child(child, shared, context, bytes).await;
        };
        let child = Arc::clone(child);
        let shared = Arc::clone(shared);
        self.tasks.spawn(async move {
            let _permit = permit;
            let mut bytes = buffer();
            child
                .stream
                .sync_child(&child, &shared, context, &mut bytes)
                .await
        });
        Ok(())
    }

    /// Waits for every child partition started so far.
    async fn wait(&mut self) -> Result<()> {
        while let Some(done) = self.tasks.join_next().await {
            finished(done)?;
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
