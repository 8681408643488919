//! [`Replacement`]: a new version of a file, written aside and renamed over it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::sync_parent;

/// A new version of the file at `path`, written to a hidden file next to it
/// (`.<name>.rewrite`) and renamed over it by [`commit`](Replacement::commit), so that a crash
/// leaves either the old file or the new one. Dropped without `commit`, the hidden file is
/// removed and the old file stays.
///
/// ```
/// use std::io::Write;
/// use singer_sdk::sink::file::Replacement;
///
/// # fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("users.csv");
/// std::fs::write(&path, "id\r\n1\r\n")?;
/// let mut new = Replacement::create(&path)?;
/// new.write_all(b"id,name\r\n1,\r\n")?;
/// new.commit()?;
/// assert_eq!(std::fs::read_to_string(&path)?, "id,name\r\n1,\r\n");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Replacement {
    out: Option<BufWriter<File>>,
    temp: PathBuf,
    path: PathBuf,
}

impl Replacement {
    /// Starts the new version of `path`. Rewrite the file a symlink points to (see
    /// [`std::fs::canonicalize`]) to keep the symlink.
    ///
    /// # Errors
    /// The hidden file cannot be created.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Replacement> {
        let path = path.as_ref().to_owned();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = path.with_file_name(format!(".{name}.rewrite"));
        let out = BufWriter::with_capacity(256 * 1024, File::create(&temp)?);
        Ok(Replacement {
            out: Some(out),
            temp,
            path,
        })
    }

    /// Where the new version is written until it is committed.
    #[must_use]
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Syncs the new version and renames it over the old one, durably.
    ///
    /// # Errors
    /// Flushing, syncing or renaming fails; the old file is then left as it was.
    pub fn commit(mut self) -> io::Result<()> {
        let result = self.finish();
        if result.is_err() {
            // Best effort: the old file is intact.
            let _ = std::fs::remove_file(&self.temp);
        }
        result
    }

    fn finish(&mut self) -> io::Result<()> {
        let out = self
            .out
            .take()
            .ok_or_else(|| io::Error::other("the replacement is already committed"))?;
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        std::fs::rename(&self.temp, &self.path)?;
        sync_parent(&self.path)
    }

    fn out(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.out
            .as_mut()
            .ok_or_else(|| io::Error::other("the replacement is already committed"))
    }
}

impl Write for Replacement {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out()?.flush()
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            // Best effort: the old file is intact either way.
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_without_commit_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "old").unwrap();
        let mut new = Replacement::create(&path).unwrap();
        new.write_all(b"new").unwrap();
        let temp = new.temp_path().to_owned();
        assert!(temp.exists());
        drop(new);
        assert!(!temp.exists());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    }
}
