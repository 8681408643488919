//! Everything `#[derive(Schema)]` accepts, used through the re-exports only.

use serde::Serialize;
use singer_sdk::Schema;

/// A record.
#[derive(Schema, Serialize)]
#[serde(rename_all = "camelCase")]
#[schema(title = "Order")]
struct Order<T> {
    /// Primary key.
    #[schema(minimum = 1)]
    order_id: i64,
    #[schema(format = "email", pattern = "@", min_length = 3, max_length = 320)]
    email: Option<String>,
    #[schema(exclusive_minimum = 0, exclusive_maximum = 1e6, multiple_of = 0.01)]
    #[schema(examples = [9.99, 10.0], title = "Total", description = "Total in EUR")]
    total: f64,
    #[schema(with = "line_schema")]
    lines: Vec<T>,
    #[serde(flatten)]
    meta: Meta,
    status: Status,
    #[serde(skip)]
    cached: bool,
}

#[derive(Schema, Serialize)]
struct Meta {
    updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Schema, Serialize)]
enum Status {
    Open,
    Paid { at: chrono::NaiveDate },
    Refunded(u32),
}

/// An email address.
#[derive(Schema, Serialize)]
#[schema(format = "email")]
struct Email(String);

fn line_schema() -> serde_json::Value {
    serde_json::json!({"type": "array"})
}

fn main() {
    let schema = <Order<Email>>::json_schema();
    assert_eq!(schema["title"], "Order");
    assert_eq!(schema["properties"]["orderId"]["minimum"], 1);
    assert_eq!(Email::json_schema()["format"], "email");
}
