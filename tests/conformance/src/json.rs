//! JSON helpers shared by the checks: types of a property schema, date-time parsing, typed
//! comparison of replication values, canonical forms for comparing records.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

/// The JSON types a property schema allows (`type` as string or list, through `anyOf`/`oneOf`).
/// Empty when the schema does not say (anything goes).
pub(crate) fn types(schema: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match schema.get("type") {
        Some(Value::String(t)) => {
            out.insert(t.clone());
        }
        Some(Value::Array(list)) => {
            out.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        _ => {}
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = schema.get(key) {
            for branch in branches {
                out.extend(types(branch));
            }
        }
    }
    out
}

/// The `format` of a property schema, looking through `anyOf`/`oneOf` branches.
pub(crate) fn format(schema: &Value) -> Option<&str> {
    if let Some(f) = schema.get("format").and_then(Value::as_str) {
        return Some(f);
    }
    ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_array))
        .flatten()
        .find_map(format)
}

/// The single non-null type of a property, if it has exactly one (`["integer", "null"]` → integer).
pub(crate) fn single_type(schema: &Value) -> Option<String> {
    let types = types(schema);
    let mut non_null = types.iter().filter(|t| *t != "null");
    match (non_null.next(), non_null.next()) {
        (Some(t), None) => Some(t.clone()),
        _ => None,
    }
}

/// Parses an RFC 3339 timestamp (date, `T`, time, offset or `Z`).
pub(crate) fn rfc3339(text: &str) -> Option<DateTime<FixedOffset>> {
    let bytes = text.as_bytes();
    // chrono also takes a space or a lowercase `t` as separator; RFC 3339's grammar does not.
    if bytes.get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(text).ok()
}

/// Parses a date or date-time as leniently as Python's `datetime.fromisoformat` (what the
/// singer-sdk attribute test uses): optional offset, `T` or space separator. Returns the instant,
/// reading naive times as UTC.
pub(crate) fn iso_lenient(text: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    let utc = FixedOffset::east_opt(0)?;
    for pattern in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, pattern) {
            return Some(naive.and_utc().with_timezone(&utc));
        }
    }
    for pattern in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(text, pattern) {
            return Some(t);
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().with_timezone(&utc))
}

/// Compares two replication-key values: numbers numerically, date-times as instants, other
/// strings as text. `None` when they are not comparable (different kinds, nulls).
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => match (iso_lenient(x), iso_lenient(y)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => Some(x.cmp(y)),
        },
        _ => None,
    }
}

/// A record with `_sdc_*` columns removed (volatile metadata such as load times and line numbers).
pub(crate) fn without_sdc(record: &Map<String, Value>) -> Map<String, Value> {
    record
        .iter()
        .filter(|(k, _)| !k.starts_with("_sdc_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `value` with every string that is an RFC 3339 date-time rewritten as the same instant in
/// UTC (`2024-01-02T00:00:00Z`), so that two spellings of one instant compare equal.
pub(crate) fn same_instants(value: &Value) -> Value {
    match value {
        Value::String(text) => rfc3339(text).map_or_else(
            || value.clone(),
            |t| {
                Value::String(
                    t.to_utc()
                        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                )
            },
        ),
        Value::Array(items) => Value::Array(items.iter().map(same_instants).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), same_instants(v)))
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// JSON text with object keys sorted at every level, for order-insensitive equality.
pub(crate) fn canonical(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sort(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

/// Where two JSON values first differ, as `path: left vs right` (`record.info.mood: "sad" vs
/// "happy"`, `record.id: missing vs 3`); `None` when they are equal. Object key order does not
/// matter.
pub(crate) fn first_difference(left: &Value, right: &Value) -> Option<String> {
    fn walk(left: Option<&Value>, right: Option<&Value>, path: &str) -> Option<String> {
        let show = |v: Option<&Value>| match v {
            None => "missing".to_owned(),
            Some(v) => excerpt(&v.to_string()),
        };
        let join = |key: &str| {
            if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            }
        };
        match (left, right) {
            (Some(l), Some(r)) if l == r => None,
            (Some(Value::Object(l)), Some(Value::Object(r))) => l
                .iter()
                .find_map(|(k, v)| walk(Some(v), r.get(k), &join(k)))
                .or_else(|| {
                    r.iter()
                        .filter(|(k, _)| !l.contains_key(*k))
                        .find_map(|(k, v)| walk(None, Some(v), &join(k)))
                }),
            (Some(Value::Array(l)), Some(Value::Array(r))) if l.len() == r.len() => l
                .iter()
                .zip(r)
                .enumerate()
                .find_map(|(i, (a, b))| walk(Some(a), Some(b), &join(&i.to_string()))),
            _ => {
                let at = if path.is_empty() { "the message" } else { path };
                Some(format!("`{at}`: {} vs {}", show(left), show(right)))
            }
        }
    }
    walk(Some(left), Some(right), "")
}

/// The first `NaN`, `Infinity` or `-Infinity` token outside JSON strings: not JSON, but some
/// serialisers emit them.
pub(crate) fn non_finite_token(line: &str) -> Option<&'static str> {
    let bytes = line.as_bytes();
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'N' if bytes[i..].starts_with(b"NaN") => return Some("NaN"),
            b'I' if bytes[i..].starts_with(b"Infinity") => return Some("Infinity"),
            _ => {}
        }
    }
    None
}

/// A short excerpt of a line for messages.
pub(crate) fn excerpt(text: &str) -> String {
    let head: String = text.chars().take(120).collect();
    if head.len() < text.len() {
        format!("`{head}…`")
    } else {
        format!("`{head}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_instant_spelt_two_ways_is_one_value() {
        let a = json!({"t": "2024-01-02T00:00:00.000000+00:00", "n": [{"u": "2024-01-02T01:00:00+01:00"}]});
        let b = json!({"t": "2024-01-02T00:00:00+00:00", "n": [{"u": "2024-01-02T00:00:00Z"}]});
        assert_eq!(same_instants(&a), same_instants(&b));
        assert_eq!(same_instants(&a)["t"], "2024-01-02T00:00:00Z");
        // Not date-times, or another instant: left as they are.
        let c = json!({"t": "2024-01-02 00:00:00+00:00", "x": "person 1", "y": 3});
        assert_eq!(same_instants(&c), c);
        assert_ne!(
            same_instants(&json!("2024-01-02T00:00:01Z")),
            same_instants(&json!("2024-01-02T00:00:00Z"))
        );
    }

    #[test]
    fn types_and_formats() {
        let schema =
            json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]});
        assert_eq!(single_type(&schema).as_deref(), Some("string"));
        assert_eq!(format(&schema), Some("date-time"));
        assert_eq!(single_type(&json!({"type": ["integer", "string"]})), None);
    }

    #[test]
    fn dates() {
        assert!(rfc3339("2024-01-01T00:00:00Z").is_some());
        assert!(rfc3339("2024-01-01 00:00:00Z").is_none());
        assert!(rfc3339("2024-01-01T00:00:00").is_none());
        assert!(iso_lenient("2024-01-01 10:00:00").is_some());
        assert!(iso_lenient("2024-01-01").is_some());
        assert!(iso_lenient("soon").is_none());
        let (a, b) = (
            json!("2024-01-01T00:00:00+01:00"),
            json!("2023-12-31T23:30:00Z"),
        );
        assert_eq!(compare(&a, &b), Some(Ordering::Less));
        assert_eq!(compare(&json!(2), &json!(10)), Some(Ordering::Less));
    }

    #[test]
    fn nan_outside_strings_only() {
        assert_eq!(non_finite_token(r#"{"a":NaN}"#), Some("NaN"));
        assert_eq!(non_finite_token(r#"{"a":-Infinity}"#), Some("Infinity"));
        assert_eq!(non_finite_token(r#"{"a":"NaN \" Infinity"}"#), None);
    }

    #[test]
    fn differences_name_the_path() {
        let a = json!({"type": "RECORD", "record": {"id": 1, "tags": ["x", "y"]}});
        assert_eq!(first_difference(&a, &a.clone()), None);
        let b = json!({"record": {"tags": ["x", "z"], "id": 1}, "type": "RECORD"});
        assert_eq!(
            first_difference(&a, &b).as_deref(),
            Some("`record.tags.1`: `\"y\"` vs `\"z\"`")
        );
        let c = json!({"type": "RECORD", "record": {"id": 1, "tags": ["x", "y"], "extra": 2}});
        assert_eq!(
            first_difference(&a, &c).as_deref(),
            Some("`record.extra`: missing vs `2`")
        );
        assert_eq!(
            first_difference(&json!(1), &json!("1")).as_deref(),
            Some("`the message`: `1` vs `\"1\"`")
        );
    }

    #[test]
    fn canonical_ignores_key_order() {
        assert_eq!(
            canonical(&json!({"b": 1, "a": {"d": 2, "c": 3}})),
            canonical(&json!({"a": {"c": 3, "d": 2}, "b": 1}))
        );
    }
}
