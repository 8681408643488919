//! Benchmarks, run by hand (they take a while and assert no times):
//!
//! ```sh
//! cargo test -p tap-rest --release --test bench -- --ignored --nocapture --test-threads 1
//! ```
//!
//! - `throughput`: 50 000 records over 500 pages from a local server, tap-rest against
//!   tap-rest-api-msdk 1.4.2 (records/s, peak RSS).
//! - `latency`: every request 100 ms late; eight customers with five pages of orders each,
//!   sequential against `max_concurrency: 4` (over partitions) and `prefetch: 5`.

#![allow(clippy::print_stdout)] // the report is the output

mod run;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers::any};

const PAGES: usize = 500;
const PER_PAGE: usize = 100;

/// Page `page` (1-based) of the throughput API: 100 nested records and the next cursor.
fn page(page: usize) -> Value {
    let items: Vec<Value> = (0..PER_PAGE)
        .map(|i| {
            let id = (page - 1) * PER_PAGE + i + 1;
            json!({
                "id": id,
                "name": format!("item \"{id}\" \u{e9}"),
                "updated_at": format!("2024-01-01T00:{:02}:{:02}Z", (id / 60) % 60, id % 60),
                "amount": id as f64 * 1.25,
                "active": id % 3 == 0,
                "owner": {"login": format!("user{}", id % 97), "address": {"city": "Lyon", "zip": id % 1000}},
                "tags": ["a", "b"],
                "note": null,
            })
        })
        .collect();
    let next = (page < PAGES).then(|| (page + 1).to_string());
    json!({"items": items, "next_page": next})
}

async fn throughput_server() -> MockServer {
    let server = MockServer::start().await;
    let pages: Vec<Vec<u8>> = (1..=PAGES)
        .map(|p| serde_json::to_vec(&page(p)).unwrap())
        .collect();
    Mock::given(any())
        .respond_with(move |request: &Request| {
            let n: usize = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1);
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_bytes(pages[n.clamp(1, PAGES) - 1].clone())
        })
        .mount(&server)
        .await;
    server
}

/// Wall time, RECORD lines and peak RSS (KiB, from `/usr/bin/time`) of `program args`.
fn measure(program: &str, args: &[&str]) -> (Duration, usize, u64) {
    let dir = tempfile::tempdir().unwrap();
    let rss_file = dir.path().join("rss");
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(program)
        .args(args)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{program} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("\"type\":\"RECORD\"") || l.contains("\"type\": \"RECORD\""))
        .count();
    let rss = std::fs::read_to_string(&rss_file)
        .unwrap_or_default()
        .trim()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    (elapsed, records, rss)
}

fn write_config(dir: &std::path::Path, config: &Value) -> String {
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

fn report(name: &str, (elapsed, records, rss): (Duration, usize, u64)) {
    println!(
        "| {name} | {records} | {:.2} s | {:.0} | {:.1} MiB |",
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64(),
        rss as f64 / 1024.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run with --ignored --nocapture"]
async fn throughput() {
    let server = throughput_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &json!({
            "api_url": server.uri(),
            "streams": [{"name": "items", "path": "/items", "records_path": "$.items[*]", "primary_keys": ["id"]}],
        }),
    );
    println!("| tap | records | wall | records/s | peak RSS |\n|---|---|---|---|---|");
    let ours = measure(run::BIN, &["--config", &config]);
    assert_eq!(ours.1, PAGES * PER_PAGE);
    report("tap-rest", ours);
    let msdk = singer_interop::peer("tap-rest-api-msdk").join("tap-rest-api-msdk");
    let theirs = measure(msdk.to_str().unwrap(), &["--config", &config]);
    assert_eq!(theirs.1, PAGES * PER_PAGE);
    report("tap-rest-api-msdk 1.4.2", theirs);
}

const CUSTOMERS: usize = 8;
const ORDER_PAGES: usize = 5;

async fn latency_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|request: &Request| {
            let query = |name: &str| -> usize {
                request
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0)
            };
            let body = if request.url.path() == "/customers" {
                json!((1..=CUSTOMERS).map(|id| json!({"id": id})).collect::<Vec<_>>())
            } else {
                let (offset, limit) = (query("offset"), query("limit").max(1));
                let total = ORDER_PAGES * limit;
                let orders: Vec<Value> = (offset..(offset + limit).min(total))
                    .map(|n| json!({"order": n, "path": request.url.path()}))
                    .collect();
                json!({"items": orders, "pagination": {"offset": offset, "limit": limit, "total": total}})
            };
            ResponseTemplate::new(200)
                .set_body_json(body)
                .set_delay(Duration::from_millis(100))
        })
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run with --ignored --nocapture"]
async fn latency() {
    let server = latency_server().await;
    let dir = tempfile::tempdir().unwrap();
    println!(
        "| run (100 ms per request) | records | wall | records/s | peak RSS |\n|---|---|---|---|---|"
    );
    for (name, concurrency, prefetch) in [
        ("sequential", 1, 1),
        ("max_concurrency 4", 4, 1),
        ("prefetch 5", 1, 5),
        ("max_concurrency 4 + prefetch 5", 4, 5),
    ] {
        let config = write_config(
            dir.path(),
            &json!({
                "api_url": server.uri(),
                "max_concurrency": concurrency,
                "pagination_request_style": "offset_paginator",
                "pagination_response_style": "offset",
                "pagination_page_size": 10,
                "pagination_initial_offset": 0,
                "streams": [
                    {"name": "customers", "path": "/customers", "primary_keys": ["id"],
                     "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}},
                    {"name": "orders", "path": "/customers/{id}/orders", "parent_stream": "customers",
                     "records_path": "$.items[*]", "primary_keys": ["id", "order"], "prefetch": prefetch,
                     "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "order": {"type": "integer"}, "path": {"type": "string"}}}},
                ],
            }),
        );
        let result = measure(run::BIN, &["--config", &config]);
        assert_eq!(result.1, CUSTOMERS + CUSTOMERS * ORDER_PAGES * 10, "{name}");
        report(name, result);
    }
}
