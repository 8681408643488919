use serde::Serialize;
use singer_sdk::Schema;

/// Keys must be present in every record.
#[derive(Schema, Serialize)]
#[schema(key_properties = ["cached"])]
struct Row {
    #[serde(skip)]
    #[schema(key)]
    hidden: i64,
    #[serde(skip_serializing)]
    #[schema(replication_key)]
    updated_at: String,
    #[serde(flatten)]
    #[schema(key)]
    meta: Meta,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(key)]
    note: Option<String>,
    #[serde(skip)]
    cached: i64,
}

#[derive(Schema, Serialize)]
struct Meta {
    id: i64,
}

fn main() {}
