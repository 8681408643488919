#![allow(dead_code)]

struct MyTap;

#[singer_sdk::main]
fn main() {
    MyTap;
}
