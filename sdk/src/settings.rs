//! Settings: the typed configuration a connector receives.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A connector's settings: deserialised from the merged `--config` sources and described by a
/// JSON Schema (published by `--about`, used to validate config before anything runs).
///
/// Derive it with `#[derive(Settings, Deserialize)]`: field docs become descriptions and
/// `#[setting(secret)]` marks values that must never be shown.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as connector settings",
    note = "add `#[derive(singer_sdk::Settings, serde::Deserialize)]` to `{Self}`"
)]
pub trait Settings: DeserializeOwned + Send + Sync + 'static {
    /// The JSON Schema of the settings object: `type: object`, `properties`, `required`, and
    /// `"secret": true, "writeOnly": true` on secret settings.
    fn settings_schema() -> Value;
}

impl Settings for Map<String, Value> {
    fn settings_schema() -> Value {
        serde_json::json!({"type": "object", "properties": {}})
    }
}

/// Where one `--config` value points: a JSON file, or `ENV` for environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A JSON file.
    File(std::path::PathBuf),
    /// Environment variables named `<PLUGIN_NAME>_<SETTING>` (and a `.env` file if present).
    Env,
}

impl ConfigSource {
    /// Reads a command-line value: the literal `ENV` or a path.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        if value == "ENV" {
            ConfigSource::Env
        } else {
            ConfigSource::File(value.into())
        }
    }
}

/// The environment variable that carries `setting` for `plugin`: upper-case, every character
/// that is not a letter or digit replaced by `_`, as Meltano and singer-sdk name them.
///
/// ```
/// assert_eq!(singer_sdk::settings::env_var_name("tap-csv", "add_metadata_columns"),
///            "TAP_CSV_ADD_METADATA_COLUMNS");
/// ```
#[must_use]
pub fn env_var_name(plugin: &str, setting: &str) -> String {
    format!("{plugin}_{setting}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Merges config sources left to right (later files override earlier keys); when `ENV` is
/// among them, environment variables override every file, typed by `schema`.
///
/// # Errors
/// [`Error::ConfigRead`] for an unreadable file, [`Error::InvalidFile`] for a file that is
/// not a JSON object, [`Error::InvalidConfig`] for an environment value of the wrong type.
pub fn load(sources: &[ConfigSource], plugin: &str, schema: &Value) -> Result<Map<String, Value>> {
    let mut config = Map::new();
    for source in sources {
        if let ConfigSource::File(path) = source {
            config.extend(read_file(path)?);
        }
    }
    if sources.contains(&ConfigSource::Env) {
        // A missing `.env` is normal; a malformed one is reported by the values it lacks.
        let _ = dotenvy::dotenv();
        let from_env = from_env(plugin, schema, |name| std::env::var(name).ok())?;
        config.extend(from_env);
    }
    Ok(config)
}

fn read_file(path: &Path) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        let template = path.with_extension(format!(
            "{}.template",
            path.extension().and_then(|e| e.to_str()).unwrap_or("json")
        ));
        let hint = if template.exists() {
            format!(
                " (`{}` exists: copy it to `{}` and fill it in)",
                template.display(),
                path.display()
            )
        } else {
            String::new()
        };
        Error::ConfigRead {
            path: path.to_owned(),
            hint,
            source,
        }
    })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::InvalidFile {
            what: "config file",
            path: path.to_owned(),
            detail: "the top level must be a JSON object".to_owned(),
            fix: "write the settings as {\"name\": value, ...}",
        }),
        Err(e) => Err(Error::InvalidFile {
            what: "config file",
            path: path.to_owned(),
            detail: format!(
                "line {}, column {}: {}",
                e.line(),
                e.column(),
                json_reason(&e)
            ),
            fix: "fix the JSON syntax",
        }),
    }
}

/// The reason of a serde_json error without its position suffix.
pub(crate) fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Reads the settings declared in `schema` from environment variables, typed by the schema.
fn from_env(
    plugin: &str,
    schema: &Value,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    let mut violations = Vec::new();
    let Some(properties) = crate::schema::properties(schema) else {
        return Ok(out);
    };
    for (name, property) in properties {
        let mut names = vec![env_var_name(plugin, name)];
        if let Some(extra) = property.get("x-env").and_then(Value::as_str) {
            names.insert(0, extra.to_owned());
        }
        let Some((var, raw)) = names
            .iter()
            .find_map(|var| lookup(var).map(|raw| (var, raw)))
        else {
            continue;
        };
        match typed_env_value(&raw, property) {
            Ok(value) => {
                out.insert(name.clone(), value);
            }
            Err(expected) => violations.push(format!(
                "`{name}` (from environment variable {var}): expected {expected}"
            )),
        }
    }
    if violations.is_empty() {
        Ok(out)
    } else {
        Err(Error::InvalidConfig { violations })
    }
}

fn typed_env_value(raw: &str, schema: &Value) -> std::result::Result<Value, &'static str> {
    let types = crate::schema::types(schema);
    let first = types.first().copied().unwrap_or("string");
    match first {
        "integer" => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "an integer"),
        "number" => raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or("a number"),
        "boolean" => Ok(Value::Bool(matches!(
            raw.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        ))),
        "array" => match serde_json::from_str::<Value>(raw) {
            Ok(v @ Value::Array(_)) => Ok(v),
            _ if !raw.trim_start().starts_with('[') => Ok(Value::Array(
                raw.split(',').map(|s| Value::from(s.trim())).collect(),
            )),
            _ => Err("a JSON array"),
        },
        "object" => match serde_json::from_str::<Value>(raw) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err("a JSON object"),
        },
        _ => Ok(Value::from(raw)),
    }
}

/// Fills in `default`s of top-level settings the config lacks (as singer-sdk does before
/// validating).
pub fn apply_defaults(config: &mut Map<String, Value>, schema: &Value) {
    if let Some(properties) = crate::schema::properties(schema) {
        for (name, property) in properties {
            if let Some(default) = property.get("default") {
                if !config.contains_key(name) {
                    config.insert(name.clone(), default.clone());
                }
            }
        }
    }
}

/// Validates `config` against the settings `schema`, listing every violation with the
/// setting's path. Values of secret settings never appear in the messages.
///
/// # Errors
/// [`Error::InvalidConfig`] with one line per violation.
pub fn validate(config: &Map<String, Value>, schema: &Value) -> Result<()> {
    let mut schema = schema.clone();
    if let Some(object) = schema.as_object_mut() {
        // Validate with the draft the keywords are written for, not a URL to fetch.
        object.remove("$schema");
    }
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .map_err(|e| Error::InvalidConfig {
            violations: vec![format!("the settings schema itself is invalid: {e}")],
        })?;
    let instance = Value::Object(config.clone());
    let redactor = Redactor::new(config, &schema);
    let mut violations: Vec<String> = validator
        .iter_errors(&instance)
        .map(|error| {
            let path = error.instance_path().to_string();
            let setting = setting_path(&path);
            let message = if redactor.is_secret_path(&path) {
                format!(
                    "invalid value (hidden: secret setting), failed `{}`",
                    keyword(&error.schema_path().to_string())
                )
            } else {
                redactor.redact(&error.to_string())
            };
            if setting.is_empty() {
                message
            } else {
                format!("`{setting}`: {message}")
            }
        })
        .collect();
    violations.dedup();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidConfig { violations })
    }
}

/// Deserialises validated config into the connector's settings type.
///
/// # Errors
/// [`Error::InvalidConfig`] naming the setting that does not fit.
pub fn deserialize<S: Settings>(config: Map<String, Value>, schema: &Value) -> Result<S> {
    let redactor = Redactor::new(&config, schema);
    serde_path_to_error::deserialize(Value::Object(config)).map_err(|e| {
        let path = e.path().to_string();
        let message = redactor.redact(&e.inner().to_string());
        Error::InvalidConfig {
            violations: vec![if path == "." {
                message
            } else {
                format!("`{path}`: {message}")
            }],
        }
    })
}

/// Turns a JSON pointer (`/files/0/path`) into a setting path (`files[0].path`).
fn setting_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        if part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

fn keyword(schema_path: &str) -> &str {
    schema_path.rsplit('/').next().unwrap_or(schema_path)
}

/// Hides secret values: knows which settings are secret and what their values are.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secret_paths: Vec<String>,
    secret_values: Vec<String>,
}

impl Redactor {
    /// Collects the secret settings of `schema` and their values in `config`.
    #[must_use]
    pub fn new(config: &Map<String, Value>, schema: &Value) -> Self {
        let mut redactor = Redactor::default();
        redactor.collect(schema, &Value::Object(config.clone()), "");
        redactor
            .secret_values
            .sort_by_key(|v| std::cmp::Reverse(v.len()));
        redactor
    }

    fn collect(&mut self, schema: &Value, value: &Value, pointer: &str) {
        let Some(properties) = crate::schema::properties(schema) else {
            return;
        };
        for (name, property) in properties {
            let child = format!("{pointer}/{name}");
            let field = value.get(name).unwrap_or(&Value::Null);
            if is_secret(property) {
                self.secret_paths.push(child.clone());
                collect_strings(field, &mut self.secret_values);
            } else {
                self.collect(property, field, &child);
            }
        }
    }

    /// Whether the JSON pointer is (inside) a secret setting.
    #[must_use]
    pub fn is_secret_path(&self, pointer: &str) -> bool {
        self.secret_paths
            .iter()
            .any(|p| pointer == p || pointer.starts_with(&format!("{p}/")))
    }

    /// `text` with every secret value replaced by `****`.
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secret_values {
            if !secret.is_empty() {
                out = out.replace(secret.as_str(), "****");
            }
        }
        out
    }
}

/// Whether a setting's schema marks it secret (`secret: true` or `writeOnly: true`).
#[must_use]
pub fn is_secret(schema: &Value) -> bool {
    schema.get("secret") == Some(&Value::Bool(true))
        || schema.get("writeOnly") == Some(&Value::Bool(true))
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "token": {"type": "string", "secret": true, "writeOnly": true},
            "n": {"type": "integer"},
            "flag": {"type": "boolean"},
            "names": {"type": "array", "items": {"type": "string"}},
            "files": {"type": "array", "items": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}},
        }, "required": ["token"]})
    }

    #[test]
    fn env_values_are_typed_by_schema() {
        let env = |name: &str| match name {
            "TAP_X_N" => Some("5".to_owned()),
            "TAP_X_FLAG" => Some("yes".to_owned()),
            "TAP_X_NAMES" => Some("a, b".to_owned()),
            _ => None,
        };
        let got = from_env("tap-x", &schema(), env).unwrap();
        assert_eq!(
            Value::Object(got),
            json!({"n": 5, "flag": true, "names": ["a", "b"]})
        );
        let err = from_env("tap-x", &schema(), |n| {
            (n == "TAP_X_N").then(|| "five".to_owned())
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`n` (from environment variable TAP_X_N): expected an integer"),
            "{err}"
        );
    }

    #[test]
    fn violations_name_settings_and_hide_secrets() {
        let config = json!({"token": 12345, "n": "x", "files": [{}]});
        let err = validate(config.as_object().unwrap(), &schema())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`n`: \"x\" is not of type \"integer\""),
            "{err}"
        );
        assert!(
            err.contains("`files[0]`: \"path\" is a required property"),
            "{err}"
        );
        assert!(
            err.contains("`token`: invalid value (hidden: secret setting)"),
            "{err}"
        );
        assert!(!err.contains("12345"), "{err}");
        let err = validate(&Map::new(), &schema()).unwrap_err().to_string();
        assert!(err.contains("\"token\" is a required property"), "{err}");
    }

    #[test]
    fn redacts_nested_secret_values() {
        let schema = json!({"properties": {"auth": {"properties": {"password": {"type": "string", "secret": true}}}}});
        let config = json!({"auth": {"password": "hunter2"}});
        let r = Redactor::new(config.as_object().unwrap(), &schema);
        assert_eq!(r.redact("bad hunter2!"), "bad ****!");
        assert!(r.is_secret_path("/auth/password"));
    }
}
