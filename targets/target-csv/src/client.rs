//! What every sink shares: the output directory, the file naming scheme (with its datestamp
//! and timestamp fixed when the run starts), the CSV dialect, and which stream writes which
//! file in this run.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, Offset, Utc};
use singer_sdk::target::{LoadMethod, TargetOptions};
use singer_sdk::{Error, Result};

use crate::config::{Config, OverwriteBehavior};
use crate::file::Dialect;

/// The shared state of one run.
#[derive(Debug)]
pub(crate) struct Client {
    /// Where files go; empty for the current directory.
    pub(crate) output_dir: PathBuf,
    /// The naming scheme, datestamp and timestamp already substituted.
    naming: Vec<Part>,
    /// The CSV dialect.
    pub(crate) dialect: Dialect,
    /// Whether a file is started over at its first open in this run.
    pub(crate) replace: bool,
    /// Sort each batch by this property.
    pub(crate) sort_by: Option<String>,
    /// Files opened in this run.
    files: Mutex<HashMap<PathBuf, FileUse>>,
}

/// A piece of the file naming scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    StreamName,
}

/// How a file is used in this run.
#[derive(Debug, Clone)]
struct FileUse {
    /// The stream writing it.
    stream: String,
    /// For a file that is not a regular file (a device, a pipe): the header written to it,
    /// which can only be written once.
    special_header: Option<Vec<String>>,
}

/// What [`Client::claim`] tells a sink about its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    /// First open of the file in this run.
    First,
    /// The stream's file was opened before in this run (a new SCHEMA).
    Again {
        /// For a special file, the header already chosen for it.
        special_header: Option<Vec<String>>,
    },
}

impl Client {
    /// Checks the settings and prepares the output directory.
    ///
    /// # Errors
    /// Invalid formats, time zone, escape character or naming scheme (as config errors), an
    /// unsupported `load_method`, or an output directory that cannot be created.
    pub(crate) fn new(config: Config, options: &TargetOptions) -> Result<Client> {
        Client::at(config, options, Utc::now())
    }

    /// [`Client::new`] at a given time, for tests.
    pub(crate) fn at(
        config: Config,
        options: &TargetOptions,
        now: DateTime<Utc>,
    ) -> Result<Client> {
        let mut violations = Vec::new();
        let offset = parse_timezone(&config.timestamp_timezone);
        if offset.is_none() {
            violations.push(format!(
                "timestamp_timezone: `{}` is not a supported time zone; use `UTC` or a fixed offset such as `+02:00`, `-0530` or `UTC+1` (named zones like `Europe/Berlin` are not supported)",
                config.timestamp_timezone
            ));
        }
        let local = now.with_timezone(&offset.unwrap_or_else(utc_offset));
        let datestamp = strftime(&local, &config.datestamp_format)
            .map_err(|e| violations.push(format!("datestamp_format: {e}")))
            .unwrap_or_default();
        let timestamp = strftime(&local, &config.timestamp_format)
            .map_err(|e| violations.push(format!("timestamp_format: {e}")))
            .unwrap_or_default();
        let naming = parse_scheme(&config.file_naming_scheme, &datestamp, &timestamp)
            .map_err(|e| violations.push(format!("file_naming_scheme: {e}")))
            .unwrap_or_default();
        let escape = match config.escape_character.as_deref() {
            None => None,
            Some(text) => match text.as_bytes() {
                [byte] if !matches!(byte, b'"' | b',' | b'\r' | b'\n') && byte.is_ascii() => {
                    Some(*byte)
                }
                _ => {
                    violations.push(format!(
                        "escape_character: {text:?} cannot be used; give one ASCII character other than the quote, the comma and line breaks, e.g. \"\\\\\""
                    ));
                    None
                }
            },
        };
        if !violations.is_empty() {
            return Err(Error::InvalidConfig { violations });
        }
        if options.load_method == LoadMethod::Upsert {
            return Err(Error::custom(
                "load_method `upsert` is not supported by target-csv: rows of a CSV file cannot be replaced by key; use `append-only` (the default) or `overwrite`",
            ));
        }
        let replace = match config.overwrite_behavior {
            Some(behavior) => behavior == OverwriteBehavior::ReplaceFile,
            None => options.load_method == LoadMethod::Overwrite,
        };
        let output_dir = match (
            config.output_path,
            config.destination_path,
            config.output_path_prefix,
        ) {
            (Some(path), _, _) | (None, Some(path), _) => path,
            (None, None, Some(path)) => {
                tracing::warn!(
                    "The setting `output_path_prefix` is deprecated; use `output_path`."
                );
                path
            }
            (None, None, None) => PathBuf::new(),
        };
        prepare_dir(&output_dir)?;
        tracing::info!(
            output_path = %display_dir(&output_dir),
            mode = if replace { "replace_file" } else { "append_records" },
            "Writing CSV files."
        );
        Ok(Client {
            output_dir,
            naming,
            dialect: Dialect { escape },
            replace,
            sort_by: config.record_sort_property_name,
            files: Mutex::new(HashMap::new()),
        })
    }

    /// The file of `stream`.
    pub(crate) fn path_for(&self, stream: &str) -> PathBuf {
        let mut name = String::new();
        for part in &self.naming {
            match part {
                Part::Text(text) => name.push_str(text),
                Part::StreamName => name.push_str(&file_safe(stream)),
            }
        }
        self.output_dir.join(name)
    }

    /// Registers that `stream` opens `path`.
    ///
    /// # Errors
    /// Another stream already writes `path` in this run.
    pub(crate) fn claim(&self, path: &Path, stream: &str) -> Result<Claim> {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        match files.get(path) {
            Some(used) if used.stream != stream => Err(Error::custom(format!(
                "streams `{}` and `{stream}` would both write `{}`; put `{{stream_name}}` in `file_naming_scheme`",
                used.stream,
                path.display()
            ))),
            Some(used) => Ok(Claim::Again {
                special_header: used.special_header.clone(),
            }),
            None => {
                files.insert(
                    path.to_owned(),
                    FileUse {
                        stream: stream.to_owned(),
                        special_header: None,
                    },
                );
                Ok(Claim::First)
            }
        }
    }

    /// Records the header chosen for a special (non-regular) file.
    pub(crate) fn set_special_header(&self, path: &Path, header: &[String]) {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(used) = files.get_mut(path) {
            used.special_header = Some(header.to_vec());
        }
    }
}

fn utc_offset() -> FixedOffset {
    Utc.fix()
}

/// Creates the output directory (and its parents) if needed.
fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    if let Ok(meta) = std::fs::metadata(dir) {
        if !meta.is_dir() {
            return Err(Error::custom(format!(
                "output_path `{}` exists but is not a directory; point output_path at a directory (it is created if missing)",
                dir.display()
            )));
        }
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::context(
            format!(
                "cannot create output directory `{}` (output_path); create it or choose a writable location",
                dir.display()
            ),
            e,
        )
    })
}

fn display_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        dir.display().to_string()
    }
}

/// A stream name made safe as (part of) a file name: path separators and NUL become `_`,
/// and `.`/`..` cannot climb out of the output directory.
pub(crate) fn file_safe(stream: &str) -> Cow<'_, str> {
    if stream == "." || stream == ".." {
        return Cow::Owned("_".repeat(stream.len()));
    }
    if stream.contains(['/', '\\', '\0']) {
        Cow::Owned(stream.replace(['/', '\\', '\0'], "_"))
    } else {
        Cow::Borrowed(stream)
    }
}

/// Splits the naming scheme at its placeholders, substituting `{datestamp}` and `{timestamp}`.
fn parse_scheme(scheme: &str, datestamp: &str, timestamp: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = scheme;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!(
                "`{scheme}` has a `{{` without a closing `}}`; placeholders are {{stream_name}}, {{datestamp}} and {{timestamp}}"
            ));
        };
        match &after[..close] {
            "stream_name" => {
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::StreamName);
            }
            "datestamp" => text.push_str(datestamp),
            "timestamp" => text.push_str(timestamp),
            other => {
                return Err(format!(
                    "`{scheme}` has an unknown placeholder `{{{other}}}`; use {{stream_name}}, {{datestamp}} or {{timestamp}}"
                ));
            }
        }
        rest = &after[close + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    let file_name_empty = match parts.last() {
        None => true,
        Some(Part::Text(t)) => t.ends_with('/'),
        Some(Part::StreamName) => false,
    };
    if file_name_empty {
        return Err(format!(
            "`{scheme}` gives no file name; use e.g. `{{stream_name}}.csv`"
        ));
    }
    Ok(parts)
}

/// Parses `UTC`, `Z`, `GMT`, `Etc/UTC`, `+02:00`, `-0530`, `+2`, `UTC+1`, `GMT-03:00` and
/// `Etc/GMT-2` (POSIX-inverted: two hours east of UTC).
pub(crate) fn parse_timezone(text: &str) -> Option<FixedOffset> {
    let text = text.trim();
    let upper = text.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "UTC"
            | "Z"
            | "GMT"
            | "ETC/UTC"
            | "ETC/GMT"
            | "ETC/UCT"
            | "UCT"
            | "UNIVERSAL"
            | "ZULU"
            | "ETC/ZULU"
    ) {
        return Some(utc_offset());
    }
    let (rest, invert) = if let Some(rest) = upper.strip_prefix("ETC/GMT") {
        (rest, true)
    } else if let Some(rest) = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
    {
        (rest, false)
    } else {
        (upper.as_str(), false)
    };
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "0"),
    };
    if hours.is_empty()
        || hours.len() > 2
        || minutes.is_empty()
        || minutes.len() > 2
        || !hours
            .bytes()
            .chain(minutes.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = sign * (hours * 3600 + minutes * 60) * if invert { -1 } else { 1 };
    FixedOffset::east_opt(seconds)
}

/// Formats `time` with a Python strftime format (`%f` is microseconds, as in Python).
///
/// # Errors
/// The format has a code chrono does not know.
pub(crate) fn strftime(time: &DateTime<FixedOffset>, format: &str) -> Result<String, String> {
    let mut translated = String::with_capacity(format.len() + 4);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            translated.push(c);
            continue;
        }
        match chars.next() {
            Some('f') => translated.push_str("%6f"),
            Some(next) => {
                translated.push('%');
                translated.push(next);
            }
            None => translated.push('%'),
        }
    }
    let items: Vec<Item<'_>> = StrftimeItems::new(&translated).collect();
    if items.iter().any(|item| matches!(item, Item::Error)) {
        return Err(format!(
            "`{format}` is not a valid strftime format; see https://docs.python.org/3/library/datetime.html#strftime-and-strptime-format-codes"
        ));
    }
    let mut out = String::new();
    write!(out, "{}", time.format_with_items(items.into_iter())).map_err(|_| {
        format!(
            "`{format}` cannot format a date and time; use codes such as %Y, %m, %d, %H, %M, %S"
        )
    })?;
    Ok(out)
}
