struct MyTap;

#[singer_sdk::main]
pub fn run() -> MyTap {
    MyTap
}

fn main() {
    let _tap = run();
}
