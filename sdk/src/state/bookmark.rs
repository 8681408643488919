//! A stream's (or partition's) bookmark, typed, and the rules that move it during a sync:
//! where to start, progress markers for unsorted streams, signposts, and finalisation.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::key::{KeyKind, KeyValue, OwnedKey, cmp_ref_value};
use super::keys;
use crate::record::KeyRef;

/// One bookmark object of the state, as singer-sdk writes it.
///
/// ```
/// use serde_json::json;
/// use singer_sdk::state::Bookmark;
///
/// let map = json!({"replication_key": "updated_at", "replication_key_value": "2024-05-01", "x": 1});
/// let bookmark = Bookmark::from_map(map.as_object().unwrap().clone());
/// assert_eq!(bookmark.replication_key.as_deref(), Some("updated_at"));
/// assert_eq!(bookmark.to_map(None)["x"], 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bookmark {
    /// The property the bookmark is on.
    pub replication_key: Option<String>,
    /// The newest value synced (resumable).
    pub replication_key_value: Option<Value>,
    /// The upper bound captured when an unsorted stream's sync started.
    pub signpost: Option<Value>,
    /// Where the sync under way started.
    pub starting_value: Option<Value>,
    /// The progress of an unsorted stream's sync under way (not resumable).
    pub progress_markers: Option<ProgressMarkers>,
    /// Other keys, kept as they were.
    pub extra: Map<String, Value>,
}

/// `progress_markers`: how far an unsorted stream got, noted but not resumable.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressMarkers {
    /// The property.
    pub replication_key: String,
    /// The newest value seen so far.
    pub replication_key_value: Value,
}

impl Bookmark {
    /// Reads a bookmark object; its `context` (if any) is dropped.
    #[must_use]
    pub fn from_map(mut map: Map<String, Value>) -> Self {
        map.shift_remove(keys::CONTEXT);
        let replication_key = match map.shift_remove(keys::REPLICATION_KEY) {
            Some(Value::String(key)) => Some(key),
            Some(other) => {
                map.insert(keys::REPLICATION_KEY.to_owned(), other);
                None
            }
            None => None,
        };
        let progress_markers = match map.shift_remove(keys::PROGRESS_MARKERS) {
            Some(Value::Object(mut markers)) => {
                match (
                    markers.shift_remove(keys::REPLICATION_KEY),
                    markers.shift_remove(keys::REPLICATION_KEY_VALUE),
                ) {
                    (Some(Value::String(key)), Some(value)) => Some(ProgressMarkers {
                        replication_key: key,
                        replication_key_value: value,
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        Bookmark {
            replication_key,
            replication_key_value: map.shift_remove(keys::REPLICATION_KEY_VALUE),
            signpost: map.shift_remove(keys::SIGNPOST),
            starting_value: map.shift_remove(keys::STARTING_VALUE),
            progress_markers,
            extra: map,
        }
    }

    /// The bookmark object, with `context` first when the bookmark is a partition's.
    #[must_use]
    pub fn to_map(&self, context: Option<&Map<String, Value>>) -> Map<String, Value> {
        let mut map = Map::new();
        if let Some(context) = context {
            map.insert(keys::CONTEXT.to_owned(), Value::Object(context.clone()));
        }
        if let Some(key) = &self.replication_key {
            map.insert(keys::REPLICATION_KEY.to_owned(), Value::from(key.as_str()));
        }
        if let Some(value) = &self.replication_key_value {
            map.insert(keys::REPLICATION_KEY_VALUE.to_owned(), value.clone());
        }
        if let Some(signpost) = &self.signpost {
            map.insert(keys::SIGNPOST.to_owned(), signpost.clone());
        }
        if let Some(starting) = &self.starting_value {
            map.insert(keys::STARTING_VALUE.to_owned(), starting.clone());
        }
        if let Some(progress) = &self.progress_markers {
            let mut markers = Map::new();
            markers.insert(
                keys::PROGRESS_NOTE.to_owned(),
                Value::from(keys::PROGRESS_NOTE_TEXT),
            );
            markers.insert(
                keys::REPLICATION_KEY.to_owned(),
                Value::from(progress.replication_key.as_str()),
            );
            markers.insert(
                keys::REPLICATION_KEY_VALUE.to_owned(),
                progress.replication_key_value.clone(),
            );
            map.insert(keys::PROGRESS_MARKERS.to_owned(), Value::Object(markers));
        }
        map.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        map
    }

    /// The resumable value of this bookmark for `key`: its `replication_key_value` when the
    /// bookmark is on that key and not null.
    #[must_use]
    pub fn value_for(&self, key: &str) -> Option<&Value> {
        (self.replication_key.as_deref() == Some(key))
            .then_some(self.replication_key_value.as_ref())
            .flatten()
            .filter(|v| !v.is_null())
    }
}

/// Why a record's replication key value could not be taken into account.
#[derive(Debug)]
pub(crate) enum Observation {
    /// The value (as JSON text) does not fit the key's kind.
    Invalid(String),
    /// A sorted stream went backwards: (previous, current).
    Backwards(String, String),
}

/// The bookkeeping of one partition's bookmark while it syncs.
#[derive(Debug)]
pub(crate) struct Tracker {
    pub(crate) bookmark: Bookmark,
    key: Option<String>,
    kind: KeyKind,
    sorted: bool,
    starting: Option<(Value, KeyValue)>,
    max: Option<Max>,
}

/// The newest value seen: as JSON (dynamic records) or typed (typed records).
#[derive(Debug)]
enum Max {
    Json(Value),
    Typed(OwnedKey),
}

impl Tracker {
    /// Starts a partition from its stored bookmark. For an incremental stream, the start is
    /// the bookmark's value on `key`, raised to `start_date` when that is later; `signpost`
    /// caps an unsorted stream's final bookmark.
    pub(crate) fn start(
        stored: Bookmark,
        key: Option<&str>,
        kind: KeyKind,
        sorted: bool,
        start_date: Option<&Value>,
        signpost: Option<Value>,
    ) -> Self {
        let mut tracker = Tracker {
            bookmark: stored,
            key: key.map(str::to_owned),
            kind,
            sorted,
            starting: None,
            max: None,
        };
        let Some(key) = key else {
            return tracker;
        };
        let mut starting = tracker.bookmark.value_for(key).cloned();
        if let Some(start_date) = start_date {
            let later = match &starting {
                None => true,
                Some(current) => kind.compare(start_date, current) == Some(Ordering::Greater),
            };
            if later && kind.parse(start_date).is_some() {
                starting = Some(start_date.clone());
            }
        }
        tracker.starting = starting
            .clone()
            .and_then(|v| kind.parse(&v).map(|parsed| (v, parsed)));
        tracker.bookmark.signpost = signpost;
        tracker.bookmark.starting_value = Some(starting.unwrap_or(Value::Null));
        tracker
    }

    /// Where this sync starts, if anywhere.
    pub(crate) fn starting_value(&self) -> Option<&Value> {
        self.bookmark
            .starting_value
            .as_ref()
            .filter(|v| !v.is_null())
    }

    /// Takes a record's key value (JSON) into account; `false` when the record is older
    /// than the start and must be skipped.
    pub(crate) fn observe_json(&mut self, raw: Value) -> Result<bool, Observation> {
        if raw.is_null() {
            return Ok(true);
        }
        let kind = self.kind;
        let invalid = |raw: &Value| Observation::Invalid(raw.to_string());
        if let Some((start, _)) = &self.starting {
            match kind.compare(&raw, start) {
                Some(Ordering::Less) => return Ok(false),
                Some(_) => {}
                None => return Err(invalid(&raw)),
            }
        }
        let order = match &self.max {
            None if kind.parse(&raw).is_none() => return Err(invalid(&raw)),
            None => Ordering::Greater,
            Some(Max::Json(max)) => kind.compare(&raw, max).ok_or_else(|| invalid(&raw))?,
            Some(Max::Typed(_)) => return Err(invalid(&raw)),
        };
        self.advance(order, || Max::Json(raw))
    }

    /// Takes a typed record's key value into account, without parsing or formatting.
    pub(crate) fn observe_typed(&mut self, key: KeyRef<'_>) -> Result<bool, Observation> {
        match key {
            KeyRef::Null => return Ok(true),
            // Text keys of date-time or number properties are compared as what they hold.
            KeyRef::Text(text) if self.kind != KeyKind::Text => {
                return self.observe_json(Value::from(text));
            }
            _ => {}
        }
        let invalid = |key: KeyRef<'_>| {
            Observation::Invalid(
                OwnedKey::new(key)
                    .map_or(Value::Null, |k| k.to_json())
                    .to_string(),
            )
        };
        if let Some((_, start)) = &self.starting {
            match cmp_ref_value(&key, start) {
                Some(Ordering::Less) => return Ok(false),
                Some(_) => {}
                None => return Err(invalid(key)),
            }
        }
        let order = match &self.max {
            None => Ordering::Greater,
            Some(Max::Typed(max)) => max.cmp_ref(&key).ok_or_else(|| invalid(key))?,
            Some(Max::Json(_)) => return Err(invalid(key)),
        };
        self.advance(order, || {
            Max::Typed(OwnedKey::new(key).expect("null keys returned above"))
        })
    }

    fn advance(&mut self, order: Ordering, new: impl FnOnce() -> Max) -> Result<bool, Observation> {
        match order {
            Ordering::Less if self.sorted => Err(Observation::Backwards(
                self.max_json().map(|v| v.to_string()).unwrap_or_default(),
                match new() {
                    Max::Json(v) => v.to_string(),
                    Max::Typed(k) => k.to_json().to_string(),
                },
            )),
            Ordering::Less => Ok(true),
            _ => {
                self.max = Some(new());
                Ok(true)
            }
        }
    }

    fn max_json(&self) -> Option<Value> {
        match &self.max {
            None => None,
            Some(Max::Json(v)) => Some(v.clone()),
            Some(Max::Typed(k)) => Some(k.to_json()),
        }
    }

    /// The bookmark mid-sync: sorted streams advance the bookmark itself, unsorted ones keep
    /// `progress_markers` (not resumable, as in singer-sdk).
    pub(crate) fn progress(&self) -> Bookmark {
        let mut bookmark = self.bookmark.clone();
        if let (Some(key), Some(value)) = (&self.key, self.max_json()) {
            if self.sorted {
                bookmark.replication_key = Some(key.clone());
                bookmark.replication_key_value = Some(value);
            } else {
                bookmark.progress_markers = Some(ProgressMarkers {
                    replication_key: key.clone(),
                    replication_key_value: value,
                });
            }
        }
        bookmark
    }

    /// The bookmark at the end of the partition: progress promoted, capped by the signpost.
    pub(crate) fn finalize(&self) -> Bookmark {
        let mut bookmark = self.bookmark.clone();
        bookmark.signpost = None;
        bookmark.starting_value = None;
        bookmark.progress_markers = None;
        if let (Some(key), Some(mut value)) = (&self.key, self.max_json()) {
            if !self.sorted {
                if let Some(signpost) = &self.bookmark.signpost {
                    if self.kind.compare(&value, signpost) == Some(Ordering::Greater) {
                        value = signpost.clone();
                    }
                }
            }
            bookmark.replication_key = Some(key.clone());
            bookmark.replication_key_value = Some(value);
        }
        bookmark
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::TimeStyle;
    use serde_json::json;

    fn time(text: &str) -> KeyRef<'static> {
        KeyRef::Time(
            chrono::DateTime::parse_from_rfc3339(text).unwrap(),
            TimeStyle::Utc,
        )
    }

    #[test]
    fn round_trips_and_keeps_unknown_keys() {
        let map = json!({"context": {"a": 1}, "replication_key": "k", "replication_key_value": 3,
            "progress_markers": {"Note": "x", "replication_key": "k", "replication_key_value": 4}, "other": true});
        let bookmark = Bookmark::from_map(map.as_object().unwrap().clone());
        assert_eq!(
            bookmark
                .progress_markers
                .as_ref()
                .unwrap()
                .replication_key_value,
            4
        );
        let back = bookmark.to_map(Some(json!({"a": 1}).as_object().unwrap()));
        assert_eq!(back["other"], true);
        assert_eq!(back["context"], json!({"a": 1}));
        assert_eq!(back["progress_markers"]["Note"], keys::PROGRESS_NOTE_TEXT);
    }

    #[test]
    fn typed_and_json_trackers_agree() {
        let stored = Bookmark {
            replication_key: Some("t".into()),
            replication_key_value: Some(json!("2024-01-02T00:00:00Z")),
            ..Bookmark::default()
        };
        let mut typed = Tracker::start(
            stored.clone(),
            Some("t"),
            KeyKind::DateTime,
            true,
            None,
            None,
        );
        let mut json = Tracker::start(stored, Some("t"), KeyKind::DateTime, true, None, None);
        for text in [
            "2024-01-01T00:00:00Z",
            "2024-01-02T00:00:00Z",
            "2024-01-03T00:00:00Z",
        ] {
            let a = typed.observe_typed(time(text)).unwrap();
            let b = json.observe_json(json!(text)).unwrap();
            assert_eq!(a, b, "{text}");
        }
        assert_eq!(
            typed.finalize().replication_key_value,
            Some(json!("2024-01-03T00:00:00Z"))
        );
        assert_eq!(typed.finalize(), json.finalize());
        assert!(matches!(
            typed.observe_typed(time("2024-01-02T12:00:00Z")),
            Err(Observation::Backwards(..))
        ));
    }

    #[test]
    fn unsorted_streams_keep_progress_markers_and_cap_at_the_signpost() {
        let mut tracker = Tracker::start(
            Bookmark::default(),
            Some("n"),
            KeyKind::Number,
            false,
            None,
            Some(json!(5)),
        );
        for n in [3, 9, 1] {
            assert!(tracker.observe_typed(KeyRef::Integer(n)).unwrap());
        }
        let progress = tracker.progress();
        assert_eq!(progress.progress_markers.unwrap().replication_key_value, 9);
        assert_eq!(progress.replication_key_value, None);
        assert_eq!(tracker.finalize().replication_key_value, Some(json!(5)));
    }
}
