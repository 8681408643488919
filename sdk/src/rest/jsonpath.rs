//! JSONPath (RFC 9535) expressions, and the records selector built on them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use super::error::{Error, Result};

/// A parsed JSONPath expression, keeping its text for messages.
///
/// ```
/// use serde_json::json;
/// use singer_sdk::rest::JsonPath;
/// let path = JsonPath::parse("$.meta.next").unwrap();
/// assert_eq!(path.first(&json!({"meta": {"next": "abc"}})), Some(&json!("abc")));
/// ```
#[derive(Debug, Clone)]
pub struct JsonPath {
    text: String,
    path: serde_json_path::JsonPath,
}

impl JsonPath {
    /// Parses `text`.
    ///
    /// # Errors
    ///
    /// [`Error::JsonPath`] naming the expression and what is wrong with it.
    pub fn parse(text: &str) -> Result<Self> {
        let path = serde_json_path::JsonPath::parse(text).map_err(|e| Error::JsonPath {
            path: text.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(JsonPath {
            text: text.to_owned(),
            path,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first match.
    pub fn first<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.path.query(value).first()
    }

    /// Every match, in document order.
    pub fn all<'v>(&self, value: &'v Value) -> Vec<&'v Value> {
        self.path.query(value).all()
    }
}

/// Picks the records out of a response body (singer-sdk's `records_jsonpath`), `$[*]` by
/// default. A path that matches nothing in a non-empty body logs one warning per selector,
/// since it usually means the path is wrong, but is not an error.
///
/// ```
/// use serde_json::json;
/// use singer_sdk::rest::Selector;
/// let selector = Selector::new("$.items[*]").unwrap();
/// let records = selector.select(&json!({"items": [{"id": 1}, {"id": 2}]}));
/// assert_eq!(records, vec![json!({"id": 1}), json!({"id": 2})]);
/// ```
#[derive(Debug, Clone)]
pub struct Selector {
    path: JsonPath,
    warned: Arc<AtomicBool>,
}

impl Default for Selector {
    fn default() -> Self {
        Selector::new("$[*]").unwrap_or_else(|_| unreachable!("`$[*]` is valid JSONPath"))
    }
}

impl Selector {
    /// A selector for `path`.
    ///
    /// # Errors
    ///
    /// [`Error::JsonPath`] when the path does not parse.
    pub fn new(path: &str) -> Result<Self> {
        Ok(Selector {
            path: JsonPath::parse(path)?,
            warned: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The path.
    pub fn path(&self) -> &JsonPath {
        &self.path
    }

    /// The records in `body`, in order (cloned).
    pub fn select(&self, body: &Value) -> Vec<Value> {
        let found: Vec<Value> = self.path.all(body).into_iter().cloned().collect();
        if found.is_empty() && !is_empty(body) && !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                records_jsonpath = %self.path.as_str(),
                "The records JSONPath matched nothing in a non-empty response; check the path."
            );
        }
        found
    }
}

fn is_empty(body: &Value) -> bool {
    match body {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty() || o.values().all(is_empty),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_nested_and_top_level() {
        let top = Selector::default();
        assert_eq!(top.select(&json!([1, 2, 3])).len(), 3);
        let nested = Selector::new("$.data.users[*].node").unwrap();
        let body = json!({"data": {"users": [{"node": {"id": 1}}, {"node": {"id": 2}}]}});
        assert_eq!(
            nested.select(&body),
            vec![json!({"id": 1}), json!({"id": 2})]
        );
    }

    #[test]
    fn no_match_is_empty_not_an_error() {
        let s = Selector::new("$.items[*]").unwrap();
        assert!(s.select(&json!({"results": [1]})).is_empty());
        assert!(s.select(&json!({"results": [1]})).is_empty());
        assert!(s.warned.load(Ordering::Relaxed));
        let quiet = Selector::new("$.items[*]").unwrap();
        assert!(quiet.select(&json!({"items": []})).is_empty());
        assert!(!quiet.warned.load(Ordering::Relaxed));
    }

    #[test]
    fn bad_path_names_itself() {
        let err = JsonPath::parse("$.items[").unwrap_err().to_string();
        assert!(err.contains("`$.items[`"), "{err}");
    }
}
