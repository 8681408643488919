//! The CSV files themselves: the dialect, finding the end of the last complete row, repairing
//! a torn tail, reading the header, and widening a file's header in place.
//!
//! Files are written in Python's `excel` dialect (what MeltanoLabs `target-csv` writes): comma
//! delimiter, `"` quotes only where needed, `\r\n` line ends, quotes doubled inside quoted
//! fields, or escaped with `escape_character` when one is set.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

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

/// Where a row boundary falls, tracked byte by byte with the same state machine the `csv`
/// crate's reader uses (quotes open only at the start of a field; `\r` and `\n` end a row
/// outside quotes).
#[derive(Debug, Clone)]
pub(crate) struct Scanner {
    dialect: Dialect,
    state: ScanState,
    offset: u64,
    /// Offset just past the last row terminator seen outside quotes.
    pub(crate) complete: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    StartField,
    InField,
    InQuoted,
    /// After the escape character inside a quoted field.
    Escaped,
    /// After a quote inside a quoted field: a doubled quote, or the end of the quoted part.
    AfterQuote,
}

impl Scanner {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Scanner {
            dialect,
            state: ScanState::StartField,
            offset: 0,
            complete: 0,
        }
    }

    /// Reads the next bytes of the file.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        use ScanState::{AfterQuote, Escaped, InField, InQuoted, StartField};
        let double_quote = self.dialect.escape.is_none();
        for (i, &byte) in bytes.iter().enumerate() {
            if matches!(
                (self.state, byte),
                (StartField | InField | AfterQuote, b'\n' | b'\r')
            ) {
                self.complete = self.offset + i as u64 + 1;
            }
            self.state = match (self.state, byte) {
                (StartField | InField | AfterQuote, b',' | b'\n' | b'\r') => StartField,
                (StartField, b'"') | (Escaped, _) => InQuoted,
                (AfterQuote, b'"') if double_quote => InQuoted,
                (StartField | InField | AfterQuote, _) => InField,
                (InQuoted, b'"') => AfterQuote,
                (InQuoted, _) if self.dialect.escape == Some(byte) => Escaped,
                (InQuoted, _) => InQuoted,
            };
        }
        self.offset += bytes.len() as u64;
    }

    /// Bytes fed so far.
    pub(crate) fn len(&self) -> u64 {
        self.offset
    }
}

/// The offset just past the last complete row of `file` (read from its start), and its length.
///
/// # Errors
/// The file cannot be read.
pub(crate) fn scan(file: &mut File, dialect: Dialect) -> io::Result<(u64, u64)> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(0))?;
    let mut scanner = Scanner::new(dialect);
    let mut buffer = vec![0; 256 * 1024];
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        scanner.feed(&buffer[..n]);
    }
    Ok((scanner.complete, scanner.len()))
}

/// Removes a torn last row (bytes after the last row terminator, left by a crash in the
/// middle of a write) from the regular file at `path`, keeping them in `<path>.torn` so that
/// nothing is lost silently. Returns the new length of the file.
///
/// # Errors
/// The file cannot be read, truncated or synced, or the fragment cannot be saved.
pub(crate) fn repair_tail(file: &mut File, path: &Path, dialect: Dialect) -> Result<u64> {
    let (complete, len) = scan(file, dialect)
        .map_err(|e| Error::context(format!("cannot read `{}`", path.display()), e))?;
    if complete == len {
        return Ok(len);
    }
    let torn_path = torn_path(path);
    let mut fragment = Vec::new();
    {
        use std::io::{Seek, SeekFrom};
        file.seek(SeekFrom::Start(complete))
            .and_then(|_| file.read_to_end(&mut fragment))
            .map_err(|e| Error::context(format!("cannot read `{}`", path.display()), e))?;
    }
    fragment.push(b'\n');
    let saved = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&torn_path)
        .and_then(|mut torn| {
            torn.write_all(&fragment)?;
            torn.sync_data()
        });
    saved.map_err(|e| {
        Error::context(
            format!(
                "`{}` ends with an incomplete row ({} bytes) that cannot be saved to `{}` before removing it; make the directory writable",
                path.display(),
                len - complete,
                torn_path.display()
            ),
            e,
        )
    })?;
    file.set_len(complete)
        .and_then(|()| file.sync_data())
        .map_err(|e| {
            Error::context(
                format!(
                    "cannot remove the incomplete last row of `{}`",
                    path.display()
                ),
                e,
            )
        })?;
    tracing::warn!(
        file = %path.display(),
        bytes = len - complete,
        saved_to = %torn_path.display(),
        "Removed an incomplete last row (left by an interrupted run); its bytes are kept in the .torn file."
    );
    Ok(complete)
}

/// Where [`repair_tail`] keeps the bytes it removes.
pub(crate) fn torn_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".torn");
    path.with_file_name(name)
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
    let mut start = [0u8; 3];
    let mut got = 0;
    while got < 3 {
        match input.read(&mut start[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot_read(&e)),
        }
    }
    let bom = &start[..got] == BOM;
    let prefix: &[u8] = if bom { &[] } else { &start[..got] };
    let mut reader = dialect.reader(prefix.chain(input));
    let mut record = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut record)
        .map_err(|e| cannot_read(&e))?
    {
        return Ok(None);
    }
    let mut header = Vec::with_capacity(record.len());
    for field in &record {
        let name =
            std::str::from_utf8(field).map_err(|_| cannot_read(&"the header is not UTF-8 text"))?;
        header.push(name.to_owned());
    }
    Ok(Some((header, bom)))
}

/// Rewrites the CSV file at `path` with header `widened` (its current header `old` followed
/// by new columns), filling the new columns of every existing row with empty fields. The
/// new file is written next to the old one, synced, and renamed over it, so a crash leaves
/// either the old file or the new one.
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
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = path.with_file_name(format!(".{name}.target-csv-widen"));
    let result = widen_into(path, &temp, old, widened, bom, dialect);
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn widen_into(
    path: &Path,
    temp: &Path,
    old: &[String],
    widened: &[String],
    bom: bool,
    dialect: Dialect,
) -> Result<()> {
    let write_error = |e: io::Error| {
        Error::context(
            format!(
                "cannot rewrite `{}` with new columns (through `{}`); check free space and permissions",
                path.display(),
                temp.display()
            ),
            e,
        )
    };
    let input = File::open(path)
        .map_err(|e| Error::context(format!("cannot read `{}`", path.display()), e))?;
    let out = File::create(temp).map_err(write_error)?;
    let mut out = BufWriter::with_capacity(256 * 1024, out);
    if bom {
        out.write_all(BOM).map_err(write_error)?;
    }
    out.write_all(&dialect.row(widened.iter().map(String::as_bytes)))
        .map_err(write_error)?;
    let mut reader = dialect.reader(BufReader::with_capacity(256 * 1024, input));
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    let mut writer = dialect.writer(out);
    let mut fields: Vec<Vec<u8>> = Vec::with_capacity(widened.len());
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            Error::custom(format!(
                "cannot read `{}` to add columns: {e}; move the file away or fix it",
                path.display()
            ))
        })?;
        if !more {
            break;
        }
        row += 1;
        if row == 1 {
            continue;
        }
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
            .map_err(|e| csv_write_error(e, &write_error))?;
    }
    let out = writer
        .into_inner()
        .map_err(|e| write_error(io::Error::other(e.to_string())))?;
    let out = out.into_inner().map_err(|e| write_error(e.into_error()))?;
    out.sync_all().map_err(write_error)?;
    drop(out);
    std::fs::rename(temp, path).map_err(write_error)?;
    sync_parent(path).map_err(write_error)?;
    Ok(())
}

fn csv_write_error(e: csv::Error, wrap: &dyn Fn(io::Error) -> Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => wrap(io),
        other => wrap(io::Error::other(format!("{other:?}"))),
    }
}

/// Syncs the directory holding `path`, so that a new or renamed entry survives a crash.
/// File systems that cannot sync directories are taken at their word.
///
/// # Errors
/// The directory cannot be opened or synced.
pub(crate) fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match File::open(parent).and_then(|dir| dir.sync_all()) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}
