//! [`RestClient`]: base URL, default headers, timeouts, and the send loop (auth, rules,
//! retries, rate limits, budget, concurrency, metrics, cassettes).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use url::Url;

use super::auth::{Authenticator, Outgoing};
use super::concurrency::Concurrency;
use super::error::{Error, Result, redact_url, snippet};
use super::metrics::HttpRequestDuration;
use super::ratelimit::{Budget, Gate, RateLimitHeaders};
use super::replay::Cassette;
use super::request::{Body, Request, Response};
use super::retry::{RetryPolicy, parse_retry_after};
use super::rules::{Action, ErrorRules};

/// An HTTP client for one API. Cheap to clone; clones share the connection pool, the
/// authenticator's token, the rate-limit state, the budget and the concurrency limit.
///
/// ```no_run
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
    inner: Arc<Inner>,
    stream: Arc<str>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: String,
    headers: HeaderMap,
    timeout: Duration,
    auth: Option<Arc<dyn Authenticator>>,
    secret_params: Vec<String>,
    retry: RetryPolicy,
    rules: ErrorRules,
    budget: Option<Budget>,
    concurrency: Option<Concurrency>,
    gate: Gate,
    low_water: u64,
    cassette: Option<Cassette>,
    stats: Counters,
    warned_retry_after: AtomicBool,
}

#[derive(Debug, Default)]
struct Counters {
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

/// Builds a [`RestClient`].
#[derive(Debug)]
pub struct RestClientBuilder {
    base: String,
    user_agent: String,
    headers: Vec<(String, String)>,
    timeout: Duration,
    connect_timeout: Duration,
    auth: Option<Arc<dyn Authenticator>>,
    retry: RetryPolicy,
    rules: ErrorRules,
    budget: Option<Budget>,
    concurrency: Option<Concurrency>,
    low_water: u64,
    cassette: Option<Cassette>,
}

impl RestClient {
    /// Starts a client for the API at `base_url` (paths are appended to it).
    pub fn builder(base_url: impl Into<String>) -> RestClientBuilder {
        RestClientBuilder {
            base: base_url.into(),
            user_agent: format!("singer-sdk/{}", env!("CARGO_PKG_VERSION")),
            headers: Vec::new(),
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            auth: None,
            retry: RetryPolicy::default(),
            rules: ErrorRules::default(),
            budget: None,
            concurrency: None,
            low_water: 5,
            cassette: None,
        }
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
                .is_some_and(|max| started.elapsed() + wait > max);
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
        let _permit = match &inner.concurrency {
            Some(c) => Some(c.acquire().await),
            None => None,
        };
        let mut out = Outgoing {
            url: url.clone(),
            headers: inner.headers.clone(),
        };
        for (name, value) in &request.headers {
            let header =
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| Error::InvalidHeader {
                    name: name.clone(),
                    detail: e.to_string(),
                })?;
            let value = HeaderValue::from_str(value).map_err(|e| Error::InvalidHeader {
                name: name.clone(),
                detail: e.to_string(),
            })?;
            out.headers.insert(header, value);
        }
        if let Some(auth) = auth {
            auth.apply(self, &mut out).await?;
        }
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
        let timeout = self.inner.timeout.as_secs();
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

impl RestClientBuilder {
    /// Sends `User-Agent: <name>/<version>` (default `singer-sdk/<sdk version>`).
    #[must_use]
    pub fn user_agent(mut self, name: &str, version: &str) -> Self {
        self.user_agent = format!("{name}/{version}");
        self
    }

    /// Adds a header to every request.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The timeout of one request, from connecting to the end of the body (default 300 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The timeout for connecting (default 30 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The authenticator for every request (except those marked
    /// [`without_auth`](Request::without_auth)).
    #[must_use]
    pub fn auth(mut self, auth: impl Authenticator + 'static) -> Self {
        self.auth = Some(Arc::new(auth));
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The error rules (default: singer-sdk's).
    #[must_use]
    pub fn rules(mut self, rules: ErrorRules) -> Self {
        self.rules = rules;
        self
    }

    /// A request budget shared by all clones.
    #[must_use]
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// An adaptive limit on requests in flight, shared by all clones.
    #[must_use]
    pub fn concurrency(mut self, concurrency: Concurrency) -> Self {
        self.concurrency = Some(concurrency);
        self
    }

    /// When rate-limit headers say fewer than `remaining` requests are left, spread them over
    /// the rest of the window (default 5; 0 waits only when none are left).
    #[must_use]
    pub fn rate_limit_low_water(mut self, remaining: u64) -> Self {
        self.low_water = remaining;
        self
    }

    /// Records to or replays from a cassette.
    #[must_use]
    pub fn cassette(mut self, cassette: Cassette) -> Self {
        self.cassette = Some(cassette);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] for a bad base URL, [`Error::InvalidHeader`] for a bad header.
    pub fn build(self) -> Result<RestClient> {
        let base = self.base.trim_end_matches('/').to_owned();
        let parsed = Url::parse(&base).map_err(|e| Error::InvalidUrl {
            url: Url::parse(&base).map_or_else(|_| base.clone(), |u| redact_url(&u, &[])),
            detail: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::InvalidUrl {
                url: redact_url(&parsed, &[]),
                detail: "the scheme must be http or https".to_owned(),
            });
        }
        let mut headers = HeaderMap::new();
        for (name, value) in [("user-agent".to_owned(), self.user_agent)]
            .into_iter()
            .chain(self.headers)
        {
            let header =
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| Error::InvalidHeader {
                    name: name.clone(),
                    detail: e.to_string(),
                })?;
            let value = HeaderValue::from_str(&value).map_err(|e| Error::InvalidHeader {
                name: name.clone(),
                detail: e.to_string(),
            })?;
            headers.insert(header, value);
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|e| Error::Transport {
                url: redact_url(&parsed, &[]),
                reason: e.to_string(),
            })?;
        let secret_params = self
            .auth
            .as_ref()
            .map(|a| a.secret_params())
            .unwrap_or_default();
        Ok(RestClient {
            inner: Arc::new(Inner {
                http,
                base,
                headers,
                timeout: self.timeout,
                auth: self.auth,
                secret_params,
                retry: self.retry,
                rules: self.rules,
                budget: self.budget,
                concurrency: self.concurrency,
                gate: Gate::default(),
                low_water: self.low_water,
                cassette: self.cassette,
                stats: Counters::default(),
                warned_retry_after: AtomicBool::new(false),
            }),
            stream: Arc::from(""),
        })
    }
}
