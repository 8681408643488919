//! OAuth 2.0 token grants with caching, early refresh and refresh-then-retry on a 401.

use std::time::Duration;

use futures::future::BoxFuture;
use http::Method;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{Authenticator, Outgoing, Secret};
use crate::rest::client::RestClient;
use crate::rest::error::{Error, Result};
use crate::rest::request::Request;

/// How an [`OAuth2`] authenticator gets its token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Grant {
    /// `grant_type=client_credentials`.
    ClientCredentials,
    /// `grant_type=refresh_token` with a long-lived refresh token (replaced when the server
    /// returns a new one).
    RefreshToken(Secret),
    /// `grant_type=password` (the resource owner's credentials).
    Password {
        /// The user.
        username: String,
        /// The password.
        password: Secret,
    },
    /// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with a signed assertion
    /// (feature `jwt`).
    #[cfg(feature = "jwt")]
    JwtBearer(Box<super::jwt::JwtAssertion>),
}

/// OAuth 2.0: posts a form to the token endpoint, caches the access token, refreshes it a
/// margin before it expires (60 s by default), and once more after a 401.
///
/// ```
/// use singer_sdk::rest::{Grant, OAuth2};
/// let auth = OAuth2::new("https://auth.example.com/token", Grant::ClientCredentials)
///     .client("my-id", "my-secret")
///     .scopes(["read"])
///     .setting("client_secret");
/// assert!(!format!("{auth:?}").contains("my-secret"));
/// ```
#[derive(Debug)]
pub struct OAuth2 {
    token_url: String,
    grant: Grant,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    scopes: Vec<String>,
    extra: Vec<(String, String)>,
    default_expiration: Option<Duration>,
    margin: Duration,
    setting: String,
    cache: Mutex<Cached>,
}

#[derive(Debug, Default)]
struct Cached {
    access: Option<(Secret, Option<Instant>)>,
    refresh: Option<Secret>,
}

impl OAuth2 {
    /// Tokens from `token_url` with `grant`.
    pub fn new(token_url: impl Into<String>, grant: Grant) -> Self {
        let refresh = match &grant {
            Grant::RefreshToken(token) => Some(token.clone()),
            _ => None,
        };
        OAuth2 {
            token_url: token_url.into(),
            grant,
            client_id: None,
            client_secret: None,
            scopes: Vec::new(),
            extra: Vec::new(),
            default_expiration: None,
            margin: Duration::from_secs(60),
            setting: "client_secret".to_owned(),
            cache: Mutex::new(Cached {
                access: None,
                refresh,
            }),
        }
    }

    /// The client id and secret, sent in the form body.
    #[must_use]
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<Secret>) -> Self {
        self.client_id = Some(id.into());
        self.client_secret = Some(secret.into());
        self
    }

    /// The scopes, sent space-separated.
    #[must_use]
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// An extra form field (e.g. `audience`).
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// The lifetime assumed when the server sends no `expires_in` (default: never expires).
    #[must_use]
    pub fn default_expiration(mut self, lifetime: Duration) -> Self {
        self.default_expiration = Some(lifetime);
        self
    }

    /// How long before expiry the token is refreshed (default 60 s).
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The setting named in messages (default `client_secret`).
    #[must_use]
    pub fn setting(mut self, setting: impl Into<String>) -> Self {
        self.setting = setting.into();
        self
    }

    async fn token(&self, client: &RestClient) -> Result<Secret> {
        let mut cache = self.cache.lock().await;
        if let Some((token, expires)) = &cache.access
            && expires.is_none_or(|at| {
                Instant::now()
                    .checked_add(self.margin)
                    .is_some_and(|t| t < at)
            })
        {
            return Ok(token.clone());
        }
        let fail = |detail: String| Error::Auth {
            setting: self.setting.clone(),
            url: self.token_url.clone(),
            detail,
        };
        let mut form = vec![];
        let grant_type = match &self.grant {
            Grant::ClientCredentials => "client_credentials",
            Grant::RefreshToken(_) => "refresh_token",
            Grant::Password { .. } => "password",
            #[cfg(feature = "jwt")]
            Grant::JwtBearer(_) => "urn:ietf:params:oauth:grant-type:jwt-bearer",
        };
        form.push(("grant_type".to_owned(), grant_type.to_owned()));
        match &self.grant {
            Grant::ClientCredentials => {}
            Grant::RefreshToken(_) => {
                let refresh = cache.refresh.as_ref().map(|s| s.expose().to_owned());
                form.push(("refresh_token".to_owned(), refresh.unwrap_or_default()));
            }
            Grant::Password { username, password } => {
                form.push(("username".to_owned(), username.clone()));
                form.push(("password".to_owned(), password.expose().to_owned()));
            }
            #[cfg(feature = "jwt")]
            Grant::JwtBearer(assertion) => {
                let jwt = assertion
                    .sign(&self.token_url, &self.scopes)
                    .map_err(fail)?;
                form.push(("assertion".to_owned(), jwt));
            }
        }
        if let Some(id) = &self.client_id {
            form.push(("client_id".to_owned(), id.clone()));
        }
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret".to_owned(), secret.expose().to_owned()));
        }
        if !self.scopes.is_empty() {
            form.push(("scope".to_owned(), self.scopes.join(" ")));
        }
        form.extend(self.extra.iter().cloned());
        let request = Request::url(Method::POST, &self.token_url)
            .form(form)
            .without_auth();
        let response = client
            .send(&request)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let body = response.json().map_err(|e| fail(e.to_string()))?;
        let access = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("the response has no `access_token`".to_owned()))?;
        let lifetime = body
            .get("expires_in")
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
            .or(self.default_expiration);
        if let Some(refresh) = body.get("refresh_token").and_then(Value::as_str) {
            cache.refresh = Some(Secret::new(refresh));
        }
        let token = Secret::new(access);
        cache.access = Some((
            token.clone(),
            lifetime.and_then(|l| Instant::now().checked_add(l)),
        ));
        tracing::debug!(token_url = %self.token_url, "Fetched an OAuth access token.");
        Ok(token)
    }
}

impl Authenticator for OAuth2 {
    fn setting(&self) -> &str {
        &self.setting
    }

    fn apply<'a>(
        &'a self,
        client: &'a RestClient,
        request: &'a mut Outgoing,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let token = self.token(client).await?;
            request.set_secret_header("authorization", &format!("Bearer {}", token.expose()))
        })
    }

    fn on_unauthorized<'a>(&'a self, _: &'a RestClient) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            self.cache.lock().await.access = None;
            Ok(true)
        })
    }
}
