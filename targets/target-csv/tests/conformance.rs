//! The Singer conformance suites on target-csv, one test case per check, then what it must write
//! for each scenario (`tests/expected/`): `cargo test -p target-csv --test conformance`.

use target_test_support::{Target, expected};

fn main() -> std::process::ExitCode {
    let target = Target::csv(env!("CARGO_BIN_EXE_target-csv"));
    expected::run(target, env!("CARGO_MANIFEST_DIR"))
}
