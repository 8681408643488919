//! Record a client's exchanges into a cassette, then replay them with the server gone.
#![cfg(feature = "rest")]

use serde_json::json;
use singer_sdk::rest::{
    CASSETTE_MODE_VAR, Cassette, Grant, Mode, NextUrl, OAuth2, Request, RestClient, Selector,
};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(base: &str, cassette: Cassette) -> RestClient {
    let auth = OAuth2::new(format!("{base}/token"), Grant::ClientCredentials)
        .client("id", "cl13nt-s3cret");
    RestClient::builder(base)
        .auth(auth)
        .cassette(cassette)
        .build()
        .unwrap()
}

async fn fetch(client: &RestClient) -> singer_sdk::rest::Result<Vec<serde_json::Value>> {
    let request = Request::get("/items").query("access_token", "qu3ry-s3cret");
    client
        .pages(
            request,
            NextUrl::link_header(),
            Selector::new("$.items[*]").unwrap(),
        )
        .records()
        .await
}

#[tokio::test]
async fn record_then_replay_offline_with_secrets_scrubbed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cassettes").join("items.json");
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "l1ve-t0ken", "expires_in": 3600, "refresh_token": "l1ve-refresh"
        })))
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .and(header("authorization", "Bearer l1ve-t0ken"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [{"id": 2}]})))
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .and(header("authorization", "Bearer l1ve-t0ken"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!("<{base}/items?page=2>; rel=\"next\"").as_str(),
                )
                .insert_header("set-cookie", "session=c00kie")
                .set_body_json(json!({"items": [{"id": 1}]})),
        )
        .mount(&server)
        .await;

    let recorder = client(&base, Cassette::record(&file));
    let recorded = fetch(&recorder).await.unwrap();
    assert_eq!(recorded, [json!({"id": 1}), json!({"id": 2})]);
    let text = std::fs::read_to_string(&file).unwrap();
    for secret in [
        "cl13nt-s3cret",
        "qu3ry-s3cret",
        "l1ve-t0ken",
        "l1ve-refresh",
        "c00kie",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the cassette:\n{text}"
        );
    }
    assert!(text.contains("****"));
    let exchanges = serde_json::from_str::<serde_json::Value>(&text).unwrap()["exchanges"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(exchanges, 3, "token, page 1, page 2");
    drop(server);

    // Offline, even with other credentials (CI has none): the scrubbed exchanges match.
    let player = Cassette::replay(&file).unwrap();
    assert_eq!(player.mode(), Mode::Replay);
    let auth = OAuth2::new(format!("{base}/token"), Grant::ClientCredentials).client("id", "other");
    let replayer = RestClient::builder(&base)
        .auth(auth)
        .cassette(player)
        .build()
        .unwrap();
    assert_eq!(fetch(&replayer).await.unwrap(), recorded);

    // Every exchange is used once: a further request has nothing to replay.
    let err = fetch(&replayer).await.unwrap_err().to_string();
    assert!(err.contains("no recorded exchange left for GET"), "{err}");
    assert!(
        err.contains(&format!("{CASSETTE_MODE_VAR}=record")),
        "{err}"
    );
}

#[test]
fn from_env_replays_an_existing_cassette_by_default() {
    if std::env::var_os(CASSETTE_MODE_VAR).is_some() {
        return; // the developer chose a mode for this run
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.json");
    assert!(Cassette::from_env(&file).unwrap().is_none());
    std::fs::write(&file, r#"{"exchanges": []}"#).unwrap();
    assert_eq!(
        Cassette::from_env(&file).unwrap().unwrap().mode(),
        Mode::Replay
    );
    std::fs::write(&file, "not json").unwrap();
    let err = Cassette::from_env(&file).unwrap_err().to_string();
    assert!(err.contains("is not a cassette"), "{err}");
}
