//! Reading a RECORD's `record` object: the same [`Value`] `serde_json` builds, with the
//! top-level map allocated once at the size the previous record on this thread ended up
//! needing (records of a stream have the same fields), instead of grown and rehashed field by
//! field.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Room left for the `_sdc_*` columns a target stamps on a record after reading it.
const METADATA_ROOM: usize = 8;

/// The largest size hint kept, so one very wide record does not make every later record's
/// map that wide.
const MAX_HINT: usize = 256;

thread_local! {
    /// The field count of the last record object read on this thread, plus room for the
    /// metadata columns.
    static HINT: Cell<usize> = const { Cell::new(0) };
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
        let mut map = Map::with_capacity(if self.top { HINT.get() } else { 0 });
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(NESTED)?;
            map.insert(key, value);
        }
        if self.top {
            HINT.set((map.len() + METADATA_ROOM).min(MAX_HINT));
        }
        Ok(Value::Object(map))
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
