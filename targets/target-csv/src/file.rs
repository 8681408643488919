//! The CSV files themselves: the dialect, reading the header, and widening a file's header
//! in place.
//!
//! Files are written in Python's `excel` dialect (what MeltanoLabs `target-csv` writes): comma
//! delimiter, `"` quotes only where needed, `\r\n` line ends, quotes doubled inside quoted
//! fields, or escaped with `escape_character` when one is set.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use singer_sdk::sink::file::{QuotedLines, Replacement};
use singer_sdk::{Error, Result};

/// The UTF-8 byte order mark some tools (Excel) put at the start of a CSV file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How fields are quoted and escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Dialect {
    /// Escape quotes (and itself) with this byte instead of doubling quotes.
    pub(crate) escape: Option<u8>,
}

impl Dialect {
    /// A CSV writer over `out` in this dialect.
    pub(crate) fn writer<W: Write>(self, out: W) -> csv::Writer<W> {
        let mut builder = csv::WriterBuilder::new();
        builder
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .flexible(true);
        if let Some(escape) = self.escape {
            builder.double_quote(false).escape(escape);
        }
        builder.from_writer(out)
    }

    /// A CSV reader over `input` in this dialect: no header handling, rows of any length.
    pub(crate) fn reader<R: Read>(self, input: R) -> csv::Reader<R> {
        let mut builder = csv::ReaderBuilder::new();
        builder
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::CRLF);
        if let Some(escape) = self.escape {
            builder.double_quote(false).escape(Some(escape));
        }
        builder.from_reader(input)
    }

    /// A field as it must be handed to the `csv` writer: with an escape character, the
    /// escape character itself is doubled (the `csv` crate escapes only quotes, so a field
    /// ending in the escape character would otherwise not read back).
    pub(crate) fn encode<'a>(self, field: &'a [u8]) -> Cow<'a, [u8]> {
        match self.escape {
            Some(escape) if field.contains(&escape) => {
                let mut out = Vec::with_capacity(field.len() + 4);
                for &byte in field {
                    if byte == escape {
                        out.push(escape);
                    }
                    out.push(byte);
                }
                Cow::Owned(out)
            }
            _ => Cow::Borrowed(field),
        }
    }

    /// Finds the end of the last complete row, to repair a torn tail.
    pub(crate) fn row_end(self) -> QuotedLines {
        QuotedLines::new(b',', b'"', self.escape)
    }

    /// One CSV row, terminated, in this dialect.
    pub(crate) fn row<I, F>(self, fields: I) -> Vec<u8>
    where
        I: IntoIterator<Item = F>,
        F: AsRef<[u8]>,
    {
        let mut writer = self.writer(Vec::new());
        let record: Vec<Vec<u8>> = fields
            .into_iter()
            .map(|f| self.encode(f.as_ref()).into_owned())
            .collect();
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&record);
        writer.into_inner().unwrap_or_default()
    }
}

/// The header (first row) of a CSV file, and whether the file starts with a byte order mark.
/// `None` for a file without rows.
///
/// # Errors
/// The file cannot be read, or its header is not UTF-8.
pub(crate) fn read_header(path: &Path, dialect: Dialect) -> Result<Option<(Vec<String>, bool)>> {
    let cannot_read = |e: &dyn std::fmt::Display| {
        Error::custom(format!(
            "cannot read the header of `{}`: {e}; move the file away or fix it",
            path.display()
        ))
    };
    let file = File::open(path).map_err(|e| cannot_read(&e))?;
    let mut input = BufReader::new(file);
    let bom = input
        .fill_buf()
        .map_err(|e| cannot_read(&e))?
        .starts_with(BOM);
    if bom {
        input.consume(BOM.len());
    }
    let mut record = csv::StringRecord::new();
    match dialect.reader(input).read_record(&mut record) {
        Ok(true) => Ok(Some((record.iter().map(str::to_owned).collect(), bom))),
        Ok(false) => Ok(None),
        Err(e) => Err(cannot_read(&e)),
    }
}

/// Rewrites the CSV file at `path` with header `widened` (its current header `old` followed
/// by new columns), filling the new columns of every existing row with empty fields. The
/// new file is written next to the old one and renamed over it ([`Replacement`]), so a
/// crash leaves either the old file or the new one.
///
/// # Errors
/// Any failure to read the old file or to write, sync or rename the new one; a row with
/// more fields than the old header.
pub(crate) fn widen(
    path: &Path,
    old: &[String],
    widened: &[String],
    bom: bool,
    dialect: Dialect,
) -> Result<()> {
    let write_error = |e: io::Error| {
        Error::context(
            format!(
                "cannot rewrite `{}` with new columns; check free space and permissions",
                path.display()
            ),
            e,
        )
    };
    let input = File::open(path)
        .map_err(|e| Error::context(format!("cannot read `{}`", path.display()), e))?;
    let mut out = Replacement::create(path).map_err(write_error)?;
    if bom {
        out.write_all(BOM).map_err(write_error)?;
    }
    out.write_all(&dialect.row(widened.iter().map(String::as_bytes)))
        .map_err(write_error)?;
    let mut reader = dialect.reader(BufReader::with_capacity(256 * 1024, input));
    let mut writer = dialect.writer(out);
    let mut fields: Vec<Vec<u8>> = Vec::with_capacity(widened.len());
    for (row, record) in (1..).zip(reader.byte_records()).skip(1) {
        let record = record.map_err(|e| {
            Error::custom(format!(
                "cannot read `{}` to add columns: {e}; move the file away or fix it",
                path.display()
            ))
        })?;
        if record.len() > old.len() {
            return Err(Error::custom(format!(
                "cannot add columns to `{}`: row {row} (the header is row 1) has {} fields but the header has {}; fix the file or move it away",
                path.display(),
                record.len(),
                old.len()
            )));
        }
        fields.clear();
        fields.extend(record.iter().map(|f| dialect.encode(f).into_owned()));
        fields.resize(widened.len(), Vec::new());
        writer
            .write_record(&fields)
            .map_err(|e| write_error(e.into()))?;
    }
    let out = writer
        .into_inner()
        .map_err(|e| write_error(e.into_error()))?;
    out.commit().map_err(write_error)
}
