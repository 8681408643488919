#[singer_sdk::main]
fn main() -> () {}
