//! Authenticators against a loopback server: OAuth 2.0, session tokens, API keys, basic, a
//! connector's own authenticator, and 401/403 messages that name the setting, not the secret.
#![cfg(feature = "rest")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::json;
use singer_sdk::rest::{
    ApiKey, Authenticator, Basic, Bearer, Concurrency, Error, Grant, OAuth2, Outgoing, Request,
    RestClient, RetryPolicy, SessionToken,
};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn token(access: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": expires_in,
    }))
}

async fn hits(server: &MockServer, route: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == route)
        .count()
}

fn fast() -> RetryPolicy {
    RetryPolicy::default().initial_delay(Duration::from_millis(1))
}

#[tokio::test]
async fn oauth_client_credentials_caches_and_refreshes_after_a_401() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_secret=cl13nt-s3cret"))
        .and(body_string_contains("scope=read+write"))
        .respond_with(token("tok-one", 3600))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(token("tok-two", 3600))
        .mount(&server)
        .await;
    // The server has revoked the first token.
    Mock::given(path("/data"))
        .and(header("authorization", "Bearer tok-one"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(path("/data"))
        .and(header("authorization", "Bearer tok-two"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([1])))
        .mount(&server)
        .await;
    let auth = OAuth2::new(format!("{}/token", server.uri()), Grant::ClientCredentials)
        .client("id", "cl13nt-s3cret")
        .scopes(["read", "write"]);
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .retry(fast())
        .build()
        .unwrap();
    assert_eq!(
        client
            .send(&Request::get("/data"))
            .await
            .unwrap()
            .json()
            .unwrap(),
        json!([1])
    );
    assert_eq!(client.stats().refreshes, 1);
    client.send(&Request::get("/data")).await.unwrap();
    assert_eq!(
        hits(&server, "/token").await,
        2,
        "the second token is cached"
    );
    assert_eq!(hits(&server, "/data").await, 3);
    let shown = format!("{client:?}");
    for secret in ["cl13nt-s3cret", "tok-one", "tok-two"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn oauth_refreshes_before_expiry_and_keeps_the_new_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("refresh_token=r-one"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "a1", "expires_in": 30, "refresh_token": "r-two"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("refresh_token=r-two"))
        .respond_with(token("a2", 3600))
        .mount(&server)
        .await;
    Mock::given(path("/data"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    // 30 s of life is inside the 60 s refresh margin, so the second request refreshes.
    let auth = OAuth2::new(
        format!("{}/token", server.uri()),
        Grant::RefreshToken("r-one".into()),
    )
    .client("id", "s");
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .build()
        .unwrap();
    client.send(&Request::get("/data")).await.unwrap();
    client.send(&Request::get("/data")).await.unwrap();
    client.send(&Request::get("/data")).await.unwrap();
    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/data")
        .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, ["Bearer a1", "Bearer a2", "Bearer a2"]);
}

#[tokio::test]
async fn oauth_token_endpoint_failure_names_the_setting_not_the_secret() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let auth = OAuth2::new(
        format!("{}/token", server.uri()),
        Grant::Password {
            username: "me".into(),
            password: "pa55word".into(),
        },
    )
    .setting("password");
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .build()
        .unwrap();
    let err = client.send(&Request::get("/data")).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot get a token for `password`"),
        "{msg}"
    );
    assert!(msg.contains("invalid_grant"), "{msg}");
    assert!(!format!("{msg} {err:?}").contains("pa55word"));
    assert_eq!(hits(&server, "/data").await, 0);
}

#[tokio::test]
async fn session_token_logs_in_once_and_again_after_a_401() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/login"))
        .and(body_string_contains("l0gin-pw"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"token": "sess-1"}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/login"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"token": "sess-2"}})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .and(header("x-session", "sess-1"))
        .respond_with(ResponseTemplate::new(200))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .and(header("x-session", "sess-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .and(header("x-session", "sess-2"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let login = Request::post("/login").json(json!({"username": "me", "password": "l0gin-pw"}));
    let auth = SessionToken::new(login, "$.data.token")
        .unwrap()
        .header("X-Session", "");
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            client.send(&Request::get("/items")).await.unwrap().status(),
            200
        );
    }
    assert_eq!(hits(&server, "/login").await, 2);
    assert_eq!(hits(&server, "/items").await, 4);
    assert!(!format!("{client:?}").contains("l0gin-pw"));
}

#[tokio::test]
async fn session_token_missing_in_login_response() {
    let server = MockServer::start().await;
    Mock::given(path("/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let auth = SessionToken::new(Request::post("/login"), "$.token").unwrap();
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .build()
        .unwrap();
    let err = client
        .send(&Request::get("/items"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("nothing at `$.token`"), "{err}");
}

#[tokio::test]
async fn api_key_in_query_is_redacted_in_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/weather"))
        .and(query_param("appid", "k3y-value"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no such city"))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .auth(ApiKey::query("appid", "k3y-value").setting("api_key"))
        .build()
        .unwrap();
    let err = client
        .send(&Request::get("/weather").query("q", "Paris"))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("/weather?q=Paris&appid=****"), "{msg}");
    assert!(!format!("{msg} {err:?} {client:?}").contains("k3y-value"));
}

#[tokio::test]
async fn api_key_header_and_basic_auth_are_sent() {
    let server = MockServer::start().await;
    Mock::given(path("/a"))
        .and(header("x-api-key", "hk"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    // "user:pass" in base64
    Mock::given(path("/b"))
        .and(header("authorization", "Basic dXNlcjpwYXNz"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let a = RestClient::builder(server.uri())
        .auth(ApiKey::header("X-API-Key", "hk"))
        .build()
        .unwrap();
    assert_eq!(a.send(&Request::get("/a")).await.unwrap().status(), 200);
    let b = RestClient::builder(server.uri())
        .auth(Basic::new("user", "pass"))
        .build()
        .unwrap();
    assert_eq!(b.send(&Request::get("/b")).await.unwrap().status(), 200);
    let wrong = RestClient::builder(server.uri())
        .auth(Basic::new("user", "nope"))
        .build()
        .unwrap();
    let err = wrong
        .send(&Request::get("/b"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("404"), "{err}");
}

#[tokio::test]
async fn fetching_a_token_does_not_take_the_only_concurrency_slot() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(token("t", 3600))
        .mount(&server)
        .await;
    Mock::given(path("/data"))
        .and(header("authorization", "Bearer t"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let auth = OAuth2::new(format!("{}/token", server.uri()), Grant::ClientCredentials);
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .concurrency(Concurrency::new(1))
        .build()
        .unwrap();
    // A guard against a deadlock hanging the suite, not a timing assertion.
    let sent =
        tokio::time::timeout(Duration::from_secs(30), client.send(&Request::get("/data"))).await;
    assert_eq!(sent.expect("deadlocked").unwrap().status(), 200);
}

#[tokio::test]
async fn oauth_password_grant_gets_a_token_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=password"))
        .and(body_string_contains("username=me"))
        .and(body_string_contains("password=pa55word"))
        .and(body_string_contains("client_id=app"))
        .respond_with(token("pw-tok", 3600))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/data"))
        .and(header("authorization", "Bearer pw-tok"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(2)
        .mount(&server)
        .await;
    let auth = OAuth2::new(
        format!("{}/token", server.uri()),
        Grant::Password {
            username: "me".into(),
            password: "pa55word".into(),
        },
    )
    .client("app", "app-s3cret")
    .setting("password");
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .build()
        .unwrap();
    for _ in 0..2 {
        let response = client.send(&Request::get("/data")).await.unwrap();
        assert_eq!(response.json().unwrap(), json!({"ok": true}));
    }
    server.verify().await;
    let shown = format!("{client:?}");
    for secret in ["pa55word", "app-s3cret", "pw-tok"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn session_token_logs_in_again_once_its_lifetime_is_over() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": "sess-1"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": "sess-2"})))
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let lifetime = Duration::from_millis(50);
    let auth = SessionToken::new(Request::post("/login"), "$.token")
        .unwrap()
        .lifetime(lifetime);
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .build()
        .unwrap();
    client.send(&Request::get("/items")).await.unwrap();
    // Wait out the lifetime; no 401 comes, so only the expiry can cause the second login.
    tokio::time::sleep(lifetime * 4).await;
    client.send(&Request::get("/items")).await.unwrap();
    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/items")
        .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, ["Bearer sess-1", "Bearer sess-2"]);
    assert_eq!(hits(&server, "/login").await, 2);
    assert_eq!(client.stats().refreshes, 0, "no 401 was involved");
}

/// A scheme the SDK lacks, written the way a connector would: a signature header made from
/// the path and a key, and the key's id in a query parameter hidden from messages.
#[derive(Debug)]
struct Signed {
    key_id: String,
    key: String,
    unauthorized: Arc<AtomicUsize>,
}

impl Authenticator for Signed {
    fn setting(&self) -> &str {
        "signing_key"
    }

    fn apply<'a>(
        &'a self,
        _: &'a RestClient,
        request: &'a mut Outgoing,
    ) -> BoxFuture<'a, singer_sdk::rest::Result<()>> {
        Box::pin(async move {
            let signature = format!("{}:{}", request.url().path(), self.key.len());
            request.set_secret_header("x-signature", &signature)?;
            request.set_query("key_id", &self.key_id);
            Ok(())
        })
    }

    fn on_unauthorized<'a>(
        &'a self,
        _: &'a RestClient,
    ) -> BoxFuture<'a, singer_sdk::rest::Result<bool>> {
        self.unauthorized.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(false) })
    }

    fn secret_params(&self) -> Vec<String> {
        vec!["key_id".to_owned()]
    }
}

#[tokio::test]
async fn a_connectors_own_authenticator_signs_requests_and_sees_the_401() {
    let server = MockServer::start().await;
    Mock::given(path("/data"))
        .and(header("x-signature", "/data:9"))
        .and(query_param("key_id", "kid-42"))
        .and(query_param("q", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([1])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/private"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let unauthorized = Arc::new(AtomicUsize::new(0));
    let auth = Signed {
        key_id: "kid-42".to_owned(),
        key: "k3y-bytes".to_owned(),
        unauthorized: Arc::clone(&unauthorized),
    };
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .retry(fast())
        .build()
        .unwrap();
    let response = client
        .send(&Request::get("/data").query("q", 1))
        .await
        .unwrap();
    assert_eq!(response.json().unwrap(), json!([1]));
    let err = client.send(&Request::get("/private")).await.unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.ends_with("check the `signing_key` setting"), "{msg}");
    assert!(msg.contains("key_id=****"), "{msg}");
    assert!(!format!("{msg} {err:?}").contains("kid-42"), "{msg}");
    assert_eq!(unauthorized.load(Ordering::SeqCst), 1);
    server.verify().await;
}

#[tokio::test]
async fn forbidden_names_the_credential_setting_and_never_the_secret() {
    let server = MockServer::start().await;
    Mock::given(path("/orgs"))
        .respond_with(ResponseTemplate::new(403).set_body_string("resource not accessible"))
        .mount(&server)
        .await;
    let bearer = RestClient::builder(server.uri())
        .auth(Bearer::new("b34rer-s3cret").setting("auth_token"))
        .retry(fast())
        .build()
        .unwrap();
    let err = bearer.send(&Request::get("/orgs")).await.unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { status: 403, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "403 Forbidden from {}/orgs: check the `auth_token` setting",
            server.uri()
        )
    );
    assert!(!format!("{err:?} {bearer:?}").contains("b34rer-s3cret"));
    // A key in the query: the URL in the message hides it too.
    let key = RestClient::builder(server.uri())
        .auth(ApiKey::query("api_key", "qu3ry-s3cret").setting("api_key"))
        .retry(fast())
        .build()
        .unwrap();
    let err = key.send(&Request::get("/orgs")).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("403 Forbidden from"), "{msg}");
    assert!(msg.contains("/orgs?api_key=****"), "{msg}");
    assert!(msg.ends_with("check the `api_key` setting"), "{msg}");
    assert!(!format!("{msg} {err:?} {key:?}").contains("qu3ry-s3cret"));
    // Neither is retried: a refused credential does not get better.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}
