//! singer-sdk's BATCH fixtures (parquet with struct and list columns, gzip JSON Lines) load
//! through the binary as the records pyarrow reads from them; and stream maps and flattening
//! apply to the records of BATCH files (jsonl and parquet) as to RECORDs.

use serde_json::{Value, json};
use target_test_support::Target;
use target_test_support::batch::{
    assert_batches_load_like_records_with, assert_sdk_fixtures_load, maps_and_flattening,
    sample_input,
};
use target_test_support::sqlite::query;

const TARGET: Target = Target::sqlite(env!("CARGO_BIN_EXE_target-sqlite"));

#[test]
fn singer_sdk_batch_fixtures_load_as_the_records_they_hold() {
    assert_sdk_fixtures_load(&TARGET, |dest, fixture, rows| {
        let table = fixture.stream;
        let count = query(&dest.out(), &format!("SELECT COUNT(*) FROM \"{table}\""));
        assert_eq!(count[0][0], json!(rows.len()), "{table}");
        if table == "countries" {
            // The struct and list-of-struct columns hold what pyarrow read.
            let loaded = query(
                &dest.out(),
                "SELECT continent, languages FROM countries WHERE code = 'AD'",
            );
            let andorra = rows.iter().find(|r| r["code"] == "AD").expect("Andorra");
            let json_of =
                |v: &Value| serde_json::from_str::<Value>(v.as_str().expect("JSON text")).unwrap();
            assert_eq!(json_of(&loaded[0][0]), andorra["continent"]);
            assert_eq!(json_of(&loaded[0][1]), andorra["languages"]);
        }
    });
}

#[test]
fn maps_and_flattening_apply_to_batch_files_as_to_records() {
    let settings = maps_and_flattening();
    assert_batches_load_like_records_with(
        &TARGET,
        &sample_input(),
        |dest| dest.path("batches").display().to_string(),
        &json!({}),
        &[],
        &settings,
    );
    let dest = TARGET.dest();
    let output = TARGET.run_stdin(dest.config(&settings), &sample_input());
    target_test_support::assert_ok(&output);
    let users = query(
        &dest.out(),
        "SELECT id, address__city FROM users ORDER BY id",
    );
    assert_eq!(
        users,
        [1, 2, 3, 5]
            .map(|id| vec![json!(id), json!("Oslo")])
            .to_vec()
    );
    let tables = query(
        &dest.out(),
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    assert_eq!(
        tables,
        vec![
            vec![json!("purchases")],
            vec![json!("user_cities")],
            vec![json!("users")]
        ]
    );
}
