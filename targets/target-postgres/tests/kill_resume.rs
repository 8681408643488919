//! Kill-and-resume: SIGKILL the target mid-load, resume from the last state it acknowledged,
//! and check that every record is in the database (exactly once for upsert): a STATE is
//! acknowledged only after the transaction of the records before it committed.

use serde_json::json;

use target_test_support::kill::{KillResume, durable_sql};
use target_test_support::{Dest, Target};

const TEST: KillResume = KillResume {
    target: Target::postgres(env!("CARGO_BIN_EXE_target-postgres")),
    query: Dest::pg,
    after_kill: committed,
};

/// Every record before the acknowledged state is committed.
fn committed(env: &Dest, position: usize) {
    assert_eq!(
        env.pg(&durable_sql(position)),
        [[json!(position)]],
        "acknowledged records are durable"
    );
}

#[test]
fn killed_upsert_load_resumes_exactly_once() {
    TEST.run("upsert", true);
}

#[test]
fn killed_append_load_resumes_at_least_once() {
    TEST.run("append-only", false);
}
