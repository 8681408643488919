//! What the files look like under each setting: naming, appending across runs (one header,
//! widened when needed), replacing, escaping, sorting, metadata columns; and the CLI's
//! `--about` and `--version`.

use chrono::{FixedOffset, Utc};

use serde_json::{Value, json};

use target_test_support::csv::{read_csv, read_table};
use target_test_support::{Dest, FILE_TARGET_CAPABILITIES, Target, assert_ok, states, stdout};

const TARGET: Target = Target::csv(env!("CARGO_BIN_EXE_target-csv"));

fn schema(stream: &str, properties: &Value) -> String {
    json!({"type": "SCHEMA", "stream": stream, "key_properties": [], "schema": {"type": "object", "properties": properties}})
        .to_string()
}

fn record(stream: &str, record: &Value) -> String {
    json!({"type": "RECORD", "stream": stream, "record": record}).to_string()
}

fn input(lines: &[String]) -> Vec<u8> {
    let mut text = lines.join("\n");
    text.push('\n');
    text.into_bytes()
}

fn id_name() -> Value {
    json!({"id": {"type": "integer"}, "name": {"type": ["string", "null"]}})
}

fn load(dir: &Dest, config: &Value, lines: &[String]) {
    let output = TARGET.run_stdin(dir.config(config), &input(lines));
    assert_ok(&output);
}

#[test]
fn appending_across_runs_keeps_one_header() {
    let dir = TARGET.dest();
    let lines = |from: u64| {
        let mut lines = vec![schema("s", &id_name())];
        lines.extend(
            (from..from + 2).map(|i| record("s", &json!({"id": i, "name": format!("n{i}")}))),
        );
        lines
    };
    load(&dir, &json!({}), &lines(1));
    load(&dir, &json!({}), &lines(3));
    load(
        &dir,
        &json!({"overwrite_behavior": "append_records", "load_method": "overwrite"}),
        &lines(5),
    );
    assert_eq!(
        read_csv(&dir.csv("s")),
        [
            ["id", "name"],
            ["1", "n1"],
            ["2", "n2"],
            ["3", "n3"],
            ["4", "n4"],
            ["5", "n5"],
            ["6", "n6"]
        ]
    );
}

#[test]
fn a_later_run_with_new_columns_widens_the_file() {
    let dir = TARGET.dest();
    load(
        &dir,
        &json!({}),
        &[
            schema("s", &id_name()),
            record("s", &json!({"id": 1, "name": "a,\"b\"\nc"})),
        ],
    );
    let wider = json!({"id": {"type": "integer"}, "name": {"type": ["string", "null"]}, "tags": {"type": "array"}});
    load(
        &dir,
        &json!({}),
        &[
            schema("s", &wider),
            record("s", &json!({"id": 2, "tags": [1]})),
        ],
    );
    assert_eq!(
        read_csv(&dir.csv("s")),
        [
            vec!["id", "name", "tags"],
            vec!["1", "a,\"b\"\nc", ""],
            vec!["2", "", "[1]"]
        ]
    );
}

#[test]
fn an_existing_header_is_kept_in_its_order() {
    // A file made elsewhere: other column order, a column the schema lacks, a BOM.
    let dir = TARGET.dest();
    std::fs::create_dir_all(dir.out()).unwrap();
    std::fs::write(dir.csv("s"), "\u{feff}name,legacy,id\r\nold,x,0\r\n").unwrap();
    load(
        &dir,
        &json!({}),
        &[
            schema("s", &id_name()),
            record("s", &json!({"id": 1, "name": "new"})),
        ],
    );
    let text = std::fs::read_to_string(dir.csv("s")).unwrap();
    assert_eq!(text, "\u{feff}name,legacy,id\r\nold,x,0\r\nnew,,1\r\n");
}

#[test]
fn replace_file_starts_over_once_per_run() {
    let dir = TARGET.dest();
    load(
        &dir,
        &json!({}),
        &[schema("s", &id_name()), record("s", &json!({"id": 1}))],
    );
    // Replaced at the first SCHEMA; a second SCHEMA in the same run appends (widening).
    let wider = json!({"id": {"type": "integer"}, "name": {"type": ["string", "null"]}, "x": {"type": "string"}});
    let lines = [
        schema("s", &id_name()),
        record("s", &json!({"id": 2})),
        schema("s", &wider),
        record("s", &json!({"id": 3, "x": "y"})),
    ];
    load(&dir, &json!({"overwrite_behavior": "replace_file"}), &lines);
    assert_eq!(
        read_csv(&dir.csv("s")),
        [["id", "name", "x"], ["2", "", ""], ["3", "", "y"]]
    );
    // `load_method: overwrite` means the same when overwrite_behavior is unset.
    load(
        &dir,
        &json!({"load_method": "overwrite"}),
        &[schema("s", &id_name()), record("s", &json!({"id": 4}))],
    );
    assert_eq!(read_csv(&dir.csv("s")), [["id", "name"], ["4", ""]]);
}

#[test]
fn file_naming_scheme_with_datestamp_timestamp_and_subdirectories() {
    let dir = TARGET.dest();
    let zone = FixedOffset::east_opt(14 * 3600).unwrap();
    let before = Utc::now().with_timezone(&zone);
    let config = json!({
        "file_naming_scheme": "{stream_name}/{datestamp}/{stream_name}-{timestamp}.csv",
        "datestamp_format": "%Y%m%d",
        "timestamp_format": "%Y",
        "timestamp_timezone": "+14:00",
    });
    load(
        &dir,
        &config,
        &[schema("a/b", &id_name()), record("a/b", &json!({"id": 1}))],
    );
    let after = Utc::now().with_timezone(&zone);
    let found = [before, after].iter().any(|t| {
        dir.out()
            .join("a_b")
            .join(t.format("%Y%m%d").to_string())
            .join(format!("a_b-{}.csv", t.format("%Y")))
            .is_file()
    });
    assert!(found, "{:?}", walk(&dir.out()));
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

#[test]
fn default_output_path_is_the_working_directory() {
    let dir = TARGET.dest();
    let config = dir.write("config.json", "{}");
    let mut child = TARGET
        .command()
        .arg("--config")
        .arg(&config)
        .current_dir(dir.root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(&input(&[
                schema("s", &id_name()),
                record("s", &json!({"id": 1})),
            ]))
            .unwrap();
    }
    assert_ok(&child.wait_with_output().unwrap());
    assert_eq!(read_csv(&dir.path("s.csv")), [["id", "name"], ["1", ""]]);
}

#[test]
fn escape_character_escapes_quotes() {
    let dir = TARGET.dest();
    let lines = [
        schema("s", &id_name()),
        record("s", &json!({"id": 1, "name": "say \"hi\""})),
        record("s", &json!({"id": 2, "name": "back\\slash"})),
    ];
    load(&dir, &json!({"escape_character": "\\"}), &lines);
    assert_eq!(
        std::fs::read_to_string(dir.csv("s")).unwrap(),
        "id,name\r\n1,\"say \\\"hi\\\"\"\r\n2,\"back\\\\slash\"\r\n"
    );
    // A second run reads the file back in the same dialect (the escaped quotes do not
    // confuse the torn-row check) and appends.
    load(
        &dir,
        &json!({"escape_character": "\\"}),
        &[schema("s", &id_name()), record("s", &json!({"id": 3}))],
    );
    let text = std::fs::read_to_string(dir.csv("s")).unwrap();
    assert!(text.ends_with("2,\"back\\\\slash\"\r\n3,\r\n"), "{text}");
}

#[test]
fn records_sorted_within_a_batch() {
    let dir = TARGET.dest();
    let mut lines = vec![schema("s", &id_name())];
    for id in [3, 1, 2] {
        lines.push(record("s", &json!({"id": id})));
    }
    load(&dir, &json!({"record_sort_property_name": "id"}), &lines);
    let (_, rows) = read_table(&dir.csv("s"));
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
}

#[test]
fn metadata_columns_and_normalised_date_times() {
    let dir = TARGET.dest();
    let properties =
        json!({"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}});
    let lines = [
        schema("s", &properties),
        json!({"type": "RECORD", "stream": "s", "record": {"id": 1, "at": "2024-01-01T05:30:00+05:30"}, "time_extracted": "2024-01-02T00:00:00Z"}).to_string(),
    ];
    load(&dir, &json!({"add_record_metadata": true}), &lines);
    let (header, rows) = read_table(&dir.csv("s"));
    assert_eq!(&header[..3], ["id", "at", "_sdc_extracted_at"]);
    assert!(header.contains(&"_sdc_batched_at".to_owned()));
    assert_eq!(rows[0]["at"], "2024-01-01T00:00:00+00:00");
    assert_eq!(rows[0]["_sdc_extracted_at"], "2024-01-02T00:00:00+00:00");
    assert_eq!(rows[0]["_sdc_deleted_at"], "");
}

#[test]
fn a_symlinked_file_is_widened_in_place() {
    let dir = TARGET.dest();
    let real = dir.path("real");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::create_dir_all(dir.out()).unwrap();
    std::fs::write(real.join("data.csv"), "id\r\n1\r\n").unwrap();
    std::os::unix::fs::symlink(real.join("data.csv"), dir.csv("s")).unwrap();
    load(
        &dir,
        &json!({}),
        &[
            schema("s", &id_name()),
            record("s", &json!({"id": 2, "name": "b"})),
        ],
    );
    assert!(
        dir.csv("s")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        read_csv(&real.join("data.csv")),
        [["id", "name"], ["1", ""], ["2", "b"]]
    );
}

#[test]
fn states_pass_through_from_a_file_input() {
    let dir = TARGET.dest();
    let lines = [
        schema("s", &id_name()),
        record("s", &json!({"id": 1})),
        json!({"type": "STATE", "value": {"bookmarks": {"s": {"id": 1}}}}).to_string(),
    ];
    let path = dir.write("input.jsonl", input(&lines));
    let output = TARGET.run_file(dir.config(&json!({})), &path);
    assert_ok(&output);
    assert_eq!(states(&output), [json!({"bookmarks": {"s": {"id": 1}}})]);
}

#[test]
fn about_lists_the_settings_and_capabilities() {
    let about = TARGET.about();
    assert_eq!(about["name"], "target-csv");
    assert_eq!(about["capabilities"], json!(FILE_TARGET_CAPABILITIES));
    let settings = about["settings"]["properties"].as_object().unwrap();
    for name in [
        "output_path",
        "destination_path",
        "output_path_prefix",
        "file_naming_scheme",
        "datestamp_format",
        "timestamp_format",
        "timestamp_timezone",
        "record_sort_property_name",
        "overwrite_behavior",
        "escape_character",
        "load_method",
        "batch_size_rows",
    ] {
        let setting = &settings[name];
        assert!(setting["description"].is_string(), "{name}: {setting}");
    }
    assert_eq!(
        settings["file_naming_scheme"]["default"],
        "{stream_name}.csv"
    );
    assert_eq!(settings["timestamp_format"]["default"], "%Y-%m-%d.T%H%M%S");
    let markdown = TARGET
        .command()
        .args(["--about", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(stdout(&markdown).contains("| file_naming_scheme |"));
    let version = TARGET.command().arg("--version").output().unwrap();
    assert!(stdout(&version).starts_with("target-csv v"));
}
