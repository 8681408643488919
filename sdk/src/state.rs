//! State: the bookmarks a tap writes in STATE messages and reads back with `--state`.
//!
//! The document has the singer-sdk shape, so state moves freely between Python and Rust taps:
//!
//! ```json
//! {"bookmarks": {
//!   "orders": {"replication_key": "updated_at", "replication_key_value": "2024-05-01T00:00:00Z"},
//!   "items": {"partitions": [{"context": {"order_id": 1}, "replication_key": "id", "replication_key_value": 9}]}
//! }}
//! ```
//!
//! Replication key values compare by type, never as plain strings: date-times are parsed
//! (offsets honoured), numbers compare numerically.
//!
//! ```
//! use serde_json::json;
//! use singer_sdk::state::KeyKind;
//! use std::cmp::Ordering;
//!
//! // As strings "2024-01-03T10:00:00+05:00" > "2024-01-03T06:00:00Z"; as instants it is earlier.
//! let a = json!("2024-01-03T10:00:00+05:00");
//! let b = json!("2024-01-03T06:00:00Z");
//! assert_eq!(KeyKind::DateTime.compare(&a, &b), Some(Ordering::Less));
//! assert_eq!(KeyKind::Number.compare(&json!(9), &json!(10)), Some(Ordering::Less));
//! ```

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::time::parse_datetime;

/// State keys, as singer-sdk spells them.
pub mod keys {
    /// Top-level object of per-stream bookmarks.
    pub const BOOKMARKS: &str = "bookmarks";
    /// Per-partition bookmarks of a stream.
    pub const PARTITIONS: &str = "partitions";
    /// The context identifying a partition.
    pub const CONTEXT: &str = "context";
    /// The property the bookmark is on.
    pub const REPLICATION_KEY: &str = "replication_key";
    /// The bookmark.
    pub const REPLICATION_KEY_VALUE: &str = "replication_key_value";
    /// Upper bound captured at sync start (unsorted streams).
    pub const SIGNPOST: &str = "replication_key_signpost";
    /// The value the current sync started from.
    pub const STARTING_VALUE: &str = "starting_replication_value";
    /// Progress of an unsorted stream, not resumable until promoted.
    pub const PROGRESS_MARKERS: &str = "progress_markers";
    /// The note singer-sdk puts in progress markers.
    pub const PROGRESS_NOTE: &str = "Note";
    /// Its text.
    pub const PROGRESS_NOTE_TEXT: &str = "Progress is not resumable if interrupted.";
}

/// The whole state document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    bookmarks: Map<String, Value>,
}

impl State {
    /// An empty state.
    #[must_use]
    pub fn new() -> Self {
        State::default()
    }

    /// Reads a state document. Only `bookmarks` is kept (as singer-sdk does); a `null` or empty
    /// document is an empty state. Meltano sometimes hands the whole STATE message: a document
    /// with `"type": "STATE"` and a `value` is unwrapped.
    ///
    /// # Errors
    /// [`Error::State`] when the document or its `bookmarks` is not an object, or a stream's
    /// bookmark is not an object.
    pub fn from_value(value: Value) -> Result<Self> {
        let mut map = match value {
            Value::Null => return Ok(State::new()),
            Value::Object(map) => map,
            other => {
                return Err(Error::State(format!(
                    "expected a JSON object with `bookmarks`, found {}",
                    kind(&other)
                )));
            }
        };
        if map.get("type").and_then(Value::as_str) == Some("STATE") {
            if let Some(inner) = map.remove("value") {
                return State::from_value(inner);
            }
        }
        let bookmarks = match map.remove(keys::BOOKMARKS) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(bookmarks)) => bookmarks,
            Some(other) => {
                return Err(Error::State(format!(
                    "`bookmarks` must be an object keyed by stream, found {}",
                    kind(&other)
                )));
            }
        };
        for (stream, bookmark) in &bookmarks {
            if !bookmark.is_object() {
                return Err(Error::State(format!(
                    "bookmark of stream `{stream}` must be an object, found {}",
                    kind(bookmark)
                )));
            }
            if let Some(partitions) = bookmark.get(keys::PARTITIONS) {
                let ok = partitions.as_array().is_some_and(|p| {
                    p.iter()
                        .all(|p| p.get(keys::CONTEXT).is_some_and(Value::is_object))
                });
                if !ok {
                    return Err(Error::State(format!(
                        "`partitions` of stream `{stream}` must be a list of objects with a `context` object"
                    )));
                }
            }
        }
        Ok(State { bookmarks })
    }

    /// Whether no stream has a bookmark.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bookmarks.is_empty()
    }

    /// The document: `{"bookmarks": {...}}`.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            keys::BOOKMARKS.to_owned(),
            Value::Object(self.bookmarks.clone()),
        );
        Value::Object(map)
    }

    /// The bookmarks of a stream, if it has any.
    #[must_use]
    pub fn stream(&self, tap_stream_id: &str) -> Option<&Map<String, Value>> {
        self.bookmarks.get(tap_stream_id).and_then(Value::as_object)
    }

    /// The bookmarks of a stream, created empty when missing.
    pub fn stream_mut(&mut self, tap_stream_id: &str) -> &mut Map<String, Value> {
        let entry = self
            .bookmarks
            .entry(tap_stream_id)
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry {
            Value::Object(map) => map,
            _ => unreachable!("just made an object"),
        }
    }

    /// The bookmark object of a stream (`context` = `None`) or of one of its partitions.
    #[must_use]
    pub fn bookmark(
        &self,
        tap_stream_id: &str,
        context: Option<&Map<String, Value>>,
    ) -> Option<&Map<String, Value>> {
        let stream = self.stream(tap_stream_id)?;
        match context {
            None => Some(stream),
            Some(context) => stream
                .get(keys::PARTITIONS)?
                .as_array()?
                .iter()
                .filter_map(Value::as_object)
                .find(|p| p.get(keys::CONTEXT).and_then(Value::as_object) == Some(context)),
        }
    }

    /// The bookmark object of a stream or partition, created when missing.
    pub fn bookmark_mut(
        &mut self,
        tap_stream_id: &str,
        context: Option<&Map<String, Value>>,
    ) -> &mut Map<String, Value> {
        let stream = self.stream_mut(tap_stream_id);
        let Some(context) = context else {
            return stream;
        };
        let partitions = stream
            .entry(keys::PARTITIONS)
            .or_insert_with(|| Value::Array(Vec::new()));
        if !partitions.is_array() {
            *partitions = Value::Array(Vec::new());
        }
        let Value::Array(partitions) = partitions else {
            unreachable!("just made an array")
        };
        let position = partitions
            .iter()
            .position(|p| p.get(keys::CONTEXT).and_then(Value::as_object) == Some(context));
        let index = position.unwrap_or_else(|| {
            let mut partition = Map::new();
            partition.insert(keys::CONTEXT.to_owned(), Value::Object(context.clone()));
            partitions.push(Value::Object(partition));
            partitions.len() - 1
        });
        match &mut partitions[index] {
            Value::Object(map) => map,
            _ => unreachable!("partitions are objects"),
        }
    }

    /// The contexts of the partitions stored for a stream.
    #[must_use]
    pub fn partitions(&self, tap_stream_id: &str) -> Vec<Map<String, Value>> {
        self.stream(tap_stream_id)
            .and_then(|s| s.get(keys::PARTITIONS))
            .and_then(Value::as_array)
            .map(|p| {
                p.iter()
                    .filter_map(|p| p.get(keys::CONTEXT).and_then(Value::as_object).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

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

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_bookmarks_and_unwraps_messages() {
        let s = State::from_value(json!({"bookmarks": {"a": {"x": 1}}, "currently_syncing": "a"}))
            .unwrap();
        assert_eq!(s.to_value(), json!({"bookmarks": {"a": {"x": 1}}}));
        let s =
            State::from_value(json!({"type": "STATE", "value": {"bookmarks": {"b": {}}}})).unwrap();
        assert!(s.stream("b").is_some());
        assert!(State::from_value(json!(null)).unwrap().is_empty());
    }

    #[test]
    fn rejects_wrong_shapes() {
        for bad in [
            json!([1]),
            json!({"bookmarks": 3}),
            json!({"bookmarks": {"a": 1}}),
            json!({"bookmarks": {"a": {"partitions": [1]}}}),
        ] {
            let err = State::from_value(bad).unwrap_err().to_string();
            assert!(err.starts_with("state: "), "{err}");
        }
    }

    #[test]
    fn partitions_match_context_exactly() {
        let mut s = State::new();
        let ctx = json!({"pid": 1}).as_object().unwrap().clone();
        s.bookmark_mut("child", Some(&ctx))
            .insert("replication_key_value".into(), json!(3));
        assert_eq!(
            s.bookmark("child", Some(&ctx)).unwrap()["replication_key_value"],
            3
        );
        let other = json!({"pid": 2}).as_object().unwrap().clone();
        assert!(s.bookmark("child", Some(&other)).is_none());
        assert_eq!(s.partitions("child"), vec![ctx]);
    }

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
