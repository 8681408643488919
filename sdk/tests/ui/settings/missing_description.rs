use serde::Deserialize;
use singer_sdk::Settings;

#[derive(Settings, Deserialize)]
struct Config {
    /// The API token.
    #[setting(secret)]
    token: String,
    start_date: Option<String>,
    #[setting(secret)]
    password: String,
    /// Flattened settings need no description of their own.
    #[serde(flatten)]
    http: Http,
}

#[derive(Settings, Deserialize)]
struct Http {
    #[schema(description = "Request timeout in seconds.")]
    timeout: u32,
}

fn main() {}
