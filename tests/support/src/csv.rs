//! What only target-csv's tests need: reading CSV files back, the files an input must
//! produce, and how to read its destination back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::Dest;
use crate::expected::Content;
use crate::run::messages;

impl Dest {
    /// The CSV file of `stream` in the destination directory.
    #[must_use]
    pub fn csv(&self, stream: &str) -> PathBuf {
        self.out().join(format!("{stream}.csv"))
    }
}

/// Every row of a CSV file (header first), as the `csv` crate reads it (RFC 4180).
///
/// # Panics
/// When the file cannot be read or parsed.
#[must_use]
pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice())
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The data rows of a CSV file as maps from column to cell, checking the header appears
/// once and every row has one field per column.
///
/// # Panics
/// When it does not.
#[must_use]
pub fn read_table(path: &Path) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut rows = read_csv(path).into_iter();
    let header = rows.next().expect("a header row");
    let rows = rows
        .enumerate()
        .map(|(i, row)| {
            let at = format!("{} row {}", path.display(), i + 2);
            assert_eq!(row.len(), header.len(), "{at}: {row:?}");
            assert_ne!(row, header, "{at}: the header repeated");
            header.iter().cloned().zip(row).collect()
        })
        .collect();
    (header, rows)
}

/// What a CSV cell holds for a JSON value.
#[must_use]
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// A header and its records.
type Records = (Vec<String>, Vec<Map<String, Value>>);

/// A header and its rows.
pub type Table = (Vec<String>, Vec<Vec<String>>);

/// The files the target should write for these inputs, loaded one after the other into the
/// same directory: per stream, the header (every property of every SCHEMA, in order of first
/// appearance) and the rows (every record, in input order).
///
/// # Panics
/// When a SCHEMA has no `properties` or a RECORD comes before its SCHEMA.
#[must_use]
pub fn expected_files(inputs: &[&[u8]]) -> BTreeMap<String, Table> {
    let mut files: BTreeMap<String, Records> = BTreeMap::new();
    for message in inputs.iter().flat_map(messages) {
        let stream = message["stream"].as_str().unwrap_or_default().to_owned();
        match message["type"].as_str() {
            Some("SCHEMA") => {
                let (header, _) = files.entry(stream).or_default();
                for name in message["schema"]["properties"].as_object().unwrap().keys() {
                    if !header.contains(name) {
                        header.push(name.clone());
                    }
                }
            }
            Some("RECORD") => {
                let (_, records) = files.get_mut(&stream).unwrap();
                records.push(message["record"].as_object().unwrap().clone());
            }
            _ => {}
        }
    }
    files
        .into_iter()
        .map(|(stream, (header, records))| {
            let rows = records
                .iter()
                .map(|r| header.iter().map(|c| cell(r.get(c))).collect())
                .collect();
            (stream, (header, rows))
        })
        .collect()
}

/// Asserts that the records before the last acknowledged STATE of `input` are in the files of
/// `dest` (written into an empty directory): nothing was acknowledged before it was written.
///
/// # Panics
/// When not.
pub fn assert_acknowledged_state_is_durable(dest: &Dest, input: &[u8], emitted: &[Value]) {
    let Some(last) = emitted.last() else {
        return;
    };
    let messages = messages(input);
    let position = messages
        .iter()
        .position(|m| m["type"] == "STATE" && &m["value"] == last)
        .expect("the emitted state is in the input");
    let before = crate::lines(&messages[..position]);
    for (stream, (_, rows)) in expected_files(&[&before]) {
        let (_, written) = read_table(&dest.csv(&stream));
        assert!(
            written.len() >= rows.len(),
            "stream {stream}: state {last} acknowledged with {} of {} records written",
            written.len(),
            rows.len()
        );
    }
}

/// Every CSV file of the destination directory `out`, as its records byte for byte (the
/// text between `\r\n` terminators; a quoted newline stays inside its record).
///
/// # Errors
/// When a file cannot be read, is not UTF-8, or does not end with `\r\n`.
pub fn dump(out: &Path) -> Result<Content, String> {
    crate::expected::text_files(out, "\r\n")
}

/// The `id`s loaded into stream `conformance_kill` of the destination directory `out`.
///
/// # Errors
/// When its file cannot be read or has no `id` column.
pub fn ids(out: &Path) -> Result<Vec<i64>, String> {
    let path = out.join("conformance_kill.csv");
    let mut rows = read_rows(&path)?.into_iter();
    let header = rows.next().unwrap_or_default();
    let column = header
        .iter()
        .position(|h| h == "id")
        .ok_or("no `id` column")?;
    Ok(rows.filter_map(|r| r.get(column)?.parse().ok()).collect())
}

fn read_rows(path: &Path) -> Result<Vec<Vec<String>>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    reader
        .records()
        .map(|r| {
            let record = r.map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(record.iter().map(str::to_owned).collect())
        })
        .collect()
}
