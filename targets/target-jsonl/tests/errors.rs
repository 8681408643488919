//! Bad input, bad settings and an unwritable or full destination: each fails with exit 1
//! (2 for settings), one clear error line naming the stream and line or file, no panic, and
//! no state acknowledged for records that were not durably written.

use std::path::Path;

use serde_json::{Value, json};

use target_test_support::jsonl::Input;
use target_test_support::{Dest, Target, assert_fails, states, stderr};

const TARGET: Target = Target::jsonl(env!("CARGO_BIN_EXE_target-jsonl"));

const USERS: &str = r#"{"type":"SCHEMA","stream":"users","key_properties":["id"],"schema":{"type":"object","required":["id"],"properties":{"id":{"type":"integer"},"name":{"type":["string","null"]},"address":{"type":"object","properties":{"zip":{"type":"string"}}}}}}"#;
const ORDERS: &str = r#"{"type":"SCHEMA","stream":"orders","key_properties":["id"],"schema":{"type":"object","properties":{"id":{"type":"integer"}}}}"#;

fn record(stream: &str, id: u64) -> String {
    json!({"type": "RECORD", "stream": stream, "record": {"id": id}}).to_string()
}

fn state(position: u64) -> String {
    json!({"type": "STATE", "value": {"position": position}}).to_string()
}

fn join(lines: &[&[u8]]) -> Vec<u8> {
    let mut input = Vec::new();
    for line in lines {
        input.extend_from_slice(line);
        input.push(b'\n');
    }
    input
}

/// Runs SCHEMA, RECORD 1, STATE 1, `bad` (line 4), RECORD 3, STATE 3 with states relayed
/// at once; checks the failure, that state 1 (and only it) was relayed, and that record 1
/// (and only it) was written.
fn fails_at_line_4(bad: &[u8], fragments: &[&str]) -> Dest {
    let dest = TARGET.dest();
    let config = dest.config(&json!({"batch_wait_limit_seconds": 0}));
    let input = join(&[
        USERS.as_bytes(),
        record("users", 1).as_bytes(),
        state(1).as_bytes(),
        bad,
        record("users", 3).as_bytes(),
        state(3).as_bytes(),
    ]);
    let output = TARGET.run(&["--config", &config], &input);
    let mut expected = vec!["line 4"];
    expected.extend_from_slice(fragments);
    assert_fails(&output, 1, &expected);
    let emitted = states(&output);
    assert_eq!(emitted, [json!({"position": 1})]);
    Input::parse(&String::from_utf8_lossy(&input)).assert_states_acknowledged(&emitted, &dest);
    assert_eq!(dest.records("users.jsonl"), [json!({"id": 1})]);
    dest
}

#[test]
fn malformed_json_line() {
    fails_at_line_4(
        br#"{"type": "RECORD", "stream": "users", "record": {"id": 2"#,
        &["JSON"],
    );
}

#[test]
fn record_before_schema() {
    fails_at_line_4(
        record("orders", 2).as_bytes(),
        &["`orders`", "before its SCHEMA"],
    );
}

#[test]
fn record_failing_validation_names_field_and_rule() {
    fails_at_line_4(
        br#"{"type":"RECORD","stream":"users","record":{"id":2,"address":{"zip":5}}}"#,
        &["`users`", "`/address/zip`", "rule `type`"],
    );
}

#[test]
fn record_with_wrong_type_for_key() {
    fails_at_line_4(
        br#"{"type":"RECORD","stream":"users","record":{"id":"two"}}"#,
        &["`users`", "`/id`", "rule `type`"],
    );
}

#[test]
fn record_missing_key_property() {
    fails_at_line_4(
        br#"{"type":"RECORD","stream":"users","record":{"name":"no id"}}"#,
        &["`users`", "key property `id`"],
    );
}

#[test]
fn invalid_schema() {
    fails_at_line_4(
        br#"{"type":"SCHEMA","stream":"broken","key_properties":[],"schema":{"type":"object"}}"#,
        &["`broken`", "properties"],
    );
}

#[test]
fn schema_key_not_among_properties() {
    fails_at_line_4(
        br#"{"type":"SCHEMA","stream":"broken","key_properties":["nope"],"schema":{"type":"object","properties":{"id":{"type":"integer"}}}}"#,
        &["`broken`", "`nope`"],
    );
}

#[test]
fn invalid_utf8_bytes() {
    fails_at_line_4(
        b"{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":2,\"name\":\"\xff\xfe\"}}",
        &["UTF-8"],
    );
}

/// Runs one record of `users` (after a record and a state of `orders`) against a prepared
/// destination; the write of `users` must fail.
fn write_fails(dest: &Dest, extra: &Value, fragments: &[&str]) {
    let mut settings = json!({"batch_wait_limit_seconds": 0});
    if let (Some(settings), Some(extra)) = (settings.as_object_mut(), extra.as_object()) {
        settings.extend(extra.clone());
    }
    let config = dest.config(&settings);
    let input = join(&[
        USERS.as_bytes(),
        ORDERS.as_bytes(),
        record("orders", 1).as_bytes(),
        state(1).as_bytes(),
        record("users", 1).as_bytes(),
        state(2).as_bytes(),
        record("orders", 2).as_bytes(),
        state(3).as_bytes(),
    ]);
    let output = TARGET.run(&["--config", &config], &input);
    assert_fails(&output, 1, fragments);
    // Only the state before the failed write is acknowledged.
    assert_eq!(states(&output), [json!({"position": 1})]);
    let orders = if extra["compression"] == "gzip" {
        "orders.jsonl.gz"
    } else {
        "orders.jsonl"
    };
    assert_eq!(dest.records(orders), [json!({"id": 1})]);
}

#[cfg(unix)]
#[test]
fn disk_full() {
    let dest = TARGET.dest();
    std::fs::create_dir_all(dest.out()).expect("mkdir");
    std::os::unix::fs::symlink("/dev/full", dest.out().join("users.jsonl")).expect("symlink");
    write_fails(
        &dest,
        &json!({}),
        &[
            "stream `users` failed",
            "cannot write 1 record of stream `users`",
            "users.jsonl",
            "No space left on device",
        ],
    );
}

#[cfg(unix)]
#[test]
fn disk_full_gzip() {
    let dest = TARGET.dest();
    std::fs::create_dir_all(dest.out()).expect("mkdir");
    std::os::unix::fs::symlink("/dev/full", dest.out().join("users.jsonl.gz")).expect("symlink");
    write_fails(
        &dest,
        &json!({"compression": "gzip"}),
        &[
            "cannot write 1 record of stream `users`",
            "users.jsonl.gz",
            "No space left on device",
        ],
    );
}

#[test]
fn file_name_taken_by_a_directory() {
    let dest = TARGET.dest();
    std::fs::create_dir_all(dest.out().join("users.jsonl")).expect("mkdir");
    write_fails(
        &dest,
        &json!({}),
        &["cannot open", "users.jsonl", "for stream `users`"],
    );
}

#[cfg(unix)]
#[test]
fn read_only_destination() {
    use std::os::unix::fs::PermissionsExt;
    let dest = TARGET.dest();
    std::fs::create_dir_all(dest.out()).expect("mkdir");
    // orders can be written, users cannot: its file exists read-only... unless we are root.
    std::fs::write(dest.out().join("users.jsonl"), "").expect("write");
    std::fs::set_permissions(
        dest.out().join("users.jsonl"),
        std::fs::Permissions::from_mode(0o444),
    )
    .expect("chmod");
    if std::fs::OpenOptions::new()
        .append(true)
        .open(dest.out().join("users.jsonl"))
        .is_ok()
    {
        eprintln!("skipped: permissions are not enforced for this user (root?)");
        return;
    }
    write_fails(
        &dest,
        &json!({}),
        &[
            "cannot open",
            "users.jsonl",
            "for stream `users`",
            "Permission denied",
        ],
    );
}

#[cfg(unix)]
#[test]
fn read_only_parent_of_destination() {
    use std::os::unix::fs::PermissionsExt;
    let dest = TARGET.dest();
    let locked = dest.root().join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    if std::fs::create_dir(locked.join("probe")).is_ok() {
        eprintln!("skipped: permissions are not enforced for this user (root?)");
        return;
    }
    let config = dest.config(&json!({"destination_path": locked.join("out")}));
    let output = TARGET.run(&["--config", &config], join(&[USERS.as_bytes()]).as_slice());
    assert_fails(
        &output,
        1,
        &[
            "cannot create the destination directory",
            "Permission denied",
        ],
    );
    assert!(states(&output).is_empty());
}

#[test]
fn destination_is_a_file() {
    let dest = TARGET.dest();
    let file = dest.root().join("a-file");
    std::fs::write(&file, "").expect("write");
    for (path, message) in [
        (file.clone(), "is a file, not a directory"),
        (file.join("sub"), "cannot create the destination directory"),
    ] {
        let config = dest.config(&json!({"destination_path": path}));
        let input = join(&[
            USERS.as_bytes(),
            record("users", 1).as_bytes(),
            state(1).as_bytes(),
        ]);
        let output = TARGET.run(&["--config", &config], &input);
        assert_fails(&output, 1, &[message, "destination_path"]);
        assert!(states(&output).is_empty());
    }
}

#[test]
fn bad_settings_exit_2() {
    for (settings, fragment) in [
        (json!({"compression": "zip"}), "compression"),
        (json!({"custom_name": "a/b"}), "custom_name"),
        (json!({"custom_name": ".."}), "custom_name"),
        (json!({"do_timestamp_file": "yes"}), "do_timestamp_file"),
        (json!({"batch_size_rows": 0}), "batch_size_rows"),
    ] {
        let dest = TARGET.dest();
        let config = dest.config(&settings);
        let output = TARGET.run(&["--config", &config], join(&[USERS.as_bytes()]).as_slice());
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{settings}: {err}");
        assert!(err.contains(fragment), "{settings}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(states(&output).is_empty());
        assert!(
            !Path::new(&dest.out()).exists(),
            "nothing created on bad settings"
        );
    }
}
