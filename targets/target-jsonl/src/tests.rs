//! Unit tests: file naming, encoding, and the repair of files torn by an interrupted run.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use serde_json::{Map, Value, json};
use singer_sdk::target::{LoadMethod, TargetOptions};

use crate::client::{Client, OutputFile, expand_home, repair_gzip, repair_plain, safe_file_name};
use crate::config::{Compression, Config};
use crate::sink::encode;

fn record(value: &Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

fn config(dir: &Path) -> Config {
    Config {
        destination_path: dir.display().to_string(),
        do_timestamp_file: false,
        custom_name: None,
        compression: Compression::None,
    }
}

fn open_rw(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .expect("open")
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).expect("compress");
    encoder.finish().expect("compress")
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("valid gzip");
    text
}

#[test]
fn unsafe_characters_in_stream_names_become_underscores() {
    assert_eq!(
        safe_file_name("test:SpecialChars!in?attributes"),
        "test_SpecialChars_in_attributes"
    );
    assert_eq!(safe_file_name("public-users"), "public-users");
    assert_eq!(safe_file_name("schema.table"), "schema.table");
    assert_eq!(safe_file_name("a/b\\c d*e\"f<g>h|i"), "a_b_c_d_e_f_g_h_i");
    assert_eq!(safe_file_name("ünïcödé_名前"), "ünïcödé_名前");
    assert_eq!(safe_file_name("tab\tnul\0"), "tab_nul_");
    assert_eq!(safe_file_name(".."), "_.");
    assert_eq!(safe_file_name(".hidden"), "_hidden");
    assert_eq!(safe_file_name(""), "_");
    assert_eq!(safe_file_name("../../etc/passwd"), "_._.._etc_passwd");
}

#[test]
fn home_and_empty_destination_paths() {
    let home = std::env::var("HOME").unwrap_or_default();
    if !home.is_empty() {
        assert_eq!(expand_home("~"), Path::new(&home));
        assert_eq!(expand_home("~/out"), Path::new(&home).join("out"));
    }
    assert_eq!(expand_home(""), Path::new("."));
    assert_eq!(expand_home("~user/out"), Path::new("~user/out"));
    assert_eq!(expand_home("out/~"), Path::new("out/~"));
}

#[test]
fn files_are_named_after_stream_custom_name_timestamp_and_compression() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = TargetOptions::default();
    let client = Client::new(config(dir.path()), &options).expect("client");
    assert_eq!(
        client.path_for("a:b"),
        dir.path().join("a_b.jsonl"),
        "stream name, made safe"
    );

    let mut custom = config(dir.path());
    custom.custom_name = Some("export".to_owned());
    custom.compression = Compression::Gzip;
    let client = Client::new(custom, &options).expect("client");
    assert_eq!(client.path_for("users"), dir.path().join("export.jsonl.gz"));
    assert_eq!(
        client.path_for("orders"),
        dir.path().join("export.jsonl.gz")
    );

    let mut stamped = config(dir.path());
    stamped.do_timestamp_file = true;
    let client = Client::new(stamped, &options).expect("client");
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
    let client = Client::new(custom, &TargetOptions::default()).expect("client");
    assert_eq!(client.path_for("users"), dir.path().join("users.jsonl"));
}

#[test]
fn dot_custom_names_are_bad_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [".", ".."] {
        let mut custom = config(dir.path());
        custom.custom_name = Some(name.to_owned());
        let error = Client::new(custom, &TargetOptions::default()).expect_err("rejected");
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("custom_name"), "{error}");
    }
}

#[test]
fn destination_is_created_and_must_be_a_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = dir.path().join("a/b/c");
    Client::new(config(&nested), &TargetOptions::default()).expect("client");
    assert!(nested.is_dir());

    let file = dir.path().join("file");
    std::fs::write(&file, "x").expect("write");
    let error = Client::new(config(&file), &TargetOptions::default()).expect_err("a file");
    assert!(error.to_string().contains("not a directory"), "{error}");

    let under_file = file.join("sub");
    let error =
        Client::new(config(&under_file), &TargetOptions::default()).expect_err("under a file");
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
    let bytes = encode(&records, Compression::None).expect("encode");
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
    let first = encode(&[record(&json!({"id": 1}))], Compression::Gzip).expect("encode");
    let second = encode(
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
fn torn_last_line_is_cut_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, "{\"id\":1}\n{\"id\":2}\n{\"id\":3,\"na").expect("write");
    repair_plain(&mut open_rw(&path), &path).expect("repair");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "{\"id\":1}\n{\"id\":2}\n"
    );
}

#[test]
fn torn_only_line_empties_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, "{\"id\":1,").expect("write");
    repair_plain(&mut open_rw(&path), &path).expect("repair");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "");
}

#[test]
fn torn_line_longer_than_a_read_chunk_is_cut_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl");
    let long = "x".repeat(200_000);
    std::fs::write(&path, format!("{{\"id\":1}}\n{{\"id\":2,\"big\":\"{long}")).expect("write");
    repair_plain(&mut open_rw(&path), &path).expect("repair");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "{\"id\":1}\n"
    );
}

#[test]
fn complete_last_record_without_newline_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, "{\"id\":1}\n{\"id\":2}").expect("write");
    repair_plain(&mut open_rw(&path), &path).expect("repair");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "{\"id\":1}\n{\"id\":2}\n"
    );
}

#[test]
fn clean_and_empty_files_are_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    for content in ["", "{\"id\":1}\n"] {
        let path = dir.path().join("s.jsonl");
        std::fs::write(&path, content).expect("write");
        repair_plain(&mut open_rw(&path), &path).expect("repair");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), content);
    }
}

#[test]
fn torn_last_gzip_member_is_cut_off_wherever_the_cut_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl.gz");
    let mut good = gzip("{\"id\":1}\n");
    good.extend(gzip("{\"id\":2}\n{\"id\":3}\n"));
    let torn = gzip(&"{\"id\":4,\"pad\":\"abcdefghij\"}\n".repeat(50));
    // Cut inside the header, inside the deflate data, inside the trailer, and at one byte.
    for cut in [1, 5, 12, torn.len() / 2, torn.len() - 4, torn.len() - 1] {
        let mut content = good.clone();
        content.extend_from_slice(&torn[..cut]);
        std::fs::write(&path, &content).expect("write");
        repair_gzip(&mut open_rw(&path), &path).expect("repair");
        let repaired = std::fs::read(&path).expect("read");
        assert_eq!(repaired, good, "cut at {cut}");
        assert_eq!(gunzip(&repaired), "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
    }
}

#[test]
fn zero_filled_gzip_tail_is_cut_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl.gz");
    let good = gzip("{\"id\":1}\n");
    let mut content = good.clone();
    content.extend_from_slice(&[0; 4096]);
    std::fs::write(&path, &content).expect("write");
    repair_gzip(&mut open_rw(&path), &path).expect("repair");
    assert_eq!(std::fs::read(&path).expect("read"), good);
}

#[test]
fn gzip_corrupt_before_its_end_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl.gz");
    let mut content = b"this is not gzip\n".to_vec();
    content.extend(gzip("{\"id\":1}\n"));
    std::fs::write(&path, &content).expect("write");
    let error = repair_gzip(&mut open_rw(&path), &path).expect_err("corrupt");
    assert!(
        error
            .to_string()
            .contains("not a valid gzip file at byte 0"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        content,
        "left untouched"
    );

    // A complete member whose checksum is wrong, followed by a good one.
    let mut bad = gzip("{\"id\":1}\n");
    let at = bad.len() - 6;
    bad[at] ^= 0xff;
    bad.extend(gzip("{\"id\":2}\n"));
    std::fs::write(&path, &bad).expect("write");
    assert!(repair_gzip(&mut open_rw(&path), &path).is_err());
}

#[test]
fn gzip_content_without_final_newline_gets_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl.gz");
    std::fs::write(&path, gzip("{\"id\":1}")).expect("write");
    repair_gzip(&mut open_rw(&path), &path).expect("repair");
    assert_eq!(gunzip(&std::fs::read(&path).expect("read")), "{\"id\":1}\n");
}

#[test]
fn open_repairs_appends_and_overwrite_empties() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, "{\"id\":1}\n{\"id\":2,").expect("write");
    let mut file = OutputFile::open(&path, Compression::None, false).expect("open");
    file.append(b"{\"id\":3}\n").expect("append");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "{\"id\":1}\n{\"id\":3}\n"
    );
    drop(file);
    let mut file = OutputFile::open(&path, Compression::None, true).expect("open");
    file.append(b"{\"id\":4}\n").expect("append");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "{\"id\":4}\n"
    );
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
    let client = Client::new(config(dir.path()), &options).expect("client");
    assert!(client.overwrite());
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
