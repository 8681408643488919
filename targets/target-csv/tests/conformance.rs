//! singer-sdk's target test streams, one test per file: the exit status, the acknowledged
//! state, and the content of every CSV file written.

mod common;

use std::collections::BTreeMap;

use common::{
    Dir, assert_failure, assert_states_relayed, assert_success, conformance, emitted_states,
    expected_files, read_csv, read_table, run_file, stdout,
};
use serde_json::json;

/// Loads the conformance files into one directory, in order, and checks each run succeeded,
/// relayed its state and that every file holds exactly the expected header and rows.
fn load(names: &[&str]) -> Dir {
    let dir = Dir::new();
    let config = dir.config(&json!({}));
    let mut inputs = Vec::new();
    for name in names {
        let path = conformance(name);
        let input = std::fs::read(&path).unwrap();
        let output = run_file(&config, &path);
        assert_success(&output);
        assert_states_relayed(&input, &emitted_states(&output));
        inputs.push(input);
    }
    let inputs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let expected = expected_files(&inputs);
    let mut written: Vec<String> = std::fs::read_dir(dir.out())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut names: Vec<String> = expected.keys().map(|s| format!("{s}.csv")).collect();
    names.sort();
    assert_eq!(written, names, "files written");
    for (stream, (header, rows)) in expected {
        let mut content = read_csv(&dir.csv(&stream));
        assert_eq!(content.remove(0), header, "header of {stream}");
        assert_eq!(content, rows, "rows of {stream}");
    }
    dir
}

/// Runs a file that must fail, and checks the report names the stream.
fn fails(name: &str, needles: &[&str]) -> Dir {
    let dir = Dir::new();
    let output = run_file(&dir.config(&json!({})), &conformance(name));
    assert_failure(&output, needles);
    assert_eq!(stdout(&output), "", "no state after a failure");
    dir
}

fn column(dir: &Dir, stream: &str, name: &str) -> Vec<String> {
    let (_, rows) = read_table(&dir.csv(stream));
    rows.into_iter().map(|r| r[name].clone()).collect()
}

#[test]
fn array_data() {
    let dir = load(&["array_data.singer"]);
    assert_eq!(
        column(&dir, "test_array_data", "fruits"),
        [
            r#"["apple","orange","pear"]"#,
            r#"["banana","apple"]"#,
            r#"["pear"]"#,
            r#"["orange","banana","apple","pear"]"#
        ]
    );
}

#[test]
fn camelcase() {
    let dir = load(&["camelcase.singer"]);
    let (header, rows) = read_table(&dir.csv("TestCamelcase"));
    assert_eq!(header, ["Id", "clientName"]);
    assert_eq!(rows[1]["clientName"], "Gitter iOS App");
}

#[test]
fn camelcase_complex_schema() {
    // Two SCHEMAs, the second with three more columns, and no records: the header widens.
    let dir = load(&["camelcase_complex_schema.singer"]);
    let content = read_csv(&dir.csv("ForecastingTypeToCategory"));
    assert_eq!(content.len(), 1);
    assert_eq!(content[0].len(), 15);
    assert_eq!(content[0][14], "_attribute_startswith_underscore");
}

#[test]
fn duplicate_records() {
    // Append-only: every version of a key is kept, in order.
    let dir = load(&["duplicate_records.singer"]);
    assert_eq!(
        column(&dir, "test_duplicate_records", "metric"),
        ["1", "2", "10", "20", "100"]
    );
}

#[test]
fn encoded_string_data() {
    let dir = load(&["encoded_string_data.singer"]);
    let info = column(&dir, "test_strings", "info");
    assert_eq!(info[1], "απλή συμβολοσειρά");
    assert_eq!(info[2], "简单的字串");
    assert_eq!(info[3], "chaîne simple");
    assert_eq!(info[4], "quoted \"string\"");
    assert_eq!(info[5], "various \" \\ / \n escape sequences");
    assert_eq!(info[6], "m");
    assert_eq!(info[7], "ā");
    assert_eq!(info[8], "ƙ");
    assert_eq!(info[9], "Double quoting: \\u0000 \\u0041 \\u0001");
    assert_eq!(info[10], "Control Characters in string: \u{0} A \u{1}");
    let objects = column(&dir, "test_strings_in_objects", "info");
    let object: serde_json::Value = serde_json::from_str(&objects[5]).unwrap();
    assert_eq!(object["value"], "various \" \\ / \n escape sequences");
    let object: serde_json::Value = serde_json::from_str(&objects[10]).unwrap();
    assert_eq!(object["value"], "\u{0} A \u{1}");
    let arrays = column(&dir, "test_strings_in_arrays", "strings");
    let array: serde_json::Value = serde_json::from_str(&arrays[0]).unwrap();
    assert_eq!(
        array,
        json!(["simple string", "απλή συμβολοσειρά", "简单的字串"])
    );
    // Raw bytes: UTF-8, RFC 4180 quoting, the newline kept inside quotes.
    let raw = std::fs::read_to_string(dir.csv("test_strings")).unwrap();
    assert!(
        raw.starts_with("id,info\r\n1,simple string 2837\r\n"),
        "{raw}"
    );
    assert!(raw.contains("5,\"quoted \"\"string\"\"\"\r\n"), "{raw}");
    assert!(
        raw.contains("6,\"various \"\" \\ / \n escape sequences\"\r\n"),
        "{raw}"
    );
}

#[test]
fn invalid_schema() {
    let dir = fails(
        "invalid_schema.singer",
        &["test_invalid_schema", "properties", "line 1"],
    );
    assert!(!dir.csv("test_invalid_schema").exists());
}

#[test]
fn multiple_state_messages() {
    let input = std::fs::read(conformance("multiple_state_messages.singer")).unwrap();
    let dir = Dir::new();
    // Every state acknowledged as soon as its records are written.
    let config = dir.config(&json!({"batch_wait_limit_seconds": 0}));
    let output = run_file(&config, &conformance("multiple_state_messages.singer"));
    assert_success(&output);
    let emitted = emitted_states(&output);
    assert_states_relayed(&input, &emitted);
    assert_eq!(emitted.len(), 5, "{emitted:?}");
    assert_eq!(
        emitted.last().unwrap(),
        &json!({"test_multiple_state_messages_a": 5, "test_multiple_state_messages_b": 6})
    );
    assert_eq!(
        column(&dir, "test_multiple_state_messages_a", "id"),
        ["1", "2", "3", "4", "5", "6"]
    );
    assert_eq!(
        column(&dir, "test_multiple_state_messages_b", "metric"),
        ["110", "220", "330", "440", "550", "660"]
    );
    // With the default settings too (states may be coalesced).
    load(&["multiple_state_messages.singer"]);
}

#[test]
fn no_primary_keys() {
    let dir = load(&["no_primary_keys.singer"]);
    assert_eq!(column(&dir, "test_no_pk", "metric"), ["11", "22", "33"]);
}

#[test]
fn no_primary_keys_append() {
    // A second load appends to the same file, under the one header.
    let dir = load(&["no_primary_keys.singer", "no_primary_keys_append.singer"]);
    assert_eq!(
        column(&dir, "test_no_pk", "metric"),
        ["11", "22", "33", "101", "202", "303", "404", "505"]
    );
}

#[test]
fn optional_attributes() {
    let dir = load(&["optional_attributes.singer"]);
    assert_eq!(
        column(&dir, "test_optional_attributes", "optional"),
        ["This is optional", "", "Also optional", ""]
    );
}

#[test]
fn pk_updates() {
    let dir = load(&["pk_updates.singer"]);
    let (header, rows) = read_table(&dir.csv("example_stream"));
    assert_eq!(header, ["id", "name", "email"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["email"], "bob@example.com");
}

#[test]
fn record_before_schema() {
    let dir = fails(
        "record_before_schema.singer",
        &["test_record_before_schema", "line 1", "SCHEMA"],
    );
    assert!(!dir.csv("test_record_before_schema").exists());
}

#[test]
fn record_missing_fields() {
    let dir = load(&["record_missing_fields.singer"]);
    assert_eq!(
        column(&dir, "record_missing_fields", "optional"),
        ["now you see me", ""]
    );
}

#[test]
fn record_missing_key_property() {
    let dir = fails(
        "record_missing_key_property.singer",
        &["test_record_missing_key_property", "`id`", "line 2"],
    );
    // The file was opened at the SCHEMA; the bad record never reached it.
    assert_eq!(
        read_csv(&dir.csv("test_record_missing_key_property")),
        [["id", "metric"]]
    );
}

#[test]
fn record_missing_required_property() {
    let dir = fails(
        "record_missing_required_property.singer",
        &[
            "test_record_missing_required_property",
            "id",
            "required",
            "line 2",
        ],
    );
    assert_eq!(
        read_csv(&dir.csv("test_record_missing_required_property")).len(),
        1
    );
}

#[test]
fn schema_no_properties() {
    let dir = load(&["schema_no_properties.singer"]);
    assert_eq!(
        column(&dir, "test_object_schema_no_properties", "object_store"),
        [r#"{"id":1,"metric":1}"#, r#"{"id":2,"metric":2}"#]
    );
    assert_eq!(
        column(&dir, "test_object_schema_with_properties", "object_store")[1],
        r#"{"id":2,"metric":203}"#
    );
}

#[test]
fn schema_updates() {
    let dir = load(&["schema_updates.singer"]);
    let (header, rows) = read_table(&dir.csv("test_schema_updates"));
    assert_eq!(header, ["id", "a1", "a2", "a3", "a4", "a5", "a6"]);
    let row = |i: usize| -> Vec<&str> { header.iter().map(|c| rows[i][c].as_str()).collect() };
    assert_eq!(row(0), ["1", "101", "string1", "", "", "", ""]);
    assert_eq!(row(1), ["2", "102", "string2", "true", "", "", ""]);
    assert_eq!(
        row(2),
        [
            "3",
            "103",
            "string3",
            "false",
            r#"{"id":1,"value":1}"#,
            r#"["banana","apple"]"#,
            ""
        ]
    );
    assert_eq!(row(5)[6], "341");
    // No temp file from the rewrites is left behind.
    assert_eq!(std::fs::read_dir(dir.out()).unwrap().count(), 1);
}

#[test]
fn special_chars_in_attributes() {
    let dir = load(&["special_chars_in_attributes.singer"]);
    let d = column(&dir, "test:SpecialChars!in?attributes", "d");
    let d: serde_json::Value = serde_json::from_str(&d[0]).unwrap();
    assert_eq!(d["agent:os:version"], "10.13.1");
}

#[test]
fn user_location_data() {
    let dir = load(&["user_location_data.singer"]);
    let counts: BTreeMap<&str, usize> = ["test_users", "test_locations", "test_user_in_location"]
        .into_iter()
        .map(|s| (s, read_table(&dir.csv(s)).1.len()))
        .collect();
    assert_eq!(counts["test_users"], 5);
    assert_eq!(counts["test_locations"], 3);
    assert_eq!(counts["test_user_in_location"], 3);
}

#[test]
fn user_location_upsert_data() {
    // Loaded after user_location_data: appended (CSV files cannot upsert).
    let dir = load(&[
        "user_location_data.singer",
        "user_location_upsert_data.singer",
    ]);
    assert_eq!(
        column(&dir, "test_users", "name"),
        [
            "Yannis", "Micael", "Jacob", "Josh", "Thomas", "Johny", "George", "Jim", "Thomas",
            "Paul", "Mary"
        ]
    );
}

#[test]
fn target_fixture_messages() {
    let input = conformance("target-fixtures/messages.jsonl");
    let dir = Dir::new();
    let output = run_file(&dir.config(&json!({})), &input);
    assert_success(&output);
    assert_eq!(
        read_csv(&dir.csv("users")),
        [["id", "name"], ["1", "Chris"], ["2", "Mike"]]
    );
}
