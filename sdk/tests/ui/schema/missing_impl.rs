use singer_sdk::Schema;

struct Money(i64);

fn money_schema() -> String {
    "number".to_owned()
}

#[derive(Schema)]
struct Invoice {
    id: i64,
    total: Money,
    #[schema(with = "money_schema")]
    tax: Money,
}

fn main() {}
