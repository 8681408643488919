//! tap-rest-api-msdk's pagination styles on the SDK's [`Paginator`] trait.
//!
//! A request style says where the next page's token comes from (a body JSONPath, a header,
//! the `Link` header, a page or offset counter); a response style says how the token is
//! sent (a `page` or `offset` query parameter, a query string to merge, a URL to follow).

use serde_json::Value;
use singer_sdk::rest::{
    Error, JsonPath, Next, NextUrl, Page, Paginator, Request, Result, Selector, Source,
};

/// The pagination settings (top level only, as in tap-rest-api-msdk).
#[derive(Debug, Clone)]
pub(crate) struct Pagination {
    pub(crate) request: RequestStyle,
    pub(crate) response: ResponseStyle,
    pub(crate) next_page_token_path: Option<String>,
    pub(crate) page_size: Option<u64>,
    pub(crate) results_limit: Option<u64>,
    pub(crate) next_page_param: Option<String>,
    pub(crate) limit_param: Option<String>,
    pub(crate) total_param: String,
    pub(crate) initial_offset: u64,
}

/// `pagination_request_style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestStyle {
    JsonPath,
    Offset,
    SimpleHeader,
    HeaderLink,
    RestApiHeaderLink,
    Hateoas,
    SinglePage,
    PageNumber,
    SimpleOffset,
}

impl RequestStyle {
    pub(crate) const NAMES: &[&str] = &[
        "default",
        "jsonpath_paginator",
        "offset_paginator",
        "style1",
        "simple_header_paginator",
        "header_link_paginator",
        "restapi_header_link_paginator",
        "hateoas_paginator",
        "single_page_paginator",
        "page_number_paginator",
        "simple_offset_paginator",
    ];

    /// A name from [`Self::NAMES`] (anything else reads as the default).
    pub(crate) fn parse(name: &str) -> Self {
        match name {
            "offset_paginator" | "style1" => RequestStyle::Offset,
            "simple_header_paginator" => RequestStyle::SimpleHeader,
            "header_link_paginator" => RequestStyle::HeaderLink,
            "restapi_header_link_paginator" => RequestStyle::RestApiHeaderLink,
            "hateoas_paginator" => RequestStyle::Hateoas,
            "single_page_paginator" => RequestStyle::SinglePage,
            "page_number_paginator" => RequestStyle::PageNumber,
            "simple_offset_paginator" => RequestStyle::SimpleOffset,
            _ => RequestStyle::JsonPath,
        }
    }
}

/// `pagination_response_style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseStyle {
    Page,
    Offset,
    HeaderLink,
    HateoasBody,
}

impl ResponseStyle {
    pub(crate) const NAMES: &[&str] = &[
        "default",
        "page",
        "offset",
        "style1",
        "header_link",
        "hateoas_body",
    ];

    /// A name from [`Self::NAMES`] (anything else reads as the default).
    pub(crate) fn parse(name: &str) -> Self {
        match name {
            "offset" | "style1" => ResponseStyle::Offset,
            "header_link" => ResponseStyle::HeaderLink,
            "hateoas_body" => ResponseStyle::HateoasBody,
            _ => ResponseStyle::Page,
        }
    }
}

impl Pagination {
    /// The page size the offset and link styles use (tap-rest-api-msdk's defaults: the
    /// page-size parameter's value in `params`, else 25).
    fn effective_page_size(&self, params: &serde_json::Map<String, Value>) -> u64 {
        if let Some(size) = self.page_size {
            return size;
        }
        let param = self.limit_param.as_deref().unwrap_or(match self.request {
            RequestStyle::RestApiHeaderLink => "per_page",
            _ => "limit",
        });
        params
            .get(param)
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or(25)
    }

    /// Query parameters every request of a stream carries for paging (the page size).
    pub(crate) fn base_params(&self) -> Vec<(String, String)> {
        let limit = |default: &str| {
            self.limit_param
                .clone()
                .unwrap_or_else(|| default.to_owned())
        };
        match self.response {
            ResponseStyle::Offset => self
                .page_size
                .map(|size| vec![(limit("limit"), size.to_string())])
                .unwrap_or_default(),
            ResponseStyle::HeaderLink => {
                vec![(limit("per_page"), self.page_size.unwrap_or(25).to_string())]
            }
            ResponseStyle::HateoasBody => match (&self.limit_param, self.page_size) {
                (Some(param), Some(size)) => vec![(param.clone(), size.to_string())],
                _ => Vec::new(),
            },
            ResponseStyle::Page => Vec::new(),
        }
    }

    /// A fresh paginator for a stream with these `params` and `offset_records_jsonpath`.
    ///
    /// # Errors
    /// A JSONPath that does not parse (already checked by [`crate::spec`]).
    pub(crate) fn paginator(
        &self,
        params: &serde_json::Map<String, Value>,
        offset_records_jsonpath: Option<&str>,
    ) -> Result<Styled> {
        let token_path = || {
            Source::body(
                self.next_page_token_path
                    .as_deref()
                    .unwrap_or("$.next_page"),
            )
        };
        let page_size = self.effective_page_size(params);
        let kind = match self.request {
            RequestStyle::JsonPath if self.response == ResponseStyle::HateoasBody => {
                Kind::Follow(NextUrl::new(token_path()?).continue_if_empty())
            }
            RequestStyle::JsonPath => Kind::Token(token_path()?),
            RequestStyle::SimpleHeader => match self.next_page_token_path {
                Some(_) => Kind::Token(token_path()?),
                None => Kind::Token(Source::header("X-Next-Page")),
            },
            RequestStyle::HeaderLink => Kind::Follow(NextUrl::link_header().continue_if_empty()),
            RequestStyle::Hateoas => Kind::Follow(NextUrl::new(token_path()?).continue_if_empty()),
            RequestStyle::RestApiHeaderLink => Kind::RestLink { page_size },
            RequestStyle::SinglePage => Kind::Single,
            RequestStyle::PageNumber => Kind::PageNumber {
                current: self.initial_offset,
                has_more: self
                    .next_page_token_path
                    .as_deref()
                    .map(JsonPath::parse)
                    .transpose()?,
            },
            RequestStyle::Offset => Kind::Offset {
                current: self.initial_offset,
                page_size,
                pagination: self
                    .next_page_token_path
                    .as_deref()
                    .map(JsonPath::parse)
                    .transpose()?,
                total_param: self.total_param.clone(),
            },
            RequestStyle::SimpleOffset => Kind::SimpleOffset {
                current: self.initial_offset,
                page_size: self.page_size.unwrap_or(25),
                records: offset_records_jsonpath.map(Selector::new).transpose()?,
            },
        };
        let param = match self.response {
            ResponseStyle::Offset => Some(
                self.next_page_param
                    .clone()
                    .unwrap_or_else(|| "offset".to_owned()),
            ),
            ResponseStyle::Page => Some(
                self.next_page_param
                    .clone()
                    .unwrap_or_else(|| "page".to_owned()),
            ),
            ResponseStyle::HeaderLink | ResponseStyle::HateoasBody => None,
        };
        Ok(Styled {
            kind,
            param,
            previous: None,
            pages: 0,
            records: 0,
            results_limit: self.results_limit,
        })
    }
}

/// A pagination style as a [`Paginator`].
#[derive(Debug, Clone)]
pub(crate) struct Styled {
    kind: Kind,
    /// The query parameter the token goes in; `None`: the token is a query string to merge.
    param: Option<String>,
    previous: Option<String>,
    pages: u64,
    records: u64,
    results_limit: Option<u64>,
}

#[derive(Debug, Clone)]
enum Kind {
    /// A token read from the body or a header.
    Token(Source),
    /// A next URL to follow.
    Follow(NextUrl),
    Single,
    /// The query string of the `Link: rel="next"` URL, until a page has no items or the
    /// results limit is reached.
    RestLink {
        page_size: u64,
    },
    PageNumber {
        current: u64,
        has_more: Option<JsonPath>,
    },
    Offset {
        current: u64,
        page_size: u64,
        pagination: Option<JsonPath>,
        total_param: String,
    },
    SimpleOffset {
        current: u64,
        page_size: u64,
        records: Option<Selector>,
    },
}

impl Paginator for Styled {
    fn next(&mut self, base: &Request, page: &Page) -> Result<Next> {
        self.pages += 1;
        self.records += page.records().len() as u64;
        if self
            .results_limit
            .is_some_and(|limit| self.records >= limit)
        {
            return Ok(Next::Done);
        }
        let token = match &mut self.kind {
            Kind::Follow(next) => return next.next(base, page),
            Kind::Single => None,
            Kind::Token(source) => source.read(page).filter(|t| t != "false" && t != "0"),
            Kind::RestLink { page_size } => {
                if self
                    .results_limit
                    .is_some_and(|limit| self.pages * *page_size >= limit)
                {
                    return Ok(Next::Done);
                }
                let items = match page.body() {
                    Value::Array(items) => !items.is_empty(),
                    body => body.get("items").is_some_and(|i| !is_falsy(i)),
                };
                let query = Source::Link("next".to_owned())
                    .read(page)
                    .and_then(|next| url::Url::parse(&next).ok())
                    .and_then(|url| url.query().map(str::to_owned));
                query.filter(|_| items)
            }
            Kind::PageNumber { current, has_more } => {
                let more = match has_more {
                    Some(path) => path.first(page.body()).is_some_and(|v| !is_falsy(v)),
                    None => page.body().get("hasMore").is_some_and(|v| !is_falsy(v)),
                };
                more.then(|| {
                    *current += 1;
                    current.to_string()
                })
            }
            Kind::Offset {
                current,
                page_size,
                pagination,
                total_param,
            } => {
                let flat = pagination_object(pagination.as_ref(), page);
                let number = |key: &str| flat.get(key).and_then(Value::as_f64);
                let more = match (number("offset"), number("limit")) {
                    (Some(offset), Some(limit)) => {
                        offset + limit <= number(total_param).unwrap_or(0.0)
                    }
                    _ => false,
                };
                more.then(|| {
                    *current += *page_size;
                    current.to_string()
                })
            }
            Kind::SimpleOffset {
                current,
                page_size,
                records,
            } => {
                let count = match records {
                    Some(selector) => selector.path().first(page.body()).map_or(0, |v| match v {
                        Value::Array(items) => items.len(),
                        Value::Object(map) => map.len(),
                        Value::String(text) => text.chars().count(),
                        _ => 0,
                    }),
                    None => page.body().as_array().map_or(0, Vec::len),
                };
                (count as u64 == *page_size).then(|| {
                    *current += *page_size;
                    current.to_string()
                })
            }
        };
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Ok(Next::Done);
        };
        if self.previous.as_deref() == Some(token.as_str()) {
            return Err(Error::Pagination(format!(
                "the API returned the next-page token `{token}` twice in a row; check `pagination_request_style` and `next_page_token_path`"
            )));
        }
        self.previous = Some(token.clone());
        let mut request = base.clone();
        match &self.param {
            Some(param) => request.set_query(param.as_str(), &token),
            None => {
                let query = token.rsplit_once('?').map_or(token.as_str(), |(_, q)| q);
                for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
                    request.set_query(name.into_owned(), value);
                }
            }
        }
        Ok(Next::Request(Box::new(request)))
    }

    /// Offsets are predictable once a page tells the total: the requests up to it.
    fn predict(&mut self, base: &Request, last: &Page, n: usize) -> Vec<Request> {
        let (
            Kind::Offset {
                current,
                page_size,
                pagination,
                total_param,
            },
            Some(param),
        ) = (&mut self.kind, &self.param)
        else {
            return Vec::new();
        };
        let flat = pagination_object(pagination.as_ref(), last);
        let (Some(total), Some(limit)) = (
            flat.get(total_param.as_str()).and_then(Value::as_f64),
            flat.get("limit").and_then(Value::as_f64),
        ) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // The page at `current` exists and says more follow while `current + limit <= total`.
        #[allow(clippy::cast_precision_loss)] // offsets are far below 2^52
        while out.len() < n && *current as f64 + limit <= total {
            *current += *page_size;
            let mut request = base.clone();
            request.set_query(param.as_str(), *current);
            out.push(request);
            self.previous = Some(current.to_string());
        }
        out
    }

    fn stop_on_empty(&self) -> bool {
        false
    }
}

/// The pagination object of an offset page (`pagination`, or at the configured path),
/// nested objects merged.
fn pagination_object(path: Option<&JsonPath>, page: &Page) -> serde_json::Map<String, Value> {
    let object = match path {
        Some(path) => path.first(page.body()),
        None => page.body().get("pagination"),
    };
    object.map(unnest).unwrap_or_default()
}

/// Python's truthiness for a JSON value.
fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Nested objects merged into one level (tap-rest-api-msdk's `unnest_dict`).
fn unnest(value: &Value) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    if let Value::Object(map) = value {
        for (key, value) in map {
            match value {
                Value::Object(_) => out.extend(unnest(value)),
                other => {
                    out.insert(key.clone(), other.clone());
                }
            }
        }
    }
    out
}
