use serde::Serialize;
use singer_sdk::Schema;

#[derive(Schema, Serialize)]
#[schema(key_properties = "id", replication_key)]
struct Container {
    id: i64,
}

#[derive(Schema, Serialize)]
#[schema(key_properties = [id, 1], key)]
struct Items {
    id: i64,
}

#[derive(Schema, Serialize)]
struct Fields {
    #[schema(key = true, replication_key("x"), key_properties = ["id"])]
    id: i64,
}

fn main() {}
