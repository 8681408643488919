//! The singer-sdk target conformance files, fed to the binary: what each must write (or why
//! it must fail).

mod common;

use serde_json::{Value, json};

use common::{Dest, Input, assert_fails, assert_ok, conformance, file_name, run, states};

/// Loads a conformance file that must succeed into `dest`, and checks what every loader of
/// it must hold: each stream's file has exactly the input's records, in order, value for
/// value; no other file exists; stdout holds only input states, in order, each acknowledged
/// after its records, and ends with the input's last state.
fn load_ok_into(dest: &Dest, name: &str, previous: &[&str]) -> Vec<Value> {
    let path = conformance(name);
    let config = dest.config(&json!({}));
    let output = run(
        &["--config", &config, "--input", &path.display().to_string()],
        b"",
    );
    assert_ok(&output);
    let text = std::fs::read_to_string(&path).expect("read conformance file");
    let input = Input::parse(&text);
    let mut expected_files: Vec<String> = input.records.keys().map(|s| file_name(s)).collect();
    for earlier in previous {
        let earlier = Input::parse(&std::fs::read_to_string(conformance(earlier)).expect("read"));
        expected_files.extend(earlier.records.keys().map(|s| file_name(s)));
    }
    expected_files.sort();
    expected_files.dedup();
    assert_eq!(dest.files(), expected_files, "{name}: files written");
    if previous.is_empty() {
        for (stream, records) in &input.records {
            assert_eq!(
                &dest.records(&file_name(stream)),
                records,
                "{name}: records of `{stream}`"
            );
        }
    }
    let emitted = states(&output);
    match input.last_state() {
        Some(last) => assert_eq!(emitted.last(), Some(last), "{name}: last state"),
        None => assert!(emitted.is_empty(), "{name}: no state in, none out"),
    }
    if previous.is_empty() {
        input.assert_states_acknowledged(&emitted, dest);
    }
    emitted
}

fn load_ok(name: &str) -> Dest {
    let dest = Dest::new();
    load_ok_into(&dest, name, &[]);
    dest
}

fn load_fails(name: &str, fragments: &[&str]) -> Dest {
    let dest = Dest::new();
    let config = dest.config(&json!({}));
    let path = conformance(name).display().to_string();
    let output = run(&["--config", &config, "--input", &path], b"");
    assert_fails(&output, 1, fragments);
    assert!(
        states(&output).is_empty(),
        "{name}: no state after a failure"
    );
    dest
}

#[test]
fn array_data() {
    let dest = load_ok("array_data.singer");
    let records = dest.records("test_array_data.jsonl");
    assert_eq!(records.len(), 4);
    assert_eq!(
        records[3],
        json!({"id": 4, "fruits": ["orange", "banana", "apple", "pear"]})
    );
}

#[test]
fn camelcase() {
    let dest = load_ok("camelcase.singer");
    assert_eq!(
        dest.text("TestCamelcase.jsonl"),
        "{\"Id\":\"1\",\"clientName\":\"Gitter Windows Desktop App\"}\n{\"Id\":\"2\",\"clientName\":\"Gitter iOS App\"}\n"
    );
}

#[test]
fn camelcase_complex_schema() {
    // Only (repeated, then changed) SCHEMA messages: no records, so no file, like the
    // community target.
    let dest = load_ok("camelcase_complex_schema.singer");
    assert!(dest.files().is_empty(), "{:?}", dest.files());
}

#[test]
fn duplicate_records() {
    // A JSON Lines file is a log: every version of a key is kept, in order.
    let dest = load_ok("duplicate_records.singer");
    let metrics: Vec<Value> = dest
        .records("test_duplicate_records.jsonl")
        .iter()
        .map(|r| r["metric"].clone())
        .collect();
    assert_eq!(metrics, [1, 2, 10, 20, 100].map(Value::from));
}

#[test]
fn encoded_string_data() {
    let dest = load_ok("encoded_string_data.singer");
    let strings = dest.records("test_strings.jsonl");
    assert_eq!(strings.len(), 11);
    assert_eq!(strings[1]["info"], "απλή συμβολοσειρά");
    assert_eq!(strings[2]["info"], "简单的字串");
    assert_eq!(strings[3]["info"], "chaîne simple");
    assert_eq!(strings[4]["info"], "quoted \"string\"");
    assert_eq!(strings[5]["info"], "various \" \\ / \n escape sequences");
    assert_eq!(strings[6]["info"], "m");
    assert_eq!(strings[7]["info"], "\u{101}");
    assert_eq!(strings[8]["info"], "\u{199}");
    assert_eq!(
        strings[9]["info"],
        "Double quoting: \\u0000 \\u0041 \\u0001"
    );
    assert_eq!(
        strings[10]["info"],
        "Control Characters in string: \u{0} A \u{1}"
    );
    // Raw bytes: UTF-8 kept as is, control characters escaped, one record per line.
    let text = dest.text("test_strings.jsonl");
    assert!(text.contains("\"info\":\"απλή συμβολοσειρά\""), "{text}");
    assert!(text.contains("in string: \\u0000 A \\u0001\""), "{text}");
    assert!(
        text.contains("\"various \\\" \\\\ / \\n escape sequences\""),
        "{text}"
    );
    assert_eq!(text.lines().count(), 11);

    let objects = dest.records("test_strings_in_objects.jsonl");
    assert_eq!(
        objects[1]["info"],
        json!({"name": "greek", "value": "απλή συμβολοσειρά"})
    );
    assert_eq!(objects[10]["info"]["value"], "\u{0} A \u{1}");
    let arrays = dest.records("test_strings_in_arrays.jsonl");
    assert_eq!(arrays[3]["strings"], json!(["m", "\u{101}", "\u{199}"]));
    assert_eq!(
        arrays[5]["strings"][1],
        "Control Characters in string: \u{0} A \u{1}"
    );
}

#[test]
fn invalid_schema() {
    let dest = load_fails(
        "invalid_schema.singer",
        &["line 1", "`test_invalid_schema`", "properties"],
    );
    assert!(dest.files().is_empty());
}

#[test]
fn multiple_state_messages() {
    let dest = Dest::new();
    let emitted = load_ok_into(&dest, "multiple_state_messages.singer", &[]);
    assert!(!emitted.is_empty());
    assert_eq!(
        emitted.last(),
        Some(&json!({"test_multiple_state_messages_a": 5, "test_multiple_state_messages_b": 6}))
    );
    assert_eq!(
        dest.records("test_multiple_state_messages_a.jsonl").len(),
        6
    );
    assert_eq!(
        dest.records("test_multiple_state_messages_b.jsonl").len(),
        6
    );
}

#[test]
fn multiple_state_messages_each_acknowledged_when_written_at_once() {
    // With no wait, every STATE is relayed as soon as the records before it are written.
    let dest = Dest::new();
    let config = dest.config(&json!({"batch_wait_limit_seconds": 0}));
    let path = conformance("multiple_state_messages.singer");
    let output = run(
        &["--config", &config, "--input", &path.display().to_string()],
        b"",
    );
    assert_ok(&output);
    let input = Input::parse(&std::fs::read_to_string(&path).expect("read"));
    let all: Vec<Value> = input.states.iter().map(|(v, _)| v.clone()).collect();
    assert_eq!(states(&output), all);
}

#[test]
fn no_primary_keys() {
    let dest = load_ok("no_primary_keys.singer");
    assert_eq!(dest.records("test_no_pk.jsonl").len(), 3);
}

#[test]
fn no_primary_keys_append() {
    // The second load appends to the first one's file.
    let dest = load_ok("no_primary_keys.singer");
    load_ok_into(
        &dest,
        "no_primary_keys_append.singer",
        &["no_primary_keys.singer"],
    );
    let metrics: Vec<Value> = dest
        .records("test_no_pk.jsonl")
        .iter()
        .map(|r| r["metric"].clone())
        .collect();
    assert_eq!(
        metrics,
        [11, 22, 33, 101, 202, 303, 404, 505].map(Value::from)
    );
}

#[test]
fn optional_attributes() {
    let dest = load_ok("optional_attributes.singer");
    let records = dest.records("test_optional_attributes.jsonl");
    assert_eq!(records[0], json!({"id": 1, "optional": "This is optional"}));
    // Absent stays absent (not null).
    assert_eq!(records[1], json!({"id": 2}));
}

#[test]
fn pk_updates() {
    let dest = load_ok("pk_updates.singer");
    let records = dest.records("example_stream.jsonl");
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["email"], "bob@example.com");
}

#[test]
fn record_before_schema() {
    let dest = load_fails(
        "record_before_schema.singer",
        &["line 1", "`test_record_before_schema`", "before its SCHEMA"],
    );
    assert!(dest.files().is_empty());
}

#[test]
fn record_missing_fields() {
    let dest = load_ok("record_missing_fields.singer");
    assert_eq!(
        dest.records("record_missing_fields.jsonl"),
        [
            json!({"id": 1, "optional": "now you see me"}),
            json!({"id": 2})
        ]
    );
}

#[test]
fn record_missing_fields_relays_empty_state() {
    let dest = Dest::new();
    let emitted = load_ok_into(&dest, "record_missing_fields.singer", &[]);
    assert_eq!(emitted, [json!({})]);
}

#[test]
fn record_missing_key_property() {
    let dest = load_fails(
        "record_missing_key_property.singer",
        &[
            "line 2",
            "`test_record_missing_key_property`",
            "key property `id`",
        ],
    );
    assert!(dest.files().is_empty());
}

#[test]
fn record_missing_required_property() {
    let dest = load_fails(
        "record_missing_required_property.singer",
        &[
            "line 2",
            "`test_record_missing_required_property`",
            "\"id\"",
            "required",
        ],
    );
    assert!(dest.files().is_empty());
}

#[test]
fn schema_no_properties() {
    let dest = load_ok("schema_no_properties.singer");
    assert_eq!(
        dest.records("test_object_schema_no_properties.jsonl")[1],
        json!({"object_store": {"id": 2, "metric": 2}})
    );
    assert_eq!(
        dest.records("test_object_schema_with_properties.jsonl")[0],
        json!({"object_store": {"id": 1, "metric": 187}})
    );
}

#[test]
fn schema_updates() {
    let dest = load_ok("schema_updates.singer");
    let text = dest.text("test_schema_updates.jsonl");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0], "{\"id\":1,\"a1\":101,\"a2\":\"string1\"}");
    assert_eq!(
        lines[5],
        "{\"id\":6,\"a1\":106,\"a2\":\"string6\",\"a3\":true,\"a4\":{\"id\":4,\"value\":444},\"a5\":[\"banana\",\"orange\"],\"a6\":341}"
    );
    let records = dest.records("test_schema_updates.jsonl");
    assert_eq!(records[1]["a3"], true);
    assert_eq!(records[2]["a5"], json!(["banana", "apple"]));
}

#[test]
fn special_chars_in_attributes() {
    let dest = load_ok("special_chars_in_attributes.singer");
    assert_eq!(dest.files(), ["test_SpecialChars_in_attributes.jsonl"]);
    assert_eq!(
        dest.records("test_SpecialChars_in_attributes.jsonl"),
        [
            json!({"_id": "a2e98886", "d": {"env": "prod", "agent:type": "desktop", "agent:os:version": "10.13.1"}})
        ]
    );
}

#[test]
fn user_location_data() {
    let dest = load_ok("user_location_data.singer");
    assert_eq!(dest.records("test_users.jsonl").len(), 5);
    assert_eq!(
        dest.records("test_locations.jsonl")[2],
        json!({"id": 3, "name": "SF"})
    );
    assert_eq!(
        dest.records("test_user_in_location.jsonl")[0]["info"],
        json!({"weather": "rainy", "mood": "sad"})
    );
}

#[test]
fn user_location_upsert_data() {
    // Loaded after user_location_data: appended, every version kept.
    let dest = load_ok("user_location_data.singer");
    load_ok_into(
        &dest,
        "user_location_upsert_data.singer",
        &["user_location_data.singer"],
    );
    let users = dest.records("test_users.jsonl");
    assert_eq!(users.len(), 11);
    assert_eq!(users[0], json!({"id": 1, "name": "Yannis"}));
    assert_eq!(users[5], json!({"id": 1, "name": "Johny"}));
    assert_eq!(dest.records("test_locations.jsonl").len(), 7);
    assert_eq!(dest.records("test_user_in_location.jsonl").len(), 7);
}
