use serde::Serialize;
use singer_sdk::Schema;

/// Two fields.
#[derive(Schema, Serialize)]
struct Fields {
    #[schema(replication_key)]
    created_at: String,
    #[schema(replication_key)]
    updated_at: String,
}

/// A field and the struct.
#[derive(Schema, Serialize)]
#[schema(replication_key = "created_at")]
struct Both {
    created_at: String,
    #[schema(replication_key)]
    updated_at: String,
}

fn main() {}
