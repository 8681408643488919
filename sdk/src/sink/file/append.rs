//! [`AppendFile`]: a file that only grows, by durable appends.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::repair::Repair;
use super::{create_dirs, sync_parent};

/// A file opened for appending, created if missing. On open, a regular file is emptied
/// ([`AppendOptions::truncate`]) or repaired ([`AppendOptions::repair`]); each
/// [`append`](AppendFile::append) is written, flushed and synced before it returns, and cut
/// back off if any of that fails, so the file never keeps half a batch.
///
/// Devices and pipes (a symlink to `/dev/full`, a FIFO) can be appended to too: they are
/// neither read, repaired, emptied nor rolled back.
///
/// ```
/// use singer_sdk::sink::file::AppendFile;
///
/// # fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.jsonl");
/// let mut file = AppendFile::open(&path)?;
/// file.append(b"{\"id\":1}\n")?;
/// assert_eq!(file.len(), 9);
/// drop(file);
/// let file = AppendFile::options().truncate(true).open(&path)?;
/// assert!(file.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AppendFile {
    file: File,
    path: PathBuf,
    /// Length after the last durable append (regular files).
    len: u64,
    regular: bool,
    created: bool,
}

/// How [`AppendFile`] opens a file: see [`AppendFile::options`].
#[derive(Debug, Default)]
pub struct AppendOptions {
    truncate: bool,
    repair: Repair,
    create_dirs: bool,
}

impl AppendOptions {
    /// Empty a regular file when opening it (no repair is needed then). Default: `false`.
    #[must_use]
    pub fn truncate(mut self, truncate: bool) -> Self {
        self.truncate = truncate;
        self
    }

    /// How a regular file that is kept is repaired on open. Default: [`Repair::None`].
    #[must_use]
    pub fn repair(mut self, repair: Repair) -> Self {
        self.repair = repair;
        self
    }

    /// Create the file's missing parent directories (see [`create_dirs`]). Default: `false`.
    #[must_use]
    pub fn create_dirs(mut self, create: bool) -> Self {
        self.create_dirs = create;
        self
    }

    /// Opens `path` for appending, creating it (and syncing its directory) if missing.
    ///
    /// # Errors
    /// `path` is a directory, or the file cannot be opened, emptied, read or repaired;
    /// [`Repair::GzipLines`] finds a file that is not gzip before its end.
    pub fn open(self, path: impl AsRef<Path>) -> io::Result<AppendFile> {
        let path = path.as_ref();
        let existing = std::fs::metadata(path).ok();
        if existing.as_ref().is_some_and(std::fs::Metadata::is_dir) {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!(
                    "`{}` is a directory, not a file; move it away or write to another file",
                    path.display()
                ),
            ));
        }
        if let Some(parent) = path.parent().filter(|_| self.create_dirs) {
            create_dirs(parent)?;
        }
        let regular = existing.as_ref().is_none_or(std::fs::Metadata::is_file);
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .read(regular)
            .open(path)?;
        let len = if regular { file.metadata()?.len() } else { 0 };
        let mut file = AppendFile {
            file,
            path: path.to_owned(),
            len,
            regular,
            created: existing.is_none(),
        };
        if file.created {
            sync_parent(path)?;
        } else if self.truncate {
            file.truncate()?;
        } else {
            file.repair(self.repair)?;
        }
        Ok(file)
    }
}

impl AppendFile {
    /// Opens `path` for appending as it is: created if missing, neither emptied nor repaired.
    ///
    /// # Errors
    /// As [`AppendOptions::open`].
    pub fn open(path: impl AsRef<Path>) -> io::Result<AppendFile> {
        AppendOptions::default().open(path)
    }

    /// Options to empty or repair the file on open.
    #[must_use]
    pub fn options() -> AppendOptions {
        AppendOptions::default()
    }

    /// Appends `bytes` durably: written, flushed and synced to disk when this returns `Ok`.
    /// On failure a regular file is cut back to its length before the call, so it still ends
    /// at the last complete append.
    ///
    /// # Errors
    /// Writing or syncing fails (a full disk, a file size limit, an I/O error).
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let result = self
            .file
            .write_all(bytes)
            .and_then(|()| self.file.flush())
            .and_then(|()| match self.file.sync_data() {
                // Devices and pipes cannot be synced; what they take is gone.
                Err(e) if !self.regular && e.kind() == io::ErrorKind::InvalidInput => Ok(()),
                other => other,
            });
        match &result {
            Ok(()) if self.regular => self.len += bytes.len() as u64,
            Err(error) if self.regular => {
                if let Err(e) = self
                    .file
                    .set_len(self.len)
                    .and_then(|()| self.file.sync_data())
                {
                    tracing::warn!(
                        file = %self.path.display(),
                        error = %e,
                        write_error = %error,
                        "Cannot remove a partly written append; the next run repairs the file."
                    );
                }
            }
            _ => {}
        }
        result
    }

    /// Empties a regular file, durably.
    ///
    /// # Errors
    /// Truncating or syncing fails.
    pub fn truncate(&mut self) -> io::Result<()> {
        if self.regular {
            self.file.set_len(0)?;
            self.file.sync_data()?;
            self.len = 0;
        }
        Ok(())
    }

    /// Repairs a regular file with `repair`, as [`AppendOptions::repair`] does on open.
    ///
    /// # Errors
    /// Reading or repairing fails.
    pub fn repair(&mut self, repair: Repair) -> io::Result<()> {
        if self.regular {
            repair.run(&mut self.file, &self.path)?;
            self.len = self.file.metadata()?.len();
        }
        Ok(())
    }

    /// Whether this open created the file.
    #[must_use]
    pub fn created(&self) -> bool {
        self.created
    }

    /// The length of the file after the last durable append (0 for devices and pipes).
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether [`len`](AppendFile::len) is 0.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the file is a regular file (not a device or a pipe).
    #[must_use]
    pub fn is_regular(&self) -> bool {
        self.regular
    }

    /// The path it was opened at.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub.jsonl");
        std::fs::write(&path, "{\"id\":1}\n{\"id\":2,").unwrap();
        let mut file = AppendFile::options()
            .repair(Repair::JsonLines)
            .open(&path)
            .unwrap();
        assert_eq!(file.len(), 9);
        file.append(b"{\"id\":3}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"id\":1}\n{\"id\":3}\n"
        );
        drop(file);
        let mut file = AppendFile::options().truncate(true).open(&path).unwrap();
        file.append(b"x\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x\n");
        assert!(file.is_regular() && file.path() == path);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_device_fails_and_is_not_rolled_back() {
        let mut file = AppendFile::options()
            .truncate(true)
            .open("/dev/full")
            .unwrap();
        assert!(!file.is_regular());
        let error = file.append(b"x\n").unwrap_err();
        assert_eq!(error.raw_os_error(), Some(28), "{error}");
        let mut null = AppendFile::open("/dev/null").unwrap();
        null.append(b"gone\n").unwrap();
        assert_eq!(null.len(), 0);
    }

    #[test]
    fn a_directory_cannot_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        let error = AppendFile::open(dir.path()).unwrap_err();
        assert!(error.to_string().contains("is a directory"), "{error}");
    }

    #[test]
    fn parents_are_created_and_new_files_known() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.csv");
        let file = AppendFile::options().create_dirs(true).open(&path).unwrap();
        assert!(file.created() && path.is_file());
        drop(file);
        let mut file = AppendFile::open(&path).unwrap();
        assert!(!file.created());
        file.append(b"a;b;c").unwrap();
        file.repair(Repair::Lines).unwrap();
        assert!(file.is_empty());
    }
}
