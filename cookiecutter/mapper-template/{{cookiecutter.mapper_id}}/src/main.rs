//! `{{ cookiecutter.mapper_id }}`: a standalone Singer mapper, built on `singer-sdk`. It applies the
//! SDK's stream maps and flattening settings, then its own transform (`trim_strings`).

use serde::Deserialize;
use serde_json::Value;
use singer_sdk::mapper::InlineMapper;
use singer_sdk::message::Message;
use singer_sdk::{Result, Settings};

/// The mapper's own settings (the stream map ones are built in).
#[derive(Debug, Deserialize, Settings)]
struct Config {
    /// Trim leading and trailing whitespace from the top-level string values of every record.
    #[serde(default)]
    #[setting(default = false)]
    trim_strings: bool,
}

/// The mapper: its settings and its transform.
struct Mapper{{ cookiecutter.name }};

impl InlineMapper for Mapper{{ cookiecutter.name }} {
    type Settings = Config;

    /// Trims the records' string values when `trim_strings` is on; everything else passes
    /// through unchanged.
    fn map(&self, settings: &Config, mut message: Message) -> Result<Vec<Message>> {
        if let (true, Message::Record(record)) = (settings.trim_strings, &mut message) {
            for value in record.record.values_mut() {
                if let Value::String(text) = value {
                    let trimmed = text.trim();
                    if trimmed.len() != text.len() {
                        *text = trimmed.to_owned();
                    }
                }
            }
        }
        Ok(vec![message])
    }
}

#[singer_sdk::main]
fn main() -> Mapper{{ cookiecutter.name }} {
    Mapper{{ cookiecutter.name }}
}
