//! singer-sdk's target test streams, one test per file, each fed to the binary and checked by
//! reading the tables back.

mod common;

use serde_json::{Value, json};

use common::{Env, assert_fails, assert_loaded, conformance, input_states, states, stderr};

/// Loads a conformance file with the default config (append-only) and checks the run.
fn load(name: &str) -> Env {
    load_with(name, &json!({}))
}

fn load_with(name: &str, extra: &Value) -> Env {
    let env = Env::new();
    let config = env.config(extra);
    let path = conformance(name);
    let output = env.run_file(&config, &path);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_loaded(&output, &text);
    env
}

/// Runs a conformance file that must fail.
fn fail(name: &str, fragments: &[&str]) -> Env {
    let env = Env::new();
    let config = env.config(&json!({}));
    let output = env.run_file(&config, &conformance(name));
    assert_fails(&output, 1, fragments);
    assert!(
        states(&output).is_empty(),
        "no state after a failure: {:?}",
        states(&output)
    );
    // One message line, then its causes: no backtrace, no debug dump.
    assert!(
        stderr(&output)
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count()
            == 1
    );
    env
}

fn json_text(value: &Value) -> Value {
    serde_json::from_str(value.as_str().expect("a JSON text column")).unwrap()
}

/// Every file of the directory has a test here (a new upstream file is noticed).
#[test]
fn every_conformance_file_is_covered() {
    let covered = [
        "array_data.singer",
        "camelcase.singer",
        "camelcase_complex_schema.singer",
        "duplicate_records.singer",
        "encoded_string_data.singer",
        "invalid_schema.singer",
        "multiple_state_messages.singer",
        "no_primary_keys.singer",
        "no_primary_keys_append.singer",
        "optional_attributes.singer",
        "pk_updates.singer",
        "record_before_schema.singer",
        "record_missing_fields.singer",
        "record_missing_key_property.singer",
        "record_missing_required_property.singer",
        "schema_no_properties.singer",
        "schema_updates.singer",
        "special_chars_in_attributes.singer",
        "user_location_data.singer",
        "user_location_upsert_data.singer",
    ];
    let mut files: Vec<String> = std::fs::read_dir(common::conformance_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".singer"))
        .collect();
    files.sort();
    assert_eq!(files, covered, "conformance files and tests differ");
}

#[test]
fn array_data() {
    let env = load("array_data.singer");
    let rows = env.query("SELECT id, fruits FROM test_array_data ORDER BY id");
    assert_eq!(rows.len(), 4);
    assert_eq!(json_text(&rows[0][1]), json!(["apple", "orange", "pear"]));
    assert_eq!(
        json_text(&rows[3][1]),
        json!(["orange", "banana", "apple", "pear"])
    );
    assert_eq!(
        env.columns("test_array_data"),
        [
            ("id".into(), "INTEGER".into()),
            ("fruits".into(), "TEXT".into())
        ]
    );
}

#[test]
fn camelcase() {
    let env = load("camelcase.singer");
    assert_eq!(env.tables(), ["testcamelcase"]);
    assert_eq!(
        env.query("SELECT id, clientname FROM testcamelcase ORDER BY id"),
        [
            [json!("1"), json!("Gitter Windows Desktop App")],
            [json!("2"), json!("Gitter iOS App")]
        ]
    );
}

#[test]
fn camelcase_complex_schema() {
    let env = load("camelcase_complex_schema.singer");
    let columns = env.columns("forecastingtypetocategory");
    let expected = [
        ("id", "TEXT"),
        ("isdeleted", "BOOLEAN"),
        ("createddate", "TEXT"),
        ("displayposition", "INTEGER"),
        // Added by the second SCHEMA.
        ("age", "INTEGER"),
        ("newcamelcasedattribute", "TEXT"),
        ("_attribute_startswith_underscore", "TEXT"),
    ];
    for (name, sql_type) in expected {
        assert!(
            columns.contains(&(name.to_owned(), sql_type.to_owned())),
            "{name} {sql_type} in {columns:?}"
        );
    }
    assert_eq!(columns.len(), 15);
    assert_eq!(
        env.query("SELECT count(*) FROM forecastingtypetocategory"),
        [[json!(0)]]
    );
}

#[test]
fn duplicate_records() {
    // Append-only into a keyed table: the last record of each key wins.
    let env = load("duplicate_records.singer");
    let expected = [[json!(1), json!(100)], [json!(2), json!(20)]];
    assert_eq!(
        env.query("SELECT id, metric FROM test_duplicate_records ORDER BY id"),
        expected
    );
    let env = load_with(
        "duplicate_records.singer",
        &json!({"load_method": "upsert"}),
    );
    assert_eq!(
        env.query("SELECT id, metric FROM test_duplicate_records ORDER BY id"),
        expected
    );
}

#[test]
fn encoded_string_data() {
    let env = load("encoded_string_data.singer");
    let text = std::fs::read_to_string(conformance("encoded_string_data.singer")).unwrap();
    let mut checked = 0;
    for line in text.lines() {
        let message: Value = serde_json::from_str(line).unwrap();
        if message["type"] != "RECORD" {
            continue;
        }
        let record = &message["record"];
        let (table, column) = match message["stream"].as_str().unwrap() {
            "test_strings" => ("test_strings", "info"),
            "test_strings_in_objects" => ("test_strings_in_objects", "info"),
            "test_strings_in_arrays" => ("test_strings_in_arrays", "strings"),
            other => panic!("unexpected stream {other}"),
        };
        let rows = env.query(&format!(
            "SELECT \"{column}\" FROM \"{table}\" WHERE id = {}",
            record["id"]
        ));
        assert_eq!(rows.len(), 1, "{table} id {}", record["id"]);
        let stored = &rows[0][0];
        let expected = &record[column];
        if expected.is_string() {
            // Byte for byte: unicode, quotes, backslashes, newlines, NUL and control chars.
            assert_eq!(stored, expected, "{table} id {}", record["id"]);
        } else {
            assert_eq!(&json_text(stored), expected, "{table} id {}", record["id"]);
        }
        checked += 1;
    }
    assert_eq!(checked, 28);
    let nul = env.query("SELECT info FROM test_strings WHERE id = 11");
    assert_eq!(
        nul[0][0],
        json!("Control Characters in string: \u{0} A \u{1}")
    );
    let escaped = env.query("SELECT info FROM test_strings WHERE id = 6");
    assert_eq!(escaped[0][0], json!("various \" \\ / \n escape sequences"));
}

#[test]
fn invalid_schema() {
    let env = fail(
        "invalid_schema.singer",
        &["test_invalid_schema", "line 1", "properties"],
    );
    assert!(env.tables().is_empty());
}

#[test]
fn multiple_state_messages() {
    let env = Env::new();
    let config = env.config(&json!({}));
    let path = conformance("multiple_state_messages.singer");
    let text = std::fs::read_to_string(&path).unwrap();
    let output = env.run_file(&config, &path);
    assert_loaded(&output, &text);
    let sent = input_states(&text);
    let got = states(&output);
    // Bare JSON states that were sent, in input order, ending with the last one.
    let mut position = 0;
    for state in &got {
        let found = sent[position..]
            .iter()
            .position(|s| s == state)
            .unwrap_or_else(|| panic!("{state} out of order or never sent"));
        position += found + 1;
    }
    assert_eq!(got.last(), sent.last());
    for line in common::stdout(&output).lines() {
        assert!(
            line.starts_with('{') && !line.contains("\"type\""),
            "{line}"
        );
    }
    assert_eq!(
        env.query("SELECT count(*), sum(metric) FROM test_multiple_state_messages_a"),
        [[json!(6), json!(2100)]]
    );
    assert_eq!(
        env.query("SELECT count(*), sum(metric) FROM test_multiple_state_messages_b"),
        [[json!(6), json!(2310)]]
    );
}

#[test]
fn no_primary_keys() {
    let env = load("no_primary_keys.singer");
    assert_eq!(
        env.query("SELECT id, metric FROM test_no_pk ORDER BY rowid"),
        [
            [json!(1), json!(11)],
            [json!(2), json!(22)],
            [json!(3), json!(33)]
        ]
    );
}

#[test]
fn no_primary_keys_append() {
    let env = load("no_primary_keys_append.singer");
    assert_eq!(
        env.query("SELECT count(*), sum(metric) FROM test_no_pk"),
        [[json!(5), json!(1515)]]
    );
}

#[test]
fn optional_attributes() {
    let env = load("optional_attributes.singer");
    assert_eq!(
        env.query("SELECT id, optional FROM test_optional_attributes ORDER BY id"),
        [
            [json!(1), json!("This is optional")],
            [json!(2), Value::Null],
            [json!(3), json!("Also optional")],
            [json!(4), Value::Null]
        ]
    );
}

#[test]
fn pk_updates() {
    let env = load("pk_updates.singer");
    assert_eq!(
        env.query("SELECT id, name, email FROM example_stream ORDER BY id"),
        [
            [json!(1), json!("Alice"), json!("alice@example.com")],
            [json!(2), json!("Bob"), json!("bob@example.com")]
        ]
    );
}

#[test]
fn record_before_schema() {
    let env = fail(
        "record_before_schema.singer",
        &["test_record_before_schema", "line 1", "before its SCHEMA"],
    );
    assert!(env.tables().is_empty());
}

#[test]
fn record_missing_fields() {
    let env = load("record_missing_fields.singer");
    assert_eq!(
        env.query("SELECT id, optional FROM record_missing_fields ORDER BY id"),
        [[json!(1), json!("now you see me")], [json!(2), Value::Null]]
    );
}

#[test]
fn record_missing_key_property() {
    let env = fail(
        "record_missing_key_property.singer",
        &["test_record_missing_key_property", "line 2", "`id`"],
    );
    assert_eq!(
        env.query("SELECT count(*) FROM test_record_missing_key_property"),
        [[json!(0)]]
    );
}

#[test]
fn record_missing_required_property() {
    let env = fail(
        "record_missing_required_property.singer",
        &[
            "test_record_missing_required_property",
            "line 2",
            "required",
        ],
    );
    assert_eq!(
        env.query("SELECT count(*) FROM test_record_missing_required_property"),
        [[json!(0)]]
    );
}

#[test]
fn schema_no_properties() {
    let env = load("schema_no_properties.singer");
    for table in [
        "test_object_schema_with_properties",
        "test_object_schema_no_properties",
    ] {
        let rows = env.query(&format!("SELECT object_store FROM {table} ORDER BY rowid"));
        assert_eq!(rows.len(), 2, "{table}");
        assert_eq!(json_text(&rows[0][0])["id"], json!(1), "{table}");
    }
    let rows = env.query("SELECT object_store FROM test_object_schema_with_properties");
    assert_eq!(json_text(&rows[1][0]), json!({"id": 2, "metric": 203}));
}

#[test]
fn schema_updates() {
    let env = load("schema_updates.singer");
    let columns: Vec<(String, String)> = env.columns("test_schema_updates");
    let expected = [
        ("id", "INTEGER"),
        ("a1", "REAL"),
        ("a2", "TEXT"),
        ("a3", "BOOLEAN"),
        ("a4", "TEXT"),
        ("a5", "TEXT"),
        ("a6", "INTEGER"),
    ];
    assert_eq!(columns, expected.map(|(n, t)| (n.to_owned(), t.to_owned())));
    let rows = env.query("SELECT id, a1, a2, a3, a4, a5, a6 FROM test_schema_updates ORDER BY id");
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[0],
        [
            json!(1),
            json!(101.0),
            json!("string1"),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null
        ]
    );
    assert_eq!(rows[1][3], json!(1));
    assert_eq!(rows[2][3], json!(0));
    assert_eq!(json_text(&rows[2][4]), json!({"id": 1, "value": 1}));
    assert_eq!(json_text(&rows[3][5]), json!(["orange", "pear"]));
    assert_eq!(rows[4][6], json!(985));
    assert_eq!(rows[5][6], json!(341));
}

#[test]
fn special_chars_in_attributes() {
    let env = load("special_chars_in_attributes.singer");
    assert_eq!(env.tables(), ["testspecialcharsinattributes"]);
    let rows = env.query("SELECT _id, d FROM testspecialcharsinattributes");
    assert_eq!(rows[0][0], json!("a2e98886"));
    assert_eq!(
        json_text(&rows[0][1]),
        json!({"env": "prod", "agent:type": "desktop", "agent:os:version": "10.13.1"})
    );
}

#[test]
fn user_location_data() {
    let env = load("user_location_data.singer");
    assert_eq!(
        env.tables(),
        ["test_locations", "test_user_in_location", "test_users"]
    );
    assert_eq!(env.query("SELECT count(*) FROM test_users"), [[json!(5)]]);
    assert_eq!(
        env.query("SELECT count(*) FROM test_locations"),
        [[json!(3)]]
    );
    let rows =
        env.query("SELECT id, user_id, location_id, info FROM test_user_in_location ORDER BY id");
    assert_eq!(rows.len(), 3);
    assert_eq!(
        json_text(&rows[1][3]),
        json!({"weather": "sunny", "mood": "satisfied"})
    );
}

#[test]
fn user_location_upsert_data() {
    let env = load("user_location_upsert_data.singer");
    assert_eq!(env.query("SELECT count(*) FROM test_users"), [[json!(6)]]);
    assert_eq!(
        env.query("SELECT count(*) FROM test_locations"),
        [[json!(4)]]
    );
    assert_eq!(
        env.query("SELECT count(*) FROM test_user_in_location"),
        [[json!(4)]]
    );
}
