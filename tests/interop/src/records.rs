//! Reading what targets wrote and comparing records across connectors, after normalising the
//! representation differences that do not change a value:
//!
//! | difference | example | normalised to |
//! |---|---|---|
//! | key and column order | Python's `dict` order vs the schema's | records compared as sorted maps |
//! | number formatting | `5`, `5.0`, `5.00` | the same `f64` |
//! | boolean spelling in CSV | `True` (Python `str(bool)`) vs `true` | JSON `true`/`false` |
//! | date-time spelling | `2024-01-01T09:00:00Z`, `2024-01-01T09:00:00+00:00`, `2024-01-01 11:00:00+02:00`, `.250` vs `.250000` | the UTC instant, RFC 3339 with microseconds |
//! | null in CSV | an empty cell | `null` (for non-string columns) |
//!
//! Which columns are numbers, booleans or date-times is given by the caller ([`Kind`]), so a
//! string that looks like a number is still compared as text.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// How the values of one column are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text, compared as is.
    String,
    /// An integer or a number, compared as `f64`.
    Number,
    /// `true`/`false` (any case in CSV).
    Boolean,
    /// An RFC 3339 / ISO 8601 date-time, compared as a UTC instant.
    DateTime,
}

/// A record as written by a target: column name → value.
pub type Record = Map<String, Value>;

/// The records of a JSON Lines file.
///
/// # Panics
/// When the file cannot be read or a line is not a JSON object.
#[must_use]
pub fn read_jsonl(path: &Path) -> Vec<Record> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| match serde_json::from_str(line) {
            Ok(Value::Object(record)) => record,
            other => panic!("{}: not a JSON object: {line} ({other:?})", path.display()),
        })
        .collect()
}

/// The rows of a CSV file with a header, as records of strings.
///
/// # Panics
/// When the file cannot be read or parsed.
#[must_use]
pub fn read_csv(path: &Path) -> Vec<Record> {
    let mut reader = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let header = reader
        .headers()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .clone();
    reader
        .records()
        .map(|row| {
            let row = row.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            header
                .iter()
                .zip(row.iter())
                .map(|(name, cell)| (name.to_owned(), Value::from(cell)))
                .collect()
        })
        .collect()
}

/// Records normalised (see the module docs), each as one canonical JSON text, sorted: two
/// outputs hold the same records exactly when these are equal. Columns for which `keep`
/// says `false` are left out; `kind` tells how to compare each column.
#[must_use]
pub fn canonical(
    records: &[Record],
    kind: impl Fn(&str) -> Kind,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut out: Vec<String> = records
        .iter()
        .map(|record| {
            let normalised: BTreeMap<&str, Value> = record
                .iter()
                .filter(|(name, _)| keep(name))
                .map(|(name, value)| (name.as_str(), normalise(kind(name), value)))
                .collect();
            serde_json::to_string(&normalised).unwrap_or_default()
        })
        .collect();
    out.sort();
    out
}

/// One value normalised; CSV cells arrive as strings and are typed by `kind` here.
#[must_use]
pub fn normalise(kind: Kind, value: &Value) -> Value {
    match (kind, value) {
        (_, Value::Null) => Value::Null,
        (Kind::String, v) => v.clone(),
        (_, Value::String(s)) if s.is_empty() => Value::Null,
        (Kind::Number, Value::Number(n)) => n.as_f64().map_or(Value::Null, Value::from),
        (Kind::Number, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map_or_else(|_| value.clone(), Value::from),
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        (Kind::DateTime, Value::String(s)) => instant(s).map_or_else(|| value.clone(), Value::from),
        (_, v) => v.clone(),
    }
}

/// A date-time string as a UTC instant in one spelling; `None` when it is not a date-time.
#[must_use]
pub fn instant(text: &str) -> Option<String> {
    let text = text.trim();
    let parsed = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
                .ok()
                .map(|t| t.and_utc())
        })?;
    Some(parsed.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// Asserts two outputs hold the same records, naming both and showing the records that
/// differ.
///
/// # Panics
/// When they differ.
pub fn assert_same(left_name: &str, left: &[String], right_name: &str, right: &[String]) {
    if left == right {
        return;
    }
    let only_left: Vec<&String> = left.iter().filter(|r| !right.contains(r)).collect();
    let only_right: Vec<&String> = right.iter().filter(|r| !left.contains(r)).collect();
    panic!(
        "{left_name} ({} records) and {right_name} ({} records) differ.\nonly in {left_name}:\n  {}\nonly in {right_name}:\n  {}",
        left.len(),
        right.len(),
        join(&only_left),
        join(&only_right)
    );
}

fn join(records: &[&String]) -> String {
    records
        .iter()
        .take(10)
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// A YAML document as JSON (mappings keep their order; keys are strings).
///
/// # Panics
/// When `text` is not one YAML document.
#[must_use]
pub fn yaml_to_json(text: &str) -> Value {
    let docs = yaml_rust2::YamlLoader::load_from_str(text)
        .unwrap_or_else(|e| panic!("not YAML ({e}):\n{text}"));
    docs.first().map(yaml_value).unwrap_or(Value::Null)
}

fn yaml_value(yaml: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Real(text) => text.parse::<f64>().map_or(Value::Null, Value::from),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::from(s.as_str()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_value).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    (key, yaml_value(v))
                })
                .collect(),
        ),
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Kind, canonical, instant, normalise};

    #[test]
    fn date_times_in_every_spelling_are_one_instant() {
        let want = Some("2024-01-01T09:00:00.250000Z".to_owned());
        for text in [
            "2024-01-01T09:00:00.25Z",
            "2024-01-01T09:00:00.250000+00:00",
            "2024-01-01 11:00:00.250+02:00",
            "2024-01-01 09:00:00.250000",
        ] {
            assert_eq!(instant(text), want, "{text}");
        }
        assert_eq!(instant("not a date"), None);
    }

    #[test]
    fn csv_cells_compare_like_json_values() {
        assert_eq!(
            normalise(Kind::Number, &json!("5.00")),
            normalise(Kind::Number, &json!(5))
        );
        assert_eq!(normalise(Kind::Boolean, &json!("True")), json!(true));
        assert_eq!(normalise(Kind::Number, &json!("")), json!(null));
        assert_eq!(normalise(Kind::String, &json!("")), json!(""));
        assert_eq!(normalise(Kind::String, &json!("007")), json!("007"));
        let kind = |name: &str| {
            if name == "n" {
                Kind::Number
            } else {
                Kind::String
            }
        };
        let a = canonical(
            &[json!({"s": "x", "n": 1.5})
                .as_object()
                .cloned()
                .unwrap_or_default()],
            kind,
            |_| true,
        );
        let b = canonical(
            &[json!({"n": "1.50", "s": "x", "_sdc": 1})
                .as_object()
                .cloned()
                .unwrap_or_default()],
            kind,
            |name| !name.starts_with("_sdc"),
        );
        assert_eq!(a, b);
    }
}
