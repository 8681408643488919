//! [`RestClient::pages`]: an async stream of pages, fetched one after another or, when the
//! paginator can predict the remaining requests, several at once and yielded in order.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{BoxStream, FuturesOrdered, Stream, StreamExt};
use serde_json::Value;

use super::client::RestClient;
use super::error::Result;
use super::jsonpath::Selector;
use super::metrics::HttpRequestCount;
use super::pagination::{Next, Page, Paginator};
use super::request::Request;

/// The pages of one paginated request; a [`Stream`] of `Result<Page>`. The stream ends after
/// the last page, or after the first error (which it yields).
///
/// ```no_run
/// # #![allow(dead_code)]
/// # async fn run(client: singer_sdk::rest::RestClient) -> Result<(), singer_sdk::rest::Error> {
/// use futures::StreamExt;
/// use singer_sdk::rest::{PageNumber, Request, Selector, Source};
///
/// let paginator = PageNumber::new("page").total_pages(Source::header("X-Total-Pages"));
/// let mut pages = client
///     .pages(Request::get("/items"), paginator, Selector::new("$.items[*]")?)
///     .prefetch(4);
/// while let Some(page) = pages.next().await {
///     for record in page?.into_records() {
///         # drop(record);
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Pages {
    setup: Option<Run>,
    stream: Option<BoxStream<'static, Result<Page>>>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("started", &self.stream.is_some())
            .finish()
    }
}

impl RestClient {
    /// The pages of `request` as `paginator` walks them, with records picked by `selector`.
    pub fn pages(
        &self,
        request: Request,
        paginator: impl Paginator + 'static,
        selector: Selector,
    ) -> Pages {
        Pages {
            setup: Some(Run {
                client: self.clone(),
                paginator: Box::new(paginator),
                base: request,
                selector,
                prefetch: 1,
                in_flight: FuturesOrdered::new(),
                started: false,
                finished: false,
                requests: 0,
            }),
            stream: None,
        }
    }
}

impl Pages {
    /// Keeps up to `pages` requests in flight when the paginator can predict the next
    /// requests (a page count or total is known); pages are still yielded in order
    /// (default 1: one after another).
    #[must_use]
    pub fn prefetch(mut self, pages: usize) -> Self {
        if let Some(run) = &mut self.setup {
            run.prefetch = pages.max(1);
        }
        self
    }

    /// Collects every record of every page, in order.
    ///
    /// # Errors
    ///
    /// The first error of any page.
    pub async fn records(mut self) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        while let Some(page) = self.next().await {
            all.extend(page?.into_records());
        }
        Ok(all)
    }
}

impl Stream for Pages {
    type Item = Result<Page>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.stream.is_none() {
            let Some(run) = self.setup.take() else {
                return Poll::Ready(None);
            };
            self.stream = Some(futures::stream::unfold(run, Run::step).boxed());
        }
        match &mut self.stream {
            Some(stream) => stream.poll_next_unpin(cx),
            None => Poll::Ready(None),
        }
    }
}

struct Run {
    client: RestClient,
    paginator: Box<dyn Paginator>,
    base: Request,
    selector: Selector,
    prefetch: usize,
    in_flight: FuturesOrdered<BoxFuture<'static, Result<Page>>>,
    started: bool,
    finished: bool,
    requests: u64,
}

impl Run {
    async fn step(mut self) -> Option<(Result<Page>, Run)> {
        if self.finished {
            return None;
        }
        if !self.started {
            self.started = true;
            let first = self.paginator.first(&self.base);
            self.launch(first);
        }
        let page = match self.in_flight.next().await {
            Some(Ok(page)) => page,
            Some(Err(e)) => {
                self.finish();
                return Some((Err(e), self));
            }
            None => {
                self.finish();
                return None;
            }
        };
        if page.records.is_empty() && self.paginator.stop_on_empty() {
            // An empty page ends the pagination, even with later pages already requested.
            self.in_flight = FuturesOrdered::new();
            return Some((Ok(page), self));
        }
        if self.prefetch > 1 {
            let room = self.prefetch.saturating_sub(self.in_flight.len());
            for request in self.paginator.predict(&self.base, &page, room) {
                self.launch(request);
            }
        }
        if self.in_flight.is_empty() {
            match self.paginator.next(&self.base, &page) {
                Ok(Next::Request(request)) => self.launch(*request),
                Ok(Next::Done) => {}
                Err(e) => {
                    // Yield the page, then the error.
                    self.in_flight.push_back(Box::pin(async move { Err(e) }));
                }
            }
        }
        Some((Ok(page), self))
    }

    fn launch(&mut self, request: Request) {
        self.requests += 1;
        let client = self.client.clone();
        let selector = self.selector.clone();
        self.in_flight.push_back(Box::pin(
            async move { fetch(&client, request, &selector).await },
        ));
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            HttpRequestCount {
                stream: self.client.stream(),
                endpoint: self.base.path(),
                context: Some(&self.base.context),
                count: self.requests,
            }
            .emit();
        }
    }
}

async fn fetch(client: &RestClient, request: Request, selector: &Selector) -> Result<Page> {
    let url = client.url_for(&request)?;
    let response = client.send(&request).await?;
    let (body, records) = if response.is_ignored() {
        (Value::Null, Vec::new())
    } else {
        let body = response.json()?;
        let records = selector.select(&body);
        (body, records)
    };
    Ok(Page {
        request,
        url,
        response,
        body,
        records,
    })
}
