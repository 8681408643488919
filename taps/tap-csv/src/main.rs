//! `tap-csv`: a Singer tap for CSV files, built on `singer-sdk`.

mod config;
mod streams;
#[cfg(test)]
mod tests;

use singer_sdk::Result;
use singer_sdk::tap::{Streams, Tap};

use crate::config::Config;
use crate::streams::CsvStream;

/// Reads CSV files, one stream per file definition.
struct TapCsv;

impl Tap for TapCsv {
    type Settings = Config;

    async fn streams(&self, config: &Config) -> Result<Streams> {
        let mut streams = Streams::new();
        for definition in streams::file_definitions(config)? {
            streams.push(CsvStream::open(definition, config)?);
        }
        Ok(streams)
    }
}

// Records are many small allocations, often freed on another thread than the one that made
// them: mimalloc handles that pattern far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[singer_sdk::main]
fn main() -> TapCsv {
    TapCsv
}
