//! [`RunFiles`]: which stream writes which file in this run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// The files a target writes in this run, by path: the stream that claimed each first, and
/// what the target keeps about each (`T`: an open handle shared by sinks, the header
/// written to a pipe, ...). Shared by every sink of the run.
///
/// ```
/// use singer_sdk::sink::file::{Claim, RunFiles};
///
/// let files: RunFiles<u32> = RunFiles::default();
/// let path = std::path::Path::new("all.csv");
/// assert!(files.with(path, "users", |claim, _| claim == Claim::First));
/// assert!(files.with(path, "users", |claim, _| claim == Claim::Again));
/// files.with(path, "orders", |claim, opens| {
///     assert_eq!(claim, Claim::Taken { owner: "users" });
///     *opens += 1;
/// });
/// ```
#[derive(Debug)]
pub struct RunFiles<T> {
    files: Mutex<HashMap<PathBuf, (String, T)>>,
}

impl<T> Default for RunFiles<T> {
    fn default() -> Self {
        RunFiles {
            files: Mutex::default(),
        }
    }
}

/// What [`RunFiles::with`] tells about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim<'a> {
    /// The stream is the first to claim the file in this run.
    First,
    /// The stream claimed the file before in this run (e.g. before a new SCHEMA).
    Again,
    /// Another stream claimed the file first in this run.
    Taken {
        /// The stream that claimed it first.
        owner: &'a str,
    },
}

impl<T: Default> RunFiles<T> {
    /// Claims `path` for `stream` (unless another stream did first) and calls `f` with the
    /// claim and the file's value (`T::default()` at the first claim), under a lock: sinks of
    /// different streams call it from their own threads.
    pub fn with<R>(&self, path: &Path, stream: &str, f: impl FnOnce(Claim<'_>, &mut T) -> R) -> R {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        let mut first = false;
        let (owner, value) = files.entry(path.to_owned()).or_insert_with(|| {
            first = true;
            (stream.to_owned(), T::default())
        });
        let claim = match () {
            () if first => Claim::First,
            () if owner == stream => Claim::Again,
            () => Claim::Taken { owner },
        };
        f(claim, value)
    }
}
