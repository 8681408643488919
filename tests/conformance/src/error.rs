//! The crate's error type: what can go wrong in the harness itself (not in the connector under
//! test, whose faults are check failures, see [`Outcome`](crate::check::Outcome)).

use std::path::PathBuf;

/// A harness error: bad input to the harness, or a process the harness could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file given to the harness could not be read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file given to the harness is not the JSON it should be.
    #[error("`{path}` is not valid JSON; fix the file or pass another one")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The connector (or a verify command) could not be started.
    #[error("cannot start `{program}`; check that it exists and is executable")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another I/O failure in the harness (temporary files, pipes).
    #[error("{context}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The connector's command line is empty.
    #[error("no connector command given; pass it after `--`")]
    NoCommand,
}

impl Error {
    /// An [`Error::Io`] with context.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Reads a JSON file.
///
/// # Errors
/// [`Error::Read`] or [`Error::Json`].
pub fn read_json(path: &std::path::Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| Error::Json {
        path: path.to_owned(),
        source,
    })
}
