//! The target's settings: `--about` lists them (with the SDK's built-in ones), `--config`
//! fills them in.

use serde::Deserialize;
use singer_sdk::Settings;

/// The settings of `{{ cookiecutter.target_id }}`.
#[derive(Debug, Deserialize, Settings)]
pub(crate) struct Config {
    /// The directory the stream files are written to (created if missing).
    pub(crate) destination_path: String,
}
