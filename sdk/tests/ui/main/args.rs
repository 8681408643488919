#![allow(dead_code)]

struct MyTap;

#[singer_sdk::main(name = "tap-example")]
fn main() -> MyTap {
    MyTap
}
