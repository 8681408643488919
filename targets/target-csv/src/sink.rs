//! One stream's CSV file: opened (repaired, its header checked or widened) at the stream's
//! SCHEMA, appended to durably per batch.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::io;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};
use singer_sdk::sink::file::{AppendFile, Repair};
use singer_sdk::sink::{Batch, Fields, Sink, StreamSchema};
use singer_sdk::{Error, Result};

use crate::client::TargetCsv;
use crate::file;

/// Writes the records of one stream to its CSV file.
#[derive(Debug)]
pub(crate) struct CsvSink {
    client: Arc<TargetCsv>,
    file: AppendFile,
    /// The columns of the file, in file order.
    header: Vec<String>,
    /// A special file whose header goes out with the first batch.
    header_pending: bool,
    /// Whether a record with properties outside the header was reported.
    warned_extra: bool,
}

impl CsvSink {
    /// Opens the file of `stream`: creates it with a header, starts it over (replacing), or
    /// appends to it: a torn last row is cut off (and kept in `<file>.torn`), and columns of
    /// the schema missing from its header are added. Devices and pipes get the header once
    /// per run, with the first batch.
    ///
    /// # Errors
    /// A schema without properties, a file that another stream writes, a path that is a
    /// directory, or any failure to read, write or sync the file.
    pub(crate) fn open(client: &Arc<TargetCsv>, stream: &StreamSchema) -> Result<CsvSink> {
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
        if let Some(prop) = client.sort_by.as_ref().filter(|p| !columns.contains(p)) {
            tracing::warn!(
                stream = %stream.name,
                property = %prop,
                "record_sort_property_name is not a property of this stream; its records sort as if it were null."
            );
        }
        let (first, special_header) = client.claim(&path, &stream.name)?;
        let mut file = AppendFile::options()
            .create_dirs(true)
            .open(&path)
            .map_err(|e| open_error(&path, e))?;
        let (header, header_pending) = if !file.is_regular() {
            tracing::info!(file = %path.display(), "Writing to a special file (not a regular file).");
            let Some(written) = special_header else {
                let header = client.set_special_header(&path, &stream.name, columns);
                return Ok(Self::new(client, file, header, true));
            };
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
            (written, false)
        } else if file.created() || first && client.replace {
            let verb = if file.created() {
                "Creating"
            } else {
                "Replacing"
            };
            (start(client, &mut file, columns, verb)?, false)
        } else {
            (append(client, &mut file, columns)?, false)
        };
        Ok(Self::new(client, file, header, header_pending))
    }

    fn new(client: &Arc<TargetCsv>, file: AppendFile, header: Vec<String>, pending: bool) -> Self {
        CsvSink {
            client: Arc::clone(client),
            file,
            header,
            header_pending: pending,
            warned_extra: false,
        }
    }

    /// The rows of `records` (and the header, if still to be written), as CSV.
    fn encode(&mut self, records: &[Map<String, Value>], stream: &str) -> Vec<u8> {
        let dialect = self.client.dialect;
        let mut writer = dialect.writer(Vec::with_capacity(records.len() * 64 + 64));
        // Writing to a Vec cannot fail.
        if self.header_pending {
            let _ = writer.write_record(self.header.iter().map(|c| dialect.encode(c.as_bytes())));
        }
        let mut cells: Vec<Vec<u8>> = vec![Vec::new(); self.header.len()];
        let known: HashSet<&str> = self.header.iter().map(String::as_str).collect();
        let distinct = known.len() == self.header.len();
        for record in records {
            let mut fields = Fields::new(record);
            let mut found = 0;
            for (cell, column) in cells.iter_mut().zip(&self.header) {
                cell.clear();
                let value = fields.get(column);
                found += usize::from(value.is_some());
                write_cell(cell, value);
            }
            let _ = writer.write_record(cells.iter().map(|c| dialect.encode(c)));
            // With distinct header names, a record with more fields than it has columns found
            // has fields outside the header; a header read from an existing file may repeat a
            // name, and is then checked field by field.
            if !self.warned_extra && (found < record.len() || !distinct) {
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
        writer.into_inner().unwrap_or_default()
    }
}

/// Starts `file` over with `header`; returns it.
fn start(
    client: &TargetCsv,
    file: &mut AppendFile,
    header: Vec<String>,
    verb: &str,
) -> Result<Vec<String>> {
    tracing::info!(file = %file.path().display(), "{verb} the CSV file.");
    let row = client.dialect.row(header.iter().map(String::as_bytes));
    file.truncate()
        .and_then(|()| file.append(&row))
        .map_err(|e| {
            let path = file.path().display();
            Error::context(
                format!("cannot write the header of `{path}`; check free space and permissions"),
                e,
            )
        })?;
    Ok(header)
}

/// Appends to an existing regular file: repairs it, and widens its header to `columns`;
/// returns the header.
fn append(client: &TargetCsv, file: &mut AppendFile, columns: Vec<String>) -> Result<Vec<String>> {
    let dialect = client.dialect;
    let path = file.path().to_owned();
    let end = Box::new(dialect.row_end());
    file.repair(Repair::Records {
        end,
        keep_torn: true,
    })
    .map_err(|e| open_error(&path, e))?;
    let existing = if file.is_empty() {
        None
    } else {
        file::read_header(&path, dialect)?
    };
    let Some((existing, bom)) = existing else {
        // Empty, or blank lines only: start it over.
        return start(client, file, columns, "Starting");
    };
    let missing: Vec<String> = columns
        .into_iter()
        .filter(|c| !existing.contains(c))
        .collect();
    if missing.is_empty() {
        tracing::info!(file = %path.display(), "Appending to the CSV file.");
        return Ok(existing);
    }
    let widened = [&existing[..], &missing].concat();
    // Rewrite the file a symlink points to, next to it, so the rename stays atomic.
    let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    file::widen(&real, &existing, &widened, bom, dialect)?;
    tracing::info!(
        file = %path.display(),
        added = %missing.join(", "),
        "Added columns to the CSV file's header; existing rows have them empty."
    );
    *file = AppendFile::open(&path).map_err(|e| open_error(&path, e))?;
    Ok(widened)
}

impl Sink for CsvSink {
    fn write_batch(&mut self, mut batch: Batch) -> Result<()> {
        if let Some(prop) = &self.client.sort_by {
            batch
                .records
                .sort_by(|a, b| compare_json(a.get(prop), b.get(prop)));
        }
        let bytes = self.encode(&batch.records, &batch.stream.name);
        self.file.append(&bytes).map_err(|e| {
            let n = batch.records.len();
            Error::context(
                format!(
                    "cannot write {n} record{} to `{}`; check free space and permissions, then rerun from the last state",
                    if n == 1 { "" } else { "s" },
                    self.file.path().display()
                ),
                e,
            )
        })?;
        self.header_pending = false;
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if self.header_pending {
            let bytes = self.encode(&[], "");
            self.file.append(&bytes).map_err(|e| {
                let path = self.file.path().display();
                Error::context(format!("cannot write the header of `{path}`"), e)
            })?;
            self.header_pending = false;
        }
        Ok(())
    }
}

fn open_error(path: &Path, e: io::Error) -> Error {
    let path = path.display();
    Error::context(
        format!("cannot open `{path}` for writing; check output_path and the permissions"),
        e,
    )
}

/// One field: strings as they are, numbers and booleans as JSON writes them, objects and
/// arrays as JSON text, null (or missing) as an empty field.
pub(crate) fn write_cell(cell: &mut Vec<u8>, value: Option<&Value>) {
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => cell.extend_from_slice(text.as_bytes()),
        // The compact JSON text `Display` writes, without a `fmt` call per token; writing
        // to a `Vec` cannot fail.
        Some(other) => {
            let _ = serde_json::to_writer(cell, other);
        }
    }
}

/// Orders JSON values for `record_sort_property_name`: null (and missing) first, then
/// booleans, numbers, strings, arrays and objects, each in their natural order.
pub(crate) fn compare_json(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let rank = |value: Option<&Value>| match value {
        None | Some(Value::Null) => 0,
        Some(Value::Bool(_)) => 1,
        Some(Value::Number(_)) => 2,
        Some(Value::String(_)) => 3,
        Some(Value::Array(_)) => 4,
        Some(Value::Object(_)) => 5,
    };
    match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => x
                    .as_f64()
                    .unwrap_or(f64::NAN)
                    .total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
            },
        },
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(x), Some(y)) if rank(a) == rank(b) && rank(a) >= 4 => {
            x.to_string().cmp(&y.to_string())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}
