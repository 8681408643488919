//! Syncing one stream: its SCHEMA (and ACTIVATE_VERSION) lines, then its partitions, up to
//! the run's concurrency at once, each sending its lines to the writer in chunks with the
//! bookmark they reach.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::mapper::Mapper;
use crate::message::{ActivateVersionMessage, Message};
use crate::state::State;
use crate::stream::{Context, Partitions};

use super::plan::Plan;
use super::writer::{Chunk, Update};

/// What every stream's sync shares: the run's options, the writer and the concurrency
/// permits.
pub(super) struct Shared {
    pub(super) mapper: Option<Arc<Mapper>>,
    pub(super) initial: State,
    pub(super) start_date: Option<Value>,
    pub(super) record_limit: Option<u64>,
    pub(super) started: DateTime<Utc>,
    pub(super) version: Option<i64>,
    /// Records go to BATCH files (`batch_config`).
    pub(super) batch: Option<crate::batch::BatchConfig>,
    pub(super) sender: mpsc::Sender<Chunk>,
    /// One permit per partition syncing at once (`max_concurrency`).
    pub(super) permits: Arc<Semaphore>,
}

impl Shared {
    /// The ACTIVATE_VERSION version of a stream's records: full-table streams only.
    pub(super) fn version(&self, plan: &Plan) -> Option<i64> {
        if plan.replication_key.is_some() {
            None
        } else {
            self.version
        }
    }

    /// A permit for one more partition, when one is free now.
    pub(super) fn try_permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).try_acquire_owned().ok()
    }
}

/// Bytes buffered per partition before they go to the writer.
pub(super) const CHUNK_BYTES: usize = 64 * 1024;

/// A fresh output buffer.
pub(super) fn buffer() -> Vec<u8> {
    Vec::with_capacity(CHUNK_BYTES + 4096)
}

/// Syncs a top-level stream: its SCHEMA lines, then every partition, up to the run's
/// concurrency at once.
///
/// # Errors
/// The first partition that fails; partitions still running are stopped.
pub(super) async fn sync_stream(plan: Arc<Plan>, shared: Arc<Shared>) -> Result<()> {
    let stream = Arc::clone(&plan.stream);
    let name = stream.name().to_owned();
    let mut bytes = buffer();
    preamble(&plan, &shared, &mut bytes)?;
    send(&shared, bytes, None, false).await?;
    let partitions = match stream.partitions(shared.initial.partitions(&name)) {
        Partitions::Whole => vec![None],
        Partitions::Each(list) => list.into_iter().map(Some).collect(),
    };
    let mut tasks = JoinSet::new();
    for partition in partitions {
        let permit = loop {
            tokio::select! {
                biased;
                Some(done) = tasks.join_next() => finished(done)?,
                permit = Arc::clone(&shared.permits).acquire_owned() => {
                    break permit.map_err(|_| Error::custom("the sync was stopped"))?;
                }
            }
        };
        let plan = Arc::clone(&plan);
        let shared = Arc::clone(&shared);
        tasks.spawn(async move {
            let _permit = permit;
            let mut bytes = buffer();
            plan.stream
                .sync_partition(&plan, &shared, partition, &mut bytes)
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        finished(done)?;
    }
    Ok(())
}

/// The result of a spawned partition or child sync.
pub(super) fn finished(
    done: std::result::Result<Result<()>, tokio::task::JoinError>,
) -> Result<()> {
    done.map_err(|e| Error::custom(format!("a partition's sync stopped unexpectedly: {e}")))?
}

/// Writes a stream's SCHEMA lines (as the stream maps make them) and its ACTIVATE_VERSION,
/// unless the stream only runs for its children.
pub(super) fn preamble(plan: &Plan, shared: &Shared, bytes: &mut Vec<u8>) -> Result<()> {
    if !plan.emit {
        return Ok(());
    }
    for schema in &plan.schemas {
        serde_json::to_writer(&mut *bytes, &Message::Schema(schema.clone()))?;
        bytes.push(b'\n');
    }
    if let Some(version) = shared.version(plan) {
        let activate = ActivateVersionMessage {
            stream: plan.stream.name().to_owned(),
            version,
        };
        let activations = match &shared.mapper {
            Some(mapper) => mapper.map_activate_version(activate),
            None => vec![activate],
        };
        for activate in activations {
            serde_json::to_writer(&mut *bytes, &Message::ActivateVersion(activate))?;
            bytes.push(b'\n');
        }
    }
    Ok(())
}

/// Sends a chunk to the writer and returns a fresh buffer.
///
/// # Errors
/// The writer is gone (the output was closed).
pub(super) async fn send(
    shared: &Shared,
    bytes: Vec<u8>,
    update: Option<Update>,
    emit_state: bool,
) -> Result<Vec<u8>> {
    if bytes.is_empty() && update.is_none() && !emit_state {
        return Ok(bytes);
    }
    shared
        .sender
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
    Ok(buffer())
}

/// The context a partition's bookmark is stored under: its context cut down to the
/// stream's state partitioning keys (`None` when nothing is left).
pub(super) fn state_context(
    partition: Option<&Context>,
    keys: Option<&[String]>,
) -> Option<Context> {
    let partition = partition?;
    let Some(keys) = keys else {
        return Some(partition.clone());
    };
    let kept: Context = partition
        .iter()
        .filter(|(k, _)| keys.iter().any(|key| key == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!kept.is_empty()).then_some(kept)
}
