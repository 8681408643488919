//! [`Repair`]: cutting off what an interrupted run left at the end of a file.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::gzip_member;

const CHUNK: usize = 256 * 1024;

/// How [`AppendOptions::open`](super::AppendOptions::open) repairs a regular file it keeps. A
/// run killed in the middle of an append (or a crash that left a zero-filled tail) leaves
/// bytes after the last complete record; they were never acknowledged, so they are removed,
/// with a warning, and the next append starts at a record boundary.
///
/// ```
/// use singer_sdk::sink::file::{AppendFile, Repair};
///
/// # fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("log.txt");
/// std::fs::write(&path, "one\ntwo\nthr")?;
/// AppendFile::options().repair(Repair::Lines).open(&path)?;
/// assert_eq!(std::fs::read_to_string(&path)?, "one\ntwo\n");
/// # Ok(())
/// # }
/// ```
#[derive(Default)]
#[non_exhaustive]
pub enum Repair {
    /// Leave the file as it is.
    #[default]
    None,
    /// Lines: bytes after the last `\n` are cut off.
    Lines,
    /// JSON Lines: bytes after the last `\n` are cut off, unless they are a complete JSON
    /// value, which gets its missing newline.
    JsonLines,
    /// Gzip members of lines, one per append (see [`gzip_member`]): a torn or zero-filled
    /// last member is cut off, and content that does not end with `\n` gets a member holding
    /// one. A file that is not gzip before its end is an error, left untouched.
    GzipLines,
    /// Records whose ends `end` finds, reading the file from its start; with `keep_torn`,
    /// the bytes cut off are first appended (with a `\n`) to `<file name>.torn` next to it.
    Records {
        /// Finds the end of the last complete record.
        end: Box<dyn RecordEnd + Send>,
        /// Keep the bytes cut off in `<file name>.torn`.
        keep_torn: bool,
    },
}

impl fmt::Debug for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Repair::None => f.write_str("None"),
            Repair::Lines => f.write_str("Lines"),
            Repair::JsonLines => f.write_str("JsonLines"),
            Repair::GzipLines => f.write_str("GzipLines"),
            Repair::Records { end, keep_torn } => f
                .debug_struct("Records")
                .field("unit", &end.unit())
                .field("keep_torn", keep_torn)
                .finish(),
        }
    }
}

/// Finds where the last complete record of a file ends, for [`Repair::Records`]: a state
/// machine fed the file's bytes in order, as a CSV reader tracks quotes ([`QuotedLines`]).
///
/// ```
/// use singer_sdk::sink::file::RecordEnd;
///
/// /// Records end at `;`.
/// #[derive(Default)]
/// struct Semicolons { fed: u64, complete: u64 }
///
/// impl RecordEnd for Semicolons {
///     fn feed(&mut self, bytes: &[u8]) {
///         if let Some(i) = bytes.iter().rposition(|b| *b == b';') {
///             self.complete = self.fed + i as u64 + 1;
///         }
///         self.fed += bytes.len() as u64;
///     }
///     fn complete(&self) -> u64 { self.complete }
/// }
///
/// let mut end = Semicolons::default();
/// end.feed(b"a;b;c");
/// assert_eq!(end.complete(), 4);
/// ```
pub trait RecordEnd {
    /// What a record is called in log messages (`row`, `line`).
    fn unit(&self) -> &'static str {
        "record"
    }

    /// Reads the next bytes of the file.
    fn feed(&mut self, bytes: &[u8]);

    /// The offset just past the last complete record fed so far.
    fn complete(&self) -> u64;
}

/// The [`RecordEnd`] of delimited text with quoted fields (CSV, TSV): records are lines,
/// except that line breaks inside quoted fields do not end them. It tracks the state machine
/// of the `csv` crate's reader: a quote opens a quoted field only at the start of a field;
/// inside one, a doubled quote (or, with an escape byte, the escape byte and the byte after
/// it) does not close it; outside quotes, `\r` and `\n` end a record.
///
/// ```
/// use singer_sdk::sink::file::{QuotedLines, RecordEnd};
///
/// let mut end = QuotedLines::new(b',', b'"', None);
/// end.feed(b"id,text\r\n1,\"two\r\nlines\"\r\n2,\"torn");
/// assert_eq!(end.complete(), 25);
/// ```
#[derive(Debug, Clone)]
pub struct QuotedLines {
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    state: Scan,
    offset: u64,
    complete: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    StartField,
    InField,
    InQuoted,
    /// After the escape byte inside a quoted field.
    Escaped,
    /// After a quote inside a quoted field: a doubled quote, or the end of the quoted part.
    AfterQuote,
}

impl QuotedLines {
    /// Fields separated by `delimiter` and quoted with `quote`; inside quotes, quotes are
    /// doubled, or escaped with `escape` when there is one.
    #[must_use]
    pub fn new(delimiter: u8, quote: u8, escape: Option<u8>) -> Self {
        QuotedLines {
            delimiter,
            quote,
            escape,
            state: Scan::StartField,
            offset: 0,
            complete: 0,
        }
    }
}

impl RecordEnd for QuotedLines {
    fn unit(&self) -> &'static str {
        "row"
    }

    fn feed(&mut self, bytes: &[u8]) {
        use Scan::{AfterQuote, Escaped, InField, InQuoted, StartField};
        for (i, &byte) in bytes.iter().enumerate() {
            let outside = matches!(self.state, StartField | InField | AfterQuote);
            self.state = match self.state {
                _ if outside && (byte == b'\n' || byte == b'\r') => {
                    self.complete = self.offset + i as u64 + 1;
                    StartField
                }
                _ if outside && byte == self.delimiter => StartField,
                // A quote opens a quoted field, or (doubled) continues one.
                StartField | AfterQuote
                    if byte == self.quote
                        && (self.state == StartField || self.escape.is_none()) =>
                {
                    InQuoted
                }
                StartField | InField | AfterQuote => InField,
                InQuoted if byte == self.quote => AfterQuote,
                InQuoted if Some(byte) == self.escape => Escaped,
                InQuoted | Escaped => InQuoted,
            };
        }
        self.offset += bytes.len() as u64;
    }

    fn complete(&self) -> u64 {
        self.complete
    }
}

impl Repair {
    /// Repairs `file` (open for reading and appending), found at `path`.
    pub(super) fn run(self, file: &mut File, path: &Path) -> io::Result<()> {
        match self {
            Repair::None => Ok(()),
            Repair::Lines => lines(file, path, false),
            Repair::JsonLines => lines(file, path, true),
            Repair::GzipLines => gzip_lines(file, path),
            Repair::Records { mut end, keep_torn } => {
                file.seek(SeekFrom::Start(0))?;
                let mut buffer = vec![0; CHUNK];
                let mut len = 0;
                loop {
                    let n = match file.read(&mut buffer) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    end.feed(&buffer[..n]);
                    len += n as u64;
                }
                let complete = end.complete();
                if complete < len {
                    cut(file, path, complete, len, end.unit(), keep_torn)?;
                }
                Ok(())
            }
        }
    }
}

/// Ends a file at its last `\n`, or (with `json`) adds the newline after a complete value.
fn lines(file: &mut File, path: &Path, json: bool) -> io::Result<()> {
    let len = file.metadata()?.len();
    let mut tail_start = 0;
    let mut pos = len;
    let mut buf = vec![0; CHUNK];
    while pos > 0 {
        let start = pos.saturating_sub(CHUNK as u64);
        let chunk = &mut buf[..usize::try_from(pos - start).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            tail_start = start + i as u64 + 1;
            break;
        }
        pos = start;
    }
    if tail_start == len {
        return Ok(());
    }
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(tail_start))?;
    file.read_to_end(&mut tail)?;
    if json && serde_json::from_slice::<serde_json::Value>(&tail).is_ok() {
        missing_newline(path);
        file.write_all(b"\n")?;
        return file.sync_data();
    }
    cut(file, path, tail_start, len, "line", false)
}

/// Ends a file of gzip members at its last complete member.
fn gzip_lines(file: &mut File, path: &Path) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = Counting {
        inner: BufReader::with_capacity(CHUNK, &*file),
        pos: 0,
    };
    let mut chunk = vec![0; 64 * 1024];
    // The last byte of the content of the complete members.
    let mut last_byte = None;
    let mut torn_at = None;
    loop {
        let start = reader.pos;
        if reader.fill_buf()?.is_empty() {
            break;
        }
        let mut decoder = flate2::bufread::GzDecoder::new(&mut reader);
        let mut member_last = None;
        let outcome = loop {
            match decoder.read(&mut chunk) {
                Ok(0) => break Ok(()),
                Ok(n) => member_last = Some(chunk[n - 1]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        drop(decoder);
        match outcome {
            Ok(()) => last_byte = member_last.or(last_byte),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof || rest_is_zeros(file, start)? => {
                torn_at = Some(start);
                break;
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "`{}` is not a valid gzip file at byte {start} ({e}); move it away or write elsewhere",
                        path.display()
                    ),
                ));
            }
        }
    }
    if let Some(start) = torn_at {
        let len = file.metadata()?.len();
        cut(file, path, start, len, "gzip member", false)?;
    }
    if last_byte.is_some_and(|b| b != b'\n') {
        missing_newline(path);
        file.write_all(&gzip_member(b"\n")?)?;
        file.sync_data()?;
    }
    Ok(())
}

/// Cuts `file` at `at` (of `len` bytes), keeping the bytes cut off aside if asked.
fn cut(
    file: &mut File,
    path: &Path,
    at: u64,
    len: u64,
    unit: &str,
    keep_torn: bool,
) -> io::Result<()> {
    let torn = keep_torn.then(|| torn_path(path));
    if let Some(torn) = &torn {
        let mut fragment = Vec::new();
        file.seek(SeekFrom::Start(at))?;
        file.read_to_end(&mut fragment)?;
        fragment.push(b'\n');
        let saved = OpenOptions::new()
            .create(true)
            .append(true)
            .open(torn)
            .and_then(|mut out| {
                out.write_all(&fragment)?;
                out.sync_data()
            });
        saved.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "`{}` ends with an incomplete {unit} ({} bytes) that cannot be saved to `{}` before removing it ({e}); make the directory writable",
                    path.display(),
                    len - at,
                    torn.display()
                ),
            )
        })?;
    }
    file.set_len(at)?;
    file.sync_data()?;
    let kept = torn
        .map(|t| format!(" (its bytes are kept in `{}`)", t.display()))
        .unwrap_or_default();
    tracing::warn!(
        "Removed an incomplete last {unit} of {} bytes from `{}`{kept}: a partial write of an interrupted run, never acknowledged.",
        len - at,
        path.display()
    );
    Ok(())
}

/// Where [`Repair::Records`] with `keep_torn` keeps the bytes it cuts off: `<file name>.torn`.
fn torn_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".torn");
    path.with_file_name(name)
}

fn missing_newline(path: &Path) {
    tracing::info!(
        "`{}` ended without a newline after its last record; adding it.",
        path.display()
    );
}

/// Whether every byte from `start` to the end is zero (the tail a crash can leave behind).
fn rest_is_zeros(mut file: &File, start: u64) -> io::Result<bool> {
    file.seek(SeekFrom::Start(start))?;
    let mut buf = vec![0; 64 * 1024];
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(true),
            n if buf[..n].iter().any(|b| *b != 0) => return Ok(false),
            _ => {}
        }
    }
}

/// A buffered reader that counts the bytes consumed, to find gzip member boundaries.
struct Counting<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.pos += amount as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(name: &str, content: &[u8], repair: Repair) -> io::Result<Vec<u8>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(name);
        std::fs::write(&path, content)?;
        let mut file = OpenOptions::new().read(true).append(true).open(&path)?;
        repair.run(&mut file, &path)?;
        std::fs::read(&path)
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn torn_plain_tail_is_cut_off() {
        let torn = b"{\"id\":1}\n{\"id\":2}\n{\"id\":3,\"na";
        assert_eq!(
            repaired("a", torn, Repair::JsonLines).unwrap(),
            b"{\"id\":1}\n{\"id\":2}\n"
        );
        assert_eq!(repaired("a", b"{\"id\":1,", Repair::Lines).unwrap(), b"");
        // Longer than a read chunk.
        let long = format!("{{\"id\":1}}\n{{\"big\":\"{}", "x".repeat(600_000));
        assert_eq!(
            repaired("a", long.as_bytes(), Repair::Lines).unwrap(),
            b"{\"id\":1}\n"
        );
        for clean in [&b""[..], b"{\"id\":1}\n"] {
            assert_eq!(repaired("a", clean, Repair::JsonLines).unwrap(), clean);
        }
        assert_eq!(
            repaired("a", b"a\nb", Repair::None).unwrap(),
            b"a\nb",
            "none leaves it"
        );
    }

    #[test]
    fn complete_json_without_newline_gets_one() {
        assert_eq!(
            repaired("a", b"{\"id\":1}\n{\"id\":2}", Repair::JsonLines).unwrap(),
            b"{\"id\":1}\n{\"id\":2}\n"
        );
        assert_eq!(
            repaired("a", b"{\"id\":1}\n{\"id\":2}", Repair::Lines).unwrap(),
            b"{\"id\":1}\n"
        );
    }

    #[test]
    fn zero_filled_tail_is_cut_off() {
        let mut plain = b"{\"id\":1}\n".to_vec();
        plain.extend([0; 4096]);
        assert_eq!(
            repaired("a", &plain, Repair::JsonLines).unwrap(),
            b"{\"id\":1}\n"
        );
        let good = gzip_member(b"{\"id\":1}\n").unwrap();
        let mut content = good.clone();
        content.extend([0; 4096]);
        assert_eq!(repaired("a.gz", &content, Repair::GzipLines).unwrap(), good);
    }

    #[test]
    fn torn_gzip_member_is_cut_off_wherever_the_cut_is() {
        let mut good = gzip_member(b"{\"id\":1}\n").unwrap();
        good.extend(gzip_member(b"{\"id\":2}\n{\"id\":3}\n").unwrap());
        let torn =
            gzip_member("{\"id\":4,\"pad\":\"abcdefghij\"}\n".repeat(50).as_bytes()).unwrap();
        // Inside the header, the deflate data, the trailer, and at one byte.
        for at in [1, 5, 12, torn.len() / 2, torn.len() - 4, torn.len() - 1] {
            let mut content = good.clone();
            content.extend_from_slice(&torn[..at]);
            let repaired = repaired("a.gz", &content, Repair::GzipLines).unwrap();
            assert_eq!(repaired, good, "cut at {at}");
            assert_eq!(gunzip(&repaired), "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
        }
    }

    #[test]
    fn gzip_without_final_newline_gets_one() {
        let repaired = repaired(
            "a.gz",
            &gzip_member(b"{\"id\":1}").unwrap(),
            Repair::GzipLines,
        );
        assert_eq!(gunzip(&repaired.unwrap()), "{\"id\":1}\n");
    }

    #[test]
    fn gzip_corrupt_before_its_end_is_an_error() {
        let mut content = b"this is not gzip\n".to_vec();
        content.extend(gzip_member(b"{\"id\":1}\n").unwrap());
        let error = repaired("a.gz", &content, Repair::GzipLines).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("not a valid gzip file at byte 0"),
            "{error}"
        );
        // A complete member with a wrong checksum, followed by a good one.
        let mut bad = gzip_member(b"{\"id\":1}\n").unwrap();
        let at = bad.len() - 6;
        bad[at] ^= 0xff;
        bad.extend(gzip_member(b"{\"id\":2}\n").unwrap());
        assert!(repaired("a.gz", &bad, Repair::GzipLines).is_err());
    }

    /// Records end at `;`.
    #[derive(Default)]
    struct Semicolons {
        fed: u64,
        complete: u64,
    }

    impl RecordEnd for Semicolons {
        fn feed(&mut self, bytes: &[u8]) {
            if let Some(i) = bytes.iter().rposition(|b| *b == b';') {
                self.complete = self.fed + i as u64 + 1;
            }
            self.fed += bytes.len() as u64;
        }

        fn complete(&self) -> u64 {
            self.complete
        }
    }

    /// Every byte offset of `text` cut short: the end of the last whole row is found.
    #[test]
    fn quoted_lines_find_the_last_complete_row() {
        let cases: [(&[&str], Option<u8>); 3] = [
            (
                &[
                    "id,info\r\n",
                    "1,\"a \"\"q\"\"\r\nnext, line\"\r\n",
                    "2,plain\r\n",
                ],
                None,
            ),
            (
                &["id,info\r\n", "1,\"a \\\"q\\\"\r\n\\\\\"\r\n", "2,x\r\n"],
                Some(b'\\'),
            ),
            (&["a\n", "b\r", "c\n", "\"\n\"\n", "\"\"\"\",x\n"], None),
        ];
        for (rows, escape) in cases {
            let text = rows.concat();
            let ends: Vec<usize> = rows
                .iter()
                .scan(0, |end, row| {
                    *end += row.len();
                    Some(*end)
                })
                .collect();
            for cut in 0..=text.len() {
                let mut end = QuotedLines::new(b',', b'"', escape);
                end.feed(&text.as_bytes()[..cut]);
                let expected = ends
                    .iter()
                    .copied()
                    .filter(|e| *e <= cut)
                    .max()
                    .unwrap_or(0);
                // `\r\n` cut between the two: the row ends at `\r` already (the `\n` after
                // it reads as a blank line).
                let got = usize::try_from(end.complete()).unwrap();
                assert!(
                    got == expected
                        || text.as_bytes()[got - 1] == b'\r' && ends.contains(&(got + 1)),
                    "{text:?} cut at {cut}: {got} != {expected}"
                );
            }
            // Fed in pieces, the same.
            let mut end = QuotedLines::new(b',', b'"', escape);
            for chunk in text.as_bytes().chunks(3) {
                end.feed(chunk);
            }
            assert_eq!(end.complete(), text.len() as u64, "{text:?}");
        }
    }

    #[test]
    fn records_are_cut_and_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "a;b;c").unwrap();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .unwrap();
        let repair = Repair::Records {
            end: Box::new(Semicolons::default()),
            keep_torn: true,
        };
        assert!(format!("{repair:?}").contains("record"));
        repair.run(&mut file, &path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a;b;");
        let torn = std::fs::read_to_string(dir.path().join("a.txt.torn")).unwrap();
        assert_eq!(torn, "c\n");
    }
}
