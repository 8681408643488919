use serde::Deserialize;
use singer_sdk::Settings;

#[derive(Settings, Deserialize)]
struct Config {
    /// Rows per page.
    #[setting(default = 100)]
    page_size: u32,
    /// Fine: serde fills it in.
    #[serde(default = "default_retries")]
    #[setting(default = 3)]
    retries: u32,
    /// Fine: an `Option` may be missing.
    #[setting(default = "https://api.example.com")]
    base_url: Option<String>,
}

fn default_retries() -> u32 {
    3
}

fn main() {}
