//! `target-postgres`: a Singer target loading PostgreSQL, built on `singer-sdk`.
//!
//! One table per stream (in `default_target_schema`, or the schema of a `schema-table`
//! stream name, else `public`), typed columns, the stream's key as primary key, loading by
//! `COPY` (upserts through a staging table and one `INSERT … ON CONFLICT`), tables evolved
//! by the schema policy, ACTIVATE_VERSION (soft or hard delete), one transaction per batch.

mod config;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use singer_sdk::Result;
use singer_sdk::capability::{Capabilities, Capability};
use singer_sdk::sink::StreamSchema;
use singer_sdk::sql::postgres::{Loader, TableSink};
use singer_sdk::target::{Run, Target, TargetOptions};

use crate::config::Config;

/// The target: what its sinks share.
struct TargetPostgres {
    loader: Arc<Loader>,
}

impl Target for TargetPostgres {
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

    fn connect(settings: Config, options: &TargetOptions) -> Result<TargetPostgres> {
        let loader = Loader::new(settings.connect_options()?, options)?
            .schema_policy(settings.schema_policy()?)
            .activate_version(settings.activate_version.unwrap_or(true));
        Ok(TargetPostgres {
            loader: Arc::new(loader),
        })
    }

    fn open_sink(self: Arc<Self>, stream: &StreamSchema) -> Result<TableSink> {
        self.loader.open_sink(stream)
    }
}

// Records are many small allocations, often freed on another thread than the one that made
// them: mimalloc handles that pattern far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[singer_sdk::main]
fn main() -> Run<TargetPostgres> {
    Run::new()
}
