//! Bad input and failing destinations: each run fails with exit code 1 and a report naming the
//! stream (and line or file), without a panic, and acknowledges no state past the last
//! durable write.

use std::path::Path;

use serde_json::{Value, json};

use target_test_support::csv::{assert_acknowledged_state_is_durable, read_csv};
use target_test_support::{Dest, Target, assert_fails, states, stderr};

const TARGET: Target = Target::csv(env!("CARGO_BIN_EXE_target-csv"));

const SCHEMA: &str = r#"{"type": "SCHEMA", "stream": "items", "key_properties": ["id"], "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}}"#;

fn record(id: u64) -> String {
    format!(r#"{{"type": "RECORD", "stream": "items", "record": {{"id": {id}, "name": "n{id}"}}}}"#)
}

const STATE_1: &str = r#"{"type": "STATE", "value": {"position": 1}}"#;

/// A good start (SCHEMA, two records, STATE 1), then `bad`, then more that must not load.
fn input_with(bad: &[u8]) -> Vec<u8> {
    let mut input = format!("{SCHEMA}\n{}\n{}\n{STATE_1}\n", record(1), record(2)).into_bytes();
    input.extend_from_slice(bad);
    input.extend_from_slice(
        format!(
            "\n{}\n{{\"type\": \"STATE\", \"value\": {{\"position\": 2}}}}\n",
            record(3)
        )
        .as_bytes(),
    );
    input
}

/// Runs `input` with every state acknowledged as soon as possible, and checks the failure:
/// the report holds `needles`, the only state acknowledged is STATE 1 (or none), and the
/// rows it covers are in the file.
fn check(input: &[u8], needles: &[&str]) -> Dest {
    let dir = TARGET.dest();
    let config = dir.config(&json!({"batch_wait_limit_seconds": 0}));
    let output = TARGET.run_stdin(&config, input);
    assert_fails(&output, 1, needles);
    let emitted = states(&output);
    assert!(
        emitted.is_empty() || emitted == [json!({"position": 1})],
        "state past the failure: {emitted:?}"
    );
    assert_acknowledged_state_is_durable(&dir, input, &emitted);
    dir
}

fn ids(path: &Path) -> Vec<String> {
    read_csv(path)
        .into_iter()
        .skip(1)
        .map(|r| r[0].clone())
        .collect()
}

#[test]
fn malformed_json_line() {
    let dir = check(
        &input_with(br#"{"type": "RECORD", "stream": "items", "record": {"id": 9"#),
        &["line 5"],
    );
    assert_eq!(ids(&dir.csv("items")), ["1", "2"]);
}

#[test]
fn record_before_schema() {
    let bad = br#"{"type": "RECORD", "stream": "other", "record": {"id": 1}}"#;
    check(&input_with(bad), &["line 5", "`other`", "SCHEMA"]);
}

#[test]
fn record_failing_validation_names_field_and_rule() {
    let bad = br#"{"type": "RECORD", "stream": "items", "record": {"id": 7, "name": 12}}"#;
    let dir = check(&input_with(bad), &["line 5", "`items`", "/name", "type"]);
    assert_eq!(ids(&dir.csv("items")), ["1", "2"]);
}

#[test]
fn record_missing_key_property() {
    let bad = br#"{"type": "RECORD", "stream": "items", "record": {"name": "no id"}}"#;
    check(
        &input_with(bad),
        &["line 5", "`items`", "key property `id`"],
    );
}

#[test]
fn invalid_schemas() {
    let no_properties = br#"{"type": "SCHEMA", "stream": "broken", "key_properties": [], "schema": {"type": "object"}}"#;
    check(
        &input_with(no_properties),
        &["line 5", "`broken`", "properties"],
    );
    let not_json_schema = br#"{"type": "SCHEMA", "stream": "broken", "key_properties": [], "schema": {"type": "object", "properties": {"a": {"type": "nonsense"}}}}"#;
    check(
        &input_with(not_json_schema),
        &["line 5", "`broken`", "not a valid JSON Schema"],
    );
    let missing_key = br#"{"type": "SCHEMA", "stream": "broken", "key_properties": ["nope"], "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}"#;
    check(&input_with(missing_key), &["line 5", "`broken`", "`nope`"]);
    let no_columns = br#"{"type": "SCHEMA", "stream": "broken", "key_properties": [], "schema": {"type": "object", "properties": {}}}"#;
    check(&input_with(no_columns), &["`broken`", "no properties"]);
}

#[test]
fn invalid_utf8() {
    let bad = b"{\"type\": \"RECORD\", \"stream\": \"items\", \"record\": {\"id\": 8, \"name\": \"\xff\xfe\"}}";
    let dir = check(&input_with(bad), &["line 5", "UTF-8"]);
    assert_eq!(ids(&dir.csv("items")), ["1", "2"]);
}

#[test]
fn output_path_is_a_file() {
    let dir = TARGET.dest();
    let file = dir.write("not-a-dir", "x");
    let config = dir.write("config.json", json!({"output_path": file}).to_string());
    let output = TARGET.run_stdin(&config, &input_with(b""));
    let exit = output.status.code();
    assert_fails(&output, 1, &["output_path", "not-a-dir", "not a directory"]);
    assert_eq!(exit, Some(1));
    assert!(states(&output).is_empty());
}

#[test]
fn output_path_under_a_file() {
    let dir = TARGET.dest();
    let file = dir.write("plain", "x");
    let config = dir.write(
        "config.json",
        json!({"output_path": file.join("sub")}).to_string(),
    );
    let output = TARGET.run_stdin(&config, &input_with(b""));
    assert_fails(&output, 1, &["cannot create output directory", "plain/sub"]);
    assert!(states(&output).is_empty());
}

#[test]
fn stream_file_is_a_directory() {
    // The first stream loads; the second's file is a directory.
    let bad = br#"{"type": "SCHEMA", "stream": "blocked", "key_properties": [], "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}"#;
    let dir = TARGET.dest();
    std::fs::create_dir_all(dir.out().join("blocked.csv")).unwrap();
    let config = dir.config(&json!({"batch_wait_limit_seconds": 0}));
    let input = input_with(bad);
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(
        &output,
        1,
        &["stream `blocked`", "blocked.csv", "is a directory"],
    );
    assert_eq!(states(&output), [json!({"position": 1})]);
    // Rows 1 and 2 are acknowledged; row 3 may be written too (drained with `full`), but
    // nothing acknowledges it, so a resumed run sends it again.
    assert_eq!(ids(&dir.csv("items"))[..2], ["1", "2"]);
}

#[test]
fn read_only_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TARGET.dest();
    std::fs::create_dir_all(dir.out()).unwrap();
    std::fs::set_permissions(dir.out(), std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.out().join("probe"), "x").is_ok() {
        // Running as root: permission bits do not stop writes; the other tests cover it.
        eprintln!("skipped: the directory is writable despite its mode (running as root)");
        return;
    }
    let config = dir.config(&json!({}));
    let output = TARGET.run_stdin(&config, &input_with(b""));
    assert_fails(
        &output,
        1,
        &["stream `items`", "items.csv", "ermission denied"],
    );
    assert!(states(&output).is_empty());
}

/// The file of a stream is a symlink to `/dev/full`: every write fails with ENOSPC.
fn full_disk(dir: &Dest, stream: &str) {
    std::fs::create_dir_all(dir.out()).unwrap();
    std::os::unix::fs::symlink("/dev/full", dir.csv(stream)).unwrap();
}

#[test]
fn disk_full() {
    let dir = TARGET.dest();
    full_disk(&dir, "items");
    let config = dir.config(&json!({}));
    let input = format!("{SCHEMA}\n{}\n{}\n{STATE_1}\n", record(1), record(2));
    let output = TARGET.run_stdin(&config, input.as_bytes());
    assert_fails(
        &output,
        1,
        &[
            "stream `items`",
            "cannot write 2 records",
            "items.csv",
            "No space left on device",
        ],
    );
    assert!(states(&output).is_empty(), "state for records not written");
}

#[test]
fn disk_full_after_a_durable_state() {
    // `items` loads and its state is acknowledged; then `full` cannot be written: the state
    // after `full`'s records is never acknowledged.
    let dir = TARGET.dest();
    full_disk(&dir, "full");
    let config = dir.config(&json!({"batch_wait_limit_seconds": 0}));
    let bad = [
        r#"{"type": "SCHEMA", "stream": "full", "key_properties": [], "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}"#,
        r#"{"type": "RECORD", "stream": "full", "record": {"a": "x"}}"#,
    ]
    .join("\n");
    let input = input_with(bad.as_bytes());
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 1, &["stream `full`", "No space left on device"]);
    assert_eq!(states(&output), [json!({"position": 1})]);
    // Rows 1 and 2 are acknowledged; row 3 may be written too (drained together with
    // `full`), but nothing acknowledges it, so a resumed run sends it again.
    assert_eq!(ids(&dir.csv("items"))[..2], ["1", "2"]);
}

#[test]
fn bad_settings_exit_2() {
    let dir = TARGET.dest();
    let cases: [(Value, &str); 4] = [
        (
            json!({"timestamp_timezone": "Mars/Olympus"}),
            "timestamp_timezone",
        ),
        (json!({"file_naming_scheme": "{table}.csv"}), "{table}"),
        (json!({"escape_character": "ab"}), "escape_character"),
        (json!({"overwrite_behavior": "merge"}), "overwrite_behavior"),
    ];
    for (config, needle) in cases {
        let config = dir.config(&config);
        let output = TARGET.run_stdin(&config, SCHEMA.as_bytes());
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(
            err.contains(needle) && err.contains("config is not valid"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn upsert_is_refused() {
    let dir = TARGET.dest();
    let config = dir.config(&json!({"load_method": "upsert"}));
    let output = TARGET.run_stdin(&config, input_with(b"").as_slice());
    assert_fails(&output, 1, &["upsert", "append-only"]);
}

#[test]
fn two_streams_one_file() {
    let dir = TARGET.dest();
    let config = dir.config(&json!({"file_naming_scheme": "all.csv"}));
    let other = br#"{"type": "SCHEMA", "stream": "other", "key_properties": [], "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}"#;
    let output = TARGET.run_stdin(&config, &input_with(other));
    assert_fails(
        &output,
        1,
        &["`items` and `other`", "all.csv", "{stream_name}"],
    );
}
