//! `--about --format json` and `--version`: the metadata Meltano Hub and `meltano add` rely on.

use serde_json::Value;

use super::Context;
use crate::check::{Check, CheckInfo, Outcome, Verdict, fail};
use crate::json;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "tap.about.parses",
        "`--about --format json` exits 0 and prints one JSON object with name, description, version, sdk_version, capabilities and settings",
        "singer-sdk's `--about` contract (cli.md); Meltano Hub and plugin generators read these keys",
        parses,
    ),
    Check::new(
        "tap.about.settings-schema",
        "the `settings` of `--about` is a valid JSON Schema (against the meta-schema of its `$schema`, Draft 7 if none) for an object",
        "orchestrators validate and render config forms from it; an invalid schema breaks them",
        settings_schema,
    ),
    Check::new(
        "tap.about.secrets-marked",
        "settings named like secrets (password, token, secret, credentials, api/private/access key…) carry `secret: true` or `writeOnly: true`",
        "Meltano stores and redacts sensitive settings only when they are marked (Airbyte CAT test_secret_is_properly_marked)",
        secrets_marked,
    ),
    Check::new(
        "tap.about.version",
        "`--version` exits 0 and prints exactly one non-empty line on stdout",
        "singer-sdk CLI convention (`tap__cli_prints`); tooling parses the single line",
        version,
    ),
];

/// Keys every singer-sdk `--about --format json` object has.
pub(crate) const ABOUT_KEYS: &[&str] = &[
    "name",
    "description",
    "version",
    "sdk_version",
    "capabilities",
    "settings",
];

/// Runs `--about --format json` and parses stdout.
pub(super) fn load(context: &Context) -> Result<Value, Outcome> {
    let run = context.run(&["--about".into(), "--format".into(), "json".into()])?;
    if !run.success() {
        return Err(fail(format!(
            "`--about --format json` failed: {}",
            run.describe()
        )));
    }
    match serde_json::from_slice::<Value>(&run.stdout) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(fail(
            "`--about --format json` printed JSON that is not an object",
        )),
        Err(e) => Err(fail(format!(
            "`--about --format json` stdout is not JSON ({e}): {}",
            json::excerpt(run.stdout_text().trim())
        ))),
    }
}

fn parses(context: &Context, _: &CheckInfo) -> Verdict {
    check_keys(context.about()?)
}

/// The required keys and their types.
pub(crate) fn check_keys(about: &Value) -> Verdict {
    let missing: Vec<&str> = ABOUT_KEYS
        .iter()
        .copied()
        .filter(|k| about.get(*k).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(fail(format!("`--about` JSON lacks {}", missing.join(", "))));
    }
    match about.get("capabilities") {
        Some(Value::Array(c)) if c.iter().all(Value::is_string) => {}
        other => {
            let got = other.map(ToString::to_string).unwrap_or_default();
            return Err(fail(format!(
                "`capabilities` must be a list of strings, got {}",
                json::excerpt(&got)
            )));
        }
    }
    if !about["settings"].is_object() {
        return Err(fail("`settings` must be a JSON Schema object"));
    }
    Ok(())
}

fn settings_schema(context: &Context, _: &CheckInfo) -> Verdict {
    check_settings_schema(&context.about()?["settings"])
}

/// The settings schema is meta-valid and describes an object.
pub(crate) fn check_settings_schema(settings: &Value) -> Verdict {
    let mut schema = settings.clone();
    if let Value::Object(map) = &mut schema {
        map.entry("$schema")
            .or_insert("http://json-schema.org/draft-07/schema#".into());
    }
    let validator = jsonschema::meta::validator_for(&schema)
        .map_err(|e| fail(format!("`settings` has an unknown `$schema`: {e}")))?;
    if let Err(e) = validator.validate(&schema) {
        return Err(fail(format!(
            "`settings` is not a valid JSON Schema: {e} (at `settings{}`)",
            e.schema_path_hint()
        )));
    }
    let object_type = json::types(settings);
    if !object_type.is_empty() && !object_type.contains("object") {
        return Err(fail("`settings` must describe an object (`type: object`)"));
    }
    Ok(())
}

trait PathHint {
    fn schema_path_hint(&self) -> String;
}

impl PathHint for jsonschema::ValidationError<'_> {
    fn schema_path_hint(&self) -> String {
        self.instance_path().as_str().replace('/', ".")
    }
}

fn secrets_marked(context: &Context, _: &CheckInfo) -> Verdict {
    let mut unmarked = Vec::new();
    walk(&context.about()?["settings"], "", &mut unmarked);
    if unmarked.is_empty() {
        Ok(())
    } else {
        Err(fail(format!(
            "secret-like settings not marked `secret: true`/`writeOnly: true`: {}",
            unmarked.join(", ")
        )))
    }
}

fn walk(schema: &Value, prefix: &str, unmarked: &mut Vec<String>) {
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (name, property) in properties {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if looks_secret(name) && !marked(property) {
                unmarked.push(format!("`{path}`"));
            }
            walk(property, &path, unmarked);
        }
    }
    if let Some(items) = schema.get("items") {
        walk(items, &format!("{prefix}[]"), unmarked);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for branch in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk(branch, prefix, unmarked);
        }
    }
}

fn marked(property: &Value) -> bool {
    ["secret", "writeOnly", "sensitive", "airbyte_secret"]
        .iter()
        .any(|k| property.get(*k) == Some(&Value::Bool(true)))
}

/// Whether a setting name looks like it holds a secret: a word such as password, token,
/// secret, credentials, or a `key` qualified as api/private/access/... (not `replication_key`).
pub(crate) fn looks_secret(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if [
        "url", "uri", "endpoint", "type", "method", "path", "file", "name", "expiry", "expires",
    ]
    .contains(&last.as_str())
    {
        return false;
    }
    let secret_word = |w: &String| {
        [
            "password",
            "passwd",
            "passphrase",
            "secret",
            "token",
            "credentials",
            "credential",
            "apikey",
            "jwt",
            "pat",
        ]
        .contains(&w.as_str())
    };
    if words.iter().any(secret_word) {
        return true;
    }
    let qualifiers = [
        "api",
        "access",
        "private",
        "secret",
        "client",
        "auth",
        "signing",
        "encryption",
        "master",
        "account",
        "service",
        "app",
        "license",
        "ssh",
        "sas",
    ];
    words.iter().enumerate().any(|(i, w)| {
        w == "key" && (words.len() == 1 || (i > 0 && qualifiers.contains(&words[i - 1].as_str())))
    })
}

/// Splits `snake_case`, `kebab-case`, `dotted.names` and `camelCase` into lower-case words.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut current));
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    words.push(current);
    words.retain(|w| !w.is_empty());
    words
}

fn version(context: &Context, _: &CheckInfo) -> Verdict {
    let run = context.run(&["--version".into()])?;
    if !run.success() {
        return Err(fail(format!("`--version` failed: {}", run.describe())));
    }
    let text = run.stdout_text();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.as_slice() {
        [_] => Ok(()),
        [] => Err(fail("`--version` printed nothing on stdout")),
        [first, ..] => Err(fail(format!(
            "`--version` printed {} lines on stdout, expected one; first: {}",
            lines.len(),
            json::excerpt(first)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn secret_names() {
        for name in [
            "password",
            "api_key",
            "apiKey",
            "client_secret",
            "access_token",
            "key",
            "credentials",
            "private-key",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "keys",
            "primary_keys",
            "replication_key",
            "key_properties",
            "token_url",
            "username",
            "monkey",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
