//! Settings, compatible with the community `target-jsonl` (andyh1203): `destination_path`,
//! `do_timestamp_file`, `custom_name`; plus `compression`.

use serde::Deserialize;
use singer_sdk::{Schema, Settings};

/// The target's settings.
#[derive(Debug, Clone, Deserialize, Settings)]
pub(crate) struct Config {
    /// Directory the `.jsonl` files are written to; created (with its parents) if missing. A leading `~` is the home directory; an empty string is the current directory.
    #[serde(default = "default_destination_path")]
    #[setting(default = "output")]
    pub(crate) destination_path: String,
    /// Add the run's start time (local time) to every file name, `<stream>-<YYYYMMDDTHHMMSS>.jsonl`, so each run writes new files instead of appending.
    #[serde(default)]
    #[setting(default = false)]
    pub(crate) do_timestamp_file: bool,
    /// A file name (without extension) used instead of the stream name: every stream is then written to this one file.
    #[serde(default)]
    #[schema(pattern = "^[^/\\\\]*$")]
    pub(crate) custom_name: Option<String>,
    /// `none` writes plain `.jsonl` files; `gzip` writes `.jsonl.gz` files, one gzip member per batch.
    #[serde(default)]
    #[setting(default = "none")]
    pub(crate) compression: Compression,
}

fn default_destination_path() -> String {
    "output".to_owned()
}

/// How files are compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Schema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Compression {
    /// Plain JSON Lines.
    #[default]
    None,
    /// Gzip, one member per batch.
    Gzip,
}

impl Compression {
    /// The file name extension, with its leading dot.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Compression::None => ".jsonl",
            Compression::Gzip => ".jsonl.gz",
        }
    }
}
