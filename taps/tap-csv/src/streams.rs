//! One stream per file definition: the header gives the schema, rows become records.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use encoding_rs::Encoding;
use encoding_rs_io::DecodeReaderBytesBuilder;
use serde_json::{Map, Value, json};
use singer_sdk::stream::{RecordStream, Stream, SyncContext, records_from_iter};
use singer_sdk::{Error, Result};

use crate::config::{Config, FileDefinition};

const SOURCE_FILE: &str = "_sdc_source_file";
const SOURCE_FILE_MTIME: &str = "_sdc_source_file_mtime";
const SOURCE_LINENO: &str = "_sdc_source_lineno";

/// The file definitions: `files`, else the list in `csv_files_definition`.
pub(crate) fn file_definitions(config: &Config) -> Result<Vec<FileDefinition>> {
    if let Some(files) = &config.files {
        return Ok(files.clone());
    }
    let Some(path) = &config.csv_files_definition else {
        return Err(Error::custom(
            "no files to read: set `files` or `csv_files_definition` in the config",
        ));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::context(
            format!(
                "cannot read `csv_files_definition` file `{}`",
                path.display()
            ),
            e,
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::context(
            format!(
                "`csv_files_definition` file `{}` is not a JSON list of file definitions",
                path.display()
            ),
            e,
        )
    })
}

/// How a column's text becomes a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnType {
    String,
    Integer,
    Number,
    Boolean,
    DateTime,
}

impl ColumnType {
    fn schema(self) -> Value {
        match self {
            ColumnType::String => json!({"type": ["string", "null"]}),
            ColumnType::Integer => json!({"type": ["integer", "null"]}),
            ColumnType::Number => json!({"type": ["number", "null"]}),
            ColumnType::Boolean => json!({"type": ["boolean", "null"]}),
            ColumnType::DateTime => json!({"type": ["string", "null"], "format": "date-time"}),
        }
    }

    fn fits(self, text: &str) -> bool {
        match self {
            ColumnType::String => true,
            ColumnType::Integer => text.parse::<i64>().is_ok(),
            ColumnType::Number => text.parse::<f64>().is_ok_and(f64::is_finite),
            ColumnType::Boolean => matches!(text.to_ascii_lowercase().as_str(), "true" | "false"),
            ColumnType::DateTime => DateTime::parse_from_rfc3339(text).is_ok(),
        }
    }

    fn value(self, text: &str) -> Value {
        if self != ColumnType::String && text.is_empty() {
            return Value::Null;
        }
        match self {
            ColumnType::Integer => text
                .parse::<i64>()
                .map_or_else(|_| Value::from(text), Value::from),
            ColumnType::Number => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::from(text), Value::Number),
            ColumnType::Boolean => Value::Bool(text.eq_ignore_ascii_case("true")),
            ColumnType::String | ColumnType::DateTime => Value::from(text),
        }
    }
}

/// The CSV dialect and encoding of a file definition.
#[derive(Debug, Clone)]
struct Dialect {
    delimiter: u8,
    quote: u8,
    encoding: Option<&'static Encoding>,
}

impl Dialect {
    fn from_definition(definition: &FileDefinition) -> Result<Self> {
        let byte = |value: &Option<String>, name: &str, default: u8| -> Result<u8> {
            match value.as_deref() {
                None => Ok(default),
                Some("\\t") => Ok(b'\t'),
                Some(text) if text.len() == 1 => Ok(text.as_bytes()[0]),
                Some(text) => Err(Error::custom(format!(
                    "file `{}`: `{name}` must be one ASCII character, got {text:?}",
                    definition.entity
                ))),
            }
        };
        let encoding = match definition.encoding.as_deref() {
            None => None,
            Some(label) => {
                let label = label.trim().to_ascii_lowercase();
                let label = match label.as_str() {
                    "utf-8-sig" | "utf8" | "utf_8" => "utf-8",
                    "latin1" | "latin-1" => "iso-8859-1",
                    other => other,
                };
                Some(Encoding::for_label(label.as_bytes()).ok_or_else(|| {
                    Error::custom(format!(
                        "file `{}`: unknown encoding {label:?}; use a WHATWG label such as utf-8, latin1, utf-16le, windows-1252",
                        definition.entity
                    ))
                })?)
            }
        };
        Ok(Dialect {
            delimiter: byte(&definition.delimiter, "delimiter", b',')?,
            quote: byte(&definition.quotechar, "quotechar", b'"')?,
            encoding,
        })
    }

    fn reader(&self, path: &Path) -> Result<csv::Reader<Box<dyn Read + Send>>> {
        let file = File::open(path)
            .map_err(|e| Error::context(format!("cannot open `{}`", path.display()), e))?;
        let decoded: Box<dyn Read + Send> = Box::new(
            DecodeReaderBytesBuilder::new()
                .encoding(self.encoding)
                .bom_override(true)
                .build(BufReader::with_capacity(64 * 1024, file)),
        );
        Ok(csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .quote(self.quote)
            .has_headers(true)
            .flexible(false)
            .from_reader(decoded))
    }
}

/// A stream over one file definition.
pub(crate) struct CsvStream {
    definition: FileDefinition,
    dialect: Dialect,
    files: Vec<PathBuf>,
    columns: Vec<(String, ColumnType)>,
    metadata_columns: bool,
}

impl CsvStream {
    /// Finds the files and reads their headers (and a sample, when inferring types).
    pub(crate) fn open(definition: FileDefinition, config: &Config) -> Result<Self> {
        let dialect = Dialect::from_definition(&definition)?;
        let files = list_files(&definition.path)?;
        let mut columns: Vec<(String, ColumnType)> = Vec::new();
        for file in &files {
            let mut reader = dialect.reader(file)?;
            let headers = reader.headers().map_err(|e| csv_error(file, &e))?.clone();
            if headers.is_empty() {
                return Err(Error::custom(format!(
                    "`{}` has no header row; tap-csv reads column names from the first line",
                    file.display()
                )));
            }
            for name in &headers {
                if !columns.iter().any(|(c, _)| c == name) {
                    columns.push((name.to_owned(), ColumnType::String));
                }
            }
        }
        if config.infer_types {
            infer(&dialect, &files, &mut columns, config.infer_sample_rows)?;
        }
        Ok(CsvStream {
            definition,
            dialect,
            files,
            columns,
            metadata_columns: config.add_metadata_columns,
        })
    }

    fn rows<'a>(
        &'a self,
        starting: Option<&'a Value>,
    ) -> impl Iterator<Item = Result<Map<String, Value>>> + Send + 'a {
        let _ = starting;
        self.files.iter().flat_map(
            move |file| -> Box<dyn Iterator<Item = Result<Map<String, Value>>> + Send + 'a> {
                let opened = self.dialect.reader(file).and_then(|mut reader| {
                    let headers = reader.headers().map_err(|e| csv_error(file, &e))?.clone();
                    let mtime = std::fs::metadata(file)
                        .and_then(|m| m.modified())
                        .map(|t| singer_sdk::time::format_timestamp(DateTime::<Utc>::from(t)))
                        .ok();
                    Ok((reader, headers, mtime))
                });
                let (reader, headers, mtime) = match opened {
                    Ok(opened) => opened,
                    Err(e) => return Box::new(std::iter::once(Err(e))),
                };
                let types: Vec<ColumnType> = headers
                    .iter()
                    .map(|h| {
                        self.columns
                            .iter()
                            .find(|(c, _)| c == h)
                            .map_or(ColumnType::String, |(_, t)| *t)
                    })
                    .collect();
                let file_name = file.display().to_string();
                Box::new(reader.into_records().map(move |row| {
                    let row = row.map_err(|e| csv_error(file, &e))?;
                    let mut record = Map::with_capacity(headers.len() + 3);
                    for ((name, text), kind) in headers.iter().zip(row.iter()).zip(&types) {
                        record.insert(name.to_owned(), kind.value(text));
                    }
                    if self.metadata_columns {
                        record.insert(SOURCE_FILE.to_owned(), Value::from(file_name.as_str()));
                        record.insert(
                            SOURCE_FILE_MTIME.to_owned(),
                            mtime.clone().map_or(Value::Null, Value::from),
                        );
                        record.insert(
                            SOURCE_LINENO.to_owned(),
                            Value::from(row.position().map_or(0, |p| p.line())),
                        );
                    }
                    Ok(record)
                }))
            },
        )
    }
}

impl Stream for CsvStream {
    type Record = Map<String, Value>;

    fn name(&self) -> &str {
        &self.definition.entity
    }

    fn schema(&self) -> Value {
        let mut properties = Map::new();
        for (name, kind) in &self.columns {
            properties.insert(name.clone(), kind.schema());
        }
        if self.metadata_columns {
            properties.insert(SOURCE_FILE.to_owned(), json!({"type": ["string", "null"]}));
            properties.insert(
                SOURCE_FILE_MTIME.to_owned(),
                json!({"type": ["string", "null"], "format": "date-time"}),
            );
            properties.insert(
                SOURCE_LINENO.to_owned(),
                json!({"type": ["integer", "null"]}),
            );
        }
        json!({"type": "object", "properties": properties})
    }

    fn key_properties(&self) -> &[String] {
        &self.definition.keys
    }

    fn replication_key(&self) -> Option<&str> {
        self.definition.replication_key.as_deref()
    }

    fn records<'a>(&'a self, cx: &'a SyncContext) -> RecordStream<'a, Self::Record> {
        records_from_iter(self.rows(cx.starting_value()))
    }
}

/// The files of a definition: the file itself, or the `.csv` files of a directory by name.
fn list_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::context(
            format!(
                "cannot read `{}`; check the `path` of this file definition",
                path.display()
            ),
            e,
        )
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| Error::context(format!("cannot list directory `{}`", path.display()), e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::custom(format!(
            "directory `{}` holds no .csv file",
            path.display()
        )));
    }
    Ok(files)
}

/// Narrows every column to the most specific type all sampled values fit.
fn infer(
    dialect: &Dialect,
    files: &[PathBuf],
    columns: &mut [(String, ColumnType)],
    sample: usize,
) -> Result<()> {
    const CANDIDATES: [ColumnType; 4] = [
        ColumnType::Integer,
        ColumnType::Number,
        ColumnType::Boolean,
        ColumnType::DateTime,
    ];
    let mut possible: Vec<Vec<ColumnType>> = vec![CANDIDATES.to_vec(); columns.len()];
    let mut seen = vec![false; columns.len()];
    let mut rows = 0;
    'files: for file in files {
        let mut reader = dialect.reader(file)?;
        let headers = reader.headers().map_err(|e| csv_error(file, &e))?.clone();
        for row in reader.records() {
            let row = row.map_err(|e| csv_error(file, &e))?;
            for (name, text) in headers.iter().zip(row.iter()) {
                if text.is_empty() {
                    continue;
                }
                if let Some(index) = columns.iter().position(|(c, _)| c == name) {
                    seen[index] = true;
                    possible[index].retain(|t| t.fits(text));
                }
            }
            rows += 1;
            if rows >= sample {
                break 'files;
            }
        }
    }
    for (index, (_, kind)) in columns.iter_mut().enumerate() {
        if seen[index] {
            *kind = possible[index]
                .first()
                .copied()
                .unwrap_or(ColumnType::String);
        }
    }
    Ok(())
}

/// A CSV error with the file and line, and what to do.
fn csv_error(file: &Path, error: &csv::Error) -> Error {
    let line = error.position().map(csv::Position::line);
    let place = match line {
        Some(line) => format!("`{}` line {line}", file.display()),
        None => format!("`{}`", file.display()),
    };
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::custom(format!(
            "{place}: row has {len} fields but the header has {expected_len}; fix the row, or check `delimiter` and `quotechar`"
        )),
        csv::ErrorKind::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            Error::custom(format!(
                "{place}: the file is not valid in its encoding; set `encoding` in the file definition"
            ))
        }
        csv::ErrorKind::Utf8 { .. } => Error::custom(format!(
            "{place}: the file is not valid UTF-8; set `encoding` in the file definition"
        )),
        _ => Error::custom(format!("{place}: cannot read CSV: {error}")),
    }
}
