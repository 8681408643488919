//! Settings, compatible with MeltanoLabs tap-postgres where they exist there (`host`, `port`,
//! `user`, `password`, `database`, `sqlalchemy_url`, `ssl_*`, `filter_schemas`,
//! `dates_as_string`).

use serde::Deserialize;
use singer_sdk::sql::postgres::{ConnectOptions, ConnectionSettings};
use singer_sdk::{Result, Settings};

/// The tap's settings.
#[derive(Debug, Clone, Deserialize, Settings)]
pub(crate) struct Config {
    /// Where to connect (`host`, `port`, `user`, `password`, `database`, `sqlalchemy_url`, `ssl_*`).
    #[serde(flatten)]
    pub(crate) connection: ConnectionSettings,
    /// Only discover and sync tables of these schemas (all but the system schemas when unset).
    #[serde(default)]
    #[setting(title = "Filter Schemas")]
    pub(crate) filter_schemas: Option<Vec<String>>,
    /// Describe `date` columns as plain strings rather than strings of format `date` (MeltanoLabs' `dates_as_string`).
    #[serde(default)]
    #[setting(title = "Dates As String", default = false)]
    pub(crate) dates_as_string: Option<bool>,
    /// Describe `json` and `jsonb` columns as objects rather than any JSON value (MeltanoLabs' `json_as_object`).
    #[serde(default)]
    #[setting(title = "JSON As Object", default = false)]
    pub(crate) json_as_object: Option<bool>,
    /// Describe `numeric` columns as strings of format `singer.decimal` (exact) rather than numbers.
    #[serde(default)]
    #[setting(title = "Use Singer Decimal", default = false)]
    pub(crate) use_singer_decimal: Option<bool>,
    /// Replication key per stream, e.g. `{"public-orders": "updated_at"}`: the stream is read incrementally, in key order, from its bookmark on (a catalog's `replication-key` metadata with `replication-method` INCREMENTAL chooses the key too, and FULL_TABLE reads the whole table).
    #[serde(default)]
    #[setting(title = "Replication Keys")]
    pub(crate) replication_keys: Option<std::collections::BTreeMap<String, String>>,
}

impl Config {
    /// Where to connect.
    ///
    /// # Errors
    /// [`singer_sdk::Error::InvalidConfig`] naming what is missing or malformed (never the
    /// password).
    pub(crate) fn connect_options(&self) -> Result<ConnectOptions> {
        Ok(self.connection.connect_options("tap-postgres")?)
    }
}
