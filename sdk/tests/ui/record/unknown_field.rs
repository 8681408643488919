use serde::Serialize;
use singer_sdk::Schema;

/// Container attributes name Rust fields; serialized names and typos are errors.
#[derive(Schema, Serialize)]
#[serde(rename_all = "camelCase")]
#[schema(key_properties = ["id", "orgId"], replication_key = "updated")]
struct Row {
    id: i64,
    org_id: i64,
    updated_at: String,
}

fn main() {}
