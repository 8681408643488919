//! Paginators: from one page's response to the next page's request.
//!
//! Every paginator stops on an empty page unless told to
//! [`continue_if_empty`](PageNumber::continue_if_empty), and a token (or next URL) seen twice
//! is an error naming it, since the API would loop forever.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use super::error::{Error, Result};
use super::jsonpath::JsonPath;
use super::request::{Request, Response};

mod cursor;
mod link;
mod numbered;

pub use cursor::{Cursor, NextUrl};
pub use link::{Link, parse_link_header};
pub use numbered::{Offset, PageNumber};

/// One fetched page: its request, response, parsed body and the records in it.
#[derive(Debug, Clone)]
pub struct Page {
    pub(crate) request: Request,
    pub(crate) url: Url,
    pub(crate) response: Response,
    pub(crate) body: Value,
    pub(crate) records: Vec<Value>,
}

impl Page {
    /// A page built by hand (for testing a paginator).
    pub fn new(
        request: Request,
        url: Url,
        response: Response,
        body: Value,
        records: Vec<Value>,
    ) -> Self {
        Page {
            request,
            url,
            response,
            body,
            records,
        }
    }

    /// The request that fetched it.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The response.
    pub fn response(&self) -> &Response {
        &self.response
    }

    /// The parsed body (`null` for an ignored response).
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// The records, in order.
    pub fn records(&self) -> &[Value] {
        &self.records
    }

    /// Takes the records.
    pub fn into_records(self) -> Vec<Value> {
        self.records
    }
}

/// What comes after a page.
#[derive(Debug, Clone)]
pub enum Next {
    /// Fetch this.
    Request(Box<Request>),
    /// No more pages.
    Done,
}

/// Turns one page into the request for the next.
pub trait Paginator: Send {
    /// The first request, from the stream's base request (default: unchanged).
    fn first(&mut self, base: &Request) -> Request {
        base.clone()
    }

    /// The request after `page`, or [`Next::Done`].
    ///
    /// # Errors
    ///
    /// A repeated token or a malformed next URL.
    fn next(&mut self, base: &Request, page: &Page) -> Result<Next>;

    /// Up to `n` requests that follow the requests issued so far, when they can be known
    /// without their responses (a page count or total is known), so they can be fetched
    /// concurrently. The paginator's state moves past them, and once they are all answered
    /// [`next`](Self::next) is called with the last of their pages. `last` is the latest page
    /// in order. Empty (the default) when nothing can be predicted; pages are then fetched
    /// one after another.
    fn predict(&mut self, _base: &Request, _last: &Page, _n: usize) -> Vec<Request> {
        Vec::new()
    }

    /// Whether an empty page ends the pagination (default `true`).
    fn stop_on_empty(&self) -> bool {
        true
    }
}

impl Paginator for Box<dyn Paginator> {
    fn first(&mut self, base: &Request) -> Request {
        (**self).first(base)
    }

    fn next(&mut self, base: &Request, page: &Page) -> Result<Next> {
        (**self).next(base, page)
    }

    fn predict(&mut self, base: &Request, last: &Page, n: usize) -> Vec<Request> {
        (**self).predict(base, last, n)
    }

    fn stop_on_empty(&self) -> bool {
        (**self).stop_on_empty()
    }
}

/// Where a value (a token, a total, a next URL) is read from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The first match of a JSONPath in the body.
    Body(JsonPath),
    /// A response header.
    Header(String),
    /// The `Link` header (RFC 8288) entry with this `rel`.
    Link(String),
}

impl Source {
    /// The first match of `path` in the body.
    ///
    /// # Errors
    ///
    /// [`Error::JsonPath`] when `path` does not parse.
    pub fn body(path: &str) -> Result<Self> {
        JsonPath::parse(path).map(Source::Body)
    }

    /// A response header.
    pub fn header(name: impl Into<String>) -> Self {
        Source::Header(name.into())
    }

    /// The read value as text: strings as they are, numbers and booleans printed; `null`,
    /// empty strings and absent values are `None`.
    pub fn read(&self, page: &Page) -> Option<String> {
        let text = match self {
            Source::Body(path) => match path.first(&page.body)? {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                other => other.to_string(),
            },
            Source::Header(name) => page.response.header(name)?.trim().to_owned(),
            Source::Link(rel) => {
                page.response
                    .headers()
                    .get_all("link")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(parse_link_header)
                    .find(|link| {
                        link.rel
                            .split_whitespace()
                            .any(|r| r.eq_ignore_ascii_case(rel))
                    })?
                    .url
            }
        };
        (!text.is_empty()).then_some(text)
    }

    fn read_number(&self, page: &Page) -> Option<u64> {
        let text = self.read(page)?;
        text.parse::<u64>().ok().or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|f| *f >= 0.0)
                .map(|f| f as u64)
        })
    }
}

/// Remembers tokens to catch an API that hands out the same one twice.
#[derive(Debug, Default, Clone)]
pub(super) struct Seen(HashSet<String>);

impl Seen {
    pub(super) fn check(&mut self, what: &str, token: &str) -> Result<()> {
        if self.0.insert(token.to_owned()) {
            Ok(())
        } else {
            Err(Error::Pagination(format!(
                "the API returned the {what} `{token}` twice, so the pages would loop; check the paginator settings"
            )))
        }
    }
}

/// Exactly one page.
#[derive(Debug, Clone, Default)]
pub struct SinglePage;

impl Paginator for SinglePage {
    fn next(&mut self, _: &Request, _: &Page) -> Result<Next> {
        Ok(Next::Done)
    }
}

#[cfg(test)]
mod tests;
