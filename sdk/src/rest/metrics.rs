//! `http_request_duration` and `http_request_count` METRIC lines, with singer-sdk's tags.

use serde_json::{Map, Value};

use crate::logging::Metric;

/// How long one HTTP request took (singer-sdk's `http_request_duration` timer).
#[derive(Debug, Clone)]
pub struct HttpRequestDuration<'a> {
    /// The stream the request was for (empty when none was named).
    pub stream: &'a str,
    /// The path template, e.g. `/repos/{owner}/issues` (never a URL with values in it).
    pub endpoint: &'a str,
    /// The HTTP status, `None` when no response came back.
    pub status_code: Option<u16>,
    /// Seconds.
    pub seconds: f64,
    /// Whether the response was accepted.
    pub succeeded: bool,
}

impl HttpRequestDuration<'_> {
    /// The tags: `stream`, `endpoint`, `http_status_code`, `status`, `pid`.
    pub fn tags(&self) -> Map<String, Value> {
        let mut tags = base_tags(self.stream, self.endpoint);
        tags.insert(
            "http_status_code".to_owned(),
            self.status_code.map_or(Value::Null, Value::from),
        );
        let status = if self.succeeded {
            "succeeded"
        } else {
            "failed"
        };
        tags.insert("status".to_owned(), Value::from(status));
        tags
    }

    /// Emits the timer.
    pub fn emit(&self) {
        Metric {
            kind: "timer",
            metric: "http_request_duration",
            value: Value::from(self.seconds),
            tags: &self.tags(),
        }
        .emit();
    }
}

/// How many HTTP requests one stream (or partition) sent (singer-sdk's `http_request_count`).
#[derive(Debug, Clone)]
pub struct HttpRequestCount<'a> {
    /// The stream.
    pub stream: &'a str,
    /// The path template.
    pub endpoint: &'a str,
    /// The partition context, if any.
    pub context: Option<&'a Map<String, Value>>,
    /// Requests sent.
    pub count: u64,
}

impl HttpRequestCount<'_> {
    /// The tags: `stream`, `endpoint`, `context`, `pid`.
    pub fn tags(&self) -> Map<String, Value> {
        let mut tags = base_tags(self.stream, self.endpoint);
        tags.insert(
            "context".to_owned(),
            Value::Object(self.context.cloned().unwrap_or_default()),
        );
        tags
    }

    /// Emits the counter.
    pub fn emit(&self) {
        Metric {
            kind: "counter",
            metric: "http_request_count",
            value: Value::from(self.count),
            tags: &self.tags(),
        }
        .emit();
    }
}

fn base_tags(stream: &str, endpoint: &str) -> Map<String, Value> {
    let mut tags = Map::new();
    tags.insert("stream".to_owned(), Value::from(stream));
    tags.insert("endpoint".to_owned(), Value::from(endpoint));
    tags.insert("pid".to_owned(), Value::from(std::process::id()));
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_tags_match_singer_sdk() {
        let m = HttpRequestDuration {
            stream: "issues",
            endpoint: "/repos/{repo}/issues",
            status_code: Some(200),
            seconds: 0.5,
            succeeded: true,
        };
        let tags = m.tags();
        assert_eq!(tags["stream"], "issues");
        assert_eq!(tags["endpoint"], "/repos/{repo}/issues");
        assert_eq!(tags["http_status_code"], 200);
        assert_eq!(tags["status"], "succeeded");
    }

    #[test]
    fn count_tags_carry_context() {
        let ctx = serde_json::json!({"repo": "a"})
            .as_object()
            .cloned()
            .unwrap();
        let m = HttpRequestCount {
            stream: "issues",
            endpoint: "/x",
            context: Some(&ctx),
            count: 3,
        };
        assert_eq!(m.tags()["context"]["repo"], "a");
    }
}
