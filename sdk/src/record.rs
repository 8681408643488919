//! What the runtime reads from a record: its keys, its replication key value, and any one
//! top-level field.
//!
//! [`Record`] is what a record *type* says about itself: which properties form its primary key
//! and which one is the replication key. `#[derive(Schema)]` implements it from
//! `#[schema(key)]` and `#[schema(replication_key)]`; dynamic records (`serde_json::Map`,
//! `serde_json::Value`) use the defaults. [`Record::replication_value`] hands the runtime the
//! replication key value as a typed [`KeyRef`] borrowed from the field, so comparing it with
//! the bookmark needs neither serialising nor parsing.
//!
//! ```
//! use singer_sdk::record::{KeyRef, Record};
//!
//! #[derive(singer_sdk::Schema, serde::Serialize)]
//! #[serde(rename_all = "camelCase")]
//! struct Order {
//!     #[schema(key)]
//!     order_id: i64,
//!     #[schema(replication_key)]
//!     updated_at: chrono::NaiveDate,
//! }
//!
//! let order = Order { order_id: 7, updated_at: chrono::NaiveDate::MIN };
//! assert_eq!(Order::key_properties(), ["orderId"]);
//! assert_eq!(Order::replication_key(), Some("updatedAt"));
//! assert_eq!(order.replication_value(), Some(KeyRef::Date(chrono::NaiveDate::MIN)));
//! ```
//!
//! [`field_value`] reads one top-level field out of any `Serialize` record without
//! serialising the rest: it only visits the field names and converts the one field asked for.
//!
//! ```
//! #[derive(serde::Serialize)]
//! struct Row { id: i64, updated_at: String }
//! let row = Row { id: 7, updated_at: "2024-01-01".into() };
//! assert_eq!(singer_sdk::record::field_value(&row, "updated_at"), Some("2024-01-01".into()));
//! assert_eq!(singer_sdk::record::field_value(&row, "missing"), None);
//! ```

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeStruct};
use serde_json::Value;

/// What the runtime knows about a record type from the type itself: its primary key and its
/// replication key.
///
/// `#[derive(Schema)]` implements it for structs with named fields, from `#[schema(key)]` and
/// `#[schema(replication_key)]` (see the module example). Every method has a default, so a hand
/// implementation only writes what the type has:
///
/// ```
/// use singer_sdk::record::{KeyRef, Record};
///
/// struct Event { at: i64 }
///
/// impl Record for Event {
///     fn replication_key() -> Option<&'static str> {
///         Some("at")
///     }
///     fn replication_value(&self) -> Option<KeyRef<'_>> {
///         Some(KeyRef::Integer(self.at))
///     }
/// }
///
/// let event = Event { at: 5 };
/// assert!(Event::key_properties().is_empty());
/// assert_eq!(event.replication_value(), Some(KeyRef::Integer(5)));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say what its keys are",
    note = "add `#[derive(singer_sdk::Schema)]` to `{Self}` or implement `singer_sdk::record::Record` by hand (every method has a default)"
)]
pub trait Record {
    /// Top-level properties forming the primary key, in order (serialized names).
    #[must_use]
    fn key_properties() -> &'static [String] {
        &[]
    }

    /// The property used as replication key, if the type names one (serialized name).
    #[must_use]
    fn replication_key() -> Option<&'static str> {
        None
    }

    /// The replication key value of this record, read straight from its field; `None` when the
    /// type names no replication key.
    #[must_use]
    fn replication_value(&self) -> Option<KeyRef<'_>> {
        None
    }
}

/// Dynamic records name no keys: the stream says what they are.
impl Record for serde_json::Map<String, Value> {}

/// Dynamic records name no keys: the stream says what they are.
impl Record for Value {}

/// A replication key value borrowed from a record, typed: compared without parsing or
/// formatting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyRef<'a> {
    /// No value (`None`).
    Null,
    /// An instant, and how its Rust type serialises it (so the runtime can write the bookmark
    /// exactly as the record has it).
    Time(DateTime<FixedOffset>, TimeStyle),
    /// A calendar date.
    Date(NaiveDate),
    /// An integer.
    Integer(i64),
    /// A float (also `u64` values above `i64::MAX`).
    Float(f64),
    /// A string.
    Text(&'a str),
}

/// Which chrono type a [`KeyRef::Time`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    /// `DateTime<Utc>`: serialised with a `Z` suffix.
    Utc,
    /// `DateTime<FixedOffset>` or `DateTime<Local>`: serialised with its `+hh:mm` offset.
    Offset,
    /// `NaiveDateTime`: serialised without an offset; the instant is read as UTC.
    Naive,
}

/// A type that can be a replication key: its values are ordered from record to record.
///
/// Implemented for chrono's date-times and dates, integers, floats, strings, references and
/// boxes of these, and `Option`s of them (`None` is [`KeyRef::Null`]).
///
/// ```
/// use singer_sdk::record::{KeyRef, ReplicationKey};
/// assert_eq!(42_u8.key_ref(), KeyRef::Integer(42));
/// assert_eq!(Some("b").key_ref(), KeyRef::Text("b"));
/// assert_eq!(None::<i64>.key_ref(), KeyRef::Null);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a replication key",
    note = "a replication key is compared from record to record: use a date-time (chrono `DateTime<Utc>`, `DateTime<FixedOffset>`, `DateTime<Local>`, `NaiveDateTime`), a date (`NaiveDate`), an integer, a float, a string, or an `Option` of one of them"
)]
pub trait ReplicationKey {
    /// This value, typed.
    fn key_ref(&self) -> KeyRef<'_>;
}

impl ReplicationKey for DateTime<Utc> {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Time(self.fixed_offset(), TimeStyle::Utc)
    }
}

impl ReplicationKey for DateTime<FixedOffset> {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Time(*self, TimeStyle::Offset)
    }
}

impl ReplicationKey for DateTime<Local> {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Time(self.fixed_offset(), TimeStyle::Offset)
    }
}

impl ReplicationKey for NaiveDateTime {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Time(self.and_utc().fixed_offset(), TimeStyle::Naive)
    }
}

impl ReplicationKey for NaiveDate {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Date(*self)
    }
}

macro_rules! integer_keys {
    ($($ty:ty),*) => {$(
        impl ReplicationKey for $ty {
            fn key_ref(&self) -> KeyRef<'_> {
                KeyRef::Integer(i64::from(*self))
            }
        }
    )*};
}

integer_keys!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! wide_integer_keys {
    ($($ty:ty),*) => {$(
        impl ReplicationKey for $ty {
            /// An `Integer` when it fits an `i64`, otherwise the nearest `Float`.
            #[allow(clippy::cast_precision_loss)] // only values beyond `i64` become floats
            fn key_ref(&self) -> KeyRef<'_> {
                i64::try_from(*self).map_or(KeyRef::Float(*self as f64), KeyRef::Integer)
            }
        }
    )*};
}

wide_integer_keys!(isize, u64, usize);

impl ReplicationKey for f32 {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Float(f64::from(*self))
    }
}

impl ReplicationKey for f64 {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Float(*self)
    }
}

impl ReplicationKey for str {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Text(self)
    }
}

impl ReplicationKey for String {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Text(self)
    }
}

impl ReplicationKey for Cow<'_, str> {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Text(self)
    }
}

impl<T: ReplicationKey + ?Sized> ReplicationKey for &T {
    fn key_ref(&self) -> KeyRef<'_> {
        (**self).key_ref()
    }
}

impl<T: ReplicationKey + ?Sized> ReplicationKey for Box<T> {
    fn key_ref(&self) -> KeyRef<'_> {
        (**self).key_ref()
    }
}

impl<T: ReplicationKey> ReplicationKey for Option<T> {
    fn key_ref(&self) -> KeyRef<'_> {
        self.as_ref().map_or(KeyRef::Null, ReplicationKey::key_ref)
    }
}

/// Marker: a type that can be a key property, because it always has a scalar value.
///
/// Implemented for integers, `bool`, `char`, strings, chrono's date and time types, and
/// references and boxes of these. Not for `Option`s, lists or objects (a key must always have
/// a value), nor for floats (equal numbers can print differently, so they make poor keys).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a key property",
    note = "key properties must always have a value: use an integer, a string, a bool or a date/time type (not an `Option`, list or object); floats are left out because equal numbers can print differently"
)]
pub trait KeyProperty {}

macro_rules! key_properties {
    ($($ty:ty),*) => {$(
        impl KeyProperty for $ty {}
    )*};
}

key_properties!(
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    bool,
    char,
    str,
    String,
    Cow<'_, str>,
    NaiveDate,
    NaiveDateTime,
    NaiveTime
);

impl<Tz: TimeZone> KeyProperty for DateTime<Tz> {}

impl<T: KeyProperty + ?Sized> KeyProperty for &T {}

impl<T: KeyProperty + ?Sized> KeyProperty for Box<T> {}

/// The value of top-level field `name` of `record`, if the record is a struct or map that has
/// it (flattened fields included).
pub fn field_value<R: Serialize + ?Sized>(record: &R, name: &str) -> Option<Value> {
    record.serialize(FieldPicker { name }).ok().flatten()
}

#[derive(Debug)]
struct NotFound;

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field not found")
    }
}

impl std::error::Error for NotFound {}

impl ser::Error for NotFound {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        NotFound
    }
}

struct FieldPicker<'n> {
    name: &'n str,
}

struct Picking<'n> {
    name: &'n str,
    found: Option<Value>,
    matched_key: bool,
}

macro_rules! not_a_container {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Ok(None)
        }
    )*};
}

impl<'n> ser::Serializer for FieldPicker<'n> {
    type Ok = Option<Value>;
    type Error = NotFound;
    type SerializeSeq = Impossible<Option<Value>, NotFound>;
    type SerializeTuple = Impossible<Option<Value>, NotFound>;
    type SerializeTupleStruct = Impossible<Option<Value>, NotFound>;
    type SerializeTupleVariant = Impossible<Option<Value>, NotFound>;
    type SerializeMap = Picking<'n>;
    type SerializeStruct = Picking<'n>;
    type SerializeStructVariant = Impossible<Option<Value>, NotFound>;

    not_a_container! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
        serialize_str(&str), serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Self::Ok, Self::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Self::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Self::Ok, Self::Error> {
        Ok(None)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(NotFound)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(NotFound)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(NotFound)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(NotFound)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Ok(Picking {
            name: self.name,
            found: None,
            matched_key: false,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Ok(Picking {
            name: self.name,
            found: None,
            matched_key: false,
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(NotFound)
    }
}

impl SerializeStruct for Picking<'_> {
    type Ok = Option<Value>;
    type Error = NotFound;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        if self.found.is_none() && key == self.name {
            self.found = serde_json::to_value(value).ok();
        }
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        Ok(self.found)
    }
}

impl SerializeMap for Picking<'_> {
    type Ok = Option<Value>;
    type Error = NotFound;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Self::Error> {
        self.matched_key = self.found.is_none() && key.serialize(KeyIs(self.name)).unwrap_or(false);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Self::Error> {
        if self.matched_key {
            self.found = serde_json::to_value(value).ok();
            self.matched_key = false;
        }
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        Ok(self.found)
    }
}

/// Answers whether a map key is the string we look for.
struct KeyIs<'n>(&'n str);

macro_rules! not_a_string_key {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $method(self, $(_: $arg),*) -> Result<bool, NotFound> {
            Ok(false)
        }
    )*};
}

impl ser::Serializer for KeyIs<'_> {
    type Ok = bool;
    type Error = NotFound;
    type SerializeSeq = Impossible<bool, NotFound>;
    type SerializeTuple = Impossible<bool, NotFound>;
    type SerializeTupleStruct = Impossible<bool, NotFound>;
    type SerializeTupleVariant = Impossible<bool, NotFound>;
    type SerializeMap = Impossible<bool, NotFound>;
    type SerializeStruct = Impossible<bool, NotFound>;
    type SerializeStructVariant = Impossible<bool, NotFound>;

    fn serialize_str(self, v: &str) -> Result<bool, NotFound> {
        Ok(v == self.0)
    }

    not_a_string_key! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
        serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<bool, NotFound> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<bool, NotFound> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<bool, NotFound> {
        Ok(false)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, NotFound> {
        Err(NotFound)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, NotFound> {
        Err(NotFound)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, NotFound> {
        Err(NotFound)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, NotFound> {
        Err(NotFound)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, NotFound> {
        Err(NotFound)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, NotFound> {
        Err(NotFound)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, NotFound> {
        Err(NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_are_integers_until_they_do_not_fit() {
        assert_eq!(7_i8.key_ref(), KeyRef::Integer(7));
        assert_eq!((-3_isize).key_ref(), KeyRef::Integer(-3));
        assert_eq!(u32::MAX.key_ref(), KeyRef::Integer(i64::from(u32::MAX)));
        assert_eq!(
            u64::try_from(i64::MAX).unwrap().key_ref(),
            KeyRef::Integer(i64::MAX)
        );
        #[allow(clippy::cast_precision_loss)]
        let max = u64::MAX as f64;
        assert_eq!(u64::MAX.key_ref(), KeyRef::Float(max));
        assert_eq!(usize::MAX.key_ref(), KeyRef::Float(max));
        assert_eq!(1.5_f32.key_ref(), KeyRef::Float(1.5));
        assert_eq!(f64::MIN.key_ref(), KeyRef::Float(f64::MIN));
    }

    #[test]
    fn times_keep_their_style() {
        let utc = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
        assert_eq!(
            utc.key_ref(),
            KeyRef::Time(utc.fixed_offset(), TimeStyle::Utc)
        );
        let east = FixedOffset::east_opt(2 * 3600).unwrap();
        let offset = utc.with_timezone(&east);
        let KeyRef::Time(instant, TimeStyle::Offset) = offset.key_ref() else {
            panic!("{:?}", offset.key_ref());
        };
        assert_eq!(instant.offset(), &east);
        assert_eq!(instant, utc);
        let local = utc.with_timezone(&Local);
        assert!(matches!(local.key_ref(), KeyRef::Time(t, TimeStyle::Offset) if t == utc));
        let naive = utc.naive_utc();
        assert_eq!(
            naive.key_ref(),
            KeyRef::Time(utc.fixed_offset(), TimeStyle::Naive)
        );
        let date = utc.date_naive();
        assert_eq!(date.key_ref(), KeyRef::Date(date));
    }

    #[test]
    fn strings_references_and_options() {
        let owned = String::from("b");
        assert_eq!(owned.key_ref(), KeyRef::Text("b"));
        assert_eq!("a".key_ref(), KeyRef::Text("a"));
        assert_eq!(Box::<str>::from("c").key_ref(), KeyRef::Text("c"));
        assert_eq!(Cow::Borrowed("d").key_ref(), KeyRef::Text("d"));
        assert_eq!(Box::new(&5_i64).key_ref(), KeyRef::Integer(5));
        assert_eq!(Option::<i64>::None.key_ref(), KeyRef::Null);
        assert_eq!(Some(Some(3_u16)).key_ref(), KeyRef::Integer(3));
        assert_eq!(Some(owned).key_ref(), KeyRef::Text("b"));
    }

    #[test]
    fn dynamic_records_name_nothing() {
        assert!(Value::key_properties().is_empty());
        assert_eq!(<serde_json::Map<String, Value>>::replication_key(), None);
        assert_eq!(json!({"updated_at": 1}).replication_value(), None);
    }

    #[test]
    fn key_properties_are_scalars() {
        fn key<T: KeyProperty + ?Sized>() {}
        key::<i64>();
        key::<u128>();
        key::<bool>();
        key::<char>();
        key::<str>();
        key::<&str>();
        key::<Box<str>>();
        key::<Cow<'_, str>>();
        key::<NaiveTime>();
        key::<DateTime<FixedOffset>>();
        key::<Box<DateTime<Utc>>>();
    }

    #[test]
    fn picks_from_maps_structs_and_flattened_fields() {
        let map = json!({"a": 1, "b": {"c": 2}});
        assert_eq!(field_value(&map, "b"), Some(json!({"c": 2})));
        assert_eq!(field_value(&map, "c"), None);
        #[derive(Serialize)]
        struct Inner {
            x: i32,
        }
        #[derive(Serialize)]
        struct Outer {
            #[serde(flatten)]
            inner: Inner,
            #[serde(rename = "Y")]
            y: Option<String>,
        }
        let o = Outer {
            inner: Inner { x: 3 },
            y: None,
        };
        assert_eq!(field_value(&o, "x"), Some(json!(3)));
        assert_eq!(field_value(&o, "Y"), Some(Value::Null));
        assert_eq!(field_value(&5, "x"), None);
    }
}
