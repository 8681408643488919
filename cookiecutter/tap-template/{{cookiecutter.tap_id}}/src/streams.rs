//! The streams of the tap{% if cookiecutter.stream_type == "REST" %}: `users`, read page by page from the REST API{% elif cookiecutter.stream_type == "GraphQL" %}: `users`, queried page by page from the GraphQL API{% elif cookiecutter.stream_type == "SQL" %}: one per table or view of the PostgreSQL database{% else %}: `items`, an example that makes its records up{% endif %}.

{% if cookiecutter.stream_type == "REST" -%}
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use singer_sdk::rest::{NextUrl, Request, RestStream};
use singer_sdk::tap::Streams;
use singer_sdk::{Result, Schema};

use crate::config::Config;

/// Every stream of the tap.
pub(crate) fn streams(config: &Config) -> Result<Streams> {
    let client = crate::client::build(config)?;
    // `GET /users?sort=updated_at`: a JSON array per page, the next page in the `Link`
    // header; asks only for users changed since the bookmark (`updated_since`).
    let users = RestStream::<User>::new(
        "users",
        &client,
        Request::get("/users").query("sort", "updated_at"),
    )
    .paginator(NextUrl::link_header())
    .since("updated_since")
    .sorted();
    Ok(Streams::new().with(users))
}

/// A user, as `GET /users` returns it: the stream's schema, key and replication key come
/// from this type.
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct User {
    /// The user's id.
    #[schema(key)]
    pub(crate) id: i64,
    /// The user's name.
    pub(crate) name: String,
    /// The user's email address, if known.
    pub(crate) email: Option<String>,
    /// When the user last changed.
    #[schema(replication_key)]
    pub(crate) updated_at: DateTime<Utc>,
}
{%- elif cookiecutter.stream_type == "GraphQL" -%}
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use singer_sdk::rest::{Cursor, RestStream, Selector, Source};
use singer_sdk::tap::Streams;
use singer_sdk::{Result, Schema};

use crate::config::Config;

/// The query of the `users` stream: one page of users after the cursor `$after`.
pub(crate) const USERS_QUERY: &str = "query Users($after: String) { users(first: 100, after: $after) { nodes { id name email updated_at: updatedAt } pageInfo { hasNextPage endCursor } } }";

/// Every stream of the tap.
pub(crate) fn streams(config: &Config) -> Result<Streams> {
    let client = crate::client::build(config)?;
    // The `users` connection, page by page: `pageInfo.endCursor` is the next `$after`.
    let users = RestStream::<User>::graphql(
        "users",
        &client,
        "/graphql",
        USERS_QUERY,
        json!({"after": null}),
    )
    .selector(Selector::new("$.data.users.nodes[*]")?)
    .paginator(Cursor::variable(
        Source::body("$.data.users.pageInfo.endCursor")?,
        "after",
    ))
    .sorted();
    Ok(Streams::new().with(users))
}

/// A user, as the `users` query returns it: the stream's schema, key and replication key
/// come from this type.
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct User {
    /// The user's id.
    #[schema(key)]
    pub(crate) id: i64,
    /// The user's name.
    pub(crate) name: String,
    /// The user's email address, if known.
    pub(crate) email: Option<String>,
    /// When the user last changed.
    #[schema(replication_key)]
    pub(crate) updated_at: DateTime<Utc>,
}
{%- elif cookiecutter.stream_type == "SQL" -%}
use singer_sdk::sql::postgres::{DiscoverOptions, discover};
use singer_sdk::stream::Stream as _;
use singer_sdk::tap::Streams;
use singer_sdk::{Error, Result};

use crate::config::Config;

/// Every table and view the user may read (in `filter_schemas`, if set), found by one
/// catalog query: a stream named `<schema>-<table>` each, its columns typed properties, its
/// primary key the stream's key. Each is read through a server-side cursor; one with a
/// replication key (`replication_keys`, or the catalog's metadata) in key order from its
/// bookmark on.
pub(crate) async fn streams(config: &Config) -> Result<Streams> {
    let connect = config.connect_options()?;
    let mut options = DiscoverOptions::default();
    options.filter_schemas = config.filter_schemas.clone().unwrap_or_default();
    let found = discover(&connect, &options).await?;
    let mut keys = config.replication_keys.clone().unwrap_or_default();
    let mut streams = Streams::new();
    for stream in found {
        let stream = match keys.remove(stream.name()) {
            Some(key) => stream.with_replication_key(&key)?,
            None => stream,
        };
        streams.push(stream);
    }
    if let Some(name) = keys.keys().next() {
        return Err(Error::InvalidConfig {
            violations: vec![format!(
                "`replication_keys`: no stream `{name}` was discovered; stream names are `<schema>-<table>` (check `filter_schemas` and the user's SELECT privileges)"
            )],
        });
    }
    Ok(streams)
}
{%- else -%}
use chrono::{DateTime, Days, Utc};
use serde::Serialize;
use singer_sdk::stream::{RecordStream, Stream, SyncContext, records_from_iter};
use singer_sdk::tap::Streams;
use singer_sdk::{Result, Schema};

use crate::config::Config;

/// Every stream of the tap.
pub(crate) fn streams(config: &Config) -> Result<Streams> {
    Ok(Streams::new().with(Items {
        count: config.item_count,
    }))
}

/// An item: the stream's schema, key and replication key come from this type.
#[derive(Debug, Serialize, Schema)]
pub(crate) struct Item {
    /// The item's id.
    #[schema(key)]
    pub(crate) id: i64,
    /// The item's name.
    pub(crate) name: String,
    /// When the item last changed.
    #[schema(replication_key)]
    pub(crate) updated_at: DateTime<Utc>,
}

/// An example stream that makes its records up, one a day from 2024-01-02: replace it with
/// one that reads {{ cookiecutter.source_name }}.
pub(crate) struct Items {
    count: u32,
}

impl Stream for Items {
    type Record = Item;

    fn name(&self) -> &str {
        "items"
    }

    fn is_sorted(&self) -> bool {
        true
    }

    fn records<'a>(&'a self, _cx: &'a SyncContext) -> RecordStream<'a, Item> {
        // 2024-01-01T00:00:00Z
        let start = DateTime::<Utc>::UNIX_EPOCH + Days::new(19_723);
        records_from_iter((1..=self.count).map(move |i| {
            Ok(Item {
                id: i.into(),
                name: format!("item {i}"),
                updated_at: start + Days::new(i.into()),
            })
        }))
    }
}
{%- endif %}
