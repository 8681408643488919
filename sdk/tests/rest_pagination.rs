//! Paginators and page prefetch against loopback servers.
#![cfg(feature = "rest")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use singer_sdk::rest::{
    Action, Cursor, ErrorRules, NextUrl, Offset, PageNumber, Paginator, Request, RestClient, Rule,
    Selector, SinglePage, Source,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> RestClient {
    RestClient::builder(server.uri()).build().unwrap()
}

fn ids(records: &[Value]) -> Vec<i64> {
    records.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// The ids of every record `paginator` walks through from `GET /items`.
async fn fetch_ids(server: &MockServer, paginator: impl Paginator + 'static) -> Vec<i64> {
    fetch(
        server,
        Request::get("/items"),
        paginator,
        Selector::default(),
    )
    .await
}

/// The ids of every record `paginator` walks through from `request`, selected by `selector`.
async fn fetch(
    server: &MockServer,
    request: Request,
    paginator: impl Paginator + 'static,
    selector: Selector,
) -> Vec<i64> {
    let records = client(server)
        .pages(request, paginator, selector)
        .records()
        .await
        .unwrap();
    ids(&records)
}

async fn mount_page(server: &MockServer, param: (&str, &str), body: Value) {
    mount_page_n(server, param, body, 1).await;
}

async fn mount_page_n(server: &MockServer, param: (&str, &str), body: Value, times: u64) {
    Mock::given(method("GET"))
        .and(path("/items"))
        .and(query_param(param.0, param.1))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn single_page() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1}, {"id": 2}])))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(fetch_ids(&server, SinglePage).await, [1, 2]);
}

#[tokio::test]
async fn page_number_until_has_more_is_false() {
    let server = MockServer::start().await;
    mount_page(
        &server,
        ("page", "1"),
        json!({"items": [{"id": 1}], "has_more": true}),
    )
    .await;
    mount_page(
        &server,
        ("page", "2"),
        json!({"items": [{"id": 2}], "has_more": true}),
    )
    .await;
    mount_page(
        &server,
        ("page", "3"),
        json!({"items": [{"id": 3}], "has_more": false}),
    )
    .await;
    let paginator = PageNumber::new("page").has_more(Source::body("$.has_more").unwrap());
    assert_eq!(
        fetch(
            &server,
            Request::get("/items"),
            paginator,
            Selector::new("$.items[*]").unwrap()
        )
        .await,
        [1, 2, 3]
    );
}

#[tokio::test]
async fn page_number_stops_on_an_empty_page() {
    let server = MockServer::start().await;
    mount_page(&server, ("page", "1"), json!({"items": [{"id": 1}]})).await;
    mount_page(&server, ("page", "2"), json!({"items": []})).await;
    let records = client(&server)
        .pages(
            Request::get("/items"),
            PageNumber::new("page"),
            Selector::new("$.items[*]").unwrap(),
        )
        .records()
        .await
        .unwrap();
    assert_eq!(ids(&records), [1]);
}

#[tokio::test]
async fn offset_with_total() {
    let server = MockServer::start().await;
    mount_page_n(
        &server,
        ("offset", "0"),
        json!({"total": 5, "data": [{"id": 1}, {"id": 2}]}),
        2,
    )
    .await;
    mount_page_n(
        &server,
        ("offset", "2"),
        json!({"total": 5, "data": [{"id": 3}, {"id": 4}]}),
        2,
    )
    .await;
    mount_page_n(
        &server,
        ("offset", "4"),
        json!({"total": 5, "data": [{"id": 5}]}),
        2,
    )
    .await;
    let paginator = Offset::new("offset", "limit", 2).total(Source::body("$.total").unwrap());
    // Also with prefetch: the total is known after the first page.
    for prefetch in [1, 3] {
        let records = client(&server)
            .pages(
                Request::get("/items").query("limit", 2),
                paginator.clone(),
                Selector::new("$.data[*]").unwrap(),
            )
            .prefetch(prefetch)
            .records()
            .await
            .unwrap();
        assert_eq!(ids(&records), [1, 2, 3, 4, 5]);
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 6);
    assert!(
        requests
            .iter()
            .all(|r| r.url.query().unwrap().contains("limit=2"))
    );
}

#[tokio::test]
async fn cursor_in_body() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .and(query_param_is_missing("cursor"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [{"id": 1}], "meta": {"next": "c2"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_page(
        &server,
        ("cursor", "c2"),
        json!({"items": [{"id": 2}], "meta": {"next": null}}),
    )
    .await;
    let paginator = Cursor::new(Source::body("$.meta.next").unwrap(), "cursor");
    assert_eq!(
        fetch(
            &server,
            Request::get("/items"),
            paginator,
            Selector::new("$.items[*]").unwrap()
        )
        .await,
        [1, 2]
    );
}

#[tokio::test]
async fn cursor_in_header() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-next-page", "2")
                .set_body_json(json!([{"id": 1}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_page(&server, ("page", "2"), json!([{"id": 2}])).await;
    let paginator = Cursor::new(Source::header("X-Next-Page"), "page");
    assert_eq!(fetch_ids(&server, paginator).await, [1, 2]);
}

#[tokio::test]
async fn next_url_in_body_and_link_header() {
    let server = MockServer::start().await;
    let next = format!("{}/items?after=1", server.uri());
    Mock::given(path("/items"))
        .and(query_param_is_missing("after"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!("<{next}>; rel=\"next\", </items?after=9>; rel=\"last\"").as_str(),
                )
                .set_body_json(json!({"results": [{"id": 1}], "next": next})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .and(query_param("after", "1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"results": [{"id": 2}], "next": null})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let selector = Selector::new("$.results[*]").unwrap();
    for paginator in [
        NextUrl::new(Source::body("$.next").unwrap()),
        NextUrl::link_header(),
    ] {
        assert_eq!(
            fetch(
                &server,
                Request::get("/items").query("per_page", 1),
                paginator,
                selector.clone()
            )
            .await,
            [1, 2]
        );
    }
}

#[tokio::test]
async fn a_repeated_token_is_an_error_after_the_pages_before_it() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": [{"id": 1}], "next": "same"})),
        )
        .mount(&server)
        .await;
    let paginator = Cursor::new(Source::body("$.next").unwrap(), "cursor");
    let mut pages = client(&server).pages(
        Request::get("/items"),
        paginator,
        Selector::new("$.items[*]").unwrap(),
    );
    assert!(pages.next().await.unwrap().is_ok());
    assert!(pages.next().await.unwrap().is_ok());
    let err = pages.next().await.unwrap().unwrap_err().to_string();
    assert!(err.contains("`same` twice"), "{err}");
    assert!(pages.next().await.is_none());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_ignored_response_is_an_empty_last_page() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(404).set_body_string("not found"))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .rules(ErrorRules::default().rule(Rule::status(404).then(Action::Ignore)))
        .build()
        .unwrap();
    let pages: Vec<_> = client
        .pages(
            Request::get("/items"),
            PageNumber::new("page"),
            Selector::default(),
        )
        .collect()
        .await;
    assert_eq!(pages.len(), 1);
    assert!(pages[0].as_ref().unwrap().records().is_empty());
}

#[tokio::test]
async fn a_non_json_page_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<!doctype html>"))
        .mount(&server)
        .await;
    let err = client(&server)
        .pages(Request::get("/items"), SinglePage, Selector::default())
        .records()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is not JSON") && err.contains("<!doctype html>"),
        "{err}"
    );
}

/// A tiny HTTP/1.1 server: page 1 answers at once; later pages are held until `hold`
/// requests are in flight together (or a guard timeout passes, so a broken client fails the
/// assertion instead of hanging); from then on every page answers, later pages first.
struct PrefetchServer {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    requests: AtomicUsize,
    released: Notify,
    open: AtomicBool,
    hold: usize,
    pages: usize,
}

impl PrefetchServer {
    async fn start(hold: usize, pages: usize) -> (String, Arc<PrefetchServer>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(PrefetchServer {
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            released: Notify::new(),
            open: AtomicBool::new(false),
            hold,
            pages,
        });
        let server = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(Arc::clone(&server).answer(socket));
            }
        });
        (url, state)
    }

    async fn answer(self: Arc<Self>, mut socket: tokio::net::TcpStream) {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buffer);
        let target = head.split_whitespace().nth(1).unwrap_or("/");
        let page: usize = target
            .split_once("page=")
            .and_then(|(_, rest)| rest.split('&').next()?.parse().ok())
            .unwrap_or(1);
        self.requests.fetch_add(1, Ordering::SeqCst);
        if page > 1 {
            let released = self.released.notified();
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            if now >= self.hold {
                self.open.store(true, Ordering::SeqCst);
                self.released.notify_waiters();
            } else if !self.open.load(Ordering::SeqCst) {
                let _ = tokio::time::timeout(Duration::from_secs(5), released).await;
            }
            // Later pages answer first, so order has to be restored by the client.
            tokio::time::sleep(Duration::from_millis(((self.pages - page) * 5) as u64)).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        let records: Vec<Value> = (0..2).map(|i| json!({"id": page * 10 + i})).collect();
        let body = json!({"items": records, "total_pages": self.pages}).to_string();
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
        let _ = socket.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetch_keeps_order_with_n_requests_in_flight() {
    let (url, server) = PrefetchServer::start(3, 7).await;
    let client = RestClient::builder(url).build().unwrap();
    let paginator = PageNumber::new("page").total_pages(Source::body("$.total_pages").unwrap());
    let records = client
        .pages(
            Request::get("/items"),
            paginator,
            Selector::new("$.items[*]").unwrap(),
        )
        .prefetch(3)
        .records()
        .await
        .unwrap();
    let expected: Vec<i64> = (1..=7).flat_map(|p| [p * 10, p * 10 + 1]).collect();
    assert_eq!(ids(&records), expected);
    assert_eq!(server.requests.load(Ordering::SeqCst), 7);
    assert_eq!(server.max_in_flight.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_prefetch_pages_go_one_at_a_time() {
    let (url, server) = PrefetchServer::start(1, 4).await;
    let client = RestClient::builder(url).build().unwrap();
    let paginator = PageNumber::new("page").total_pages(Source::body("$.total_pages").unwrap());
    let records = client
        .pages(
            Request::get("/items"),
            paginator,
            Selector::new("$.items[*]").unwrap(),
        )
        .records()
        .await
        .unwrap();
    let expected: Vec<i64> = (1..=4).flat_map(|p| [p * 10, p * 10 + 1]).collect();
    assert_eq!(ids(&records), expected);
    assert_eq!(server.requests.load(Ordering::SeqCst), 4);
    assert_eq!(server.max_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_empty_page_among_prefetched_pages_ends_the_pagination() {
    let server = MockServer::start().await;
    for (n, items) in [
        ("1", json!([{"id": 1}])),
        ("2", json!([{"id": 2}])),
        ("3", json!([])),
        ("4", json!([{"id": 4}])),
        ("5", json!([{"id": 5}])),
    ] {
        Mock::given(path("/items"))
            .and(query_param("page", n))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"items": items, "pages": 5})),
            )
            .mount(&server)
            .await;
    }
    let paginator = PageNumber::new("page").total_pages(Source::body("$.pages").unwrap());
    let records = client(&server)
        .pages(
            Request::get("/items"),
            paginator,
            Selector::new("$.items[*]").unwrap(),
        )
        .prefetch(2)
        .records()
        .await
        .unwrap();
    assert_eq!(ids(&records), [1, 2]);
    // Page 5 is never asked for: the window holds two requests, and page 3 ends it.
    let asked: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query().unwrap().to_owned())
        .collect();
    assert!(!asked.contains(&"page=5".to_owned()), "{asked:?}");
}
