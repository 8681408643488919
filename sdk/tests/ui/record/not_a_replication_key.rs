use serde::Serialize;
use singer_sdk::Schema;

#[derive(Schema, Serialize)]
struct Row {
    id: i64,
    #[schema(replication_key)]
    updated: bool,
}

#[derive(Schema, Serialize)]
#[schema(replication_key = "history")]
struct Log<T> {
    history: Vec<T>,
}

fn main() {}
