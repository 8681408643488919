//! Authenticators: they add a credential to each request and may renew it on a 401.
//!
//! Secrets are held in [`Secret`], whose `Debug` and `Display` print `****`; header values
//! set by an authenticator are marked sensitive, so they never reach logs either.

#[cfg(feature = "jwt")]
mod jwt;
mod oauth;
mod session;

use std::fmt;

use futures::future::BoxFuture;
use http::HeaderMap;
use url::Url;

use super::client::RestClient;
use super::error::{Result, redact_url};

#[cfg(feature = "jwt")]
pub use jwt::{JwtAlgorithm, JwtAssertion};
pub use oauth::{Grant, OAuth2};
pub use session::SessionToken;

/// A secret string that never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

/// A request about to go out: its final URL and headers, for an [`Authenticator`] to modify.
pub struct Outgoing {
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
}

impl fmt::Debug for Outgoing {
    // The URL may carry an API key: show it redacted (headers set here are sensitive).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("url", &redact_url(&self.url, &[]))
            .field("headers", &self.headers)
            .finish()
    }
}

impl Outgoing {
    /// The URL (with the query).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The headers so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Sets a header whose value is a secret (marked sensitive, so it is never logged).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHeader`](super::Error::InvalidHeader) when the name or value cannot be sent (the value is not shown).
    pub fn set_secret_header(&mut self, name: &str, value: &str) -> Result<()> {
        let (header, mut value) = super::request::header_pair(name, value)?;
        value.set_sensitive(true);
        self.headers.insert(header, value);
        Ok(())
    }

    /// Adds a query parameter (replacing one of the same name).
    pub fn set_query(&mut self, name: &str, value: &str) {
        let pairs: Vec<(String, String)> = self
            .url
            .query_pairs()
            .filter(|(k, _)| k != name)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut query = self.url.query_pairs_mut();
        query.clear();
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        query.append_pair(name, value);
    }
}

/// Adds a credential to requests.
///
/// Implement it for schemes the SDK lacks; the built-in ones are [`ApiKey`], [`Bearer`],
/// [`Basic`], [`OAuth2`] and [`SessionToken`].
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// The config setting that holds the credential, named in 401/403 messages
    /// ("check the `auth_token` setting").
    fn setting(&self) -> &str;

    /// Adds the credential to `request`; may fetch or refresh a token through `client`
    /// (with [`Request::without_auth`](super::Request::without_auth)).
    fn apply<'a>(
        &'a self,
        client: &'a RestClient,
        request: &'a mut Outgoing,
    ) -> BoxFuture<'a, Result<()>>;

    /// Called on a 401: drop the cached credential and return `true` to have the request
    /// sent once more with a fresh one. The default does nothing and returns `false`.
    fn on_unauthorized<'a>(&'a self, _client: &'a RestClient) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async { Ok(false) })
    }

    /// Query parameters this authenticator fills with secrets, hidden in every message.
    fn secret_params(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Where an API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLocation {
    /// In a header.
    Header,
    /// In a query parameter.
    Query,
}

/// An API key in a header or a query parameter.
///
/// ```
/// use singer_sdk::rest::ApiKey;
/// let auth = ApiKey::header("X-API-Key", "s3cr3t").setting("api_key");
/// assert!(!format!("{auth:?}").contains("s3cr3t"));
/// ```
#[derive(Debug, Clone)]
pub struct ApiKey {
    name: String,
    value: Secret,
    location: KeyLocation,
    setting: String,
}

impl ApiKey {
    /// A key sent in header `name`.
    pub fn header(name: impl Into<String>, value: impl Into<Secret>) -> Self {
        ApiKey {
            name: name.into(),
            value: value.into(),
            location: KeyLocation::Header,
            setting: "api_key".to_owned(),
        }
    }

    /// A key sent in query parameter `name`.
    pub fn query(name: impl Into<String>, value: impl Into<Secret>) -> Self {
        ApiKey {
            location: KeyLocation::Query,
            ..Self::header(name, value)
        }
    }
}

impl Authenticator for ApiKey {
    fn setting(&self) -> &str {
        &self.setting
    }

    fn apply<'a>(
        &'a self,
        _: &'a RestClient,
        request: &'a mut Outgoing,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match self.location {
                KeyLocation::Header => request.set_secret_header(&self.name, self.value.expose()),
                KeyLocation::Query => {
                    request.set_query(&self.name, self.value.expose());
                    Ok(())
                }
            }
        })
    }

    fn secret_params(&self) -> Vec<String> {
        match self.location {
            KeyLocation::Query => vec![self.name.clone()],
            KeyLocation::Header => Vec::new(),
        }
    }
}

/// Gives each authenticator the builder method that names its setting in messages.
macro_rules! setting_builder {
    ($($authenticator:ty),* $(,)?) => {$(
        impl $authenticator {
            /// The setting named in messages (the default is the usual name for this kind of
            /// credential).
            #[must_use]
            pub fn setting(mut self, setting: impl Into<String>) -> Self {
                self.setting = setting.into();
                self
            }
        }
    )*};
}

setting_builder!(ApiKey, Bearer);

/// `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct Bearer {
    token: Secret,
    setting: String,
}

impl Bearer {
    /// A fixed bearer token; messages name the setting `auth_token` unless told otherwise.
    pub fn new(token: impl Into<Secret>) -> Self {
        Bearer {
            token: token.into(),
            setting: "auth_token".to_owned(),
        }
    }
}

impl Authenticator for Bearer {
    fn setting(&self) -> &str {
        &self.setting
    }

    fn apply<'a>(
        &'a self,
        _: &'a RestClient,
        request: &'a mut Outgoing,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            request.set_secret_header("authorization", &format!("Bearer {}", self.token.expose()))
        })
    }
}

/// HTTP basic authentication.
#[derive(Debug, Clone)]
pub struct Basic {
    username: String,
    password: Secret,
    setting: String,
}

impl Basic {
    /// Basic auth with `username` and `password`; messages name `username`/`password`.
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Basic {
            username: username.into(),
            password: password.into(),
            setting: "username` and `password".to_owned(),
        }
    }

    /// The setting(s) named in messages.
    #[must_use]
    pub fn setting(mut self, setting: impl Into<String>) -> Self {
        self.setting = setting.into();
        self
    }
}

impl Authenticator for Basic {
    fn setting(&self) -> &str {
        &self.setting
    }

    fn apply<'a>(
        &'a self,
        _: &'a RestClient,
        request: &'a mut Outgoing,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            use base64::Engine as _;
            let pair = format!("{}:{}", self.username, self.password.expose());
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            request.set_secret_header("authorization", &format!("Basic {encoded}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug() {
        let shown = format!(
            "{:?} {:?} {:?} {}",
            ApiKey::query("key", "k-secret"),
            Bearer::new("b-secret"),
            Basic::new("me", "p-secret"),
            Secret::new("s-secret")
        );
        for secret in ["k-secret", "b-secret", "p-secret", "s-secret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn secret_headers_are_sensitive() {
        let mut out = Outgoing {
            url: "https://h.example/x?a=1".parse().unwrap(),
            headers: HeaderMap::new(),
        };
        out.set_secret_header("authorization", "Bearer zzz")
            .unwrap();
        assert!(out.headers["authorization"].is_sensitive());
        assert!(!format!("{out:?}").contains("zzz"));
        out.set_query("a", "2");
        assert_eq!(out.url.query(), Some("a=2"));
    }
}
