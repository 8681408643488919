//! PostgreSQL on [`tokio-postgres`](https://docs.rs/tokio-postgres): connections (TLS through
//! rustls), table introspection cached per run, DDL from the [evolution plan](super::plan),
//! and bulk loading through `COPY … FROM STDIN`.
//!
//! Enabled by the `postgres` cargo feature (which turns on `sql`).
//!
//! | module | holds |
//! |---|---|
//! | [`connect`] | [`ConnectOptions`] (host, port, user, password, database, [`SslMode`]) and URL parsing |
//! | [`settings`] | [`ConnectionSettings`], the connection settings of a connector's config |
//! | [`client`] | [`Client`], a blocking connection for sink threads |
//! | [`catalog`] | [`TableInfo`]: a table's columns and primary key, read in one catalog query |
//! | [`ddl`] | `CREATE TABLE` and the `ALTER TABLE` of each [`Change`](super::Change) |
//! | [`copy`] | records as `COPY` text rows |
//! | [`discover`] | taps: every readable table and view as a [`TableStream`], from one catalog query |
//! | [`extract`] | [`TableStream`], a table read through a server-side cursor |
//! | [`loader`] | [`Loader`], what a target's sinks share; [`TableSink`], one stream's table |
//!
//! A target built on it is a few lines: its settings embed [`ConnectionSettings`], which
//! become [`ConnectOptions`]; its
//! `connect` builds a [`Loader`] and its `open_sink` calls [`Loader::open_sink`].
//!
//! ```no_run
//! use singer_sdk::sql::postgres::{ConnectOptions, Loader};
//! use singer_sdk::target::TargetOptions;
//!
//! let options = ConnectOptions::from_url("postgresql://postgres@127.0.0.1:5432/test")?;
//! let loader = Loader::new(options, &TargetOptions::default())?;
//! # let _ = loader;
//! # Ok::<(), singer_sdk::sql::postgres::Error>(())
//! ```

pub mod catalog;
pub mod client;
pub mod connect;
pub mod copy;
pub mod ddl;
pub mod discover;
pub mod extract;
pub mod loader;
mod pool;
pub mod settings;
mod sink;
mod tls;

pub use catalog::TableInfo;
pub use client::Client;
pub use connect::{ConnectOptions, SslMode};
pub use discover::{DiscoverOptions, discover};
pub use extract::{TableColumn, TableStream};
pub use loader::Loader;
pub use settings::ConnectionSettings;
pub use sink::TableSink;

/// What a target on [`TableSink`] sets as [`Target::BATCH_BYTES`](crate::target::Target::BATCH_BYTES):
/// every batch is a transaction whose commit waits for the server's disk, so batches of 1 MiB
/// of input (four times the default) commit a quarter as often.
pub const BATCH_BYTES: usize = 1024 * 1024;

/// What a target on [`TableSink`] sets as [`Target::SINK_CORES`](crate::target::Target::SINK_CORES):
/// encoding COPY rows and the server's work on them keep about one core busy. On 2 cores
/// with the server on the same machine, parsing on one thread loaded 1M records about 10 %
/// faster than on two, in half the memory.
pub const SINK_CORES: usize = 1;

/// What can go wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server cannot be reached or refuses the connection.
    #[error("{}", connect_message(endpoint, database, user))]
    Connect {
        /// `host:port`.
        endpoint: String,
        /// The database.
        database: String,
        /// The user.
        user: String,
        /// Why (the driver's error; it never holds the password).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Connection settings that cannot be used.
    #[error("{0}")]
    Settings(String),
    /// A statement failed.
    #[error("{doing}")]
    Database {
        /// What was being done, e.g. ``cannot create table `raw.users` ``.
        doing: String,
        /// The server's or driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A table cannot be brought up to a stream's schema, or a name cannot be conformed.
    #[error(transparent)]
    Sql(#[from] super::Error),
}

impl Error {
    /// Wraps a driver error with what was being done.
    pub(crate) fn database(
        doing: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Database {
            doing: doing.into(),
            source: source.into(),
        }
    }

    /// Whether the server refused a row because its key is already in the table
    /// (`unique_violation`).
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            Error::Database { source, .. } => source
                .downcast_ref::<tokio_postgres::Error>()
                .and_then(tokio_postgres::Error::code)
                .is_some_and(|code| *code == tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }

    /// Adds what was being done in front of a failed statement's description.
    #[must_use]
    pub(crate) fn doing(self, what: &str) -> Self {
        match self {
            Error::Database { doing, source } => Error::Database {
                doing: format!("{what}: {doing}"),
                source,
            },
            other => other,
        }
    }
}

impl From<Error> for crate::Error {
    /// Connection settings errors are invalid config (exit code 2); the rest carry their
    /// cause.
    ///
    /// ```
    /// use singer_sdk::sql::postgres::Error;
    ///
    /// let err: singer_sdk::Error = Error::Settings("`port`: 0 is not a port".into()).into();
    /// assert_eq!(err.exit_code(), 2);
    /// ```
    fn from(err: Error) -> Self {
        match err {
            Error::Settings(message) => crate::Error::InvalidConfig {
                violations: vec![message],
            },
            Error::Sql(sql) => sql.into(),
            Error::Database { doing, source } => crate::Error::context(doing, source),
            Error::Connect {
                endpoint,
                database,
                user,
                source,
            } => crate::Error::context(connect_message(&endpoint, &database, &user), source),
        }
    }
}

fn connect_message(endpoint: &str, database: &str, user: &str) -> String {
    format!(
        "cannot connect to PostgreSQL at {endpoint} (database `{database}`, user `{user}`); check that the server runs and accepts connections there, and the `host`, `port`, `user`, `password`, `database` and `ssl_*` settings"
    )
}

/// The result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
