//! The Singer conformance suites on target-sqlite, one test case per check, then what it must write
//! for each scenario (`tests/expected/`): `cargo test -p target-sqlite --test conformance`.

use target_test_support::{Target, expected};

fn main() -> std::process::ExitCode {
    let target = Target::sqlite(env!("CARGO_BIN_EXE_target-sqlite"));
    expected::run(target, env!("CARGO_MANIFEST_DIR"))
}
