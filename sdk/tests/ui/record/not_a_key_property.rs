use serde::Serialize;
use singer_sdk::Schema;

#[derive(Schema, Serialize)]
struct Row {
    #[schema(key)]
    id: Option<i64>,
    #[schema(key)]
    tags: Vec<String>,
    #[schema(key)]
    score: f64,
}

fn main() {}
