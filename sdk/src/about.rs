//! `--about`: what a connector is, what it can do and which settings it takes, as text, JSON
//! (the keys singer-sdk prints) or Markdown (a README section).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

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
}

/// Settings every tap built with this SDK understands, appended to its own in `--about` and
/// validated with them.
#[must_use]
pub fn tap_builtin_settings() -> Value {
    json!({
        "start_date": {
            "type": ["string", "null"],
            "format": "date-time",
            "title": "Start Date",
            "description": "The earliest record to extract, for incremental streams without a bookmark.",
        },
        "emit_activate_version_messages": {
            "type": ["boolean", "null"],
            "title": "Emit `ACTIVATE_VERSION` messages",
            "description": "Emit ACTIVATE_VERSION messages for full-table streams, and version their records.",
            "default": false,
        },
    })
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
