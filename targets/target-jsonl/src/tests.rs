//! Unit tests: settings, file naming, encoding, and opening files once per run (the repair of
//! torn files is `singer_sdk::sink::file`'s, tested there; end to end in `tests/resume.rs`).

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value, json};
use singer_sdk::target::{LoadMethod, TargetOptions};

use singer_sdk::target::Target;

use crate::client::TargetJsonl;
use crate::config::{Compression, Config};
use crate::sink::encode;

fn record(value: &Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

fn encode_records(
    records: &[Map<String, Value>],
    compression: Compression,
) -> std::io::Result<Vec<u8>> {
    let mut json = singer_sdk::sink::JsonRecords::default();
    for record in records {
        json.push(record);
    }
    encode(&json, compression)
}

fn config(dir: &Path) -> Config {
    Config {
        destination_path: dir.display().to_string(),
        do_timestamp_file: false,
        custom_name: None,
        compression: Compression::None,
    }
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("valid gzip");
    text
}

#[test]
fn stream_names_are_made_portable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let client =
        TargetJsonl::connect(config(dir.path()), &TargetOptions::default()).expect("client");
    for (stream, file) in [
        (
            "test:SpecialChars!in?attributes",
            "test_SpecialChars_in_attributes.jsonl",
        ),
        ("../../etc/passwd", "_._.._etc_passwd.jsonl"),
        (".hidden", "_hidden.jsonl"),
        ("", "_.jsonl"),
    ] {
        assert_eq!(client.path_for(stream), dir.path().join(file), "{stream}");
    }
}

#[test]
fn custom_name_is_taken_literally() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut custom = config(dir.path());
    custom.custom_name = Some("{stream} x".to_owned());
    let client = TargetJsonl::connect(custom, &TargetOptions::default()).expect("client");
    assert_eq!(
        client.path_for("users"),
        dir.path().join("{stream} x.jsonl")
    );
}

#[test]
fn files_are_named_after_stream_custom_name_timestamp_and_compression() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = TargetOptions::default();
    let client = TargetJsonl::connect(config(dir.path()), &options).expect("client");
    assert_eq!(
        client.path_for("a:b"),
        dir.path().join("a_b.jsonl"),
        "stream name, made safe"
    );

    let mut custom = config(dir.path());
    custom.custom_name = Some("export".to_owned());
    custom.compression = Compression::Gzip;
    let client = TargetJsonl::connect(custom, &options).expect("client");
    assert_eq!(client.path_for("users"), dir.path().join("export.jsonl.gz"));
    assert_eq!(
        client.path_for("orders"),
        dir.path().join("export.jsonl.gz")
    );

    let mut stamped = config(dir.path());
    stamped.do_timestamp_file = true;
    let client = TargetJsonl::connect(stamped, &options).expect("client");
    let name = client
        .path_for("users")
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    // users-YYYYMMDDTHHMMSS.jsonl
    let stamp = name
        .strip_prefix("users-")
        .and_then(|n| n.strip_suffix(".jsonl"))
        .unwrap_or_else(|| panic!("unexpected name {name}"));
    assert_eq!(stamp.len(), 15, "{name}");
    assert_eq!(&stamp[8..9], "T", "{name}");
    assert!(
        stamp.chars().filter(char::is_ascii_digit).count() == 14,
        "{name}"
    );
    // One timestamp per run: every stream gets the same one.
    let other = client.path_for("orders");
    assert!(
        other.to_string_lossy().contains(stamp),
        "{}",
        other.display()
    );
}

#[test]
fn empty_custom_name_means_the_stream_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut custom = config(dir.path());
    custom.custom_name = Some(String::new());
    let client = TargetJsonl::connect(custom, &TargetOptions::default()).expect("client");
    assert_eq!(client.path_for("users"), dir.path().join("users.jsonl"));
}

#[test]
fn dot_custom_names_are_bad_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [".", ".."] {
        let mut custom = config(dir.path());
        custom.custom_name = Some(name.to_owned());
        let error = TargetJsonl::connect(custom, &TargetOptions::default()).expect_err("rejected");
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("custom_name"), "{error}");
    }
}

#[test]
fn destination_is_created_and_must_be_a_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = dir.path().join("a/b/c");
    TargetJsonl::connect(config(&nested), &TargetOptions::default()).expect("client");
    assert!(nested.is_dir());

    let file = dir.path().join("file");
    std::fs::write(&file, "x").expect("write");
    let error = TargetJsonl::connect(config(&file), &TargetOptions::default()).expect_err("a file");
    let report = singer_sdk::error::report(&error);
    assert!(report.contains("is a file, not a directory"), "{report}");

    let under_file = file.join("sub");
    let error = TargetJsonl::connect(config(&under_file), &TargetOptions::default())
        .expect_err("under a file");
    let report = singer_sdk::error::report(&error);
    assert!(
        report.contains("cannot create the destination directory"),
        "{report}"
    );
}

#[test]
fn records_are_compact_lines_in_key_order_with_unicode_kept() {
    let records = [
        record(&json!({"z": 1, "a": "απλή \"q\" \\ / \n", "m": [1, {"y": null, "b": true}]})),
        record(&json!({"id": 2, "ctl": "\u{0}\u{1}A"})),
    ];
    let bytes = encode_records(&records, Compression::None).expect("encode");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(
        text,
        "{\"z\":1,\"a\":\"απλή \\\"q\\\" \\\\ / \\n\",\"m\":[1,{\"y\":null,\"b\":true}]}\n{\"id\":2,\"ctl\":\"\\u0000\\u0001A\"}\n"
    );
    for (line, original) in text.lines().zip(&records) {
        let parsed: Map<String, Value> = serde_json::from_str(line).expect("valid JSON");
        assert_eq!(&parsed, original);
    }
}

#[test]
fn gzip_batches_are_members_that_concatenate() {
    let first = encode_records(&[record(&json!({"id": 1}))], Compression::Gzip).expect("encode");
    let second = encode_records(
        &[record(&json!({"id": 2})), record(&json!({"id": 3}))],
        Compression::Gzip,
    )
    .expect("encode");
    assert_eq!(&first[..2], &[0x1f, 0x8b], "a gzip member");
    let mut file = first;
    file.extend_from_slice(&second);
    assert_eq!(gunzip(&file), "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
}

#[test]
fn overwrite_empties_each_file_once_per_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.jsonl");
    std::fs::write(&path, "{\"id\":0}\n").expect("write");
    let options = TargetOptions {
        load_method: LoadMethod::Overwrite,
        ..TargetOptions::default()
    };
    let client = TargetJsonl::connect(config(dir.path()), &options).expect("client");
    assert!(client.overwrite);
    let first = client.file(&path, "users").expect("open");
    first
        .lock()
        .expect("lock")
        .append(b"{\"id\":1}\n")
        .expect("append");
    // A second sink of the same stream (after a schema change) gets the same handle.
    let second = client.file(&path, "users").expect("open");
    second
        .lock()
        .expect("lock")
        .append(b"{\"id\":2}\n")
        .expect("append");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "{\"id\":1}\n{\"id\":2}\n"
    );
}

#[test]
fn files_kept_from_an_earlier_run_are_repaired_by_their_compression() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("users.jsonl");
    std::fs::write(&plain, "{\"id\":1}\n{\"id\":2,").expect("write");
    let client =
        TargetJsonl::connect(config(dir.path()), &TargetOptions::default()).expect("client");
    let file = client.file(&plain, "users").expect("open");
    file.lock()
        .expect("lock")
        .append(b"{\"id\":3}\n")
        .expect("append");
    assert_eq!(
        std::fs::read_to_string(&plain).expect("read"),
        "{\"id\":1}\n{\"id\":3}\n"
    );

    let gz = dir.path().join("users.jsonl.gz");
    let mut content =
        encode_records(&[record(&json!({"id": 1}))], Compression::Gzip).expect("encode");
    let torn = encode_records(&[record(&json!({"id": 2}))], Compression::Gzip).expect("encode");
    content.extend_from_slice(&torn[..torn.len() / 2]);
    std::fs::write(&gz, &content).expect("write");
    let mut gzip = config(dir.path());
    gzip.compression = Compression::Gzip;
    let client = TargetJsonl::connect(gzip, &TargetOptions::default()).expect("client");
    client.file(&gz, "users").expect("open");
    assert_eq!(gunzip(&std::fs::read(&gz).expect("read")), "{\"id\":1}\n");
}
