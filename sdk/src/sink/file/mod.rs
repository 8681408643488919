//! Building blocks for targets that write files: durable appends, repair of a tail torn by
//! a crash, file naming templates, atomic rewrites and directory syncs.
//!
//! | item | what it does |
//! |---|---|
//! | [`AppendFile`] | a file opened for appending: repaired (or emptied) on open, `append` = write, flush, fsync, rolled back on failure |
//! | [`Repair`], [`RecordEnd`] | how a tail torn by an interrupted run is found and removed |
//! | [`FileNaming`], [`NameRule`], [`safe_file_name`] | `{stream}` templates, parsed once per run; stream names made safe as file names |
//! | [`Replacement`] | a new version of a file, written aside and renamed over it |
//! | [`sync_parent`], [`gzip_member`] | make a new directory entry durable; compress one append |
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
mod naming;
mod repair;
mod rewrite;

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

pub use append::{AppendFile, AppendOptions};
pub use naming::{FileNaming, NameRule, NamingError, safe_file_name};
pub use repair::{RecordEnd, Repair};
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
