//! Unit tests of the pure parts: settings, naming, the dialect and its row ends, tail repair,
//! header widening, cells and sorting.

use std::cmp::Ordering;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use singer_sdk::Error;
use singer_sdk::sink::{Batch, JsonRecords, Sink, StreamSchema};
use singer_sdk::target::{LoadMethod, TargetOptions};

use crate::client::TargetCsv;
use crate::config::{Config, OverwriteBehavior};
use crate::file::{self, Dialect};
use crate::sink::{CsvSink, compare_json, write_cell};
use singer_sdk::sink::file::{AppendFile, RecordEnd, Repair};

fn config(value: &Value) -> Config {
    serde_json::from_value(value.clone()).unwrap()
}

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 9, 12, 34, 56).unwrap()
}

fn make_client(value: &Value) -> Result<TargetCsv, Error> {
    TargetCsv::at(config(value), &TargetOptions::default(), noon())
}

fn stream(name: &str, schema: &Value) -> StreamSchema {
    StreamSchema {
        name: name.to_owned(),
        schema: schema.clone(),
        key_properties: vec![],
        bookmark_properties: vec![],
    }
}

fn batch(stream: &StreamSchema, records: &[Value]) -> Batch {
    Batch {
        stream: Arc::new(stream.clone()),
        records: records
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect(),
        json: JsonRecords::default(),
        batched_at: Utc::now(),
    }
}

fn read_rows(path: &std::path::Path, dialect: Dialect) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = dialect.reader(bytes.as_slice());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn settings_default_like_meltanolabs() {
    let config = config(&json!({}));
    assert_eq!(config.file_naming_scheme, "{stream_name}.csv");
    assert_eq!(config.datestamp_format, "%Y-%m-%d");
    assert_eq!(config.timestamp_format, "%Y-%m-%d.T%H%M%S");
    assert_eq!(config.timestamp_timezone, "UTC");
    assert_eq!(config.overwrite_behavior, None);
    assert!(config.output_path.is_none() && config.escape_character.is_none());
    let config = self::config(&json!({"overwrite_behavior": "replace_file"}));
    assert_eq!(
        config.overwrite_behavior,
        Some(OverwriteBehavior::ReplaceFile)
    );
}

#[test]
fn file_names_substitute_stream_datestamp_and_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let client = make_client(&json!({"output_path": out, "file_naming_scheme": "{stream_name}-{datestamp}-{timestamp}.csv"})).unwrap();
    assert_eq!(
        client.path_for("users"),
        dir.path().join("users-2024-03-09-2024-03-09.T123456.csv")
    );
    let client = make_client(&json!({
        "output_path": out,
        "file_naming_scheme": "{datestamp}/{stream_name}.csv",
        "datestamp_format": "%Y%m%d %H:%M",
        "timestamp_timezone": "-05:30",
    }))
    .unwrap();
    assert_eq!(
        client.path_for("a/b"),
        dir.path().join("20240309 07:04/a_b.csv")
    );
    // The stream name is never read as a placeholder.
    let client = make_client(&json!({"output_path": out})).unwrap();
    assert_eq!(
        client.path_for("{datestamp}"),
        dir.path().join("{datestamp}.csv")
    );
}

#[test]
fn default_output_path_is_the_current_directory() {
    let client = make_client(&json!({})).unwrap();
    assert_eq!(client.path_for("s"), std::path::PathBuf::from("s.csv"));
}

#[test]
fn output_path_aliases_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let c = dir.path().join("c");
    let client = make_client(&json!({"destination_path": b, "output_path_prefix": c})).unwrap();
    assert_eq!(client.path_for("s"), b.join("s.csv"));
    assert!(b.is_dir());
    let client = make_client(&json!({"output_path": a, "destination_path": b})).unwrap();
    assert_eq!(client.path_for("s"), a.join("s.csv"));
    let client = make_client(&json!({"output_path_prefix": c})).unwrap();
    assert_eq!(client.path_for("s"), c.join("s.csv"));
}

#[test]
fn bad_settings_are_config_errors_listing_each() {
    let error = make_client(&json!({
        "timestamp_timezone": "Europe/Berlin",
        "timestamp_format": "%Y-%Q",
        "file_naming_scheme": "{table}.csv",
        "escape_character": "é",
    }))
    .unwrap_err();
    assert_eq!(error.exit_code(), 2);
    let Error::InvalidConfig { violations } = &error else {
        panic!("{error}")
    };
    assert_eq!(violations.len(), 4, "{violations:?}");
    let text = error.to_string();
    for expected in [
        "timestamp_timezone: `Europe/Berlin`",
        "timestamp_format: `%Y-%Q`",
        "unknown placeholder `{table}`",
        "escape_character",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    for scheme in ["{stream_name", "out/", ""] {
        let error = make_client(&json!({"file_naming_scheme": scheme})).unwrap_err();
        assert!(matches!(error, Error::InvalidConfig { .. }), "{scheme}");
    }
    for escape in ["\"", ",", "\n"] {
        let error = make_client(&json!({"escape_character": escape})).unwrap_err();
        assert!(matches!(error, Error::InvalidConfig { .. }), "{escape:?}");
    }
}

#[test]
fn upsert_is_refused_and_load_method_picks_the_mode() {
    let options = |load_method| TargetOptions {
        load_method,
        ..TargetOptions::default()
    };
    let error =
        TargetCsv::at(config(&json!({})), &options(LoadMethod::Upsert), noon()).unwrap_err();
    assert!(error.to_string().contains("upsert"), "{error}");
    let error = TargetCsv::at(
        config(&json!({"overwrite_behavior": "append_records"})),
        &options(LoadMethod::Upsert),
        noon(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("upsert"), "{error}");
    let replace = |value: &Value, method| {
        TargetCsv::at(config(value), &options(method), noon())
            .unwrap()
            .replace
    };
    assert!(!replace(&json!({}), LoadMethod::AppendOnly));
    assert!(replace(&json!({}), LoadMethod::Overwrite));
    assert!(replace(
        &json!({"overwrite_behavior": "replace_file"}),
        LoadMethod::AppendOnly
    ));
    assert!(!replace(
        &json!({"overwrite_behavior": "append_records"}),
        LoadMethod::Overwrite
    ));
}

#[test]
fn output_path_that_is_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, "x").unwrap();
    let error = make_client(&json!({"output_path": file})).unwrap_err();
    let report = singer_sdk::error::report(&error);
    assert!(report.contains("not a directory"), "{report}");
}

#[test]
fn two_streams_cannot_share_a_file() {
    let client = make_client(&json!({"file_naming_scheme": "all.csv"})).unwrap();
    let path = client.path_for("a");
    assert_eq!(client.claim(&path, "a").unwrap(), (true, None));
    assert_eq!(client.claim(&path, "a").unwrap(), (false, None));
    let error = client.claim(&path, "b").unwrap_err().to_string();
    assert!(
        error.contains("`a` and `b`") && error.contains("{stream_name}"),
        "{error}"
    );
}

#[test]
fn stream_names_cannot_escape_the_directory() {
    let client = make_client(&json!({"file_naming_scheme": "{stream}.csv"})).unwrap();
    for (stream, file) in [
        ("public-users", "public-users.csv"),
        (
            "test:SpecialChars!in?attributes",
            "test:SpecialChars!in?attributes.csv",
        ),
        ("../etc/passwd", ".._etc_passwd.csv"),
        ("..", "__.csv"),
        ("a\\b\0c", "a_b_c.csv"),
    ] {
        assert_eq!(
            client.path_for(stream),
            std::path::Path::new(file),
            "{stream}"
        );
    }
}

#[test]
fn cells() {
    let cell = |v: Option<Value>| {
        let mut s = Vec::new();
        write_cell(&mut s, v.as_ref());
        String::from_utf8(s).unwrap()
    };
    assert_eq!(cell(None), "");
    assert_eq!(cell(Some(Value::Null)), "");
    assert_eq!(cell(Some(json!("a\"b"))), "a\"b");
    assert_eq!(cell(Some(json!(12))), "12");
    assert_eq!(cell(Some(json!(-1.5))), "-1.5");
    assert_eq!(cell(Some(json!(true))), "true");
    assert_eq!(cell(Some(json!({"a": [1, "x"]}))), r#"{"a":[1,"x"]}"#);
    assert_eq!(cell(Some(json!(["é", null]))), r#"["é",null]"#);
}

#[test]
fn sort_order() {
    let values = [
        json!("b"),
        json!(10),
        Value::Null,
        json!(2.5),
        json!("a"),
        json!(true),
        json!(false),
        json!([1]),
        json!(-3),
        json!(u64::MAX),
    ];
    let mut sorted: Vec<Option<&Value>> = values.iter().map(Some).collect();
    sorted.push(None);
    sorted.sort_by(|a, b| compare_json(*a, *b));
    let sorted: Vec<String> = sorted
        .iter()
        .map(|v| v.map_or("-".to_owned(), Value::to_string))
        .collect();
    assert_eq!(
        sorted,
        [
            "null",
            "-",
            "false",
            "true",
            "-3",
            "2.5",
            "10",
            "18446744073709551615",
            "\"a\"",
            "\"b\"",
            "[1]"
        ]
    );
    assert_eq!(
        compare_json(Some(&json!(1)), Some(&json!(1.0))),
        Ordering::Equal
    );
}

#[test]
fn escape_character_round_trips() {
    let fields = ["a\\", "\"", "x\\\"y", "line\nbreak", "plain", "", "\\\\"];
    for dialect in [
        Dialect::default(),
        Dialect {
            escape: Some(b'\\'),
        },
        Dialect { escape: Some(b'~') },
    ] {
        let row = dialect.row(fields.iter().map(|f| f.as_bytes()));
        let mut reader = dialect.reader(row.as_slice());
        let back: Vec<String> = reader
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            back,
            fields,
            "{dialect:?}: {}",
            String::from_utf8_lossy(&row)
        );
        let mut end = dialect.row_end();
        end.feed(&row);
        assert_eq!(end.complete(), row.len() as u64);
    }
    let row = Dialect {
        escape: Some(b'\\'),
    }
    .row([&b"say \"hi\""[..]]);
    assert_eq!(row, b"\"say \\\"hi\\\"\"\r\n");
}

#[test]
fn torn_tail_is_cut_and_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    let whole = "id,info\r\n1,\"multi\r\nline\"\r\n";
    std::fs::write(&path, format!("{whole}2,\"torn\r\nin quotes")).unwrap();
    let repair = || Repair::Records {
        end: Box::new(Dialect::default().row_end()),
        keep_torn: true,
    };
    let file = AppendFile::options().repair(repair()).open(&path).unwrap();
    assert_eq!(file.len(), whole.len() as u64);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), whole);
    let torn = dir.path().join("s.csv.torn");
    assert_eq!(
        std::fs::read_to_string(&torn).unwrap(),
        "2,\"torn\r\nin quotes\n"
    );
    // A whole file is left alone.
    let file = AppendFile::options().repair(repair()).open(&path).unwrap();
    assert_eq!(file.len(), whole.len() as u64);
}

#[test]
fn widening_keeps_rows_and_fills_new_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    std::fs::write(&path, "\u{feff}id,info\r\n1,\"a,\"\"b\"\"\r\nc\"\r\n2,\r\n").unwrap();
    let (header, bom) = file::read_header(&path, Dialect::default())
        .unwrap()
        .unwrap();
    assert_eq!(header, ["id", "info"]);
    assert!(bom);
    let widened = ["id", "info", "extra"].map(str::to_owned);
    file::widen(&path, &header, &widened, bom, Dialect::default()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert_eq!(
        read_rows(&path, Dialect::default()),
        [
            ["id", "info", "extra"],
            ["1", "a,\"b\"\r\nc", ""],
            ["2", "", ""]
        ]
    );
    // A row wider than its header is not guessed at.
    std::fs::write(&path, "id\r\n1,2\r\n").unwrap();
    let error = file::widen(
        &path,
        &["id".to_owned()],
        &widened,
        false,
        Dialect::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("row 2 ") && error.contains("2 fields"),
        "{error}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "id\r\n1,2\r\n");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn sink_appends_widens_and_sorts() {
    let dir = tempfile::tempdir().unwrap();
    let client = Arc::new(
        make_client(&json!({"output_path": dir.path(), "record_sort_property_name": "id"}))
            .unwrap(),
    );
    let v1 = stream(
        "s",
        &json!({"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}),
    );
    let mut sink = CsvSink::open(&client, &v1).unwrap();
    sink.write_batch(batch(
        &v1,
        &[
            json!({"id": 2, "name": "b"}),
            json!({"id": 1, "name": "a", "extra": 1}),
        ],
    ))
    .unwrap();
    sink.close().unwrap();
    drop(sink);
    // A new schema reorders, drops `name` and adds `tags`.
    let v2 = stream(
        "s",
        &json!({"type": "object", "properties": {"tags": {"type": "array"}, "id": {"type": "integer"}}}),
    );
    let mut sink = CsvSink::open(&client, &v2).unwrap();
    sink.write_batch(batch(&v2, &[json!({"id": 3, "tags": ["x", "y"]})]))
        .unwrap();
    sink.close().unwrap();
    assert_eq!(
        read_rows(&dir.path().join("s.csv"), Dialect::default()),
        [
            vec!["id", "name", "tags"],
            vec!["1", "a", ""],
            vec!["2", "b", ""],
            vec!["3", "", r#"["x","y"]"#],
        ]
    );
}

#[test]
fn schema_without_properties_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let client = Arc::new(make_client(&json!({"output_path": dir.path()})).unwrap());
    let error = CsvSink::open(
        &client,
        &stream("empty", &json!({"type": "object", "properties": {}})),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("`empty`") && error.contains("no properties"),
        "{error}"
    );
}
