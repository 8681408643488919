//! `{{ cookiecutter.tap_id }}`: a Singer tap for {{ cookiecutter.source_name }}, built on `singer-sdk`.
{%- if cookiecutter.stream_type == "SQL" %}
//!
//! A PostgreSQL tap on the SDK's SQL base (`singer_sdk::sql::postgres`): discovery makes one
//! stream per readable table or view, each read through a server-side cursor.
{%- endif %}

{% if cookiecutter.stream_type in ["REST", "GraphQL"] -%}
mod client;
{% endif -%}
mod config;
mod streams;

use singer_sdk::Result;
use singer_sdk::tap::{Streams, Tap};

use crate::config::Config;

/// The tap: its settings and its streams.
struct Tap{{ cookiecutter.source_name }};

impl Tap for Tap{{ cookiecutter.source_name }} {
    type Settings = Config;

    async fn streams(&self, config: &Config) -> Result<Streams> {
        streams::streams(config){% if cookiecutter.stream_type == "SQL" %}.await{% endif %}
    }
}

#[singer_sdk::main]
fn main() -> Tap{{ cookiecutter.source_name }} {
    Tap{{ cookiecutter.source_name }}
}
