//! The JSON Schemas of the settings the mapper reads.

use serde_json::{Value, json};

use super::config::{ALIAS, ELSE, FILTER, KEY_PROPERTIES, NULL_STRING, SOURCE};

/// The JSON Schemas of the stream-map and flattening settings (a `properties` object), with
/// singer-sdk's titles and descriptions.
pub(crate) fn builtin_settings() -> Value {
    json!({
        "stream_maps": {
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
        },
        "stream_map_config": {
            "type": ["object", "null"],
            "title": "User Stream Map Configuration",
            "description": "User-defined config values to be used within map expressions.",
            "properties": {}
        },
        "faker_config": {
            "type": ["object", "null"],
            "title": "Faker Configuration",
            "description": "Config for the [`Faker`](https://faker.readthedocs.io/en/master/) instance variable `fake` used within map expressions. Only applicable if the plugin specifies `faker` as an additional dependency (through the `singer-sdk` `faker` extra or directly).",
            "properties": {
                "seed": {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}, {"type": "null"}], "title": "Faker Seed", "description": "Value to seed the Faker generator for deterministic output: https://faker.readthedocs.io/en/master/#seeding-the-generator"},
                "locale": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}], "title": "Faker Locale", "description": "One or more LCID locale strings to produce localized output for: https://faker.readthedocs.io/en/master/#localization"}
            }
        },
        "flattening_enabled": {"type": ["boolean", "null"], "title": "Enable Schema Flattening", "description": "'True' to enable schema flattening and automatically expand nested properties."},
        "flattening_max_depth": {"type": ["integer", "null"], "title": "Max Flattening Depth", "description": "The max depth to flatten schemas."},
        "flattening_max_key_length": {"type": ["integer", "null"], "title": "Max Key Length", "description": "The maximum length of a flattened key."},
        "flattening_separator": {"type": ["string", "null"], "title": "Flattening Separator", "description": "The separator to use when flattening keys."},
    })
}
