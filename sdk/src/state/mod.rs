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

use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub(crate) mod bookmark;
mod key;

pub(crate) use bookmark::Tracker;
pub use bookmark::{Bookmark, ProgressMarkers};
pub use key::{KeyKind, KeyValue};

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
}
