//! `RestStream` through the tap runtime against loopback servers: GraphQL with a cursor
//! variable and errors in a 200, date windows, selectors and `post_process`, the starting
//! value as a query parameter, and records that do not fit their type.
#![cfg(feature = "rest")]

use chrono::{Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use singer_sdk::message::MessageWriter;
use singer_sdk::rest::{
    Cursor, DateWindows, ErrorRules, Request, RestClient, RestStream, Selector, Source,
};
use singer_sdk::tap::{Streams, SyncOptions, sync};
use singer_sdk::{Error, Schema};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs the streams; returns the RECORD bodies or the error.
async fn run(streams: Streams, start_date: Option<&str>) -> Result<Vec<Value>, Error> {
    let options = SyncOptions {
        start_date: start_date.map(Value::from),
        max_parallelism: 1,
        ..SyncOptions::default()
    };
    let (_, out) = sync(&streams, options, MessageWriter::new(Vec::new())).await?;
    let out = String::from_utf8(out.into_inner()?).unwrap();
    Ok(out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["record"].clone())
        .collect())
}

fn schema() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "integer"}, "day": {"type": ["string", "null"], "format": "date-time"}}})
}

/// The error and its causes, as the CLI prints them.
fn chain(err: &Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn graphql_pages_through_a_cursor_variable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_partial_json(json!({"variables": {"after": "c1"}})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"items": {
            "nodes": [{"id": 3}], "pageInfo": {"endCursor": null}}}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_partial_json(json!({"variables": {"first": 2}})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"items": {
            "nodes": [{"id": 1}, {"id": 2}], "pageInfo": {"endCursor": "c1"}}}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .rules(ErrorRules::default().graphql())
        .build()
        .unwrap();
    let items = RestStream::<Map<String, Value>>::graphql(
        "items",
        &client,
        "/graphql",
        "query($first: Int, $after: String) { items(first: $first, after: $after) { nodes { id } pageInfo { endCursor } } }",
        json!({"first": 2}),
    )
    .schema(schema())
    .key_properties(["id"])
    .selector(Selector::new("$.data.items.nodes[*]").unwrap())
    .paginator(Cursor::variable(
        Source::body("$.data.items.pageInfo.endCursor").unwrap(),
        "after",
    ));
    let records = run(Streams::new().with(items), None).await.unwrap();
    let ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);
}

#[tokio::test]
async fn graphql_errors_in_a_200_fail_the_stream() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": null, "errors": [{"message": "Field 'nope' doesn't exist"}]}),
        ))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .rules(ErrorRules::default().graphql())
        .build()
        .unwrap();
    let items = RestStream::<Map<String, Value>>::graphql(
        "items",
        &client,
        "/graphql",
        "{ nope }",
        json!({}),
    )
    .schema(schema());
    let err = run(Streams::new().with(items), None).await.unwrap_err();
    let text = format!(
        "{err}: {}",
        std::error::Error::source(&err)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(text.contains("items") && text.contains("nope"), "{text}");
}

#[tokio::test]
async fn date_windows_walk_from_the_start_date() {
    let server = MockServer::start().await;
    for (from, id) in [("2024-01-01", 1), ("2024-01-02", 2), ("2024-01-03", 3)] {
        Mock::given(method("GET"))
            .and(path("/events"))
            .and(query_param("from", format!("{from}T00:00:00Z")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!([{"id": id, "day": from}])),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = RestClient::builder(server.uri()).build().unwrap();
    let until = Utc.with_ymd_and_hms(2024, 1, 4, 0, 0, 0).unwrap();
    let events = RestStream::<Map<String, Value>>::new("events", &client, Request::get("/events"))
        .schema(schema())
        .replication_key("day")
        .windows(DateWindows::new("from", "to", Duration::days(1)).until(until));
    let records = run(Streams::new().with(events), Some("2024-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(records.len(), 3);
    server.verify().await;
}

#[tokio::test]
async fn date_windows_without_a_start_say_what_to_set() {
    let server = MockServer::start().await;
    let client = RestClient::builder(server.uri()).build().unwrap();
    let events = RestStream::<Map<String, Value>>::new("events", &client, Request::get("/events"))
        .schema(schema())
        .windows(DateWindows::new("from", "to", Duration::days(1)));
    let err = run(Streams::new().with(events), None).await.unwrap_err();
    assert!(chain(&err).contains("set `start_date`"), "{err}");
}

#[derive(Debug, Deserialize, Serialize, Schema)]
struct Event {
    #[schema(key)]
    id: i64,
    #[schema(replication_key)]
    seq: i64,
}

#[tokio::test]
async fn selector_post_process_and_since_with() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/events"))
        .and(query_param("after", "seq-7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [
            {"id": 1, "seq": 8, "skip": false},
            {"id": 2, "seq": 9, "skip": true},
            {"id": 3, "sequence": 10, "skip": false},
        ]})))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri()).build().unwrap();
    let events = RestStream::<Event>::new("events", &client, Request::get("/events"))
        .selector(Selector::new("$.items[*]").unwrap())
        .since_with("after", |value| {
            format!("seq-{}", value.as_str().unwrap_or_default())
        })
        .post_process(|mut raw, _| {
            if raw["skip"] == true {
                return Ok(None);
            }
            if let Some(seq) = raw.as_object_mut().and_then(|r| r.remove("sequence")) {
                raw["seq"] = seq;
            }
            raw.as_object_mut().unwrap().remove("skip");
            Ok(Some(raw))
        });
    let records = run(Streams::new().with(events), Some("7")).await.unwrap();
    assert_eq!(
        records,
        [json!({"id": 1, "seq": 8}), json!({"id": 3, "seq": 10})]
    );
}

#[tokio::test]
async fn records_that_do_not_fit_their_type_are_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "one", "seq": 1}])))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri()).build().unwrap();
    let events = RestStream::<Event>::new("events", &client, Request::get("/events"));
    let err = run(Streams::new().with(events), None).await.unwrap_err();
    let source = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(err.to_string().contains("`events`"), "{err}");
    assert!(
        source.contains("does not fit the stream's record type"),
        "{source}"
    );
}
