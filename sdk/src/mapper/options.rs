//! The built-in stream map and flattening settings (singer-sdk's names, titles and
//! descriptions), declared once: the `--about` schema and the parsed options both come from
//! [`MapOptions`].

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::config::{ALIAS, ELSE, FILTER, KEY_PROPERTIES, NULL_STRING, SOURCE};
use crate::settings::Settings;

/// The stream map and flattening settings, as `--config` spells them.
///
/// ```
/// use singer_sdk::mapper::MapOptions;
/// let config = serde_json::json!({"flattening_enabled": true, "flattening_max_depth": 1});
/// let options = MapOptions::from_config(config.as_object().unwrap()).unwrap();
/// assert_eq!(options.flattening_max_depth, Some(1));
/// ```
#[derive(Debug, Clone, Default, Deserialize, crate::Settings)]
pub struct MapOptions {
    /// Config object for stream maps capability. For more information check out [Stream Maps](https://sdk.meltano.com/en/latest/stream_maps.html).
    #[serde(default)]
    #[setting(title = "Stream Maps")]
    #[schema(with = "stream_maps_schema")]
    pub stream_maps: Option<Map<String, Value>>,
    /// User-defined config values to be used within map expressions.
    #[serde(default)]
    #[setting(title = "User Stream Map Configuration")]
    #[schema(with = "open_object_schema")]
    pub stream_map_config: Option<Map<String, Value>>,
    /// Config for the [`Faker`](https://faker.readthedocs.io/en/master/) instance variable `fake` used within map expressions. Only applicable if the plugin specifies `faker` as an additional dependency (through the `singer-sdk` `faker` extra or directly).
    #[serde(default)]
    #[setting(title = "Faker Configuration")]
    #[schema(with = "faker_config_schema")]
    pub faker_config: Option<Map<String, Value>>,
    /// 'True' to enable schema flattening and automatically expand nested properties.
    #[serde(default)]
    #[setting(title = "Enable Schema Flattening")]
    pub flattening_enabled: Option<bool>,
    /// The max depth to flatten schemas.
    #[serde(default)]
    #[setting(title = "Max Flattening Depth")]
    pub flattening_max_depth: Option<usize>,
    /// The maximum length of a flattened key.
    #[serde(default)]
    #[setting(title = "Max Key Length")]
    pub flattening_max_key_length: Option<usize>,
    /// The separator to use when flattening keys.
    #[serde(default)]
    #[setting(title = "Flattening Separator")]
    pub flattening_separator: Option<String>,
}

impl MapOptions {
    /// Reads the settings from a config (other keys are ignored).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the setting whose value
    /// has the wrong type.
    pub fn from_config(config: &Map<String, Value>) -> crate::Result<Self> {
        crate::settings::deserialize(config.clone(), &MapOptions::settings_schema())
    }

    /// The JSON Schemas of the settings, as a `properties` object.
    #[must_use]
    pub fn settings() -> Value {
        MapOptions::settings_schema()
            .get("properties")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()))
    }
}

fn stream_maps_schema() -> Value {
    json!({
        "type": ["object", "null"],
        "title": "Stream Maps",
        "description": "Config object for stream maps capability. For more information check out [Stream Maps](https://sdk.meltano.com/en/latest/stream_maps.html).",
        "properties": {
            ELSE: {
                "anyOf": [{"const": NULL_STRING}, {"type": "null"}],
                "title": "Other streams",
                "description": "Currently, only setting this to `__NULL__` is supported. This will remove all other streams."
            }
        },
        "additionalProperties": {
            "anyOf": [
                {"const": NULL_STRING},
                {"type": "null"},
                {
                    "type": "object",
                    "properties": {
                        ALIAS: {"type": ["string", "null"], "title": "Stream Alias", "description": "Alias to use for the stream."},
                        ELSE: {"anyOf": [{"const": NULL_STRING}, {"type": "null"}], "title": "Other properties", "description": "Currently, only setting this to `__NULL__` is supported. This will remove all other properties from the stream."},
                        FILTER: {"type": ["string", "null"], "title": "Filter", "description": "Filter out records from a stream. A string expression which must evaluate to `true` to include the record, or `false` to exclude it. Filter expressions should be wrapped in `bool()` to ensure proper type conversion."},
                        KEY_PROPERTIES: {"type": ["array", "null"], "items": {"type": "string"}, "title": "Key Properties", "description": "Primary key properties for the stream."},
                        SOURCE: {"type": ["string", "null"], "description": "Create a new stream from this source stream."}
                    },
                    "additionalProperties": {"anyOf": [{"const": NULL_STRING}, {"type": "null"}, {"type": "string"}]}
                }
            ]
        }
    })
}

fn open_object_schema() -> Value {
    json!({"type": ["object", "null"], "properties": {}})
}

fn faker_config_schema() -> Value {
    json!({
        "type": ["object", "null"],
        "title": "Faker Configuration",
        "description": "Config for the [`Faker`](https://faker.readthedocs.io/en/master/) instance variable `fake` used within map expressions. Only applicable if the plugin specifies `faker` as an additional dependency (through the `singer-sdk` `faker` extra or directly).",
        "properties": {
            "seed": {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}, {"type": "null"}], "title": "Faker Seed", "description": "Value to seed the Faker generator for deterministic output: https://faker.readthedocs.io/en/master/#seeding-the-generator"},
            "locale": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}], "title": "Faker Locale", "description": "One or more LCID locale strings to produce localized output for: https://faker.readthedocs.io/en/master/#localization"}
        }
    })
}
