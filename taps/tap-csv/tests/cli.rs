//! tap-csv as a process: every mode Meltano uses, and every bad input a user can give it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn write(&self, name: &str, content: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }

    fn config(&self, config: &Value) -> String {
        self.write("config.json", &config.to_string())
    }
}

fn tap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tap-csv"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn messages(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn records(output: &Output, stream: &str) -> Vec<Value> {
    messages(output)
        .into_iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| m["record"].clone())
        .collect()
}

fn last_state(output: &Output) -> Value {
    messages(output)
        .into_iter()
        .rfind(|m| m["type"] == "STATE")
        .expect("a STATE message")["value"]
        .clone()
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample/data")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/singer-sdk-streams/tap-fixtures/csv")
}

fn customers_config(dir: &Dir, extra: &Value) -> String {
    let mut config = json!({"files": [{
        "entity": "customers",
        "path": sample().join("customers.csv"),
        "keys": ["id"],
        "replication_key": "updated_at",
    }]});
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    dir.config(&config)
}

/// A failure: non-zero exit with `code`, the message on stderr, nothing on stdout, no panic.
fn assert_fails(output: &Output, code: i32, message: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    assert!(
        err.contains(message),
        "expected {message:?} in stderr:\n{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert!(
        stdout(output).is_empty(),
        "stdout must stay clean: {}",
        stdout(output)
    );
}

#[test]
fn discovers_one_stream_per_file_definition() {
    let dir = Dir::new();
    let config = customers_config(&dir, &json!({}));
    let output = tap(&["--config", &config, "--discover"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let catalog: Value = serde_json::from_slice(&output.stdout).unwrap();
    let stream = &catalog["streams"][0];
    assert_eq!(stream["tap_stream_id"], "customers");
    assert_eq!(stream["key_properties"], json!(["id"]));
    assert_eq!(stream["replication_key"], "updated_at");
    assert_eq!(
        stream["schema"]["properties"]["name"],
        json!({"type": ["string", "null"]})
    );
}

#[test]
fn syncs_every_row_as_strings_by_default() {
    let dir = Dir::new();
    let config = customers_config(&dir, &json!({}));
    let output = tap(&["--config", &config]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = records(&output, "customers");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[3]["name"], "Hopper, Grace \"Amazing\"");
    assert_eq!(rows[0]["id"], "1");
    assert_eq!(
        last_state(&output)["bookmarks"]["customers"],
        json!({"replication_key": "updated_at", "replication_key_value": "2024-01-05T16:45:00Z"})
    );
    let err = stderr(&output);
    assert!(
        err.contains("METRIC: {\"type\":\"counter\",\"metric\":\"record_count\",\"value\":5"),
        "{err}"
    );
}

#[test]
fn infers_types_when_asked() {
    let dir = Dir::new();
    let config = dir.config(&json!({"infer_types": true, "files": [{
        "entity": "orders", "path": sample().join("orders.csv"), "keys": ["order_id"]}]}));
    let output = tap(&["--config", &config]);
    assert!(output.status.success(), "{}", stderr(&output));
    let schema = &messages(&output)[0]["schema"]["properties"];
    assert_eq!(schema["order_id"]["type"], json!(["integer", "null"]));
    assert_eq!(schema["amount"]["type"], json!(["number", "null"]));
    assert_eq!(schema["paid"]["type"], json!(["boolean", "null"]));
    assert_eq!(schema["ordered_at"]["format"], "date-time");
    let rows = records(&output, "orders");
    assert_eq!(
        rows[0],
        json!({"order_id": 100, "customer_id": 1, "amount": 19.99, "paid": true, "ordered_at": "2024-02-01T10:00:00Z"})
    );
}

#[test]
fn resumes_incrementally_from_state() {
    let dir = Dir::new();
    let config = customers_config(&dir, &json!({"infer_types": true}));
    let first = tap(&["--config", &config]);
    let state = dir.write("state.json", &last_state(&first).to_string());
    // Rows at the bookmark are emitted again (at-least-once); older rows are not.
    let second = tap(&["--config", &config, "--state", &state]);
    assert!(second.status.success(), "{}", stderr(&second));
    let ids: Vec<Value> = records(&second, "customers")
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(5)]);
    let state = dir.write(
        "state2.json",
        r#"{"bookmarks": {"customers": {"replication_key": "updated_at", "replication_key_value": "2024-01-03T08:15:00Z"}}}"#,
    );
    let third = tap(&["--config", &config, "--state", &state]);
    assert_eq!(records(&third, "customers").len(), 3);
}

#[test]
fn honours_catalog_selection() {
    let dir = Dir::new();
    let config = customers_config(&dir, &json!({}));
    let discovered = tap(&["--config", &config, "--discover"]);
    let mut catalog: Value = serde_json::from_slice(&discovered.stdout).unwrap();
    for entry in catalog["streams"][0]["metadata"].as_array_mut().unwrap() {
        if entry["breadcrumb"] == json!(["properties", "email"]) {
            entry["metadata"]["selected"] = json!(false);
        }
    }
    let catalog_path = dir.write("catalog.json", &catalog.to_string());
    let output = tap(&["--config", &config, "--catalog", &catalog_path]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = records(&output, "customers");
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|r| r.get("email").is_none() && r.get("name").is_some())
    );

    catalog["streams"][0]["metadata"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .filter(|e| e["breadcrumb"] == json!([]))
        .for_each(|e| e["metadata"]["selected"] = json!(false));
    let catalog_path = dir.write("catalog2.json", &catalog.to_string());
    let output = tap(&["--config", &config, "--catalog", &catalog_path]);
    assert!(output.status.success());
    assert!(
        messages(&output)
            .iter()
            .all(|m| m["type"] != "RECORD" && m["type"] != "SCHEMA")
    );
}

#[test]
fn reads_tab_separated_fixtures_and_directories() {
    let dir = Dir::new();
    let config = dir.config(&json!({"add_metadata_columns": true, "files": [
        {"entity": "people", "path": fixtures(), "keys": ["id"], "delimiter": "\t"},
    ]}));
    let output = tap(&["--config", &config]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = records(&output, "people");
    assert_eq!(
        rows.len(),
        1050,
        "customers.csv (1000) and employees.csv (50)"
    );
    assert!(
        rows[0]["_sdc_source_file"]
            .as_str()
            .unwrap()
            .ends_with("customers.csv")
    );
    assert_eq!(rows[0]["_sdc_source_lineno"], 2);
    assert!(rows[0]["_sdc_source_file_mtime"].is_string());
}

#[test]
fn reads_the_files_list_from_csv_files_definition() {
    let dir = Dir::new();
    let definition = dir.write(
        "files.json",
        &json!([{"entity": "orders", "path": sample().join("orders.csv"), "keys": ["order_id"]}])
            .to_string(),
    );
    let config = dir.config(&json!({"csv_files_definition": definition}));
    let output = tap(&["--config", &config]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(records(&output, "orders").len(), 3);
}

#[test]
fn decodes_other_encodings() {
    let dir = Dir::new();
    let path = dir.path("latin1.csv");
    std::fs::write(&path, b"id,city\n1,Z\xfcrich\n").unwrap();
    let config =
        dir.config(&json!({"files": [{"entity": "cities", "path": path, "encoding": "latin1"}]}));
    let output = tap(&["--config", &config]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(records(&output, "cities")[0]["city"], "Zürich");
}

#[test]
fn settings_come_from_env_too() {
    let dir = Dir::new();
    let files = json!([{"entity": "orders", "path": sample().join("orders.csv")}]).to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_tap-csv"))
        .args(["--config", "ENV"])
        .current_dir(dir.0.path())
        .env("TAP_CSV_FILES", files)
        .env("TAP_CSV_INFER_TYPES", "true")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(records(&output, "orders")[0]["order_id"], 100);
}

#[test]
fn about_and_test_modes() {
    let output = tap(&["--about", "--format", "json"]);
    assert!(output.status.success());
    let about: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(about["name"], "tap-csv");
    assert!(
        about["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("discover"))
    );
    assert!(about["settings"]["properties"]["files"]["description"].is_string());
    let output = tap(&["--about", "--format", "markdown"]);
    assert!(
        stdout(&output).contains("| add_metadata_columns | False | false |"),
        "{}",
        stdout(&output)
    );

    let dir = Dir::new();
    let config = dir.config(&json!({"files": [
        {"entity": "customers", "path": sample().join("customers.csv")},
        {"entity": "orders", "path": sample().join("orders.csv")},
    ]}));
    let output = tap(&["--config", &config, "--test"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(records(&output, "customers").len(), 1);
    assert_eq!(records(&output, "orders").len(), 1);
    let output = tap(&["--version"]);
    assert_eq!(stdout(&output).lines().count(), 1);
}

#[test]
fn missing_config_file() {
    assert_fails(
        &tap(&["--config", "/nonexistent/config.json"]),
        2,
        "cannot read config file `/nonexistent/config.json`",
    );
}

#[test]
fn config_that_violates_the_schema() {
    let dir = Dir::new();
    let config = dir.config(&json!({"files": "customers.csv", "infer_sample_rows": 0}));
    let output = tap(&["--config", &config]);
    assert_fails(
        &output,
        2,
        "`files`: \"customers.csv\" is not of types \"null\", \"array\"",
    );
    assert!(
        stderr(&output).contains("`infer_sample_rows`: 0 is less than the minimum of 1"),
        "{}",
        stderr(&output)
    );
    let config = dir.config(&json!({"files": [{"path": "a.csv"}]}));
    assert_fails(
        &tap(&["--config", &config]),
        2,
        "`files[0]`: \"entity\" is a required property",
    );
    let config = dir.write("broken.json", "{\"files\": [");
    assert_fails(&tap(&["--config", &config]), 2, "config file `");
}

#[test]
fn malformed_catalog_and_state() {
    let dir = Dir::new();
    let config = customers_config(&dir, &json!({}));
    let catalog = dir.write("catalog.json", "{\"streams\": {}}");
    assert_fails(
        &tap(&["--config", &config, "--catalog", &catalog]),
        1,
        "catalog `",
    );
    let state = dir.write("state.json", "{\"bookmarks\": {\"customers\": 5}}");
    assert_fails(
        &tap(&["--config", &config, "--state", &state]),
        1,
        "bookmark of stream `customers` must be an object",
    );
    let catalog = dir.write(
        "unknown.json",
        "{\"streams\": [{\"tap_stream_id\": \"invoices\", \"schema\": {}}]}",
    );
    assert_fails(
        &tap(&["--config", &config, "--catalog", &catalog]),
        1,
        "stream `invoices` is not a stream of this tap",
    );
}

#[test]
fn unreadable_csv() {
    let dir = Dir::new();
    let config = dir.config(&json!({"files": [{"entity": "x", "path": dir.path("missing.csv")}]}));
    assert_fails(
        &tap(&["--config", &config]),
        1,
        "check the `path` of this file definition",
    );
    let bad = dir.path("bad.csv");
    std::fs::write(&bad, b"id,name\n1,\xff\xfe\n").unwrap();
    let config = dir.config(&json!({"files": [{"entity": "x", "path": bad}]}));
    let output = tap(&["--config", &config]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not valid UTF-8; set `encoding`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn row_with_the_wrong_number_of_fields_names_file_and_line() {
    let dir = Dir::new();
    let bad = dir.path("ragged.csv");
    std::fs::write(&bad, "id,name\n1,a\n2,b,extra\n").unwrap();
    let config = dir.config(&json!({"files": [{"entity": "x", "path": bad}]}));
    let output = tap(&["--config", &config]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("ragged.csv` line 3: row has 3 fields but the header has 2"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    // The good row before the bad one was emitted before the failure.
    assert_eq!(records(&output, "x").len(), 1);
}

#[test]
fn replication_key_not_in_the_schema() {
    let dir = Dir::new();
    let config = dir.config(&json!({"files": [{"entity": "orders", "path": sample().join("orders.csv"), "replication_key": "updated"}]}));
    assert_fails(
        &tap(&["--config", &config]),
        1,
        "replication key `updated` is not in the schema",
    );
}

#[test]
fn sigterm_stops_cleanly_with_a_final_state() {
    use std::io::{Read, Write as _};
    let dir = Dir::new();
    let path = dir.path("big.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "id,updated_at").unwrap();
    for i in 0..300_000 {
        writeln!(file, "{i},2024-01-01T00:00:{:02}Z", i % 60).unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let config = dir.config(
        &json!({"files": [{"entity": "big", "path": path, "replication_key": "updated_at"}]}),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_tap-csv"))
        .args(["--config", &config])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first line is out the sync (and its signal handling) is running; then nobody
    // reads stdout for a while: the tap fills the pipe and waits there, mid-sync.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut out = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut out).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    stdout.read_to_string(&mut out).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "exit {status}: {err}");
    assert!(err.contains("Termination signal received"), "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records = lines.iter().filter(|m| m["type"] == "RECORD").count();
    assert!(records < 300_000, "stopped early ({records} records)");
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "STATE", "the last message is the state");
    // The stream is unsorted, so its progress is not yet a bookmark: a resumed run starts over.
    assert!(
        last["value"]["bookmarks"]["big"]
            .get("replication_key_value")
            .is_none(),
        "{last}"
    );
}
