//! REST features that had only unit tests, now against loopback servers: page counts and
//! totals from the body or headers, `continue_if_empty`, `Retry-After` dates, timeouts and
//! broken connections retried, `max_elapsed`, adaptive concurrency growing back, the IETF
//! `RateLimit` headers, `Budget::per_minute`, and error rules (`Fail` on a 200, a hook).
#![cfg(feature = "rest")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use singer_sdk::rest::{
    Action, Budget, Concurrency, Cursor, Error, ErrorRules, Offset, PageNumber, Paginator, Request,
    RestClient, RetryPolicy, Rule, Selector, Source,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A deadline against a hang (a broken retry loop), never a speed check.
const HANG: Duration = Duration::from_secs(60);

fn fast() -> RetryPolicy {
    RetryPolicy::default().initial_delay(Duration::from_millis(1))
}

fn ids(records: &[Value]) -> Vec<i64> {
    records.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// The ids of every record `paginator` walks through from `GET /items`, `prefetch` pages at a
/// time, with records at `selector`.
async fn walk(
    server: &MockServer,
    paginator: impl Paginator + 'static,
    selector: &str,
    prefetch: usize,
) -> Vec<i64> {
    let client = RestClient::builder(server.uri()).build().unwrap();
    let pages = client
        .pages(
            Request::get("/items"),
            paginator,
            Selector::new(selector).unwrap(),
        )
        .prefetch(prefetch)
        .records();
    ids(&tokio::time::timeout(HANG, pages).await.unwrap().unwrap())
}

/// `GET /items?<param>=<value>` answers `response`, `times` times exactly.
async fn mount(
    server: &MockServer,
    (param, value): (&str, &str),
    response: ResponseTemplate,
    times: u64,
) {
    Mock::given(method("GET"))
        .and(path("/items"))
        .and(query_param(param, value))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

fn json_page(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn page_number_stops_at_the_total_record_count() {
    let server = MockServer::start().await;
    // Every page is full, so only the total (6 records, 2 a page) can stop at page 3.
    for (page, first) in [("1", 1), ("2", 3), ("3", 5)] {
        let body = json!({"total": 6, "items": [{"id": first}, {"id": first + 1}]});
        mount(&server, ("page", page), json_page(body), 2).await;
    }
    mount(
        &server,
        ("page", "4"),
        json_page(json!({"items": [{"id": 99}]})),
        0,
    )
    .await;
    let paginator = PageNumber::new("page")
        .page_size("per_page", 2)
        .total_records(Source::body("$.total").unwrap());
    // One page after another, then with the rest predicted from the total.
    for prefetch in [1, 3] {
        let got = walk(&server, paginator.clone(), "$.items[*]", prefetch).await;
        assert_eq!(got, [1, 2, 3, 4, 5, 6], "prefetch {prefetch}");
    }
    server.verify().await;
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .all(|r| r.url.query().unwrap().contains("per_page=2"))
    );
}

#[tokio::test]
async fn page_number_stops_at_the_total_pages_header() {
    let server = MockServer::start().await;
    for page in ["1", "2"] {
        let response = json_page(json!([{"id": page.parse::<i64>().unwrap()}]))
            .insert_header("x-total-pages", "2");
        mount(&server, ("page", page), response, 1).await;
    }
    mount(&server, ("page", "3"), json_page(json!([{"id": 3}])), 0).await;
    let paginator = PageNumber::new("page").total_pages(Source::header("X-Total-Pages"));
    assert_eq!(walk(&server, paginator, "$[*]", 1).await, [1, 2]);
    server.verify().await;
}

#[tokio::test]
async fn offset_reads_the_total_from_a_header() {
    let server = MockServer::start().await;
    for (offset, first) in [("0", 1), ("2", 3)] {
        let response = json_page(json!([{"id": first}, {"id": first + 1}]))
            .insert_header("x-total-count", "4");
        mount(&server, ("offset", offset), response, 2).await;
    }
    mount(&server, ("offset", "4"), json_page(json!([{"id": 5}])), 0).await;
    let paginator = Offset::new("offset", "limit", 2).total(Source::header("X-Total-Count"));
    for prefetch in [1, 2] {
        let got = walk(&server, paginator.clone(), "$[*]", prefetch).await;
        assert_eq!(got, [1, 2, 3, 4], "prefetch {prefetch}");
    }
    server.verify().await;
}

#[tokio::test]
async fn continue_if_empty_goes_past_an_empty_page() {
    let server = MockServer::start().await;
    // Page numbers: page 2 is empty, the page count says there is a third.
    for (page, items) in [
        ("1", json!([{"id": 1}])),
        ("2", json!([])),
        ("3", json!([{"id": 3}])),
    ] {
        let body = json!({"pages": 3, "items": items});
        mount(&server, ("page", page), json_page(body), 1).await;
    }
    let paginator = PageNumber::new("page")
        .total_pages(Source::body("$.pages").unwrap())
        .continue_if_empty();
    assert_eq!(walk(&server, paginator, "$.items[*]", 1).await, [1, 3]);
    server.verify().await;

    // A cursor: the first page is empty but hands out a cursor.
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .and(query_param_is_missing("cursor"))
        .respond_with(json_page(json!({"items": [], "next": "c2"})))
        .expect(2)
        .mount(&server)
        .await;
    mount(
        &server,
        ("cursor", "c2"),
        json_page(json!({"items": [{"id": 2}], "next": null})),
        1,
    )
    .await;
    let cursor = Cursor::new(Source::body("$.next").unwrap(), "cursor");
    assert_eq!(
        walk(&server, cursor.clone().continue_if_empty(), "$.items[*]", 1).await,
        [2]
    );
    // Without it, the empty first page ends the walk.
    assert!(walk(&server, cursor, "$.items[*]", 1).await.is_empty());
    server.verify().await;
}

/// A backoff that would outlast `max_elapsed`: only a `Retry-After` can bring a retry.
fn only_retry_after() -> RetryPolicy {
    RetryPolicy::default()
        .initial_delay(Duration::from_secs(3600))
        .max_delay(Duration::from_secs(3600))
        .max_elapsed(Some(Duration::from_secs(600)))
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = MockServer::start().await;
    let when = httpdate_in(Duration::from_secs(1));
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", when.as_str()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(json_page(json!({"ok": true})))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .retry(only_retry_after())
        .build()
        .unwrap();
    let sent = tokio::time::timeout(HANG, client.send(&Request::get("/x"))).await;
    let response = sent.expect("hung").unwrap();
    assert_eq!(response.json().unwrap(), json!({"ok": true}));
    assert_eq!(client.stats().retries, 1);
}

/// `now + wait` as an HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate_in(wait: Duration) -> String {
    let when = chrono::DateTime::<chrono::Utc>::from(SystemTime::now() + wait);
    when.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[tokio::test]
async fn a_timed_out_request_is_retried_and_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/slow"))
        .respond_with(json_page(json!([1])))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .timeout(Duration::from_millis(300))
        .retry(fast())
        .build()
        .unwrap();
    let sent = tokio::time::timeout(HANG, client.send(&Request::get("/slow"))).await;
    assert_eq!(sent.expect("hung").unwrap().json().unwrap(), json!([1]));
    assert_eq!(client.stats().retries, 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut chunk = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&chunk[..read]),
                    }
                }
                if n == 0 {
                    // The first connection breaks before any response.
                    return;
                }
                let body = r#"[{"id": 1}]"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    let client = RestClient::builder(url.as_str())
        .retry(fast())
        .build()
        .unwrap();
    let sent = tokio::time::timeout(HANG, client.send(&Request::get("/items"))).await;
    let response = sent.expect("hung").unwrap();
    assert_eq!(response.json().unwrap(), json!([{"id": 1}]));
    assert_eq!(client.stats().retries, 1);
    assert_eq!(accepted.load(Ordering::SeqCst), 2);

    // Without retries, the broken connection is the error, naming the URL.
    let client = RestClient::builder(url)
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    accepted.store(0, Ordering::SeqCst);
    let err = client.send(&Request::get("/items")).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("/items failed"), "{err}");
}

#[tokio::test]
async fn max_elapsed_ends_the_retries_with_the_last_failure() {
    let server = MockServer::start().await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(503).set_body_string("maintenance"))
        .mount(&server)
        .await;
    // Waits of 100, 200, 400, 800 ms…: two seconds run out long before 100 tries.
    let policy = RetryPolicy::default()
        .max_tries(100)
        .initial_delay(Duration::from_millis(100))
        .jitter(false)
        .max_elapsed(Some(Duration::from_secs(2)));
    let client = RestClient::builder(server.uri())
        .retry(policy)
        .build()
        .unwrap();
    let sent = tokio::time::timeout(HANG, client.send(&Request::get("/down"))).await;
    let err = sent.expect("hung").unwrap_err();
    let Error::RetriesExhausted { tries, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(*tries > 1 && *tries < 100, "{tries} tries");
    let sent = server.received_requests().await.unwrap().len();
    assert_eq!(u32::try_from(sent).unwrap(), *tries);
    assert_eq!(
        err.to_string(),
        format!("giving up on {}/down after {tries} tries", server.uri())
    );
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        cause.starts_with("503 Service Unavailable") && cause.contains("maintenance"),
        "{cause}"
    );
}

#[tokio::test]
async fn adaptive_concurrency_grows_back_after_successes() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let concurrency = Concurrency::new(4).grow_after(2);
    let client = RestClient::builder(server.uri())
        .retry(fast())
        .concurrency(concurrency.clone())
        .build()
        .unwrap();
    // The 429 halves the limit; its retry is the first success.
    client.send(&Request::get("/x")).await.unwrap();
    assert_eq!(concurrency.limit(), 2);
    let mut limits = Vec::new();
    for _ in 0..5 {
        client.send(&Request::get("/x")).await.unwrap();
        limits.push(concurrency.limit());
    }
    // Every second success in a row adds one, up to the maximum.
    assert_eq!(limits, [3, 3, 4, 4, 4]);
    assert_eq!(concurrency.in_flight(), 0);
}

#[tokio::test]
async fn ietf_ratelimit_with_nothing_left_holds_the_next_request() {
    let server = MockServer::start().await;
    // No reset in the header: the policy's one-second window bounds the wait.
    Mock::given(path("/policy"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ratelimit", "limit=10, remaining=0")
                .insert_header("ratelimit-policy", "10;w=1"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/reset"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("ratelimit", "limit=10, remaining=0, reset=1"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/plain"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    for route in ["/policy", "/reset"] {
        let client = RestClient::builder(server.uri()).build().unwrap();
        client.send(&Request::get(route)).await.unwrap();
        assert_eq!(client.stats().rate_limit_waits, 0, "{route}");
        let sent = tokio::time::timeout(HANG, client.send(&Request::get("/plain"))).await;
        sent.expect("hung").unwrap();
        assert_eq!(client.stats().rate_limit_waits, 1, "{route}");
    }
}

#[tokio::test]
async fn budget_per_minute_waits_once_the_burst_is_spent() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    // 60 a minute: a burst of 60, then one a second.
    let budget = Budget::per_minute(60);
    let client = RestClient::builder(server.uri())
        .budget(budget.clone())
        .build()
        .unwrap();
    client.send(&Request::get("/x")).await.unwrap();
    assert_eq!(client.stats().budget_waits, 0);
    // Other users of the shared budget spend the rest of the burst (the bucket only refills,
    // so none of them waits).
    for _ in 0..59 {
        assert!(!budget.acquire().await);
    }
    let sent = tokio::time::timeout(HANG, client.send(&Request::get("/x"))).await;
    sent.expect("hung").unwrap();
    assert_eq!(client.stats().budget_waits, 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_fail_rule_on_a_200_body_fails_without_retrying() {
    let server = MockServer::start().await;
    Mock::given(path("/report"))
        .respond_with(json_page(
            json!({"status": "error", "detail": "quota exceeded"}),
        ))
        .mount(&server)
        .await;
    let rules = ErrorRules::default().rule(
        Rule::status(200)
            .body_contains("\"status\":\"error\"")
            .then(Action::Fail),
    );
    let client = RestClient::builder(server.uri())
        .rules(rules)
        .retry(fast())
        .build()
        .unwrap();
    let err = client.send(&Request::get("/report")).await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 200, .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("200 OK from {}/report", server.uri())),
        "{msg}"
    );
    assert!(msg.contains("quota exceeded"), "{msg}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_response_hook_classifies_responses_before_the_rules() {
    let server = MockServer::start().await;
    // A 200 that says "maintenance" in a header: the hook retries it.
    Mock::given(path("/items"))
        .respond_with(json_page(json!([])).insert_header("x-maintenance", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .respond_with(json_page(json!([{"id": 1}])))
        .mount(&server)
        .await;
    // A 500 the API sends for "no data": the hook ignores it instead of retrying.
    Mock::given(path("/empty"))
        .respond_with(ResponseTemplate::new(500).set_body_string("no data for range"))
        .expect(1)
        .mount(&server)
        .await;
    let hooked = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&hooked);
    let rules = ErrorRules::default().hook(move |response| {
        seen.fetch_add(1, Ordering::SeqCst);
        if response.header("x-maintenance").is_some() {
            Some(Action::Retry)
        } else if response.status() == 500 && response.body().starts_with(b"no data") {
            Some(Action::Ignore)
        } else {
            None
        }
    });
    let client = RestClient::builder(server.uri())
        .rules(rules)
        .retry(fast())
        .build()
        .unwrap();
    let response = client.send(&Request::get("/items")).await.unwrap();
    assert_eq!(response.json().unwrap(), json!([{"id": 1}]));
    assert_eq!(client.stats().retries, 1);
    let response = client.send(&Request::get("/empty")).await.unwrap();
    assert!(response.is_ignored());
    assert_eq!(hooked.load(Ordering::SeqCst), 3);
    server.verify().await;
}
