//! The built-in tap settings (singer-sdk's names and meanings), declared once: the
//! `--about` schema and the parsed options both come from [`TapOptions`].

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::batch::BatchConfig;
use crate::settings::Settings;

/// The built-in tap settings, as `--config` spells them.
///
/// ```
/// use singer_sdk::tap::TapOptions;
/// let config = serde_json::json!({"start_date": "2024-01-01T00:00:00Z", "other": 1});
/// let options = TapOptions::from_config(config.as_object().unwrap()).unwrap();
/// assert_eq!(options.start_date.as_deref(), Some("2024-01-01T00:00:00Z"));
/// assert!(!options.emit_activate_version_messages());
/// ```
#[derive(Debug, Clone, Default, Deserialize, crate::Settings)]
pub struct TapOptions {
    /// The earliest record to extract, for incremental streams without a bookmark.
    #[serde(default)]
    #[setting(title = "Start Date")]
    #[schema(format = "date-time")]
    pub start_date: Option<String>,
    /// Emit ACTIVATE_VERSION messages for full-table streams, and version their records.
    #[serde(default)]
    #[setting(title = "Emit `ACTIVATE_VERSION` messages", default = false)]
    pub emit_activate_version_messages: Option<bool>,
    /// Write records to BATCH files (`encoding`: jsonl or parquet, gzip or none; `storage.root`: a local path, `file://` or object store URL such as `s3://bucket/prefix`; `batch_size`: records per file) instead of RECORD lines, with a STATE after each file.
    #[serde(default)]
    #[setting(title = "Batch Config")]
    pub batch_config: Option<BatchConfig>,
}

impl TapOptions {
    /// Reads the built-in settings from a validated config (other keys are ignored).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the setting whose value
    /// has the wrong type.
    pub fn from_config(config: &Map<String, Value>) -> crate::Result<Self> {
        crate::settings::deserialize(config.clone(), &TapOptions::settings_schema())
    }

    /// The JSON Schemas of the built-in settings, as a `properties` object.
    #[must_use]
    pub fn settings() -> Value {
        TapOptions::settings_schema()
            .get("properties")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()))
    }

    /// Whether full-table streams emit ACTIVATE_VERSION (off unless set).
    #[must_use]
    pub fn emit_activate_version_messages(&self) -> bool {
        self.emit_activate_version_messages.unwrap_or(false)
    }
}
