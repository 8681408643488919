use serde::Deserialize;
use singer_sdk::Settings;

#[derive(Settings, Deserialize)]
enum Mode {
    Full,
    Incremental,
}

#[derive(Settings, Deserialize)]
struct Pair(String, String);

#[derive(Settings, Deserialize)]
#[setting(secret)]
struct Config {
    /// The API token.
    token: String,
}

fn main() {}
