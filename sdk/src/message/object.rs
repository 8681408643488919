//! Reading a RECORD's `record` object: the same [`Value`] `serde_json` builds, faster for
//! records that hold the same keys in the same order as an earlier one (as the records of a
//! stream do). Such a record is built in a copy of that earlier record's *shape* (its keys,
//! with their hashes, in order), filled in place, so no key of it is hashed or inserted; any
//! other record is built key by key in a map allocated at the size the previous record on
//! this thread ended up needing.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Room left for the `_sdc_*` columns a target stamps on a record after reading it.
const METADATA_ROOM: usize = 8;

/// The largest size hint kept, so one very wide record does not make every later record's
/// map that wide.
const MAX_HINT: usize = 256;

/// The most shapes kept per thread: enough for the streams an input interleaves, few enough
/// that looking one up stays cheap.
const MAX_SHAPES: usize = 8;

/// A record's keys in order, each with a null value.
type Shape = Map<String, Value>;

thread_local! {
    /// The field count of the last record object read on this thread, plus room for the
    /// metadata columns.
    static HINT: Cell<usize> = const { Cell::new(0) };
    /// The shapes of the last records read on this thread, most recent first, no two alike.
    static SHAPES: RefCell<Vec<Shape>> = const { RefCell::new(Vec::new()) };
}

/// `deserialize_with` for an optional record object: any JSON value, as `serde_json` reads
/// it, a top-level object presized.
pub(super) fn record<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Value>, D::Error> {
    deserializer.deserialize_any(Any { top: true }).map(Some)
}

/// Builds a [`Value`] exactly as `serde_json`'s own visitor does (duplicate keys keep their
/// first position and their last value); `top` marks the record object itself.
#[derive(Clone, Copy)]
struct Any {
    top: bool,
}

const NESTED: Any = Any { top: false };

impl<'de> DeserializeSeed<'de> for Any {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Any {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(NESTED)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        if self.top {
            return visit_record(access);
        }
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(NESTED)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// Reads a record object: in a copy of a known shape while its keys follow that shape, then
/// key by key, as `serde_json` does (a repeated key keeps its first place and its last
/// value). A record whose keys are not a known shape becomes one.
fn visit_record<'de, A: MapAccess<'de>>(mut access: A) -> Result<Value, A::Error> {
    let Some(first) = access.next_key_seed(KeySeed)? else {
        return Ok(Value::Object(Map::new()));
    };
    let mut pending = Some(first);
    let mut filled = 0;
    let mut map = None;
    // The shapes starting with the first key, tried in turn while the record's keys follow
    // one, the values read so far carried over to the next.
    while let Some(key) = pending.take() {
        let Some(mut shaped) = shape_after(map.as_ref(), filled, &key) else {
            pending = Some(key);
            break;
        };
        if let Some(previous) = map.take() {
            carry(previous, &mut shaped, filled);
        }
        let mut entries = shaped.iter_mut().skip(filled);
        let mut key = Some(key);
        while let Some(next) = key.take() {
            match entries.next() {
                Some((name, slot)) if *name == *next => {
                    *slot = access.next_value_seed(NESTED)?;
                    filled += 1;
                    key = access.next_key_seed(KeySeed)?;
                }
                _ => pending = Some(next),
            }
        }
        map = Some(shaped);
    }
    let mut map = match map {
        // Every key followed the shape: the copy is the record.
        Some(shaped) if pending.is_none() && filled == shaped.len() => {
            return Ok(Value::Object(shaped));
        }
        Some(mut shaped) => {
            keep_first(&mut shaped, filled);
            shaped
        }
        None => Map::with_capacity(HINT.get()),
    };
    if let Some(key) = pending {
        let value = access.next_value_seed(NESTED)?;
        map.insert(key.into_owned(), value);
        while let Some(key) = access.next_key_seed(KeySeed)? {
            let value = access.next_value_seed(NESTED)?;
            map.insert(key.into_owned(), value);
        }
    }
    HINT.set((map.len() + METADATA_ROOM).min(MAX_HINT));
    remember(&map);
    Ok(Value::Object(map))
}

/// A copy of the most recent shape whose keys start as `map`'s first `filled` keys (when
/// `map` is given) and whose next key is `key`.
fn shape_after(map: Option<&Map<String, Value>>, filled: usize, key: &str) -> Option<Shape> {
    SHAPES.with_borrow(|shapes| {
        shapes
            .iter()
            .find(|shape| {
                shape.keys().nth(filled).is_some_and(|k| k == key)
                    && map.is_none_or(|map| shape.keys().take(filled).eq(map.keys().take(filled)))
            })
            .cloned()
    })
}

/// Moves the first `filled` values of `from` into `to`, whose first keys are the same.
fn carry(from: Map<String, Value>, to: &mut Map<String, Value>, filled: usize) {
    for ((_, value), slot) in from.into_iter().zip(to.values_mut()).take(filled) {
        *slot = value;
    }
}

/// Drops every field of `map` after the first `n`.
fn keep_first(map: &mut Map<String, Value>, n: usize) {
    let mut seen = 0;
    map.retain(|_, _| {
        seen += 1;
        seen <= n
    });
}

/// Keeps the shape of `record` as the most recent.
fn remember(record: &Map<String, Value>) {
    if record.is_empty() || record.len() > MAX_HINT {
        return;
    }
    let shape: Shape = record.keys().map(|k| (k.clone(), Value::Null)).collect();
    SHAPES.with_borrow_mut(|shapes| {
        shapes.retain(|known| !known.keys().eq(shape.keys()));
        shapes.insert(0, shape);
        shapes.truncate(MAX_SHAPES);
    });
}

/// Reads a record's key, borrowed from the input where it holds no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(key.to_owned()))
    }

    fn visit_string<E>(self, key: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(key))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What `serde_json` makes of `text` (compact, so key order counts), or its error.
    fn by_serde_json(text: &str) -> Result<String, String> {
        serde_json::from_str::<Value>(text)
            .map(|value| value.to_string())
            .map_err(|e| e.to_string())
    }

    /// What [`record`] makes of `text`, the same way.
    fn by_record(text: &str) -> Result<String, String> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        record(&mut deserializer)
            .and_then(|value| deserializer.end().map(|()| value))
            .map(|value| value.unwrap_or(Value::Null).to_string())
            .map_err(|e| e.to_string())
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-c_]{0,3}", inner), 0..12)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any JSON text, cut anywhere or with a byte changed, reads to the same value (key
        /// order included) or the same error as through `serde_json`, one record after
        /// another on the same thread, whatever size the previous one left as hint.
        #[test]
        fn reads_like_serde_json(values in prop::collection::vec(value(), 1..4), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
            for value in &values {
                let text = value.to_string();
                prop_assert_eq!(by_record(&text), by_serde_json(&text));
                let truncated = &text[..text.floor_char_boundary(cut.index(text.len() + 1))];
                prop_assert_eq!(by_record(truncated), by_serde_json(truncated));
                let mut changed = text.clone().into_bytes();
                let at = cut.index(changed.len());
                changed[at] = byte;
                if let Ok(changed) = std::str::from_utf8(&changed) {
                    prop_assert_eq!(by_record(changed), by_serde_json(changed));
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Records read one after another on a thread, their keys drawn from a few (so they
        /// share shapes, or start like one, stop early, go on, reorder or repeat keys), each
        /// read to the same value (key order included) as through `serde_json`.
        #[test]
        fn records_sharing_keys_read_like_serde_json(
            keys in prop::collection::vec("[a-d]{1,2}", 1..6),
            records in prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..9), 1..16),
            values in prop::collection::vec(value(), 1..5),
        ) {
            for (n, picks) in records.iter().enumerate() {
                let fields: Vec<String> = picks
                    .iter()
                    .enumerate()
                    .map(|(at, pick)| {
                        let key = &keys[pick.index(keys.len())];
                        format!("{}:{}", Value::from(key.as_str()), values[(n + at) % values.len()])
                    })
                    .collect();
                let text = format!("{{{}}}", fields.join(","));
                prop_assert_eq!(by_record(&text), by_serde_json(&text));
            }
        }
    }

    #[test]
    fn records_of_interleaved_streams_keep_their_shapes() {
        let a = r#"{"id":1,"name":"x","at":null}"#;
        let b = r#"{"id":2,"size":3}"#;
        let wider = r#"{"id":1,"name":"x","at":null,"more":[1]}"#;
        let escaped = r#"{"id":1,"na\u006de":"x","at":null}"#;
        for text in [a, b, a, b, wider, a, escaped, a, "{}", b] {
            assert_eq!(by_record(text), by_serde_json(text), "{text}");
        }
        let shapes: Vec<Vec<String>> =
            SHAPES.with_borrow(|s| s.iter().map(|s| s.keys().cloned().collect()).collect());
        assert!(
            shapes.contains(&vec!["id".to_owned(), "size".to_owned()]),
            "{shapes:?}"
        );
        assert!(shapes.len() <= MAX_SHAPES);
    }

    #[test]
    fn duplicate_keys_keep_their_first_place_and_last_value() {
        let text = r#"{"b":1,"a":{"x":1,"x":2},"b":3}"#;
        assert_eq!(by_record(text), by_serde_json(text));
        assert_eq!(by_record(text).unwrap(), r#"{"b":3,"a":{"x":2}}"#);
    }

    #[test]
    fn the_hint_follows_the_last_record_and_is_bounded() {
        let wide: Map<String, Value> = (0..1000).map(|n| (n.to_string(), Value::from(n))).collect();
        by_record(&Value::Object(wide).to_string()).unwrap();
        assert_eq!(HINT.get(), MAX_HINT);
        by_record(r#"{"a":1,"b":2}"#).unwrap();
        assert_eq!(HINT.get(), 2 + METADATA_ROOM);
    }
}
