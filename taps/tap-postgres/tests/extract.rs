//! Discovery, full-table and incremental syncs, a round trip into another schema through the
//! SDK's PostgreSQL loader, and bad input, against a real server (see the test support's
//! `postgres` module). Each test works in schemas of its own, dropped after it.

use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use singer_sdk::sink::StreamSchema;
use singer_sdk::sql::postgres::{ConnectOptions, Loader, TableSink};
use singer_sdk::target::{Target as SdkTarget, TargetOptions};
use target_test_support::{Dest, Target, messages, postgres, stderr};

const TAP: Target = Target::postgres(env!("CARGO_BIN_EXE_tap-postgres"));

/// A table of every common type, two rows (the second all NULL), a view and comments.
fn create_source(dest: &Dest) -> String {
    let schema = dest.schema();
    let client = postgres::client();
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.every (id integer PRIMARY KEY, s smallint, b bigint, n numeric(10,2), r real,
               d double precision, t text NOT NULL DEFAULT '', v varchar(10), c char(3), ok boolean, day date,
               ts timestamp, tz timestamptz, tm time, u uuid, j json, jb jsonb, arr integer[], tarr text[],
               by bytea, updated timestamptz);
             COMMENT ON TABLE {schema}.every IS 'every type';
             COMMENT ON COLUMN {schema}.every.t IS 'some text';
             INSERT INTO {schema}.every VALUES
               (1, 2, 9007199254740993, 12.34, 1.5, 2.25, 'x', 'vv', 'ab', true, '2024-01-02', '2024-01-02 03:04:05',
                '2024-01-02 03:04:05+02', '10:11:12', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{{\"a\": 1}}',
                '{{\"b\": [1, \"two\"]}}', '{{1,2}}', '{{\"x\",\"y z\"}}', '\\x0102ff', '2024-01-01T00:00:00Z'),
               (2, NULL, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                NULL, NULL, NULL, '2024-02-01T00:00:00Z');
             CREATE VIEW {schema}.every_id AS SELECT id FROM {schema}.every;"
        ))
        .unwrap();
    schema
}

fn tap(dest: &Dest, config: &Value, args: &[&str]) -> Output {
    let path = dest.write_config(config);
    Command::new(TAP.bin)
        .arg("--config")
        .arg(path)
        .args(args)
        .output()
        .unwrap()
}

fn connection(schema: &str) -> Value {
    json!({"sqlalchemy_url": postgres::url(), "filter_schemas": [schema]})
}

fn records(output: &Output) -> Vec<Value> {
    assert!(output.status.success(), "{}", stderr(output));
    messages(&output.stdout)
        .into_iter()
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["record"].clone())
        .collect()
}

#[test]
fn discovery_describes_tables_views_keys_nullability_and_comments() {
    let dest = TAP.dest();
    let schema = create_source(&dest);
    let output = tap(&dest, &connection(&schema), &["--discover"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let catalog: Value = serde_json::from_slice(&output.stdout).unwrap();
    let streams = catalog["streams"].as_array().unwrap();
    let names: Vec<&str> = streams
        .iter()
        .map(|s| s["tap_stream_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [format!("{schema}-every"), format!("{schema}-every_id")]
    );
    let every = &streams[0];
    assert_eq!(every["key_properties"], json!(["id"]));
    let p = &every["schema"]["properties"];
    assert_eq!(p["id"], json!({"type": "integer"}));
    assert_eq!(
        p["t"],
        json!({"type": "string", "description": "some text"})
    );
    assert_eq!(p["v"], json!({"type": ["string", "null"], "maxLength": 10}));
    assert_eq!(
        p["tz"],
        json!({"type": ["string", "null"], "format": "date-time"})
    );
    assert_eq!(p["arr"]["type"], json!(["array", "null"]));
    assert_eq!(p["by"]["contentEncoding"], json!("base64"));
    assert_eq!(streams[1]["key_properties"], json!([]));

    let mut config = connection(&schema);
    config["json_as_object"] = json!(true);
    config["dates_as_string"] = json!(true);
    let output = tap(&dest, &config, &["--discover"]);
    let catalog: Value = serde_json::from_slice(&output.stdout).unwrap();
    let p = &catalog["streams"][0]["schema"]["properties"];
    assert_eq!(p["jb"], json!({"type": ["object", "null"]}));
    assert_eq!(p["day"], json!({"type": ["string", "null"]}));
}

#[test]
fn a_full_table_sync_reads_every_type() {
    let dest = TAP.dest();
    let schema = create_source(&dest);
    let rows = records(&tap(&dest, &connection(&schema), &[]));
    assert_eq!(rows.len(), 4, "two rows of the table, two of the view");
    assert_eq!(
        rows[0],
        json!({"id": 1, "s": 2, "b": 9_007_199_254_740_993_i64, "n": 12.34, "r": 1.5, "d": 2.25, "t": "x",
               "v": "vv", "c": "ab ", "ok": true, "day": "2024-01-02", "ts": "2024-01-02T03:04:05+00:00",
               "tz": "2024-01-02T01:04:05+00:00", "tm": "10:11:12", "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
               "j": {"a": 1}, "jb": {"b": [1, "two"]}, "arr": [1, 2], "tarr": ["x", "y z"], "by": "AQL/",
               "updated": "2024-01-01T00:00:00+00:00"})
    );
    assert_eq!(rows[1]["s"], Value::Null);
    assert_eq!(rows[2], json!({"id": 1}));
}

#[test]
fn an_incremental_sync_resumes_from_its_bookmark_in_key_order() {
    let dest = TAP.dest();
    let schema = create_source(&dest);
    let stream = format!("{schema}-every");
    let mut config = connection(&schema);
    config["replication_keys"] = json!({&stream: "updated"});
    let first = tap(&dest, &config, &[]);
    let rows = records(&first);
    assert_eq!(
        rows.iter().filter(|r| r.get("updated").is_some()).count(),
        2
    );
    let states: Vec<Value> = messages(&first.stdout)
        .into_iter()
        .filter(|m| m["type"] == "STATE")
        .collect();
    let state = states.last().unwrap()["value"].clone();
    assert_eq!(
        state["bookmarks"][&stream]["replication_key_value"],
        json!("2024-02-01T00:00:00+00:00")
    );
    postgres::client()
        .batch_execute(&format!(
            "INSERT INTO {schema}.every (id, updated) VALUES (3, '2024-03-01T00:00:00Z'), (4, '2023-01-01T00:00:00Z')"
        ))
        .unwrap();
    let state_path = dest.write("state.json", state.to_string());
    let second = tap(&dest, &config, &["--state", state_path.to_str().unwrap()]);
    let ids: Vec<Value> = records(&second)
        .into_iter()
        .filter(|r| r.get("updated").is_some())
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [json!(2), json!(3)],
        "rows from the bookmark on, in key order"
    );
}

#[test]
fn a_replication_key_chosen_in_the_catalog_filters_and_orders_by_it() {
    let dest = TAP.dest();
    let schema = create_source(&dest);
    let stream = format!("{schema}-every");
    postgres::client()
        .batch_execute(&format!(
            "INSERT INTO {schema}.every (id, updated) VALUES (3, '2024-03-01T00:00:00Z'), (4, '2023-01-01T00:00:00Z'), (5, '2024-02-15T00:00:00Z')"
        ))
        .unwrap();
    let config = connection(&schema);
    let output = tap(&dest, &config, &["--discover"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut catalog: Value = serde_json::from_slice(&output.stdout).unwrap();
    let streams = catalog["streams"].as_array_mut().unwrap();
    streams.retain(|s| s["tap_stream_id"] == json!(stream));
    let root = streams[0]["metadata"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["breadcrumb"] == json!([]))
        .unwrap();
    root["metadata"]["selected"] = json!(true);
    root["metadata"]["replication-method"] = json!("INCREMENTAL");
    root["metadata"]["replication-key"] = json!("updated");
    let catalog_path = dest.write("catalog.json", catalog.to_string());
    let state = json!({"bookmarks": {&stream: {"replication_key": "updated", "replication_key_value": "2024-01-15T00:00:00+00:00"}}});
    let state_path = dest.write("state.json", state.to_string());
    let output = tap(
        &dest,
        &config,
        &[
            "--catalog",
            catalog_path.to_str().unwrap(),
            "--state",
            state_path.to_str().unwrap(),
        ],
    );
    let ids: Vec<Value> = records(&output)
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [json!(2), json!(5), json!(3)],
        "rows from the bookmark on, in the order of the catalog's key (not the table's)"
    );
    let out = messages(&output.stdout);
    let schema_message = out.iter().find(|m| m["type"] == "SCHEMA").unwrap();
    assert_eq!(schema_message["bookmark_properties"], json!(["updated"]));
    let last_state = out.iter().rev().find(|m| m["type"] == "STATE").unwrap();
    assert_eq!(
        last_state["value"]["bookmarks"][&stream]["replication_key_value"],
        json!("2024-03-01T00:00:00+00:00")
    );

    // FULL_TABLE in the catalog wins over a configured replication key.
    root_method(&mut catalog, "FULL_TABLE");
    let catalog_path = dest.write("catalog.json", catalog.to_string());
    let mut config = connection(&schema);
    config["replication_keys"] = json!({&stream: "updated"});
    let output = tap(
        &dest,
        &config,
        &[
            "--catalog",
            catalog_path.to_str().unwrap(),
            "--state",
            state_path.to_str().unwrap(),
        ],
    );
    let mut ids: Vec<i64> = records(&output)
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3, 4, 5], "a full-table sync reads every row");
}

fn root_method(catalog: &mut Value, method: &str) {
    let root = catalog["streams"][0]["metadata"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["breadcrumb"] == json!([]))
        .unwrap();
    root["metadata"]["replication-method"] = json!(method);
    root["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("replication-key");
}

/// The SDK's PostgreSQL loader, as target-postgres is built on it.
struct Loading(Arc<Loader>);

impl SdkTarget for Loading {
    type Settings = Map<String, Value>;
    type Sink = TableSink;

    fn connect(settings: Self::Settings, options: &TargetOptions) -> singer_sdk::Result<Self> {
        let url = settings["url"].as_str().unwrap_or_default();
        Ok(Loading(Arc::new(Loader::new(
            ConnectOptions::from_url(url)?,
            options,
        )?)))
    }

    fn open_sink(self: Arc<Self>, stream: &StreamSchema) -> singer_sdk::Result<TableSink> {
        self.0.open_sink(stream)
    }
}

#[test]
fn a_round_trip_into_another_schema_keeps_every_value() {
    let source = TAP.dest();
    let copy = TAP.dest();
    let schema = create_source(&source);
    let extracted = tap(&source, &connection(&schema), &[]);
    assert!(extracted.status.success(), "{}", stderr(&extracted));
    let config = json!({"default_target_schema": copy.schema(), "load_method": "upsert"});
    let options = TargetOptions::from_config(config.as_object().unwrap()).unwrap();
    let mut settings = Map::new();
    settings.insert("url".into(), json!(postgres::url()));
    let target = Arc::new(Loading::connect(settings, &options).unwrap());
    let mut out = singer_sdk::message::MessageWriter::new(Vec::new());
    singer_sdk::target::load(target, &options, None, &extracted.stdout[..], &mut out).unwrap();

    let again = records(&tap(&copy, &connection(&copy.schema()), &[]));
    let original = records(&extracted);
    assert_eq!(again.len(), original.len());
    for (a, b) in original.iter().zip(&again) {
        for (column, value) in a.as_object().unwrap() {
            let copied = &b[column];
            assert_eq!(copied, value, "`{column}`");
        }
    }
}

#[test]
fn an_unreachable_server_is_named_without_the_password() {
    let dest = TAP.dest();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = json!({"host": "127.0.0.1", "port": port, "user": "u", "password": "hunter2-secret", "database": "d"});
    let output = tap(&dest, &config, &["--discover"]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("hunter2-secret"), "{text}");
}

#[test]
fn a_large_table_streams_in_flat_memory() {
    // Flat: ten times the rows may not cost more than a little more memory. (An absolute
    // bound would measure the binary's size as much as the cursor.)
    let small = peak_rss_kib(30_000);
    let large = peak_rss_kib(300_000);
    eprintln!("peak RSS: {small} KiB at 30000 rows, {large} KiB at 300000 rows");
    assert!(
        large < small + 16 * 1024,
        "peak RSS grew from {small} KiB (30000 rows) to {large} KiB (300000 rows): the cursor should keep memory flat"
    );
}

/// The tap's peak RSS syncing a fresh table of `rows` rows.
fn peak_rss_kib(rows: usize) -> u64 {
    use std::io::{BufRead, BufReader};

    let dest = TAP.dest();
    let schema = dest.schema();
    postgres::client()
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.big AS
               SELECT i AS id, repeat(md5(i::text), 4) AS filler, now() AS at FROM generate_series(1, {rows}) AS i;"
        ))
        .unwrap();
    let path = dest.write_config(&connection(&schema));
    let mut child = Command::new(TAP.bin)
        .arg("--config")
        .arg(path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let watcher = watch_peak_rss(child.id());
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let records = stdout
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.starts_with("{\"type\":\"RECORD\""))
        .count();
    // Read the peak before the exited child is reaped.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let peak_kib = watcher.join().unwrap_or(0);
    assert!(child.wait().unwrap().success());
    assert_eq!(records, rows);
    assert!(peak_kib > 0, "no peak RSS read");
    peak_kib
}

/// Samples `VmHWM` (peak resident set) of process `pid` until it exits; the last value read.
fn watch_peak_rss(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) else {
                break;
            };
            let kib = line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            peak = peak.max(kib);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        peak
    })
}
