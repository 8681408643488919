//! HTTP foundations for REST and GraphQL taps (feature `rest`): a client with retries,
//! rate limits and authentication, paginators, and record/replay for offline tests.
//!
//! | file | holds |
//! |---|---|
//! | `client` | [`RestClient`] and the send loop |
//! | `builder` | [`RestClientBuilder`]: base URL, headers, timeouts, user agent, policies |
//! | `request` | [`Request`] (path placeholders, query, body) and [`Response`] |
//! | `error` | [`Error`] and URL redaction |
//! | `retry` | [`RetryPolicy`] (exponential backoff with jitter), `Retry-After` parsing |
//! | `ratelimit` | rate-limit headers and the shared [`Budget`] |
//! | `concurrency` | the adaptive [`Concurrency`] limit |
//! | `rules` | [`ErrorRules`]: status/body rules and a response hook |
//! | `auth` | [`Authenticator`] and API key, bearer, basic, OAuth 2.0 (JWT bearer with feature `jwt`), session token |
//! | `jsonpath` | [`JsonPath`] and the records [`Selector`] |
//! | `pagination` | [`Paginator`] and the page-number, offset, cursor and next-URL paginators |
//! | `pages` | [`RestClient::pages`]: the stream of pages, with prefetch |
//! | `metrics` | `http_request_duration` and `http_request_count` METRIC lines |
//! | `replay` | [`Cassette`]: record/replay of HTTP exchanges with secrets scrubbed |
//! | `stream` | [`RestStream`]: a tap stream over a paginated REST or GraphQL API |
//! | `windows` | [`DateWindows`]: date slices for incremental APIs |
//!
//! ```no_run
//! # #![allow(dead_code)]
//! # async fn run() -> Result<(), singer_sdk::rest::Error> {
//! use singer_sdk::rest::{Bearer, NextUrl, Request, RestClient, Selector};
//!
//! let client = RestClient::builder("https://api.example.com")
//!     .user_agent("tap-example", "0.1.0")
//!     .auth(Bearer::new("token"))
//!     .build()?;
//! let records = client
//!     .for_stream("users")
//!     .pages(Request::get("/users"), NextUrl::link_header(), Selector::default())
//!     .records()
//!     .await?;
//! # drop(records);
//! # Ok(()) }
//! ```

mod auth;
mod builder;
mod client;
mod concurrency;
mod error;
mod jsonpath;
mod metrics;
mod pages;
mod pagination;
mod ratelimit;
mod replay;
mod request;
mod retry;
mod rules;
mod stream;
mod windows;

pub use auth::{
    ApiKey, Authenticator, Basic, Bearer, Grant, KeyLocation, OAuth2, Outgoing, Secret,
    SessionToken,
};
#[cfg(feature = "jwt")]
pub use auth::{JwtAlgorithm, JwtAssertion};
pub use builder::RestClientBuilder;
pub use client::{ClientStats, RestClient};
pub use concurrency::{Concurrency, Permit};
pub use error::{Error, Result, SECRET_PARAMS, redact_url};
pub use jsonpath::{JsonPath, Selector};
pub use metrics::{HttpRequestCount, HttpRequestDuration};
pub use pages::Pages;
pub use pagination::{
    Cursor, Link, Next, NextUrl, Offset, Page, PageNumber, Paginator, SinglePage, Source,
    parse_link_header,
};
pub use ratelimit::{Budget, RateLimitHeaders};
pub use replay::{CASSETTE_MODE_VAR, Cassette, Mode};
pub use request::{Request, Response};
pub use retry::{RetryPolicy, parse_retry_after};
pub use rules::{Action, ErrorRules, ResponseHook, Rule};
pub use stream::RestStream;
pub use windows::DateWindows;

/// Re-exported so connectors can name methods and headers without adding `http` themselves.
pub use http::{HeaderMap, Method};
