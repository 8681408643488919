//! BATCH messages load like the RECORDs they carry: every encoding, local files and a real
//! S3-compatible server (moto) on loopback; bad BATCH input fails with one clear error.

use serde_json::json;
use target_test_support::batch::{self, assert_batches_load_like_records, sample_input};
use target_test_support::s3::S3Server;
use target_test_support::{Target, stderr};

const TARGET: Target = Target::jsonl(env!("CARGO_BIN_EXE_target-jsonl"));

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

#[test]
fn bad_local_batch_files_fail_clearly() {
    batch::assert_bad_local_batches_fail(&TARGET);
}

#[test]
fn an_unreachable_store_or_bad_credentials_fail_without_showing_secrets() {
    batch::assert_bad_remote_batches_fail(&TARGET);
}

#[test]
fn object_store_options_in_batch_config_override_the_environment() {
    let s3 = S3Server::start();
    s3.create_bucket("batches");
    let input = sample_input();
    let config = batch::config("s3://batches/opts", "parquet", "gzip", &s3.params());
    let batched = batch::batched(&input, &config);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let wrong_endpoint = format!("http://127.0.0.1:{closed}");
    // The environment points elsewhere with other keys: only the config's options can work.
    let env = [
        ("AWS_ACCESS_KEY_ID", "wrong"),
        ("AWS_SECRET_ACCESS_KEY", "wrong"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", wrong_endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    let dest = TARGET.dest();
    let target_config = dest.config(&json!({"batch_config": {
        "storage": {"root": "s3://batches", "params": s3.params()}}}));
    let output = TARGET.run_env(&["--config", &target_config], &batched, &env);
    target_test_support::assert_ok(&output);
    assert_eq!(dest.records("users.jsonl").len(), 5);
    assert_eq!(dest.records("orders.jsonl").len(), 5);
    assert!(!stderr(&output).contains(s3.secret()));
}
