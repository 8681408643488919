//! The sink: appends each batch to the stream's file as one durable write.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use singer_sdk::sink::file::gzip_member;
use singer_sdk::sink::{Batch, JsonRecords, Sink, StreamSchema};
use singer_sdk::{Error, Result};

use crate::client::{SharedFile, TargetJsonl};
use crate::config::Compression;

/// Writes one stream's records to its JSON Lines file.
#[derive(Debug)]
pub(crate) struct JsonlSink {
    client: Arc<TargetJsonl>,
    stream: String,
    path: PathBuf,
    /// Opened at the first batch (no empty files for streams without records), or at once
    /// with `load_method: overwrite` so the stream is emptied even if no record follows.
    file: Option<SharedFile>,
}

impl JsonlSink {
    /// The sink of `stream`.
    ///
    /// # Errors
    /// With `load_method: overwrite`, the file cannot be opened and emptied.
    pub(crate) fn open(client: &Arc<TargetJsonl>, stream: &StreamSchema) -> Result<Self> {
        let mut sink = JsonlSink {
            client: Arc::clone(client),
            stream: stream.name.clone(),
            path: client.path_for(&stream.name),
            file: None,
        };
        if client.overwrite {
            sink.file()?;
        }
        Ok(sink)
    }

    fn file(&mut self) -> Result<SharedFile> {
        if let Some(file) = &self.file {
            return Ok(Arc::clone(file));
        }
        let file = self.client.file(&self.path, &self.stream)?;
        Ok(Arc::clone(self.file.insert(file)))
    }
}

impl Sink for JsonlSink {
    fn write_batch(&mut self, batch: Batch) -> Result<()> {
        let records = match batch.json.len() {
            1 => "1 record".to_owned(),
            n => format!("{n} records"),
        };
        let bytes = encode(&batch.json, self.client.compression).map_err(|e| {
            let stream = &self.stream;
            Error::context(format!("cannot encode {records} of stream `{stream}`"), e)
        })?;
        let file = self.file()?;
        let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
        file.append(&bytes).map_err(|e| {
            Error::context(
                format!(
                    "cannot write {records} of stream `{}` to `{}`; free disk space or point destination_path at a writable location, then rerun from the last state",
                    self.stream,
                    self.path.display()
                ),
                e,
            )
        })
    }

    fn close(&mut self) -> Result<()> {
        // Every batch is already synced; just let go of the file.
        self.file = None;
        Ok(())
    }
}

/// The bytes of one batch: one compact JSON object per line (keys in arrival order, UTF-8
/// unescaped), as one gzip member with `gzip`.
///
/// # Errors
/// Compressing fails.
pub(crate) fn encode(records: &JsonRecords, compression: Compression) -> io::Result<Vec<u8>> {
    let mut lines = Vec::new();
    records.write_to(&mut lines);
    match compression {
        Compression::None => Ok(lines),
        Compression::Gzip => gzip_member(&lines),
    }
}
