//! [`RestStream`]: a [`Stream`] whose records come from a paginated REST or GraphQL API.
//!
//! A stream is a base request (method, path with `{placeholders}` filled from the
//! partition's context, query, body, headers), a paginator, a records selector and what the
//! SDK's `Stream` needs (schema, keys, replication key, parent). Requests go through the
//! stream's [`RestClient`], so authentication, retries, rate limits, error rules and metrics
//! apply; the tap runtime does the rest (bookmarks, STATE, maps, concurrency).

use std::marker::PhantomData;
use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::client::RestClient;
use super::jsonpath::Selector;
use super::pagination::{Paginator, SinglePage};
use super::request::Request;
use super::windows::DateWindows;
use crate::error::{Error, Result};
use crate::record::Record;
use crate::schema::Schema;
use crate::stream::{Context, Partitions, RecordStream, Stream, SyncContext, records_from_iter};

type PaginatorFactory = Arc<dyn Fn() -> Box<dyn Paginator> + Send + Sync>;
type PostProcess = Arc<dyn Fn(Value, &SyncContext) -> Result<Option<Value>> + Send + Sync>;
type ChildContexts<R> = Arc<dyn Fn(&R, Option<&Context>) -> Vec<Context> + Send + Sync>;
type SinceFormat = Arc<dyn Fn(&Value) -> String + Send + Sync>;

/// A stream of records from a REST (or GraphQL) API.
///
/// `R` is the record type: a struct deriving `Deserialize`, `Serialize` and [`Schema`]
/// (schema, key and replication key come from it), or `serde_json::Map<String, Value>` with
/// [`schema`](Self::schema), [`key_properties`](Self::key_properties) and
/// [`replication_key`](Self::replication_key) given here.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use singer_sdk::rest::{NextUrl, Request, RestClient, RestStream};
/// use singer_sdk::Schema;
///
/// #[derive(Deserialize, Serialize, Schema)]
/// struct Issue {
///     #[schema(key)]
///     id: i64,
///     number: i64,
///     #[schema(replication_key, format = "date-time")]
///     updated_at: String,
/// }
///
/// # fn main() -> Result<(), singer_sdk::rest::Error> {
/// let client = RestClient::builder("https://api.github.com").build()?;
/// let issues = RestStream::<Issue>::new("issues", &client, Request::get("/repos/{owner}/{repo}/issues"))
///     .paginator(NextUrl::link_header())
///     .since("since")
///     .child_context(|issue, repo| {
///         let mut context = repo.cloned().unwrap_or_default();
///         context.insert("issue_number".into(), issue.number.into());
///         context
///     });
/// let streams = singer_sdk::tap::Streams::new().with(issues);
/// assert_eq!(streams.names(), ["issues"]);
/// # Ok(()) }
/// ```
pub struct RestStream<R = Map<String, Value>> {
    name: String,
    client: RestClient,
    request: Request,
    paginator: PaginatorFactory,
    selector: Selector,
    prefetch: usize,
    schema: Option<Value>,
    keys: Option<Vec<String>>,
    replication_key: Option<String>,
    sorted: bool,
    selected_by_default: bool,
    parent: Option<String>,
    partitions: Option<Vec<Context>>,
    state_keys: Option<Vec<String>>,
    ignore_parent_key: bool,
    child_contexts: Option<ChildContexts<R>>,
    post_process: Option<PostProcess>,
    since: Option<(String, Option<SinceFormat>)>,
    windows: Option<DateWindows>,
    record: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for RestStream<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestStream")
            .field("name", &self.name)
            .field("request", &self.request)
            .field("selector", &self.selector.path().as_str())
            .field("parent", &self.parent)
            .finish_non_exhaustive()
    }
}

impl<R> RestStream<R> {
    /// A stream named `name` that sends `request` through (a copy of) `client`, one page (until a
    /// [`paginator`](Self::paginator) is set), records at `$[*]`.
    pub fn new(name: impl Into<String>, client: &RestClient, request: Request) -> Self {
        let name = name.into();
        RestStream {
            client: client.for_stream(&name),
            name,
            request,
            paginator: Arc::new(|| Box::new(SinglePage)),
            selector: Selector::default(),
            prefetch: 1,
            schema: None,
            keys: None,
            replication_key: None,
            sorted: false,
            selected_by_default: true,
            parent: None,
            partitions: None,
            state_keys: None,
            ignore_parent_key: false,
            child_contexts: None,
            post_process: None,
            since: None,
            windows: None,
            record: PhantomData,
        }
    }

    /// A GraphQL stream: `query` POSTed to `path` with `variables`, records picked by a
    /// [`selector`](Self::selector) (e.g. `$.data.repository.issues.nodes[*]`), pages by a
    /// [`Cursor::variable`](super::Cursor::variable). Give the client
    /// [`ErrorRules::graphql`](super::ErrorRules::graphql) so `errors` in a 200 response fail.
    pub fn graphql(
        name: impl Into<String>,
        client: &RestClient,
        path: impl Into<String>,
        query: &str,
        variables: Value,
    ) -> Self {
        Self::new(name, client, Request::graphql(path, query, variables))
    }

    /// How pages follow each other (a fresh copy per partition).
    #[must_use]
    pub fn paginator<P: Paginator + Clone + Sync + 'static>(mut self, paginator: P) -> Self {
        self.paginator = Arc::new(move || Box::new(paginator.clone()));
        self
    }

    /// Where the records are in a page's body (default `$[*]`).
    #[must_use]
    pub fn selector(mut self, selector: Selector) -> Self {
        self.selector = selector;
        self
    }

    /// Fetches up to `pages` pages of a partition at once when the paginator can predict
    /// them (a total or page count is known); records still come in page order.
    #[must_use]
    pub fn prefetch(mut self, pages: usize) -> Self {
        self.prefetch = pages.max(1);
        self
    }

    /// The JSON Schema of the records (for `Map` records; typed records bring theirs).
    #[must_use]
    pub fn schema(mut self, schema: Value) -> Self {
        self.schema = Some(schema);
        self
    }

    /// The primary key (for `Map` records; typed records bring theirs).
    #[must_use]
    pub fn key_properties<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.keys = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// The replication key (for `Map` records; typed records bring theirs).
    #[must_use]
    pub fn replication_key(mut self, key: impl Into<String>) -> Self {
        self.replication_key = Some(key.into());
        self
    }

    /// The API returns records in ascending replication key order, so the bookmark is
    /// resumable mid-stream.
    #[must_use]
    pub fn sorted(mut self) -> Self {
        self.sorted = true;
        self
    }

    /// Whether the stream is selected when the catalog says nothing (default `true`).
    #[must_use]
    pub fn selected_by_default(mut self, selected: bool) -> Self {
        self.selected_by_default = selected;
        self
    }

    /// Sends the sync's starting value (the bookmark, or `start_date`) as query parameter
    /// `param`, as it is stored (e.g. `since=2024-05-01T00:00:00Z`).
    #[must_use]
    pub fn since(mut self, param: impl Into<String>) -> Self {
        self.since = Some((param.into(), None));
        self
    }

    /// Like [`since`](Self::since), with the value formatted by `format` (e.g. a Unix time).
    #[must_use]
    pub fn since_with(
        mut self,
        param: impl Into<String>,
        format: impl Fn(&Value) -> String + Send + Sync + 'static,
    ) -> Self {
        self.since = Some((param.into(), Some(Arc::new(format))));
        self
    }

    /// Walks the API in date windows from the starting value (or `start_date`) to now.
    #[must_use]
    pub fn windows(mut self, windows: DateWindows) -> Self {
        self.windows = Some(windows);
        self
    }

    /// The partitions to sync, each a context filling the path's placeholders (e.g. one per
    /// repository: `{"owner": "rust-lang", "repo": "cargo"}`).
    #[must_use]
    pub fn partitions(mut self, partitions: Vec<Context>) -> Self {
        self.partitions = Some(partitions);
        self
    }

    /// Makes this a child of the stream named `parent`: one partition per context the
    /// parent's records give (see [`child_context`](Self::child_context)).
    #[must_use]
    pub fn parent(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// Which context keys identify a partition's bookmark (`[]`: one for the stream).
    #[must_use]
    pub fn state_partitioning_keys<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        keys: I,
    ) -> Self {
        self.state_keys = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// For a child: sync the parent full-table even when it is incremental.
    #[must_use]
    pub fn ignore_parent_replication_key(mut self) -> Self {
        self.ignore_parent_key = true;
        self
    }

    /// For a parent: the context of the child partition each record opens, from the record
    /// and the parent's own partition context.
    #[must_use]
    pub fn child_context(
        mut self,
        context: impl Fn(&R, Option<&Context>) -> Context + Send + Sync + 'static,
    ) -> Self {
        self.child_contexts = Some(Arc::new(move |record, partition| {
            vec![context(record, partition)]
        }));
        self
    }

    /// For a parent: any number of child contexts per record (none skips its children).
    #[must_use]
    pub fn child_contexts(
        mut self,
        contexts: impl Fn(&R, Option<&Context>) -> Vec<Context> + Send + Sync + 'static,
    ) -> Self {
        self.child_contexts = Some(Arc::new(contexts));
        self
    }

    /// Rewrites (or, returning `None`, drops) each raw record before it becomes an `R`.
    #[must_use]
    pub fn post_process(
        mut self,
        process: impl Fn(Value, &SyncContext) -> Result<Option<Value>> + Send + Sync + 'static,
    ) -> Self {
        self.post_process = Some(Arc::new(process));
        self
    }

    /// The requests of one partition: the base request with the context and the starting
    /// value, one per date window when the stream walks windows.
    fn requests(&self, cx: &SyncContext) -> Result<Vec<Request>> {
        let mut base = self.request.clone();
        if let Some(partition) = cx.partition() {
            base = base.context(partition);
        }
        if let (Some((param, format)), Some(start)) = (&self.since, cx.starting_value()) {
            let value = match (format, start) {
                (Some(format), value) => format(value),
                (None, Value::String(text)) => text.clone(),
                (None, other) => other.to_string(),
            };
            base.set_query(param.as_str(), value);
        }
        match &self.windows {
            None => Ok(vec![base]),
            Some(windows) => windows
                .requests(&base, cx.starting_timestamp())
                .map_err(|e| Error::StreamDefinition {
                    stream: self.name.clone(),
                    message: e,
                }),
        }
    }
}

impl<R: DeserializeOwned> RestStream<R> {
    fn record(&self, raw: Value, cx: &SyncContext) -> Result<Option<R>> {
        let raw = match &self.post_process {
            Some(process) => match process(raw, cx)? {
                Some(raw) => raw,
                None => return Ok(None),
            },
            None => raw,
        };
        serde_json::from_value(raw).map(Some).map_err(|e| {
            Error::custom(format!(
                "a record from the API does not fit the stream's record type: {e}; fix the record type or map the record in `post_process`"
            ))
        })
    }
}

impl<R> Stream for RestStream<R>
where
    R: Record + Schema + Serialize + DeserializeOwned + Send + 'static,
{
    type Record = R;

    fn name(&self) -> &str {
        &self.name
    }

    fn schema(&self) -> Value {
        self.schema.clone().unwrap_or_else(R::json_schema)
    }

    fn key_properties(&self) -> &[String] {
        match &self.keys {
            Some(keys) => keys,
            None => R::key_properties(),
        }
    }

    fn replication_key(&self) -> Option<&str> {
        match &self.replication_key {
            Some(key) => Some(key),
            None => R::replication_key(),
        }
    }

    fn is_sorted(&self) -> bool {
        self.sorted
    }

    fn selected_by_default(&self) -> bool {
        self.selected_by_default
    }

    fn partitions(&self, from_state: Vec<Context>) -> Partitions {
        match &self.partitions {
            Some(partitions) => Partitions::Each(partitions.clone()),
            None if from_state.is_empty() => Partitions::Whole,
            None => Partitions::Each(from_state),
        }
    }

    fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }

    fn child_contexts(&self, record: &R, partition: Option<&Context>) -> Result<Vec<Context>> {
        match &self.child_contexts {
            Some(contexts) => Ok(contexts(record, partition)),
            None => match partition {
                Some(partition) => Ok(vec![partition.clone()]),
                None => match serde_json::to_value(record)? {
                    Value::Object(map) => Ok(vec![map]),
                    _ => Ok(Vec::new()),
                },
            },
        }
    }

    fn state_partitioning_keys(&self) -> Option<&[String]> {
        self.state_keys.as_deref()
    }

    fn ignore_parent_replication_key(&self) -> bool {
        self.ignore_parent_key
    }

    fn records<'a>(&'a self, cx: &'a SyncContext) -> RecordStream<'a, R> {
        let requests = match self.requests(cx) {
            Ok(requests) => requests,
            Err(e) => return records_from_iter([Err(e)]),
        };
        let pages = futures::stream::iter(requests)
            .map(move |request| {
                self.client
                    .pages(request, (self.paginator)(), self.selector.clone())
                    .prefetch(self.prefetch)
            })
            .flatten();
        Box::pin(pages.flat_map(move |page| {
            let records: Vec<Result<R>> = match page {
                Err(e) => vec![Err(e.into())],
                Ok(page) => page
                    .into_records()
                    .into_iter()
                    .filter_map(|raw| self.record(raw, cx).transpose())
                    .collect(),
            };
            futures::stream::iter(records)
        }))
    }
}
