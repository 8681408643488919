#![allow(dead_code)]

struct MyTap;

#[singer_sdk::main]
async fn main() -> MyTap {
    MyTap
}
