//! `tap-github`: a Singer tap for GitHub, built on `singer-sdk`'s REST streams.
//!
//! Streams: `repositories`, `issues` (incremental on `updated_at` through `since`),
//! `issue_comments` (a child of `issues`), `pull_requests` and `releases`, each partitioned
//! by repository. Every request goes through one client: bearer auth, retries with backoff,
//! GitHub's rate-limit headers, `Link` pagination.

mod records;

use serde::Deserialize;
use serde_json::{Map, Value};
use singer_sdk::rest::{
    Bearer, Cassette, Concurrency, NextUrl, Request, RestClient, RestStream, Selector,
};
use singer_sdk::stream::{Context, SyncContext};
use singer_sdk::tap::{Streams, Tap};
use singer_sdk::{Error, Result, Settings};

use crate::records::{Issue, IssueComment, PullRequest, Release, Repository};

/// The tap's settings.
#[derive(Debug, Deserialize, Settings)]
struct Config {
    /// The repositories to sync, as `owner/name`.
    repositories: Vec<String>,
    /// A GitHub token (classic or fine-grained). Without one GitHub allows 60 requests an hour.
    #[serde(default)]
    #[setting(secret)]
    auth_token: Option<String>,
    /// The API's base URL: the public API, a GitHub Enterprise Server (`https://HOST/api/v3`), or a test server.
    #[serde(default = "default_api_url")]
    #[setting(default = "https://api.github.com")]
    api_url: String,
    /// How many repositories (and issues' comments) sync at once, and how many requests may be
    /// in flight: each 429 halves that, successes grow it back.
    #[serde(default = "one")]
    #[setting(default = 1)]
    #[schema(minimum = 1)]
    max_concurrency: usize,
}

fn default_api_url() -> String {
    "https://api.github.com".to_owned()
}

fn one() -> usize {
    1
}

/// The environment variable naming a cassette file to record to or replay from (see
/// `SINGER_REST_CASSETTE_MODE`), for tests without the network.
const CASSETTE_VAR: &str = "TAP_GITHUB_CASSETTE";

/// GitHub caps `per_page` at 100.
const PAGE_SIZE: u32 = 100;

struct TapGithub;

impl Tap for TapGithub {
    type Settings = Config;

    async fn streams(&self, config: &Config) -> Result<Streams> {
        let repos = config
            .repositories
            .iter()
            .map(|full| repository_context(full))
            .collect::<Result<Vec<_>>>()?;
        let client = client(config)?;
        let get = |path: &str| Request::get(path).query("per_page", PAGE_SIZE);
        let pages = NextUrl::link_header;

        let repositories = RestStream::<Repository>::new(
            "repositories",
            &client,
            Request::get("/repos/{owner}/{repo}"),
        )
        .selector(Selector::new("$").map_err(Error::from)?)
        .partitions(repos.clone());
        let issues = RestStream::<Issue>::new(
            "issues",
            &client,
            get("/repos/{owner}/{repo}/issues")
                .query("state", "all")
                .query("sort", "updated")
                .query("direction", "asc"),
        )
        .paginator(pages())
        .since("since")
        .sorted()
        .partitions(repos.clone())
        .child_context(|issue, repo| {
            let mut context = repo.cloned().unwrap_or_default();
            context.insert("issue_number".to_owned(), issue.number.into());
            context
        });
        let comments = RestStream::<IssueComment>::new(
            "issue_comments",
            &client,
            get("/repos/{owner}/{repo}/issues/{issue_number}/comments"),
        )
        .paginator(pages())
        .parent("issues")
        .state_partitioning_keys(["owner", "repo"])
        .post_process(with_issue_number);
        let pulls = RestStream::<PullRequest>::new(
            "pull_requests",
            &client,
            get("/repos/{owner}/{repo}/pulls")
                .query("state", "all")
                .query("sort", "updated")
                .query("direction", "desc"),
        )
        .paginator(pages())
        .partitions(repos.clone());
        let releases =
            RestStream::<Release>::new("releases", &client, get("/repos/{owner}/{repo}/releases"))
                .paginator(pages())
                .partitions(repos);

        Ok(Streams::new()
            .with(repositories)
            .with(issues)
            .with(comments)
            .with(pulls)
            .with(releases)
            .max_concurrency(config.max_concurrency))
    }
}

/// The one client every stream shares: base URL, user agent, GitHub's media type, the
/// token, at most `max_concurrency` requests in flight (halved on a 429), and a cassette when
/// `TAP_GITHUB_CASSETTE` names one.
fn client(config: &Config) -> Result<RestClient> {
    let mut builder = RestClient::builder(config.api_url.trim_end_matches('/'))
        .user_agent(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .concurrency(Concurrency::new(config.max_concurrency));
    if let Some(token) = &config.auth_token {
        builder = builder.auth(Bearer::new(token.as_str()));
    }
    if let Some(path) = std::env::var_os(CASSETTE_VAR) {
        if let Some(cassette) = Cassette::from_env(path)? {
            builder = builder.cassette(cassette);
        }
    }
    Ok(builder.build()?)
}

/// `owner/name` as the context of a repository's partitions.
fn repository_context(full_name: &str) -> Result<Context> {
    let Some((owner, repo)) = full_name
        .split_once('/')
        .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
    else {
        return Err(Error::custom(format!(
            "repository `{full_name}` in `repositories` is not `owner/name`; write it as e.g. `rust-lang/cargo`"
        )));
    };
    let mut context = Map::new();
    context.insert("owner".to_owned(), Value::from(owner));
    context.insert("repo".to_owned(), Value::from(repo));
    Ok(context)
}

/// Comments do not name their issue: add the number from the partition.
fn with_issue_number(mut comment: Value, cx: &SyncContext) -> Result<Option<Value>> {
    if let (Value::Object(fields), Some(number)) = (
        &mut comment,
        cx.partition().and_then(|p| p.get("issue_number")),
    ) {
        fields.insert("issue_number".to_owned(), number.clone());
    }
    Ok(Some(comment))
}

#[singer_sdk::main]
fn main() -> TapGithub {
    TapGithub
}
