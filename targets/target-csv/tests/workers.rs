//! The parallel load path writes what one worker writes: every conformance scenario and a
//! benchmark-shaped input with 1, 2 and 8 workers: `cargo test -p target-csv --test workers`.

use target_test_support::{Target, workers};

fn main() -> std::process::ExitCode {
    workers::run(Target::csv(env!("CARGO_BIN_EXE_target-csv")))
}
