{% if cookiecutter.stream_type == "SQL" -%}
//! The Singer conformance suites on `{{ cookiecutter.tap_id }}`, one test case per check:
//! `cargo test --test conformance` (add `-- tap.sync` to run one suite).
//!
//! The tap reads a schema of this run's own, dropped at the end, on the PostgreSQL server
//! [`URL_VARIABLE`] names (default [`DEFAULT_URL`]): a table with a primary key, read
//! incrementally by `updated_at`, and a view.

use std::process::ExitCode;

use serde_json::json;
use singer_conformance::{Selection, Tap, libtest};
use singer_sdk::sql::postgres::{Client, ConnectOptions};

/// The variable naming the server the tests use.
const URL_VARIABLE: &str = "{{ cookiecutter.tap_id | upper | replace('-', '_') }}_TEST_URL";
/// The server the tests use unless [`URL_VARIABLE`] names another: the README says how to
/// get one.
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn main() -> ExitCode {
    let url = std::env::var(URL_VARIABLE).unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let client = match connect(&url) {
        Ok(client) => client,
        Err(e) => {
            eprintln!(
                "no PostgreSQL server for the tests: {e}\nStart one (see the README), or set {URL_VARIABLE}=postgres://user:password@host:port/database"
            );
            return ExitCode::FAILURE;
        }
    };
    let schema = format!("tap_test_{}", std::process::id());
    let created = client.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE;
         CREATE SCHEMA {schema};
         CREATE TABLE {schema}.items (id integer PRIMARY KEY, name text NOT NULL,
           updated_at timestamptz NOT NULL);
         INSERT INTO {schema}.items
           SELECT i, 'item ' || i, '2024-01-01T00:00:00Z'::timestamptz + i * interval '1 day'
           FROM generate_series(1, 25) AS i;
         CREATE VIEW {schema}.item_names AS SELECT id, name FROM {schema}.items;"
    ));
    if let Err(e) = created {
        eprintln!(
            "cannot create the test tables: {}",
            singer_sdk::error::report(&e)
        );
        return ExitCode::FAILURE;
    }
    let bin = env!("CARGO_BIN_EXE_{{ cookiecutter.tap_id }}");
    let tap = Tap::new(bin).config(json!({
        "sqlalchemy_url": url,
        "filter_schemas": [schema],
        "replication_keys": {format!("{schema}-items"): "updated_at"}
    }));
    let code = libtest::run(&tap, &Selection::all());
    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    code
}

/// A connection to the server at `url`, or why not (never the password).
fn connect(url: &str) -> Result<Client, String> {
    let options = ConnectOptions::from_url(url).map_err(|e| singer_sdk::error::report(&e))?;
    Client::connect(&options).map_err(|e| singer_sdk::error::report(&e))
}
{%- else -%}
//! The Singer conformance suites on `{{ cookiecutter.tap_id }}`, one test case per check:
//! `cargo test --test conformance` (add `-- tap.sync` to run one suite).
{%- if cookiecutter.stream_type in ["REST", "GraphQL"] %}
//!
//! The tap runs against a local mock of the API (no network): two pages of users
{%- if cookiecutter.auth_method != "Custom or N/A" %}, served
//! only to requests that authenticate as the settings say{% endif %}.
{%- endif %}

use std::process::ExitCode;

use serde_json::json;
use singer_conformance::{Selection, Tap, libtest};
{%- if cookiecutter.stream_type == "REST" and cookiecutter.auth_method in ["OAuth2", "JWT"] %}
use wiremock::matchers::{
    body_string_contains, header, method, path, query_param, query_param_is_missing,
};
{%- elif cookiecutter.stream_type in ["REST", "GraphQL"] %}
use wiremock::matchers::{
{%- if cookiecutter.stream_type == "GraphQL" or cookiecutter.auth_method in ["OAuth2", "JWT"] %}body_string_contains, {% endif %}
{%- if cookiecutter.auth_method != "Custom or N/A" %}header, {% endif -%}
method, path
{%- if cookiecutter.stream_type == "REST" %}, query_param, query_param_is_missing{% endif %}};
{%- endif %}
{%- if cookiecutter.stream_type in ["REST", "GraphQL"] %}
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};
{%- endif %}
{%- if cookiecutter.stream_type in ["REST", "GraphQL"] and cookiecutter.auth_method == "JWT" %}

/// A throwaway RSA key made for this test only: it signs the JWT assertion the mock
/// token endpoint accepts.
const TEST_PRIVATE_KEY: &str = r"-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCu6P65zeHzZimn
DBf2lHxqzoTa5VKhNmmZaZiQtBttMEuJWba4WW2CZyQfAjY99ELesvLLHuApEQtW
Wu5euP43gkSU3BKxvvV/Zm8XF9YOCUTM5sri04kjtZfQMFmhqaAtmYMGDkLnYdxs
JItlqI3VX9Lha5/Kk1DSfB/6UGfds90S/UTREqyu6Ns56UroEatXCGLqGI3NZLt3
95YzTZU3msrKki2HYqaY9ZBNNAENPuOkua7ssnUz09U40tBlUmuBd6+u68ejhMrR
vLtMODspOkF7WMz39bokaTR8Ltruni8OjH5fzJVFcPZ3G3yCGhM+pFr+yvZlrT4K
Npc7tCEXAgMBAAECggEAG5U0rlpwWnDu+p/mm4UZBcLhop9tY2zwRDgpzhAJDzQB
hXx3WyUHJvxa7uTrZuPBM9tmfG+3C+LbNdgLJTbpKBnL9OmrrQofLuMZe7vPjtEZ
X3K55gFT7CSz9ynYyKy2TNqblfXjyRdeqlMtBHALRe3hlJjjTw/iO/9FD7VkW8rB
q3WK3xJ5Jt6nVKSYWakrX1/lLIlv0fifrKdjWsA4llcaTAslRyjPeTUsr0lW/sl6
N9fvoAEP/KfG+a4WXTAqA7yVeYD39Q9cD2Il35EmqDh6SiZ3RMYnAPxAV8Z3KaX4
Gn6EXiTb7TNQKFu7HaM4ysgn7Vc7ErCSDJ+LgWVR0QKBgQDesQjAzDSp50HV5iuA
RqEZ+O4sM+8ygh3zHJmwWlxOUIahEo5U4+yPeYcrc2SpoqVtcOLjQ4rYdZjl7wZl
pWjLB4DVJRPXiZf1uylT74v5MZjHBXTWV9r4aokk4pb54gPW4/3s4piHpPGC1HIR
m2auw8uhrSj1sRqbMVPX9ecD6QKBgQDJEmNUUjdNR7gbdt4K4NBUH0dOgUls2JRY
z1CFj+4ydA27UH1JXDH7OyhlYmRmy6mDP5nfwDk5Xz4KRsZlkNxlAXFDQ8H0jyeV
lXGPsegSeT/4YGu37RRyItH7u85AUAYs20CLrS12bZ0qxQVT+sfw7ULrw3KucgyD
D+9my4Pc/wKBgQCQp3jjHALdlt3aHxCE29xMLbowtm+bZJAl2p8uwhORv5ckTBRu
qjuBG1UlcWijFIbW52xKahZn80OloLWME31V3QLf8ZzI9pTiR3haEJHhBkmShkXV
8e3IThPWBOZDXYBW93R7itm/yvIipPOP4l06Cu9cj0m7BxccVld7Qj2U+QKBgQCK
wzHhg0u+/XvFGGdsQnIDXAKt3vN5No5KK+h6BDZygzzmxElyUzn7E3xxW1HGz06Q
0Vez3sifG2eJWAabGTnASxqLPTuhNxouVRAmBrUN6reHBaPRLsApdHZNr/JK1+8r
DbShsEXrsQIB/i4LIsrRLiw84IlIclTILjsdSd4aqQKBgEWC1ME2b2B00N9Xt3Gz
3pLIW2HQnkXBrUtzefaAUvgdvhDsyHR3twAwqVVzdhuttsAGD6bs4IU0k2+7fKW+
qtp2vvExckMC3dln81G6snCJzKpuQUdq3XYbxKmEDeG7a2YOJut62divt+oPosV9
yxxy02aeqCZUaJvhqrWZQ8Br
-----END PRIVATE KEY-----
";
{%- endif %}

fn main() -> ExitCode {
{%- if cookiecutter.stream_type in ["REST", "GraphQL"] %}
    // The mock API serves from its own thread; the runtime only has to outlive the checks.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the mock API");
    let server = runtime.block_on(mock_api());
    let bin = env!("CARGO_BIN_EXE_{{ cookiecutter.tap_id }}");
    let tap = Tap::new(bin).config(json!({
        "api_url": server.uri(),
{%- if cookiecutter.auth_method == "API Key" %}
        "api_key": "test-key",
{%- elif cookiecutter.auth_method == "Bearer Token" %}
        "auth_token": "test-token",
{%- elif cookiecutter.auth_method == "Basic Auth" %}
        "username": "test-user",
        "password": "test-password",
{%- elif cookiecutter.auth_method == "OAuth2" %}
        "client_id": "test-client",
        "client_secret": "test-secret",
{%- elif cookiecutter.auth_method == "JWT" %}
        "client_id": "test-client",
        "private_key": TEST_PRIVATE_KEY,
{%- endif %}
    }));
    let code = libtest::run(&tap, &Selection::all());
    // Every mock (each page, the token endpoint) must have been asked at least once: this
    // panics, failing the test, if one never was.
    drop(server);
    code
{%- else %}
    let bin = env!("CARGO_BIN_EXE_{{ cookiecutter.tap_id }}");
    let tap = Tap::new(bin).config(json!({"item_count": 10}));
    libtest::run(&tap, &Selection::all())
{%- endif %}
}
{%- if cookiecutter.stream_type in ["REST", "GraphQL"] %}

/// The API: users 1 to 3 on the first page, 4 and 5 on the second, oldest first. Each mock
/// expects to be asked at least once.
async fn mock_api() -> MockServer {
    let server = MockServer::start().await;
{%- if cookiecutter.auth_method in ["OAuth2", "JWT"] %}
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
{%- if cookiecutter.auth_method == "OAuth2" %}
        .and(body_string_contains("grant_type=client_credentials"))
{%- else %}
        .and(body_string_contains("assertion="))
{%- endif %}
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "test-access-token",
            "token_type": "Bearer",
            "expires_in": 3600
        })))
        .expect(1..)
        .mount(&server)
        .await;
{%- endif %}
{%- if cookiecutter.stream_type == "REST" %}
    authenticated(Mock::given(method("GET")).and(path("/users")))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", "</users?sort=updated_at&page=2>; rel=\"next\"")
                .set_body_json(json!([user(1), user(2), user(3)])),
        )
        .expect(1..)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("GET")).and(path("/users")))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([user(4), user(5)])))
        .expect(1..)
        .mount(&server)
        .await;
{%- else %}
    let page = |users: Vec<serde_json::Value>, next: Option<&str>| {
        json!({"data": {"users": {
            "nodes": users,
            "pageInfo": {"hasNextPage": next.is_some(), "endCursor": next}
        }}})
    };
    authenticated(Mock::given(method("POST")).and(path("/graphql")))
        .and(body_string_contains(r#""after":null"#))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page(vec![user(1), user(2), user(3)], Some("c3"))),
        )
        .expect(1..)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("POST")).and(path("/graphql")))
        .and(body_string_contains(r#""after":"c3""#))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(vec![user(4), user(5)], None)))
        .expect(1..)
        .mount(&server)
        .await;
{%- endif %}
    server
}

/// Only requests that authenticate as the settings say get data.
fn authenticated(mock: MockBuilder) -> MockBuilder {
{%- if cookiecutter.auth_method == "API Key" %}
    mock.and(header("X-API-Key", "test-key"))
{%- elif cookiecutter.auth_method == "Bearer Token" %}
    mock.and(header("Authorization", "Bearer test-token"))
{%- elif cookiecutter.auth_method == "Basic Auth" %}
    // base64 of `test-user:test-password`
    mock.and(header(
        "Authorization",
        "Basic dGVzdC11c2VyOnRlc3QtcGFzc3dvcmQ=",
    ))
{%- elif cookiecutter.auth_method in ["OAuth2", "JWT"] %}
    mock.and(header("Authorization", "Bearer test-access-token"))
{%- else %}
    mock
{%- endif %}
}

/// User `id`, changed on day `id` of 2024.
fn user(id: i64) -> serde_json::Value {
    json!({
        "id": id,
        "name": format!("User {id}"),
        "email": format!("user{id}@example.com"),
        "updated_at": format!("2024-01-{id:02}T00:00:00Z")
    })
}
{%- endif %}
{%- endif %}
