//! Load methods, ACTIVATE_VERSION, settings, `--about`, and every bad input a user can give
//! the target, each against the binary with the tables read back.

use std::process::Command;

use serde_json::{Value, json};

use target_test_support::{
    Dest, Target, assert_fails, assert_loaded, conformance, lines, states, stderr,
};

const TARGET: Target = Target::sqlite(env!("CARGO_BIN_EXE_target-sqlite"));

fn read(name: &str) -> String {
    std::fs::read_to_string(conformance(name)).unwrap()
}

/// Loads conformance files one run after the other into the same database.
fn load_runs(env: &Dest, extra: &Value, files: &[&str]) {
    let config = env.config(extra);
    for file in files {
        let output = TARGET.run_file(&config, conformance(file));
        assert_loaded(&output, read(file));
    }
}

#[test]
fn upsert_replaces_rows_with_the_same_key() {
    let env = TARGET.dest();
    load_runs(
        &env,
        &json!({"load_method": "upsert"}),
        &[
            "user_location_data.singer",
            "user_location_upsert_data.singer",
        ],
    );
    assert_eq!(
        env.query("SELECT id, name FROM test_users ORDER BY id"),
        [
            [json!(1), json!("Johny")],
            [json!(2), json!("George")],
            [json!(3), json!("Jacob")],
            [json!(4), json!("Josh")],
            [json!(5), json!("Jim")],
            [json!(8), json!("Thomas")],
            [json!(12), json!("Paul")],
            [json!(13), json!("Mary")],
        ]
    );
    assert_eq!(
        env.query("SELECT id, name FROM test_locations ORDER BY id"),
        [
            [json!(1), json!("Philly")],
            [json!(2), json!("NY")],
            [json!(3), json!("San Francisco")],
            [json!(6), json!("Colorado")],
            [json!(8), json!("Boston")],
        ]
    );
    let rows =
        env.query("SELECT id, user_id, location_id, info FROM test_user_in_location ORDER BY id");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0][..3], [json!(1), json!(1), json!(4)]);
    assert_eq!(rows[1][..3], [json!(2), json!(2), json!(3)]);
    assert_eq!(rows[2][..3], [json!(3), json!(1), json!(3)]);
    assert_eq!(rows[4][..3], [json!(14), json!(4), json!(1)]);
    let info: Value = serde_json::from_str(rows[4][3].as_str().unwrap()).unwrap();
    assert_eq!(info, json!({"weather": "cloudy", "mood": "ok"}));
}

#[test]
fn upsert_keeps_the_last_record_of_a_key_within_a_batch() {
    let env = TARGET.dest();
    let config = env.config(&json!({"load_method": "upsert"}));
    let input = lines(&[
        json!({"type": "SCHEMA", "stream": "s", "key_properties": ["id"], "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": "string"}}}}),
        json!({"type": "RECORD", "stream": "s", "record": {"id": 1, "v": "first"}}),
        json!({"type": "RECORD", "stream": "s", "record": {"id": 2, "v": "only"}}),
        json!({"type": "RECORD", "stream": "s", "record": {"id": 1, "v": "last"}}),
    ]);
    let output = TARGET.run_stdin(&config, &input);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        env.query("SELECT id, v FROM s ORDER BY id"),
        [[json!(1), json!("last")], [json!(2), json!("only")]]
    );
}

#[test]
fn append_only_without_keys_appends_every_record() {
    let env = TARGET.dest();
    load_runs(
        &env,
        &json!({"load_method": "append-only"}),
        &["no_primary_keys.singer", "no_primary_keys_append.singer"],
    );
    assert_eq!(
        env.query("SELECT id, metric FROM test_no_pk ORDER BY rowid"),
        [
            [json!(1), json!(11)],
            [json!(2), json!(22)],
            [json!(3), json!(33)],
            [json!(1), json!(101)],
            [json!(2), json!(202)],
            [json!(3), json!(303)],
            [json!(4), json!(404)],
            [json!(5), json!(505)],
        ]
    );
}

#[test]
fn append_only_into_a_keyed_table_replaces_and_warns() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    let first = TARGET.run_file(&config, conformance("user_location_data.singer"));
    assert!(first.status.success());
    let second = TARGET.run_file(&config, conformance("user_location_upsert_data.singer"));
    assert_loaded(&second, read("user_location_upsert_data.singer"));
    assert!(
        stderr(&second).contains("replaced the stored rows"),
        "{}",
        stderr(&second)
    );
    assert_eq!(env.query("SELECT count(*) FROM test_users"), [[json!(8)]]);
    assert_eq!(
        env.query("SELECT name FROM test_users WHERE id = 1"),
        [[json!("Johny")]]
    );
}

#[test]
fn overwrite_replaces_the_table_once_per_run() {
    let env = TARGET.dest();
    load_runs(&env, &json!({}), &["user_location_data.singer"]);
    load_runs(
        &env,
        &json!({"load_method": "overwrite"}),
        &["user_location_upsert_data.singer"],
    );
    assert_eq!(
        env.query("SELECT id FROM test_users ORDER BY id"),
        [
            [json!(1)],
            [json!(2)],
            [json!(5)],
            [json!(8)],
            [json!(12)],
            [json!(13)]
        ]
    );
    assert_eq!(
        env.query("SELECT count(*) FROM test_locations"),
        [[json!(4)]]
    );
    // A later SCHEMA in the same run (a new sink) adds columns but keeps the rows; a second
    // run replaces them again.
    for _ in 0..2 {
        load_runs(
            &env,
            &json!({"load_method": "overwrite"}),
            &["schema_updates.singer"],
        );
        assert_eq!(
            env.query("SELECT count(*) FROM test_schema_updates"),
            [[json!(6)]]
        );
    }
}

fn versioned_run(version: i64, ids: &[i64]) -> Vec<u8> {
    let mut messages = vec![
        json!({"type": "SCHEMA", "stream": "items", "key_properties": [], "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}),
        json!({"type": "ACTIVATE_VERSION", "stream": "items", "version": version}),
    ];
    for id in ids {
        messages.push(
            json!({"type": "RECORD", "stream": "items", "record": {"id": id}, "version": version}),
        );
    }
    messages.push(json!({"type": "ACTIVATE_VERSION", "stream": "items", "version": version}));
    messages.push(json!({"type": "STATE", "value": {"version": version}}));
    lines(&messages)
}

#[test]
fn activate_version_soft_deletes_older_versions() {
    let env = TARGET.dest();
    let config = env.config(&json!({"add_record_metadata": true}));
    for (version, ids) in [(1, &[1, 2, 3][..]), (2, &[1, 2][..])] {
        let output = TARGET.run_stdin(&config, &versioned_run(version, ids));
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(states(&output), [json!({"version": version})]);
    }
    let rows = env.query(
        "SELECT id, _sdc_table_version, _sdc_deleted_at IS NOT NULL FROM items ORDER BY _sdc_table_version, id",
    );
    assert_eq!(
        rows,
        [
            [json!(1), json!(1), json!(1)],
            [json!(2), json!(1), json!(1)],
            [json!(3), json!(1), json!(1)],
            [json!(1), json!(2), json!(0)],
            [json!(2), json!(2), json!(0)],
        ]
    );
    let deleted_at = env.query("SELECT _sdc_deleted_at FROM items WHERE _sdc_table_version = 1");
    let text = deleted_at[0][0].as_str().unwrap();
    assert!(
        text.ends_with("+00:00") && text.contains('T'),
        "RFC 3339 UTC: {text}"
    );
}

#[test]
fn activate_version_hard_deletes_older_versions() {
    let env = TARGET.dest();
    let config = env.config(&json!({"add_record_metadata": true, "hard_delete": true}));
    for (version, ids) in [(1, &[1, 2, 3][..]), (2, &[1, 2][..])] {
        let output = TARGET.run_stdin(&config, &versioned_run(version, ids));
        assert!(output.status.success(), "{}", stderr(&output));
    }
    assert_eq!(
        env.query("SELECT id, _sdc_table_version FROM items ORDER BY id"),
        [[json!(1), json!(2)], [json!(2), json!(2)]]
    );
}

#[test]
fn activate_version_is_ignored_when_switched_off() {
    let env = TARGET.dest();
    let config = env.config(&json!({"add_record_metadata": true, "hard_delete": true, "process_activate_version_messages": false}));
    for (version, ids) in [(1, &[1, 2, 3][..]), (2, &[1, 2][..])] {
        let output = TARGET.run_stdin(&config, &versioned_run(version, ids));
        assert!(output.status.success(), "{}", stderr(&output));
    }
    assert_eq!(env.query("SELECT count(*) FROM items"), [[json!(5)]]);
}

#[test]
fn activate_version_without_metadata_keeps_unversioned_rows_and_warns() {
    let env = TARGET.dest();
    let config = env.config(&json!({"hard_delete": true}));
    let mut last = None;
    for (version, ids) in [(1, &[1, 2, 3][..]), (2, &[1, 2][..])] {
        let output = TARGET.run_stdin(&config, &versioned_run(version, ids));
        assert!(output.status.success(), "{}", stderr(&output));
        last = Some(output);
    }
    assert!(stderr(&last.unwrap()).contains("add_record_metadata"));
    assert_eq!(env.query("SELECT count(*) FROM items"), [[json!(5)]]);
    let columns = env.columns("items");
    assert!(columns.contains(&("_sdc_table_version".to_owned(), "INTEGER".to_owned())));
}

#[test]
fn record_metadata_columns_are_typed() {
    let env = TARGET.dest();
    let config = env.config(&json!({"add_record_metadata": true}));
    let output = TARGET.run_file(&config, conformance("special_chars_in_attributes.singer"));
    assert!(output.status.success(), "{}", stderr(&output));
    let columns = env.columns("testspecialcharsinattributes");
    for (name, sql_type) in [
        ("_sdc_extracted_at", "TEXT"),
        ("_sdc_received_at", "TEXT"),
        ("_sdc_batched_at", "TEXT"),
        ("_sdc_deleted_at", "TEXT"),
        ("_sdc_sequence", "INTEGER"),
        ("_sdc_table_version", "INTEGER"),
        ("_sdc_sync_started_at", "INTEGER"),
    ] {
        assert!(
            columns.contains(&(name.to_owned(), sql_type.to_owned())),
            "{name} in {columns:?}"
        );
    }
    assert_eq!(
        env.query("SELECT _sdc_extracted_at, _sdc_table_version FROM testspecialcharsinattributes"),
        [[
            json!("2018-11-02T22:57:04.841020+00:00"),
            json!(1_541_199_424_491_i64)
        ]]
    );
}

#[test]
fn timestamp_column_records_the_load_time() {
    let env = TARGET.dest();
    let config = env.config(&json!({"timestamp_column": "__loaded_at"}));
    let output = TARGET.run_file(&config, conformance("no_primary_keys.singer"));
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = env.query("SELECT __loaded_at FROM test_no_pk");
    assert_eq!(rows.len(), 3);
    let text = rows[0][0].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok(), "{text}");
}

#[test]
fn database_names_follow_meltanolabs_and_singer_sdk() {
    let env = TARGET.dest();
    // MeltanoLabs: `database` without an extension gets `.db`, its directory is created.
    let config = env.write_config(&json!({"database": env.path("nested/dir/warehouse")}));
    let output = TARGET.run_file(&config, conformance("no_primary_keys.singer"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(env.path("nested/dir/warehouse.db").is_file());
    // singer-sdk's sample target: `path_to_db`, taken as given.
    let config = env.write_config(&json!({"path_to_db": env.path("plain")}));
    let output = TARGET.run_file(&config, conformance("no_primary_keys.singer"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        target_test_support::sqlite::query(&env.path("plain"), "SELECT count(*) FROM test_no_pk"),
        [[json!(3)]]
    );
}

#[test]
fn about_lists_settings_and_capabilities() {
    let about = TARGET.about();
    let capabilities = about["capabilities"].as_array().unwrap();
    for capability in [
        "activate-version",
        "hard-delete",
        "validate-records",
        "about",
    ] {
        assert!(capabilities.contains(&json!(capability)), "{capability}");
    }
    let settings = &about["settings"]["properties"];
    for setting in [
        "database",
        "path_to_db",
        "timestamp_column",
        "load_method",
        "hard_delete",
        "process_activate_version_messages",
        "add_record_metadata",
        "batch_size_rows",
    ] {
        assert!(settings.get(setting).is_some(), "{setting} in --about");
        assert!(
            settings[setting]["description"].is_string(),
            "{setting} has a description"
        );
    }
}

// ---- bad input -------------------------------------------------------------------------

fn schema_line() -> Value {
    json!({"type": "SCHEMA", "stream": "people", "key_properties": ["id"], "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}})
}

fn record(id: i64) -> Value {
    json!({"type": "RECORD", "stream": "people", "record": {"id": id, "name": format!("person {id}")}})
}

#[test]
fn malformed_json_line_fails_naming_the_line() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    let mut input = lines(&[
        schema_line(),
        record(1),
        json!({"type": "STATE", "value": {"n": 1}}),
    ]);
    input.extend(b"{\"type\": \"RECORD\", \"stream\": \"people\", \"record\": {\"id\": 2,\n");
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 1, &["line 4"]);
    // The state followed a record that was never written: it must not be acknowledged.
    assert!(states(&output).is_empty(), "{:?}", states(&output));
}

#[test]
fn record_before_schema_fails_naming_stream_and_line() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    let output = TARGET.run_stdin(&config, &lines(&[record(1), schema_line()]));
    assert_fails(&output, 1, &["people", "line 1", "SCHEMA"]);
    assert!(states(&output).is_empty());
}

#[test]
fn record_failing_validation_shows_field_and_rule() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    let input = lines(&[
        schema_line(),
        json!({"type": "STATE", "value": {"n": 0}}),
        record(1),
        json!({"type": "RECORD", "stream": "people", "record": {"id": "two", "name": "x"}}),
        json!({"type": "STATE", "value": {"n": 2}}),
    ]);
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 1, &["people", "line 4", "/id", "type"]);
    // Only the state sent before any record may have been acknowledged.
    assert!(
        states(&output).iter().all(|s| s == &json!({"n": 0})),
        "{:?}",
        states(&output)
    );
}

#[test]
fn record_missing_key_property_fails() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    let input = lines(&[
        schema_line(),
        json!({"type": "RECORD", "stream": "people", "record": {"name": "no id"}}),
    ]);
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 1, &["people", "line 2", "key property `id`"]);
}

#[test]
fn invalid_schema_fails() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    let input = lines(&[
        json!({"type": "SCHEMA", "stream": "people", "key_properties": [], "schema": {"type": "object", "properties": {"id": {"type": "no-such-type"}}}}),
    ]);
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 1, &["people", "line 1", "not a valid JSON Schema"]);
}

#[test]
fn invalid_utf8_fails_naming_the_line() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    let mut input = lines(&[schema_line(), record(1)]);
    input.extend(b"{\"type\": \"RECORD\", \"stream\": \"people\", \"record\": {\"id\": 2, \"name\": \"\xff\xfe\"}}\n");
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 1, &["line 3", "UTF-8"]);
    assert!(states(&output).is_empty());
}

#[test]
fn clashing_property_names_fail_naming_stream_and_properties() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    let input = lines(&[
        json!({"type": "SCHEMA", "stream": "people", "key_properties": [], "schema": {"type": "object", "properties": {"Name": {"type": "string"}, "name": {"type": "string"}}}}),
    ]);
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 1, &["people", "`Name`", "`name`", "column `name`"]);
}

#[test]
fn hostile_names_are_quoted_not_executed() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    let input = lines(&[
        json!({"type": "SCHEMA", "stream": "x\"; DROP TABLE victims; --", "key_properties": ["id\"); DROP TABLE victims; --"], "schema": {"type": "object", "properties": {"id\"); DROP TABLE victims; --": {"type": "integer"}, "v": {"type": "string"}}}}),
        json!({"type": "RECORD", "stream": "x\"; DROP TABLE victims; --", "record": {"id\"); DROP TABLE victims; --": 1, "v": "'); DROP TABLE victims; --"}}),
    ]);
    {
        let connection = rusqlite::Connection::open(env.db()).unwrap();
        connection
            .execute_batch("CREATE TABLE victims (a)")
            .unwrap();
    }
    let output = TARGET.run_stdin(&config, &input);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(env.tables(), ["victims", "x_drop_table_victims___"]);
    assert_eq!(
        env.query("SELECT * FROM x_drop_table_victims___"),
        [[json!(1), json!("'); DROP TABLE victims; --")]]
    );
}

#[test]
fn missing_database_setting_is_a_config_error() {
    let env = TARGET.dest();
    let config = env.write_config(&json!({"load_method": "upsert"}));
    let output = TARGET.run_stdin(&config, &lines(&[schema_line()]));
    assert_fails(&output, 2, &["`database`", "path_to_db"]);
}

#[test]
fn unwritable_destinations_fail_before_any_state() {
    let env = TARGET.dest();
    let input = lines(&[
        json!({"type": "STATE", "value": {"n": 0}}),
        schema_line(),
        record(1),
        json!({"type": "STATE", "value": {"n": 1}}),
    ]);
    // A file where a directory is expected.
    std::fs::write(env.path("a-file"), "not a directory").unwrap();
    let config = env.write_config(&json!({"database": env.path("a-file/sub/warehouse.db")}));
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 1, &["cannot create the directory", "a-file"]);
    assert!(states(&output).is_empty());

    // A directory where the database file is expected.
    std::fs::create_dir(env.path("a-dir.db")).unwrap();
    let config = env.write_config(&json!({"database": env.path("a-dir.db")}));
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 2, &["is a directory"]);
    assert!(states(&output).is_empty());

    // A file that is not a SQLite database.
    std::fs::write(
        env.path("text.db"),
        "this is not a database, just some text ".repeat(100),
    )
    .unwrap();
    let config = env.write_config(&json!({"database": env.path("text.db")}));
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(
        &output,
        1,
        &["cannot open SQLite database", "text.db", "not a database"],
    );
    assert!(states(&output).is_empty());

    // A write-ahead log that cannot be opened (a symlink to /dev/full): refused at open.
    let config = env.config(&json!({}));
    let output = TARGET.run_file(&config, conformance("no_primary_keys.singer"));
    assert!(output.status.success());
    std::os::unix::fs::symlink("/dev/full", env.path("warehouse.db-wal")).unwrap();
    let output = TARGET.run_stdin(&config, &input);
    assert_fails(&output, 1, &["cannot open SQLite database", "warehouse.db"]);
    assert!(states(&output).is_empty());
    std::fs::remove_file(env.path("warehouse.db-wal")).unwrap();

    // A read-only directory (meaningless for root, who may write anyway).
    let locked = env.path("locked");
    std::fs::create_dir(&locked).unwrap();
    let mut permissions = std::fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o555);
    std::fs::set_permissions(&locked, permissions).unwrap();
    if std::fs::write(locked.join("probe"), "").is_err() {
        let config = env.write_config(&json!({"database": locked.join("warehouse.db")}));
        let output = TARGET.run_stdin(&config, &input);
        assert_fails(&output, 1, &["cannot open SQLite database", "locked"]);
        assert!(states(&output).is_empty());
    }

    // A read-only database file (again only meaningful when not root).
    let read_only = env.path("read-only.db");
    rusqlite::Connection::open(&read_only)
        .unwrap()
        .execute_batch("CREATE TABLE t (a)")
        .unwrap();
    let mut permissions = std::fs::metadata(&read_only).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&read_only, permissions).unwrap();
    if std::fs::OpenOptions::new()
        .write(true)
        .open(&read_only)
        .is_err()
    {
        let config = env.write_config(&json!({"database": read_only}));
        let output = TARGET.run_stdin(&config, &input);
        assert_fails(&output, 1, &["can only be read", "read-only.db"]);
        assert!(states(&output).is_empty());
    }
}

/// Disk full: the target runs under a file-size limit (`ulimit -f`, with SIGXFSZ ignored so
/// the write fails with an error instead of killing the process), the equivalent of a full
/// disk for SQLite's writes to its write-ahead log.
#[test]
fn a_failing_write_stops_without_acknowledging_its_state() {
    let env = TARGET.dest();
    let config = env.config(&json!({}));
    // A first, clean run creates the database and the table.
    let small = lines(&[
        schema_line(),
        record(0),
        json!({"type": "STATE", "value": {"n": 0}}),
    ]);
    assert!(TARGET.run_stdin(&config, &small).status.success());

    let mut messages = vec![
        schema_line(),
        json!({"type": "STATE", "value": {"n": "before"}}),
    ];
    for id in 1..=40 {
        messages.push(json!({"type": "RECORD", "stream": "people", "record": {"id": id, "name": "x".repeat(100_000)}}));
    }
    messages.push(json!({"type": "STATE", "value": {"n": "after"}}));
    let input_path = env.path("big.singer");
    std::fs::write(&input_path, lines(&messages)).unwrap();
    let output = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1000; exec \"$0\" --config \"$1\" --input \"$2\"")
        .arg(TARGET.bin)
        .arg(&config)
        .arg(&input_path)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_fails(
        &output,
        1,
        &[
            "stream `people`",
            // Records of 100 kB fill the 256 KiB buffer cap every few records: the batch
            // that hits the limit is smaller than the 40 records.
            "records of stream `people` to table `people`",
            "write failed",
            "disk",
        ],
    );
    assert!(!stderr(&output).contains("panicked"));
    // Only the state acknowledged before the failing batch.
    assert_eq!(states(&output), [json!({"n": "before"})]);
    // Batches written before the failing one stay (nothing acknowledges them, so a rerun
    // sends them again); the failed batch left nothing behind and the database is intact.
    let ids = env.query("SELECT id FROM people ORDER BY id");
    assert!(ids.len() < 41, "{ids:?}");
    for (expected, row) in ids.iter().enumerate() {
        assert_eq!(
            row,
            &[json!(expected)],
            "a prefix of the input, no gap: {ids:?}"
        );
    }
    assert_eq!(env.query("PRAGMA integrity_check"), [[json!("ok")]]);
}
