//! What every sink shares: the destination directory, the file naming rule, and the open
//! files (one handle per file, so streams that share a file never interleave half lines).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use singer_sdk::target::{LoadMethod, TargetOptions};
use singer_sdk::{Error, Result};

use crate::config::{Compression, Config};

/// An output file, shared by every sink that writes to it.
pub(crate) type SharedFile = Arc<Mutex<OutputFile>>;

/// The destination: where files go, how they are named, and the files opened so far.
#[derive(Debug)]
pub(crate) struct Client {
    dir: PathBuf,
    /// `-<YYYYMMDDTHHMMSS>` with `do_timestamp_file`, else empty; fixed for the whole run.
    timestamp: String,
    custom_name: Option<String>,
    compression: Compression,
    overwrite: bool,
    files: Mutex<Files>,
}

#[derive(Debug, Default)]
struct Files {
    /// Files opened (and repaired or truncated) in this run.
    open: HashMap<PathBuf, SharedFile>,
    /// The first stream that mapped to each file, to warn when two streams collide.
    owners: HashMap<PathBuf, String>,
}

impl Client {
    /// Checks the settings and creates the destination directory.
    ///
    /// # Errors
    /// `custom_name` is `.` or `..`, or the destination directory cannot be created.
    pub(crate) fn new(config: Config, options: &TargetOptions) -> Result<Self> {
        let custom_name = config.custom_name.filter(|name| !name.is_empty());
        if let Some(name) = custom_name.as_deref() {
            if name == "." || name == ".." {
                return Err(Error::InvalidConfig {
                    violations: vec![format!(
                        "custom_name: `{name}` is not a file name; give a name such as `export` (the extension is added)"
                    )],
                });
            }
        }
        match options.load_method {
            LoadMethod::Upsert => tracing::warn!(
                "load_method `upsert` does not apply to JSON Lines files (they are logs of records); records are appended."
            ),
            LoadMethod::Overwrite => tracing::info!(
                "load_method `overwrite`: each file is emptied when this run first opens it."
            ),
            LoadMethod::AppendOnly => {}
        }
        let dir = expand_home(&config.destination_path);
        create_destination(&dir, &config.destination_path)?;
        let timestamp = if config.do_timestamp_file {
            chrono::Local::now().format("-%Y%m%dT%H%M%S").to_string()
        } else {
            String::new()
        };
        Ok(Client {
            dir,
            timestamp,
            custom_name,
            compression: config.compression,
            overwrite: options.load_method == LoadMethod::Overwrite,
            files: Mutex::new(Files::default()),
        })
    }

    /// How batches are compressed.
    pub(crate) fn compression(&self) -> Compression {
        self.compression
    }

    /// Whether files are emptied when first opened in this run (`load_method: overwrite`).
    pub(crate) fn overwrite(&self) -> bool {
        self.overwrite
    }

    /// The file of `stream`: `<destination_path>/<name><timestamp><extension>`, where name is
    /// `custom_name` or the stream name made safe by [`safe_file_name`].
    pub(crate) fn path_for(&self, stream: &str) -> PathBuf {
        let name = match &self.custom_name {
            Some(name) => name.clone(),
            None => safe_file_name(stream),
        };
        let path = self.dir.join(format!(
            "{name}{}{}",
            self.timestamp,
            self.compression.extension()
        ));
        let mut files = self
            .files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let owner = files
            .owners
            .entry(path.clone())
            .or_insert_with(|| stream.to_owned());
        if owner != stream && self.custom_name.is_none() {
            tracing::warn!(
                "Streams `{owner}` and `{stream}` both map to file `{}`; their records are written to the same file.",
                path.display()
            );
        }
        path
    }

    /// The open file at `path`, opened (and repaired, or emptied with `overwrite`) the first
    /// time a sink asks for it in this run.
    ///
    /// # Errors
    /// The file cannot be opened, repaired or emptied.
    pub(crate) fn file(&self, path: &Path, stream: &str) -> Result<SharedFile> {
        let mut files = self
            .files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(file) = files.open.get(path) {
            return Ok(Arc::clone(file));
        }
        let file = OutputFile::open(path, self.compression, self.overwrite).map_err(|e| {
            Error::context(
                format!(
                    "cannot open `{}` for stream `{stream}`; check that destination_path is a writable directory and the file name is free",
                    path.display()
                ),
                e,
            )
        })?;
        let file = Arc::new(Mutex::new(file));
        files.open.insert(path.to_owned(), Arc::clone(&file));
        Ok(file)
    }
}

/// A stream name made safe as a file name: letters and digits (of any script), `-`, `_` and
/// `.` are kept, every other character (`/`, `\`, `:`, `?`, `*`, `!`, spaces, control
/// characters, ...) becomes `_`; a leading `.` becomes `_` (no hidden files, no `..`); an
/// empty name becomes `_`.
pub(crate) fn safe_file_name(stream: &str) -> String {
    let mut name: String = stream
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    if name.is_empty() {
        name.push('_');
    }
    name
}

/// `~` and `~/...` resolve against `$HOME`, as the community target's `expanduser` does; an
/// empty path is the current directory.
pub(crate) fn expand_home(path: &str) -> PathBuf {
    if path.is_empty() {
        return PathBuf::from(".");
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    match (path.strip_prefix('~'), home) {
        (Some(""), Some(home)) => PathBuf::from(home),
        (Some(rest), Some(home)) if rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

fn create_destination(dir: &Path, setting: &str) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if dir.exists() {
        return Err(Error::custom(format!(
            "destination_path `{setting}` is a file, not a directory; point destination_path at a directory (it is created if missing)"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::context(
            format!(
                "cannot create the destination directory `{setting}`; point destination_path at a directory you can write to"
            ),
            e,
        )
    })
}

/// One output file, opened for appending.
#[derive(Debug)]
pub(crate) struct OutputFile {
    file: File,
    /// A regular file (which can be repaired and rolled back), not a device or a pipe.
    regular: bool,
}

impl OutputFile {
    /// Opens `path` for appending, creating it if missing. A regular file is first emptied
    /// (`truncate`) or repaired: a torn last line (plain) or a torn last gzip member left by
    /// an interrupted run is cut off, so the file again ends at a complete record.
    ///
    /// # Errors
    /// Opening, reading, or repairing fails, or a gzip file is corrupt before its end.
    pub(crate) fn open(path: &Path, compression: Compression, truncate: bool) -> io::Result<Self> {
        let existing = std::fs::metadata(path).ok();
        let regular = existing.as_ref().is_none_or(std::fs::Metadata::is_file);
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        if regular {
            options.read(true);
        }
        let mut file = options.open(path)?;
        if regular {
            if truncate {
                file.set_len(0)?;
                file.sync_data()?;
            } else {
                match compression {
                    Compression::None => repair_plain(&mut file, path)?,
                    Compression::Gzip => repair_gzip(&mut file, path)?,
                }
            }
            if existing.is_none() {
                sync_parent(path)?;
            }
        }
        Ok(OutputFile { file, regular })
    }

    /// Appends `bytes` and syncs them to disk. On failure, a regular file is cut back to its
    /// length before the write, so no partial line is left behind.
    ///
    /// # Errors
    /// Writing or syncing fails (e.g. the disk is full).
    pub(crate) fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let before = if self.regular {
            Some(self.file.metadata()?.len())
        } else {
            None
        };
        let result = self
            .file
            .write_all(bytes)
            .and_then(|()| self.file.flush())
            .and_then(|()| self.file.sync_data());
        if result.is_err() {
            if let Some(len) = before {
                // Best effort: the write error is what matters.
                let _ = self.file.set_len(len);
            }
        }
        result
    }
}

/// Makes a new file's directory entry durable.
fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

/// Ends a plain file at a complete line: a trailing fragment without newline that is a
/// complete JSON value gets its newline; any other fragment (a torn write) is cut off.
pub(crate) fn repair_plain(file: &mut File, path: &Path) -> io::Result<()> {
    const CHUNK: u64 = 64 * 1024;
    let len = file.metadata()?.len();
    let mut tail_start = 0;
    let mut pos = len;
    let mut buf = vec![0; 64 * 1024];
    while pos > 0 {
        let start = pos.saturating_sub(CHUNK);
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
    if serde_json::from_slice::<serde_json::Value>(&tail).is_ok() {
        tracing::info!(
            "`{}` ended without a newline after its last record; adding it.",
            path.display()
        );
        file.write_all(b"\n")?;
    } else {
        tracing::warn!(
            "`{}` ends with a partial line of {} bytes (a write interrupted in an earlier run, never acknowledged); removing it.",
            path.display(),
            tail.len()
        );
        file.set_len(tail_start)?;
    }
    file.sync_data()
}

/// Ends a gzip file at a complete member: a torn last member (a write interrupted in an
/// earlier run) is cut off. A file that is corrupt before its end is an error, not repaired.
pub(crate) fn repair_gzip(file: &mut File, path: &Path) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = Counting {
        inner: BufReader::with_capacity(256 * 1024, &*file),
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
            Err(e) => {
                if e.kind() == io::ErrorKind::UnexpectedEof || rest_is_zeros(file, start)? {
                    torn_at = Some(start);
                    break;
                }
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "`{}` is not a valid gzip file at byte {start} ({e}); move it away or set a different destination_path",
                        path.display()
                    ),
                ));
            }
        }
    }
    if let Some(start) = torn_at {
        let len = file.metadata()?.len();
        tracing::warn!(
            "`{}` ends with a partial gzip member of {} bytes (a write interrupted in an earlier run, never acknowledged); removing it.",
            path.display(),
            len - start
        );
        file.set_len(start)?;
    }
    if last_byte.is_some_and(|b| b != b'\n') {
        tracing::info!(
            "`{}` ended without a newline after its last record; adding it.",
            path.display()
        );
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"\n")?;
        file.write_all(&encoder.finish()?)?;
    }
    if torn_at.is_some() || last_byte.is_some_and(|b| b != b'\n') {
        file.sync_data()?;
    }
    Ok(())
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
