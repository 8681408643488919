//! `#[derive(Settings)]`: the settings schema (`--about`, config validation) and deserialising
//! config with serde.
#![allow(missing_docs, dead_code)]

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use singer_sdk::{Schema, Settings};

/// Container docs are not part of the settings schema: the connector's description comes
/// from Cargo.toml.
#[derive(Settings, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct TapConfig {
    /// API token used to authenticate.
    #[setting(secret, env = "TAP_EXAMPLE_TOKEN")]
    api_token: String,
    /// Base URL of the API.
    #[serde(default = "default_base_url")]
    #[setting(default = "https://api.example.com", title = "Base URL")]
    #[schema(format = "uri")]
    base_url: String,
    /// Earliest record date to sync.
    start_date: Option<NaiveDate>,
    /// Rows per page.
    #[serde(default = "default_page_size")]
    #[setting(default = 100)]
    #[schema(minimum = 1, maximum = 1000)]
    page_size: u32,
    /// Streams to sync; all when empty.
    #[serde(default)]
    #[setting(default = [])]
    streams: Vec<String>,
    /// How to reach the API through a proxy.
    proxy: Option<ProxySettings>,
    /// Credentials of the OAuth app.
    oauth: OAuth,
    #[serde(skip)]
    cache: Vec<u8>,
}

fn default_base_url() -> String {
    "https://api.example.com".to_owned()
}

fn default_page_size() -> u32 {
    100
}

#[derive(Settings, Deserialize, Debug)]
struct ProxySettings {
    /// Proxy URL.
    url: String,
    /// Proxy password.
    #[setting(secret)]
    password: Option<String>,
}

#[derive(Settings, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct OAuth {
    /// Client id.
    client_id: String,
    /// Client secret.
    #[setting(secret)]
    client_secret: String,
}

fn token_schema() -> Value {
    json!({
        "type": "string",
        "description": "API token used to authenticate.",
        "secret": true,
        "writeOnly": true,
        "x-env": "TAP_EXAMPLE_TOKEN",
    })
}

#[test]
fn settings_schema() {
    let proxy = json!({
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "Proxy URL."},
            "password": {"type": ["string", "null"], "description": "Proxy password.", "secret": true, "writeOnly": true},
        },
        "required": ["url"],
    });
    let oauth = json!({
        "type": "object",
        "properties": {
            "clientId": {"type": "string", "description": "Client id."},
            "clientSecret": {"type": "string", "description": "Client secret.", "secret": true, "writeOnly": true},
        },
        "required": ["clientId", "clientSecret"],
    });
    assert_eq!(ProxySettings::settings_schema(), proxy);
    assert_eq!(OAuth::json_schema(), oauth);

    let mut nullable_proxy = proxy;
    nullable_proxy["type"] = json!(["object", "null"]);
    nullable_proxy["description"] = json!("How to reach the API through a proxy.");
    let mut described_oauth = oauth;
    described_oauth["description"] = json!("Credentials of the OAuth app.");

    let schema = TapConfig::settings_schema();
    assert_eq!(
        schema,
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "api_token": token_schema(),
                "base_url": {
                    "type": "string",
                    "description": "Base URL of the API.",
                    "format": "uri",
                    "default": "https://api.example.com",
                    "title": "Base URL",
                },
                "start_date": {"type": ["string", "null"], "format": "date", "description": "Earliest record date to sync."},
                "page_size": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Rows per page.",
                    "maximum": 1000,
                    "default": 100,
                },
                "streams": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Streams to sync; all when empty.",
                    "default": [],
                },
                "proxy": nullable_proxy,
                "oauth": described_oauth,
            },
            "required": ["api_token", "oauth"],
        })
    );
    // Settings structs nest: the Schema impl is the same object.
    assert_eq!(TapConfig::json_schema(), schema);
    // Secret keywords come right after the field's own schema, in a stable order.
    let keys: Vec<&str> = schema["properties"]["api_token"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["type", "description", "secret", "writeOnly", "x-env"]
    );
}

fn validate(schema: &Value, config: &Value) -> Vec<String> {
    let validator = jsonschema::draft7::new(schema).expect("a valid settings schema");
    validator
        .iter_errors(config)
        .map(|error| error.to_string())
        .collect()
}

#[test]
fn config_round_trip() {
    let schema = TapConfig::settings_schema();
    let config = json!({
        "api_token": "s3cr3t",
        "start_date": "2024-01-31",
        "proxy": {"url": "http://proxy:3128"},
        "oauth": {"clientId": "id", "clientSecret": "shh"},
    });
    assert_eq!(validate(&schema, &config), Vec::<String>::new());
    let parsed: TapConfig = serde_json::from_value(config).unwrap();
    assert_eq!(parsed.api_token, "s3cr3t");
    assert_eq!(parsed.base_url, "https://api.example.com");
    assert_eq!(parsed.page_size, 100);
    assert_eq!(parsed.start_date, NaiveDate::from_ymd_opt(2024, 1, 31));
    assert!(parsed.streams.is_empty());
    assert_eq!(parsed.proxy.unwrap().password, None);
    assert_eq!(parsed.oauth.client_secret, "shh");

    // Whatever serde rejects, the schema rejects too (and says why).
    let bad = json!({
        "api_token": "x",
        "page_size": 0,
        "unexpected": true,
        "oauth": {"clientId": "id"},
    });
    let errors = validate(&schema, &bad);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        serde_json::from_value::<TapConfig>(json!({"api_token": "x", "oauth": {"clientId": "id"}}))
            .is_err()
    );
    assert!(serde_json::from_value::<TapConfig>(json!({"api_token": "x", "oauth": {"clientId": "a", "clientSecret": "b"}, "unexpected": 1})).is_err());
}

/// Generic settings get the bounds `Settings` needs.
#[derive(Settings, Deserialize)]
struct Wrapper<T> {
    /// The wrapped settings.
    inner: T,
    #[serde(flatten)]
    shared: ProxySettings,
}

fn schema_of<S: Settings>() -> Value {
    S::settings_schema()
}

#[test]
fn generic_and_flattened_settings() {
    let mut inner = OAuth::json_schema();
    inner["description"] = json!("The wrapped settings.");
    assert_eq!(
        schema_of::<Wrapper<OAuth>>(),
        json!({
            "type": "object",
            "properties": {
                "inner": inner,
                "url": {"type": "string", "description": "Proxy URL."},
                "password": {"type": ["string", "null"], "description": "Proxy password.", "secret": true, "writeOnly": true},
            },
            "required": ["inner", "url"],
        })
    );
    let parsed: Wrapper<OAuth> = serde_json::from_value(json!({
        "inner": {"clientId": "a", "clientSecret": "b"},
        "url": "http://proxy",
    }))
    .unwrap();
    assert_eq!(parsed.shared.url, "http://proxy");
}

#[derive(Settings, Deserialize)]
#[serde(default)]
struct AllDefaults {
    /// Verbose logs.
    #[setting(default = false)]
    verbose: bool,
    /// A described-by-attribute setting.
    #[schema(description = "Threads to use.", minimum = 1)]
    #[setting(default = 4)]
    threads: u16,
    /// Renamed for config files only.
    #[serde(rename(deserialize = "log-level"))]
    #[setting(default = "info")]
    log_level: String,
}

impl Default for AllDefaults {
    fn default() -> Self {
        Self {
            verbose: false,
            threads: 4,
            log_level: "info".to_owned(),
        }
    }
}

#[test]
fn container_default_and_deserialize_names() {
    assert_eq!(
        AllDefaults::settings_schema(),
        json!({
            "type": "object",
            "properties": {
                "verbose": {"type": "boolean", "description": "Verbose logs.", "default": false},
                "threads": {"type": "integer", "minimum": 1, "description": "Threads to use.", "default": 4},
                "log-level": {"type": "string", "description": "Renamed for config files only.", "default": "info"},
            },
        })
    );
    let parsed: AllDefaults = serde_json::from_value(json!({"log-level": "debug"})).unwrap();
    assert_eq!(
        (parsed.verbose, parsed.threads, parsed.log_level.as_str()),
        (false, 4, "debug")
    );
}
