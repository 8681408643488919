//! map-transform as a process: fed the baseline tap output of singer-sdk's stream map tests,
//! it must produce singer-sdk's expected output for each map configuration.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn golden(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/singer-sdk-streams/golden/mapped_stream")
        .join(format!("{name}.jsonl"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(config: &Value, input: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_map-transform"))
        .arg("--config")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Lines as JSON, with `time_extracted` (the tap's clock) set aside.
fn normalised(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            let mut value: Value = serde_json::from_str(line).unwrap();
            if let Some(object) = value.as_object_mut() {
                object.remove("time_extracted");
            }
            value
        })
        .collect()
}

fn assert_golden(name: &str, config: &Value) {
    let output = run(config, &golden("no_map"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{name}: {stderr}");
    let ours = normalised(&String::from_utf8(output.stdout).unwrap());
    let expected = normalised(&golden(name));
    assert_eq!(ours, expected, "{name}");
}

#[test]
fn reproduces_singer_sdk_outputs() {
    let cases = [
        ("no_map", json!({})),
        (
            "keep_all_fields",
            json!({"stream_maps": {"mystream": {"email_hash": "md5(email)"}}}),
        ),
        (
            "only_mapped_fields",
            json!({"stream_maps": {"mystream": {"email_hash": "md5(email)", "email_hash_sha256": "sha256(email)", "fixed_count": "int(count-1)", "__else__": null}}}),
        ),
        (
            "changed_key_properties",
            json!({"stream_maps": {"mystream": {"email_hash": "md5(email)", "__key_properties__": ["email_hash"], "__else__": null}}}),
        ),
        (
            "sourced_stream_1",
            json!({"stream_maps": {"mystream": null, "sourced_stream_1": {"__source__": "mystream"}}}),
        ),
        (
            "aliased_stream",
            json!({"stream_maps": {"mystream": {"__alias__": "aliased_stream"}}}),
        ),
        (
            "builtin_variable_stream_name_alias_expr",
            json!({"stream_maps": {"mystream": {"__alias__": "__stream_name__.upper()"}}}),
        ),
        (
            "filter_records",
            json!({"stream_maps": {"mystream": {"__filter__": "count < 20"}}}),
        ),
        (
            "drop_property",
            json!({"stream_maps": {"mystream": {"email": null}}}),
        ),
        (
            "flatten_depth_1",
            json!({"flattening_enabled": true, "flattening_max_depth": 1}),
        ),
        (
            "flatten_all_with_dot_separator",
            json!({"flattening_enabled": true, "flattening_max_depth": 2, "flattening_separator": "."}),
        ),
        (
            "map_and_flatten",
            json!({"stream_maps": {"mystream": {"email_hash": "md5(email)", "__key_properties__": ["email_hash"]}}, "flattening_enabled": true, "flattening_max_depth": 10}),
        ),
        (
            "remove_stream",
            json!({"stream_maps": {"mystream": "__NULL__"}}),
        ),
    ];
    for (name, config) in &cases {
        assert_golden(name, config);
    }
}

#[test]
fn bad_maps_fail_at_start_up_with_the_map_and_property() {
    let output = run(
        &json!({"stream_maps": {"mystream": {"total": "count +"}}}),
        &golden("no_map"),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stream_maps.mystream.total"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = run(
        &json!({"stream_maps": {"mystream": {"x": "nosuchfn(count)"}}}),
        &golden("no_map"),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nosuchfn"), "{stderr}");

    let output = run(
        &json!({"stream_maps": {"mystream": {"__key_properties__": ["nope"]}}}),
        &golden("no_map"),
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("nope"));
}

#[test]
fn warns_about_a_map_for_a_stream_that_never_came() {
    let output = run(
        &json!({"stream_maps": {"ghost": {"x": "1"}}}),
        &golden("no_map"),
    );
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ghost"), "{stderr}");
}

#[test]
fn about_lists_the_stream_map_settings() {
    let output = Command::new(env!("CARGO_BIN_EXE_map-transform"))
        .args(["--about", "--format", "json"])
        .output()
        .unwrap();
    let about: Value = serde_json::from_slice(&output.stdout).unwrap();
    for setting in [
        "stream_maps",
        "stream_map_config",
        "faker_config",
        "flattening_enabled",
        "flattening_max_depth",
    ] {
        assert!(
            about["settings"]["properties"].get(setting).is_some(),
            "{setting}"
        );
    }
    assert!(
        about["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("stream-maps"))
    );
}
