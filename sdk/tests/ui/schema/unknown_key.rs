use singer_sdk::Schema;

#[derive(Schema)]
struct Row {
    #[schema(minimun = 0)]
    count: i64,
    #[schema(secret)]
    token: String,
}

fn main() {}
