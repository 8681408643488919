use singer_sdk::Schema;

#[derive(Schema)]
enum Shape {
    Empty,
    Circle { radius: f64 },
    Square(f64),
    Rect(f64, f64),
}

fn main() {}
