use singer_sdk::Schema;

#[derive(Schema)]
struct Row {
    #[schema(format = "email", format = "idn-email")]
    email: String,
    #[schema(minimum = 0)]
    #[schema(maximum = 10, minimum = 1)]
    count: i64,
}

fn main() {}
