use serde::Deserialize;
use singer_sdk::Settings;

#[derive(Settings, Deserialize)]
#[schema(key_properties = ["token"])]
struct Config {
    /// Token.
    #[schema(key)]
    token: String,
    /// Start.
    #[schema(replication_key)]
    start_date: String,
}

fn main() {}
