//! Records and schemas: flattening as tap-rest-api-msdk does it, `except_keys`, the raw
//! record, schema inference shown by `--discover`, incremental syncs from `start_date` and
//! state, parent/child streams through path placeholders, error rules, and bad config.

mod run;
mod server;

use serde_json::{Value, json};
use server::Api;

fn config(api: &Api, stream: Value) -> Value {
    json!({"api_url": api.uri(), "records_path": "$.items[*]", "streams": Value::Array(vec![stream])})
}

#[tokio::test(flavor = "multi_thread")]
async fn records_are_flattened_with_msdk_names() {
    let api = Api::start().await;
    let run = run::tap(
        &config(
            &api,
            json!({"name": "items", "path": "/single/items", "primary_keys": ["id"]}),
        ),
        None,
        &[],
    );
    run.assert_ok();
    let first = &run.records("items")[0];
    assert_eq!(
        first,
        &json!({
            "id": 1, "name": "item-1", "updated_at": "2024-01-01T10:00:00Z", "score": 1.5,
            "owner_login": "user1", "owner_address_zip_code": "10001",
            "tags": "[\"a\", \"t1\"]", "meta_flag": false, "note": null,
        })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn except_keys_stay_whole_and_raw_json_is_kept() {
    let api = Api::start().await;
    let mut config = config(
        &api,
        json!({"name": "items", "path": "/single/items", "except_keys": ["owner"]}),
    );
    config["store_raw_json_message"] = json!(true);
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    let first = &run.records("items")[0];
    assert_eq!(
        first["owner"],
        json!("{\"login\": \"user1\", \"address\": {\"zip-code\": \"10001\"}}")
    );
    assert!(first.get("owner_login").is_none());
    assert_eq!(first["_sdc_raw_json"], server::items()[0]);
    assert_eq!(
        run.schema("items")["properties"]["_sdc_raw_json"]["type"],
        "object"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn discover_shows_the_inferred_schema() {
    let api = Api::start().await;
    let run = run::tap(
        &config(
            &api,
            json!({"name": "items", "path": "/single/items", "primary_keys": ["id"], "num_inference_records": 5}),
        ),
        None,
        &["--discover"],
    );
    run.assert_ok();
    let catalog: Value = serde_json::from_str(&run.stdout).unwrap();
    let properties = &catalog["streams"][0]["schema"]["properties"];
    assert_eq!(properties["id"], json!({"type": "integer"}));
    assert_eq!(
        properties["score"],
        json!({"type": "number"}),
        "integers and floats widen"
    );
    assert_eq!(
        properties["updated_at"],
        json!({"type": "string", "format": "date-time"})
    );
    assert_eq!(
        properties["note"],
        json!({"type": ["null", "string"]}),
        "null or missing"
    );
    assert_eq!(properties["meta_flag"], json!({"type": "boolean"}));
    assert_eq!(properties["tags"], json!({"type": "string"}));
    assert_eq!(
        api.requests(),
        ["/single/items?"],
        "discovery fetches one sample page"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inference_reads_only_the_first_records() {
    let api = Api::start().await;
    // Item 1 has `note: null`, item 3 none: from the first record alone `note` is `null`.
    let run = run::tap(
        &config(
            &api,
            json!({"name": "items", "path": "/single/items", "num_inference_records": 2}),
        ),
        None,
        &["--discover"],
    );
    run.assert_ok();
    let catalog: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        catalog["streams"][0]["schema"]["properties"]["score"],
        json!({"type": "number"})
    );
    assert_eq!(
        catalog["streams"][0]["schema"]["properties"]["note"],
        json!({"type": ["null", "string"]})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_given_schema_skips_the_sample() {
    let api = Api::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.json");
    let schema = json!({"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}});
    std::fs::write(&file, schema.to_string()).unwrap();
    let run = run::tap(
        &config(
            &api,
            json!({"name": "items", "path": "/single/items", "schema": file}),
        ),
        None,
        &["--discover"],
    );
    run.assert_ok();
    let catalog: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        catalog["streams"][0]["schema"]["properties"],
        schema["properties"]
    );
    assert!(api.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_from_start_date_then_from_state() {
    let api = Api::start().await;
    let mut config = config(
        &api,
        json!({"name": "items", "path": "/cursor/items", "primary_keys": ["id"], "replication_key": "updated_at",
               "source_search_field": "updated_since", "source_search_query": "$last_run_date"}),
    );
    config["start_date"] = json!("2024-01-02T10:00:00Z");
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    // The server keeps items updated after `updated_since`.
    assert_eq!(run.ids("items"), [3, 4, 5]);
    assert!(
        api.requests()
            .iter()
            .any(|r| r.contains("updated_since=2024-01-02T10%3A00%3A00")),
        "{:?}",
        api.requests()
    );
    let state = run.last_state();
    assert_eq!(
        state["bookmarks"]["items"]["replication_key_value"],
        "2024-01-05T10:00:00Z"
    );
    let mut state = state;
    state["bookmarks"]["items"]["replication_key_value"] = json!("2024-01-04T10:00:00Z");
    let again = run::tap(&config, Some(&state), &[]);
    again.assert_ok();
    assert_eq!(again.ids("items"), [5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_start_date_overrides_the_top_level() {
    let api = Api::start().await;
    let config = config(
        &api,
        json!({"name": "items", "path": "/cursor/items", "primary_keys": ["id"], "replication_key": "updated_at",
               "start_date": "2024-01-03T10:00:00Z",
               "source_search_field": "updated_since", "source_search_query": "$last_run_date"}),
    );
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [4, 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn child_paths_are_filled_from_parent_records() {
    let api = Api::start().await;
    let config = json!({
        "api_url": api.uri(),
        "max_concurrency": 2,
        "streams": [
            {"name": "orders", "path": "/customers/{id}/orders", "parent_stream": "customers", "primary_keys": ["order"]},
            {"name": "customers", "path": "/customers", "primary_keys": ["id"]},
        ],
    });
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    let mut orders: Vec<(i64, i64)> = run
        .records("orders")
        .iter()
        .map(|o| (o["id"].as_i64().unwrap(), o["order"].as_i64().unwrap()))
        .collect();
    orders.sort_unstable();
    assert_eq!(orders, [(7, 71), (7, 72), (8, 81), (8, 82)]);
    assert_eq!(
        run.schema("orders")["properties"]["total"],
        json!({"type": "number"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn error_rules_ignore_a_missing_endpoint() {
    let api = Api::start().await;
    let mut config = config(
        &api,
        json!({"name": "gone", "path": "/nowhere/items", "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}),
    );
    let failed = run::tap(&config, None, &[]);
    assert_eq!(failed.code, Some(1), "a 404 fails by default");
    config["error_rules"] =
        json!([{"status": "4xx", "body_contains": "no such style", "action": "ignore"}]);
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert!(run.records("gone").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_config_fails_with_exit_2_before_any_request() {
    let api = Api::start().await;
    let config = json!({
        "api_url": api.uri(),
        "pagination_request_style": "sideways",
        "auth_method": "telepathy",
        "streams": [
            {"name": "a", "path": "/single/items", "records_path": "$.items[", "schema": "missing/schema.json"},
            {"name": "b", "path": "/customers/{customer_id}/orders", "parent_stream": "a", "parent_fields": ["id"]},
        ],
    });
    let run = run::tap(&config, None, &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    for expected in [
        "`pagination_request_style` is `sideways`",
        "`auth_method` is `telepathy`",
        "stream `a`: `records_path` `$.items[` is not a JSONPath",
        "stream `a`: `schema` file `missing/schema.json` cannot be read",
        "stream `b`: `path` placeholder `{customer_id}` is not among `parent_fields`",
    ] {
        assert!(
            run.stderr.contains(expected),
            "missing {expected:?} in:\n{}",
            run.stderr
        );
    }
    assert!(api.requests().is_empty(), "{:?}", api.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn date_windows_slice_the_range() {
    let api = Api::start().await;
    let mut config = config(
        &api,
        json!({"name": "items", "path": "/windowed/items", "primary_keys": ["id"], "replication_key": "updated_at",
               "date_window": {"start_param": "from", "end_param": "to", "days": 2}}),
    );
    config["start_date"] = json!("2024-01-01T00:00:00Z");
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5]);
    let windows: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.contains("from="))
        .collect();
    assert!(
        windows.len() >= 3,
        "one request per two-day window: {windows:?}"
    );
    assert!(
        windows[0].contains("from=2024-01-01T00%3A00%3A00Z&to=2024-01-03T00%3A00%3A00Z"),
        "{windows:?}"
    );
}
