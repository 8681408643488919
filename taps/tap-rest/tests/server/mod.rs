//! A local API with one endpoint per pagination style, all serving the same five items in
//! pages of two: `/{style}/items`. Authentication is checked under `/auth/{method}/items`;
//! `/oauth/token` (per grant type) and `/login` hand out tokens; `/customers/{id}/orders`
//! are a child endpoint; `updated_since` filters items on `updated_at`; `/windowed/items`
//! keeps those in `[from, to)`; `/slow/items` serves 20 items by offset, each page 100 ms
//! late; odd requests to `/flaky/items` get a 429 with `Retry-After: 1`.
//!
//! For backoff and error rules: the first request to `/backoff/{hint}/items` gets a 429 whose
//! wait is in `Retry-After: 1` (`retry_after`), `X-Wait: 3` (`header`) or the body's message
//! (`message`: "retry in 3 seconds"); the first to `/busy/items` a 400 "busy, try again";
//! `/accounts/8/orders` a 403 "account archived". `/pool` lists twelve accounts whose
//! `/pool/{id}/items` answer 500 ms late, except the fifth request: an immediate 429.

#![allow(dead_code)] // each test file uses a part

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers::any};

pub(crate) const API_KEY: &str = "key-123";
pub(crate) const BEARER: &str = "bearer-456";
pub(crate) const USER: &str = "ada";
pub(crate) const PASSWORD: &str = "pw-789";
pub(crate) const CLIENT_ID: &str = "client-1";
pub(crate) const CLIENT_SECRET: &str = "client-secret-2";
pub(crate) const ACCESS_TOKEN: &str = "access-abc";
pub(crate) const SESSION_TOKEN: &str = "session-def";
const PAGE: usize = 2;

/// The running server and the requests it saw.
pub(crate) struct Api {
    pub(crate) server: MockServer,
    log: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Api {
    pub(crate) async fn start() -> Api {
        let server = MockServer::start().await;
        let log: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        let (l, base) = (Arc::clone(&log), server.uri());
        Mock::given(any())
            .respond_with(move |request: &Request| respond(&base, request, &l))
            .mount(&server)
            .await;
        Api { server, log }
    }

    pub(crate) fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request's path and query, in order.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// When each request whose path starts with `prefix` arrived, in order.
    pub(crate) fn arrivals(&self, prefix: &str) -> Vec<Instant> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(r, _)| r.starts_with(prefix))
            .map(|(_, at)| *at)
            .collect()
    }
}

/// The five items, nested as APIs nest them.
pub(crate) fn items() -> Vec<Value> {
    (1..=5)
        .map(|i| {
            let mut item = json!({
                "id": i,
                "name": format!("item-{i}"),
                "updated_at": format!("2024-01-0{i}T10:00:00Z"),
                "score": if i % 2 == 0 { json!(i) } else { json!(f64::from(i) + 0.5) },
                "owner": {"login": format!("user{i}"), "address": {"zip-code": format!("1000{i}")}},
                "tags": ["a", format!("t{i}")],
                "meta.flag": i > 2,
            });
            if i != 3 {
                item["note"] = if i == 1 {
                    Value::Null
                } else {
                    json!(format!("n{i}"))
                };
            }
            item
        })
        .collect()
}

/// Requests logged so far whose path starts with `prefix` (this one included).
fn count(log: &Mutex<Vec<(String, Instant)>>, prefix: &str) -> usize {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(r, _)| r.starts_with(prefix))
        .count()
}

fn respond(base: &str, request: &Request, log: &Mutex<Vec<(String, Instant)>>) -> ResponseTemplate {
    let path = request.url.path().to_owned();
    let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
    log.lock().unwrap().push((
        format!("{path}?{}", request.url.query().unwrap_or("")),
        Instant::now(),
    ));
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let earlier = count(log, &format!("{path}?"));
    let mut all = items();
    if let Some(since) = query.get("updated_since") {
        all.retain(|i| i["updated_at"].as_str().unwrap() > since.as_str());
    }
    let num = |name: &str, default: usize| {
        query
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    match segments.as_slice() {
        ["oauth", "token"] => {
            let body = String::from_utf8_lossy(&request.body).into_owned();
            if !token_request_ok(&body) {
                return ResponseTemplate::new(401)
                    .set_body_json(json!({"error": "invalid_client"}));
            }
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3600}))
        }
        ["login"] => {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            if body["username"] != USER || body["password"] != PASSWORD {
                return ResponseTemplate::new(401).set_body_json(json!({"error": "bad login"}));
            }
            ResponseTemplate::new(200).set_body_json(json!({"token": SESSION_TOKEN}))
        }
        ["auth", method, "items"] => {
            let expected = match *method {
                "api_key" => header("x-api-key") == Some(API_KEY.to_owned()),
                "bearer_token" => header("authorization") == Some(format!("Bearer {BEARER}")),
                "basic" => {
                    // ada:pw-789
                    header("authorization") == Some("Basic YWRhOnB3LTc4OQ==".to_owned())
                }
                "oauth" => header("authorization") == Some(format!("Bearer {ACCESS_TOKEN}")),
                "session_token" => {
                    header("authorization") == Some(format!("Bearer {SESSION_TOKEN}"))
                }
                _ => false,
            };
            if !expected {
                return ResponseTemplate::new(401)
                    .set_body_json(json!({"message": "unauthorized"}));
            }
            ok(json!({"items": all}))
        }
        ["customers"] => ok(json!([{"id": 7, "name": "c7"}, {"id": 8, "name": "c8"}])),
        ["accounts"] => ok(json!([{"id": 7}, {"id": 8}, {"id": 9}])),
        ["accounts", "8", "orders"] => {
            ResponseTemplate::new(403).set_body_json(json!({"message": "account archived"}))
        }
        ["pool"] => ok(json!(
            (1..=12).map(|id| json!({"id": id})).collect::<Vec<_>>()
        )),
        ["pool", id, "items"] => {
            if count(log, "/pool/") == 5 {
                return ResponseTemplate::new(429)
                    .insert_header("Retry-After", "0")
                    .set_body_json(json!({"message": "slow down"}));
            }
            let id: i64 = id.parse().unwrap_or(0);
            ok(json!([{"id": id}])).set_delay(Duration::from_millis(500))
        }
        ["backoff", hint, "items"] => {
            if earlier > 1 {
                return ok(json!({"items": all}));
            }
            let throttled = ResponseTemplate::new(429);
            match *hint {
                "retry_after" => throttled
                    .insert_header("Retry-After", "1")
                    .set_body_json(json!({"message": "slow down"})),
                "header" => throttled
                    .insert_header("X-Wait", "3")
                    .set_body_json(json!({"message": "slow down"})),
                _ => throttled
                    .set_body_json(json!({"message": "Too many requests: retry in 3 seconds"})),
            }
        }
        ["busy", "items"] if earlier == 1 => {
            ResponseTemplate::new(400).set_body_json(json!({"message": "busy, try again"}))
        }
        ["customers", id, "orders"] | ["accounts", id, "orders"] => {
            let id: i64 = id.parse().unwrap_or(0);
            ok(json!([{"order": id * 10 + 1, "total": 1.5}, {"order": id * 10 + 2, "total": 2}]))
        }
        [style, "items"] => {
            let chunk = |start: usize, len: usize| -> Vec<Value> {
                all.iter().skip(start).take(len).cloned().collect()
            };
            match *style {
                // Odd requests (the first, third, ...) are throttled.
                "flaky" if earlier % 2 == 1 => ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_json(json!({"message": "slow down"})),
                "single" | "flaky" | "busy" => ok(json!({"items": all})),
                "windowed" => {
                    let (from, to) = (
                        query.get("from").cloned().unwrap_or_default(),
                        query.get("to").cloned().unwrap_or_else(|| "9".to_owned()),
                    );
                    all.retain(|i| {
                        let at = i["updated_at"].as_str().unwrap();
                        at >= from.as_str() && at < to.as_str()
                    });
                    ok(json!({"items": all}))
                }
                "slow" => {
                    // 20 items in pages of `limit`, each page 100 ms late.
                    let many: Vec<Value> = (1..=20).map(|i| json!({"id": i})).collect();
                    let (offset, limit) = (num("offset", 0), num("limit", PAGE));
                    ok(json!({
                        "items": many.iter().skip(offset).take(limit).collect::<Vec<_>>(),
                        "pagination": {"offset": offset, "limit": limit, "total": many.len()},
                    }))
                    .set_delay(Duration::from_millis(100))
                }
                "cursor" => {
                    let page = query
                        .get("cursor")
                        .or_else(|| query.get("page"))
                        .and_then(|t| t.strip_prefix('c'))
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(1usize);
                    let next = (page * PAGE < all.len()).then(|| format!("c{}", page + 1));
                    ok(json!({"items": chunk((page - 1) * PAGE, PAGE), "next_page": next}))
                }
                // `counted` names the total `count`; both also take `start` and `size`.
                "offset" | "counted" => {
                    let offset = num("start", num("offset", 0));
                    let limit = num("size", num("limit", PAGE));
                    let total = if *style == "counted" {
                        "count"
                    } else {
                        "total"
                    };
                    ok(json!({
                        "items": chunk(offset, limit),
                        "pagination": {"offset": offset, "limit": limit, total: all.len()},
                    }))
                }
                // The next page as a query string to merge.
                "query" => {
                    let (page, size) = (num("page", 1), num("per_page", PAGE));
                    let next = (page * size < all.len())
                        .then(|| format!("page={}&per_page={size}", page + 1));
                    ok(json!({"items": chunk((page - 1) * size, size), "next_page": next}))
                }
                "simple_offset" => ok(json!(chunk(num("offset", 0), num("limit", PAGE)))),
                "page_number" => {
                    let page = num("page", 1);
                    ok(json!({
                        "items": chunk((page - 1) * PAGE, PAGE),
                        "hasMore": page * PAGE < all.len(),
                    }))
                }
                "header" => {
                    let page = num("page", 1);
                    let mut response = ok(json!(chunk((page - 1) * PAGE, PAGE)));
                    if page * PAGE < all.len() {
                        response = response.insert_header("X-Next-Page", (page + 1).to_string());
                    }
                    response
                }
                "link" => {
                    let (page, size) = (num("page", 1), num("per_page", PAGE));
                    let mut response = ok(json!(chunk((page - 1) * size, size)));
                    if page * size < all.len() {
                        let next = format!("{base}/link/items?page={}&per_page={size}", page + 1);
                        response =
                            response.insert_header("Link", format!("<{next}>; rel=\"next\""));
                    }
                    response
                }
                "hateoas" => {
                    let page = num("page", 1);
                    let next = (page * PAGE < all.len())
                        .then(|| format!("{base}/hateoas/items?page={}", page + 1));
                    ok(json!({"items": chunk((page - 1) * PAGE, PAGE), "next_page": next}))
                }
                _ => ResponseTemplate::new(404).set_body_json(json!({"message": "no such style"})),
            }
        }
        _ => ResponseTemplate::new(404).set_body_json(json!({"message": "not found"})),
    }
}

/// A token request with the credential its `grant_type` needs: the client secret, the user's
/// password, the refresh token `r-1`, or a signed JWT `assertion` (three dot-separated parts).
fn token_request_ok(body: &str) -> bool {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let field = |name: &str| form.get(name).map(String::as_str);
    match field("grant_type") {
        Some("client_credentials") => field("client_secret") == Some(CLIENT_SECRET),
        Some("password") => field("username") == Some(USER) && field("password") == Some(PASSWORD),
        Some("refresh_token") => field("refresh_token") == Some("r-1"),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            field("assertion").is_some_and(|a| a.split('.').count() == 3)
        }
        _ => false,
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}
