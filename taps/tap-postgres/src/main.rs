//! `tap-postgres`: a Singer tap extracting PostgreSQL tables and views, built on `singer-sdk`.
//!
//! Discovery reads the catalog once: one stream per readable table or view, named
//! `<schema>-<table>`, with typed properties, nullability, the primary key and comments as
//! descriptions. Each stream is read through a server-side cursor, so memory stays flat
//! whatever the table's size; with a replication key, rows come in key order from the
//! bookmark on.

mod config;
#[cfg(test)]
mod tests;

use singer_sdk::capability::{Capabilities, Capability};
use singer_sdk::sql::postgres::{DiscoverOptions, discover};
use singer_sdk::stream::Stream as _;
use singer_sdk::tap::{Streams, Tap};
use singer_sdk::{Error, Result};

use crate::config::Config;

/// Extracts the tables of one database.
struct TapPostgres;

impl Tap for TapPostgres {
    type Settings = Config;

    fn capabilities(&self) -> Capabilities {
        Capabilities::tap().with(Capability::Discover)
    }

    async fn streams(&self, config: &Config) -> Result<Streams> {
        let connect = config.connect_options()?;
        let mut options = DiscoverOptions::default();
        options.filter_schemas = config.filter_schemas.clone().unwrap_or_default();
        options.dates_as_string = config.dates_as_string.unwrap_or(false);
        options.json_as_object = config.json_as_object.unwrap_or(false);
        options.types.singer_decimal = config.use_singer_decimal.unwrap_or(false);
        let found = discover(&connect, &options).await?;
        let mut keys = config.replication_keys.clone().unwrap_or_default();
        let mut streams = Streams::new();
        for stream in found {
            let stream = match keys.remove(stream.name()) {
                Some(key) => stream.with_replication_key(&key)?,
                None => stream,
            };
            streams.push(stream);
        }
        if let Some(name) = keys.keys().next() {
            return Err(Error::InvalidConfig {
                violations: vec![format!(
                    "`replication_keys`: no stream `{name}` was discovered; stream names are `<schema>-<table>` (check `filter_schemas` and the user's SELECT privileges)"
                )],
            });
        }
        Ok(streams)
    }
}

// Records are many small allocations, often freed on another thread than the one that made
// them: mimalloc handles that pattern far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[singer_sdk::main]
fn main() -> TapPostgres {
    TapPostgres
}
