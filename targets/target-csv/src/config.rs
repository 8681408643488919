//! Settings, compatible with MeltanoLabs `target-csv` (PyPI `meltanolabs-target-csv`):
//! `output_path` (and its aliases `destination_path` and the deprecated `output_path_prefix`),
//! `file_naming_scheme`, `datestamp_format`, `timestamp_format`, `timestamp_timezone`,
//! `record_sort_property_name`, `overwrite_behavior` and `escape_character`.

use std::path::PathBuf;

use serde::Deserialize;
use singer_sdk::{Schema, Settings};

/// The target's settings.
#[derive(Debug, Clone, Deserialize, Settings)]
pub(crate) struct Config {
    /// Directory where the CSV files are written (created if missing). By default, the current working directory.
    #[serde(default)]
    pub(crate) output_path: Option<PathBuf>,
    /// Alias of `output_path`, for configs written for the `hotgluexyz` variant; `output_path` wins when both are set.
    #[serde(default)]
    pub(crate) destination_path: Option<PathBuf>,
    /// DEPRECATED: use `output_path`. Directory where the CSV files are written; read only when neither `output_path` nor `destination_path` is set.
    #[serde(default)]
    pub(crate) output_path_prefix: Option<PathBuf>,
    /// How output files are named, relative to `output_path`. Substitutions: `{stream_name}`, `{datestamp}`, `{timestamp}` (both taken once, when the run starts). May contain `/` to write into subdirectories.
    #[serde(default = "default_file_naming_scheme")]
    #[setting(default = "{stream_name}.csv")]
    pub(crate) file_naming_scheme: String,
    /// strftime format of `{datestamp}` (Python's codes; `%f` is microseconds).
    #[serde(default = "default_datestamp_format")]
    #[setting(default = "%Y-%m-%d")]
    pub(crate) datestamp_format: String,
    /// strftime format of `{timestamp}` (Python's codes; `%f` is microseconds).
    #[serde(default = "default_timestamp_format")]
    #[setting(default = "%Y-%m-%d.T%H%M%S")]
    pub(crate) timestamp_format: String,
    /// Time zone of `{datestamp}` and `{timestamp}`: `UTC` or a fixed offset such as `+02:00`, `-0530`, `UTC+1` or `Etc/GMT-2`. Named zones (e.g. `Europe/Berlin`) are not supported.
    #[serde(default = "default_timestamp_timezone")]
    #[setting(default = "UTC")]
    pub(crate) timestamp_timezone: String,
    /// A record property to sort each batch by before it is written (nulls and missing values first). Unset: records are written in arrival order.
    #[serde(default)]
    pub(crate) record_sort_property_name: Option<String>,
    /// What to do with a file that exists when the run starts: `append_records` keeps its rows and appends (widening its header if the schema has new columns); `replace_file` starts it over. Unset: follows `load_method` (`append-only` appends, `overwrite` replaces).
    #[serde(default)]
    pub(crate) overwrite_behavior: Option<OverwriteBehavior>,
    /// One ASCII character that escapes quote characters (and itself) inside quoted fields, instead of doubling quotes as RFC 4180 does.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 1)]
    pub(crate) escape_character: Option<String>,
}

/// `overwrite_behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Schema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OverwriteBehavior {
    /// Keep the rows already in the file and append.
    AppendRecords,
    /// Start the file over at the first SCHEMA of its stream in this run.
    ReplaceFile,
}

fn default_file_naming_scheme() -> String {
    "{stream_name}.csv".to_owned()
}

fn default_datestamp_format() -> String {
    "%Y-%m-%d".to_owned()
}

fn default_timestamp_format() -> String {
    "%Y-%m-%d.T%H%M%S".to_owned()
}

fn default_timestamp_timezone() -> String {
    "UTC".to_owned()
}
