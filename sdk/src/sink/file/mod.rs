//! Building blocks for targets that write files: durable appends, repair of a tail torn by
//! a crash, file naming templates, atomic rewrites and directory syncs.
//!
//! | item | what it does |
//! |---|---|
//! | [`AppendFile`] | a file opened for appending: repaired (or emptied) on open, `append` = write, flush, fsync, rolled back on failure |
//! | [`Repair`], [`RecordEnd`], [`QuotedLines`] | how a tail torn by an interrupted run is found and removed |
//! | [`RunFiles`], [`Claim`] | which stream writes which file in this run |
//! | [`FileNaming`], [`NameRule`], [`safe_file_name`] | `{stream}` templates, parsed once per run; stream names made safe as file names |
//! | [`Replacement`] | a new version of a file, written aside and renamed over it |
//! | [`create_dirs`], [`sync_parent`], [`expand_home`] | create an output directory; make a new directory entry durable; `~` paths |
//! | [`gzip_member`] | compress one append |
//!
//! A sink acknowledges nothing until its batch is durable, so a run killed at any point
//! leaves files that end at a complete record once the next run has opened them:
//!
//! ```
//! use singer_sdk::sink::file::{AppendFile, FileNaming, NameRule, Repair};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let naming = FileNaming::parse("{stream}.jsonl", NameRule::Portable, &[])?;
//! let path = naming.path(dir.path(), "public/users");
//! assert!(path.ends_with("public_users.jsonl"));
//!
//! std::fs::write(&path, "{\"id\":1}\n{\"id\":2,\"na")?; // torn by a crash
//! let mut file = AppendFile::options().repair(Repair::JsonLines).open(&path)?;
//! file.append(b"{\"id\":2}\n")?; // durable when this returns
//! assert_eq!(std::fs::read_to_string(&path)?, "{\"id\":1}\n{\"id\":2}\n");
//! # Ok(())
//! # }
//! ```

mod append;
mod claim;
mod naming;
mod repair;
mod rewrite;

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use append::{AppendFile, AppendOptions};
pub use claim::{Claim, RunFiles};
pub use naming::{FileNaming, NameRule, NamingError, safe_file_name};
pub use repair::{QuotedLines, RecordEnd, Repair};
pub use rewrite::Replacement;

/// Syncs the directory holding `path`, so that a new or renamed entry survives a crash. File
/// systems that cannot sync directories are taken at their word.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("new.csv");
/// std::fs::write(&path, "id\r\n")?;
/// singer_sdk::sink::file::sync_parent(&path)?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// The directory cannot be opened or synced.
pub fn sync_parent(path: &Path) -> io::Result<()> {
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

/// Creates the directory `dir` and its missing parents, durably (each new entry is synced);
/// nothing to do for an existing directory or an empty path (the current directory).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// singer_sdk::sink::file::create_dirs(&dir.path().join("a/b"))?;
/// assert!(dir.path().join("a/b").is_dir());
/// std::fs::write(dir.path().join("f"), "")?;
/// let error = singer_sdk::sink::file::create_dirs(&dir.path().join("f")).unwrap_err();
/// assert!(error.to_string().contains("is a file, not a directory"));
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// `dir` (or a parent) is a file, or a directory cannot be created or synced.
pub fn create_dirs(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if dir.exists() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("`{}` is a file, not a directory", dir.display()),
        ));
    }
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .collect();
    std::fs::create_dir_all(dir)?;
    missing.into_iter().try_for_each(sync_parent)
}

/// A path setting as Python's `os.path.expanduser` reads it: `~` and `~/...` are under
/// `$HOME` (when set); an empty path is the current directory, `.`.
///
/// ```
/// use std::path::Path;
/// use singer_sdk::sink::file::expand_home;
///
/// assert_eq!(expand_home(""), Path::new("."));
/// assert_eq!(expand_home("out/~"), Path::new("out/~"));
/// assert_eq!(expand_home("~user/out"), Path::new("~user/out"));
/// if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
///     assert_eq!(expand_home("~/out"), Path::new(&home).join("out"));
/// }
/// ```
#[must_use]
pub fn expand_home(path: &str) -> PathBuf {
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

/// `data` as one gzip member. Members concatenate: a file of members, one per
/// [`AppendFile::append`], reads back as one gzip stream, and [`Repair::GzipLines`] can cut
/// off a torn last member.
///
/// ```
/// let member = singer_sdk::sink::file::gzip_member(b"{\"id\":1}\n").unwrap();
/// assert_eq!(&member[..2], &[0x1f, 0x8b]);
/// ```
///
/// # Errors
/// Compression fails (it does not, in memory; the signature keeps `io` errors honest).
pub fn gzip_member(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 32),
        flate2::Compression::default(),
    );
    encoder.write_all(data)?;
    encoder.finish()
}
