use serde::Serialize;
use singer_sdk::Schema;

/// A field listed twice.
#[derive(Schema, Serialize)]
#[schema(key_properties = ["id", "org_id", "id"])]
struct Listed {
    id: i64,
    org_id: i64,
}

/// Keys on fields and on the struct.
#[derive(Schema, Serialize)]
#[schema(key_properties = ["id"])]
struct Both {
    id: i64,
    #[schema(key)]
    org_id: i64,
}

/// The same flag twice on a field.
#[derive(Schema, Serialize)]
struct Flag {
    #[schema(key, key)]
    id: i64,
}

fn main() {}
