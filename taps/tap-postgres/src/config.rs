//! Settings, compatible with MeltanoLabs tap-postgres where they exist there (`host`, `port`,
//! `user`, `password`, `database`, `sqlalchemy_url`, `ssl_*`, `filter_schemas`,
//! `dates_as_string`).

use serde::Deserialize;
use singer_sdk::sql::postgres::connect::DEFAULT_PORT;
use singer_sdk::sql::postgres::{ConnectOptions, SslMode};
use singer_sdk::{Error, Result, Settings};

/// The tap's settings.
#[derive(Debug, Clone, Deserialize, Settings)]
pub(crate) struct Config {
    /// Host name or IP address of the PostgreSQL server (required unless `sqlalchemy_url` is set).
    #[serde(default)]
    #[setting(title = "Host")]
    #[schema(min_length = 1)]
    pub(crate) host: Option<String>,
    /// TCP port of the server (default 5432).
    #[serde(default)]
    #[setting(title = "Port", default = 5432)]
    #[schema(minimum = 1, maximum = 65535)]
    pub(crate) port: Option<u16>,
    /// User name to connect as (required unless `sqlalchemy_url` is set).
    #[serde(default)]
    #[setting(title = "User")]
    #[schema(min_length = 1)]
    pub(crate) user: Option<String>,
    /// Password of the user (none for trust or peer authentication).
    #[serde(default)]
    #[setting(secret, title = "Password")]
    pub(crate) password: Option<String>,
    /// Database to load into (required unless `sqlalchemy_url` is set).
    #[serde(default)]
    #[setting(title = "Database")]
    #[schema(min_length = 1)]
    pub(crate) database: Option<String>,
    /// Connection URL instead of the settings above, e.g. `postgresql://user:password@host:5432/database?sslmode=require` (SQLAlchemy's `postgresql+psycopg2://` works too).
    #[serde(default)]
    #[setting(secret, title = "SQLAlchemy URL")]
    #[schema(min_length = 1)]
    pub(crate) sqlalchemy_url: Option<String>,
    /// Encrypt the connection, checking the server's certificate as `ssl_mode` says (`verify-full` unless set).
    #[serde(default)]
    #[setting(title = "SSL Enable", default = false)]
    pub(crate) ssl_enable: Option<bool>,
    /// libpq's sslmode: disable, allow, prefer (the default without `ssl_enable`), require, verify-ca or verify-full (the default with it).
    #[serde(default)]
    #[setting(title = "SSL Mode")]
    pub(crate) ssl_mode: Option<String>,
    /// Certificate authority to trust for verify-ca and verify-full: the PEM text itself, or the path of a PEM file (default: the usual public web roots).
    #[serde(default)]
    #[setting(title = "SSL Certificate Authority")]
    pub(crate) ssl_certificate_authority: Option<String>,
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
    /// Replication key per stream, e.g. `{"public-orders": "updated_at"}`: the stream is read incrementally, in key order, from its bookmark on (the catalog's `replication-key` metadata is honoured too, filtering as rows arrive).
    #[serde(default)]
    #[setting(title = "Replication Keys")]
    pub(crate) replication_keys: Option<std::collections::BTreeMap<String, String>>,
}

impl Config {
    /// Where to connect: `sqlalchemy_url`, or `host`, `port`, `user`, `password` and
    /// `database`, with the `ssl_*` settings on top.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming what is missing or malformed (never the password).
    pub(crate) fn connect_options(&self) -> Result<ConnectOptions> {
        let mut options = match &self.sqlalchemy_url {
            Some(url) => {
                let given: Vec<&str> = [
                    ("host", self.host.is_some()),
                    ("user", self.user.is_some()),
                    ("database", self.database.is_some()),
                ]
                .into_iter()
                .filter_map(|(name, set)| set.then_some(name))
                .collect();
                if !given.is_empty() {
                    tracing::warn!(
                        settings = ?given,
                        "`sqlalchemy_url` is set: it is used, and these settings are ignored."
                    );
                }
                ConnectOptions::from_url(url)?
            }
            None => {
                let missing: Vec<&str> = [
                    ("host", self.host.is_none()),
                    ("user", self.user.is_none()),
                    ("database", self.database.is_none()),
                ]
                .into_iter()
                .filter_map(|(name, missing)| missing.then_some(name))
                .collect();
                if !missing.is_empty() {
                    return Err(invalid(format!(
                        "missing {}: set `host`, `user` and `database` (and `password`, `port` if needed), or a `sqlalchemy_url` such as postgresql://user:password@localhost:5432/warehouse",
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                let mut options = ConnectOptions::new(
                    self.host.clone().unwrap_or_default(),
                    self.port.unwrap_or(DEFAULT_PORT),
                    self.user.clone().unwrap_or_default(),
                    self.database.clone().unwrap_or_default(),
                );
                if let Some(password) = &self.password {
                    options = options.password(password.clone());
                }
                options
            }
        };
        if self.port == Some(0) {
            return Err(invalid(
                "`port`: 0 is not a TCP port; use 1-65535 (PostgreSQL's default is 5432)"
                    .to_owned(),
            ));
        }
        match (&self.ssl_mode, self.ssl_enable) {
            (Some(mode), _) => options.ssl_mode = mode.parse::<SslMode>()?,
            (None, Some(true)) => options.ssl_mode = SslMode::VerifyFull,
            (None, _) => {}
        }
        if let Some(ca) = &self.ssl_certificate_authority {
            options.ssl_root_certificate = Some(ca.clone());
        }
        options.application_name = "tap-postgres".to_owned();
        Ok(options)
    }
}

fn invalid(violation: String) -> Error {
    Error::InvalidConfig {
        violations: vec![violation],
    }
}
