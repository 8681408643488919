//! `batch_config`: how and where BATCH files are written, in singer-sdk's shape.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Records per batch file when `batch_size` is not set, as in singer-sdk.
pub const DEFAULT_BATCH_SIZE: usize = 10_000;

/// The `batch_config` setting: `encoding`, `storage` and `batch_size`.
///
/// ```
/// use singer_sdk::batch::{BatchConfig, Compression, Format};
///
/// let config = BatchConfig::from_value(&serde_json::json!({
///     "encoding": {"format": "parquet", "compression": "gzip"},
///     "storage": {"root": "s3://bucket/batches", "prefix": "users-"},
///     "batch_size": 5000
/// })).unwrap();
/// assert_eq!(config.encoding.format, Format::Parquet);
/// assert_eq!(config.encoding.compression, Compression::Gzip);
/// assert_eq!(config.batch_size(), 5000);
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, crate::Settings)]
pub struct BatchConfig {
    /// How batch files are encoded: `format` (jsonl or parquet) and `compression` (gzip or none).
    #[serde(default)]
    pub encoding: Encoding,
    /// Where batch files are written: `root` (a path, a file:// or s3:// URL) and a file name `prefix`.
    pub storage: StorageConfig,
    /// Records per batch file (default 10000).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub batch_size: Option<usize>,
}

impl BatchConfig {
    /// Reads a `batch_config` value.
    ///
    /// # Errors
    /// A value of the wrong shape, naming the offending key and the accepted values.
    pub fn from_value(value: &Value) -> Result<Self> {
        serde_path_to_error::deserialize(value).map_err(|e| Error::InvalidConfig {
            violations: vec![format!("batch_config.{}: {}", e.path(), e.inner())],
        })
    }

    /// Records per batch file: `batch_size`, or [`DEFAULT_BATCH_SIZE`] when unset or zero.
    #[must_use]
    pub fn batch_size(&self) -> usize {
        self.batch_size
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_BATCH_SIZE)
    }
}

/// `batch_config.encoding`, also the `encoding` of a BATCH message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, crate::Settings)]
pub struct Encoding {
    /// `jsonl` (one JSON record per line) or `parquet`.
    #[serde(default)]
    pub format: Format,
    /// `gzip` or `none`: for jsonl the whole file is gzipped, for parquet its pages are.
    #[serde(default, deserialize_with = "nullable_compression")]
    pub compression: Compression,
}

impl Encoding {
    /// The encoding of a BATCH message's `encoding` value; a missing `format` is jsonl, a
    /// missing or `null` `compression` is none.
    ///
    /// # Errors
    /// A format or compression this SDK does not know.
    pub fn from_message(value: &Value) -> Result<Self> {
        if value.is_null() {
            return Ok(Encoding::default());
        }
        serde_json::from_value(value.clone()).map_err(|e| {
            Error::custom(format!(
                "BATCH encoding {value} is not supported ({e}); the format must be `jsonl` or `parquet` and the compression `gzip` or `none`"
            ))
        })
    }

    /// The value of a BATCH message's `encoding`.
    #[must_use]
    pub fn to_value(self) -> Value {
        serde_json::json!({"format": self.format.as_str(), "compression": self.compression.as_str()})
    }

    /// The file name extension of files of this encoding, as singer-sdk names them.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match (self.format, self.compression) {
            (Format::Jsonl, Compression::Gzip) => "json.gz",
            (Format::Jsonl, Compression::None) => "json",
            (Format::Parquet, Compression::Gzip) => "parquet.gz",
            (Format::Parquet, Compression::None) => "parquet",
        }
    }
}

/// A batch file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, crate::Schema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON Lines: one JSON object per line.
    #[default]
    Jsonl,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The setting's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

/// A batch file compression; `null` (as singer-sdk allows) means none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Gzip.
    Gzip,
    /// Uncompressed.
    #[default]
    None,
}

impl Compression {
    /// The setting's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::None => "none",
        }
    }
}

impl crate::Schema for Compression {
    fn json_schema() -> Value {
        serde_json::json!({"type": ["string", "null"], "enum": ["gzip", "none", null]})
    }
}

fn nullable_compression<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Compression, D::Error> {
    Ok(Option::<Compression>::deserialize(deserializer)?.unwrap_or_default())
}

/// `batch_config.storage`: where batch files go.
#[derive(Clone, PartialEq, Deserialize, crate::Settings)]
pub struct StorageConfig {
    /// A local directory, a `file://` URL, or an object store URL such as `s3://bucket/prefix`.
    pub root: String,
    /// Put before every file name (may contain `/`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// Object store options, e.g. `aws_access_key_id`, `aws_secret_access_key`, `aws_region`, `aws_endpoint`, `aws_allow_http` (singer-sdk's `key`, `secret`, `endpoint_url` and `client_kwargs` are understood too). Unset ones come from the store's standard environment variables.
    #[serde(default)]
    #[setting(secret)]
    pub params: BTreeMap<String, Value>,
}

impl fmt::Debug for StorageConfig {
    /// Shows the option names only: their values may be credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageConfig")
            .field("root", &self.root)
            .field("prefix", &self.prefix)
            .field("params", &self.params.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl StorageConfig {
    /// A storage config for `root` with no prefix and no options.
    #[must_use]
    pub fn new(root: impl Into<String>) -> Self {
        StorageConfig {
            root: root.into(),
            prefix: None,
            params: BTreeMap::new(),
        }
    }

    /// The object store options of `params` as `object_store` names them, with singer-sdk's
    /// (fsspec's) spellings translated; nested `client_kwargs` are flattened.
    #[must_use]
    pub fn store_options(&self) -> Vec<(String, String)> {
        let mut options = Vec::new();
        for (key, value) in &self.params {
            if key == "client_kwargs" || key == "config_kwargs" {
                if let Value::Object(inner) = value {
                    for (key, value) in inner {
                        push_option(&mut options, key, value);
                    }
                }
                continue;
            }
            push_option(&mut options, key, value);
        }
        options
    }
}

fn push_option(options: &mut Vec<(String, String)>, key: &str, value: &Value) {
    let key = match key {
        "key" | "aws_access_key_id" => "aws_access_key_id",
        "secret" | "aws_secret_access_key" => "aws_secret_access_key",
        "token" | "aws_session_token" => "aws_session_token",
        "endpoint_url" => "aws_endpoint",
        "region_name" => "aws_region",
        other => other,
    };
    let value = match value {
        Value::String(text) => text.clone(),
        Value::Null => return,
        other => other.to_string(),
    };
    options.push((key.to_owned(), value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_singer_sdk_shaped_config_and_defaults() {
        let config = BatchConfig::from_value(&json!({
            "encoding": {"format": "jsonl", "compression": null},
            "storage": {"root": "file:///tmp/b"}
        }))
        .unwrap();
        assert_eq!(config.encoding.compression, Compression::None);
        assert_eq!(config.batch_size(), DEFAULT_BATCH_SIZE);
        assert_eq!(config.encoding.extension(), "json");
    }

    #[test]
    fn bad_format_names_the_key() {
        let err = BatchConfig::from_value(&json!({
            "encoding": {"format": "avro"},
            "storage": {"root": "x"}
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("batch_config.encoding.format"), "{err}");
        assert!(err.contains("jsonl"), "{err}");
    }

    #[test]
    fn translates_fsspec_params_and_hides_them_from_debug() {
        let storage: StorageConfig = serde_json::from_value(json!({
            "root": "s3://b",
            "params": {"key": "AKIA", "secret": "hush", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}}
        }))
        .unwrap();
        let options = storage.store_options();
        assert!(options.contains(&("aws_access_key_id".into(), "AKIA".into())));
        assert!(options.contains(&("aws_secret_access_key".into(), "hush".into())));
        assert!(options.contains(&("aws_endpoint".into(), "http://127.0.0.1:9".into())));
        let debug = format!("{storage:?}");
        assert!(
            !debug.contains("hush") && !debug.contains("AKIA"),
            "{debug}"
        );
    }

    #[test]
    fn message_encoding_round_trips() {
        let encoding = Encoding {
            format: Format::Parquet,
            compression: Compression::Gzip,
        };
        assert_eq!(
            Encoding::from_message(&encoding.to_value()).unwrap(),
            encoding
        );
        assert_eq!(
            Encoding::from_message(&Value::Null).unwrap(),
            Encoding::default()
        );
        assert!(Encoding::from_message(&json!({"format": "csv"})).is_err());
    }
}
