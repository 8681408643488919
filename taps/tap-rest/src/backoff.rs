//! tap-rest-api-msdk's `backoff_type`: the wait before a retry read from the response, a
//! header (`header`, named by `backoff_param`) or the body's `message` (`message`), plus
//! `backoff_time_extension`.
//!
//! The SDK's retry loop waits `Retry-After` or its exponential backoff and has no hook for a
//! wait computed from the response, so the wait is added around it with public API: the error
//! rules' hook sees every retried response and holds a gate until the wait it asks for has
//! passed, and a wrapping [`Authenticator`], which runs before every request, waits for the
//! gate. The SDK's own wait runs first, so a retry waits the longer of the two.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use singer_sdk::rest::{
    Action, Authenticator, ErrorRules, Outgoing, Response, RestClient, Result, parse_retry_after,
};
use tokio::time::Instant;

use crate::config::Config;

/// Where the wait comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// The seconds in this header (`Retry-After`'s forms: seconds or an HTTP date).
    Header(String),
    /// The largest whole number among the words of the body's `message`.
    Message,
}

/// The wait a response asks for, and the time before which no request goes out.
#[derive(Debug)]
pub(crate) struct Backoff {
    source: Source,
    extension: Duration,
    not_before: Mutex<Option<Instant>>,
    warned: AtomicBool,
}

impl Backoff {
    /// `backoff_type` `header` or `message` (checked by [`crate::client::check`]); `None` for
    /// the SDK's exponential backoff honouring `Retry-After`.
    pub(crate) fn new(config: &Config) -> Option<Arc<Backoff>> {
        let extension = Duration::from_secs(config.backoff_time_extension.unwrap_or(0));
        let source = match config.backoff_type.as_deref() {
            Some("header") => Source::Header(
                config
                    .backoff_param
                    .clone()
                    .unwrap_or_else(|| "Retry-After".to_owned()),
            ),
            Some("message") => Source::Message,
            _ => {
                if !extension.is_zero() {
                    tracing::warn!(
                        "`backoff_time_extension` is only added to waits read with `backoff_type` `header` or `message` (as in tap-rest-api-msdk); without one it is ignored."
                    );
                }
                return None;
            }
        };
        Some(Arc::new(Backoff {
            source,
            extension,
            not_before: Mutex::new(None),
            warned: AtomicBool::new(false),
        }))
    }

    /// The seconds `response` asks for, plus the extension (just the extension when it asks
    /// for none: tap-rest-api-msdk counts a missing header as 0 and fails on a message
    /// without a number; here a warning says so and the SDK's backoff still applies).
    fn wait(&self, response: &Response) -> Duration {
        let asked = match &self.source {
            Source::Header(name) => response
                .header(name)
                .and_then(|v| parse_retry_after(v, SystemTime::now()).ok()),
            Source::Message => message_seconds(response.body()).map(Duration::from_secs),
        };
        if asked.is_none() && !self.warned.swap(true, Ordering::Relaxed) {
            let place = match &self.source {
                Source::Header(name) => format!("a `{name}` header in seconds"),
                Source::Message => "a number of seconds in the body's `message`".to_owned(),
            };
            tracing::warn!(
                status = response.status(),
                url = %response.url(),
                "A retried response has no {place}; waiting `backoff_time_extension` or the exponential backoff, whichever is longer."
            );
        }
        asked.unwrap_or_default().saturating_add(self.extension)
    }

    /// Holds every request until `response`'s wait has passed.
    fn hold(&self, response: &Response) {
        let wait = self.wait(response);
        tracing::info!(
            status = response.status(),
            url = %response.url(),
            wait_seconds = wait.as_secs_f64(),
            "Waiting as the response asks before the next request."
        );
        let Some(until) = Instant::now().checked_add(wait) else {
            return;
        };
        let mut guard = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none_or(|t| t < until) {
            *guard = Some(until);
        }
    }

    /// Waits until the gate opens.
    async fn pass(&self) {
        let until = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    /// `rules` with a hook that classifies each response by them and, when it is retried,
    /// holds the gate for the wait it asks for.
    pub(crate) fn rules(self: &Arc<Self>, rules: ErrorRules) -> ErrorRules {
        let backoff = Arc::clone(self);
        let inner = rules.clone();
        rules.hook(move |response| {
            let action = inner.classify(response);
            if action == Action::Retry {
                backoff.hold(response);
            }
            Some(action)
        })
    }
}

/// tap-rest-api-msdk's reading of a message: the largest of the words that are whole
/// numbers (`"retry in 30 seconds"` is 30; `"30s"` is not a number).
fn message_seconds(body: &[u8]) -> Option<u64> {
    let body: Value = serde_json::from_slice(body).ok()?;
    body.get("message")?
        .as_str()?
        .split_whitespace()
        .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|w| w.parse::<u64>().ok())
        .max()
}

/// The configured authenticator (if any) behind the backoff gate (if any).
#[derive(Debug)]
pub(crate) struct Gated {
    auth: Option<Box<dyn Authenticator>>,
    backoff: Option<Arc<Backoff>>,
}

impl Gated {
    /// `None` when there is neither.
    pub(crate) fn new(
        auth: Option<Box<dyn Authenticator>>,
        backoff: Option<Arc<Backoff>>,
    ) -> Option<Gated> {
        (auth.is_some() || backoff.is_some()).then_some(Gated { auth, backoff })
    }
}

/// What [`Authenticator`]'s methods return.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Authenticator for Gated {
    fn setting(&self) -> &str {
        // Only without an authenticator, behind a backoff gate, is `auth_method` named.
        self.auth.as_ref().map_or("auth_method", |a| a.setting())
    }

    fn apply<'a>(
        &'a self,
        client: &'a RestClient,
        request: &'a mut Outgoing,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if let Some(backoff) = &self.backoff {
                backoff.pass().await;
            }
            match &self.auth {
                Some(auth) => auth.apply(client, request).await,
                None => Ok(()),
            }
        })
    }

    fn on_unauthorized<'a>(&'a self, client: &'a RestClient) -> BoxFuture<'a, Result<bool>> {
        match &self.auth {
            Some(auth) => auth.on_unauthorized(client),
            None => Box::pin(async { Ok(false) }),
        }
    }

    fn secret_params(&self) -> Vec<String> {
        self.auth
            .as_ref()
            .map(|a| a.secret_params())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::message_seconds;

    #[test]
    fn the_largest_whole_number_of_the_message() {
        let body = |m: &str| serde_json::json!({ "message": m }).to_string().into_bytes();
        assert_eq!(message_seconds(&body("retry in 30 seconds")), Some(30));
        assert_eq!(message_seconds(&body("limit 5 per 60 s")), Some(60));
        assert_eq!(message_seconds(&body("retry in 30s")), None);
        assert_eq!(message_seconds(&body("slow down")), None);
        assert_eq!(message_seconds(b"{\"error\": \"retry in 3\"}"), None);
        assert_eq!(message_seconds(b"not json 3"), None);
    }
}
