{% if cookiecutter.serialization_method == "SQL" -%}
//! The destination: one PostgreSQL table per stream, loaded by the SDK's SQL base
//! (`singer_sdk::sql::postgres`). The table goes into `default_target_schema`, or the schema
//! of a `<schema>-<table>` stream name, else `public`; it gets typed columns and the stream's
//! key as primary key, and evolves with the stream's schema. Each batch is one transaction,
//! loaded by `COPY` (upserts through a staging table), so a STATE is acknowledged only once
//! the records before it are committed.

use std::sync::Arc;

use singer_sdk::Result;
use singer_sdk::capability::{Capabilities, Capability};
use singer_sdk::sink::StreamSchema;
use singer_sdk::sql::postgres::{Loader, TableSink};
use singer_sdk::target::{Target, TargetOptions};

use crate::config::Config;

/// What every sink shares: the connection pool and the tables known so far.
pub(crate) struct Target{{ cookiecutter.destination_name }} {
    loader: Arc<Loader>,
}

impl Target for Target{{ cookiecutter.destination_name }} {
    type Settings = Config;
    type Sink = TableSink;
    const BATCH_BYTES: usize = singer_sdk::sql::postgres::BATCH_BYTES;
    const SINK_CORES: usize = singer_sdk::sql::postgres::SINK_CORES;

    fn capabilities() -> Capabilities {
        Capabilities::target()
            .with(Capability::ActivateVersion)
            .with(Capability::HardDelete)
            .with(Capability::SoftDelete)
            .with(Capability::TargetSchema)
    }

    /// Checks that the server answers.
    fn connect(config: Config, options: &TargetOptions) -> Result<Self> {
        let loader = Loader::new(config.connect_options()?, options)?;
        Ok(Target{{ cookiecutter.destination_name }} {
            loader: Arc::new(loader),
        })
    }

    /// Creates the stream's table, or brings it up to the stream's schema.
    fn open_sink(self: Arc<Self>, stream: &StreamSchema) -> Result<TableSink> {
        self.loader.open_sink(stream)
    }
}
{%- else -%}
//! The destination and its sinks: one JSON Lines file per stream under `destination_path`,
{%- if cookiecutter.serialization_method == "Per record" %}
//! written record by record: each record is durable before the next one is written.
{%- else %}
//! written batch by batch: each batch is one durable append.
{%- endif %}

use std::path::PathBuf;
use std::sync::Arc;

use singer_sdk::sink::file::{AppendFile, NameRule, Repair, create_dirs, safe_file_name};
use singer_sdk::sink::{Batch, Sink, StreamSchema};
use singer_sdk::target::{Target, TargetOptions};
use singer_sdk::{Error, Result};

use crate::config::Config;

/// What every sink shares: the destination directory.
#[derive(Debug)]
pub(crate) struct Target{{ cookiecutter.destination_name }} {
    dir: PathBuf,
}

impl Target for Target{{ cookiecutter.destination_name }} {
    type Settings = Config;
    type Sink = JsonlSink;

    /// Creates the destination directory.
    fn connect(config: Config, _options: &TargetOptions) -> Result<Self> {
        let dir = PathBuf::from(&config.destination_path);
        create_dirs(&dir).map_err(|e| {
            Error::context(
                format!(
                    "cannot create the destination directory `{}`; point destination_path at a directory you can write to",
                    dir.display()
                ),
                e,
            )
        })?;
        Ok(Target{{ cookiecutter.destination_name }} { dir })
    }

    /// Opens `<destination_path>/<stream>.jsonl` for appending; a line cut off by a crash is
    /// removed first.
    fn open_sink(self: Arc<Self>, stream: &StreamSchema) -> Result<JsonlSink> {
        let name = safe_file_name(&stream.name, NameRule::Portable);
        let path = self.dir.join(format!("{name}.jsonl"));
        let file = AppendFile::options()
            .repair(Repair::Lines)
            .open(&path)
            .map_err(|e| Error::context(format!("cannot open `{}`", path.display()), e))?;
        Ok(JsonlSink {
            stream: stream.name.clone(),
            file,
        })
    }
}

/// Appends one stream's records to its file.
#[derive(Debug)]
pub(crate) struct JsonlSink {
    stream: String,
    file: AppendFile,
}

impl Sink for JsonlSink {
    fn write_batch(&mut self, batch: Batch) -> Result<()> {
{%- if cookiecutter.serialization_method == "Per record" %}
        for record in &batch.records {
            let mut line = serde_json::to_vec(record)?;
            line.push(b'\n');
            self.append(&line)?;
        }
        Ok(())
{%- else %}
        let mut lines = Vec::with_capacity(batch.records.len() * 128);
        for record in &batch.records {
            serde_json::to_writer(&mut lines, record)?;
            lines.push(b'\n');
        }
        self.append(&lines)
{%- endif %}
    }
}

impl JsonlSink {
    /// Appends `bytes` durably, or says what to do.
    fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.file.append(bytes).map_err(|e| {
            Error::context(
                format!(
                    "cannot write records of stream `{}` to `{}`; free disk space or point destination_path at a writable location, then rerun from the last state",
                    self.stream,
                    self.file.path().display()
                ),
                e,
            )
        })
    }
}
{%- endif %}
