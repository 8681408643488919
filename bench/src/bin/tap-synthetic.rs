//! `tap-synthetic`: a tap on the public `singer-sdk` API that emits `records` records of the
//! benchmark's 13-field shape (the same values as `bench/peers/tap_synthetic.py`), for
//! measuring the tap runtime as a whole process.

use serde::Deserialize;
use singer_bench::rows::{Row, row};
use singer_sdk::stream::{RecordStream, Stream, SyncContext, records_from_iter};
use singer_sdk::tap::{Streams, Tap};
use singer_sdk::{Result, Settings};

/// Settings.
#[derive(Debug, Deserialize, Settings)]
struct Config {
    /// How many records to emit.
    #[serde(default = "default_records")]
    #[setting(default = 1_000_000)]
    records: u64,
}

fn default_records() -> u64 {
    1_000_000
}

struct Rows {
    records: u64,
}

impl Stream for Rows {
    type Record = Row;

    fn name(&self) -> &str {
        "rows"
    }

    fn records<'a>(&'a self, _cx: &'a SyncContext) -> RecordStream<'a, Row> {
        records_from_iter((0..self.records).map(|i| Ok(row(i))))
    }
}

/// Emits synthetic rows.
struct TapSynthetic;

impl Tap for TapSynthetic {
    type Settings = Config;

    async fn streams(&self, config: &Config) -> Result<Streams> {
        Ok(Streams::new().with(Rows {
            records: config.records,
        }))
    }
}

#[singer_sdk::main]
fn main() -> TapSynthetic {
    TapSynthetic
}
