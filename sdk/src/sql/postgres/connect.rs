//! Where and how to connect: [`ConnectOptions`], from settings or a connection URL
//! (`postgresql://user:password@host:port/database?sslmode=require`, with SQLAlchemy's
//! `postgresql+psycopg2://` spelling accepted too).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use super::{Error, Result};

/// The default PostgreSQL port.
pub const DEFAULT_PORT: u16 = 5432;

/// How the connection is encrypted, with libpq's `sslmode` names and meanings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Never encrypt.
    Disable,
    /// Encrypt if the server insists (treated as `prefer`).
    Allow,
    /// Encrypt when the server offers it, without checking its certificate.
    #[default]
    Prefer,
    /// Always encrypt, without checking the server's certificate.
    Require,
    /// Always encrypt, and check that a trusted authority signed the server's certificate.
    VerifyCa,
    /// As `verify-ca`, and check that the certificate names the host.
    VerifyFull,
}

impl SslMode {
    /// The setting's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [
            SslMode::Disable,
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ]
        .into_iter()
        .find(|m| m.as_str() == s.trim())
        .ok_or_else(|| {
            Error::Settings(format!(
                "`ssl_mode`: unknown mode `{s}`; expected one of disable, allow, prefer, require, verify-ca, verify-full"
            ))
        })
    }
}

/// A password, never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Where and how to connect to a PostgreSQL server.
///
/// ```
/// use singer_sdk::sql::postgres::{ConnectOptions, SslMode};
///
/// let options = ConnectOptions::from_url("postgresql+psycopg2://loader:s%40cret@db:6543/warehouse?sslmode=require")?;
/// assert_eq!(options.endpoint(), "db:6543");
/// assert_eq!((options.user.as_str(), options.database.as_str()), ("loader", "warehouse"));
/// assert_eq!(options.ssl_mode, SslMode::Require);
/// assert!(!format!("{options:?}").contains("s@cret"));
/// # Ok::<(), singer_sdk::sql::postgres::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Host name or IP address (or a directory holding the server's Unix socket).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub user: String,
    password: Option<Password>,
    /// Database name.
    pub database: String,
    /// Encryption.
    pub ssl_mode: SslMode,
    /// A certificate authority to trust (PEM text, or the path of a PEM file) instead of the
    /// bundled web roots, for `verify-ca` and `verify-full`.
    pub ssl_root_certificate: Option<String>,
    /// How long to wait for the server to answer.
    pub connect_timeout: Duration,
    /// The `application_name` the server shows for the connection.
    pub application_name: String,
}

impl ConnectOptions {
    /// `user@host:port/database`, without password, preferring (not requiring) TLS.
    #[must_use]
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        database: impl Into<String>,
    ) -> Self {
        ConnectOptions {
            host: host.into(),
            port,
            user: user.into(),
            password: None,
            database: database.into(),
            ssl_mode: SslMode::default(),
            ssl_root_certificate: None,
            connect_timeout: Duration::from_secs(10),
            application_name: "singer-sdk".to_owned(),
        }
    }

    /// Sets the password.
    #[must_use]
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Password(password.into()));
        self
    }

    /// Whether a password is set.
    #[must_use]
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// Parses a connection URL: `postgres://`, `postgresql://` or SQLAlchemy's
    /// `postgresql+<driver>://`, with percent-encoded user and password, and the query
    /// parameters `sslmode`, `sslrootcert`, `connect_timeout` and `application_name`.
    /// Missing parts default to `localhost`, port 5432, user `postgres`, database `postgres`.
    ///
    /// # Errors
    /// [`Error::Settings`] for a URL that does not parse or has another scheme; the message
    /// never holds the password.
    pub fn from_url(text: &str) -> Result<Self> {
        let invalid = |why: &str| Error::Settings(format!("`sqlalchemy_url`: {why}"));
        let url = url::Url::parse(text).map_err(|e| {
            invalid(&format!(
                "not a URL ({e}); expected postgresql://user:password@host:port/database"
            ))
        })?;
        let scheme = url.scheme();
        if !(scheme == "postgres" || scheme == "postgresql" || scheme.starts_with("postgresql+")) {
            return Err(invalid(&format!(
                "scheme `{scheme}` is not PostgreSQL's; expected postgresql://user:password@host:port/database"
            )));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost");
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let user = match url.username() {
            "" => "postgres".to_owned(),
            user => percent_decode(user),
        };
        let database = match url.path().trim_start_matches('/') {
            "" => "postgres".to_owned(),
            db => percent_decode(db),
        };
        let mut options =
            ConnectOptions::new(host, url.port().unwrap_or(DEFAULT_PORT), user, database);
        if let Some(password) = url.password() {
            options = options.password(percent_decode(password));
        }
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "sslmode" => options.ssl_mode = value.parse()?,
                "sslrootcert" => options.ssl_root_certificate = Some(value.into_owned()),
                "application_name" => options.application_name = value.into_owned(),
                "connect_timeout" => {
                    let seconds: u64 = value.parse().map_err(|_| {
                        invalid(&format!(
                            "`connect_timeout={value}` is not a number of seconds"
                        ))
                    })?;
                    options.connect_timeout = Duration::from_secs(seconds.max(1));
                }
                _ => tracing::debug!(parameter = %key, "Ignoring a connection URL parameter."),
            }
        }
        Ok(options)
    }

    /// `host:port`, for messages.
    #[must_use]
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The driver's configuration.
    pub(crate) fn driver_config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.database)
            .application_name(&self.application_name)
            .connect_timeout(self.connect_timeout)
            .ssl_mode(match self.ssl_mode {
                SslMode::Disable => tokio_postgres::config::SslMode::Disable,
                SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
                SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                    tokio_postgres::config::SslMode::Require
                }
            });
        if let Some(Password(password)) = &self.password {
            config.password(password);
        }
        config
    }
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults() {
        let o = ConnectOptions::from_url("postgres://db.example").unwrap();
        assert_eq!(o.endpoint(), "db.example:5432");
        assert_eq!(
            (o.user.as_str(), o.database.as_str()),
            ("postgres", "postgres")
        );
        assert!(!o.has_password());
        let o = ConnectOptions::from_url("postgresql://u:p%2Fw@[::1]:5433/d%20b?connect_timeout=3")
            .unwrap();
        assert_eq!(o.endpoint(), "[::1]:5433");
        assert_eq!(o.database, "d b");
        assert_eq!(o.password, Some(Password("p/w".into())));
        assert_eq!(o.connect_timeout, Duration::from_secs(3));
    }

    #[test]
    fn bad_urls_never_show_the_password() {
        let err = ConnectOptions::from_url("mysql://u:hunter2@h/d").unwrap_err();
        assert!(err.to_string().contains("scheme `mysql`"), "{err}");
        assert!(!err.to_string().contains("hunter2"));
        let err =
            ConnectOptions::from_url("postgresql://u:hunter2@h/d?sslmode=sometimes").unwrap_err();
        assert!(err.to_string().contains("verify-full"), "{err}");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%40b%zz%4"), "a@b%zz%4");
    }
}
