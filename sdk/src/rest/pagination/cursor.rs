//! Paginators that follow what each page hands out: a cursor or a next URL.

use super::{Next, Page, Paginator, Seen, Source};
use crate::rest::error::{Error, Result, redact_url};
use crate::rest::request::Request;

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
    variable: bool,
    seen: Seen,
    continue_if_empty: bool,
}

impl Cursor {
    /// Reads the cursor from `source` and sends it as `param`.
    pub fn new(source: Source, param: impl Into<String>) -> Self {
        Cursor {
            source,
            param: param.into(),
            variable: false,
            seen: Seen::default(),
            continue_if_empty: false,
        }
    }

    /// Reads the cursor from `source` and sends it as the GraphQL variable `name` (in the
    /// JSON body's `variables`).
    ///
    /// ```
    /// use singer_sdk::rest::{Cursor, Source};
    /// let after = Cursor::variable(Source::body("$.data.issues.pageInfo.endCursor").unwrap(), "after");
    /// # drop(after);
    /// ```
    pub fn variable(source: Source, name: impl Into<String>) -> Self {
        Cursor {
            variable: true,
            ..Self::new(source, name)
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
        let mut request = base.clone();
        if self.variable {
            request.set_variable(&self.param, token);
        } else {
            request.set_query(&self.param, token);
        }
        Ok(Next::Request(Box::new(request)))
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
