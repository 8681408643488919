#![allow(dead_code)]

struct MyTap;

#[singer_sdk::main]
fn main<T: Default>(args: Vec<String>) -> MyTap {
    MyTap
}
