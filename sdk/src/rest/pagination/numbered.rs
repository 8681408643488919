//! Paginators that can predict their next requests: page numbers and offsets.

use super::{Next, Page, Paginator, Source};
use crate::rest::error::Result;
use crate::rest::request::Request;

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
