//! [`RestClient`]: base URL, default headers, timeouts, and the send loop (auth, rules,
//! retries, rate limits, budget, concurrency, metrics, cassettes).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, StatusCode};
use url::Url;

use super::auth::{Authenticator, Outgoing};
use super::builder::RestClientBuilder;
use super::concurrency::Concurrency;
use super::error::{Error, Result, redact_url, snippet};
use super::metrics::HttpRequestDuration;
use super::ratelimit::{Budget, Gate, RateLimitHeaders};
use super::replay::Cassette;
use super::request::{Body, Request, Response, header_pair};
use super::retry::{RetryPolicy, parse_retry_after};
use super::rules::{Action, ErrorRules};

/// An HTTP client for one API. Cheap to clone; clones share the connection pool, the
/// authenticator's token, the rate-limit state, the budget and the concurrency limit.
///
/// ```no_run
/// # #![allow(dead_code)]
/// # async fn run() -> Result<(), singer_sdk::rest::Error> {
/// use singer_sdk::rest::{Bearer, Request, RestClient};
///
/// let client = RestClient::builder("https://api.example.com/v1")
///     .user_agent("tap-example", "0.1.0")
///     .auth(Bearer::new("token").setting("auth_token"))
///     .build()?;
/// let users = client.send(&Request::get("/users")).await?.json()?;
/// # drop(users);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RestClient {
    pub(crate) inner: Arc<Inner>,
    pub(crate) stream: Arc<str>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Duration,
    pub(crate) auth: Option<Arc<dyn Authenticator>>,
    pub(crate) secret_params: Vec<String>,
    pub(crate) retry: RetryPolicy,
    pub(crate) rules: ErrorRules,
    pub(crate) budget: Option<Budget>,
    pub(crate) concurrency: Option<Concurrency>,
    pub(crate) gate: Gate,
    pub(crate) low_water: u64,
    pub(crate) cassette: Option<Cassette>,
    pub(crate) stats: Counters,
    pub(crate) warned_retry_after: AtomicBool,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limit_waits: AtomicU64,
    budget_waits: AtomicU64,
    refreshes: AtomicU64,
}

/// What a client (and its clones) has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ClientStats {
    /// Requests sent (retries included).
    pub requests: u64,
    /// Retries after a retriable failure.
    pub retries: u64,
    /// Times a request waited because of rate-limit headers.
    pub rate_limit_waits: u64,
    /// Times a request waited for the budget.
    pub budget_waits: u64,
    /// Credentials renewed after a 401.
    pub refreshes: u64,
}

impl RestClient {
    /// Starts a client for the API at `base_url` (paths are appended to it).
    pub fn builder(base_url: impl Into<String>) -> RestClientBuilder {
        RestClientBuilder::new(base_url.into())
    }

    /// The same client, tagging its metrics with `stream`.
    #[must_use]
    pub fn for_stream(&self, stream: &str) -> RestClient {
        RestClient {
            inner: Arc::clone(&self.inner),
            stream: Arc::from(stream),
        }
    }

    /// The stream metrics are tagged with (empty if none).
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// Counters shared by all clones.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.stats;
        ClientStats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            rate_limit_waits: c.rate_limit_waits.load(Ordering::Relaxed),
            budget_waits: c.budget_waits.load(Ordering::Relaxed),
            refreshes: c.refreshes.load(Ordering::Relaxed),
        }
    }

    /// The full URL of `request` (placeholders filled, query added).
    ///
    /// # Errors
    ///
    /// A missing placeholder, or a URL that does not parse.
    pub fn url_for(&self, request: &Request) -> Result<Url> {
        let path = request.render_path()?;
        let text =
            if request.absolute || path.starts_with("http://") || path.starts_with("https://") {
                path
            } else if path.is_empty() {
                self.inner.base.clone()
            } else {
                format!("{}/{}", self.inner.base, path.trim_start_matches('/'))
            };
        let mut url = Url::parse(&text).map_err(|e| Error::InvalidUrl {
            url: text.clone(),
            detail: e.to_string(),
        })?;
        if !request.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &request.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// `url` as messages show it, credentials redacted.
    pub fn redact(&self, url: &Url) -> String {
        redact_url(url, &self.inner.secret_params)
    }

    /// Sends `request`: applies the authenticator, waits for the budget, the rate-limit
    /// gate and a concurrency slot, classifies the response with the error rules, retries
    /// with backoff (honouring `Retry-After`) and renews the credential once on a 401.
    ///
    /// # Errors
    ///
    /// Unreachable hosts, timeouts, fatal statuses (401/403 naming the credential's
    /// setting), [`Error::SkipPartition`], or [`Error::RetriesExhausted`].
    pub async fn send(&self, request: &Request) -> Result<Response> {
        use tracing::Instrument as _;
        let span = tracing::debug_span!(
            "http_request",
            method = %request.method,
            endpoint = %request.path(),
        );
        self.send_in_span(request).instrument(span).await
    }

    async fn send_in_span(&self, request: &Request) -> Result<Response> {
        let inner = &*self.inner;
        let url = self.url_for(request)?;
        let started = Instant::now();
        let auth = inner.auth.as_ref().filter(|_| request.with_auth);
        let mut tries = 0u32;
        let mut renewed = false;
        loop {
            tries += 1;
            let (result, shown) = self.attempt(request, &url, auth).await?;
            let (failure, retry_after) = match result {
                Err(e) if e.is_transient() => (e, None),
                Err(e) => return Err(e),
                Ok(mut response) => {
                    if response.status == 401 && !renewed {
                        if let Some(auth) = auth {
                            renewed = true;
                            if auth.on_unauthorized(self).await? {
                                inner.stats.refreshes.fetch_add(1, Ordering::Relaxed);
                                tries -= 1;
                                continue;
                            }
                        }
                    }
                    match inner.rules.classify(&response) {
                        Action::Accept => {
                            if let Some(c) = &inner.concurrency {
                                c.on_success();
                            }
                            return Ok(response);
                        }
                        Action::Ignore => {
                            response.ignored = true;
                            return Ok(response);
                        }
                        Action::SkipPartition => {
                            return Err(Error::SkipPartition {
                                status: response.status,
                                url: shown,
                                snippet: snippet(&response.body, 200),
                            });
                        }
                        Action::Fail => return Err(self.fatal(&response, auth)),
                        Action::Retry => {
                            if response.status == 429
                                && let Some(c) = &inner.concurrency
                            {
                                c.on_throttled();
                            }
                            let wait = self.retry_after(&response);
                            (status_error(&response), wait)
                        }
                    }
                }
            };
            let wait = retry_after.unwrap_or_else(|| inner.retry.delay(tries));
            let out_of_time = inner
                .retry
                .max_elapsed
                .is_some_and(|max| started.elapsed().saturating_add(wait) > max);
            if tries >= inner.retry.max_tries || out_of_time {
                if tries == 1 && inner.retry.max_tries == 1 {
                    return Err(failure);
                }
                return Err(Error::RetriesExhausted {
                    url: self.redact(&url),
                    tries,
                    last: Box::new(failure),
                });
            }
            tracing::warn!(
                url = %self.redact(&url),
                error = %failure,
                wait_seconds = wait.as_secs_f64(),
                tries,
                "Backing off before retrying."
            );
            inner.stats.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// One try: waits its turn, authenticates, sends (or replays), emits the metric.
    async fn attempt(
        &self,
        request: &Request,
        url: &Url,
        auth: Option<&Arc<dyn Authenticator>>,
    ) -> Result<(Result<Response>, String)> {
        let inner = &*self.inner;
        if inner.gate.wait().await {
            inner.stats.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(budget) = &inner.budget
            && budget.acquire().await
        {
            inner.stats.budget_waits.fetch_add(1, Ordering::Relaxed);
        }
        let mut out = Outgoing {
            url: url.clone(),
            headers: inner.headers.clone(),
        };
        for (name, value) in &request.headers {
            let (name, value) = header_pair(name, value)?;
            out.headers.insert(name, value);
        }
        // Before taking a concurrency slot: fetching a token sends a request of its own.
        if let Some(auth) = auth {
            auth.apply(self, &mut out).await?;
        }
        let _permit = match &inner.concurrency {
            Some(c) => Some(c.acquire().await),
            None => None,
        };
        let shown = self.redact(&out.url);
        inner.stats.requests.fetch_add(1, Ordering::Relaxed);
        let t0 = Instant::now();
        let result = match &inner.cassette {
            Some(cassette) if cassette.is_replaying() => {
                cassette.replay_one(request, &out, &shown, &inner.secret_params)
            }
            _ => self.execute(request, out.clone_parts(), &shown).await,
        };
        if let (Some(cassette), Ok(response)) = (&inner.cassette, &result)
            && cassette.is_recording()
        {
            cassette.record_one(request, &out, response, &inner.secret_params)?;
        }
        if let Ok(response) = &result {
            if let Some(rl) = RateLimitHeaders::parse(&response.headers, SystemTime::now()) {
                inner.gate.hold_for(rl.pause(inner.low_water));
            }
        }
        tracing::debug!(
            url = %shown,
            status = result.as_ref().ok().map(Response::status),
            seconds = t0.elapsed().as_secs_f64(),
            "HTTP request finished."
        );
        HttpRequestDuration {
            stream: &self.stream,
            endpoint: request.path(),
            status_code: result.as_ref().ok().map(Response::status),
            seconds: t0.elapsed().as_secs_f64(),
            succeeded: result.as_ref().is_ok_and(|r| r.status < 400),
        }
        .emit();
        Ok((result, shown))
    }

    async fn execute(
        &self,
        request: &Request,
        out: (Url, HeaderMap),
        shown: &str,
    ) -> Result<Response> {
        let timeout = self.inner.timeout.as_secs_f64();
        let (url, headers) = out;
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), url)
            .headers(headers);
        match &request.body {
            Body::None => {}
            Body::Json(value) => builder = builder.json(value),
            Body::Form(fields) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    form.append_pair(k, v);
                }
                builder = builder
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form.finish());
            }
        }
        let response = builder
            .send()
            .await
            .map_err(|e| Error::from_reqwest(&e, shown, timeout))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::from_reqwest(&e, shown, timeout))?;
        Ok(Response {
            status,
            headers,
            body: body.to_vec(),
            url: shown.to_owned(),
            ignored: false,
        })
    }

    /// The `Retry-After` wait of a response; a malformed value warns once and falls back.
    fn retry_after(&self, response: &Response) -> Option<Duration> {
        let value = response.header("retry-after")?;
        match parse_retry_after(value, SystemTime::now()) {
            Ok(wait) => Some(wait),
            Err(bad) => {
                if !self.inner.warned_retry_after.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        url = %response.url,
                        value = %bad,
                        "Ignoring a malformed Retry-After header; using exponential backoff."
                    );
                }
                None
            }
        }
    }

    fn fatal(&self, response: &Response, auth: Option<&Arc<dyn Authenticator>>) -> Error {
        if matches!(response.status, 401 | 403) {
            let hint = match auth {
                Some(auth) => format!("check the `{}` setting", auth.setting()),
                None => "the API needs credentials; configure an authenticator".to_owned(),
            };
            return Error::Unauthorized {
                status: response.status,
                reason: reason(response.status),
                url: response.url.clone(),
                hint,
            };
        }
        status_error(response)
    }
}

impl Outgoing {
    fn clone_parts(&self) -> (Url, HeaderMap) {
        (self.url.clone(), self.headers.clone())
    }
}

fn reason(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown Status")
        .to_owned()
}

fn status_error(response: &Response) -> Error {
    Error::Status {
        status: response.status,
        reason: reason(response.status),
        url: response.url.clone(),
        snippet: snippet(&response.body, 200),
    }
}
