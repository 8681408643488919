//! Settings, compatible with MeltanoLabs target-postgres where they exist there (`host`,
//! `port`, `user`, `password`, `database`, `sqlalchemy_url`, `ssl_*`, `activate_version`;
//! `default_target_schema`, `load_method`, `hard_delete`, `add_record_metadata` and
//! `batch_size_rows` are the SDK's built-in settings).

use serde::Deserialize;
use singer_sdk::sql::SchemaPolicy;
use singer_sdk::sql::postgres::{ConnectOptions, ConnectionSettings};
use singer_sdk::{Error, Result, Settings};

/// The target's settings.
#[derive(Debug, Clone, Deserialize, Settings)]
pub(crate) struct Config {
    /// Where to connect (`host`, `port`, `user`, `password`, `database`, `sqlalchemy_url`, `ssl_*`).
    #[serde(flatten)]
    pub(crate) connection: ConnectionSettings,
    /// Act on ACTIVATE_VERSION messages (MeltanoLabs' name; `process_activate_version_messages` turns them off too).
    #[serde(default)]
    #[setting(title = "Activate Version", default = true)]
    pub(crate) activate_version: Option<bool>,
    /// What a table may undergo when a stream's schema changes: evolve (add columns, widen types), version (also load an unwidenable column into `<column>__v2`), add-columns or frozen.
    #[serde(default)]
    #[setting(title = "Schema Policy", default = "evolve")]
    pub(crate) schema_policy: Option<String>,
}

impl Config {
    /// Where to connect.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming what is missing or malformed (never the password).
    pub(crate) fn connect_options(&self) -> Result<ConnectOptions> {
        Ok(self.connection.connect_options("target-postgres")?)
    }

    /// The schema policy (default `evolve`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an unknown policy.
    pub(crate) fn schema_policy(&self) -> Result<SchemaPolicy> {
        match &self.schema_policy {
            None => Ok(SchemaPolicy::default()),
            Some(text) => text
                .parse()
                .map_err(|e: singer_sdk::sql::Error| invalid(format!("`schema_policy`: {e}"))),
        }
    }
}

fn invalid(violation: String) -> Error {
    Error::InvalidConfig {
        violations: vec![violation],
    }
}
