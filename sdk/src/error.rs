//! The one error type of `singer-sdk`, with kinds that map to exit codes.

use std::path::PathBuf;

/// A `Result` whose error defaults to [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a connector built on `singer-sdk`.
///
/// `Display` describes this layer only, in lowercase; the cause (if any) is in
/// [`std::error::Error::source`], and the CLI prints the whole chain, one line per cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A config file could not be read.
    #[error("cannot read config file `{path}`{hint}")]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// Extra advice (e.g. a `.template` file next to it).
        hint: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A JSON input file (config, catalog, state) is not valid JSON or has the wrong shape.
    #[error("{what} `{path}` is not valid: {detail}; {fix}")]
    InvalidFile {
        /// Which kind of file: "config file", "catalog", "state file".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column or JSON path.
        detail: String,
        /// What to do about it.
        fix: &'static str,
    },
    /// A file given on the command line could not be read.
    #[error("cannot read {what} `{path}`")]
    Read {
        /// Which kind of file.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config violates the settings schema; every violation is listed.
    #[error("config is not valid:\n{}\nfix the config (see `--about` for every setting)", .violations.iter().map(|v| format!("  - {v}")).collect::<Vec<_>>().join("\n"))]
    InvalidConfig {
        /// One line per violation, each naming the setting.
        violations: Vec<String>,
    },
    /// The catalog does not fit this connector.
    #[error("catalog: {0}")]
    Catalog(String),
    /// The state does not fit this connector.
    #[error("state: {0}")]
    State(String),
    /// A stream definition is wrong (a connector-author mistake).
    #[error("stream `{stream}`: {message}")]
    StreamDefinition {
        /// The stream.
        stream: String,
        /// What is wrong.
        message: String,
    },
    /// A sorted stream produced a replication key value lower than an earlier one.
    #[error(
        "stream `{stream}` is declared sorted but replication key `{key}` went backwards: {previous} was followed by {current}; fix the source order or declare the stream unsorted"
    )]
    UnsortedStream {
        /// The stream.
        stream: String,
        /// The replication key.
        key: String,
        /// The earlier, higher value.
        previous: String,
        /// The later, lower value.
        current: String,
    },
    /// A stream failed while producing records.
    #[error("stream `{stream}` failed")]
    Stream {
        /// The stream.
        stream: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// A line of Singer input is malformed.
    #[error("line {line}: {message}{}", excerpt_suffix(.excerpt))]
    Message {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
        /// The start of the offending line.
        excerpt: String,
    },
    /// Reading or writing failed.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Serialising or parsing JSON failed.
    #[error("{context}")]
    Json {
        /// What was being done.
        context: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The current partition cannot be synced and is skipped: an HTTP error rule said so
    /// ([`rest::Action::SkipPartition`](crate::rest::Action::SkipPartition), feature `rest`),
    /// or connector code returned [`Error::skip_partition`]. The tap does not fail: it logs a
    /// warning naming the stream, the partition and the reason, keeps the records the
    /// partition emitted (its bookmark goes no further than they do), and goes on with the
    /// other partitions.
    #[error("the partition is skipped: {reason}")]
    SkipPartition {
        /// Why, for the warning.
        reason: String,
    },
    /// An error raised by connector code.
    #[error("{message}")]
    Custom {
        /// What happened.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// An error with a message, for connector code.
    ///
    /// ```
    /// let err = singer_sdk::Error::custom("the API returned no data");
    /// assert_eq!(err.to_string(), "the API returned no data");
    /// ```
    pub fn custom(message: impl Into<String>) -> Self {
        Error::Custom {
            message: message.into(),
            source: None,
        }
    }

    /// Skips the partition being synced (the sync goes on with the others); see
    /// [`Error::SkipPartition`].
    ///
    /// ```
    /// let err = singer_sdk::Error::skip_partition("the project is archived");
    /// assert!(err.is_skip_partition());
    /// assert_eq!(err.to_string(), "the partition is skipped: the project is archived");
    /// ```
    pub fn skip_partition(reason: impl Into<String>) -> Self {
        Error::SkipPartition {
            reason: reason.into(),
        }
    }

    /// Whether this error skips the partition instead of failing the sync.
    #[must_use]
    pub fn is_skip_partition(&self) -> bool {
        matches!(self, Error::SkipPartition { .. })
    }

    /// Wraps another error with a message describing what was being done.
    ///
    /// ```
    /// let io = std::io::Error::other("disk on fire");
    /// let err = singer_sdk::Error::context("cannot open `a.csv`", io);
    /// assert_eq!(err.to_string(), "cannot open `a.csv`");
    /// ```
    pub fn context(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Custom {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The process exit code for this error: 2 for bad usage or settings, 1 otherwise.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::ConfigRead { .. } | Error::InvalidConfig { .. } => 2,
            Error::InvalidFile { what, .. } if *what == "config file" => 2,
            _ => 1,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io {
            context: "i/o error".to_owned(),
            source,
        }
    }
}

#[cfg(feature = "rest")]
impl From<crate::rest::Error> for Error {
    fn from(error: crate::rest::Error) -> Self {
        // An error rule's "skip the partition" skips it; the tap runtime goes on.
        if error.is_skip_partition() {
            return Error::SkipPartition {
                reason: error.to_string(),
            };
        }
        // The HTTP error's message is whole (URL redacted, what to fix); keep it as is.
        Error::Custom {
            message: error.to_string(),
            source: None,
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(source: serde_json::Error) -> Self {
        Error::Json {
            context: "JSON error".to_owned(),
            source,
        }
    }
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

/// Renders an error and its causes, one line each (`error: …` then `caused by: …`).
#[must_use]
pub fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(&format!("\ncaused by: {cause}"));
        source = cause.source();
    }
    out
}
