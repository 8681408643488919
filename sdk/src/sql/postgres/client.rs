//! [`Client`]: one blocking PostgreSQL connection, for the threads sinks run on.
//!
//! Each client owns a single-threaded tokio runtime; its connection task runs while a call
//! waits on the runtime, so a client costs one socket and no extra thread.

use bytes::Bytes;
use futures::SinkExt as _;
use tokio::runtime::Runtime;

use super::{ConnectOptions, Error, Result, tls};

/// A blocking connection to PostgreSQL.
///
/// ```no_run
/// use singer_sdk::sql::postgres::{Client, ConnectOptions};
///
/// let client = Client::connect(&ConnectOptions::new("127.0.0.1", 5432, "postgres", "test"))?;
/// let rows = client.query_text("SELECT $1::text || '!'", &["hi"])?;
/// assert_eq!(rows, [[Some("hi!".to_owned())]]);
/// # Ok::<(), singer_sdk::sql::postgres::Error>(())
/// ```
pub struct Client {
    runtime: Runtime,
    client: tokio_postgres::Client,
    endpoint: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects (with TLS as `options.ssl_mode` says).
    ///
    /// # Errors
    /// [`Error::Connect`] naming `host:port`, database and user (never the password), with
    /// the driver's reason (refused, timed out, authentication failed, ...) as its source;
    /// [`Error::Settings`] for a TLS set-up that cannot be used.
    pub fn connect(options: &ConnectOptions) -> Result<Client> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::database("cannot start the connection's runtime", e))?;
        let client = runtime.block_on(connect_async(options))?;
        Ok(Client {
            runtime,
            client,
            endpoint: options.endpoint(),
        })
    }

    /// `host:port` of the server.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Runs one or more statements separated by `;`, without parameters.
    ///
    /// # Errors
    /// [`Error::Database`] with the server's message.
    pub fn batch_execute(&self, sql: &str) -> Result<()> {
        self.runtime
            .block_on(self.client.batch_execute(sql))
            .map_err(|e| statement_error(sql, e))
    }

    /// Runs a statement with text parameters (`$1`, `$2`, ...); returns the rows affected.
    ///
    /// # Errors
    /// [`Error::Database`] with the server's message.
    pub fn execute(&self, sql: &str, params: &[&str]) -> Result<u64> {
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p as _).collect();
        self.runtime
            .block_on(self.client.execute(sql, &params))
            .map_err(|e| statement_error(sql, e))
    }

    /// Runs a query with text parameters whose columns are all `text` (cast them with
    /// `::text`); each row is its values in order, `None` for NULL.
    ///
    /// # Errors
    /// [`Error::Database`] with the server's message, or a column that is not text.
    pub fn query_text(&self, sql: &str, params: &[&str]) -> Result<Vec<Vec<Option<String>>>> {
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p as _).collect();
        let rows = self
            .runtime
            .block_on(self.client.query(sql, &params))
            .map_err(|e| statement_error(sql, e))?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| row.try_get::<_, Option<String>>(i))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| statement_error(sql, e))
            })
            .collect()
    }

    /// Runs `COPY … FROM STDIN` and sends `chunks` as its data; returns the rows copied.
    ///
    /// # Errors
    /// [`Error::Database`] when the server rejects the statement or the data.
    pub fn copy_in<C: Into<Bytes>>(
        &self,
        sql: &str,
        chunks: impl IntoIterator<Item = C>,
    ) -> Result<u64> {
        self.runtime
            .block_on(async {
                let sink = self.client.copy_in::<_, Bytes>(sql).await?;
                futures::pin_mut!(sink);
                for chunk in chunks {
                    sink.feed(chunk.into()).await?;
                }
                sink.as_mut().finish().await
            })
            .map_err(|e| statement_error(sql, e))
    }

    /// Whether the connection is closed (the server went away).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// Connects from async code; the connection runs as a task of the current runtime.
pub(crate) async fn connect_async(options: &ConnectOptions) -> Result<tokio_postgres::Client> {
    let tls = tls::connector(options)?;
    let endpoint = options.endpoint();
    let (client, connection) =
        options
            .driver_config()
            .connect(tls)
            .await
            .map_err(|e| Error::Connect {
                endpoint: endpoint.clone(),
                database: options.database.clone(),
                user: options.user.clone(),
                source: Box::new(e),
            })?;
    let log_endpoint = endpoint.clone();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(endpoint = %log_endpoint, error = %e, "PostgreSQL connection ended.");
        }
    });
    tracing::debug!(endpoint = %endpoint, database = %options.database, "Connected to PostgreSQL.");
    Ok(client)
}

/// `cannot run `<first line of the statement>``, the driver's error as the source.
pub(crate) fn statement_error(sql: &str, e: tokio_postgres::Error) -> Error {
    let first = sql.lines().next().unwrap_or_default();
    let shown: String = first.chars().take(120).collect();
    let more = if shown.len() < sql.trim_end().len() {
        " …"
    } else {
        ""
    };
    Error::database(format!("statement `{shown}{more}` failed"), e)
}
