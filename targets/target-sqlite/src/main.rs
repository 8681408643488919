//! `target-sqlite`: a Singer target loading a SQLite database, built on `singer-sdk`.
//!
//! One table per stream (names conformed like singer-sdk's SQL targets), typed columns, a
//! primary key from the stream's key, `append-only`/`upsert`/`overwrite` load methods,
//! ACTIVATE_VERSION (soft or hard delete), and one committed WAL transaction per batch.

mod client;
mod config;
mod sink;
mod table;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use singer_sdk::Result;
use singer_sdk::capability::{Capabilities, Capability};
use singer_sdk::sink::StreamSchema;
use singer_sdk::target::{Run, Target, TargetOptions};

use crate::client::Client;
use crate::config::Config;
use crate::sink::SqliteSink;

impl Target for Client {
    type Settings = Config;
    type Sink = SqliteSink;

    fn capabilities() -> Capabilities {
        Capabilities::target()
            .with(Capability::ActivateVersion)
            .with(Capability::HardDelete)
    }

    fn connect(settings: Config, options: &TargetOptions) -> Result<Client> {
        Client::open(&settings, options)
    }

    fn open_sink(self: Arc<Self>, stream: &StreamSchema) -> Result<SqliteSink> {
        let options = self.options.clone();
        SqliteSink::open(&self, stream, &options)
    }
}

// Records are many small allocations, often freed on another thread than the one that made
// them: mimalloc handles that pattern far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[singer_sdk::main]
fn main() -> Run<Client> {
    Run::new()
}
