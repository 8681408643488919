//! The REST client against a loopback server: headers, errors, retries, rate limits.
#![cfg(feature = "rest")]

use std::time::Duration;

use serde_json::json;
use singer_sdk::rest::{
    Action, Bearer, Budget, Concurrency, Error, ErrorRules, Request, RestClient, RetryPolicy, Rule,
};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fast() -> RetryPolicy {
    RetryPolicy::default().initial_delay(Duration::from_millis(1))
}

fn client(server: &MockServer) -> RestClient {
    RestClient::builder(server.uri())
        .user_agent("tap-test", "1.2.3")
        .retry(fast())
        .build()
        .unwrap()
}

#[tokio::test]
async fn sends_user_agent_headers_query_body_and_fills_placeholders() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/meltano/sdk%2Fcore/issues"))
        .and(query_param("state", "open"))
        .and(header("user-agent", "tap-test/1.2.3"))
        .and(header("x-default", "d"))
        .and(header("x-extra", "e"))
        .and(body_json(json!({"q": 1})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1}])))
        .expect(1)
        .mount(&server)
        .await;
    let client = RestClient::builder(format!("{}/", server.uri()))
        .user_agent("tap-test", "1.2.3")
        .header("X-Default", "d")
        .build()
        .unwrap();
    let context = json!({"owner": "meltano", "repo": "sdk/core"});
    let request = Request::post("/repos/{owner}/{repo}/issues")
        .context(context.as_object().unwrap())
        .query("state", "open")
        .header("X-Extra", "e")
        .json(json!({"q": 1}));
    let response = client.send(&request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json().unwrap(), json!([{"id": 1}]));
}

#[tokio::test]
async fn missing_placeholder_is_named_before_any_request() {
    let server = MockServer::start().await;
    let err = client(&server)
        .send(&Request::get("/repos/{owner}"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`{owner}`"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn non_json_body_is_an_error_with_status_and_first_bytes() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let response = client(&server).send(&Request::get("/x")).await.unwrap();
    let err = response.json().unwrap_err().to_string();
    assert!(err.contains("status 200"), "{err}");
    assert!(err.contains("<html>maintenance"), "{err}");
    assert!(err.contains(&format!("{}/x", server.uri())), "{err}");
}

#[tokio::test]
async fn unreachable_host_names_the_url_and_the_setting() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = RestClient::builder(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let err = client
        .send(&Request::get("/repos").query("api_key", "k3y"))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert_eq!(
        msg,
        format!(
            "cannot reach http://127.0.0.1:{port}/repos?api_key=**** (connection refused); check api_url and the network"
        )
    );
    // With retries, the same failure is retried and then reported as the cause.
    let client = RestClient::builder(format!("http://127.0.0.1:{port}"))
        .retry(fast().max_tries(3))
        .build()
        .unwrap();
    let err = client.send(&Request::get("/repos")).await.unwrap_err();
    assert!(
        matches!(&err, Error::RetriesExhausted { tries: 3, .. }),
        "{err:?}"
    );
    assert_eq!(client.stats().requests, 3);
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.starts_with("cannot reach"), "{source}");
}

#[tokio::test]
async fn bad_gateway_then_success_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let client = client(&server);
    let response = client.send(&Request::get("/x")).await.unwrap();
    assert_eq!(response.json().unwrap(), json!({"ok": true}));
    assert_eq!(client.stats().retries, 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn too_many_requests_honours_retry_after_and_halves_concurrency() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let concurrency = Concurrency::new(4);
    // A backoff this long would never finish: only Retry-After can make the retry happen.
    let client = RestClient::builder(server.uri())
        .retry(
            RetryPolicy::default()
                .initial_delay(Duration::from_secs(3600))
                .max_elapsed(None),
        )
        .concurrency(concurrency.clone())
        .build()
        .unwrap();
    client.send(&Request::get("/x")).await.unwrap();
    assert_eq!(client.stats().retries, 1);
    assert_eq!(concurrency.limit(), 2);
    assert_eq!(concurrency.in_flight(), 0);
}

#[tokio::test]
async fn malformed_retry_after_falls_back_to_backoff() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "whenever"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = client(&server);
    assert_eq!(
        client.send(&Request::get("/x")).await.unwrap().status(),
        200
    );
    assert_eq!(client.stats().retries, 2);
}

#[tokio::test]
async fn retries_run_out_with_the_last_status_as_cause() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .retry(fast().max_tries(2))
        .build()
        .unwrap();
    let err = client.send(&Request::get("/x")).await.unwrap_err();
    assert!(err.to_string().starts_with("giving up on"), "{err}");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        cause.contains("500 Internal Server Error") && cause.contains("boom"),
        "{cause}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn unauthorized_fails_once_naming_the_credential_setting() {
    let server = MockServer::start().await;
    Mock::given(path("/user"))
        .respond_with(ResponseTemplate::new(401).set_body_string("bad credentials"))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .auth(Bearer::new("sup3r-s3cret").setting("auth_token"))
        .retry(fast())
        .build()
        .unwrap();
    let err = client.send(&Request::get("/user")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "401 Unauthorized from {}/user: check the `auth_token` setting",
            server.uri()
        )
    );
    assert!(!format!("{err:?} {client:?}").contains("sup3r-s3cret"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn fatal_4xx_names_status_reason_and_body() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(422).set_body_string("{\"error\":\"bad field\"}"))
        .mount(&server)
        .await;
    let err = client(&server).send(&Request::get("/x")).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("422 Unprocessable Entity from"), "{msg}");
    assert!(msg.contains("bad field"), "{msg}");
}

#[tokio::test]
async fn error_rules_ignore_and_skip() {
    let server = MockServer::start().await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(path("/forbidden"))
        .respond_with(ResponseTemplate::new(403).set_body_string("archived project"))
        .mount(&server)
        .await;
    Mock::given(path("/flaky"))
        .respond_with(ResponseTemplate::new(400).set_body_string("please retry"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/flaky"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let rules = ErrorRules::default()
        .rule(Rule::status(404).then(Action::Ignore))
        .rule(
            Rule::status(403)
                .body_contains("archived")
                .then(Action::SkipPartition),
        )
        .rule(Rule::body("please retry").then(Action::Retry));
    let client = RestClient::builder(server.uri())
        .rules(rules)
        .retry(fast())
        .build()
        .unwrap();
    assert!(
        client
            .send(&Request::get("/gone"))
            .await
            .unwrap()
            .is_ignored()
    );
    let err = client.send(&Request::get("/forbidden")).await.unwrap_err();
    assert!(err.is_skip_partition(), "{err}");
    assert_eq!(
        client.send(&Request::get("/flaky")).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn rate_limit_headers_hold_the_next_request() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", "1"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ratelimit", "limit=100, remaining=90, reset=1"),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    let other = client.clone();
    client.send(&Request::get("/x")).await.unwrap();
    assert_eq!(client.stats().rate_limit_waits, 0);
    other.send(&Request::get("/x")).await.unwrap();
    assert_eq!(
        client.stats().rate_limit_waits,
        1,
        "the clone shares the gate"
    );
    client.send(&Request::get("/x")).await.unwrap();
    assert_eq!(client.stats().rate_limit_waits, 1, "plenty left: no wait");
}

#[tokio::test]
async fn budget_is_shared_by_clones() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .budget(Budget::per_second(2))
        .build()
        .unwrap();
    let other = client.clone();
    client.send(&Request::get("/x")).await.unwrap();
    other.send(&Request::get("/x")).await.unwrap();
    assert_eq!(client.stats().budget_waits, 0);
    other.send(&Request::get("/x")).await.unwrap();
    assert!(client.stats().budget_waits >= 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn invalid_base_url_is_a_clear_error() {
    let err = RestClient::builder("not a url").build().unwrap_err();
    assert!(
        err.to_string().contains("`not a url` is not a valid URL"),
        "{err}"
    );
    let err = RestClient::builder("ftp://h.example").build().unwrap_err();
    assert!(err.to_string().contains("http or https"), "{err}");
}

#[tokio::test]
async fn a_timeout_names_the_url_and_the_limit() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let err = client.send(&Request::get("/slow")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "request to {}/slow timed out after 0.2s; raise the timeout or try later",
            server.uri()
        )
    );
}

#[tokio::test]
async fn graphql_errors_without_data_fail_the_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_json(
            json!({"query": "{ viewer { login } }", "variables": {"n": 1}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": null, "errors": [{"message": "Field 'viewer' is unknown"}]
        })))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .rules(ErrorRules::default().graphql())
        .build()
        .unwrap();
    let request = Request::graphql("/graphql", "{ viewer { login } }", json!({"n": 1}));
    let err = client.send(&request).await.unwrap_err().to_string();
    assert!(err.contains("Field 'viewer' is unknown"), "{err}");
}

#[test]
fn clients_and_their_futures_cross_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let client = RestClient::builder("http://127.0.0.1:9").build().unwrap();
    send_sync(&client);
    let request = Request::get("/x");
    send(&client.send(&request));
    let pages = client.pages(
        Request::get("/x"),
        singer_sdk::rest::SinglePage,
        singer_sdk::rest::Selector::default(),
    );
    send(&pages);
}
