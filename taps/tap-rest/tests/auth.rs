//! Every `auth_method` against a local server that checks the credentials: the right ones
//! sync, a wrong one fails with the status and without the secret in the message.

mod run;
mod server;

use serde_json::{Value, json};
use server::Api;

fn config(api: &Api, method: &str, extra: Value) -> Value {
    let mut config = json!({
        "api_url": api.uri(),
        "auth_method": method,
        "records_path": "$.items[*]",
        "streams": [{"name": "items", "path": format!("/auth/{method}/items"), "primary_keys": ["id"]}],
    });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    config
}

async fn syncs(method: &str, extra: Value) {
    let api = Api::start().await;
    let run = run::tap(&config(&api, method, extra), None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5], "auth {method}");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_key_bearer_and_basic() {
    syncs(
        "api_key",
        json!({"api_keys": {"X-API-KEY": server::API_KEY}}),
    )
    .await;
    syncs("bearer_token", json!({"bearer_token": server::BEARER})).await;
    syncs(
        "basic",
        json!({"username": server::USER, "password": server::PASSWORD}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oauth_grant_types() {
    for grant in [
        json!({"grant_type": "client_credentials", "client_id": server::CLIENT_ID, "client_secret": server::CLIENT_SECRET}),
        json!({"grant_type": "password", "username": server::USER, "password": server::PASSWORD}),
        json!({"grant_type": "refresh_token", "refresh_token": "r-1", "client_id": server::CLIENT_ID}),
    ] {
        let api = Api::start().await;
        let mut extra = grant.clone();
        extra["access_token_url"] = json!(format!("{}/oauth/token", api.uri()));
        let run = run::tap(&config(&api, "oauth", extra), None, &[]);
        run.assert_ok();
        assert_eq!(run.ids("items").len(), 5, "grant {grant}");
        let token_requests = api
            .requests()
            .iter()
            .filter(|r| r.starts_with("/oauth/token"))
            .count();
        assert_eq!(token_requests, 1, "the token is fetched once and cached");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn session_token_logs_in_first() {
    syncs(
        "session_token",
        json!({"access_token_url": "/login", "username": server::USER, "password": server::PASSWORD}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_bearer_grant_signs_an_assertion() {
    let api = Api::start().await;
    let key = include_str!("fixtures/jwt-test-key.pem");
    let mut config = config(
        &api,
        "jwt",
        json!({"access_token_url": format!("{}/oauth/token", api.uri()), "client_id": server::CLIENT_ID, "private_key": key}),
    );
    config["streams"][0]["path"] = json!("/auth/oauth/items");
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items").len(), 5);
    assert!(!run.stderr.contains("PRIVATE KEY"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_request_is_retried_after_retry_after() {
    let api = Api::start().await;
    let mut config = config(&api, "no_auth", json!({}));
    config["streams"][0]["path"] = json!("/flaky/items");
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("items"), [1, 2, 3, 4, 5]);
    let flaky = api
        .requests()
        .iter()
        .filter(|r| r.starts_with("/flaky/items"))
        .count();
    // The log counts the request itself, so odd requests are throttled: the sample and the
    // sync each get a 429 and then succeed on the retry.
    assert_eq!(flaky, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_per_second_is_one_budget_for_every_stream() {
    let api = Api::start().await;
    let mut config = config(&api, "no_auth", json!({"requests_per_second": 1}));
    // Two base URLs (one per stream), four requests each: a sample and three pages.
    config["streams"] = json!([
        {"name": "a", "path": "/cursor/items", "primary_keys": ["id"]},
        {"name": "b", "path": "/cursor/items", "primary_keys": ["id"], "api_url": format!("{}/", api.uri())},
    ]);
    let started = std::time::Instant::now();
    let run = run::tap(&config, None, &[]);
    run.assert_ok();
    assert_eq!(run.ids("a").len() + run.ids("b").len(), 10);
    // Eight requests at one a second after a burst of one: seven seconds at least (two
    // budgets would let the second stream start on a full bucket: about five).
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(6500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_fail_without_leaking_them() {
    let api = Api::start().await;
    let run = run::tap(
        &config(
            &api,
            "bearer_token",
            json!({"bearer_token": "wrong-secret-999"}),
        ),
        None,
        &[],
    );
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    assert!(!run.stderr.contains("wrong-secret-999"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_auth_settings_are_named() {
    let api = Api::start().await;
    let run = run::tap(&config(&api, "oauth", json!({})), None, &["--discover"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("`auth_method: oauth` needs `access_token_url`"),
        "{}",
        run.stderr
    );
    assert!(
        api.requests().is_empty(),
        "no request before the config is valid"
    );
    let aws = run::tap(&config(&api, "aws", json!({})), None, &[]);
    assert_eq!(aws.code, Some(2));
    assert!(
        aws.stderr
            .contains("`auth_method: aws` (AWS SigV4) is not supported"),
        "{}",
        aws.stderr
    );
}

#[test]
fn about_lists_the_settings_and_hides_secrets() {
    let output = std::process::Command::new(run::BIN)
        .args(["--about", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let about: Value = serde_json::from_slice(&output.stdout).unwrap();
    let settings = &about["settings"]["properties"];
    for name in [
        "api_url",
        "streams",
        "auth_method",
        "pagination_request_style",
        "backoff_type",
    ] {
        assert!(settings.get(name).is_some(), "--about lacks `{name}`");
    }
    for secret in [
        "bearer_token",
        "password",
        "client_secret",
        "api_keys",
        "refresh_token",
        "private_key",
    ] {
        assert_eq!(
            settings[secret]["secret"], true,
            "`{secret}` is not marked secret"
        );
    }
    assert_eq!(about["settings"]["required"], json!(["api_url"]));
}
