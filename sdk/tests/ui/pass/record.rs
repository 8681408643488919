//! Record keys in every accepted form, used through the re-exports only.

use serde::Serialize;
use singer_sdk::Schema;
use singer_sdk::record::{KeyRef, Record};

/// Keys on fields.
#[derive(Schema, Serialize)]
#[serde(rename_all = "camelCase")]
struct Order<'a, T> {
    #[schema(key, minimum = 1)]
    order_id: i64,
    #[schema(key)]
    shop: &'a str,
    #[schema(replication_key)]
    updated_at: Option<chrono::NaiveDateTime>,
    lines: Vec<T>,
}

/// Keys on the struct.
#[derive(Schema, Serialize)]
#[schema(key_properties = ["shop", "order_id"], replication_key = "seq", title = "Line")]
struct Line {
    order_id: i64,
    shop: String,
    seq: u64,
}

/// No keys at all.
#[derive(Schema, Serialize)]
struct Plain {
    note: String,
}

fn main() {
    assert_eq!(Order::<'_, u8>::key_properties(), ["orderId", "shop"]);
    let line = Line {
        order_id: 1,
        shop: "s".into(),
        seq: 4,
    };
    assert_eq!(Line::key_properties(), ["shop", "order_id"]);
    assert_eq!(line.replication_value(), Some(KeyRef::Integer(4)));
    assert!(Plain::key_properties().is_empty());
    assert_eq!(Plain::replication_key(), None);
}
