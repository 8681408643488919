//! The OAuth 2.0 JWT bearer grant: the token endpoint verifies the signed assertion.
#![cfg(feature = "jwt")]

use serde_json::{Value, json};
use singer_sdk::rest::{Grant, JwtAssertion, OAuth2, Request, RestClient};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Match, Mock, MockServer, ResponseTemplate};

/// A throwaway RSA key made for this test only.
const PRIVATE_KEY: &str = r"-----BEGIN PRIVATE KEY-----
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
const PUBLIC_KEY: &str = r"-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAruj+uc3h82YppwwX9pR8
as6E2uVSoTZpmWmYkLQbbTBLiVm2uFltgmckHwI2PfRC3rLyyx7gKRELVlruXrj+
N4JElNwSsb71f2ZvFxfWDglEzObK4tOJI7WX0DBZoamgLZmDBg5C52HcbCSLZaiN
1V/S4WufypNQ0nwf+lBn3bPdEv1E0RKsrujbOelK6BGrVwhi6hiNzWS7d/eWM02V
N5rKypIth2KmmPWQTTQBDT7jpLmu7LJ1M9PVONLQZVJrgXevruvHo4TK0by7TDg7
KTpBe1jM9/W6JGk0fC7a7p4vDox+X8yVRXD2dxt8ghoTPqRa/sr2Za0+CjaXO7Qh
FwIDAQAB
-----END PUBLIC KEY-----
";

/// Matches a token request whose `assertion` verifies against [`PUBLIC_KEY`] with the
/// expected issuer, audience and scope.
struct ValidAssertion {
    audience: String,
}

impl Match for ValidAssertion {
    fn matches(&self, request: &wiremock::Request) -> bool {
        let Some(assertion) = url::form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "assertion")
            .map(|(_, v)| v.into_owned())
        else {
            return false;
        };
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&["client-id"]);
        jsonwebtoken::decode::<Value>(&assertion, &key, &validation).is_ok_and(|data| {
            data.claims["scope"] == "read write" && data.header.kid.as_deref() == Some("k1")
        })
    }
}

#[tokio::test]
async fn jwt_bearer_grant_sends_a_verifiable_assertion() {
    let server = MockServer::start().await;
    let token_url = format!("{}/token", server.uri());
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
        ))
        .and(ValidAssertion {
            audience: token_url.clone(),
        })
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "jwt-tok", "expires_in": 3600})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/data"))
        .and(header("authorization", "Bearer jwt-tok"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let assertion = JwtAssertion::new("client-id", PRIVATE_KEY).key_id("k1");
    let auth = OAuth2::new(&token_url, Grant::JwtBearer(Box::new(assertion)))
        .scopes(["read", "write"])
        .setting("private_key");
    let shown = format!("{auth:?}");
    assert!(
        !shown.contains("PRIVATE KEY") && !shown.contains("MII"),
        "{shown}"
    );
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .build()
        .unwrap();
    client.send(&Request::get("/data")).await.unwrap();
    client.send(&Request::get("/data")).await.unwrap();
}

#[tokio::test]
async fn a_bad_private_key_names_the_setting_without_showing_the_key() {
    let server = MockServer::start().await;
    let assertion = JwtAssertion::new(
        "client-id",
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    );
    let auth = OAuth2::new(
        format!("{}/token", server.uri()),
        Grant::JwtBearer(Box::new(assertion)),
    )
    .setting("private_key");
    let client = RestClient::builder(server.uri())
        .auth(auth)
        .build()
        .unwrap();
    let err = client
        .send(&Request::get("/data"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot get a token for `private_key`"),
        "{err}"
    );
    assert!(err.contains("not a usable PEM key"), "{err}");
    assert!(!err.contains("bm90IGEga2V5"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
