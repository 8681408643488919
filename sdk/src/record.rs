//! Reading one top-level field out of any `Serialize` record without serialising the rest.
//!
//! The runtime needs a record's replication key value on every record. Converting the whole
//! record to a `serde_json::Value` would cost as much as writing it; this serializer only
//! visits the field names and converts the one field asked for.
//!
//! ```
//! #[derive(serde::Serialize)]
//! struct Row { id: i64, updated_at: String }
//! let row = Row { id: 7, updated_at: "2024-01-01".into() };
//! assert_eq!(singer_sdk::record::field_value(&row, "updated_at"), Some("2024-01-01".into()));
//! assert_eq!(singer_sdk::record::field_value(&row, "missing"), None);
//! ```

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeStruct};
use serde_json::Value;

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
