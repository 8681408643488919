//! A session token: log in once, send the token from the login response, log in again when
//! it expires or on a 401.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{Authenticator, Outgoing, Secret};
use crate::rest::client::RestClient;
use crate::rest::error::{Error, Result};
use crate::rest::jsonpath::JsonPath;
use crate::rest::request::Request;

/// Logs in with a request of its own and sends the token found at a JSONPath of the
/// response, as `Authorization: Bearer <token>` unless told otherwise.
///
/// ```
/// use serde_json::json;
/// use singer_sdk::rest::{Request, SessionToken};
/// let login = Request::post("/login").json(json!({"username": "me", "password": "pw"}));
/// let auth = SessionToken::new(login, "$.session.token").unwrap().setting("password");
/// assert!(!format!("{auth:?}").contains("pw"));
/// ```
#[derive(Debug)]
pub struct SessionToken {
    login: Request,
    token_path: JsonPath,
    header: String,
    prefix: String,
    lifetime: Option<Duration>,
    setting: String,
    cache: Mutex<Option<(Secret, Option<Instant>)>>,
}

impl SessionToken {
    /// Logs in with `login` (sent without authentication) and reads the token at `token_path`.
    ///
    /// # Errors
    ///
    /// [`Error::JsonPath`] when `token_path` does not parse.
    pub fn new(login: Request, token_path: &str) -> Result<Self> {
        Ok(SessionToken {
            login: login.without_auth(),
            token_path: JsonPath::parse(token_path)?,
            header: "authorization".to_owned(),
            prefix: "Bearer ".to_owned(),
            lifetime: None,
            setting: "password".to_owned(),
            cache: Mutex::new(None),
        })
    }

    /// Sends the token in `header`, after `prefix` (e.g. `("X-Session", "")`).
    #[must_use]
    pub fn header(mut self, header: impl Into<String>, prefix: impl Into<String>) -> Self {
        self.header = header.into();
        self.prefix = prefix.into();
        self
    }

    /// Logs in again after `lifetime` (default: only on a 401).
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// The setting named in messages (default `password`).
    #[must_use]
    pub fn setting(mut self, setting: impl Into<String>) -> Self {
        self.setting = setting.into();
        self
    }

    async fn token(&self, client: &RestClient) -> Result<Secret> {
        let mut cache = self.cache.lock().await;
        if let Some((token, expires)) = &*cache
            && expires.is_none_or(|at| Instant::now() < at)
        {
            return Ok(token.clone());
        }
        let url = client.url_for(&self.login)?;
        let fail = |detail: String| Error::Auth {
            setting: self.setting.clone(),
            url: client.redact(&url),
            detail,
        };
        let response = client
            .send(&self.login)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let body = response.json().map_err(|e| fail(e.to_string()))?;
        let token = match self.token_path.first(&body) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) if !other.is_null() => other.to_string(),
            _ => {
                return Err(fail(format!(
                    "the login response has nothing at `{}`",
                    self.token_path.as_str()
                )));
            }
        };
        let token = Secret::new(token);
        *cache = Some((
            token.clone(),
            self.lifetime.and_then(|l| Instant::now().checked_add(l)),
        ));
        Ok(token)
    }
}

impl Authenticator for SessionToken {
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
            request.set_secret_header(&self.header, &format!("{}{}", self.prefix, token.expose()))
        })
    }

    fn on_unauthorized<'a>(&'a self, _: &'a RestClient) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            *self.cache.lock().await = None;
            Ok(true)
        })
    }
}
