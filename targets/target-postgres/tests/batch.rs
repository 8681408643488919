//! BATCH messages load like the RECORDs they carry: every encoding, local files and a real
//! S3-compatible server (moto) on loopback.

use serde_json::json;
use target_test_support::Target;
use target_test_support::batch::{assert_batches_load_like_records, sample_input};
use target_test_support::s3::S3Server;

const TARGET: Target = Target::postgres(env!("CARGO_BIN_EXE_target-postgres"));

#[test]
fn batch_files_load_like_records_in_every_encoding() {
    assert_batches_load_like_records(
        &TARGET,
        &sample_input(),
        |dest| dest.path("batches").display().to_string(),
        &json!({}),
        &[],
    );
}

#[test]
fn batch_files_in_s3_load_like_records() {
    let s3 = S3Server::start();
    s3.create_bucket("batches");
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_batches_load_like_records(
        &TARGET,
        &sample_input(),
        |_| "s3://batches/run".to_owned(),
        &s3.params(),
        &env,
    );
}
