//! The command line and every setting: `--about`, `--version`, defaults, `custom_name`,
//! `do_timestamp_file`, `compression`, the built-in `load_method`, `add_record_metadata`
//! and `validate_records`, config from the environment.

use std::io::Read;
use std::process::Stdio;

use serde_json::{Value, json};

use target_test_support::{FILE_TARGET_CAPABILITIES, Target, assert_ok, states, stderr};

const TARGET: Target = Target::jsonl(env!("CARGO_BIN_EXE_target-jsonl"));

fn schema(stream: &str) -> String {
    json!({"type": "SCHEMA", "stream": stream, "key_properties": ["id"], "schema": {
        "type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": ["string", "null"]}}
    }})
    .to_string()
}

fn record(stream: &str, id: u64) -> String {
    json!({"type": "RECORD", "stream": stream, "record": {"id": id, "v": format!("{stream}-{id}")}})
        .to_string()
}

fn lines(lines: &[String]) -> Vec<u8> {
    (lines.join("\n") + "\n").into_bytes()
}

/// users 1..=3, orders 1..=2, interleaved, then a STATE.
fn two_streams() -> Vec<u8> {
    lines(&[
        schema("users"),
        schema("orders"),
        record("users", 1),
        record("orders", 1),
        record("users", 2),
        record("orders", 2),
        record("users", 3),
        json!({"type": "STATE", "value": {"done": true}}).to_string(),
    ])
}

fn ids(records: &[Value]) -> Vec<u64> {
    records
        .iter()
        .map(|r| r["id"].as_u64().expect("id"))
        .collect()
}

#[test]
fn about_lists_settings_and_capabilities() {
    let about = TARGET.about();
    assert_eq!(about["name"], "target-jsonl");
    assert_eq!(about["capabilities"], json!(FILE_TARGET_CAPABILITIES));
    let settings = &about["settings"]["properties"];
    assert_eq!(settings["destination_path"]["default"], "output");
    assert_eq!(settings["do_timestamp_file"]["default"], false);
    assert_eq!(settings["custom_name"]["type"], json!(["string", "null"]));
    assert_eq!(settings["compression"]["enum"], json!(["none", "gzip"]));
    assert_eq!(settings["compression"]["default"], "none");
    for name in [
        "load_method",
        "batch_size_rows",
        "validate_records",
        "add_record_metadata",
    ] {
        assert!(settings.get(name).is_some(), "built-in setting {name}");
    }
    for name in [
        "destination_path",
        "do_timestamp_file",
        "custom_name",
        "compression",
    ] {
        assert!(
            settings[name]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{name} has a description"
        );
    }

    let markdown = TARGET.run(&["--about", "--format", "markdown"], b"");
    assert_ok(&markdown);
    assert!(String::from_utf8_lossy(&markdown.stdout).contains("destination_path"));
}

#[test]
fn version() {
    let output = TARGET.run(&["--version"], b"");
    assert_ok(&output);
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("target-jsonl v"));
}

#[test]
fn defaults_write_to_output_in_the_working_directory() {
    let dest = TARGET.dest();
    let mut child = TARGET
        .command()
        .current_dir(dest.root())
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &two_streams())
        .expect("feed");
    let output = child.wait_with_output().expect("wait");
    assert_ok(&output);
    assert_eq!(states(&output), [json!({"done": true})]);
    // `Dest::out()` is `<root>/out`; the default is `<cwd>/output`.
    let text = std::fs::read_to_string(dest.root().join("output/users.jsonl")).expect("read");
    assert_eq!(
        text,
        "{\"id\":1,\"v\":\"users-1\"}\n{\"id\":2,\"v\":\"users-2\"}\n{\"id\":3,\"v\":\"users-3\"}\n"
    );
    assert!(dest.root().join("output/orders.jsonl").is_file());
}

#[test]
fn files_are_appended_across_runs() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({}));
    assert_ok(&TARGET.run(&["--config", &config], &two_streams()));
    assert_ok(&TARGET.run(&["--config", &config], &two_streams()));
    assert_eq!(ids(&dest.records("users.jsonl")), [1, 2, 3, 1, 2, 3]);
    assert_eq!(ids(&dest.records("orders.jsonl")), [1, 2, 1, 2]);
}

#[test]
fn custom_name_puts_every_stream_in_one_file() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({"custom_name": "export"}));
    let output = TARGET.run(&["--config", &config], &two_streams());
    assert_ok(&output);
    assert_eq!(dest.files(), ["export.jsonl"]);
    let mut values: Vec<String> = dest
        .records("export.jsonl")
        .iter()
        .map(|r| r["v"].as_str().expect("v").to_owned())
        .collect();
    values.sort();
    assert_eq!(
        values,
        ["orders-1", "orders-2", "users-1", "users-2", "users-3"]
    );
}

fn assert_timestamped(name: &str, prefix: &str, suffix: &str) {
    let stamp = name
        .strip_prefix(prefix)
        .and_then(|n| n.strip_suffix(suffix))
        .unwrap_or_else(|| panic!("{name} is not {prefix}<timestamp>{suffix}"));
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(stamp.len(), 15, "{name}");
    assert_eq!(&stamp[8..9], "T", "{name}");
    assert_eq!(digits.len(), 14, "{name}");
}

#[test]
fn do_timestamp_file_adds_the_run_time_to_names() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({"do_timestamp_file": true}));
    assert_ok(&TARGET.run(&["--config", &config], &two_streams()));
    let files = dest.files();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_timestamped(&files[0], "orders-", ".jsonl");
    assert_timestamped(&files[1], "users-", ".jsonl");
    assert_eq!(
        files[0]["orders-".len()..],
        files[1]["users-".len()..],
        "one time per run"
    );
    assert_eq!(dest.records(&files[1]).len(), 3);
}

#[test]
fn do_timestamp_file_with_custom_name_and_gzip() {
    let dest = TARGET.dest();
    let config = dest
        .config(&json!({"do_timestamp_file": true, "custom_name": "dump", "compression": "gzip"}));
    assert_ok(&TARGET.run(&["--config", &config], &two_streams()));
    let files = dest.files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_timestamped(&files[0], "dump-", ".jsonl.gz");
    assert_eq!(dest.records(&files[0]).len(), 5);
}

#[test]
fn gzip_writes_one_member_per_batch() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({"compression": "gzip", "batch_size_rows": 2}));
    let mut input = vec![schema("users")];
    input.extend((1..=5).map(|id| record("users", id)));
    let output = TARGET.run(&["--config", &config], &lines(&input));
    assert_ok(&output);
    assert_eq!(dest.files(), ["users.jsonl.gz"]);
    assert_eq!(ids(&dest.records("users.jsonl.gz")), [1, 2, 3, 4, 5]);
    // The first member alone holds exactly the first batch.
    let bytes = std::fs::read(dest.out().join("users.jsonl.gz")).expect("read");
    let mut first = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut first)
        .expect("gzip");
    assert_eq!(
        first,
        "{\"id\":1,\"v\":\"users-1\"}\n{\"id\":2,\"v\":\"users-2\"}\n"
    );

    // A second run appends more members.
    assert_ok(&TARGET.run(&["--config", &config], &lines(&input)));
    assert_eq!(
        ids(&dest.records("users.jsonl.gz")),
        [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]
    );
}

#[test]
fn overwrite_replaces_each_stream_at_the_start_of_the_run() {
    let dest = TARGET.dest();
    let append = dest.config(&json!({}));
    assert_ok(&TARGET.run(&["--config", &append], &two_streams()));
    let overwrite = dest.config(&json!({"load_method": "overwrite", "batch_size_rows": 1}));
    // users gets new records; orders is announced but gets none: both are replaced.
    let input = lines(&[
        schema("users"),
        schema("orders"),
        record("users", 7),
        record("users", 8),
    ]);
    assert_ok(&TARGET.run(&["--config", &overwrite], &input));
    assert_eq!(ids(&dest.records("users.jsonl")), [7, 8]);
    assert_eq!(dest.records("orders.jsonl"), Vec::<Value>::new());
}

#[test]
fn upsert_is_not_applicable_and_appends_with_a_warning() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({"load_method": "upsert"}));
    assert_ok(&TARGET.run(&["--config", &config], &two_streams()));
    let output = TARGET.run(&["--config", &config], &two_streams());
    assert_ok(&output);
    assert!(stderr(&output).contains("upsert"), "{}", stderr(&output));
    assert_eq!(ids(&dest.records("users.jsonl")), [1, 2, 3, 1, 2, 3]);
}

#[test]
fn add_record_metadata_adds_sdc_columns() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({"add_record_metadata": true}));
    let input = lines(&[
        schema("users"),
        json!({"type": "RECORD", "stream": "users", "record": {"id": 1}, "version": 3,
               "time_extracted": "2024-05-01T10:00:00+02:00"})
        .to_string(),
    ]);
    assert_ok(&TARGET.run(&["--config", &config], &input));
    let record = &dest.records("users.jsonl")[0];
    assert_eq!(record["id"], 1);
    assert_eq!(record["_sdc_extracted_at"], "2024-05-01T08:00:00+00:00");
    assert_eq!(record["_sdc_table_version"], 3);
    assert!(record["_sdc_batched_at"].is_string(), "{record}");
    assert!(record["_sdc_received_at"].is_string(), "{record}");
    assert!(record.get("_sdc_deleted_at").is_some(), "{record}");
}

#[test]
fn validation_can_be_switched_off() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({"validate_records": false}));
    let input = lines(&[
        schema("users"),
        json!({"type": "RECORD", "stream": "users", "record": {"id": 1, "v": 42}}).to_string(),
    ]);
    assert_ok(&TARGET.run(&["--config", &config], &input));
    assert_eq!(dest.records("users.jsonl"), [json!({"id": 1, "v": 42})]);
}

#[test]
fn config_from_the_environment_and_home_expansion() {
    let dest = TARGET.dest();
    let home = dest.root().display().to_string();
    let output = TARGET.run_env(
        &["--config", "ENV"],
        &two_streams(),
        &[
            ("HOME", home.as_str()),
            ("TARGET_JSONL_DESTINATION_PATH", "~/from-env"),
            ("TARGET_JSONL_COMPRESSION", "gzip"),
        ],
    );
    assert_ok(&output);
    assert!(dest.root().join("from-env/users.jsonl.gz").is_file());
}

#[test]
fn colliding_stream_names_share_a_file_with_a_warning() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({}));
    let input = lines(&[
        schema("a:b"),
        schema("a?b"),
        record("a:b", 1),
        record("a?b", 2),
    ]);
    let output = TARGET.run(&["--config", &config], &input);
    assert_ok(&output);
    assert_eq!(dest.files(), ["a_b.jsonl"]);
    assert_eq!(dest.records("a_b.jsonl").len(), 2);
    let err = stderr(&output);
    assert!(err.contains("both map to file"), "{err}");
}

#[test]
fn activate_version_is_ignored_with_a_warning() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({}));
    let input = lines(&[
        schema("users"),
        record("users", 1),
        json!({"type": "ACTIVATE_VERSION", "stream": "users", "version": 2}).to_string(),
        record("users", 2),
    ]);
    let output = TARGET.run(&["--config", &config], &input);
    assert_ok(&output);
    assert!(stderr(&output).contains("ACTIVATE_VERSION"));
    assert_eq!(ids(&dest.records("users.jsonl")), [1, 2]);
}

#[test]
fn empty_input_writes_nothing() {
    let dest = TARGET.dest();
    let config = dest.config(&json!({}));
    let output = TARGET.run(&["--config", &config], b"");
    assert_ok(&output);
    assert!(output.stdout.is_empty());
    assert!(dest.files().is_empty());
}
