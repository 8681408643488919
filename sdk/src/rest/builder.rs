//! [`RestClientBuilder`]: what a [`RestClient`] is made of.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use http::HeaderMap;
use url::Url;

use super::auth::Authenticator;
use super::client::{Counters, Inner, RestClient};
use super::concurrency::Concurrency;
use super::error::{Error, Result, redact_url};
use super::ratelimit::{Budget, Gate};
use super::replay::Cassette;
use super::request::header_pair;
use super::retry::RetryPolicy;
use super::rules::ErrorRules;

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

impl RestClientBuilder {
    pub(crate) fn new(base: String) -> Self {
        RestClientBuilder {
            base,
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
    /// [`without_auth`](super::Request::without_auth)).
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
            let (name, value) = header_pair(&name, &value)?;
            headers.insert(name, value);
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
