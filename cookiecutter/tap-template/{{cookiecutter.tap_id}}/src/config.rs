//! The tap's settings: `--about` lists them, `--config` fills them in.

{% if cookiecutter.stream_type == "SQL" -%}
use std::collections::BTreeMap;

use serde::Deserialize;
use singer_sdk::sql::postgres::{ConnectOptions, ConnectionSettings};
use singer_sdk::{Result, Settings};
{%- else -%}
use serde::Deserialize;
use singer_sdk::Settings;
{%- endif %}

/// The settings of `{{ cookiecutter.tap_id }}`.
#[derive(Debug, Deserialize, Settings)]
pub(crate) struct Config {
{%- if cookiecutter.stream_type in ["REST", "GraphQL"] %}
    /// The base URL of the API.
    #[serde(default = "default_api_url")]
    #[setting(default = "https://api.example.com")]
    pub(crate) api_url: String,
{%- if cookiecutter.auth_method == "API Key" %}
    /// The API key, sent in the `X-API-Key` header.
    #[setting(secret)]
    pub(crate) api_key: String,
{%- elif cookiecutter.auth_method == "Bearer Token" %}
    /// The token sent as `Authorization: Bearer <token>`.
    #[setting(secret)]
    pub(crate) auth_token: String,
{%- elif cookiecutter.auth_method == "Basic Auth" %}
    /// The user name for HTTP basic authentication.
    pub(crate) username: String,
    /// The password for HTTP basic authentication.
    #[setting(secret)]
    pub(crate) password: String,
{%- elif cookiecutter.auth_method == "OAuth2" %}
    /// The OAuth 2.0 client id.
    pub(crate) client_id: String,
    /// The OAuth 2.0 client secret.
    #[setting(secret)]
    pub(crate) client_secret: String,
    /// The token endpoint (default: `<api_url>/oauth/token`).
    #[serde(default)]
    pub(crate) token_url: Option<String>,
{%- elif cookiecutter.auth_method == "JWT" %}
    /// The issuer of the signed assertion (your service account or client id).
    pub(crate) client_id: String,
    /// The PEM private key (RSA) that signs the assertion.
    #[setting(secret)]
    pub(crate) private_key: String,
    /// The token endpoint (default: `<api_url>/oauth/token`); also the assertion's audience.
    #[serde(default)]
    pub(crate) token_url: Option<String>,
{%- endif %}
{%- elif cookiecutter.stream_type == "SQL" %}
    /// Where to connect (`host`, `port`, `user`, `password`, `database`, `sqlalchemy_url`, `ssl_*`).
    #[serde(flatten)]
    pub(crate) connection: ConnectionSettings,
    /// Only discover and sync the tables and views of these schemas (default: every schema but the system ones).
    #[serde(default)]
    pub(crate) filter_schemas: Option<Vec<String>>,
    /// Replication key per stream, e.g. `{"public-orders": "updated_at"}`: the stream is read incrementally, in key order, from its bookmark on.
    #[serde(default)]
    pub(crate) replication_keys: Option<BTreeMap<String, String>>,
{%- else %}
    /// How many example records the `items` stream emits.
    #[serde(default = "default_item_count")]
    #[setting(default = 10)]
    pub(crate) item_count: u32,
{%- endif %}
}
{%- if cookiecutter.stream_type in ["REST", "GraphQL"] %}

fn default_api_url() -> String {
    "https://api.example.com".to_owned()
}
{%- if cookiecutter.auth_method in ["OAuth2", "JWT"] %}

impl Config {
    /// The token endpoint: `token_url`, else `<api_url>/oauth/token`.
    pub(crate) fn token_url(&self) -> String {
        match &self.token_url {
            Some(url) => url.clone(),
            None => format!("{}/oauth/token", self.api_url.trim_end_matches('/')),
        }
    }
}
{%- endif %}
{%- elif cookiecutter.stream_type == "SQL" %}

impl Config {
    /// Where to connect; the server shows the connection as this tap's name.
    pub(crate) fn connect_options(&self) -> Result<ConnectOptions> {
        Ok(self.connection.connect_options(env!("CARGO_PKG_NAME"))?)
    }
}
{%- else %}

fn default_item_count() -> u32 {
    10
}
{%- endif %}
