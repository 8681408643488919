//! The target's settings: `--about` lists them (with the SDK's built-in ones), `--config`
//! fills them in.

use serde::Deserialize;
{%- if cookiecutter.serialization_method == "SQL" %}
use singer_sdk::sql::postgres::{ConnectOptions, ConnectionSettings};
use singer_sdk::{Result, Settings};
{%- else %}
use singer_sdk::Settings;
{%- endif %}

/// The settings of `{{ cookiecutter.target_id }}`.
#[derive(Debug, Deserialize, Settings)]
pub(crate) struct Config {
{%- if cookiecutter.serialization_method == "SQL" %}
    /// Where to connect (`host`, `port`, `user`, `password`, `database`, `sqlalchemy_url`, `ssl_*`).
    #[serde(flatten)]
    pub(crate) connection: ConnectionSettings,
{%- else %}
    /// The directory the stream files are written to (created if missing).
    pub(crate) destination_path: String,
{%- endif %}
}
{%- if cookiecutter.serialization_method == "SQL" %}

impl Config {
    /// Where to connect; the server shows the connection as this target's name.
    pub(crate) fn connect_options(&self) -> Result<ConnectOptions> {
        Ok(self.connection.connect_options(env!("CARGO_PKG_NAME"))?)
    }
}
{%- endif %}
