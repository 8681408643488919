//! `target-csv`: a Singer target writing one CSV file per stream, built on `singer-sdk`.
//! Settings follow MeltanoLabs `target-csv`.

mod client;
mod config;
mod file;
mod sink;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use singer_sdk::Result;
use singer_sdk::sink::StreamSchema;
use singer_sdk::target::{Run, Target, TargetOptions};

use crate::client::Client;
use crate::config::Config;
use crate::sink::CsvSink;

impl Target for Client {
    type Settings = Config;
    type Sink = CsvSink;

    fn connect(settings: Config, options: &TargetOptions) -> Result<Client> {
        Client::new(settings, options)
    }

    fn open_sink(self: Arc<Self>, stream: &StreamSchema) -> Result<CsvSink> {
        CsvSink::open(&self, stream)
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
