//! Record and replay HTTP exchanges, so connector tests run offline.
//!
//! A cassette is a JSON file of exchanges. Secrets are scrubbed before anything is written:
//! request headers are not stored at all, secret query parameters and secret body fields
//! (see [`SECRET_PARAMS`](super::SECRET_PARAMS)) become `****`, and `Set-Cookie` is dropped.
//!
//! ```no_run
//! # #![allow(dead_code)]
//! # fn run() -> Result<(), singer_sdk::rest::Error> {
//! use singer_sdk::rest::{Cassette, RestClient};
//!
//! // SINGER_REST_CASSETTE_MODE=record cargo test   -> talks to the API, writes the file
//! // cargo test (or =replay)                      -> replays the file, no network
//! let mut builder = RestClient::builder("https://api.example.com");
//! if let Some(cassette) = Cassette::from_env("tests/cassettes/users.json")? {
//!     builder = builder.cassette(cassette);
//! }
//! # drop(builder.build()?);
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Outgoing;
use super::error::{Error, Result, is_secret_name, redact_url};
use super::request::{Body, Request, Response};

/// The environment variable that picks the mode: `record`, `replay` or `off`.
pub const CASSETTE_MODE_VAR: &str = "SINGER_REST_CASSETTE_MODE";

/// Whether a cassette records or replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Send real requests and write each exchange to the file.
    Record,
    /// Answer from the file; never touch the network.
    Replay,
}

/// A cassette file, shared by all clones of the client using it.
#[derive(Debug, Clone)]
pub struct Cassette {
    path: PathBuf,
    mode: Mode,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    exchanges: Vec<Exchange>,
    used: Vec<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Exchange {
    method: String,
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_body: Option<Value>,
    status: u16,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(Serialize, Deserialize)]
struct File {
    exchanges: Vec<Exchange>,
}

impl Cassette {
    /// A cassette that records to `path` (starting empty; the file is rewritten after every
    /// exchange).
    pub fn record(path: impl Into<PathBuf>) -> Self {
        Cassette {
            path: path.into(),
            mode: Mode::Record,
            state: Arc::default(),
        }
    }

    /// A cassette that replays `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Cassette`] when the file is missing or not a cassette.
    pub fn replay(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let fail = |detail: String| Error::Cassette {
            path: path.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            fail(format!(
                "cannot read it ({e}); record it with {CASSETTE_MODE_VAR}=record"
            ))
        })?;
        let file: File = serde_json::from_str(&text).map_err(|e| {
            fail(format!(
                "is not a cassette ({e}); record it again with {CASSETTE_MODE_VAR}=record"
            ))
        })?;
        let used = vec![false; file.exchanges.len()];
        Ok(Cassette {
            path,
            mode: Mode::Replay,
            state: Arc::new(Mutex::new(State {
                exchanges: file.exchanges,
                used,
            })),
        })
    }

    /// The cassette `SINGER_REST_CASSETTE_MODE` asks for: `record` records, `replay`
    /// replays, `off` gives `None`; unset replays when the file exists, else `None`.
    ///
    /// # Errors
    ///
    /// An unknown mode, or a replay cassette that cannot be read.
    pub fn from_env(path: impl AsRef<Path>) -> Result<Option<Self>> {
        let path = path.as_ref();
        match std::env::var(CASSETTE_MODE_VAR)
            .ok()
            .as_deref()
            .map(str::trim)
        {
            Some("record") => Ok(Some(Self::record(path))),
            Some("replay") => Self::replay(path).map(Some),
            Some("off") => Ok(None),
            None | Some("") => {
                if path.exists() {
                    Self::replay(path).map(Some)
                } else {
                    Ok(None)
                }
            }
            Some(other) => Err(Error::Cassette {
                path: path.display().to_string(),
                detail: format!(
                    "{CASSETTE_MODE_VAR}=`{other}` is not a mode; use record, replay or off"
                ),
            }),
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn is_replaying(&self) -> bool {
        self.mode == Mode::Replay
    }

    pub(crate) fn is_recording(&self) -> bool {
        self.mode == Mode::Record
    }

    /// Answers `request` from the cassette: the first unused exchange with the same method,
    /// scrubbed URL and scrubbed body.
    pub(crate) fn replay_one(
        &self,
        request: &Request,
        out: &Outgoing,
        shown: &str,
        secret: &[String],
    ) -> Result<Response> {
        let key = (
            request.method.as_str(),
            redact_url(&out.url, secret),
            scrub_body(&request.body, secret),
        );
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let State { exchanges, used } = &mut *state;
        let found = exchanges.iter().zip(used.iter_mut()).find(|(e, used)| {
            !**used && e.method == key.0 && e.url == key.1 && e.request_body == key.2
        });
        let Some((exchange, used)) = found else {
            return Err(Error::Cassette {
                path: self.path.display().to_string(),
                detail: format!(
                    "no recorded exchange left for {} {shown}; record it again with {CASSETTE_MODE_VAR}=record",
                    key.0
                ),
            });
        };
        *used = true;
        let mut headers = HeaderMap::new();
        for (name, value) in &exchange.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        Ok(Response {
            status: exchange.status,
            headers,
            body: exchange.body.clone().into_bytes(),
            url: shown.to_owned(),
            ignored: false,
        })
    }

    /// Appends one exchange (scrubbed) and rewrites the file.
    pub(crate) fn record_one(
        &self,
        request: &Request,
        out: &Outgoing,
        response: &Response,
        secret: &[String],
    ) -> Result<()> {
        let headers = response
            .headers
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "set-cookie" | "authorization"))
            .filter_map(|(name, value)| {
                let value = if is_secret_name(name.as_str(), secret) {
                    "****"
                } else {
                    value.to_str().ok()?
                };
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect();
        let text = String::from_utf8_lossy(&response.body);
        let body = match serde_json::from_str::<Value>(&text) {
            Ok(mut json) => {
                scrub_value(&mut json, secret);
                json.to_string()
            }
            Err(_) => text.into_owned(),
        };
        let exchange = Exchange {
            method: request.method.as_str().to_owned(),
            url: redact_url(&out.url, secret),
            request_body: scrub_body(&request.body, secret),
            status: response.status,
            headers,
            body,
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.exchanges.push(exchange);
        state.used.push(true);
        let file = File {
            exchanges: state.exchanges.clone(),
        };
        let text = serde_json::to_string_pretty(&file).unwrap_or_default();
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&self.path, text + "\n").map_err(|e| Error::Cassette {
            path: self.path.display().to_string(),
            detail: format!("cannot write it ({e})"),
        })
    }
}

fn scrub_body(body: &Body, secret: &[String]) -> Option<Value> {
    let mut value = match body {
        Body::None => return None,
        Body::Json(v) => v.clone(),
        Body::Form(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect(),
        ),
    };
    scrub_value(&mut value, secret);
    Some(value)
}

/// Replaces the values of secret-named fields, at any depth, with `****`.
fn scrub_value(value: &mut Value, secret: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_name(key, secret) && !v.is_null() {
                    *v = Value::from("****");
                } else {
                    scrub_value(v, secret);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, secret)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scrubs_nested_secret_fields() {
        let mut v =
            json!({"user": "me", "auth": {"password": "pw"}, "list": [{"access_token": "t"}]});
        scrub_value(&mut v, &["appid".to_owned()]);
        assert_eq!(
            v,
            json!({"user": "me", "auth": "****", "list": [{"access_token": "****"}]})
        );
    }

    #[test]
    fn form_bodies_are_scrubbed() {
        let body = Body::Form(vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_secret".to_owned(), "cs".to_owned()),
        ]);
        assert_eq!(
            scrub_body(&body, &[]),
            Some(json!({"grant_type": "client_credentials", "client_secret": "****"}))
        );
    }

    #[test]
    fn missing_cassette_says_how_to_record() {
        let err = Cassette::replay("/nonexistent/c.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("SINGER_REST_CASSETTE_MODE=record"), "{err}");
    }
}
