//! Replication key values: how they compare (by the key's schema, never as plain strings),
//! and typed values read straight from typed records.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::Value;

use crate::record::{KeyRef, TimeStyle};
use crate::time::parse_datetime;

/// How the values of a replication key compare, decided from its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `format: date-time`: compared as instants.
    DateTime,
    /// `format: date`: compared as dates.
    Date,
    /// `integer` or `number`: compared numerically.
    Number,
    /// Anything else: compared as strings.
    Text,
}

impl KeyKind {
    /// The kind for a property schema.
    ///
    /// ```
    /// use singer_sdk::state::KeyKind;
    /// let schema = serde_json::json!({"type": ["string", "null"], "format": "date-time"});
    /// assert_eq!(KeyKind::from_schema(&schema), KeyKind::DateTime);
    /// ```
    #[must_use]
    pub fn from_schema(schema: &Value) -> Self {
        match crate::schema::format(schema) {
            Some("date-time") => return KeyKind::DateTime,
            Some("date") => return KeyKind::Date,
            _ => {}
        }
        let types = crate::schema::types(schema);
        if !types.is_empty() && types.iter().all(|t| *t == "integer" || *t == "number") {
            KeyKind::Number
        } else {
            KeyKind::Text
        }
    }

    /// Parses a value for comparison; `None` for `null` and for values that do not fit the kind.
    #[must_use]
    pub fn parse(self, value: &Value) -> Option<KeyValue> {
        match (self, value) {
            (_, Value::Null) => None,
            (KeyKind::DateTime | KeyKind::Date, Value::String(s)) => {
                parse_datetime(s).map(KeyValue::Time)
            }
            (KeyKind::Number, Value::String(s)) => s.trim().parse().ok().map(KeyValue::Number),
            (_, Value::Number(n)) => n.as_f64().map(KeyValue::Number),
            (_, Value::String(s)) => Some(KeyValue::Text(s.clone())),
            (_, other) => Some(KeyValue::Text(other.to_string())),
        }
    }

    /// Compares two values of this kind; `None` when either cannot be parsed.
    #[must_use]
    pub fn compare(self, a: &Value, b: &Value) -> Option<Ordering> {
        if let (KeyKind::DateTime | KeyKind::Date, Value::String(a), Value::String(b)) =
            (self, a, b)
        {
            if same_layout(a, b) {
                return Some(a.as_bytes().cmp(b.as_bytes()));
            }
        }
        self.parse(a)?.partial_cmp(&self.parse(b)?)
    }
}

/// Whether two timestamps are written the same way (same separators in the same places, same
/// fraction width, same UTC offset), so that comparing their text compares the instants.
///
/// Replication keys of one source nearly always are; this spares parsing on every record.
fn same_layout(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.len() < 10 {
        return false;
    }
    // The date: YYYY-MM-DD.
    for (i, (x, y)) in a.iter().zip(b).enumerate().take(10) {
        let ok = if i == 4 || i == 7 {
            *x == b'-' && *y == b'-'
        } else {
            x.is_ascii_digit() && y.is_ascii_digit()
        };
        if !ok {
            return false;
        }
    }
    if a.len() == 10 {
        return true;
    }
    // The offset must be textually equal: `Z` or `±HH:MM` (or none at all).
    let offset = |t: &[u8]| -> usize {
        if t.ends_with(b"Z") || t.ends_with(b"z") {
            1
        } else if t.len() >= 6 && matches!(t[t.len() - 6], b'+' | b'-') && t[t.len() - 3] == b':' {
            6
        } else {
            0
        }
    };
    let width = offset(a);
    if width != offset(b) || a[a.len() - width..] != b[b.len() - width..] {
        return false;
    }
    // The time: every other character a digit in both, or the same separator in both.
    a[10..a.len() - width]
        .iter()
        .zip(&b[10..b.len() - width])
        .all(|(x, y)| {
            (x.is_ascii_digit() && y.is_ascii_digit())
                || (x == y && matches!(x, b'T' | b't' | b' ' | b':' | b'.'))
        })
}

/// A parsed replication key value.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum KeyValue {
    /// An instant.
    Time(DateTime<FixedOffset>),
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
}

/// A replication key value taken from a typed record, kept typed: written as JSON (exactly as
/// its Rust type serialises) only when a bookmark is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OwnedKey {
    Time(DateTime<FixedOffset>, TimeStyle),
    Date(NaiveDate),
    Integer(i64),
    Float(f64),
    Text(String),
}

impl OwnedKey {
    /// `None` for a null key.
    pub(crate) fn new(key: KeyRef<'_>) -> Option<Self> {
        Some(match key {
            KeyRef::Null => return None,
            KeyRef::Time(t, style) => OwnedKey::Time(t, style),
            KeyRef::Date(d) => OwnedKey::Date(d),
            KeyRef::Integer(i) => OwnedKey::Integer(i),
            KeyRef::Float(f) => OwnedKey::Float(f),
            KeyRef::Text(t) => OwnedKey::Text(t.to_owned()),
        })
    }

    /// Compares a borrowed key with this one; `None` when they are of different kinds.
    pub(crate) fn cmp_ref(&self, key: &KeyRef<'_>) -> Option<Ordering> {
        match (key, self) {
            (KeyRef::Time(a, _), OwnedKey::Time(b, _)) => Some(a.cmp(b)),
            (KeyRef::Date(a), OwnedKey::Date(b)) => Some(a.cmp(b)),
            (KeyRef::Integer(a), OwnedKey::Integer(b)) => Some(a.cmp(b)),
            (KeyRef::Text(a), OwnedKey::Text(b)) => Some((*a).cmp(b.as_str())),
            (a, b) => number(a)?.partial_cmp(&b.number()?),
        }
    }

    fn number(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)] // compared as JSON numbers are
        match self {
            OwnedKey::Integer(i) => Some(*i as f64),
            OwnedKey::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The value as the record's field serialises it.
    pub(crate) fn to_json(&self) -> Value {
        let json = match self {
            OwnedKey::Time(t, TimeStyle::Utc) => serde_json::to_value(t.with_timezone(&Utc)),
            OwnedKey::Time(t, TimeStyle::Offset) => serde_json::to_value(t),
            OwnedKey::Time(t, TimeStyle::Naive) => serde_json::to_value(t.naive_utc()),
            OwnedKey::Date(d) => serde_json::to_value(d),
            OwnedKey::Integer(i) => return Value::from(*i),
            OwnedKey::Float(f) => return Value::from(*f),
            OwnedKey::Text(t) => return Value::from(t.as_str()),
        };
        json.unwrap_or(Value::Null)
    }
}

/// Compares a borrowed key with a value parsed from state or config.
pub(crate) fn cmp_ref_value(key: &KeyRef<'_>, value: &KeyValue) -> Option<Ordering> {
    match (key, value) {
        (KeyRef::Time(a, _), KeyValue::Time(b)) => Some(a.cmp(b)),
        (KeyRef::Date(a), KeyValue::Time(b)) => {
            let midnight = a.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset();
            Some(midnight.cmp(b))
        }
        (KeyRef::Text(a), KeyValue::Text(b)) => Some((*a).cmp(b.as_str())),
        (a, KeyValue::Number(b)) => number(a)?.partial_cmp(b),
        _ => None,
    }
}

fn number(key: &KeyRef<'_>) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // compared as JSON numbers are
    match key {
        KeyRef::Integer(i) => Some(*i as f64),
        KeyRef::Float(f) => Some(*f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_comparison() {
        let k = KeyKind::DateTime;
        assert_eq!(
            k.compare(
                &json!("2024-01-03T10:00:00"),
                &json!("2024-01-02T00:00:00Z")
            ),
            Some(Ordering::Greater)
        );
        assert_eq!(
            k.compare(&json!("2024-01-02"), &json!("2024-01-02T00:00:00Z")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            KeyKind::Number.compare(&json!("10"), &json!(9.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            KeyKind::Text.compare(&json!("10"), &json!("9")),
            Some(Ordering::Less)
        );
        assert_eq!(k.compare(&json!("garbage"), &json!("2024-01-02")), None);
        // Same layout and offset: compared as text; different offsets: parsed.
        assert_eq!(
            k.compare(
                &json!("2024-01-02T10:00:00.5+05:00"),
                &json!("2024-01-02T09:00:00.1+05:00")
            ),
            Some(Ordering::Greater)
        );
        assert_eq!(
            k.compare(
                &json!("2024-01-02T10:00:00+05:00"),
                &json!("2024-01-02T09:00:00+00:00")
            ),
            Some(Ordering::Less)
        );
        assert_eq!(
            k.compare(
                &json!("2024-01-02T10:00:00Z"),
                &json!("2024-01-0xT09:00:00Z")
            ),
            None
        );
    }
}
