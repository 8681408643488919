//! Waiting before a retry: `backoff_type` `header` (any header, `backoff_time_extension`
//! added) and `message` against a server that answers 429 then 200, and the adaptive
//! concurrency limit dropping after a 429. Waits are checked from below only: the time
//! between the 429 and the retry as the server saw it.

mod run;
mod server;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use server::Api;

/// One stream on `/backoff/{hint}/items` (its first request gets a 429), schema given so the
/// only requests are the 429 and the retry.
fn config(api: &Api, hint: &str, extra: Value) -> Value {
    let mut config = json!({
        "api_url": api.uri(),
        "records_path": "$.items[*]",
        "streams": [{"name": "items", "path": format!("/backoff/{hint}/items"),
                     "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}],
    });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    config
}

/// Syncs, and returns the time between the 429 and the retry.
async fn waited(hint: &str, extra: Value) -> Duration {
    let api = Api::start().await;
    let run = run::tap(&config(&api, hint, extra), None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5]);
    let arrivals = api.arrivals(&format!("/backoff/{hint}/items"));
    assert_eq!(
        arrivals.len(),
        2,
        "the 429, then one retry: {:?}",
        api.requests()
    );
    arrivals[1] - arrivals[0]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_header_named_by_backoff_param_sets_the_wait() {
    // `X-Wait: 3`; the SDK's own backoff before a first retry is at most 2 s.
    let wait = waited(
        "header",
        json!({"backoff_type": "header", "backoff_param": "X-Wait"}),
    )
    .await;
    assert!(wait >= Duration::from_secs(3), "{wait:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_extension_is_added_to_the_header_wait() {
    // `Retry-After: 1` (the default `backoff_param`), plus 2 s.
    let wait = waited(
        "retry_after",
        json!({"backoff_type": "header", "backoff_time_extension": 2}),
    )
    .await;
    assert!(wait >= Duration::from_secs(3), "{wait:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wait_is_read_from_the_message() {
    // `{"message": "Too many requests: retry in 3 seconds"}`, plus 1 s.
    let wait = waited(
        "message",
        json!({"backoff_type": "message", "backoff_time_extension": 1}),
    )
    .await;
    assert!(wait >= Duration::from_secs(4), "{wait:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_backoff_type_retry_after_is_honoured() {
    let wait = waited("retry_after", json!({})).await;
    assert!(wait >= Duration::from_secs(1), "{wait:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_backoff_type_is_refused() {
    let api = Api::start().await;
    let run = run::tap(
        &config(&api, "header", json!({"backoff_type": "sleepy"})),
        None,
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("`backoff_type` is `sleepy`"),
        "{}",
        run.stderr
    );
    assert!(api.requests().is_empty());
}

/// The most requests in `arrivals` the server held at once: each is held 500 ms, so
/// requests arriving within 500 ms of one another were in flight together (a lower bound on
/// what the tap had in flight, whatever the machine's speed).
fn most_at_once(arrivals: &[Instant]) -> usize {
    let held = Duration::from_millis(500);
    arrivals
        .iter()
        .map(|&start| {
            arrivals
                .iter()
                .filter(|&&at| at >= start && at - start < held)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_halves_the_requests_in_flight() {
    let api = Api::start().await;
    // Twelve partitions, four at a time; each `/pool/{id}/items` is held 500 ms, except the
    // fifth request, an immediate 429 (`Retry-After: 0`).
    let config = json!({
        "api_url": api.uri(),
        "max_concurrency": 4,
        "streams": [
            {"name": "pool", "path": "/pool", "primary_keys": ["id"]},
            {"name": "items", "path": "/pool/{id}/items", "parent_stream": "pool",
             "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}},
        ],
    });
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.records("items").len(), 12);
    let arrivals = api.arrivals("/pool/");
    assert_eq!(arrivals.len(), 13, "twelve and one retry");
    let before = most_at_once(&arrivals[..4]);
    assert!(before >= 3, "four partitions at once: {before}");
    // The requests sent after those in flight at the 429 (which arrived after it) are
    // answered were let through a limit of two (it grows back by one only after ten
    // successes in a row; there are eight).
    let settled = arrivals[4] + Duration::from_millis(500);
    let after: Vec<_> = arrivals.iter().copied().filter(|&a| a >= settled).collect();
    assert!(after.len() >= 4, "{after:?}");
    let most = most_at_once(&after);
    assert!(most <= 2, "at most two in flight after the 429: {most}");
}
