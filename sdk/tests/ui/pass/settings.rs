//! A connector's settings, as a user writes them.

use serde::Deserialize;
use singer_sdk::Settings;

#[derive(Settings, Deserialize)]
struct Config {
    /// The API token.
    #[setting(secret, env = "TAP_EXAMPLE_TOKEN")]
    token: String,
    /// Rows per page.
    #[serde(default = "page_size")]
    #[setting(default = 100, title = "Page size")]
    #[schema(minimum = 1, maximum = 1000)]
    page_size: u32,
    #[schema(description = "Only sync these streams.")]
    streams: Option<Vec<String>>,
    #[serde(flatten)]
    http: Http,
}

#[derive(Settings, Deserialize)]
struct Http {
    /// Request timeout in seconds.
    #[serde(default)]
    #[setting(default = 0)]
    timeout: u64,
}

fn page_size() -> u32 {
    100
}

fn main() {
    let schema = Config::settings_schema();
    assert_eq!(schema["properties"]["token"]["secret"], true);
    assert_eq!(schema["required"], serde_json::json!(["token"]));
    let config: Config = serde_json::from_value(serde_json::json!({"token": "t"})).unwrap();
    assert_eq!(
        (config.page_size, config.http.timeout, config.streams),
        (100, 0, None)
    );
    assert_eq!(config.token, "t");
}
