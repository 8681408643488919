//! BATCH messages load like the RECORDs they carry: every encoding, local files and a real
//! S3-compatible server (moto) on loopback.

use serde_json::json;
use target_test_support::batch::{self, assert_batches_load_like_records, sample_input};
use target_test_support::s3::S3Server;
use target_test_support::{Target, assert_fails, lines, states, stderr};

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

/// Runs `lines` (SCHEMA users, STATE 1, the BATCH, STATE 2) and asserts the run fails with one
/// error holding `fragments`, and STATE 2 is never acknowledged.
fn assert_batch_fails(batch: &serde_json::Value, env: &[(&str, &str)], fragments: &[&str]) {
    let schema = json!({"type": "SCHEMA", "stream": "users", "key_properties": ["id"],
        "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}});
    let input = lines(&[
        schema,
        json!({"type": "STATE", "value": {"n": 1}}),
        batch.clone(),
        json!({"type": "STATE", "value": {"n": 2}}),
    ]);
    let dest = TARGET.dest();
    let config = dest.config(&json!({}));
    let output = TARGET.run_env(&["--config", &config], &input, env);
    assert_fails(&output, 1, fragments);
    assert!(
        !states(&output).contains(&json!({"n": 2})),
        "a state after the failure was acknowledged"
    );
}

fn batch_message(format: &str, manifest: &[String]) -> serde_json::Value {
    json!({"type": "BATCH", "stream": "users",
        "encoding": {"format": format, "compression": "gzip"}, "manifest": manifest})
}

#[test]
fn a_missing_or_corrupt_batch_file_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.json.gz").display().to_string();
    assert_batch_fails(
        &batch_message("jsonl", &[missing]),
        &[],
        &["gone.json.gz", "stream `users`", "No such file"],
    );
    let corrupt = dir.path().join("corrupt.json.gz");
    std::fs::write(&corrupt, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]).unwrap();
    assert_batch_fails(
        &batch_message("jsonl", &[corrupt.display().to_string()]),
        &[],
        &["corrupt.json.gz", "gzip"],
    );
    let not_parquet = dir.path().join("x.parquet");
    std::fs::write(&not_parquet, "{\"id\": 1}\n").unwrap();
    assert_batch_fails(
        &batch_message("parquet", &[not_parquet.display().to_string()]),
        &[],
        &["x.parquet", "not a readable parquet file"],
    );
}

#[test]
fn parquet_columns_that_do_not_match_the_schema_fail_validation() {
    let dir = tempfile::tempdir().unwrap();
    let config = batch::config(
        &dir.path().display().to_string(),
        "parquet",
        "gzip",
        &json!({}),
    );
    let wrong = lines(&[
        json!({"type": "SCHEMA", "stream": "users", "key_properties": [],
            "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}),
        json!({"type": "RECORD", "stream": "users", "record": {"id": "not a number"}}),
    ]);
    let batched = String::from_utf8(batch::batched(&wrong, &config)).unwrap();
    let message: serde_json::Value = serde_json::from_str(batched.lines().last().unwrap()).unwrap();
    assert_eq!(message["type"], "BATCH");
    assert_batch_fails(&message, &[], &["stream `users`", "id"]);
}

#[test]
fn an_unreachable_store_or_bad_credentials_fail_without_showing_secrets() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let message = batch_message("jsonl", &["s3://batches/x.json.gz".to_owned()]);
    let env = [
        ("AWS_ACCESS_KEY_ID", "key"),
        ("AWS_SECRET_ACCESS_KEY", "very-secret-value"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    assert_batch_fails(&message, &env, &["s3://batches/x.json.gz", "reachable"]);

    let s3 = S3Server::start_with_auth();
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_batch_fails(&message, &env, &["s3://batches/x.json.gz", "credentials"]);
    let dest = TARGET.dest();
    let config = dest.config(&json!({}));
    let output = TARGET.run_env(&["--config", &config], &lines(&[message]), &env);
    assert!(
        !stderr(&output).contains(s3.secret()),
        "{}",
        stderr(&output)
    );
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
