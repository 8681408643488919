//! One stream's CSV file: opened (repaired, its header checked or widened) at the stream's
//! SCHEMA, appended to durably per batch.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use singer_sdk::sink::{Batch, Sink, StreamSchema};
use singer_sdk::{Error, Result};

use crate::client::{Claim, Client};
use crate::file;

/// Writes the records of one stream to its CSV file.
#[derive(Debug)]
pub(crate) struct CsvSink {
    client: Arc<Client>,
    path: PathBuf,
    file: File,
    /// The columns of the file, in file order.
    header: Vec<String>,
    /// The length of the file after the last durable write (regular files).
    len: u64,
    /// Whether the file is a regular file (devices and pipes cannot be read back or truncated).
    regular: bool,
    /// A special file whose header goes out with the first batch.
    header_pending: bool,
    /// Whether a record with properties outside the header was reported.
    warned_extra: bool,
}

impl CsvSink {
    /// Opens the file of `stream`: creates it with a header, or (appending) repairs a torn
    /// last row and makes sure its header has every column of the schema, widening it if not.
    ///
    /// # Errors
    /// A schema without properties, a file that another stream writes, a path that is a
    /// directory, or any failure to read, write or sync the file.
    pub(crate) fn open(client: &Arc<Client>, stream: &StreamSchema) -> Result<CsvSink> {
        let columns: Vec<String> = stream
            .properties()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let path = client.path_for(&stream.name);
        if columns.is_empty() {
            return Err(Error::custom(format!(
                "the schema of stream `{}` has no properties, so `{}` would have no columns; send a SCHEMA that lists the record's properties",
                stream.name,
                path.display()
            )));
        }
        if let Some(prop) = &client.sort_by {
            if !columns.contains(prop) {
                tracing::warn!(
                    stream = %stream.name,
                    property = %prop,
                    "record_sort_property_name is not a property of this stream; its records sort as if it were null."
                );
            }
        }
        let claim = client.claim(&path, &stream.name)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                Error::context(
                    format!(
                        "cannot create directory `{}` for `{}`; check output_path and file_naming_scheme, and the permissions",
                        parent.display(),
                        path.display()
                    ),
                    e,
                )
            })?;
        }
        let sink = match std::fs::metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Self::create(client, path, columns, "Creating")?
            }
            Err(e) => {
                return Err(Error::context(
                    format!(
                        "cannot access `{}`; check the permissions of output_path",
                        path.display()
                    ),
                    e,
                ));
            }
            Ok(meta) if meta.is_dir() => {
                return Err(Error::custom(format!(
                    "`{}` is a directory, not a file; move it away or change file_naming_scheme",
                    path.display()
                )));
            }
            Ok(meta) if meta.is_file() => {
                if claim == Claim::First && client.replace {
                    Self::create(client, path, columns, "Replacing")?
                } else {
                    Self::append(client, path, &columns)?
                }
            }
            Ok(_) => Self::special(client, path, columns, &claim)?,
        };
        Ok(sink)
    }

    /// Starts the file over with a header (creating it if needed).
    fn create(
        client: &Arc<Client>,
        path: PathBuf,
        header: Vec<String>,
        verb: &str,
    ) -> Result<CsvSink> {
        tracing::info!(file = %path.display(), "{verb} the CSV file.");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| open_error(&path, e))?;
        let row = client.dialect.row(header.iter().map(String::as_bytes));
        file.write_all(&row)
            .and_then(|()| file.sync_data())
            .and_then(|()| file::sync_parent(&path))
            .map_err(|e| {
                Error::context(
                    format!(
                        "cannot write the header of `{}`; check free space and permissions",
                        path.display()
                    ),
                    e,
                )
            })?;
        Ok(CsvSink {
            client: Arc::clone(client),
            path,
            file,
            header,
            len: row.len() as u64,
            regular: true,
            header_pending: false,
            warned_extra: false,
        })
    }

    /// Opens an existing regular file for appending.
    fn append(client: &Arc<Client>, path: PathBuf, columns: &[String]) -> Result<CsvSink> {
        let dialect = client.dialect;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| open_error(&path, e))?;
        let len = file::repair_tail(&mut file, &path, dialect)?;
        let existing = if len == 0 {
            None
        } else {
            file::read_header(&path, dialect)?
        };
        let Some((existing, bom)) = existing else {
            // Empty, or blank lines only: start it over.
            drop(file);
            return Self::create(client, path, columns.to_vec(), "Starting");
        };
        let missing: Vec<&String> = columns.iter().filter(|c| !existing.contains(c)).collect();
        if missing.is_empty() {
            tracing::info!(file = %path.display(), "Appending to the CSV file.");
            return Ok(CsvSink {
                client: Arc::clone(client),
                path,
                file,
                header: existing,
                len,
                regular: true,
                header_pending: false,
                warned_extra: false,
            });
        }
        drop(file);
        let mut widened = existing.clone();
        widened.extend(missing.iter().map(|c| (*c).clone()));
        // Rewrite the file a symlink points to, next to it, so the rename stays atomic.
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        file::widen(&real, &existing, &widened, bom, dialect)?;
        tracing::info!(
            file = %path.display(),
            added = %missing.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
            "Added columns to the CSV file's header; existing rows have them empty."
        );
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| open_error(&path, e))?;
        let len = file.metadata().map_err(|e| open_error(&path, e))?.len();
        Ok(CsvSink {
            client: Arc::clone(client),
            path,
            file,
            header: widened,
            len,
            regular: true,
            header_pending: false,
            warned_extra: false,
        })
    }

    /// Opens a device or pipe: nothing to read back; the header goes out once per run, with
    /// the first batch.
    fn special(
        client: &Arc<Client>,
        path: PathBuf,
        columns: Vec<String>,
        claim: &Claim,
    ) -> Result<CsvSink> {
        let (header, header_pending) = match claim {
            Claim::Again {
                special_header: Some(written),
            } => {
                let missing: Vec<&str> = columns
                    .iter()
                    .filter(|c| !written.contains(c))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    return Err(Error::custom(format!(
                        "cannot add columns {} to `{}`: it is not a regular file, so its header cannot be rewritten; write to a regular file",
                        missing.join(", "),
                        path.display()
                    )));
                }
                (written.clone(), false)
            }
            _ => {
                client.set_special_header(&path, &columns);
                (columns, true)
            }
        };
        tracing::info!(file = %path.display(), "Writing to a special file (not a regular file).");
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| open_error(&path, e))?;
        Ok(CsvSink {
            client: Arc::clone(client),
            path,
            file,
            header,
            len: 0,
            regular: false,
            header_pending,
            warned_extra: false,
        })
    }

    /// The rows of `records` (and the header, if still to be written), as CSV.
    fn encode(&mut self, records: &[serde_json::Map<String, Value>], stream: &str) -> Vec<u8> {
        let dialect = self.client.dialect;
        let mut writer = dialect.writer(Vec::with_capacity(records.len() * 64 + 64));
        // Writing to a Vec cannot fail.
        if self.header_pending {
            let _ = writer.write_record(self.header.iter().map(|c| dialect.encode(c.as_bytes())));
        }
        let mut cells: Vec<String> = vec![String::new(); self.header.len()];
        let known: Option<HashSet<&str>> =
            (!self.warned_extra).then(|| self.header.iter().map(String::as_str).collect());
        for record in records {
            if let Some(known) = &known {
                if !self.warned_extra {
                    let extra: Vec<&str> = record
                        .keys()
                        .map(String::as_str)
                        .filter(|k| !known.contains(k))
                        .collect();
                    if !extra.is_empty() {
                        tracing::warn!(
                            stream,
                            properties = %extra.join(", "),
                            "Records have properties that are not in the schema; they are not written."
                        );
                        self.warned_extra = true;
                    }
                }
            }
            for (cell, column) in cells.iter_mut().zip(&self.header) {
                cell.clear();
                write_cell(cell, record.get(column));
            }
            let _ = writer.write_record(cells.iter().map(|c| dialect.encode(c.as_bytes())));
        }
        writer.into_inner().unwrap_or_default()
    }

    /// Undoes a partial write, so the file ends at its last complete row again.
    fn roll_back(&mut self) {
        if self.regular {
            if let Err(e) = self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.sync_data())
            {
                tracing::warn!(
                    file = %self.path.display(),
                    error = %e,
                    "Cannot remove a partly written batch; the next run removes the incomplete last row."
                );
            }
        }
    }
}

impl Sink for CsvSink {
    fn write_batch(&mut self, mut batch: Batch) -> Result<()> {
        if let Some(prop) = &self.client.sort_by {
            batch
                .records
                .sort_by(|a, b| compare_json(a.get(prop), b.get(prop)));
        }
        let bytes = self.encode(&batch.records, &batch.stream.name);
        let written = self.file.write_all(&bytes).and_then(|()| {
            match self.file.sync_data() {
                // Devices and pipes cannot be synced; what they take is gone.
                Err(e) if !self.regular && e.kind() == io::ErrorKind::InvalidInput => Ok(()),
                other => other,
            }
        });
        if let Err(e) = written {
            self.roll_back();
            return Err(Error::context(
                format!(
                    "cannot write {} record{} to `{}`; check free space and permissions, then rerun from the last state",
                    batch.records.len(),
                    if batch.records.len() == 1 { "" } else { "s" },
                    self.path.display()
                ),
                e,
            ));
        }
        self.len += bytes.len() as u64;
        self.header_pending = false;
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if self.header_pending {
            let bytes = self
                .client
                .dialect
                .row(self.header.iter().map(String::as_bytes));
            self.file.write_all(&bytes).map_err(|e| {
                Error::context(
                    format!("cannot write the header of `{}`", self.path.display()),
                    e,
                )
            })?;
            self.header_pending = false;
        }
        Ok(())
    }
}

fn open_error(path: &Path, e: io::Error) -> Error {
    Error::context(
        format!(
            "cannot open `{}` for writing; check output_path and the permissions",
            path.display()
        ),
        e,
    )
}

/// One field: strings as they are, numbers and booleans as JSON writes them, objects and
/// arrays as JSON text, null (or missing) as an empty field.
pub(crate) fn write_cell(cell: &mut String, value: Option<&Value>) {
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => cell.push_str(text),
        Some(Value::Bool(flag)) => cell.push_str(if *flag { "true" } else { "false" }),
        Some(Value::Number(number)) => {
            let _ = write!(cell, "{number}");
        }
        Some(other) => {
            let _ = write!(cell, "{other}");
        }
    }
}

/// Orders JSON values for `record_sort_property_name`: null (and missing) first, then
/// booleans, numbers, strings, arrays and objects, each in their natural order.
pub(crate) fn compare_json(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(value: Option<&Value>) -> u8 {
        match value {
            None | Some(Value::Null) => 0,
            Some(Value::Bool(_)) => 1,
            Some(Value::Number(_)) => 2,
            Some(Value::String(_)) => 3,
            Some(Value::Array(_)) => 4,
            Some(Value::Object(_)) => 5,
        }
    }
    match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                x.cmp(&y)
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                x.cmp(&y)
            } else {
                let x = x.as_f64().unwrap_or(f64::NAN);
                let y = y.as_f64().unwrap_or(f64::NAN);
                x.total_cmp(&y)
            }
        }
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(x), Some(y)) if rank(a) == rank(b) && rank(a) >= 4 => {
            x.to_string().cmp(&y.to_string())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}
