//! The HTTP clients: one per base URL, each with the configured authentication, retries,
//! error rules, a shared request budget and adaptive concurrency.

use std::time::Duration;

use serde_json::{Value, json};
use singer_sdk::rest::{
    Action, ApiKey, Authenticator, Basic, Bearer, Budget, Concurrency, ErrorRules, Grant,
    JwtAssertion, Method, OAuth2, Request, RestClient, Rule, SessionToken,
};
use singer_sdk::{Error, Result};

use crate::backoff::{Backoff, Gated};
use crate::config::Config;
use crate::spec::choice;

const AUTH_METHODS: &[&str] = &[
    "no_auth",
    "api_key",
    "basic",
    "bearer_token",
    "oauth",
    "session_token",
    "jwt",
];
const GRANT_TYPES: &[&str] = &["client_credentials", "refresh_token", "password"];
const BACKOFF_TYPES: &[&str] = &["header", "message"];
const ACTIONS: &[&str] = &["retry", "ignore", "skip", "fail"];

/// Checks the client settings (auth, backoff, error rules) without building anything.
///
/// # Errors
/// [`Error::InvalidConfig`] listing every problem.
pub(crate) fn check(config: &Config) -> Result<()> {
    let mut problems = Vec::new();
    let method = match config.auth_method.as_deref() {
        Some("aws") => {
            problems.push("`auth_method: aws` (AWS SigV4) is not supported; use an API key, token or OAuth method the API also accepts".to_owned());
            "aws"
        }
        other => choice("auth_method", other, "no_auth", AUTH_METHODS, &mut problems),
    };
    let mut need = |setting: &str, value: bool| {
        if !value {
            problems.push(format!(
                "`auth_method: {method}` needs `{setting}`; add it to the config"
            ));
        }
    };
    match method {
        "api_key" => need(
            "api_keys",
            config.api_keys.as_ref().is_some_and(|k| !k.is_empty()),
        ),
        "basic" => need("username", config.username.is_some()),
        "bearer_token" => need("bearer_token", config.bearer_token.is_some()),
        "oauth" => {
            need("access_token_url", config.access_token_url.is_some());
            need("grant_type", config.grant_type.is_some());
        }
        "session_token" => {
            need("access_token_url", config.access_token_url.is_some());
            need("username", config.username.is_some());
            need("password", config.password.is_some());
        }
        "jwt" => {
            need("access_token_url", config.access_token_url.is_some());
            need("client_id", config.client_id.is_some());
            need("private_key", config.private_key.is_some());
        }
        _ => {}
    }
    if method == "oauth" {
        if let Some(grant) = &config.grant_type {
            choice("grant_type", Some(grant), "", GRANT_TYPES, &mut problems);
        }
    }
    if let Some(backoff) = &config.backoff_type {
        choice(
            "backoff_type",
            Some(backoff),
            "",
            BACKOFF_TYPES,
            &mut problems,
        );
    }
    if let Err(e) = error_rules(config) {
        problems.push(e);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            violations: problems,
        })
    }
}

/// What every client shares: the request budget and the adaptive concurrency limit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shared {
    budget: Option<Budget>,
    concurrency: Option<Concurrency>,
}

impl Shared {
    /// `requests_per_second` as a budget; with `max_concurrency`, at most `in_flight`
    /// requests at once (partitions times prefetch), fewer after 429s.
    pub(crate) fn new(config: &Config, in_flight: usize) -> Self {
        Shared {
            budget: config
                .requests_per_second
                .map(|rate| Budget::per_second(rate.max(1))),
            concurrency: config
                .max_concurrency
                .map(|_| Concurrency::new(in_flight.max(1))),
        }
    }
}

/// A client for `api_url` (settings already [`check`]ed).
///
/// # Errors
/// A base URL or header that does not parse.
pub(crate) fn build(config: &Config, api_url: &str, shared: &Shared) -> Result<RestClient> {
    let mut rules = error_rules(config).map_err(Error::custom)?;
    // `backoff_type`: retried responses set the wait, the authenticator waits it out.
    let backoff = Backoff::new(config);
    if let Some(backoff) = &backoff {
        rules = backoff.rules(rules);
    }
    let mut builder = RestClient::builder(api_url.trim_end_matches('/'))
        .user_agent(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .rules(rules);
    if let Some(auth) = Gated::new(auth(config)?, backoff) {
        builder = builder.auth(auth);
    }
    if let Some(budget) = &shared.budget {
        builder = builder.budget(budget.clone());
    }
    if let Some(concurrency) = &shared.concurrency {
        builder = builder.concurrency(concurrency.clone());
    }
    Ok(builder.build()?)
}

/// The configured authenticator, if any.
fn auth(config: &Config) -> Result<Option<Box<dyn Authenticator>>> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(match config.auth_method.as_deref().unwrap_or("no_auth") {
        // As tap-rest-api-msdk: the last pair of `api_keys`, sent as a header.
        "api_key" => config
            .api_keys
            .as_ref()
            .and_then(|keys| keys.iter().next_back())
            .map(|(name, value)| -> Box<dyn Authenticator> {
                Box::new(ApiKey::header(name.as_str(), scalar(value).as_str()).setting("api_keys"))
            }),
        "basic" => Some(Box::new(Basic::new(
            text(&config.username),
            text(&config.password),
        ))),
        "bearer_token" => Some(Box::new(Bearer::new(text(&config.bearer_token)))),
        "oauth" => Some(Box::new(oauth(config))),
        "session_token" => {
            let url = text(&config.access_token_url);
            let login = if url.starts_with("http://") || url.starts_with("https://") {
                Request::url(Method::POST, url)
            } else {
                Request::post(url)
            };
            let login = login.json(json!({
                "username": text(&config.username),
                "password": text(&config.password),
            }));
            let path = config.session_token_path.as_deref().unwrap_or("$.token");
            Some(Box::new(SessionToken::new(login, path)?))
        }
        "jwt" => {
            let assertion = JwtAssertion::new(text(&config.client_id), text(&config.private_key))
                .audience(text(&config.access_token_url));
            let mut auth = OAuth2::new(
                text(&config.access_token_url),
                Grant::JwtBearer(Box::new(assertion)),
            )
            .setting("private_key");
            if let Some(scope) = &config.scope {
                auth = auth.scopes(scope.split_whitespace());
            }
            Some(Box::new(auth))
        }
        _ => None,
    })
}

fn oauth(config: &Config) -> OAuth2 {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let grant = match config.grant_type.as_deref() {
        Some("refresh_token") => Grant::RefreshToken(text(&config.refresh_token).into()),
        Some("password") => Grant::Password {
            username: text(&config.username),
            password: text(&config.password).into(),
        },
        _ => Grant::ClientCredentials,
    };
    let mut auth = OAuth2::new(text(&config.access_token_url), grant).setting("client_secret");
    if let (Some(id), secret) = (&config.client_id, &config.client_secret) {
        auth = auth.client(id.as_str(), text(secret));
    }
    if let Some(scope) = &config.scope {
        auth = auth.scopes(scope.split_whitespace());
    }
    if let Some(uri) = &config.redirect_uri {
        auth = auth.param("redirect_uri", uri.as_str());
    }
    for (name, value) in config.oauth_extras.iter().flatten() {
        auth = auth.param(name.as_str(), scalar(value));
    }
    if let Some(secs) = config.oauth_expiration_secs {
        auth = auth.default_expiration(Duration::from_secs(secs));
    }
    auth
}

/// A config value as text: strings as they are, anything else as JSON.
pub(crate) fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `error_rules`, in order, before the defaults (429 and 5xx retried, other 4xx fatal).
fn error_rules(config: &Config) -> std::result::Result<ErrorRules, String> {
    let mut rules = ErrorRules::default();
    for (i, rule) in config.error_rules.iter().flatten().enumerate() {
        let at = format!("`error_rules[{i}]`");
        let action = match rule.get("action").and_then(Value::as_str) {
            Some("retry") => Action::Retry,
            Some("ignore") => Action::Ignore,
            Some("skip") => Action::SkipPartition,
            Some("fail") => Action::Fail,
            other => {
                return Err(format!(
                    "{at}: `action` is {}, which is not a known choice; use one of: {}",
                    other.map_or_else(|| "missing".to_owned(), |a| format!("`{a}`")),
                    crate::spec::quoted(ACTIONS.iter().copied())
                ));
            }
        };
        let status = match rule.get("status") {
            None => None,
            Some(Value::Number(n)) => match n.as_u64().and_then(|n| u16::try_from(n).ok()) {
                Some(code) => Some(code..=code),
                None => return Err(format!("{at}: `status` must be an HTTP status like 404")),
            },
            Some(Value::String(class)) => match class.as_bytes() {
                [d @ b'1'..=b'5', b'x' | b'X', b'x' | b'X'] => {
                    let low = u16::from(d - b'0') * 100;
                    Some(low..=low + 99)
                }
                _ => {
                    return Err(format!(
                        "{at}: `status` `{class}` is neither a status like 404 nor a class like `4xx`"
                    ));
                }
            },
            Some(_) => {
                return Err(format!(
                    "{at}: `status` must be a number like 404 or a class like `4xx`"
                ));
            }
        };
        let body = rule.get("body_contains").and_then(Value::as_str);
        let rule = match (status, body) {
            (Some(range), Some(text)) => Rule::statuses(range).body_contains(text),
            (Some(range), None) => Rule::statuses(range),
            (None, Some(text)) => Rule::body(text),
            (None, None) => {
                return Err(format!(
                    "{at} matches nothing; give it a `status` and/or a `body_contains`"
                ));
            }
        };
        rules = rules.rule(rule.then(action));
    }
    Ok(rules)
}
