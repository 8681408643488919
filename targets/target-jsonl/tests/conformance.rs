//! The Singer conformance suites on target-jsonl, one test case per check, then what it must write
//! for each scenario (`tests/expected/`): `cargo test -p target-jsonl --test conformance`.

use target_test_support::{Target, expected};

fn main() -> std::process::ExitCode {
    let target = Target::jsonl(env!("CARGO_BIN_EXE_target-jsonl"));
    expected::run(target, env!("CARGO_MANIFEST_DIR"))
}
