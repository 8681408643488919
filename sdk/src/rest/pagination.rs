//! Paginators: from one page's response to the next page's request.
//!
//! Every paginator stops on an empty page unless told to
//! [`continue_if_empty`](PageNumber::continue_if_empty), and a token (or next URL) seen twice
//! is an error naming it, since the API would loop forever.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use super::error::{Error, Result, redact_url};
use super::jsonpath::JsonPath;
use super::request::{Request, Response};

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

/// One entry of a `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target URL, as written.
    pub url: String,
    /// The `rel` parameter (may hold several space-separated relations).
    pub rel: String,
}

/// Parses an RFC 8288 `Link` header: `<https://a/2>; rel="next", <https://a/9>; rel=last`.
/// Malformed entries are skipped.
///
/// ```
/// use singer_sdk::rest::parse_link_header;
/// let links = parse_link_header(r#"<https://a.example/?page=2>; rel="next", <https://a.example/?page=5>; rel="last""#);
/// assert_eq!(links[0].url, "https://a.example/?page=2");
/// assert_eq!(links[1].rel, "last");
/// ```
pub fn parse_link_header(value: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let url = rest[open + 1..open + close].trim().to_owned();
        rest = &rest[open + close + 1..];
        // Parameters run to the next entry: a comma outside quotes followed by `<`.
        let mut end = rest.len();
        let mut quoted = false;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted && rest[i + 1..].trim_start().starts_with('<') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &rest[..end];
        rest = &rest[end..];
        let rel = params.split(';').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("rel")
                .then(|| v.trim().trim_matches('"').to_owned())
        });
        if let Some(rel) = rel {
            links.push(Link { url, rel });
        }
    }
    links
}

/// Remembers tokens to catch an API that hands out the same one twice.
#[derive(Debug, Default, Clone)]
struct Seen(HashSet<String>);

impl Seen {
    fn check(&mut self, what: &str, token: &str) -> Result<()> {
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

/// `?page=1`, `?page=2`, … until an empty or short page, `has_more` false, or the last page
/// (from a page count or a record total).
///
/// ```
/// use singer_sdk::rest::{PageNumber, Source};
/// let paginator = PageNumber::new("page")
///     .page_size("per_page", 100)
///     .total_records(Source::body("$.total").unwrap());
/// # drop(paginator);
/// ```
#[derive(Debug, Clone)]
pub struct PageNumber {
    param: String,
    start: u64,
    current: u64,
    size: Option<(String, u64)>,
    has_more: Option<Source>,
    total_pages: Option<Source>,
    total_records: Option<Source>,
    continue_if_empty: bool,
}

impl PageNumber {
    /// Pages numbered from 1 in query parameter `param`.
    pub fn new(param: impl Into<String>) -> Self {
        PageNumber {
            param: param.into(),
            start: 1,
            current: 1,
            size: None,
            has_more: None,
            total_pages: None,
            total_records: None,
            continue_if_empty: false,
        }
    }

    /// The first page's number (default 1).
    #[must_use]
    pub fn start(mut self, start: u64) -> Self {
        self.start = start;
        self.current = start;
        self
    }

    /// Sends the page size; a page with fewer records is the last.
    #[must_use]
    pub fn page_size(mut self, param: impl Into<String>, size: u64) -> Self {
        self.size = Some((param.into(), size.max(1)));
        self
    }

    /// A boolean saying whether more pages follow.
    #[must_use]
    pub fn has_more(mut self, source: Source) -> Self {
        self.has_more = Some(source);
        self
    }

    /// The number of pages.
    #[must_use]
    pub fn total_pages(mut self, source: Source) -> Self {
        self.total_pages = Some(source);
        self
    }

    /// The number of records (needs [`page_size`](Self::page_size)).
    #[must_use]
    pub fn total_records(mut self, source: Source) -> Self {
        self.total_records = Some(source);
        self
    }

    /// Goes on after an empty page.
    #[must_use]
    pub fn continue_if_empty(mut self) -> Self {
        self.continue_if_empty = true;
        self
    }

    fn request(&self, base: &Request, page: u64) -> Request {
        let mut request = base.clone().query(&self.param, page);
        if let Some((param, size)) = &self.size {
            request.set_query(param, size);
        }
        request
    }

    /// The last page's number, if the response says.
    fn last(&self, page: &Page) -> Option<u64> {
        let pages = self
            .total_pages
            .as_ref()
            .and_then(|s| s.read_number(page))
            .or_else(|| {
                let total = self.total_records.as_ref()?.read_number(page)?;
                let (_, size) = self.size.as_ref()?;
                Some(total.div_ceil(*size))
            })?;
        Some(self.start.saturating_add(pages.max(1) - 1))
    }
}

impl Paginator for PageNumber {
    fn first(&mut self, base: &Request) -> Request {
        self.current = self.start;
        self.request(base, self.start)
    }

    fn next(&mut self, base: &Request, page: &Page) -> Result<Next> {
        if page.records.is_empty() && !self.continue_if_empty {
            return Ok(Next::Done);
        }
        if let Some((_, size)) = &self.size
            && (page.records.len() as u64) < *size
            && !self.continue_if_empty
        {
            return Ok(Next::Done);
        }
        if let Some(source) = &self.has_more {
            let more = source.read(page);
            if !more.is_some_and(|v| !matches!(v.as_str(), "false" | "0" | "False" | "FALSE")) {
                return Ok(Next::Done);
            }
        }
        if self.last(page).is_some_and(|last| self.current >= last) {
            return Ok(Next::Done);
        }
        self.current = self.current.saturating_add(1);
        Ok(Next::Request(Box::new(self.request(base, self.current))))
    }

    fn predict(&mut self, base: &Request, last: &Page, n: usize) -> Vec<Request> {
        let Some(final_page) = self.last(last) else {
            return Vec::new();
        };
        if last.records.is_empty() && !self.continue_if_empty {
            return Vec::new();
        }
        let mut requests = Vec::new();
        while requests.len() < n && self.current < final_page {
            self.current += 1;
            requests.push(self.request(base, self.current));
        }
        requests
    }

    fn stop_on_empty(&self) -> bool {
        !self.continue_if_empty
    }
}

/// `?offset=0&limit=100`, `?offset=100&limit=100`, … until an empty or short page or the
/// total.
#[derive(Debug, Clone)]
pub struct Offset {
    offset_param: String,
    limit_param: String,
    limit: u64,
    start: u64,
    offset: u64,
    total: Option<Source>,
    continue_if_empty: bool,
}

impl Offset {
    /// Offsets in `offset_param`, the page size `limit` in `limit_param`.
    pub fn new(
        offset_param: impl Into<String>,
        limit_param: impl Into<String>,
        limit: u64,
    ) -> Self {
        Offset {
            offset_param: offset_param.into(),
            limit_param: limit_param.into(),
            limit: limit.max(1),
            start: 0,
            offset: 0,
            total: None,
            continue_if_empty: false,
        }
    }

    /// The first offset (default 0).
    #[must_use]
    pub fn start(mut self, offset: u64) -> Self {
        self.start = offset;
        self.offset = offset;
        self
    }

    /// The total number of records.
    #[must_use]
    pub fn total(mut self, source: Source) -> Self {
        self.total = Some(source);
        self
    }

    /// Goes on after an empty page.
    #[must_use]
    pub fn continue_if_empty(mut self) -> Self {
        self.continue_if_empty = true;
        self
    }

    fn request(&self, base: &Request, offset: u64) -> Request {
        base.clone()
            .query(&self.offset_param, offset)
            .query(&self.limit_param, self.limit)
    }
}

impl Paginator for Offset {
    fn first(&mut self, base: &Request) -> Request {
        self.offset = self.start;
        self.request(base, self.start)
    }

    fn next(&mut self, base: &Request, page: &Page) -> Result<Next> {
        let short = (page.records.len() as u64) < self.limit;
        if short && !self.continue_if_empty {
            return Ok(Next::Done);
        }
        let next = self.offset.saturating_add(self.limit);
        if let Some(total) = self.total.as_ref().and_then(|s| s.read_number(page))
            && next >= total
        {
            return Ok(Next::Done);
        }
        self.offset = next;
        Ok(Next::Request(Box::new(self.request(base, next))))
    }

    fn predict(&mut self, base: &Request, last: &Page, n: usize) -> Vec<Request> {
        let Some(total) = self.total.as_ref().and_then(|s| s.read_number(last)) else {
            return Vec::new();
        };
        if last.records.is_empty() && !self.continue_if_empty {
            return Vec::new();
        }
        let mut requests = Vec::new();
        while requests.len() < n {
            let Some(offset) = self.offset.checked_add(self.limit).filter(|o| *o < total) else {
                break;
            };
            requests.push(self.request(base, offset));
            self.offset = offset;
        }
        requests
    }

    fn stop_on_empty(&self) -> bool {
        !self.continue_if_empty
    }
}

/// A cursor read from the body or a header, sent back in a query parameter.
///
/// ```
/// use singer_sdk::rest::{Cursor, Source};
/// let in_body = Cursor::new(Source::body("$.meta.next_cursor").unwrap(), "cursor");
/// let in_header = Cursor::new(Source::header("X-Next-Page"), "page");
/// # drop((in_body, in_header));
/// ```
#[derive(Debug, Clone)]
pub struct Cursor {
    source: Source,
    param: String,
    seen: Seen,
    continue_if_empty: bool,
}

impl Cursor {
    /// Reads the cursor from `source` and sends it as `param`.
    pub fn new(source: Source, param: impl Into<String>) -> Self {
        Cursor {
            source,
            param: param.into(),
            seen: Seen::default(),
            continue_if_empty: false,
        }
    }

    /// Goes on after an empty page (while a cursor comes back).
    #[must_use]
    pub fn continue_if_empty(mut self) -> Self {
        self.continue_if_empty = true;
        self
    }
}

impl Paginator for Cursor {
    fn next(&mut self, base: &Request, page: &Page) -> Result<Next> {
        if page.records.is_empty() && !self.continue_if_empty {
            return Ok(Next::Done);
        }
        let Some(token) = self.source.read(page) else {
            return Ok(Next::Done);
        };
        self.seen.check("page token", &token)?;
        Ok(Next::Request(Box::new(
            base.clone().query(&self.param, token),
        )))
    }

    fn stop_on_empty(&self) -> bool {
        !self.continue_if_empty
    }
}

/// The next page's URL, from the body (`$.next`), a header, or the `Link` header; relative
/// URLs resolve against the page's URL. The next URL carries its own query, so the base
/// request's query parameters are not repeated.
#[derive(Debug, Clone)]
pub struct NextUrl {
    source: Source,
    seen: Seen,
    continue_if_empty: bool,
}

impl NextUrl {
    /// The next URL read from `source`.
    pub fn new(source: Source) -> Self {
        NextUrl {
            source,
            seen: Seen::default(),
            continue_if_empty: false,
        }
    }

    /// The `Link: <…>; rel="next"` header (RFC 8288).
    pub fn link_header() -> Self {
        Self::new(Source::Link("next".to_owned()))
    }

    /// Goes on after an empty page (while a next URL comes back).
    #[must_use]
    pub fn continue_if_empty(mut self) -> Self {
        self.continue_if_empty = true;
        self
    }
}

impl Paginator for NextUrl {
    fn next(&mut self, base: &Request, page: &Page) -> Result<Next> {
        if page.records.is_empty() && !self.continue_if_empty {
            return Ok(Next::Done);
        }
        let Some(next) = self.source.read(page) else {
            return Ok(Next::Done);
        };
        let url = page.url.join(&next).map_err(|e| {
            Error::Pagination(format!("the next-page URL `{next}` is not valid ({e})"))
        })?;
        self.seen.check("next-page URL", &redact_url(&url, &[]))?;
        let mut request = base.clone();
        request.path = url.to_string();
        request.absolute = true;
        request.query.clear();
        Ok(Next::Request(Box::new(request)))
    }

    fn stop_on_empty(&self) -> bool {
        !self.continue_if_empty
    }
}

#[cfg(test)]
mod tests;
