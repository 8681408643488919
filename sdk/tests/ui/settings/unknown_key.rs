use serde::Deserialize;
use singer_sdk::Settings;

#[derive(Settings, Deserialize)]
struct Config {
    /// The API token.
    #[setting(secrte)]
    token: String,
    /// The start date.
    #[setting(format = "date")]
    start_date: String,
    /// The user.
    #[setting(secret = true, env = "2FA", title = "User")]
    #[schema(title = "User name")]
    user: String,
}

fn main() {}
