//! singer-sdk's BATCH fixtures (parquet with struct and list columns, gzip JSON Lines) load
//! through the binary as the records pyarrow reads from them; and stream maps and flattening
//! apply to the records of BATCH files (jsonl and parquet, local and in S3) as to RECORDs.

use serde_json::json;
use target_test_support::Target;
use target_test_support::batch::{
    ENCODINGS, assert_batches_load_like_records_with, assert_sdk_fixtures_load,
    maps_and_flattening, sample_input,
};
use target_test_support::jsonl::file_name;
use target_test_support::s3::S3Server;

const TARGET: Target = Target::jsonl(env!("CARGO_BIN_EXE_target-jsonl"));

#[test]
fn singer_sdk_batch_fixtures_load_as_the_records_they_hold() {
    assert_sdk_fixtures_load(&TARGET, |dest, fixture, rows| {
        // The file holds exactly the rows pyarrow (or gzip + serde_json) read, in order.
        let written = dest.records(&file_name(fixture.stream));
        assert_eq!(written.len(), rows.len(), "{}", fixture.stream);
        for (i, (got, want)) in written.iter().zip(rows).enumerate() {
            assert_eq!(got, want, "{}: row {i}", fixture.stream);
        }
    });
}

#[test]
fn maps_and_flattening_apply_to_local_batch_files_as_to_records() {
    assert!(ENCODINGS.iter().any(|(f, _)| *f == "parquet"));
    let settings = maps_and_flattening();
    assert_batches_load_like_records_with(
        &TARGET,
        &sample_input(),
        |dest| dest.path("batches").display().to_string(),
        &json!({}),
        &[],
        &settings,
    );
    // And the maps did apply: the RECORD load (which the BATCH loads equal) is mapped.
    let dest = TARGET.dest();
    let output = TARGET.run_stdin(dest.config(&settings), &sample_input());
    target_test_support::assert_ok(&output);
    let users = dest.records("users.jsonl");
    assert_eq!(users.len(), 4, "user 4 is filtered out: {users:?}");
    let first = users[0].as_object().unwrap();
    assert_eq!(first["name_upper"], "USER 1");
    assert_eq!(first["address__city"], "Oslo");
    assert_eq!(first["tags"], json!("[\"a\",\"t1\"]"));
    assert!(!first.contains_key("active") && !first.contains_key("address"));
    let purchases = dest.records("purchases.jsonl");
    assert_eq!(purchases[0]["total_cents"], 1025);
    assert!(purchases[0].get("user_id").is_none());
    let cities = dest.records("user_cities.jsonl");
    assert_eq!(cities.len(), 5);
    assert_eq!(
        cities[1],
        json!({"id": 2, "city": "Oslo", "first_tag": "a"})
    );
    assert!(!dest.files().contains(&"orders.jsonl".to_owned()));
}

#[test]
fn maps_and_flattening_apply_to_batch_files_in_s3_as_to_records() {
    let s3 = S3Server::start();
    s3.create_bucket("batches");
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_batches_load_like_records_with(
        &TARGET,
        &sample_input(),
        |_| "s3://batches/mapped".to_owned(),
        &s3.params(),
        &env,
        &maps_and_flattening(),
    );
}
