//! [`ConnectionSettings`]: the connection settings PostgreSQL taps and targets share, as
//! MeltanoLabs tap-postgres and target-postgres spell them, and how they become
//! [`ConnectOptions`].

use serde::Deserialize;

use super::connect::DEFAULT_PORT;
use super::{ConnectOptions, Error, Result, SslMode};

/// `host`, `port`, `user`, `password`, `database`, `sqlalchemy_url` and the `ssl_*`
/// settings. A connector embeds them in its own settings with `#[serde(flatten)]`, so they
/// appear at the top level of its config and of its `--about`.
///
/// ```
/// use singer_sdk::sql::postgres::settings::ConnectionSettings;
///
/// let settings: ConnectionSettings = serde_json::from_value(serde_json::json!({
///     "host": "db", "user": "loader", "password": "s3cret", "database": "warehouse", "ssl_enable": true,
/// }))?;
/// let options = settings.connect_options("target-postgres")?;
/// assert_eq!(options.endpoint(), "db:5432");
/// assert_eq!(options.ssl_mode.as_str(), "verify-full");
/// assert_eq!(options.application_name, "target-postgres");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, Deserialize, crate::Settings)]
#[non_exhaustive]
pub struct ConnectionSettings {
    /// Host name or IP address of the PostgreSQL server (required unless `sqlalchemy_url` is set).
    #[serde(default)]
    #[setting(title = "Host")]
    #[schema(min_length = 1)]
    pub host: Option<String>,
    /// TCP port of the server (default 5432).
    #[serde(default)]
    #[setting(title = "Port", default = 5432)]
    #[schema(minimum = 1, maximum = 65535)]
    pub port: Option<u16>,
    /// User name to connect as (required unless `sqlalchemy_url` is set).
    #[serde(default)]
    #[setting(title = "User")]
    #[schema(min_length = 1)]
    pub user: Option<String>,
    /// Password of the user (none for trust or peer authentication).
    #[serde(default)]
    #[setting(secret, title = "Password")]
    pub password: Option<String>,
    /// Database to connect to (required unless `sqlalchemy_url` is set).
    #[serde(default)]
    #[setting(title = "Database")]
    #[schema(min_length = 1)]
    pub database: Option<String>,
    /// Connection URL instead of the settings above, e.g. `postgresql://user:password@host:5432/database?sslmode=require` (SQLAlchemy's `postgresql+psycopg2://` works too).
    #[serde(default)]
    #[setting(secret, title = "SQLAlchemy URL")]
    #[schema(min_length = 1)]
    pub sqlalchemy_url: Option<String>,
    /// Encrypt the connection, checking the server's certificate as `ssl_mode` says (`verify-full` unless set).
    #[serde(default)]
    #[setting(title = "SSL Enable", default = false)]
    pub ssl_enable: Option<bool>,
    /// libpq's sslmode: disable, allow, prefer (the default without `ssl_enable`), require, verify-ca or verify-full (the default with it).
    #[serde(default)]
    #[setting(title = "SSL Mode")]
    pub ssl_mode: Option<String>,
    /// Certificate authority to trust for verify-ca and verify-full: the PEM text itself, or the path of a PEM file (default: the usual public web roots).
    #[serde(default)]
    #[setting(title = "SSL Certificate Authority")]
    pub ssl_certificate_authority: Option<String>,
}

impl ConnectionSettings {
    /// Where to connect: `sqlalchemy_url`, or `host`, `port`, `user`, `password` and
    /// `database`, with the `ssl_*` settings on top; the server shows the connection as
    /// `application_name`.
    ///
    /// # Errors
    /// [`Error::Settings`] (invalid config, exit code 2) naming what is missing or
    /// malformed, never the password.
    pub fn connect_options(&self, application_name: &str) -> Result<ConnectOptions> {
        let mut options = match &self.sqlalchemy_url {
            Some(url) => {
                let given = self.named(|set| set);
                if !given.is_empty() {
                    tracing::warn!(
                        settings = ?given,
                        "`sqlalchemy_url` is set: it is used, and these settings are ignored."
                    );
                }
                ConnectOptions::from_url(url)?
            }
            None => {
                let missing = self.named(|set| !set);
                if !missing.is_empty() {
                    return Err(Error::Settings(format!(
                        "missing {}: set `host`, `user` and `database` (and `password`, `port` if needed), or a `sqlalchemy_url` such as postgresql://user:password@localhost:5432/warehouse",
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                let mut options = ConnectOptions::new(
                    self.host.clone().unwrap_or_default(),
                    self.port.unwrap_or(DEFAULT_PORT),
                    self.user.clone().unwrap_or_default(),
                    self.database.clone().unwrap_or_default(),
                );
                if let Some(password) = &self.password {
                    options = options.password(password.clone());
                }
                options
            }
        };
        if self.port == Some(0) {
            return Err(Error::Settings(
                "`port`: 0 is not a TCP port; use 1-65535 (PostgreSQL's default is 5432)"
                    .to_owned(),
            ));
        }
        match (&self.ssl_mode, self.ssl_enable) {
            (Some(mode), _) => options.ssl_mode = mode.parse::<SslMode>()?,
            (None, Some(true)) => options.ssl_mode = SslMode::VerifyFull,
            (None, _) => {}
        }
        if let Some(ca) = &self.ssl_certificate_authority {
            options.ssl_root_certificate = Some(ca.clone());
        }
        application_name.clone_into(&mut options.application_name);
        Ok(options)
    }

    /// Which of `host`, `user` and `database` pass `keep(is_set)`.
    fn named(&self, keep: impl Fn(bool) -> bool) -> Vec<&'static str> {
        [
            ("host", self.host.is_some()),
            ("user", self.user.is_some()),
            ("database", self.database.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| keep(set).then_some(name))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(value: serde_json::Value) -> ConnectionSettings {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn missing_parts_are_named_and_the_password_never_shown() {
        let err = settings(json!({"host": "h", "password": "hunter2"}))
            .connect_options("t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing `user`, `database`"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = settings(json!({"host": "h", "user": "u", "database": "d", "port": 0}))
            .connect_options("t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`port`: 0"), "{err}");
    }

    #[test]
    fn a_url_wins_and_ssl_settings_apply_on_top() {
        let options = settings(json!({
            "sqlalchemy_url": "postgresql+psycopg2://u:p@db:6543/w",
            "ssl_mode": "require",
            "ssl_certificate_authority": "ca.pem",
        }))
        .connect_options("tap-postgres")
        .unwrap();
        assert_eq!(options.endpoint(), "db:6543");
        assert_eq!(options.ssl_mode, SslMode::Require);
        assert_eq!(options.ssl_root_certificate.as_deref(), Some("ca.pem"));
        assert!(options.has_password());
    }

    #[test]
    fn the_schema_marks_the_secrets() {
        use crate::Settings as _;
        let schema = ConnectionSettings::settings_schema();
        assert_eq!(schema["properties"]["password"]["secret"], json!(true));
        assert_eq!(
            schema["properties"]["sqlalchemy_url"]["secret"],
            json!(true)
        );
        assert!(schema["properties"]["host"]["description"].is_string());
    }
}
