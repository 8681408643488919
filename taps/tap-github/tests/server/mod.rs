//! A GitHub-shaped API on loopback: repositories, issues, comments, pull requests and
//! releases of two repositories, in pages of two with `Link` headers, rate-limit headers on
//! every response, and faults: the first pull-request request of a repository gets a 429
//! with `Retry-After`, the first release request a 502, and a wrong token a 401. A [`Fault`]
//! adds one more (an exhausted rate limit, slow repositories and a 429, a body that is not
//! JSON, a `Link` loop, a 403).

#![allow(dead_code)] // each test file uses a part

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers::any};

/// The token the server accepts.
pub(crate) const TOKEN: &str = "ghp_good_token_123";

const PAGE: usize = 2;

/// How long [`Fault::Slow`] holds each repository request.
pub(crate) const HELD: Duration = Duration::from_millis(500);

/// A fault on top of the usual ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Fault {
    #[default]
    None,
    /// The first response says `X-RateLimit-Remaining: 0`, the window resetting at the Unix
    /// second after next (one to two seconds ahead).
    Exhausted,
    /// Any `acme/*` repository exists, and `/repos/{owner}/{repo}` is answered [`HELD`] late,
    /// except the fifth request: an immediate 429 with `Retry-After: 0`.
    Slow,
    /// `acme/rockets`' releases come back `200 OK` with an HTML page.
    NotJson,
    /// `acme/rockets`' releases have a `Link` to the page itself as the next page.
    LinkLoop,
    /// Every request gets a 403: the token lacks access.
    Forbidden,
}

/// The running server and what it was asked.
pub(crate) struct GitHub {
    pub(crate) server: MockServer,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    log: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl GitHub {
    pub(crate) async fn start() -> GitHub {
        GitHub::with(Fault::None).await
    }

    pub(crate) async fn with(fault: Fault) -> GitHub {
        let server = MockServer::start().await;
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let log: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        let (h, l) = (Arc::clone(&hits), Arc::clone(&log));
        let base = server.uri();
        Mock::given(any())
            .respond_with(move |request: &Request| respond(&base, fault, request, &h, &l))
            .mount(&server)
            .await;
        GitHub { server, hits, log }
    }

    pub(crate) fn uri(&self) -> String {
        self.server.uri()
    }

    /// How many requests went to `path` (any page).
    pub(crate) fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
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
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|(r, _)| r.starts_with(prefix))
            .map(|&(_, at)| at)
            .collect()
    }
}

fn respond(
    base: &str,
    fault: Fault,
    request: &Request,
    hits: &Mutex<HashMap<String, usize>>,
    log: &Mutex<Vec<(String, Instant)>>,
) -> ResponseTemplate {
    let path = request.url.path().to_owned();
    let arrived = Instant::now();
    let nth = {
        let mut log = log.lock().unwrap();
        log.push((
            format!("{path}?{}", request.url.query().unwrap_or("")),
            arrived,
        ));
        log.len()
    };
    let count = {
        let mut hits = hits.lock().unwrap();
        let n = hits.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let auth = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if fault == Fault::Forbidden {
        return ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by personal access token",
            "documentation_url": "https://docs.github.com/rest"
        }));
    }
    if auth != Some(&format!("Bearer {TOKEN}")) {
        return ResponseTemplate::new(401)
            .set_body_json(json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}));
    }
    let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (items, paged) = match segments.as_slice() {
        ["repos", owner, repo] if fault == Fault::Slow && *owner == "acme" => {
            if nth == 5 {
                return ResponseTemplate::new(429)
                    .insert_header("Retry-After", "0")
                    .set_body_json(json!({"message": "secondary rate limit"}));
            }
            return ok(repository(owner, repo)).set_delay(HELD);
        }
        ["repos", owner, repo] if repo_exists(owner, repo) => {
            if fault == Fault::Exhausted && nth == 1 {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                return ok(repository(owner, repo))
                    .insert_header("X-RateLimit-Remaining", "0")
                    .insert_header("X-RateLimit-Reset", (now.as_secs() + 2).to_string());
            }
            return ok(repository(owner, repo));
        }
        ["repos", owner, repo, "issues"] if repo_exists(owner, repo) => {
            let since = query.get("since").cloned().unwrap_or_default();
            let list = issues(repo)
                .into_iter()
                .filter(|i| i["updated_at"].as_str().unwrap() >= since.as_str())
                .collect();
            (list, true)
        }
        ["repos", owner, repo, "issues", number, "comments"] if repo_exists(owner, repo) => {
            (comments(repo, number.parse().unwrap()), true)
        }
        ["repos", owner, repo, "pulls"] if repo_exists(owner, repo) => {
            if count == 1 {
                return ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_json(json!({"message": "secondary rate limit"}));
            }
            (pulls(repo), true)
        }
        ["repos", owner, repo, "releases"] if repo_exists(owner, repo) => {
            if *repo == "rockets" && fault == Fault::NotJson {
                return ResponseTemplate::new(200)
                    .insert_header("Content-Type", "text/html")
                    .set_body_string("<!DOCTYPE html><html><body>Unicorn! This page is taking too long to load.</body></html>");
            }
            if *repo == "rockets" && fault == Fault::LinkLoop {
                let itself = with_page(base, &request.url, page);
                return ok(Value::Array(releases(repo)))
                    .insert_header("Link", format!(r#"<{itself}>; rel="next""#));
            }
            if count == 1 {
                return ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>");
            }
            (releases(repo), true)
        }
        _ => {
            return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
        }
    };
    let pages = items.len().div_ceil(PAGE).max(1);
    let start = (page - 1) * PAGE;
    let slice: Vec<Value> = items.into_iter().skip(start).take(PAGE).collect();
    let mut response = ok(Value::Array(slice));
    if paged && page < pages {
        let (next, last) = (
            with_page(base, &request.url, page + 1),
            with_page(base, &request.url, pages),
        );
        response = response.insert_header(
            "Link",
            format!(r#"<{next}>; rel="next", <{last}>; rel="last""#),
        );
    }
    response
}

/// The URL on the server at `base`, with its `page` parameter set to `page`.
fn with_page(base: &str, url: &wiremock::http::Url, page: usize) -> String {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != "page")
        .collect();
    let mut url = wiremock::http::Url::parse(base)
        .unwrap()
        .join(url.path())
        .unwrap();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("page", &page.to_string());
    url.to_string()
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("X-RateLimit-Limit", "5000")
        .insert_header("X-RateLimit-Remaining", "4990")
        .insert_header("X-RateLimit-Reset", "1999999999")
        .set_body_json(body)
}

fn repo_exists(owner: &str, repo: &str) -> bool {
    owner == "acme" && (repo == "rockets" || repo == "anvils")
}

/// `rockets` 1, `anvils` 2, `poolN` 100 + N.
fn repo_id(repo: &str) -> i64 {
    match repo {
        "rockets" => 1,
        "anvils" => 2,
        other => other
            .trim_start_matches("pool")
            .parse::<i64>()
            .map_or(0, |n| 100 + n),
    }
}

fn user(login: &str) -> Value {
    json!({"login": login, "id": login.len(), "type": "User", "site_admin": false})
}

fn repository(owner: &str, repo: &str) -> Value {
    json!({
        "id": repo_id(repo), "node_id": "R_x", "name": repo, "full_name": format!("{owner}/{repo}"),
        "owner": user(owner), "private": false, "html_url": format!("https://github.com/{owner}/{repo}"),
        "description": format!("All about {repo}"), "fork": false, "default_branch": "main",
        "stargazers_count": 42, "forks_count": 7, "open_issues_count": 3,
        "created_at": "2020-01-01T00:00:00Z", "updated_at": "2024-02-01T00:00:00Z", "pushed_at": null
    })
}

/// Issues in ascending `updated_at`: five in `rockets` (the first with three comments), two
/// in `anvils`.
pub(crate) fn issues(repo: &str) -> Vec<Value> {
    let n = if repo == "rockets" { 5 } else { 2 };
    (1..=n)
        .map(|i| {
            json!({
                "id": repo_id(repo) * 1000 + i, "number": i, "title": format!("Issue {i} of {repo}"),
                "state": if i % 2 == 0 { "closed" } else { "open" }, "user": user("wile"),
                "body": "It exploded.", "labels": [{"id": 9, "name": "bug", "color": "f00"}],
                "comments": comment_count(repo, i),
                "pull_request": if i == 3 { json!({"url": "https://api.github.com/x"}) } else { Value::Null },
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": format!("2024-01-0{i}T00:00:00Z"), "closed_at": null
            })
        })
        .collect()
}

fn comment_count(repo: &str, number: i64) -> usize {
    match (repo, number) {
        ("rockets", 1) => 3,
        ("rockets", 2) | ("anvils", 1) => 1,
        _ => 0,
    }
}

fn comments(repo: &str, number: i64) -> Vec<Value> {
    (1..=comment_count(repo, number))
        .map(|c| {
            json!({
                "id": repo_id(repo) * 100_000 + number * 100 + c as i64, "user": user("roadrunner"),
                "body": "Beep beep", "created_at": "2024-01-02T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z",
                "issue_url": format!("https://api.github.com/repos/acme/{repo}/issues/{number}")
            })
        })
        .collect()
}

fn pulls(repo: &str) -> Vec<Value> {
    (1..=3)
        .map(|i| {
            json!({
                "id": repo_id(repo) * 10_000 + i, "number": 10 + i, "title": format!("PR {i}"), "state": "open",
                "user": user("wile"), "draft": i == 2, "created_at": "2024-01-01T00:00:00Z",
                "updated_at": format!("2024-01-1{i}T00:00:00Z"), "merged_at": null
            })
        })
        .collect()
}

fn releases(repo: &str) -> Vec<Value> {
    vec![json!({
        "id": repo_id(repo) * 50, "tag_name": "v1.0.0", "name": "First", "draft": false, "prerelease": false,
        "author": user("wile"), "created_at": "2024-01-05T00:00:00Z", "published_at": "2024-01-05T00:00:00Z"
    })]
}
