//! The worked configurations of `docs/tap-rest.md`, each run against the local server (its
//! `api_url` replaced), so the page stays true.

mod run;
mod server;

use serde_json::{Value, json};
use server::Api;

/// The JSON block after each `<!-- example: NAME -->` marker.
fn examples() -> Vec<(String, Value)> {
    let page = include_str!("../../../docs/tap-rest.md");
    let mut out = Vec::new();
    for part in page.split("<!-- example: ").skip(1) {
        let (name, rest) = part.split_once(" -->").unwrap();
        let block = rest
            .split_once("```json")
            .unwrap()
            .1
            .split_once("```")
            .unwrap()
            .0;
        let config = serde_json::from_str(block).unwrap_or_else(|e| panic!("example {name}: {e}"));
        out.push((name.to_owned(), config));
    }
    out
}

async fn run_example(name: &str) -> run::Run {
    let (_, mut config) = examples().into_iter().find(|(n, _)| n == name).unwrap();
    let api = Api::start().await;
    config["api_url"] = json!(api.uri());
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    run
}

#[test]
fn the_page_has_three_examples() {
    let names: Vec<String> = examples().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["cursor", "offset", "link"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn cursor_in_the_body() {
    let run = run_example("cursor").await;
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5]);
    assert_eq!(
        run.last_state()["bookmarks"]["items"]["replication_key_value"],
        "2024-01-05T10:00:00Z"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn offset_over_a_bare_array() {
    let run = run_example("offset").await;
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5]);
    let first = &run.records("items")[0];
    assert_eq!(
        first["owner"],
        json!("{\"login\": \"user1\", \"address\": {\"zip-code\": \"10001\"}}")
    );
    assert_eq!(
        run.schema("items")["properties"]["owner"],
        json!({"type": "string"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn link_header_and_a_child_stream() {
    let run = run_example("link").await;
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5]);
    assert_eq!(run.ids("customers"), [7, 8]);
    let mut orders: Vec<i64> = run
        .records("orders")
        .iter()
        .map(|o| o["order"].as_i64().unwrap())
        .collect();
    orders.sort_unstable();
    assert_eq!(orders, [71, 72, 81, 82]);
}
