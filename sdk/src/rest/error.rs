//! The error type of the REST layer, and URL redaction for its messages.

use url::Url;

/// A `Result` whose error defaults to the REST layer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while talking to an HTTP API.
///
/// Every URL in a message has its credentials redacted (see [`redact_url`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The base URL or a next-page URL is not a valid URL.
    #[error("`{url}` is not a valid URL ({detail}); check api_url")]
    InvalidUrl {
        /// The offending text (redacted).
        url: String,
        /// Why it does not parse.
        detail: String,
    },
    /// A `{placeholder}` of the request path has no value in the context.
    #[error(
        "path `{path}` needs `{{{placeholder}}}`, which is not in the request context; add `{placeholder}` to the context (or the config)"
    )]
    MissingPlaceholder {
        /// The path template.
        path: String,
        /// The placeholder without braces.
        placeholder: String,
    },
    /// A header name or value cannot be sent.
    #[error("header `{name}` is not valid: {detail}")]
    InvalidHeader {
        /// The header name.
        name: String,
        /// Why.
        detail: String,
    },
    /// The host could not be reached (DNS, refused connection, TLS handshake).
    #[error("cannot reach {url} ({reason}); check api_url and the network")]
    Unreachable {
        /// The URL (redacted).
        url: String,
        /// The innermost cause, in a few words.
        reason: String,
    },
    /// The request timed out.
    #[error("request to {url} timed out after {seconds}s; raise the timeout or try later")]
    Timeout {
        /// The URL (redacted).
        url: String,
        /// The timeout that elapsed.
        seconds: f64,
    },
    /// The connection broke while sending or receiving.
    #[error("request to {url} failed: {reason}")]
    Transport {
        /// The URL (redacted).
        url: String,
        /// The innermost cause.
        reason: String,
    },
    /// The body should be JSON but is not.
    #[error(
        "response from {url} (status {status}) is not JSON ({detail}); it starts with `{snippet}`"
    )]
    NotJson {
        /// The URL (redacted).
        url: String,
        /// The HTTP status.
        status: u16,
        /// The parser's message.
        detail: String,
        /// The first bytes of the body.
        snippet: String,
    },
    /// The API refused the credentials (401 or 403).
    #[error("{status} {reason} from {url}: {hint}")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The canonical reason phrase.
        reason: String,
        /// The URL (redacted).
        url: String,
        /// Which setting to check.
        hint: String,
    },
    /// The API answered with a status the error rules call fatal.
    #[error("{status} {reason} from {url}: `{snippet}`")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The canonical reason phrase.
        reason: String,
        /// The URL (redacted).
        url: String,
        /// The first bytes of the body.
        snippet: String,
    },
    /// The error rules say to skip the current partition. The tap runtime logs a warning and
    /// goes on with the other partitions (see [`crate::Error::SkipPartition`]).
    #[error("{status} from {url}: `{snippet}`; skipping this partition as the error rules say")]
    SkipPartition {
        /// The HTTP status.
        status: u16,
        /// The URL (redacted).
        url: String,
        /// The first bytes of the body.
        snippet: String,
    },
    /// Retries ran out; the last failure is the source.
    #[error("giving up on {url} after {tries} tries")]
    RetriesExhausted {
        /// The URL (redacted).
        url: String,
        /// How many requests were sent.
        tries: u32,
        /// The last failure.
        #[source]
        last: Box<Error>,
    },
    /// Getting or refreshing a credential failed.
    #[error("cannot get a token for `{setting}` from {url}: {detail}")]
    Auth {
        /// The credential's setting name.
        setting: String,
        /// The token endpoint (redacted).
        url: String,
        /// What went wrong (never the secret itself).
        detail: String,
    },
    /// A paginator found a problem (a loop, a malformed token).
    #[error("pagination: {0}")]
    Pagination(String),
    /// A JSONPath expression does not parse.
    #[error("JSONPath `{path}` is not valid: {detail}")]
    JsonPath {
        /// The expression.
        path: String,
        /// The parser's message.
        detail: String,
    },
    /// Recording or replaying a cassette failed.
    #[error("cassette `{path}`: {detail}")]
    Cassette {
        /// The cassette file.
        path: String,
        /// What went wrong and how to fix it.
        detail: String,
    },
}

impl Error {
    /// Whether the error rules asked to skip the partition (the caller moves to the next one).
    pub fn is_skip_partition(&self) -> bool {
        matches!(self, Error::SkipPartition { .. })
    }

    /// Whether a retry could help (timeouts, broken connections, unreachable hosts).
    pub(crate) fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Timeout { .. } | Error::Transport { .. } | Error::Unreachable { .. }
        )
    }

    /// Maps a `reqwest` error to a variant, naming the (redacted) URL.
    pub(crate) fn from_reqwest(err: &reqwest::Error, url: &str, timeout: f64) -> Error {
        let reason = innermost(err);
        if err.is_timeout() {
            Error::Timeout {
                url: url.to_owned(),
                seconds: timeout,
            }
        } else if err.is_connect() {
            Error::Unreachable {
                url: url.to_owned(),
                reason,
            }
        } else if err.is_builder() {
            Error::InvalidUrl {
                url: url.to_owned(),
                detail: reason,
            }
        } else {
            Error::Transport {
                url: url.to_owned(),
                reason,
            }
        }
    }
}

/// The innermost cause of an error chain, lowercased the way OS errors read in messages.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    // "Connection refused (os error 111)" -> "connection refused"
    let text = text.split(" (os error").next().unwrap_or(&text).to_owned();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// Query parameters whose values are always hidden in messages, logs and cassettes
/// (compared case-insensitively).
pub const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
    "secret",
    "signature",
    "sig",
    "auth",
];

/// Whether a query parameter (or body field) named `name` holds a secret.
pub(crate) fn is_secret_name(name: &str, extra: &[String]) -> bool {
    SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(name))
        || extra.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// `url` with the userinfo and the values of secret query parameters (see [`SECRET_PARAMS`],
/// plus `extra`) replaced by `****`.
///
/// ```
/// use singer_sdk::rest::redact_url;
/// let url = "https://me:pw@api.example.com/x?page=2&api_key=abc".parse().unwrap();
/// assert_eq!(redact_url(&url, &[]), "https://****@api.example.com/x?page=2&api_key=****");
/// ```
pub fn redact_url(url: &Url, extra: &[String]) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_password(None);
        let _ = url.set_username("****");
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_name(&k, extra) {
                    "****".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        let query = query.finish().replace("%2A%2A%2A%2A", "****");
        url.set_query(Some(&query));
    }
    url.to_string()
}

/// The first `max` bytes of `body` as text (lossy), for messages.
pub(crate) fn snippet(body: &[u8], max: usize) -> String {
    let cut = &body[..body.len().min(max)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > max {
        text.push('…');
    }
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_and_secret_params() {
        let url: Url = "https://user:pass@h.example/p?a=1&TOKEN=t0k&client_secret=s&appid=x"
            .parse()
            .unwrap();
        let shown = redact_url(&url, &["appid".to_owned()]);
        assert_eq!(
            shown,
            "https://****@h.example/p?a=1&TOKEN=****&client_secret=****&appid=****"
        );
        assert!(!shown.contains("pass") && !shown.contains("t0k"));
    }

    #[test]
    fn leaves_plain_urls_alone() {
        let url: Url = "https://h.example/p?page=2".parse().unwrap();
        assert_eq!(redact_url(&url, &[]), "https://h.example/p?page=2");
    }

    #[test]
    fn snippet_cuts_and_flattens() {
        assert_eq!(snippet(b"ab\ncd", 10), "ab cd");
        assert_eq!(snippet(b"abcdef", 3), "abc…");
    }
}
