//! The built-in target settings (singer-sdk's names and meanings), declared once: the
//! `--about` schema and the parsed [`TargetOptions`] both come from [`Declared`].

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::batch::{BatchConfig, StorageConfig};
use crate::capability::{Capabilities, Capability};
use crate::settings::Settings;

/// `load_method`: how records meet what the destination already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, crate::Schema)]
#[serde(rename_all = "kebab-case")]
pub enum LoadMethod {
    /// Add every record.
    #[default]
    AppendOnly,
    /// Replace records with the same key.
    Upsert,
    /// Replace the whole stream at the start of the run.
    Overwrite,
}

impl LoadMethod {
    /// The setting's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LoadMethod::AppendOnly => "append-only",
            LoadMethod::Upsert => "upsert",
            LoadMethod::Overwrite => "overwrite",
        }
    }
}

/// The built-in target settings, typed, with their defaults applied.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    /// Add `_sdc_*` metadata columns.
    pub add_record_metadata: bool,
    /// How records meet existing ones.
    pub load_method: LoadMethod,
    /// Delete (rather than mark deleted) records of older versions on ACTIVATE_VERSION.
    pub hard_delete: bool,
    /// Records per batch.
    pub batch_size_rows: usize,
    /// Validate records against their schema.
    pub validate_records: bool,
    /// Act on ACTIVATE_VERSION messages.
    pub process_activate_version_messages: bool,
    /// Schema (namespace) to load into, where the destination has them.
    pub default_target_schema: Option<String>,
    /// The longest a record waits in a buffer (and a STATE waits for acknowledgement).
    pub batch_wait_limit: Duration,
    /// How many sinks may write at once.
    pub max_parallelism: usize,
    /// How many threads parse and check input lines (1: the calling thread reads, parses
    /// and checks line by line); `None` when the settings leave it to the machine: see
    /// [`workers_for`](TargetOptions::workers_for).
    pub workers: Option<usize>,
    /// Where BATCH files are read with which object store options (`batch_config.storage`).
    pub batch_storage: Option<StorageConfig>,
}

const BATCH_SIZE_ROWS: usize = 10_000;
const BATCH_WAIT_LIMIT_SECONDS: f64 = 5.0;
const MAX_PARALLELISM: usize = 8;

impl Default for TargetOptions {
    fn default() -> Self {
        TargetOptions::from(Declared::default())
    }
}

impl TargetOptions {
    /// Reads the built-in settings from a validated config (other keys are ignored; a `null`
    /// or missing value takes the default).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the setting whose value
    /// has the wrong type.
    ///
    /// ```
    /// use singer_sdk::target::{LoadMethod, TargetOptions};
    /// let config = serde_json::json!({"load_method": "upsert", "batch_size_rows": null});
    /// let options = TargetOptions::from_config(config.as_object().unwrap()).unwrap();
    /// assert_eq!(options.load_method, LoadMethod::Upsert);
    /// assert_eq!(options.batch_size_rows, 10_000);
    /// ```
    pub fn from_config(config: &Map<String, Value>) -> crate::Result<Self> {
        crate::settings::deserialize::<Declared>(config.clone(), &Declared::settings_schema())
            .map(TargetOptions::from)
    }

    /// The JSON Schemas of the built-in settings of a target with `capabilities`, as a
    /// `properties` object (the settings of capabilities it lacks are left out).
    #[must_use]
    pub fn settings(capabilities: &Capabilities) -> Value {
        let mut schema = Declared::settings_schema();
        let Some(Value::Object(properties)) = schema.get_mut("properties") else {
            return Value::Object(Map::new());
        };
        for (name, capability) in [
            (
                "process_activate_version_messages",
                Capability::ActivateVersion,
            ),
            ("hard_delete", Capability::HardDelete),
            ("default_target_schema", Capability::TargetSchema),
            ("batch_config", Capability::Batch),
        ] {
            if !capabilities.contains(capability) {
                properties.shift_remove(name);
            }
        }
        Value::Object(std::mem::take(properties))
    }
}

/// The built-in settings as `--config` spells them; every one may be missing or `null`.
#[derive(Debug, Default, Deserialize, crate::Settings)]
pub(crate) struct Declared {
    /// Add `_sdc_*` metadata columns (extracted, received, batched and deleted times, sequence, table version, sync start) to every record.
    #[serde(default)]
    #[setting(title = "Add Singer Record Metadata", default = false)]
    add_record_metadata: Option<bool>,
    /// append-only adds every record; upsert replaces records with the same key; overwrite replaces the whole stream at the start of the run.
    #[serde(default)]
    #[setting(title = "Load Method", default = "append-only")]
    load_method: Option<LoadMethod>,
    /// Records buffered per stream before they are written (default 10000).
    #[serde(default)]
    #[setting(title = "Batch Size Rows")]
    #[schema(minimum = 1)]
    batch_size_rows: Option<usize>,
    /// The longest a record waits in a buffer, and a STATE waits to be acknowledged, while records flow (default 5).
    #[serde(default)]
    #[setting(title = "Batch Wait Limit Seconds")]
    #[schema(minimum = 0)]
    batch_wait_limit_seconds: Option<f64>,
    /// Validate every record against its stream's JSON Schema.
    #[serde(default)]
    #[setting(title = "Validate Records", default = true)]
    validate_records: Option<bool>,
    /// How many streams may be written at once (default 8).
    #[serde(default)]
    #[setting(title = "Max Parallelism")]
    #[schema(minimum = 1)]
    max_parallelism: Option<usize>,
    /// Threads that parse and validate input lines (default: the machine's cores less those the target leaves to its loader and sinks, usually one, at least 1; 1 reads line by line on one thread).
    #[serde(default)]
    #[setting(title = "Workers")]
    #[schema(minimum = 1)]
    workers: Option<usize>,
    /// Act on ACTIVATE_VERSION messages: keep only the records of the newest version.
    #[serde(default)]
    #[setting(title = "Process `ACTIVATE_VERSION` messages", default = true)]
    process_activate_version_messages: Option<bool>,
    /// On ACTIVATE_VERSION, delete records of older versions instead of setting `_sdc_deleted_at`.
    #[serde(default)]
    #[setting(title = "Hard Delete", default = false)]
    hard_delete: Option<bool>,
    /// The schema (namespace) to load streams into.
    #[serde(default)]
    #[setting(title = "Default Target Schema")]
    default_target_schema: Option<String>,
    /// BATCH files: `storage.params` holds object store credentials and endpoint for reading them (without it, the store's standard environment variables are used).
    #[serde(default)]
    #[setting(title = "Batch Config")]
    batch_config: Option<BatchConfig>,
}

impl From<Declared> for TargetOptions {
    fn from(declared: Declared) -> Self {
        TargetOptions {
            add_record_metadata: declared.add_record_metadata.unwrap_or(false),
            load_method: declared.load_method.unwrap_or_default(),
            hard_delete: declared.hard_delete.unwrap_or(false),
            batch_size_rows: declared
                .batch_size_rows
                .filter(|n| *n > 0)
                .unwrap_or(BATCH_SIZE_ROWS),
            validate_records: declared.validate_records.unwrap_or(true),
            process_activate_version_messages: declared
                .process_activate_version_messages
                .unwrap_or(true),
            default_target_schema: declared.default_target_schema,
            batch_wait_limit: Duration::from_secs_f64(
                declared
                    .batch_wait_limit_seconds
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .unwrap_or(BATCH_WAIT_LIMIT_SECONDS),
            ),
            max_parallelism: declared
                .max_parallelism
                .filter(|n| *n > 0)
                .unwrap_or(MAX_PARALLELISM),
            workers: declared.workers.filter(|n| *n > 0),
            batch_storage: declared.batch_config.map(|config| config.storage),
        }
    }
}

impl TargetOptions {
    /// The parse threads of target `T`: the `workers` setting, else the machine's cores less
    /// [`Target::SINK_CORES`] (at least 1).
    #[must_use]
    pub fn workers_for<T: super::Target>(&self) -> usize {
        self.workers
            .unwrap_or_else(|| default_workers().saturating_sub(T::SINK_CORES).max(1))
    }
}

/// The machine's cores (1 when they cannot be told).
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_from_config() {
        let config = json!({"load_method": "upsert", "batch_size_rows": 2, "validate_records": false, "batch_wait_limit_seconds": 0.5});
        let options = TargetOptions::from_config(config.as_object().unwrap()).unwrap();
        assert_eq!(options.load_method, LoadMethod::Upsert);
        assert_eq!(options.batch_size_rows, 2);
        assert!(!options.validate_records);
        assert_eq!(options.batch_wait_limit, Duration::from_millis(500));
        assert_eq!(options.workers, None);
        let one = TargetOptions::from_config(json!({"workers": 1}).as_object().unwrap()).unwrap();
        assert_eq!(one.workers, Some(1));
        let defaults = TargetOptions::default();
        assert_eq!(defaults.batch_size_rows, 10_000);
        assert!(defaults.validate_records && defaults.process_activate_version_messages);
    }

    #[test]
    fn settings_follow_capabilities() {
        let plain = TargetOptions::settings(&Capabilities::target());
        assert!(plain.get("hard_delete").is_none());
        assert_eq!(
            plain["load_method"]["enum"],
            json!(["append-only", "upsert", "overwrite", null])
        );
        assert_eq!(plain["validate_records"]["default"], json!(true));
        let sql = TargetOptions::settings(
            &Capabilities::target()
                .with(Capability::HardDelete)
                .with(Capability::TargetSchema),
        );
        assert_eq!(sql["hard_delete"]["type"], json!(["boolean", "null"]));
        assert!(sql.get("default_target_schema").is_some());
    }
}
