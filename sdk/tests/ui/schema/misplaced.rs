use serde::Serialize;
use singer_sdk::Schema;

/// Constraints on a struct with named fields do nothing.
#[derive(Schema, Serialize)]
#[schema(minimum = 0, title = "Fine")]
struct Row {
    id: i64,
    #[serde(flatten)]
    #[schema(description = "ignored")]
    audit: Audit,
}

#[derive(Schema, Serialize)]
#[schema(with = "audit_schema")]
struct Audit {
    created_by: String,
}

#[derive(Schema, Serialize)]
enum Status {
    #[schema(description = "Active")]
    Active,
}

fn main() {}
