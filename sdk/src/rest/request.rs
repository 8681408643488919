//! What to send ([`Request`]) and what came back ([`Response`]).

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{Map, Value};

use super::error::{Error, Result, is_secret_name, snippet};

/// One HTTP request, relative to the client's base URL (or absolute, for next-page URLs).
///
/// The path may hold `{placeholder}`s, filled from the [context](Request::context) when the
/// request is sent; values are percent-encoded (a `/` in a value stays inside its segment).
///
/// ```
/// use singer_sdk::rest::Request;
/// use serde_json::json;
///
/// let request = Request::get("/repos/{owner}/issues")
///     .context(json!({"owner": "meltano"}).as_object().unwrap())
///     .query("state", "open")
///     .header("Accept", "application/json");
/// assert_eq!(request.render_path().unwrap(), "/repos/meltano/issues");
/// ```
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) absolute: bool,
    pub(crate) context: Map<String, Value>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) with_auth: bool,
}

impl std::fmt::Debug for Request {
    // Header values and secret query values may be credentials: never show them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let query: Vec<(&str, &str)> = self
            .query
            .iter()
            .map(|(k, v)| {
                let v = if is_secret_name(k, &[]) {
                    "****"
                } else {
                    v.as_str()
                };
                (k.as_str(), v)
            })
            .collect();
        let headers: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("context", &self.context)
            .field("query", &query)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("with_auth", &self.with_auth)
            .finish()
    }
}

/// A header from text; values of credential-looking headers (`Authorization`, names with
/// `key`, `token`, `secret`, `session`, `cookie`) are marked sensitive, so no `Debug` or log
/// shows them.
pub(crate) fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| Error::InvalidHeader {
        name: name.to_owned(),
        detail: e.to_string(),
    })?;
    let mut value = HeaderValue::from_str(value).map_err(|_| Error::InvalidHeader {
        name: name.to_owned(),
        detail: "the value has characters a header cannot carry".to_owned(),
    })?;
    let lower = header.as_str();
    if lower == "authorization"
        || ["key", "token", "secret", "session", "cookie", "password"]
            .iter()
            .any(|word| lower.contains(word))
    {
        value.set_sensitive(true);
    }
    Ok((header, value))
}

/// The body of a request.
#[derive(Clone, Default)]
pub(crate) enum Body {
    #[default]
    None,
    Json(Value),
    Form(Vec<(String, String)>),
}

impl std::fmt::Debug for Body {
    // Bodies may carry credentials (login, token requests): show their shape only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::None => f.write_str("None"),
            Body::Json(_) => f.write_str("Json(..)"),
            Body::Form(fields) => f
                .debug_tuple("Form")
                .field(&fields.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
                .finish(),
        }
    }
}

impl Request {
    /// A request with `method` to `path` (relative to the base URL).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
            absolute: false,
            context: Map::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::None,
            with_auth: true,
        }
    }

    /// A GET request to `path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// A POST request to `path`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    /// A GraphQL request: a POST to `path` with `{"query": ..., "variables": ...}`. Pair it
    /// with [`ErrorRules::graphql`](super::ErrorRules::graphql).
    ///
    /// ```
    /// use serde_json::json;
    /// use singer_sdk::rest::Request;
    /// let request = Request::graphql("/graphql", "query { viewer { login } }", json!({}));
    /// assert_eq!(request.json_body().unwrap()["query"], "query { viewer { login } }");
    /// ```
    pub fn graphql(path: impl Into<String>, query: &str, variables: Value) -> Self {
        let mut body = Map::new();
        body.insert("query".to_owned(), Value::from(query));
        body.insert("variables".to_owned(), variables);
        Self::post(path).json(Value::Object(body))
    }

    /// A request to an absolute URL (a next-page link, a token endpoint); no placeholders.
    pub fn url(method: Method, url: impl Into<String>) -> Self {
        Request {
            absolute: true,
            ..Self::new(method, url)
        }
    }

    /// Values for the path's `{placeholder}`s (merged into what is already there).
    #[must_use]
    pub fn context(mut self, context: &Map<String, Value>) -> Self {
        self.context
            .extend(context.iter().map(|(k, v)| (k.clone(), v.clone())));
        self
    }

    /// Adds a query parameter (replacing one of the same name).
    #[must_use]
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.set_query(name, value);
        self
    }

    /// Sets a query parameter in place (replacing one of the same name).
    #[allow(clippy::needless_pass_by_value)] // `impl ToString` by value reads best at call sites
    pub fn set_query(&mut self, name: impl Into<String>, value: impl ToString) {
        let name = name.into();
        self.query.retain(|(k, _)| *k != name);
        self.query.push((name, value.to_string()));
    }

    /// Sets a GraphQL variable (in the JSON body's `variables` object, created if missing).
    pub fn set_variable(&mut self, name: &str, value: impl Into<Value>) {
        if !matches!(self.body, Body::Json(Value::Object(_))) {
            self.body = Body::Json(Value::Object(Map::new()));
        }
        if let Body::Json(Value::Object(body)) = &mut self.body {
            let variables = body
                .entry("variables")
                .or_insert_with(|| Value::Object(Map::new()));
            if !variables.is_object() {
                *variables = Value::Object(Map::new());
            }
            if let Value::Object(variables) = variables {
                variables.insert(name.to_owned(), value.into());
            }
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends `body` as JSON.
    #[must_use]
    pub fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    /// Sends `fields` as `application/x-www-form-urlencoded`.
    #[must_use]
    pub fn form(mut self, fields: Vec<(String, String)>) -> Self {
        self.body = Body::Form(fields);
        self
    }

    /// Sends the request without the client's authenticator (login and token requests).
    #[must_use]
    pub fn without_auth(mut self) -> Self {
        self.with_auth = false;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template (or absolute URL), as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query parameters.
    pub fn query_params(&self) -> &[(String, String)] {
        &self.query
    }

    /// The JSON body, if any.
    pub fn json_body(&self) -> Option<&Value> {
        match &self.body {
            Body::Json(v) => Some(v),
            _ => None,
        }
    }

    /// The path with its placeholders filled from the context.
    ///
    /// # Errors
    ///
    /// [`Error::MissingPlaceholder`] naming the first placeholder with no value.
    pub fn render_path(&self) -> Result<String> {
        if self.absolute {
            return Ok(self.path.clone());
        }
        let mut out = String::with_capacity(self.path.len());
        let mut rest = self.path.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let name = &after[..end];
            let value = match self.context.get(name) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => {
                    return Err(Error::MissingPlaceholder {
                        path: self.path.clone(),
                        placeholder: name.to_owned(),
                    });
                }
                Some(other) => other.to_string(),
            };
            encode_segment(&value, &mut out);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_segment(value: &str, out: &mut String) {
    use std::fmt::Write as _;
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// An HTTP response, with its body read into memory.
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) url: String,
    pub(crate) ignored: bool,
}

impl Response {
    /// A response built by hand (for tests of rules and paginators).
    pub fn new(status: u16, headers: HeaderMap, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers,
            body: body.into(),
            url: String::new(),
            ignored: false,
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// All headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// One header as text (`None` if absent or not visible ASCII).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The raw body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The URL it came from, credentials redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the error rules said to ignore it (the caller treats it as an empty page).
    pub fn is_ignored(&self) -> bool {
        self.ignored
    }

    /// The body parsed as JSON. An empty body is `null`.
    ///
    /// # Errors
    ///
    /// [`Error::NotJson`] with the status and the first bytes of the body.
    pub fn json(&self) -> Result<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| Error::NotJson {
            url: self.url.clone(),
            status: self.status,
            detail: e.to_string(),
            snippet: snippet(&self.body, 120),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(map) => map,
            _ => unreachable!("test contexts are objects"),
        }
    }

    #[test]
    fn fills_placeholders_and_escapes_slashes() {
        let r =
            Request::get("/projects/{id}/items/{n}").context(&ctx(json!({"id": "a/b c", "n": 7})));
        assert_eq!(r.render_path().unwrap(), "/projects/a%2Fb%20c/items/7");
    }

    #[test]
    fn names_the_missing_placeholder() {
        let err = Request::get("/repos/{owner}/{repo}")
            .context(&ctx(json!({"owner": "x"})))
            .render_path()
            .unwrap_err();
        assert!(
            matches!(&err, Error::MissingPlaceholder { placeholder, .. } if placeholder == "repo")
        );
        assert!(err.to_string().contains("`{repo}`"), "{err}");
    }

    #[test]
    fn query_replaces_same_name() {
        let r = Request::get("/x").query("page", 1).query("page", 2);
        assert_eq!(r.query_params(), &[("page".to_owned(), "2".to_owned())]);
    }

    #[test]
    fn non_json_body_names_status_and_bytes() {
        let mut r = Response::new(200, HeaderMap::new(), "<html>oops</html>");
        r.url = "https://h.example/x".to_owned();
        let msg = r.json().unwrap_err().to_string();
        assert!(
            msg.contains("status 200") && msg.contains("<html>oops"),
            "{msg}"
        );
    }

    #[test]
    fn request_debug_hides_secret_query_and_header_values() {
        let r = Request::get("/x")
            .query("access_token", "qs3cret")
            .query("page", 2)
            .header("X-Api-Key", "hs3cret");
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("qs3cret") && !shown.contains("hs3cret"),
            "{shown}"
        );
        assert!(shown.contains("page"));
        let (_, value) = header_pair("X-Api-Key", "v").unwrap();
        assert!(value.is_sensitive());
        let (_, value) = header_pair("Accept", "v").unwrap();
        assert!(!value.is_sensitive());
    }

    #[test]
    fn form_debug_hides_values() {
        let r = Request::post("/t").form(vec![("password".to_owned(), "hunter2".to_owned())]);
        assert!(!format!("{r:?}").contains("hunter2"));
    }
}
