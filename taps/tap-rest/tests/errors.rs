//! Error rules (`retry`, `skip`, `fail`, and a malformed rule) and bad input: each mistake
//! of the issue on its own gives exit code 2, a message naming the stream and setting, and
//! no request (a parent's inferred schema needs its sample, and only that).

mod run;
mod server;

use serde_json::{Value, json};
use server::Api;

const SCHEMA: &str = r#"{"type": "object", "properties": {"id": {"type": "integer"}}}"#;

fn schema() -> Value {
    serde_json::from_str(SCHEMA).unwrap()
}

fn config(api: &Api, streams: Value) -> Value {
    let mut config = json!({"api_url": api.uri(), "records_path": "$.items[*]"});
    config["streams"] = streams;
    config
}

fn count(api: &Api, prefix: &str) -> usize {
    api.requests()
        .iter()
        .filter(|r| r.starts_with(prefix))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_rule_retries_what_would_fail() {
    let api = Api::start().await;
    // The first request gets a 400 "busy, try again": fatal by default.
    let mut config = config(
        &api,
        json!([{"name": "items", "path": "/busy/items", "schema": schema()}]),
    );
    let failed = run::tap(&config, None, &[]);
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(failed.stderr.contains("400"), "{}", failed.stderr);

    let api = Api::start().await;
    config["api_url"] = json!(api.uri());
    config["error_rules"] =
        json!([{"status": 400, "body_contains": "try again", "action": "retry"}]);
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5]);
    assert_eq!(count(&api, "/busy/items"), 2, "{:?}", api.requests());
}

/// `/accounts` lists 7, 8 and 9; `/accounts/8/orders` answers 403 "account archived".
fn accounts(api: &Api) -> Value {
    json!({
        "api_url": api.uri(),
        "streams": [
            {"name": "accounts", "path": "/accounts", "primary_keys": ["id"]},
            {"name": "orders", "path": "/accounts/{id}/orders", "parent_stream": "accounts",
             "primary_keys": ["order"], "schema": {"type": "object", "properties": {
                 "order": {"type": "integer"}, "total": {"type": "number"}, "id": {"type": "integer"}}}},
        ],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_skip_rule_skips_one_partition_and_the_others_go_on() {
    let api = Api::start().await;
    let failed = run::tap(&accounts(&api), None, &[]);
    assert_eq!(failed.code, Some(1), "a 403 fails by default");

    let api = Api::start().await;
    let mut config = accounts(&api);
    config["error_rules"] = json!([{"status": 403, "action": "skip"}]);
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    let mut orders: Vec<(i64, i64)> = run
        .records("orders")
        .iter()
        .map(|o| (o["id"].as_i64().unwrap(), o["order"].as_i64().unwrap()))
        .collect();
    orders.sort_unstable();
    assert_eq!(orders, [(7, 71), (7, 72), (9, 91), (9, 92)]);
    assert!(
        run.stderr.contains("/accounts/8/orders"),
        "the skip is logged: {}",
        run.stderr
    );
    assert_eq!(
        count(&api, "/accounts/8/orders"),
        1,
        "a skip is not retried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fail_rule_fails_what_would_be_retried() {
    let api = Api::start().await;
    let mut config = config(
        &api,
        json!([{"name": "items", "path": "/flaky/items", "schema": schema()}]),
    );
    // The first request to `/flaky/items` gets a 429, retried by default.
    config["error_rules"] =
        json!([{"status": 429, "body_contains": "slow down", "action": "fail"}]);
    let run = run::tap(&config, None, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("429"), "{}", run.stderr);
    assert!(run.records("items").is_empty());
    assert_eq!(
        count(&api, "/flaky/items"),
        1,
        "no retry: {:?}",
        api.requests()
    );
}

/// Runs `config` and checks it is refused as invalid, before any request, with `expected`.
fn refused(api: &Api, config: &Value, expected: &[&str]) {
    let run = run::tap(config, None, &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    for text in expected {
        assert!(
            run.stderr.contains(text),
            "missing {text:?} in:\n{}",
            run.stderr
        );
    }
    assert!(api.requests().is_empty(), "{:?}", api.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_error_rule_is_refused() {
    let api = Api::start().await;
    let mut config = config(&api, json!([{"name": "items", "path": "/single/items"}]));
    for (rules, expected) in [
        (
            json!([{"status": 404, "action": "ignore"}, {"status": "4yy", "action": "retry"}]),
            "`error_rules[1]`: `status` `4yy` is neither a status like 404 nor a class like `4xx`",
        ),
        (
            json!([{"status": 404, "action": "explode"}]),
            "`error_rules[0]`: `action` is `explode`, which is not a known choice",
        ),
        (
            json!([{"action": "retry"}]),
            "`error_rules[0]` matches nothing",
        ),
    ] {
        config["error_rules"] = rules;
        refused(&api, &config, &[expected]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_pagination_style_alone() {
    let api = Api::start().await;
    let mut config = config(&api, json!([{"name": "items", "path": "/single/items"}]));
    config["pagination_request_style"] = json!("sideways");
    // A top-level setting, used by every stream: the setting is named.
    refused(
        &api,
        &config,
        &["`pagination_request_style` is `sideways`, which is not a known choice"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_auth_method_alone() {
    let api = Api::start().await;
    let mut config = config(&api, json!([{"name": "items", "path": "/single/items"}]));
    config["auth_method"] = json!("telepathy");
    refused(
        &api,
        &config,
        &["`auth_method` is `telepathy`, which is not a known choice"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_records_path_that_does_not_parse_alone() {
    let api = Api::start().await;
    let config = config(
        &api,
        json!([{"name": "items", "path": "/single/items", "records_path": "$.items["}]),
    );
    refused(
        &api,
        &config,
        &["stream `items`: `records_path` `$.items[` is not a JSONPath"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schema_file_that_does_not_exist_alone() {
    let api = Api::start().await;
    let config = config(
        &api,
        json!([{"name": "items", "path": "/single/items", "schema": "missing/schema.json"}]),
    );
    refused(
        &api,
        &config,
        &["stream `items`: `schema` file `missing/schema.json` cannot be read"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_placeholder_with_no_parent_stream_alone() {
    let api = Api::start().await;
    let config = config(
        &api,
        json!([{"name": "orders", "path": "/customers/{customer_id}/orders"}]),
    );
    refused(
        &api,
        &config,
        &[
            "stream `orders`: `path` has the placeholder `{customer_id}` but no `parent_stream` fills it",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_placeholder_not_among_parent_fields_alone() {
    let api = Api::start().await;
    let config = config(
        &api,
        json!([
            {"name": "customers", "path": "/customers", "records_path": "$[*]"},
            {"name": "orders", "path": "/customers/{customer_id}/orders", "parent_stream": "customers",
             "parent_fields": ["id"], "records_path": "$[*]"},
        ]),
    );
    refused(
        &api,
        &config,
        &["stream `orders`: `path` placeholder `{customer_id}` is not among `parent_fields`"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_placeholder_the_parents_schema_lacks_alone() {
    let api = Api::start().await;
    let customers = json!({"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}});
    let mut config = config(
        &api,
        json!([
            {"name": "customers", "path": "/customers", "records_path": "$[*]", "schema": customers},
            {"name": "orders", "path": "/customers/{customer_id}/orders", "parent_stream": "customers",
             "records_path": "$[*]"},
        ]),
    );
    refused(
        &api,
        &config,
        &[
            "stream `orders`: `path` placeholder `{customer_id}` is not a field of parent stream `customers` (its `schema` has `id`, `name`)",
        ],
    );
    // The same through `parent_fields`.
    config["streams"][1]["path"] = json!("/customers/{id}/orders");
    config["streams"][1]["parent_fields"] = json!(["id", "region"]);
    refused(
        &api,
        &config,
        &[
            "stream `orders`: `parent_fields` entry `region` is not a field of parent stream `customers`",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_placeholder_the_parents_inferred_schema_lacks() {
    let api = Api::start().await;
    let config = config(
        &api,
        json!([
            {"name": "customers", "path": "/customers", "records_path": "$[*]"},
            {"name": "orders", "path": "/customers/{customer_id}/orders", "parent_stream": "customers",
             "records_path": "$[*]"},
        ]),
    );
    let run = run::tap(&config, None, &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "stream `orders`: `path` placeholder `{customer_id}` is not a field of parent stream `customers` (its schema, inferred from 2 sampled records, has `id`, `name`)"
        ),
        "{}",
        run.stderr
    );
    // The parent's sample is the only request: the child's is never sent.
    assert_eq!(api.requests(), ["/customers?"]);
}
