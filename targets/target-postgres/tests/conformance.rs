//! The Singer conformance suites on target-postgres, one test case per check, then what it
//! must write for each scenario (`tests/expected/`), read back from the database:
//! `cargo test -p target-postgres --test conformance`. Everything loads into a database of
//! this run's own, dropped at the end.

use target_test_support::{Target, expected, postgres};

fn main() -> std::process::ExitCode {
    let database = postgres::own_database("conformance");
    let target = Target::postgres(env!("CARGO_BIN_EXE_target-postgres"));
    let code = expected::run(target, env!("CARGO_MANIFEST_DIR"));
    drop(database);
    code
}
