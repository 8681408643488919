use singer_sdk::Schema;

#[derive(Schema)]
struct Point(f64, f64);

#[derive(Schema)]
struct Marker;

#[derive(Schema)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
