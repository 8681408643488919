//! The records, as GitHub's REST API returns them (the fields this tap keeps). These types
//! replace the JSON Schema files a Python tap ships: the schemas are derived from them.

use serde::{Deserialize, Serialize};
use singer_sdk::Schema;

/// A GitHub account, as embedded in other records.
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct User {
    pub(crate) id: i64,
    pub(crate) login: String,
}

/// A repository (`GET /repos/{owner}/{repo}`).
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct Repository {
    #[schema(key)]
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) full_name: String,
    pub(crate) owner: User,
    pub(crate) description: Option<String>,
    pub(crate) private: bool,
    pub(crate) html_url: String,
    pub(crate) default_branch: Option<String>,
    pub(crate) stargazers_count: i64,
    pub(crate) forks_count: i64,
    pub(crate) open_issues_count: i64,
    #[schema(format = "date-time")]
    pub(crate) created_at: String,
    #[schema(format = "date-time")]
    pub(crate) updated_at: String,
    #[schema(format = "date-time")]
    pub(crate) pushed_at: Option<String>,
}

/// An issue label.
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct Label {
    pub(crate) id: i64,
    pub(crate) name: String,
}

/// Set on issues that are pull requests.
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct PullRequestLink {
    pub(crate) url: String,
}

/// An issue (or pull request) of a repository (`GET /repos/{owner}/{repo}/issues`).
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct Issue {
    #[schema(key)]
    pub(crate) id: i64,
    pub(crate) number: i64,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) user: Option<User>,
    pub(crate) body: Option<String>,
    #[serde(default)]
    pub(crate) labels: Vec<Label>,
    pub(crate) comments: i64,
    pub(crate) pull_request: Option<PullRequestLink>,
    #[schema(format = "date-time")]
    pub(crate) created_at: String,
    #[schema(replication_key, format = "date-time")]
    pub(crate) updated_at: String,
    #[schema(format = "date-time")]
    pub(crate) closed_at: Option<String>,
    /// The repository's owner (from the partition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<String>,
    /// The repository's name (from the partition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) repo: Option<String>,
}

/// A comment on an issue (`GET /repos/{owner}/{repo}/issues/{issue_number}/comments`).
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct IssueComment {
    #[schema(key)]
    pub(crate) id: i64,
    pub(crate) issue_number: i64,
    pub(crate) user: Option<User>,
    pub(crate) body: Option<String>,
    #[schema(format = "date-time")]
    pub(crate) created_at: String,
    #[schema(format = "date-time")]
    pub(crate) updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) repo: Option<String>,
}

/// A pull request (`GET /repos/{owner}/{repo}/pulls`).
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct PullRequest {
    #[schema(key)]
    pub(crate) id: i64,
    pub(crate) number: i64,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) user: Option<User>,
    pub(crate) draft: Option<bool>,
    #[schema(format = "date-time")]
    pub(crate) created_at: String,
    #[schema(replication_key, format = "date-time")]
    pub(crate) updated_at: String,
    #[schema(format = "date-time")]
    pub(crate) merged_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) repo: Option<String>,
}

/// A release (`GET /repos/{owner}/{repo}/releases`).
#[derive(Debug, Deserialize, Serialize, Schema)]
pub(crate) struct Release {
    #[schema(key)]
    pub(crate) id: i64,
    pub(crate) tag_name: String,
    pub(crate) name: Option<String>,
    pub(crate) draft: bool,
    pub(crate) prerelease: bool,
    pub(crate) author: Option<User>,
    #[schema(format = "date-time")]
    pub(crate) created_at: String,
    #[schema(format = "date-time")]
    pub(crate) published_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) repo: Option<String>,
}
