//! Kill-and-resume: SIGKILL the target mid-load, resume from the last state it acknowledged,
//! and check that every record is in the database (exactly once for upsert), also when the
//! killed run left a torn write-ahead log behind.

use std::io::Write;

use serde_json::json;

use target_test_support::kill::{KillResume, durable_sql};
use target_test_support::{Dest, Target};

const TEST: KillResume = KillResume {
    target: Target::sqlite(env!("CARGO_BIN_EXE_target-sqlite")),
    query: Dest::query,
    after_kill: tear_the_log,
};

/// The killed run's log is still there (the connection was never closed); a torn last
/// frame, as a kill in the middle of a write leaves, is appended to it. Every record
/// before the acknowledged state is durable (checked on a copy, so the rerun still meets
/// the torn log).
fn tear_the_log(env: &Dest, position: usize) {
    let wal = env.path("warehouse.db-wal");
    assert!(wal.exists(), "the killed run left its write-ahead log");
    eprintln!("log {} bytes", std::fs::metadata(&wal).unwrap().len());
    let mut torn = std::fs::OpenOptions::new().append(true).open(&wal).unwrap();
    torn.write_all(&[0xA5; 1234]).unwrap();
    drop(torn);
    let copy = env.path("copy");
    std::fs::create_dir(&copy).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let from = env.path(&format!("warehouse.db{suffix}"));
        if from.exists() {
            std::fs::copy(&from, copy.join(format!("warehouse.db{suffix}"))).unwrap();
        }
    }
    let durable =
        target_test_support::sqlite::query(&copy.join("warehouse.db"), &durable_sql(position));
    assert_eq!(
        durable,
        [[json!(position)]],
        "acknowledged records are durable"
    );
}

#[test]
fn killed_upsert_load_resumes_exactly_once() {
    let env = TEST.run("upsert", true);
    assert_eq!(env.query("PRAGMA integrity_check"), [[json!("ok")]]);
}

#[test]
fn killed_append_load_resumes_at_least_once() {
    let env = TEST.run("append-only", false);
    assert_eq!(env.query("PRAGMA integrity_check"), [[json!("ok")]]);
}
