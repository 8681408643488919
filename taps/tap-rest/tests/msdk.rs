//! Side by side with tap-rest-api-msdk (installed from PyPI into a cached venv by
//! `scripts/peer`): both taps run with the same config against the same local server, for
//! each pagination style and auth method, and must emit the same streams, the same records
//! and the same inferred property types (tap-rest also marks fields missing from a record
//! nullable and date-times as such, which tap-rest-api-msdk does not: see the README).

mod run;
mod server;

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use server::Api;

struct Output {
    streams: Vec<String>,
    records: Vec<Value>,
    schema: Value,
}

fn messages(stdout: &[u8]) -> Output {
    let messages: Vec<Value> = String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut streams: Vec<String> = Vec::new();
    for m in messages.iter().filter(|m| m["type"] == "SCHEMA") {
        let name = m["stream"].as_str().unwrap_or_default().to_owned();
        if !streams.contains(&name) {
            streams.push(name);
        }
    }
    Output {
        streams,
        records: messages
            .iter()
            .filter(|m| m["type"] == "RECORD")
            .map(|m| m["record"].clone())
            .collect(),
        schema: messages
            .iter()
            .find(|m| m["type"] == "SCHEMA")
            .map(|m| m["schema"].clone())
            .unwrap_or_default(),
    }
}

/// Runs tap-rest-api-msdk on `config`, whatever the outcome.
fn msdk_run(config: &Value) -> std::process::Output {
    let bin = singer_interop::peer("tap-rest-api-msdk").join("tap-rest-api-msdk");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    singer_interop::process::run(
        Command::new(bin).arg("--config").arg(&path),
        Duration::from_secs(120),
    )
    .unwrap()
}

fn msdk(config: &Value) -> Output {
    let output = msdk_run(config);
    assert!(
        output.status.success(),
        "tap-rest-api-msdk failed on {config}:\n{}",
        singer_interop::process::tail(&output.stderr)
    );
    messages(&output.stdout)
}

fn ours(config: &Value) -> Output {
    let run = run::tap(config, None, &[]);
    run.assert_ok();
    messages(run.stdout.as_bytes())
}

/// Each property's types without `null`, which the two taps place differently.
fn types(schema: &Value) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, property)| {
            let mut types: Vec<String> = match &property["type"] {
                Value::String(t) => vec![t.clone()],
                Value::Array(ts) => ts
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            types.retain(|t| t != "null");
            types.sort();
            (name.clone(), types)
        })
        .collect();
    out.sort();
    out
}

fn same(config: &Value) {
    let (theirs, mine) = (msdk(config), ours(config));
    assert_eq!(mine.streams, theirs.streams, "streams for {config}");
    assert_eq!(mine.records, theirs.records, "records for {config}");
    assert_eq!(
        types(&mine.schema),
        types(&theirs.schema),
        "schema types for {config}"
    );
    assert_eq!(mine.records.len(), 5, "{config}");
}

fn config(api: &Api, path: &str, records_path: &str, extra: Value) -> Value {
    let mut config = json!({
        "api_url": api.uri(),
        "streams": [{"name": "items", "path": path, "primary_keys": ["id"], "records_path": records_path}],
    });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    config
}

/// `header_link_paginator`, `restapi_header_link_paginator` and `hateoas_paginator` fail in
/// tap-rest-api-msdk 1.4.2: see `link_and_hateoas_paginators_fail_in_msdk_but_not_here`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_styles_agree() {
    let api = Api::start().await;
    let offset = json!({"pagination_response_style": "offset", "pagination_page_size": 2, "pagination_initial_offset": 0});
    for (style, path, records_path, extra) in [
        ("default", "/cursor/items", "$.items[*]", json!({})),
        (
            "jsonpath_paginator",
            "/cursor/items",
            "$.items[*]",
            json!({"next_page_token_path": "$.next_page"}),
        ),
        (
            "offset_paginator",
            "/offset/items",
            "$.items[*]",
            offset.clone(),
        ),
        (
            "simple_offset_paginator",
            "/simple_offset/items",
            "$[*]",
            offset,
        ),
        (
            "page_number_paginator",
            "/page_number/items",
            "$.items[*]",
            json!({}),
        ),
        (
            "simple_header_paginator",
            "/header/items",
            "$[*]",
            json!({}),
        ),
        (
            "single_page_paginator",
            "/single/items",
            "$.items[*]",
            json!({}),
        ),
    ] {
        let mut config = config(&api, path, records_path, extra);
        config["pagination_request_style"] = json!(style);
        same(&config);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_methods_agree() {
    let api = Api::start().await;
    for (method, extra) in [
        (
            "api_key",
            json!({"api_keys": {"X-API-KEY": server::API_KEY}}),
        ),
        ("bearer_token", json!({"bearer_token": server::BEARER})),
        (
            "basic",
            json!({"username": server::USER, "password": server::PASSWORD}),
        ),
        (
            "oauth",
            json!({"grant_type": "client_credentials", "client_id": server::CLIENT_ID,
                         "client_secret": server::CLIENT_SECRET, "access_token_url": format!("{}/oauth/token", api.uri())}),
        ),
        (
            "oauth",
            json!({"grant_type": "password", "username": server::USER, "password": server::PASSWORD,
                   "access_token_url": format!("{}/oauth/token", api.uri())}),
        ),
        (
            "oauth",
            json!({"grant_type": "refresh_token", "refresh_token": "r-1", "client_id": server::CLIENT_ID,
                   "access_token_url": format!("{}/oauth/token", api.uri())}),
        ),
    ] {
        let mut config = config(&api, &format!("/auth/{method}/items"), "$.items[*]", extra);
        config["auth_method"] = json!(method);
        same(&config);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn except_keys_and_raw_json_agree() {
    let api = Api::start().await;
    let mut config = config(
        &api,
        "/single/items",
        "$.items[*]",
        json!({"store_raw_json_message": true}),
    );
    config["streams"][0]["except_keys"] = json!(["owner"]);
    same(&config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_search_from_start_date_agrees() {
    let api = Api::start().await;
    let mut config = config(
        &api,
        "/cursor/items",
        "$.items[*]",
        json!({"start_date": "2024-01-02T10:00:00Z"}),
    );
    config["streams"][0]["replication_key"] = json!("updated_at");
    config["streams"][0]["source_search_field"] = json!("updated_since");
    config["streams"][0]["source_search_query"] = json!("$last_run_date");
    let (theirs, mine) = (msdk(&config), ours(&config));
    assert_eq!(mine.records, theirs.records, "{:?}", api.requests());
    let ids: Vec<i64> = mine
        .records
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [3, 4, 5]);
    let filtered: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.contains("updated_since="))
        .collect();
    assert!(
        filtered
            .iter()
            .all(|r| r.contains("updated_since=2024-01-02T10%3A00%3A00Z")),
        "both send the same filter: {filtered:?}"
    );
}

/// The requests after the first (the schema sample, which the taps send differently), each
/// as its path and sorted query pairs (tap-rest-api-msdk orders parameters differently).
fn requests_after_sample(api: &Api) -> Vec<(String, Vec<(String, String)>)> {
    api.requests()
        .iter()
        .skip(1)
        .map(|r| {
            let url = url::Url::parse(&format!("http://x{r}")).unwrap();
            let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            pairs.sort();
            (url.path().to_owned(), pairs)
        })
        .collect()
}

/// Both taps read the same records with the same requests, each on a fresh server.
async fn same_requests(path: &str, records_path: &str, extra: Value) {
    let (api, other) = (Api::start().await, Api::start().await);
    let theirs = msdk(&config(&api, path, records_path, extra.clone()));
    let mine = ours(&config(&other, path, records_path, extra.clone()));
    assert_eq!(mine.records, theirs.records, "records for {extra}");
    assert_eq!(mine.records.len(), 5, "{extra}");
    assert_eq!(
        requests_after_sample(&other),
        requests_after_sample(&api),
        "requests for {extra}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_styles_agree() {
    // `hateoas_body`: the next page's URL in the body, its query merged into the request.
    same_requests(
        "/hateoas/items",
        "$.items[*]",
        json!({"pagination_request_style": "default", "pagination_response_style": "hateoas_body"}),
    )
    .await;
    // `header_link`: a query string token merged into the request, `per_page` sent.
    same_requests(
        "/query/items",
        "$.items[*]",
        json!({"pagination_request_style": "default", "pagination_response_style": "header_link",
               "pagination_page_size": 2}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamed_pagination_params_agree() {
    let offset = json!({"pagination_response_style": "offset", "pagination_page_size": 2,
                        "pagination_initial_offset": 0});
    let mut renamed = offset.clone();
    renamed["pagination_request_style"] = json!("offset_paginator");
    renamed["pagination_limit_per_page_param"] = json!("size");
    renamed["pagination_next_page_param"] = json!("start");
    renamed["pagination_total_limit_param"] = json!("count");
    same_requests("/counted/items", "$.items[*]", renamed).await;
    let mut counted = offset;
    counted["pagination_request_style"] = json!("simple_offset_paginator");
    counted["offset_records_jsonpath"] = json!("$.items");
    same_requests("/offset/items", "$.items[*]", counted).await;
    same_requests(
        "/cursor/items",
        "$.items[*]",
        json!({"pagination_next_page_param": "cursor"}),
    )
    .await;
}

/// What the README says of these styles in tap-rest-api-msdk 1.4.2 (on singer-sdk 0.40) is
/// so: the two `Link` styles send a stringified `ParseResult(...)` as the next query, get the
/// first page again and stop with "Loop detected in pagination" (exit 1, the first page
/// twice); `hateoas_paginator` is singer-sdk's abstract class and fails before its first
/// page. tap-rest reads all five records with each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_and_hateoas_paginators_fail_in_msdk_but_not_here() {
    let api = Api::start().await;
    let looped = "RuntimeError: Loop detected in pagination. Pagination token ParseResult(";
    for (style, path, records_path, extra, failure, their_ids) in [
        (
            "header_link_paginator",
            "/link/items",
            "$[*]",
            json!({}),
            looped,
            vec![1, 2, 1, 2],
        ),
        (
            "restapi_header_link_paginator",
            "/link/items",
            "$[*]",
            json!({"pagination_response_style": "header_link", "pagination_page_size": 2}),
            looped,
            vec![1, 2, 1, 2],
        ),
        (
            "hateoas_paginator",
            "/hateoas/items",
            "$.items[*]",
            json!({}),
            "TypeError: Can't instantiate abstract class BaseHATEOASPaginator",
            vec![],
        ),
    ] {
        let mut config = config(&api, path, records_path, extra);
        config["pagination_request_style"] = json!(style);
        let output = msdk_run(&config);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{style}: tap-rest-api-msdk succeeded"
        );
        assert!(stderr.contains(failure), "{style}: {stderr}");
        let ids: Vec<i64> = messages(&output.stdout)
            .records
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, their_ids, "{style}: tap-rest-api-msdk's records");
        let mine = ours(&config);
        let ids: Vec<i64> = mine
            .records
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [1, 2, 3, 4, 5], "{style}: tap-rest's records");
    }
}

/// `backoff_type` as tap-rest-api-msdk reads it (its `backoff_wait_generator`): the seconds
/// in the `backoff_param` header or the largest number in the body's `message`, plus
/// `backoff_time_extension`. Both taps wait at least that long between the 429 and the retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_waits_agree() {
    for (hint, extra, at_least) in [
        (
            "header",
            json!({"backoff_type": "header", "backoff_param": "X-Wait"}),
            3,
        ),
        (
            "retry_after",
            json!({"backoff_type": "header", "backoff_time_extension": 2}),
            3,
        ),
        (
            "message",
            json!({"backoff_type": "message", "backoff_time_extension": 1}),
            4,
        ),
    ] {
        for tap in ["tap-rest-api-msdk", "tap-rest"] {
            let api = Api::start().await;
            let path = format!("/backoff/{hint}/items");
            let mut config = config(&api, &path, "$.items[*]", extra.clone());
            config["streams"][0]["schema"] =
                json!({"type": "object", "properties": {"id": {"type": "integer"}}});
            let output = if tap == "tap-rest" {
                ours(&config)
            } else {
                msdk(&config)
            };
            assert_eq!(output.records.len(), 5, "{tap} {extra}");
            let arrivals = api.arrivals(&path);
            assert_eq!(arrivals.len(), 2, "{tap} {extra}: {:?}", api.requests());
            let waited = arrivals[1] - arrivals[0];
            assert!(
                waited >= Duration::from_secs(at_least),
                "{tap} {extra}: {waited:?}"
            );
        }
    }
}
