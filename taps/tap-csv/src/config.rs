//! Settings, compatible with the Meltano community tap-csv (`files`, `csv_files_definition`,
//! `add_metadata_columns`), plus optional type inference and incremental replication.

use std::path::PathBuf;

use serde::Deserialize;
use singer_sdk::{Schema, Settings};

/// The tap's settings.
#[derive(Debug, Clone, Deserialize, Settings)]
pub(crate) struct Config {
    /// The files to read, one stream per entry.
    #[serde(default)]
    pub(crate) files: Option<Vec<FileDefinition>>,
    /// A JSON file holding the `files` list, for projects that keep it outside the config.
    #[serde(default)]
    pub(crate) csv_files_definition: Option<PathBuf>,
    /// Add `_sdc_source_file`, `_sdc_source_file_mtime` and `_sdc_source_lineno` to every record.
    #[serde(default)]
    #[setting(default = false)]
    pub(crate) add_metadata_columns: bool,
    /// Infer column types (integer, number, boolean, date-time) from a sample of rows instead of reading every column as a string.
    #[serde(default)]
    #[setting(default = false)]
    pub(crate) infer_types: bool,
    /// How many rows of each file type inference looks at.
    #[serde(default = "default_sample_rows")]
    #[setting(default = 1000)]
    #[schema(minimum = 1)]
    pub(crate) infer_sample_rows: usize,
}

fn default_sample_rows() -> usize {
    1000
}

/// One stream: a CSV file, or a directory of them.
#[derive(Debug, Clone, Deserialize, Schema)]
pub(crate) struct FileDefinition {
    /// The stream name.
    pub(crate) entity: String,
    /// A CSV file, or a directory whose `.csv` files are read in name order.
    pub(crate) path: PathBuf,
    /// The columns forming the primary key.
    #[serde(default)]
    pub(crate) keys: Vec<String>,
    /// The field delimiter (one character; `\t` for tab-separated files).
    #[serde(default)]
    pub(crate) delimiter: Option<String>,
    /// The quote character.
    #[serde(default)]
    pub(crate) quotechar: Option<String>,
    /// The file encoding, e.g. `utf-8`, `utf-8-sig`, `latin1`, `utf-16`.
    #[serde(default)]
    pub(crate) encoding: Option<String>,
    /// A column to replicate incrementally by: later runs emit only rows at or after the bookmark.
    #[serde(default)]
    pub(crate) replication_key: Option<String>,
}
