//! `--about`: what a connector is, what it can do and which settings it takes, as text, JSON
//! (the keys singer-sdk prints), Markdown (a README section) or a Meltano plugin definition
//! (YAML for `meltano.yml` and MeltanoHub).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::settings::env_var_name;

/// Everything `--about` prints.
#[derive(Debug, Clone, Serialize)]
pub struct About {
    /// Connector name, e.g. `tap-csv`.
    pub name: String,
    /// One-line description.
    pub description: Option<String>,
    /// Connector version.
    pub version: String,
    /// Version of `singer-sdk` it was built with.
    pub sdk_version: String,
    /// Always `null`: kept so tools that read singer-sdk's `--about` find every key.
    pub supported_python_versions: Option<Vec<String>>,
    /// Capabilities, for Meltano's `capabilities:`.
    pub capabilities: Vec<String>,
    /// The settings as a JSON Schema.
    pub settings: Value,
}

/// `--format` of `--about`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AboutFormat {
    /// Plain text (the default).
    #[default]
    Text,
    /// JSON with singer-sdk's keys.
    Json,
    /// A README section.
    Markdown,
    /// A Meltano plugin definition (YAML): an entry for `plugins:` in `meltano.yml`, or the
    /// start of a MeltanoHub definition.
    Meltano,
}

/// Appends `builtins` to a settings schema, skipping names the connector declares itself.
#[must_use]
pub fn with_builtins(mut schema: Value, builtins: &Value) -> Value {
    if !schema.is_object() {
        schema = json!({"type": "object"});
    }
    let object = schema.as_object_mut().expect("made an object above");
    object.entry("type").or_insert_with(|| json!("object"));
    let properties = object.entry("properties").or_insert_with(|| json!({}));
    if let (Some(properties), Some(builtins)) = (properties.as_object_mut(), builtins.as_object()) {
        for (name, setting) in builtins {
            properties
                .entry(name.clone())
                .or_insert_with(|| setting.clone());
        }
    }
    schema
}

impl About {
    /// Renders in the given format.
    #[must_use]
    pub fn render(&self, format: AboutFormat) -> String {
        match format {
            AboutFormat::Json => {
                let mut out = serde_json::to_string_pretty(self).unwrap_or_default();
                out.push('\n');
                out
            }
            AboutFormat::Text => self.text(),
            AboutFormat::Markdown => self.markdown(),
            AboutFormat::Meltano => self.meltano(),
        }
    }

    fn settings(&self) -> Vec<(&String, &Value)> {
        crate::schema::properties(&self.settings)
            .map(|p| p.iter().collect())
            .unwrap_or_default()
    }

    fn required(&self) -> Vec<&str> {
        self.settings
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Name: {}", self.name);
        let _ = writeln!(
            out,
            "Description: {}",
            self.description.as_deref().unwrap_or("")
        );
        let _ = writeln!(out, "Version: {}", self.version);
        let _ = writeln!(out, "SDK Version: {}", self.sdk_version);
        let _ = writeln!(out, "Capabilities:");
        for capability in &self.capabilities {
            let _ = writeln!(out, "  - {capability}");
        }
        let _ = writeln!(out, "Settings:");
        for (name, setting) in self.settings() {
            let _ = writeln!(out, "  - Name: {name}");
            let _ = writeln!(
                out,
                "    Type: {}",
                setting.get("type").unwrap_or(&Value::Null)
            );
            let _ = writeln!(
                out,
                "    Environment Variable: {}",
                env_var_name(&self.name, name)
            );
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# `{}`\n", self.name);
        if let Some(description) = &self.description {
            let _ = writeln!(out, "{description}\n");
        }
        let _ = writeln!(
            out,
            "Built with the [Rust Singer SDK](https://crates.io/crates/singer-sdk) v{}.\n",
            self.sdk_version
        );
        let _ = writeln!(out, "## Capabilities\n");
        for capability in &self.capabilities {
            let _ = writeln!(out, "* `{capability}`");
        }
        let _ = writeln!(out, "\n## Settings\n");
        let _ = writeln!(out, "| Setting | Required | Default | Description |");
        let _ = writeln!(out, "|:--------|:--------:|:-------:|:------------|");
        let required = self.required();
        let mut rows = Vec::new();
        for (name, setting) in self.settings() {
            flatten_rows(name, setting, required.contains(&name.as_str()), &mut rows);
        }
        for (name, is_required, default, description) in rows {
            let _ = writeln!(
                out,
                "| {name} | {} | {default} | {description} |",
                if is_required { "True" } else { "False" }
            );
        }
        let _ = writeln!(
            out,
            "\nA full list of supported settings and capabilities is available by running: `{} --about`\n",
            self.name
        );
        let _ = writeln!(out, "### Configure using environment variables\n");
        let _ = writeln!(
            out,
            "With `--config ENV`, each setting is read from an environment variable named after the connector and the setting, e.g. `{}`; a `.env` file in the working directory is read too.",
            self.settings()
                .first()
                .map(|(name, _)| env_var_name(&self.name, name))
                .unwrap_or_default()
        );
        out
    }

    /// The Meltano plugin definition, as the tree `--about --format meltano` prints as YAML:
    /// `name`, `namespace` (the name with `-` → `_`), `executable` (the name: Meltano finds it
    /// on `PATH`), `description`, `capabilities`, `settings` and, when settings are required,
    /// `settings_group_validation`.
    ///
    /// Each setting has `name` (the properties of a nested object with a fixed set of them
    /// become `parent.child` settings, as Meltano nests them back; an object that takes other
    /// keys too, like `stream_maps`, stays one setting), `label` (the schema's `title`, else
    /// made from the name), `kind` (from the JSON Schema: `string`, `integer`, `decimal` for
    /// numbers, `boolean`, `array`, `object`, `date_iso8601` for `date`/`date-time` strings,
    /// `email`, `options` with `options` for string enums, `password` with `sensitive: true`
    /// for secret strings, as MeltanoHub writes them; no kind when several types are
    /// allowed), `description` and `value` (the default). An extra
    /// environment variable of a setting (`x-env`) is left out: Meltano's `env` would
    /// *export* the value under that name rather than read it.
    ///
    /// ```
    /// use singer_sdk::about::About;
    /// use serde_json::json;
    ///
    /// let about = About {
    ///     name: "tap-example".to_owned(),
    ///     description: None,
    ///     version: "0.1.0".to_owned(),
    ///     sdk_version: "0.1.0".to_owned(),
    ///     supported_python_versions: None,
    ///     capabilities: vec!["catalog".to_owned()],
    ///     settings: json!({
    ///         "type": "object",
    ///         "properties": {"api_key": {"type": "string", "secret": true}},
    ///         "required": ["api_key"],
    ///     }),
    /// };
    /// let definition = about.meltano_definition();
    /// assert_eq!(definition["namespace"], "tap_example");
    /// assert_eq!(definition["settings"][0],
    ///            json!({"name": "api_key", "label": "API Key", "kind": "password", "sensitive": true}));
    /// assert_eq!(definition["settings_group_validation"], json!([["api_key"]]));
    /// ```
    #[must_use]
    pub fn meltano_definition(&self) -> Value {
        let mut settings = Vec::new();
        let mut required = Vec::new();
        if let Some(properties) = crate::schema::properties(&self.settings) {
            meltano_settings(
                "",
                properties,
                &self.required(),
                true,
                &mut settings,
                &mut required,
            );
        }
        let mut definition = Map::new();
        definition.insert("name".to_owned(), json!(self.name));
        definition.insert("namespace".to_owned(), json!(self.name.replace('-', "_")));
        definition.insert("executable".to_owned(), json!(self.name));
        if let Some(description) = &self.description {
            definition.insert("description".to_owned(), json!(description));
        }
        definition.insert("capabilities".to_owned(), json!(self.capabilities));
        definition.insert("settings".to_owned(), Value::Array(settings));
        if !required.is_empty() {
            definition.insert("settings_group_validation".to_owned(), json!([required]));
        }
        Value::Object(definition)
    }

    fn meltano(&self) -> String {
        let definition = self.meltano_definition();
        let section = match meltano_plugin_type(&self.name) {
            Some(plugin_type) => format!("`plugins: {plugin_type}:`"),
            None => "`plugins:` (`extractors`, `loaders` or `mappers`)".to_owned(),
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Meltano plugin definition of {} (`{} --about --format meltano`).",
            self.name, self.name
        );
        let _ = writeln!(
            out,
            "# meltano.yml: add it as an item of {section}; with no `pip_url`, Meltano runs the"
        );
        let _ = writeln!(
            out,
            "# `executable` found on PATH. MeltanoHub also wants `variant`, `label`, `repo`, `pip_url`."
        );
        let mut yaml = String::new();
        let emitted = yaml_rust2::YamlEmitter::new(&mut yaml).dump(&to_yaml(&definition));
        match emitted {
            Ok(()) => out.push_str(yaml.strip_prefix("---\n").unwrap_or(&yaml)),
            // Writing into a `String` cannot fail; JSON is valid YAML all the same.
            Err(_) => out.push_str(&serde_json::to_string_pretty(&definition).unwrap_or_default()),
        }
        out.push('\n');
        out
    }
}

/// Meltano setting definitions of `properties`, nested objects flattened to dotted names;
/// `required` collects the names of settings that must be set.
fn meltano_settings(
    prefix: &str,
    properties: &Map<String, Value>,
    required_here: &[&str],
    parent_required: bool,
    settings: &mut Vec<Value>,
    required: &mut Vec<String>,
) {
    for (name, schema) in properties {
        // Meltano reads a dot in a setting name as nesting; a literal dot is escaped.
        let escaped = name.replace('.', "\\.");
        let full = if prefix.is_empty() {
            escaped
        } else {
            format!("{prefix}.{escaped}")
        };
        let is_required = parent_required && required_here.contains(&name.as_str());
        // A closed object is a group of settings; one that takes other keys too (like
        // `stream_maps`) is one `object` setting.
        let closed = schema
            .get("additionalProperties")
            .is_none_or(|extra| *extra == Value::Bool(false));
        let nested = crate::schema::properties(schema).filter(|p| closed && !p.is_empty());
        if let (Some(nested), true) = (nested, crate::schema::types(schema).contains(&"object")) {
            let nested_required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            meltano_settings(
                &full,
                nested,
                &nested_required,
                is_required,
                settings,
                required,
            );
            continue;
        }
        if is_required {
            required.push(full.clone());
        }
        settings.push(meltano_setting(&full, schema));
    }
}

/// One Meltano setting definition.
fn meltano_setting(name: &str, schema: &Value) -> Value {
    let mut setting = Map::new();
    setting.insert("name".to_owned(), json!(name));
    let label = schema
        .get("title")
        .and_then(Value::as_str)
        .map_or_else(|| label(name), str::to_owned);
    setting.insert("label".to_owned(), json!(label));
    let secret = crate::settings::is_secret(schema);
    let options = string_enum(schema);
    let kind = single_type(schema).map(|ty| match ty {
        "string" if secret => "password",
        "string" => match crate::schema::format(schema) {
            Some("date-time" | "date") => "date_iso8601",
            Some("email") => "email",
            _ if options.is_some() => "options",
            _ => "string",
        },
        "integer" => "integer",
        "number" => "decimal",
        "boolean" => "boolean",
        "array" => "array",
        _ => "object",
    });
    if let Some(kind) = kind {
        setting.insert("kind".to_owned(), json!(kind));
    }
    if let Some(description) = schema.get("description").and_then(Value::as_str) {
        setting.insert("description".to_owned(), json!(description));
    }
    if let Some(default) = schema.get("default").filter(|d| !d.is_null()) {
        setting.insert("value".to_owned(), default.clone());
    }
    if let (Some("options"), Some(options)) = (kind, options) {
        let options: Vec<Value> = options
            .into_iter()
            .map(|value| json!({"label": label_of_value(value), "value": value}))
            .collect();
        setting.insert("options".to_owned(), Value::Array(options));
    }
    if secret {
        setting.insert("sensitive".to_owned(), json!(true));
    }
    Value::Object(setting)
}

/// The one non-null JSON type of a schema (`integer` with `number` is `number`); `None` for
/// none or several, which no Meltano kind covers.
fn single_type(schema: &Value) -> Option<&str> {
    let mut types = crate::schema::types(schema);
    types.sort_unstable();
    types.dedup();
    match types.as_slice() {
        [only] => Some(only),
        ["integer", "number"] => Some("number"),
        _ => None,
    }
}

/// The values of a string `enum` (without `null`), if the schema has one made of strings only.
fn string_enum(schema: &Value) -> Option<Vec<&str>> {
    let values = schema.get("enum")?.as_array()?;
    let strings: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    let non_null = values.iter().filter(|v| !v.is_null()).count();
    (!strings.is_empty() && strings.len() == non_null).then_some(strings)
}

/// A label made from a setting name: words split at `_`, `-` and `.`, capitalised, with
/// the usual acronyms upper-cased (`api_key` → `API Key`).
fn label(name: &str) -> String {
    name.replace("\\.", " ")
        .split(['_', '-', '.', ' '])
        .filter(|word| !word.is_empty())
        .map(|word| match word.to_ascii_lowercase().as_str() {
            acronym @ ("id" | "url" | "uri" | "api" | "csv" | "json" | "jsonl" | "sql" | "ssl"
            | "ssh" | "http" | "https" | "utc") => acronym.to_ascii_uppercase(),
            _ => {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_uppercase().chain(chars).collect()
                })
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The label of an `options` value (`append-only` → `Append Only`).
fn label_of_value(value: &str) -> String {
    let text = label(value);
    if text.is_empty() {
        value.to_owned()
    } else {
        text
    }
}

/// Where a plugin goes in `meltano.yml`, by the Singer naming convention.
fn meltano_plugin_type(name: &str) -> Option<&'static str> {
    if name.starts_with("tap-") {
        Some("extractors")
    } else if name.starts_with("target-") {
        Some("loaders")
    } else if name.starts_with("map-") || name.starts_with("mapper-") || name.ends_with("-mapper") {
        Some("mappers")
    } else {
        None
    }
}

/// A JSON tree as a YAML tree (object keys keep their order).
fn to_yaml(value: &Value) -> yaml_rust2::Yaml {
    use yaml_rust2::Yaml;
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => {
                // YAML 1.1 readers (PyYAML) need a `.` to see a float in `1e100`.
                let text = n.to_string();
                match text.find(['e', 'E']) {
                    Some(e) if !text[..e].contains('.') => {
                        Yaml::Real(format!("{}.0{}", &text[..e], &text[e..]))
                    }
                    _ => Yaml::Real(text),
                }
            }
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(items) => Yaml::Array(items.iter().map(to_yaml).collect()),
        Value::Object(map) => Yaml::Hash(
            map.iter()
                .map(|(k, v)| (Yaml::String(k.clone()), to_yaml(v)))
                .collect(),
        ),
    }
}

/// Settings table rows; nested objects become `parent.child` rows.
fn flatten_rows(
    name: &str,
    setting: &Value,
    required: bool,
    rows: &mut Vec<(String, bool, String, String)>,
) {
    let default = setting
        .get("default")
        .map(ToString::to_string)
        .unwrap_or_else(|| "None".to_owned());
    let description = setting
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .replace('\n', " ")
        .replace('|', "\\|");
    rows.push((name.to_owned(), required, default, description));
    if let Some(properties) = crate::schema::properties(setting) {
        let nested_required: Vec<&str> = setting
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (child, schema) in properties {
            flatten_rows(
                &format!("{name}.{child}"),
                schema,
                nested_required.contains(&child.as_str()),
                rows,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use yaml_rust2::{Yaml, YamlLoader};

    use super::{About, AboutFormat};

    fn about(name: &str, settings: Value) -> About {
        About {
            name: name.to_owned(),
            description: Some("Example connector: reads things".to_owned()),
            version: "1.2.3".to_owned(),
            sdk_version: "0.1.0".to_owned(),
            supported_python_versions: None,
            capabilities: vec!["catalog".to_owned(), "discover".to_owned()],
            settings,
        }
    }

    /// A YAML tree as JSON, to compare with the definition it was emitted from.
    fn to_json(yaml: &Yaml) -> Value {
        match yaml {
            Yaml::Real(text) => json!(text.parse::<f64>().unwrap()),
            Yaml::Integer(i) => json!(i),
            Yaml::String(s) => json!(s),
            Yaml::Boolean(b) => json!(b),
            Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
            Yaml::Hash(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.as_str().unwrap().to_owned(), to_json(v)))
                    .collect(),
            ),
            Yaml::Null => Value::Null,
            other => panic!("unexpected YAML node {other:?}"),
        }
    }

    fn parse(text: &str) -> Value {
        let docs = YamlLoader::load_from_str(text).unwrap();
        assert_eq!(docs.len(), 1, "one YAML document in:\n{text}");
        to_json(&docs[0])
    }

    #[test]
    fn definition_maps_json_schema_to_meltano_kinds() {
        let settings = json!({
            "type": "object",
            "properties": {
                "api_url": {"type": "string", "description": "Base URL."},
                "api_key": {"type": "string", "secret": true, "writeOnly": true,
                            "x-env": "EXAMPLE_TOKEN"},
                "start_date": {"type": ["string", "null"], "format": "date-time",
                               "title": "Start Date"},
                "day": {"type": "string", "format": "date"},
                "owner": {"type": "string", "format": "email"},
                "page_size": {"type": "integer", "default": 100},
                "ratio": {"type": ["number", "null"], "default": 0.5},
                "verbose": {"type": "boolean", "default": false},
                "streams": {"type": "array", "items": {"type": "string"}},
                "stream_maps": {"type": "object", "additionalProperties": true},
                "mode": {"type": ["string", "null"], "enum": ["append-only", "upsert", null],
                         "default": "append-only"},
                "level": {"type": "integer", "enum": [1, 2]},
                "auth": {
                    "type": "object",
                    "properties": {
                        "user": {"type": "string"},
                        "password": {"type": "string", "secret": true},
                    },
                    "required": ["user"],
                },
                "optional_group": {
                    "type": ["object", "null"],
                    "properties": {"inner": {"type": "string"}},
                    "required": ["inner"],
                },
                "a.b": {"type": "string"},
                "untyped": {"description": "No type at all."},
                "mixed": {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]},
                "count": {"anyOf": [{"type": "integer"}, {"type": "number"}]},
                "open_map": {
                    "type": ["object", "null"],
                    "properties": {"__else__": {"anyOf": [{"const": "__NULL__"}, {"type": "null"}]}},
                    "additionalProperties": {"type": "object"},
                },
                "closed": {
                    "type": "object",
                    "properties": {"x": {"type": "integer"}},
                    "additionalProperties": false,
                },
            },
            "required": ["api_url", "auth"],
        });
        let definition = about("tap-example", settings).meltano_definition();
        assert_eq!(
            definition,
            json!({
                "name": "tap-example",
                "namespace": "tap_example",
                "executable": "tap-example",
                "description": "Example connector: reads things",
                "capabilities": ["catalog", "discover"],
                "settings": [
                    {"name": "api_url", "label": "API URL", "kind": "string",
                     "description": "Base URL."},
                    {"name": "api_key", "label": "API Key", "kind": "password",
                     "sensitive": true},
                    {"name": "start_date", "label": "Start Date", "kind": "date_iso8601"},
                    {"name": "day", "label": "Day", "kind": "date_iso8601"},
                    {"name": "owner", "label": "Owner", "kind": "email"},
                    {"name": "page_size", "label": "Page Size", "kind": "integer", "value": 100},
                    {"name": "ratio", "label": "Ratio", "kind": "decimal", "value": 0.5},
                    {"name": "verbose", "label": "Verbose", "kind": "boolean", "value": false},
                    {"name": "streams", "label": "Streams", "kind": "array"},
                    {"name": "stream_maps", "label": "Stream Maps", "kind": "object"},
                    {"name": "mode", "label": "Mode", "kind": "options", "value": "append-only",
                     "options": [{"label": "Append Only", "value": "append-only"},
                                 {"label": "Upsert", "value": "upsert"}]},
                    {"name": "level", "label": "Level", "kind": "integer"},
                    {"name": "auth.user", "label": "Auth User", "kind": "string"},
                    {"name": "auth.password", "label": "Auth Password", "kind": "password",
                     "sensitive": true},
                    {"name": "optional_group.inner", "label": "Optional Group Inner",
                     "kind": "string"},
                    {"name": "a\\.b", "label": "A B", "kind": "string"},
                    {"name": "untyped", "label": "Untyped", "description": "No type at all."},
                    {"name": "mixed", "label": "Mixed"},
                    {"name": "count", "label": "Count", "kind": "decimal"},
                    {"name": "open_map", "label": "Open Map", "kind": "object"},
                    {"name": "closed.x", "label": "Closed X", "kind": "integer"},
                ],
                "settings_group_validation": [["api_url", "auth.user"]],
            })
        );
    }

    #[test]
    fn definition_without_required_settings_has_no_group_validation() {
        let definition = about(
            "target-example",
            json!({"type": "object", "properties": {"path": {"type": "string"}}}),
        )
        .meltano_definition();
        assert_eq!(definition["namespace"], "target_example");
        assert!(definition.get("settings_group_validation").is_none());
        let empty = about("target-empty", json!({"type": "object"})).meltano_definition();
        assert_eq!(empty["settings"], json!([]));
    }

    #[test]
    fn yaml_reads_back_as_the_definition() {
        let tricky = [
            "plain words",
            "key: value # not a comment",
            "`backticks` first",
            "*.* and &anchor",
            "- dash first",
            "true",
            "null",
            "007",
            "1e5",
            "line one\nline two",
            "quotes \" and ' and \\ backslash",
            "ünïcödé ✓",
            " padded ",
            "",
        ];
        let properties: serde_json::Map<String, Value> = tricky
            .iter()
            .enumerate()
            .map(|(i, text)| {
                (
                    format!("s{i}"),
                    json!({"type": "string", "description": text, "default": text}),
                )
            })
            .chain([
                (
                    "big".to_owned(),
                    json!({"type": "number", "default": 1e100}),
                ),
                ("neg".to_owned(), json!({"type": "integer", "default": -3})),
                (
                    "obj".to_owned(),
                    json!({"type": "object", "default": {"a": [1, {"b": null}]}}),
                ),
                ("empty".to_owned(), json!({"type": "array", "default": []})),
            ])
            .collect();
        let about = about(
            "tap-tricky",
            json!({"type": "object", "properties": properties}),
        );
        let text = about.render(AboutFormat::Meltano);
        assert_eq!(parse(&text), about.meltano_definition(), "YAML:\n{text}");
    }

    #[test]
    fn yaml_starts_with_where_to_put_it() {
        let text = about("tap-example", json!({"type": "object"})).render(AboutFormat::Meltano);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("# Meltano plugin definition of tap-example"));
        assert!(lines[1].contains("`plugins: extractors:`"), "{text}");
        assert!(
            !text.contains("---"),
            "no document marker, so it can be pasted: {text}"
        );
        assert!(text.contains("\nname: tap-example\n"), "{text}");
        assert!(text.ends_with('\n'));
        for (name, section) in [
            ("target-x", "`plugins: loaders:`"),
            ("map-transform", "`plugins: mappers:`"),
            ("thing", "`plugins:` (`extractors`, `loaders` or `mappers`)"),
        ] {
            let text = about(name, json!({"type": "object"})).render(AboutFormat::Meltano);
            assert!(text.contains(section), "{name}: {text}");
        }
    }

    #[test]
    fn yaml_indents_as_a_list_item() {
        // What users do with it: paste it under `extractors:` as one list item.
        let about = about(
            "tap-example",
            json!({"type": "object", "properties": {"n": {"type": "integer", "default": 1}}}),
        );
        let mut project = String::from("plugins:\n  extractors:\n");
        for (i, line) in about.render(AboutFormat::Meltano).lines().enumerate() {
            let indent = if i == 3 { "  - " } else { "    " };
            project.push_str(indent);
            project.push_str(line);
            project.push('\n');
        }
        let parsed = parse(&project);
        assert_eq!(
            parsed["plugins"]["extractors"][0],
            about.meltano_definition(),
            "{project}"
        );
    }
}
