//! Error rules: what to do with a response, by status and body.

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use super::request::Response;

/// What to do with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Use it.
    Accept,
    /// Send the request again after a backoff.
    Retry,
    /// Treat it as an empty page and go on.
    Ignore,
    /// Give up on the current partition ([`Error::SkipPartition`](super::Error::SkipPartition)).
    SkipPartition,
    /// Fail the sync with the status, reason and first bytes of the body.
    Fail,
}

/// One rule: a status (or range) and/or a body substring, and the action when both match.
///
/// ```
/// use singer_sdk::rest::{Action, Rule};
/// let not_found_is_empty = Rule::status(404).then(Action::Ignore);
/// let busy = Rule::statuses(400..=499).body_contains("try again").then(Action::Retry);
/// # drop((not_found_is_empty, busy));
/// ```
#[derive(Debug, Clone)]
pub struct Rule {
    statuses: Option<RangeInclusive<u16>>,
    body: Option<String>,
    action: Action,
}

impl Rule {
    /// Matches one status code.
    pub fn status(code: u16) -> Self {
        Self::statuses(code..=code)
    }

    /// Matches a range of status codes.
    pub fn statuses(range: RangeInclusive<u16>) -> Self {
        Rule {
            statuses: Some(range),
            body: None,
            action: Action::Fail,
        }
    }

    /// Matches any response whose body contains `text` (add a status to narrow it).
    pub fn body(text: impl Into<String>) -> Self {
        Rule {
            statuses: None,
            body: Some(text.into()),
            action: Action::Fail,
        }
    }

    /// Also requires the body to contain `text`.
    #[must_use]
    pub fn body_contains(mut self, text: impl Into<String>) -> Self {
        self.body = Some(text.into());
        self
    }

    /// The action when the rule matches (the default is [`Action::Fail`]).
    #[must_use]
    pub fn then(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    fn matches(&self, response: &Response) -> bool {
        self.statuses
            .as_ref()
            .is_none_or(|r| r.contains(&response.status()))
            && self.body.as_ref().is_none_or(|needle| {
                let hay = String::from_utf8_lossy(response.body());
                hay.contains(needle.as_str())
            })
    }
}

/// A function that classifies a response before the rules; `None` defers to them.
pub type ResponseHook = Arc<dyn Fn(&Response) -> Option<Action> + Send + Sync>;

/// The rules a client applies to every response: the hook, then the rules in order, then the
/// defaults (2xx and 3xx accepted; 429, 5xx and the extra retry statuses retried; other 4xx
/// fatal).
#[derive(Clone, Default)]
pub struct ErrorRules {
    hook: Option<ResponseHook>,
    rules: Vec<Rule>,
    extra_retry: Vec<u16>,
}

impl fmt::Debug for ErrorRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorRules")
            .field("hook", &self.hook.is_some())
            .field("rules", &self.rules)
            .field("extra_retry", &self.extra_retry)
            .finish()
    }
}

impl ErrorRules {
    /// Adds a rule (earlier rules win).
    #[must_use]
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Retries these statuses too (singer-sdk's `extra_retry_statuses`).
    #[must_use]
    pub fn retry_statuses(mut self, statuses: &[u16]) -> Self {
        self.extra_retry.extend_from_slice(statuses);
        self
    }

    /// Classifies responses before the rules (singer-sdk's `validate_response`).
    #[must_use]
    pub fn hook(
        mut self,
        hook: impl Fn(&Response) -> Option<Action> + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// GraphQL's rule (as singer-sdk's `GraphQLStream`): a 2xx body with `errors` and no
    /// `data` fails with the errors; `errors` next to `data` only logs a warning. Replaces
    /// any hook set before.
    #[must_use]
    pub fn graphql(self) -> Self {
        self.hook(|response| {
            if !(200..300).contains(&response.status()) {
                return None;
            }
            let body: serde_json::Value = serde_json::from_slice(response.body()).ok()?;
            let errors = body.get("errors").filter(|e| !e.is_null())?;
            if body.get("data").is_none_or(serde_json::Value::is_null) {
                Some(Action::Fail)
            } else {
                tracing::warn!(url = %response.url(), errors = %errors, "GraphQL response has errors next to its data.");
                None
            }
        })
    }

    /// What to do with `response`.
    pub fn classify(&self, response: &Response) -> Action {
        if let Some(action) = self.hook.as_ref().and_then(|hook| hook(response)) {
            return action;
        }
        if let Some(rule) = self.rules.iter().find(|r| r.matches(response)) {
            return rule.action;
        }
        let status = response.status();
        if status == 429 || status >= 500 || self.extra_retry.contains(&status) {
            Action::Retry
        } else if !(100..400).contains(&status) {
            Action::Fail
        } else {
            Action::Accept
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn resp(status: u16, body: &str) -> Response {
        Response::new(status, HeaderMap::new(), body)
    }

    #[test]
    fn defaults_follow_singer_sdk() {
        let rules = ErrorRules::default();
        assert_eq!(rules.classify(&resp(200, "")), Action::Accept);
        assert_eq!(rules.classify(&resp(304, "")), Action::Accept);
        assert_eq!(rules.classify(&resp(429, "")), Action::Retry);
        assert_eq!(rules.classify(&resp(502, "")), Action::Retry);
        assert_eq!(rules.classify(&resp(404, "")), Action::Fail);
        assert_eq!(rules.classify(&resp(401, "")), Action::Fail);
    }

    #[test]
    fn rules_then_hook_order() {
        let rules = ErrorRules::default()
            .rule(Rule::status(404).then(Action::Ignore))
            .rule(
                Rule::statuses(400..=499)
                    .body_contains("busy")
                    .then(Action::Retry),
            )
            .rule(Rule::body("partition gone").then(Action::SkipPartition))
            .retry_statuses(&[409]);
        assert_eq!(rules.classify(&resp(404, "")), Action::Ignore);
        assert_eq!(rules.classify(&resp(400, "server busy")), Action::Retry);
        assert_eq!(rules.classify(&resp(400, "bad")), Action::Fail);
        assert_eq!(
            rules.classify(&resp(200, "partition gone")),
            Action::SkipPartition
        );
        assert_eq!(rules.classify(&resp(409, "")), Action::Retry);
        let hooked = rules.hook(|r| {
            (r.status() == 200 && r.body().starts_with(b"{\"errors\"")).then_some(Action::Fail)
        });
        assert_eq!(hooked.classify(&resp(200, "{\"errors\":[]}")), Action::Fail);
        assert_eq!(hooked.classify(&resp(404, "")), Action::Ignore);
    }

    #[test]
    fn graphql_errors_without_data_fail() {
        let rules = ErrorRules::default().graphql();
        assert_eq!(
            rules.classify(&resp(
                200,
                r#"{"errors": [{"message": "x"}], "data": null}"#
            )),
            Action::Fail
        );
        assert_eq!(
            rules.classify(&resp(
                200,
                r#"{"errors": [{"message": "x"}], "data": {"a": 1}}"#
            )),
            Action::Accept
        );
        assert_eq!(
            rules.classify(&resp(200, r#"{"data": {"a": 1}}"#)),
            Action::Accept
        );
        assert_eq!(
            rules.classify(&resp(502, r#"{"errors": []}"#)),
            Action::Retry
        );
    }
}
