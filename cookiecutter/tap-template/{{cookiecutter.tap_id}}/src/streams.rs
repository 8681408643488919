//! The streams of the tap{% if cookiecutter.stream_type == "REST" %}: `users`, read page by page from the REST API{% elif cookiecutter.stream_type == "GraphQL" %}: `users`, queried page by page from the GraphQL API{% else %}: `items`, an example that makes its records up{% endif %}.

{% if cookiecutter.stream_type == "REST" -%}
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use singer_sdk::rest::{NextUrl, Request, RestClient, Selector};
use singer_sdk::stream::{RecordStream, Stream, SyncContext};
use singer_sdk::tap::Streams;
use singer_sdk::{Error, Result, Schema};

use crate::config::Config;

/// Every stream of the tap.
pub(crate) fn streams(config: &Config) -> Result<Streams> {
    let client = crate::client::build(config)?;
    Ok(Streams::new().with(Users {
        client: client.for_stream("users"),
    }))
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

/// `GET /users`: a JSON array per page, the next page in the `Link` header; asks only for
/// users changed since the bookmark.
pub(crate) struct Users {
    client: RestClient,
}

impl Stream for Users {
    type Record = User;

    fn name(&self) -> &str {
        "users"
    }

    fn is_sorted(&self) -> bool {
        true
    }

    fn records<'a>(&'a self, cx: &'a SyncContext) -> RecordStream<'a, User> {
        let mut request = Request::get("/users").query("sort", "updated_at");
        if let Some(since) = cx.starting_value().and_then(Value::as_str) {
            request = request.query("updated_since", since);
        }
        self.client
            .pages(request, NextUrl::link_header(), Selector::default())
            .map_err(|e| Error::context("cannot read the `users` stream", e))
            .map_ok(|page| futures::stream::iter(page.into_records().into_iter().map(decode)))
            .try_flatten()
            .boxed()
    }
}

/// A record of the API as a [`User`].
fn decode(record: Value) -> Result<User> {
    serde_json::from_value(record).map_err(|e| {
        Error::context(
            "a `users` record does not match the `User` type; update the type to what the API returns",
            e,
        )
    })
}
{%- elif cookiecutter.stream_type == "GraphQL" -%}
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use singer_sdk::rest::{Request, RestClient};
use singer_sdk::stream::{RecordStream, Stream, SyncContext};
use singer_sdk::tap::Streams;
use singer_sdk::{Error, Result, Schema};

use crate::config::Config;

/// The query of the `users` stream: one page of users after a cursor.
pub(crate) const USERS_QUERY: &str = "query Users($after: String) { users(first: 100, after: $after) { nodes { id name email updated_at: updatedAt } pageInfo { hasNextPage endCursor } } }";

/// Every stream of the tap.
pub(crate) fn streams(config: &Config) -> Result<Streams> {
    let client = crate::client::build(config)?;
    Ok(Streams::new().with(Users {
        client: client.for_stream("users"),
    }))
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

/// The `users` connection, page by page (`pageInfo.endCursor` is the next `$after`).
pub(crate) struct Users {
    client: RestClient,
}

/// Where the next page starts: the first page, after a cursor, or nowhere (done).
enum Next {
    First,
    After(String),
    Done,
}

impl Stream for Users {
    type Record = User;

    fn name(&self) -> &str {
        "users"
    }

    fn is_sorted(&self) -> bool {
        true
    }

    fn records<'a>(&'a self, _cx: &'a SyncContext) -> RecordStream<'a, User> {
        futures::stream::try_unfold(Next::First, move |next| async move {
            let after = match next {
                Next::First => Value::Null,
                Next::After(cursor) => Value::from(cursor),
                Next::Done => return Ok(None),
            };
            let (users, next) = self.page(after).await?;
            Ok::<_, Error>(Some((
                futures::stream::iter(users.into_iter().map(Ok::<User, Error>)),
                next,
            )))
        })
        .try_flatten()
        .boxed()
    }
}

impl Users {
    /// One page of users after the cursor `after` (`null` for the first page).
    async fn page(&self, after: Value) -> Result<(Vec<User>, Next)> {
        let request = Request::graphql("/graphql", USERS_QUERY, json!({"after": after}));
        let response = self
            .client
            .send(&request)
            .await
            .map_err(|e| Error::context("cannot query the `users` stream", e))?;
        let body = response
            .json()
            .map_err(|e| Error::context("the `users` query did not answer JSON", e))?;
        let connection = &body["data"]["users"];
        let users: Vec<User> =
            serde_json::from_value(connection["nodes"].clone()).map_err(|e| {
                Error::context(
                    "the `users` nodes do not match the `User` type; update the type or the query",
                    e,
                )
            })?;
        let info = &connection["pageInfo"];
        let next = match (info["hasNextPage"].as_bool(), info["endCursor"].as_str()) {
            (Some(true), Some(cursor)) => Next::After(cursor.to_owned()),
            (Some(true), None) => {
                return Err(Error::custom(
                    "the `users` query says `hasNextPage` but gives no `endCursor`",
                ));
            }
            _ => Next::Done,
        };
        Ok((users, next))
    }
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
