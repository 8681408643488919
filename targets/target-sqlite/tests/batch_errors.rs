//! Bad BATCH input: missing, corrupt, truncated or mismatched files, an unreachable object
//! store and refused credentials each stop the run with one clear error, and no state after
//! the failure is acknowledged.

use target_test_support::Target;
use target_test_support::batch::{assert_bad_local_batches_fail, assert_bad_remote_batches_fail};

const TARGET: Target = Target::sqlite(env!("CARGO_BIN_EXE_target-sqlite"));

#[test]
fn bad_local_batch_files_fail_clearly() {
    assert_bad_local_batches_fail(&TARGET);
}

#[test]
fn an_unreachable_store_or_bad_credentials_fail_without_showing_secrets() {
    assert_bad_remote_batches_fail(&TARGET);
}
