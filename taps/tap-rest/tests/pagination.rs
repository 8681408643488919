//! Every `pagination_request_style` against a local server serving five items in pages of
//! two: each style reads all five, in order, with the requests tap-rest-api-msdk sends.

mod run;
mod server;

use serde_json::{Value, json};
use server::Api;

fn config(api: &Api, style: &str, path: &str, extra: Value) -> Value {
    let mut config = json!({
        "api_url": api.uri(),
        "pagination_request_style": style,
        "streams": [{"name": "items", "path": path, "primary_keys": ["id"], "records_path": "$.items[*]"}],
    });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    config
}

async fn all_five(style: &str, path: &str, extra: Value) -> Vec<String> {
    let api = Api::start().await;
    let run = run::tap(&config(&api, style, path, extra), None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5], "style {style}");
    api.requests()
        .into_iter()
        .filter(|r| r.starts_with(path))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonpath_cursor_goes_in_the_page_param() {
    let requests = all_five("default", "/cursor/items", json!({})).await;
    // One sample request for inference, then the sync.
    assert_eq!(
        requests[1..],
        [
            "/cursor/items?",
            "/cursor/items?page=c2",
            "/cursor/items?page=c3"
        ]
    );
    let named = all_five(
        "jsonpath_paginator",
        "/cursor/items",
        json!({"next_page_token_path": "$.next_page"}),
    )
    .await;
    assert_eq!(named.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn offset_paginator_reads_the_pagination_object() {
    let requests = all_five(
        "offset_paginator",
        "/offset/items",
        json!({"pagination_response_style": "offset", "pagination_page_size": 2, "pagination_initial_offset": 0}),
    )
    .await;
    assert_eq!(
        requests[1..],
        [
            "/offset/items?limit=2",
            "/offset/items?limit=2&offset=2",
            "/offset/items?limit=2&offset=4"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn simple_offset_stops_at_a_short_page() {
    let api = Api::start().await;
    let mut config = config(
        &api,
        "simple_offset_paginator",
        "/simple_offset/items",
        json!({"pagination_response_style": "offset", "pagination_page_size": 2, "pagination_initial_offset": 0}),
    );
    config["streams"][0]["records_path"] = json!("$[*]");
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn page_number_follows_has_more() {
    let requests = all_five("page_number_paginator", "/page_number/items", json!({})).await;
    assert_eq!(
        requests[1..],
        [
            "/page_number/items?",
            "/page_number/items?page=2",
            "/page_number/items?page=3"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn header_styles_read_headers_and_links() {
    for (style, path, extra) in [
        ("simple_header_paginator", "/header/items", json!({})),
        ("header_link_paginator", "/link/items", json!({})),
        (
            "restapi_header_link_paginator",
            "/link/items",
            json!({"pagination_response_style": "header_link", "pagination_page_size": 2}),
        ),
    ] {
        let api = Api::start().await;
        let mut config = config(&api, style, path, extra);
        config["streams"][0]["records_path"] = json!("$[*]");
        let run = run::tap(&config, None, &[]);
        run.assert_ok();
        assert_eq!(run.ids("items"), [1, 2, 3, 4, 5], "style {style}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hateoas_and_single_page() {
    all_five("hateoas_paginator", "/hateoas/items", json!({})).await;
    let requests = all_five("single_page_paginator", "/single/items", json!({})).await;
    assert_eq!(requests.len(), 2, "one sample, one page: {requests:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_token_fails_clearly() {
    let api = Api::start().await;
    // The single endpoint never sends `next_page`, but `$.items[0].name` is the same on every page.
    let config = config(
        &api,
        "default",
        "/single/items",
        json!({"next_page_token_path": "$.items[0].name"}),
    );
    let run = run::tap(&config, None, &[]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("twice in a row"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn prefetch_keeps_page_order() {
    let api = Api::start().await;
    let mut config = config(
        &api,
        "offset_paginator",
        "/slow/items",
        json!({"pagination_response_style": "offset", "pagination_page_size": 2, "pagination_initial_offset": 0}),
    );
    config["streams"][0]["schema"] =
        json!({"type": "object", "properties": {"id": {"type": "integer"}}});
    let sequential = run::tap(&config, None, &[]);
    sequential.assert_ok();
    config["streams"][0]["prefetch"] = json!(5);
    let prefetched = run::tap(&config, None, &[]);
    prefetched.assert_ok();
    let expected: Vec<i64> = (1..=20).collect();
    assert_eq!(sequential.ids("items"), expected);
    assert_eq!(prefetched.ids("items"), expected, "records keep page order");
    // How much faster it is, is measured by the benchmark (tests/bench.rs), not here; that
    // the pages are fetched at once is shown by the SDK's own prefetch tests.
}

#[tokio::test(flavor = "multi_thread")]
async fn results_limit_stops_paging_after_enough_records() {
    let api = Api::start().await;
    let config = config(
        &api,
        "default",
        "/cursor/items",
        json!({"pagination_results_limit": 3}),
    );
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    // Pages of two: the second page reaches three records, so no third page is asked for.
    assert_eq!(run.ids("items"), [1, 2, 3, 4]);
}

#[tokio::test(flavor = "multi_thread")]
async fn offset_params_can_be_renamed() {
    // `/counted/items` takes `start` and `size` and names its total `count`.
    let mut extra = json!({"pagination_response_style": "offset", "pagination_page_size": 2,
        "pagination_initial_offset": 0, "pagination_limit_per_page_param": "size",
        "pagination_next_page_param": "start", "pagination_total_limit_param": "count"});
    let requests = all_five("offset_paginator", "/counted/items", extra.clone()).await;
    assert_eq!(
        requests[1..],
        [
            "/counted/items?size=2",
            "/counted/items?size=2&start=2",
            "/counted/items?size=2&start=4"
        ]
    );
    // Looking for `total`, the first page tells no total: it is the last.
    extra
        .as_object_mut()
        .unwrap()
        .remove("pagination_total_limit_param");
    let api = Api::start().await;
    let run = run::tap(
        &config(&api, "offset_paginator", "/counted/items", extra),
        None,
        &[],
    );
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn offset_records_jsonpath_counts_the_page() {
    // `/offset/items` answers an object: the records to count are at `$.items`.
    let top = json!({"pagination_response_style": "offset", "pagination_page_size": 2,
        "pagination_initial_offset": 0, "offset_records_jsonpath": "$.items"});
    let requests = all_five("simple_offset_paginator", "/offset/items", top.clone()).await;
    assert_eq!(
        requests[1..],
        [
            "/offset/items?limit=2",
            "/offset/items?limit=2&offset=2",
            "/offset/items?limit=2&offset=4"
        ]
    );
    // Set on the stream (as tap-rest-api-msdk allows), the same.
    let api = Api::start().await;
    let mut config = config(&api, "simple_offset_paginator", "/offset/items", top);
    let path = config
        .as_object_mut()
        .unwrap()
        .remove("offset_records_jsonpath");
    config["streams"][0]["offset_records_jsonpath"] = path.unwrap();
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5]);
    // Without it the page is counted as a bare array; an object is none: one page.
    config["streams"][0]
        .as_object_mut()
        .unwrap()
        .remove("offset_records_jsonpath");
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_next_page_param_can_be_renamed() {
    let requests = all_five(
        "default",
        "/cursor/items",
        json!({"pagination_next_page_param": "cursor"}),
    )
    .await;
    assert_eq!(
        requests[1..],
        [
            "/cursor/items?",
            "/cursor/items?cursor=c2",
            "/cursor/items?cursor=c3"
        ]
    );
}
