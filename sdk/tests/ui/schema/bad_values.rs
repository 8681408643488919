use singer_sdk::Schema;

#[derive(Schema)]
struct Row {
    #[schema(pattern = 5)]
    code: String,
    #[schema(min_length = -1, max_length = "10")]
    name: String,
    #[schema(multiple_of = 0, minimum = "0")]
    amount: f64,
    #[schema(examples = "a", format)]
    tag: String,
    #[schema(with = my_schema)]
    custom: String,
}

fn main() {}
