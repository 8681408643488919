//! tap-github end to end against a GitHub-shaped server on loopback: `Link` pagination in
//! small pages, a child stream per issue, incremental `since` (from the bookmark or
//! `start_date`), rate-limit headers that make the tap wait, a 429 with `Retry-After` and a
//! 502 that succeed on retry, a 429 that halves the requests in flight, concurrency,
//! record/replay through a cassette, and bad input (a 401, a 403, a body that is not JSON, a
//! `Link` loop) that fails cleanly. Waits are checked from below only, from the server's
//! arrival times.

mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use server::{Fault, GitHub, HELD, TOKEN};

const BIN: &str = env!("CARGO_BIN_EXE_tap-github");

struct Run {
    messages: Vec<Value>,
    stdout: String,
    stderr: String,
    ok: bool,
}

impl Run {
    fn records(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .map(|m| &m["record"])
            .collect()
    }

    fn last_state(&self) -> Value {
        self.messages
            .iter()
            .rev()
            .find(|m| m["type"] == "STATE")
            .map(|m| m["value"].clone())
            .unwrap_or(Value::Null)
    }
}

fn tap(dir: &Path, config: &Value, state: Option<&Value>, env: &[(&str, &str)]) -> Run {
    tap_with_catalog(dir, config, state, None, env)
}

fn tap_with_catalog(
    dir: &Path,
    config: &Value,
    state: Option<&Value>,
    catalog: Option<&Path>,
    env: &[(&str, &str)],
) -> Run {
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let mut command = Command::new(BIN);
    command.arg("--config").arg(&config_path);
    if let Some(catalog) = catalog {
        command.arg("--catalog").arg(catalog);
    }
    if let Some(state) = state {
        let state_path = dir.join("state.json");
        std::fs::write(&state_path, state.to_string()).unwrap();
        command.arg("--state").arg(state_path);
    }
    command
        .env_remove("SINGER_REST_CASSETTE_MODE")
        .env_remove("TAP_GITHUB_CASSETTE");
    for (k, v) in env {
        command.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    let stdout = String::from_utf8(stdout).unwrap();
    let messages = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Run {
        messages,
        stdout,
        stderr: String::from_utf8(stderr).unwrap(),
        ok: status.success(),
    }
}

/// The discovered catalog with only `stream` selected, written into `dir`.
fn select_only(dir: &Path, config: &Value, stream: &str) -> PathBuf {
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let output = Command::new(BIN)
        .arg("--config")
        .arg(&config_path)
        .arg("--discover")
        .output()
        .unwrap();
    assert!(output.status.success());
    let mut catalog: Value = serde_json::from_slice(&output.stdout).unwrap();
    for entry in catalog["streams"].as_array_mut().unwrap() {
        let selected = entry["tap_stream_id"] == stream;
        for metadata in entry["metadata"].as_array_mut().unwrap() {
            if metadata["breadcrumb"] == json!([]) {
                metadata["metadata"]["selected"] = json!(selected);
            }
        }
    }
    let path = dir.join("catalog.json");
    std::fs::write(&path, catalog.to_string()).unwrap();
    path
}

/// A failed run: one clear error, no panic, and the token in neither stdout nor stderr.
fn assert_failed_cleanly(run: &Run, secret: &str) {
    assert!(!run.ok, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stderr.contains(secret), "{}", run.stderr);
    assert!(!run.stdout.contains(secret), "{}", run.stdout);
}

fn config(api_url: &str) -> Value {
    json!({
        "repositories": ["acme/rockets", "acme/anvils"],
        "auth_token": TOKEN,
        "api_url": api_url,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn full_sync_pages_children_and_recovers_from_429_and_502() {
    let github = GitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let run = tap(dir.path(), &config(&github.uri()), None, &[]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.records("repositories").len(), 2);
    assert_eq!(run.records("issues").len(), 7);
    assert_eq!(run.records("issue_comments").len(), 5);
    assert_eq!(run.records("pull_requests").len(), 6);
    assert_eq!(run.records("releases").len(), 2);
    // Pages of two: rockets' five issues take three requests, its first issue's three
    // comments two.
    assert_eq!(github.hits("/repos/acme/rockets/issues"), 3);
    assert_eq!(github.hits("/repos/acme/rockets/issues/1/comments"), 2);
    // The 429 and the 502 were retried (pull requests take two pages after the 429).
    assert_eq!(github.hits("/repos/acme/rockets/pulls"), 3);
    assert_eq!(github.hits("/repos/acme/rockets/releases"), 2);
    // Partition keys are in the records; comments carry their issue number.
    let issue = run.records("issues")[0];
    assert_eq!(
        (issue["owner"].as_str(), issue["repo"].as_str()),
        (Some("acme"), Some("rockets"))
    );
    let comment = run.records("issue_comments")[0];
    assert_eq!(comment["issue_number"], 1);
    assert_eq!(comment["repo"], "rockets");
    // A child's records come before its parent's record.
    let position = |stream: &str, id: i64| {
        run.messages
            .iter()
            .position(|m| m["type"] == "RECORD" && m["stream"] == stream && m["record"]["id"] == id)
            .unwrap()
    };
    assert!(position("issue_comments", 100_101) < position("issues", 1001));
    // State: a bookmark per repository for issues; comments' state is per repository, not
    // per issue.
    let state = run.last_state();
    let partitions = state["bookmarks"]["issues"]["partitions"]
        .as_array()
        .unwrap();
    assert_eq!(partitions.len(), 2);
    assert_eq!(
        partitions[0]["context"],
        json!({"owner": "acme", "repo": "rockets"})
    );
    assert_eq!(
        partitions[0]["replication_key_value"],
        "2024-01-05T00:00:00Z"
    );
    let comment_partitions = state["bookmarks"]["issue_comments"]["partitions"]
        .as_array()
        .unwrap();
    assert_eq!(comment_partitions.len(), 2, "{state}");
    // The token is never logged; the HTTP metrics are.
    assert!(!run.stderr.contains(TOKEN));
    assert!(
        run.stderr.contains("http_request_duration"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_sync_sends_since_from_the_bookmark() {
    let github = GitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = tap(dir.path(), &config(&github.uri()), None, &[]);
    assert!(first.ok, "{}", first.stderr);
    let state = first.last_state();
    let second = tap(dir.path(), &config(&github.uri()), Some(&state), &[]);
    assert!(second.ok, "{}", second.stderr);
    assert!(
        github
            .requests()
            .iter()
            .any(|r| r.starts_with("/repos/acme/rockets/issues?")
                && r.contains("since=2024-01-05T00%3A00%3A00Z")),
        "{:?}",
        github.requests()
    );
    // Only the last issue of each repository is at or after its bookmark.
    assert_eq!(second.records("issues").len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_sync_gives_the_same_records() {
    let github = GitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sequential = tap(dir.path(), &config(&github.uri()), None, &[]);
    let mut concurrent_config = config(&github.uri());
    concurrent_config["max_concurrency"] = json!(4);
    let concurrent = tap(dir.path(), &concurrent_config, None, &[]);
    assert!(concurrent.ok, "{}", concurrent.stderr);
    for stream in [
        "repositories",
        "issues",
        "issue_comments",
        "pull_requests",
        "releases",
    ] {
        let ids = |run: &Run| {
            let mut ids: Vec<i64> = run
                .records(stream)
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(ids(&sequential), ids(&concurrent), "{stream}");
    }
    let partitions = |run: &Run| {
        let mut list: Vec<String> = run.last_state()["bookmarks"]["issues"]["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        list.sort();
        list
    };
    assert_eq!(partitions(&sequential), partitions(&concurrent));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_token_fails_cleanly_without_the_token() {
    let github = GitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut bad = config(&github.uri());
    bad["auth_token"] = json!("ghp_wrong_secret_987");
    let run = tap(dir.path(), &bad, None, &[]);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("401") && run.stderr.contains("`auth_token`"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("ghp_wrong_secret_987"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn bad_repositories_and_unreachable_hosts_are_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = config("http://127.0.0.1:9");
    bad["repositories"] = json!(["rockets"]);
    let run = tap(dir.path(), &bad, None, &[]);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("`rockets`") && run.stderr.contains("owner/name"),
        "{}",
        run.stderr
    );

    let run = tap(dir.path(), &config("http://127.0.0.1:9"), None, &[]);
    assert!(!run.ok);
    assert!(run.stderr.contains("127.0.0.1:9"), "{}", run.stderr);
    assert!(
        !run.stderr.contains(TOKEN) && !run.stderr.contains("panicked"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_cassette_replays_without_the_server() {
    let github = GitHub::start().await;
    let uri = github.uri();
    let dir = tempfile::tempdir().unwrap();
    let cassette = dir.path().join("cassette.json");
    let cassette = cassette.to_str().unwrap();
    let recorded = tap(
        dir.path(),
        &config(&uri),
        None,
        &[
            ("TAP_GITHUB_CASSETTE", cassette),
            ("SINGER_REST_CASSETTE_MODE", "record"),
        ],
    );
    assert!(recorded.ok, "{}", recorded.stderr);
    let file = std::fs::read_to_string(cassette).unwrap();
    assert!(!file.contains(TOKEN), "the cassette holds the token");
    drop(github);
    let replayed = tap(
        dir.path(),
        &config(&uri),
        None,
        &[
            ("TAP_GITHUB_CASSETTE", cassette),
            ("SINGER_REST_CASSETTE_MODE", "replay"),
        ],
    );
    assert!(replayed.ok, "{}", replayed.stderr);
    let records = |run: &Run| {
        run.messages
            .iter()
            .filter(|m| m["type"] == "RECORD")
            .map(|m| m["record"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(records(&recorded), records(&replayed));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_run_sends_start_date_as_since() {
    let github = GitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut with_start = config(&github.uri());
    with_start["start_date"] = json!("2024-01-03T00:00:00Z");
    let run = tap(dir.path(), &with_start, None, &[]);
    assert!(run.ok, "{}", run.stderr);
    let issue_requests: Vec<String> = github
        .requests()
        .into_iter()
        .filter(|r| r.contains("/issues?"))
        .collect();
    assert!(!issue_requests.is_empty());
    for request in &issue_requests {
        assert!(
            request.contains("since=2024-01-03T00%3A00%3A00Z"),
            "{issue_requests:?}"
        );
    }
    // Issues 3 to 5 of rockets were updated on or after January 3rd; anvils' two were not.
    let mut numbers: Vec<i64> = run
        .records("issues")
        .iter()
        .map(|i| i["number"].as_i64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [3, 4, 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_rate_limit_waits_for_the_reset() {
    // The first response says no requests are left until the Unix second after next, so at
    // least a second ahead. With `max_concurrency` 1 requests go one at a time.
    let github = GitHub::with(Fault::Exhausted).await;
    let dir = tempfile::tempdir().unwrap();
    let run = tap(dir.path(), &config(&github.uri()), None, &[]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.records("issues").len(), 7);
    let arrivals = github.arrivals("/");
    let waited = arrivals[1] - arrivals[0];
    // 50 ms below the second for the granularity of clocks and timers.
    assert!(
        waited >= Duration::from_millis(950),
        "the second request came {waited:?} after the first"
    );
}

/// The most requests in `arrivals` the server held at once: each is held [`HELD`], so
/// requests arriving within that of one another were in flight together (a lower bound on
/// what the tap had in flight, whatever the machine's speed).
fn most_at_once(arrivals: &[Instant]) -> usize {
    arrivals
        .iter()
        .map(|&start| {
            arrivals
                .iter()
                .filter(|&&at| at >= start && at - start < HELD)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_halves_the_requests_in_flight() {
    // Twelve repositories, only the `repositories` stream, four at a time; each request is
    // held 500 ms, except the fifth: an immediate 429 with `Retry-After: 0`.
    let github = GitHub::with(Fault::Slow).await;
    let dir = tempfile::tempdir().unwrap();
    let mut pool = config(&github.uri());
    pool["repositories"] = (1..=12).map(|n| format!("acme/pool{n}")).collect();
    pool["max_concurrency"] = json!(4);
    let catalog = select_only(dir.path(), &pool, "repositories");
    let run = tap_with_catalog(dir.path(), &pool, None, Some(&catalog), &[]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.records("repositories").len(), 12);
    assert_eq!(run.records("issues").len(), 0);
    let arrivals = github.arrivals("/repos/acme/pool");
    assert_eq!(arrivals.len(), 13, "twelve and one retry");
    let before = most_at_once(&arrivals[..4]);
    assert!(before >= 3, "four partitions at once: {before}");
    // The requests sent once those in flight at the 429 are answered (the retry and four
    // more partitions; without the halving four of them would go at once) went through a
    // limit of two: it grows back by one only after ten successes in a row, and fewer come
    // before the last of them is sent.
    let settled = arrivals[4] + HELD;
    let after: Vec<Instant> = arrivals.iter().copied().filter(|&a| a >= settled).collect();
    assert!(after.len() >= 4, "{after:?}");
    let most = most_at_once(&after);
    assert!(most <= 2, "at most two in flight after the 429: {most}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_json_fails_with_the_status_and_its_start() {
    let github = GitHub::with(Fault::NotJson).await;
    let dir = tempfile::tempdir().unwrap();
    let run = tap(dir.path(), &config(&github.uri()), None, &[]);
    assert_failed_cleanly(&run, TOKEN);
    assert!(
        run.stderr.contains("status 200")
            && run.stderr.contains("<!DOCTYPE html><html><body>Unicorn!"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_to_the_same_page_fails_naming_the_stream_and_the_url() {
    let github = GitHub::with(Fault::LinkLoop).await;
    let dir = tempfile::tempdir().unwrap();
    let run = tap(dir.path(), &config(&github.uri()), None, &[]);
    assert_failed_cleanly(&run, TOKEN);
    let url = format!(
        "{}/repos/acme/rockets/releases?per_page=100&page=1",
        github.uri()
    );
    assert!(
        run.stderr.contains("stream `releases`") && run.stderr.contains(&url),
        "{}",
        run.stderr
    );
    // The loop is caught on its second request, not after many.
    assert_eq!(github.hits("/repos/acme/rockets/releases"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_names_the_auth_token_setting_not_its_value() {
    let github = GitHub::with(Fault::Forbidden).await;
    let dir = tempfile::tempdir().unwrap();
    let run = tap(dir.path(), &config(&github.uri()), None, &[]);
    assert_failed_cleanly(&run, TOKEN);
    assert!(
        run.stderr.contains("403") && run.stderr.contains("`auth_token`"),
        "{}",
        run.stderr
    );
}
