#[singer_sdk::main]
struct MyTap;

fn main() {
    let _tap = MyTap;
}
