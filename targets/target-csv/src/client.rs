//! What every sink shares: the output directory, the file naming scheme (with its datestamp
//! and timestamp fixed when the run starts), the CSV dialect, and which stream writes which
//! file in this run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Offset, Utc};
use singer_sdk::sink::StreamSchema;
use singer_sdk::sink::file::{Claim, FileNaming, NameRule, RunFiles, create_dirs};
use singer_sdk::target::{LoadMethod, Target, TargetOptions};
use singer_sdk::time::{parse_timezone, strftime};
use singer_sdk::{Error, Result};

use crate::config::{Config, OverwriteBehavior};
use crate::file::Dialect;
use crate::sink::CsvSink;

/// The header written to a special file in this run, if any.
type Header = Option<Vec<String>>;

/// The shared state of one run.
#[derive(Debug)]
pub(crate) struct TargetCsv {
    /// Where files go; empty for the current directory.
    pub(crate) output_dir: PathBuf,
    /// The naming scheme, datestamp and timestamp already substituted.
    naming: FileNaming,
    /// The CSV dialect.
    pub(crate) dialect: Dialect,
    /// Whether a file is started over at its first open in this run.
    pub(crate) replace: bool,
    /// Sort each batch by this property.
    pub(crate) sort_by: Option<String>,
    /// Files opened in this run: the stream writing each, and for a file that is not a
    /// regular file (a device, a pipe) the header written to it, which can only be written once.
    files: RunFiles<Header>,
}

impl Target for TargetCsv {
    type Settings = Config;
    type Sink = CsvSink;

    fn connect(config: Config, options: &TargetOptions) -> Result<TargetCsv> {
        TargetCsv::at(config, options, Utc::now())
    }

    fn open_sink(self: Arc<Self>, stream: &StreamSchema) -> Result<CsvSink> {
        CsvSink::open(&self, stream)
    }
}

impl TargetCsv {
    /// Checks the settings and prepares the output directory, as of `now`.
    ///
    /// # Errors
    /// Invalid formats, time zone, escape character or naming scheme (as config errors), an
    /// unsupported `load_method`, or an output directory that cannot be created.
    pub(crate) fn at(
        config: Config,
        options: &TargetOptions,
        now: DateTime<Utc>,
    ) -> Result<TargetCsv> {
        let mut violations = Vec::new();
        let offset = parse_timezone(&config.timestamp_timezone);
        if offset.is_none() {
            violations.push(format!(
                "timestamp_timezone: `{}` is not a supported time zone; use `UTC` or a fixed offset such as `+02:00`, `-0530` or `UTC+1` (named zones like `Europe/Berlin` are not supported)",
                config.timestamp_timezone
            ));
        }
        let local = now.with_timezone(&offset.unwrap_or_else(|| Utc.fix()));
        let mut stamp = |setting: &str, format: &str| {
            strftime(&local, format)
                .map_err(|e| violations.push(format!("{setting}: {e}")))
                .unwrap_or_default()
        };
        let datestamp = stamp("datestamp_format", &config.datestamp_format);
        let timestamp = stamp("timestamp_format", &config.timestamp_format);
        let values = [("datestamp", &*datestamp), ("timestamp", &*timestamp)];
        let naming = FileNaming::parse(&config.file_naming_scheme, NameRule::PathSafe, &values)
            .map_err(|e| violations.push(format!("file_naming_scheme: {e}")))
            .ok();
        let escape = match config.escape_character.as_deref().map(str::as_bytes) {
            None => None,
            Some(&[byte]) if !matches!(byte, b'"' | b',' | b'\r' | b'\n') && byte.is_ascii() => {
                Some(byte)
            }
            Some(_) => {
                violations.push(format!(
                    "escape_character: {:?} cannot be used; give one ASCII character other than the quote, the comma and line breaks, e.g. \"\\\\\"",
                    config.escape_character.as_deref().unwrap_or_default()
                ));
                None
            }
        };
        let (Some(naming), true) = (naming, violations.is_empty()) else {
            return Err(Error::InvalidConfig { violations });
        };
        if options.load_method == LoadMethod::Upsert {
            return Err(Error::custom(
                "load_method `upsert` is not supported by target-csv: rows of a CSV file cannot be replaced by key; use `append-only` (the default) or `overwrite`",
            ));
        }
        let replace = match config.overwrite_behavior {
            Some(behavior) => behavior == OverwriteBehavior::ReplaceFile,
            None => options.load_method == LoadMethod::Overwrite,
        };
        let output_dir = match (config.output_path, config.destination_path) {
            (Some(path), _) | (None, Some(path)) => path,
            (None, None) => config.output_path_prefix.map_or_else(PathBuf::new, |path| {
                tracing::warn!(
                    "The setting `output_path_prefix` is deprecated; use `output_path`."
                );
                path
            }),
        };
        create_dirs(&output_dir).map_err(|e| {
            Error::context(
                format!(
                    "cannot create output directory `{}` (output_path); create it or choose a writable location",
                    output_dir.display()
                ),
                e,
            )
        })?;
        let shown = Some(&*output_dir).filter(|d| !d.as_os_str().is_empty());
        tracing::info!(
            output_path = %shown.unwrap_or(Path::new(".")).display(),
            mode = if replace { "replace_file" } else { "append_records" },
            "Writing CSV files."
        );
        Ok(TargetCsv {
            output_dir,
            naming,
            dialect: Dialect { escape },
            replace,
            sort_by: config.record_sort_property_name,
            files: RunFiles::default(),
        })
    }

    /// The file of `stream`.
    pub(crate) fn path_for(&self, stream: &str) -> PathBuf {
        self.naming.path(&self.output_dir, stream)
    }

    /// Registers that `stream` opens `path`: whether it is the first open in this run, and
    /// for a special file, the header written to it.
    ///
    /// # Errors
    /// Another stream already writes `path` in this run.
    pub(crate) fn claim(&self, path: &Path, stream: &str) -> Result<(bool, Header)> {
        self.files.with(path, stream, |claim, header| match claim {
            Claim::Taken { owner } => Err(Error::custom(format!(
                "streams `{owner}` and `{stream}` would both write `{}`; put `{{stream_name}}` in `file_naming_scheme`",
                path.display()
            ))),
            claim => Ok((claim == Claim::First, header.clone())),
        })
    }

    /// Records (and returns) the header written to the special (non-regular) file at `path`.
    pub(crate) fn set_special_header(
        &self,
        path: &Path,
        stream: &str,
        header: Vec<String>,
    ) -> Vec<String> {
        self.files
            .with(path, stream, |_, special| *special = Some(header.clone()));
        header
    }
}
