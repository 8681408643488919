//! The `Record` impl of `#[derive(Schema)]`: key properties and replication key named by the
//! type, and the replication key value read straight from the field.
#![allow(missing_docs, dead_code)]

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use singer_sdk::Schema;
use singer_sdk::record::{KeyRef, Record, ReplicationKey, TimeStyle};

fn instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 4, 5, 6, 7).unwrap()
}

/// Field attributes: keys in declaration order, serialized names.
#[derive(Schema, Serialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    note: String,
    #[schema(key)]
    org_id: i64,
    #[serde(rename = "ID")]
    #[schema(key, minimum = 1)]
    order_id: u64,
    #[schema(replication_key)]
    updated_at: DateTime<Utc>,
}

#[test]
fn field_keys_in_declaration_order_with_serialized_names() {
    assert_eq!(Order::key_properties(), ["orgId", "ID"]);
    assert_eq!(Order::replication_key(), Some("updatedAt"));
    let order = Order {
        note: String::new(),
        org_id: 1,
        order_id: 2,
        updated_at: instant(),
    };
    assert_eq!(
        order.replication_value(),
        Some(KeyRef::Time(instant().fixed_offset(), TimeStyle::Utc))
    );
    // The names agree with the schema's properties.
    let schema = Order::json_schema();
    for key in Order::key_properties() {
        assert!(schema["properties"].get(key).is_some(), "{key} in {schema}");
    }
    assert!(schema["properties"]["updatedAt"].is_object());
    // Built once: the same slice every time.
    assert!(std::ptr::eq(
        Order::key_properties(),
        Order::key_properties()
    ));
}

/// Container attributes name Rust fields, in the order listed.
#[derive(Schema, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(key_properties = ["type", "id"], replication_key = "seq")]
struct Event {
    id: String,
    r#type: String,
    seq: u32,
}

/// A raw identifier may also be written with its `r#`.
#[derive(Schema, Serialize)]
#[schema(key_properties = ["r#type"])]
struct Raw {
    r#type: String,
}

#[test]
fn container_form() {
    assert_eq!(Event::key_properties(), ["TYPE", "ID"]);
    assert_eq!(Event::replication_key(), Some("SEQ"));
    assert_eq!(Raw::key_properties(), ["type"]);
    let event = Event {
        id: "e".into(),
        r#type: "click".into(),
        seq: 9,
    };
    assert_eq!(event.replication_value(), Some(KeyRef::Integer(9)));
}

/// Only a replication key, through the container form; keys given on fields.
#[derive(Schema, Serialize)]
#[schema(replication_key = "day")]
struct Mixed {
    #[schema(key)]
    id: i32,
    day: NaiveDate,
}

#[test]
fn field_keys_with_container_replication_key() {
    assert_eq!(Mixed::key_properties(), ["id"]);
    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    assert_eq!(
        Mixed { id: 1, day }.replication_value(),
        Some(KeyRef::Date(day))
    );
}

#[derive(Schema, Serialize)]
struct Plain {
    id: i64,
    updated_at: String,
}

#[test]
fn no_attributes_no_keys() {
    assert!(Plain::key_properties().is_empty());
    assert_eq!(Plain::replication_key(), None);
    let plain = Plain {
        id: 1,
        updated_at: "x".into(),
    };
    assert_eq!(plain.replication_value(), None);
}

/// A record whose replication key is of type `T`.
#[derive(Schema, Serialize)]
struct By<T: ReplicationKey> {
    #[schema(replication_key)]
    at: T,
}

/// Asserts a `By` holding `$at` has replication value `$expected`.
macro_rules! assert_value {
    ($at:expr, $expected:expr) => {
        assert_eq!(By { at: $at }.replication_value(), Some($expected));
    };
}

#[test]
fn replication_value_of_each_type() {
    let t = instant();
    let east = FixedOffset::east_opt(3600).unwrap();
    assert_eq!(By::<DateTime<Utc>>::replication_key(), Some("at"));
    assert_value!(t, KeyRef::Time(t.fixed_offset(), TimeStyle::Utc));
    assert_value!(
        t.with_timezone(&east),
        KeyRef::Time(t.with_timezone(&east), TimeStyle::Offset)
    );
    let local = By {
        at: t.with_timezone(&Local),
    };
    assert!(matches!(
        local.replication_value(),
        Some(KeyRef::Time(v, TimeStyle::Offset)) if v == t
    ));
    let naive: NaiveDateTime = t.naive_utc();
    assert_value!(naive, KeyRef::Time(t.fixed_offset(), TimeStyle::Naive));
    assert_value!(t.date_naive(), KeyRef::Date(t.date_naive()));
    assert_value!(-5_i8, KeyRef::Integer(-5));
    assert_value!(5_u16, KeyRef::Integer(5));
    assert_value!(5_i64, KeyRef::Integer(5));
    assert_value!(7_usize, KeyRef::Integer(7));
    #[allow(clippy::cast_precision_loss)]
    let big = u64::MAX as f64;
    assert_value!(u64::MAX, KeyRef::Float(big));
    assert_value!(0.5_f32, KeyRef::Float(0.5));
    assert_value!(Some(3_i32), KeyRef::Integer(3));
    assert_value!(None::<DateTime<Utc>>, KeyRef::Null);
}

#[test]
fn text_replication_keys_borrow_from_the_record() {
    let owned = By {
        at: String::from("b"),
    };
    assert_eq!(owned.replication_value(), Some(KeyRef::Text("b")));
    let boxed = By {
        at: Box::<str>::from("c"),
    };
    assert_eq!(boxed.replication_value(), Some(KeyRef::Text("c")));
    let cow = By {
        at: Cow::Borrowed("d"),
    };
    assert_eq!(cow.replication_value(), Some(KeyRef::Text("d")));
    let text = String::from("e");
    let borrowed = By { at: text.as_str() };
    assert_eq!(borrowed.replication_value(), Some(KeyRef::Text("e")));
    let missing = By { at: None::<String> };
    assert_eq!(missing.replication_value(), Some(KeyRef::Null));
}

/// Generics, lifetimes and where clauses pass through; key fields may be generic.
#[derive(Schema, Serialize)]
struct Borrowed<'a, K, V>
where
    K: singer_sdk::record::KeyProperty,
{
    #[schema(key)]
    id: K,
    #[schema(key)]
    name: &'a str,
    payload: Vec<V>,
    #[schema(replication_key)]
    at: Option<&'a NaiveDate>,
}

#[test]
fn generics() {
    assert_eq!(Borrowed::<'_, i64, bool>::key_properties(), ["id", "name"]);
    let day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let record = Borrowed {
        id: 1_i64,
        name: "n",
        payload: vec![true],
        at: Some(&day),
    };
    assert_eq!(record.replication_value(), Some(KeyRef::Date(day)));
    let record = Borrowed::<'_, String, u8> {
        at: None,
        ..Borrowed {
            id: String::new(),
            name: "n",
            payload: vec![],
            at: None,
        }
    };
    assert_eq!(record.replication_value(), Some(KeyRef::Null));
}

/// Works where the runtime uses it: as a bound.
fn keys_of<R: Record>() -> Vec<&'static str> {
    R::key_properties().iter().map(String::as_str).collect()
}

#[test]
fn usable_as_a_bound() {
    assert_eq!(keys_of::<Order>(), ["orgId", "ID"]);
    assert_eq!(keys_of::<serde_json::Value>(), Vec::<&str>::new());
}
