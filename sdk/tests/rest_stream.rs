//! `RestStream` through the tap runtime against loopback servers: GraphQL with a cursor
//! variable and errors in a 200, date windows (with a lookback), selectors and
//! `post_process`, the starting value as a query parameter, records that do not fit their
//! type, a repeated page token, and a partition skipped by an error rule.
#![cfg(feature = "rest")]

use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use singer_sdk::message::MessageWriter;
use singer_sdk::rest::{
    Action, Cursor, DateWindows, ErrorRules, PageNumber, Request, RestClient, RestStream, Rule,
    Selector, Source,
};
use singer_sdk::state::State;
use singer_sdk::tap::{Streams, SyncOptions, sync};
use singer_sdk::{Error, Schema};
use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Layer, SubscriberExt};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs the streams; returns the RECORD bodies or the error.
async fn run(streams: Streams, start_date: Option<&str>) -> Result<Vec<Value>, Error> {
    run_with_state(streams, start_date)
        .await
        .map(|(records, _)| records)
}

/// Runs the streams; returns the RECORD bodies and the final state, or the error.
async fn run_with_state(
    streams: Streams,
    start_date: Option<&str>,
) -> Result<(Vec<Value>, State), Error> {
    let options = SyncOptions {
        start_date: start_date.map(Value::from),
        max_parallelism: 1,
        ..SyncOptions::default()
    };
    let (state, out) = sync(&streams, options, MessageWriter::new(Vec::new())).await?;
    let out = String::from_utf8(out.into_inner()?).unwrap();
    let records = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["record"].clone())
        .collect();
    Ok((records, state))
}

/// WARN events, each as its message and fields (`message; name=value; …`).
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

struct Fields(Vec<String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert(0, format!("{value:?}"));
        } else {
            self.0.push(format!("{}={value:?}", field.name()));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(format!("{}={value}", field.name()));
    }
}

impl<S: Subscriber> Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == Level::WARN {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0.join("; "));
        }
    }
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

/// A page of `/projects/{project}/items`.
async fn mount_items(server: &MockServer, project: &str, page: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("/projects/{project}/items")))
        .and(query_param("page", page))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

fn items(updated: &[(i64, &str)]) -> ResponseTemplate {
    let records: Vec<Value> = updated
        .iter()
        .map(|(id, at)| json!({"id": id, "updated": at}))
        .collect();
    ResponseTemplate::new(200).set_body_json(records)
}

fn context(project: &str) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("project".to_owned(), Value::from(project));
    context
}

#[tokio::test]
async fn a_skip_rule_skips_one_partition_and_the_sync_goes_on() {
    for sorted in [true, false] {
        let warnings = Warnings::default();
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(warnings.clone()));
        let server = MockServer::start().await;
        // Partition `old` answers one page, then the API says the project is archived.
        mount_items(&server, "old", "1", items(&[(10, "2024-02-01T00:00:00Z")])).await;
        mount_items(
            &server,
            "old",
            "2",
            ResponseTemplate::new(403).set_body_string("archived"),
        )
        .await;
        mount_items(
            &server,
            "live",
            "1",
            items(&[(1, "2024-01-01T00:00:00Z"), (2, "2024-01-02T00:00:00Z")]),
        )
        .await;
        mount_items(&server, "live", "2", items(&[])).await;
        let rules = ErrorRules::default().rule(
            Rule::status(403)
                .body_contains("archived")
                .then(Action::SkipPartition),
        );
        let client = RestClient::builder(server.uri())
            .rules(rules)
            .build()
            .unwrap();
        let mut stream = RestStream::<Map<String, Value>>::new(
            "items",
            &client,
            Request::get("/projects/{project}/items"),
        )
        .schema(json!({"type": "object", "properties": {
            "id": {"type": "integer"},
            "updated": {"type": "string", "format": "date-time"},
        }}))
        .key_properties(["id"])
        .replication_key("updated")
        .paginator(PageNumber::new("page"))
        .partitions(vec![context("old"), context("live")]);
        if sorted {
            stream = stream.sorted();
        }
        let (records, state) = run_with_state(Streams::new().with(stream), None)
            .await
            .unwrap_or_else(|e| panic!("sorted={sorted}: the sync failed: {e}"));
        let ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [10, 1, 2], "sorted={sorted}");
        server.verify().await;

        let warnings = warnings.0.lock().unwrap().clone();
        let skipped: Vec<&String> = warnings.iter().filter(|w| w.contains("Skipping")).collect();
        assert_eq!(skipped.len(), 1, "{warnings:#?}");
        for part in [
            "stream=items",
            r#"context={"project":"old"}"#,
            "403 from",
            "/projects/old/items?page=2",
            "archived",
        ] {
            assert!(skipped[0].contains(part), "{part} not in {}", skipped[0]);
        }

        // The finished partition's bookmark reaches its newest record; the skipped one's goes
        // no further than what it emitted (and, unsorted, stays where it started).
        let bookmark = |project: &str| {
            state
                .bookmark("items", Some(&context(project)))
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(
            bookmark("live")["replication_key_value"],
            "2024-01-02T00:00:00Z"
        );
        let old = bookmark("old");
        if sorted {
            assert_eq!(old["replication_key_value"], "2024-02-01T00:00:00Z");
        } else {
            assert_eq!(old.get("replication_key_value"), None, "{old:?}");
        }
        for leftover in ["progress_markers", "signpost", "starting_value"] {
            assert_eq!(old.get(leftover), None, "sorted={sorted}: {old:?}");
        }
    }
}

#[tokio::test]
async fn a_repeated_page_token_fails_the_sync_naming_stream_and_token() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [{"id": 1}], "next": "tok-7"})),
        )
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri()).build().unwrap();
    let items = RestStream::<Map<String, Value>>::new("items", &client, Request::get("/items"))
        .schema(schema())
        .selector(Selector::new("$.items[*]").unwrap())
        .paginator(Cursor::new(Source::body("$.next").unwrap(), "cursor"));
    let err = run(Streams::new().with(items), None).await.unwrap_err();
    let text = chain(&err);
    assert!(text.contains("stream `items`"), "{text}");
    assert!(text.contains("`tok-7` twice"), "{text}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn date_windows_start_a_lookback_before_the_start() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri()).build().unwrap();
    let until = Utc.with_ymd_and_hms(2024, 1, 3, 0, 0, 0).unwrap();
    let windows = DateWindows::new("from", "to", Duration::days(1))
        .lookback(Duration::hours(12))
        .until(until);
    let events = RestStream::<Map<String, Value>>::new("events", &client, Request::get("/events"))
        .schema(schema())
        .replication_key("day")
        .windows(windows);
    run(Streams::new().with(events), Some("2024-01-02T00:00:00Z"))
        .await
        .unwrap();
    let sent: Vec<(String, String)> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let query: Map<String, Value> = r
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
                .collect();
            let text = |name: &str| query[name].as_str().unwrap().to_owned();
            (text("from"), text("to"))
        })
        .collect();
    assert_eq!(
        sent,
        [
            (
                "2024-01-01T12:00:00Z".to_owned(),
                "2024-01-02T12:00:00Z".to_owned()
            ),
            (
                "2024-01-02T12:00:00Z".to_owned(),
                "2024-01-03T00:00:00Z".to_owned()
            ),
        ]
    );
}
