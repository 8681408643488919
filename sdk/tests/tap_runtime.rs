//! The tap runtime end to end, in-process: discovery, selection, incremental state, test mode,
//! and the errors users see.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use singer_sdk::cli::{PackageInfo, TapArgs, parse_args, run_tap_with};
use singer_sdk::message::MessageWriter;
use singer_sdk::stream::{
    Context, Partitions, RecordStream, Stream, SyncContext, records_from_iter,
};
use singer_sdk::tap::{Streams, Tap};
use singer_sdk::{Error, Result, Schema, Settings};

const INFO: PackageInfo = PackageInfo {
    name: "tap-fixture",
    version: "1.2.3",
    description: "A tap for tests.",
};

#[derive(Deserialize)]
struct Config {
    api_key: String,
    #[serde(default)]
    unsorted: bool,
    #[serde(default)]
    backwards: bool,
}

impl Settings for Config {
    fn settings_schema() -> Value {
        json!({"type": "object", "properties": {
            "api_key": {"type": "string", "secret": true, "writeOnly": true, "description": "The key."},
            "unsorted": {"type": "boolean"},
            "backwards": {"type": "boolean"},
        }, "required": ["api_key"]})
    }
}

#[derive(Serialize, Clone, Schema)]
struct Event {
    #[schema(key)]
    id: i64,
    #[schema(replication_key, format = "date-time")]
    updated_at: String,
    payload: Payload,
}

#[derive(Serialize, Clone, Schema)]
struct Payload {
    kind: String,
}

struct Events {
    unsorted: bool,
    backwards: bool,
}

fn events() -> Vec<Event> {
    (1..=5)
        .map(|i| Event {
            id: i,
            updated_at: format!("2024-01-0{i}T00:00:00+00:00"),
            payload: Payload {
                kind: format!("k{i}"),
            },
        })
        .collect()
}

impl Stream for Events {
    type Record = Event;
    fn name(&self) -> &str {
        "events"
    }
    fn is_sorted(&self) -> bool {
        !self.unsorted
    }
    fn state_message_frequency(&self) -> usize {
        2
    }
    fn records<'a>(&'a self, _cx: &'a SyncContext) -> RecordStream<'a, Event> {
        let mut list = events();
        if self.unsorted {
            list.swap(0, 4);
        }
        if self.backwards {
            list.swap(1, 2);
        }
        records_from_iter(list.into_iter().map(Ok))
    }
}

struct Shops;

impl Stream for Shops {
    type Record = serde_json::Map<String, Value>;
    fn name(&self) -> &str {
        "shops"
    }
    fn schema(&self) -> Value {
        json!({"type": "object", "properties": {"shop": {"type": "string"}, "n": {"type": "integer"}}})
    }
    fn partitions(&self, _from_state: Vec<Context>) -> Partitions {
        Partitions::Each(vec![
            json!({"shop": "a"}).as_object().cloned().unwrap(),
            json!({"shop": "b"}).as_object().cloned().unwrap(),
        ])
    }
    fn replication_key(&self) -> Option<&str> {
        Some("n")
    }
    fn is_sorted(&self) -> bool {
        true
    }
    fn records<'a>(&'a self, cx: &'a SyncContext) -> RecordStream<'a, Self::Record> {
        let shop = cx.partition().unwrap()["shop"].clone();
        records_from_iter(
            (1..=3).map(move |n| Ok(json!({"shop": shop, "n": n}).as_object().cloned().unwrap())),
        )
    }
}

struct FixtureTap;

impl Tap for FixtureTap {
    type Settings = Config;
    async fn streams(&self, config: &Config) -> Result<Streams> {
        if config.api_key.is_empty() {
            return Err(Error::custom("api_key is empty"));
        }
        Ok(Streams::new()
            .with(Events {
                unsorted: config.unsorted,
                backwards: config.backwards,
            })
            .with(Shops))
    }
}

/// A `Write` whose bytes the test can read after the run.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new(config: &Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
        Run { dir }
    }

    fn file(&self, name: &str, content: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }

    fn run(&self, extra: &[&str]) -> Result<String> {
        let config = self.dir.path().join("config.json").display().to_string();
        let mut args = vec!["tap-fixture".to_owned(), "--config".to_owned(), config];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: TapArgs = parse_args(INFO, args).expect("arguments parse");
        let buffer = Buffer::default();
        run_tap_with(&FixtureTap, INFO, &args, MessageWriter::new(buffer.clone()))?;
        let bytes = buffer.0.lock().unwrap().clone();
        Ok(String::from_utf8(bytes).unwrap())
    }
}

fn messages(output: &str) -> Vec<Value> {
    output
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn records(output: &str, stream: &str) -> Vec<Value> {
    messages(output)
        .into_iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .map(|m| m["record"].clone())
        .collect()
}

fn states(output: &str) -> Vec<Value> {
    messages(output)
        .into_iter()
        .filter(|m| m["type"] == "STATE")
        .map(|m| m["value"].clone())
        .collect()
}

fn good() -> Run {
    Run::new(&json!({"api_key": "s3cret-value"}))
}

#[test]
fn discovery_lists_streams_with_metadata() {
    let out = good().run(&["--discover"]).unwrap();
    let catalog: Value = serde_json::from_str(&out).unwrap();
    let events = &catalog["streams"][0];
    assert_eq!(events["tap_stream_id"], "events");
    assert_eq!(events["replication_method"], "INCREMENTAL");
    assert_eq!(events["key_properties"], json!(["id"]));
    let metadata = events["metadata"].as_array().unwrap();
    let root = metadata
        .iter()
        .find(|m| m["breadcrumb"] == json!([]))
        .unwrap();
    assert_eq!(root["metadata"]["selected"], true);
    assert_eq!(root["metadata"]["table-key-properties"], json!(["id"]));
    assert_eq!(
        root["metadata"]["valid-replication-keys"],
        json!(["updated_at"])
    );
    let id = metadata
        .iter()
        .find(|m| m["breadcrumb"] == json!(["properties", "id"]))
        .unwrap();
    assert_eq!(id["metadata"]["inclusion"], "automatic");
    let nested = metadata
        .iter()
        .find(|m| m["breadcrumb"] == json!(["properties", "payload", "properties", "kind"]));
    assert!(nested.is_some(), "nested properties get breadcrumbs");
}

#[test]
fn discovery_ignores_state_and_catalog_as_meltano_passes_them() {
    let run = good();
    let state = run.file("state.json", "{\"bookmarks\": {}}");
    let catalog = run.file("catalog.json", "{\"streams\": []}");
    let out = run
        .run(&["--catalog", &catalog, "--state", &state, "--discover"])
        .unwrap();
    assert!(out.contains("\"tap_stream_id\": \"events\""));
}

#[test]
fn full_sync_writes_schema_records_and_final_state() {
    let out = good().run(&[]).unwrap();
    let all = messages(&out);
    assert_eq!(all[0]["type"], "SCHEMA");
    assert_eq!(all[0]["bookmark_properties"], json!(["updated_at"]));
    assert_eq!(records(&out, "events").len(), 5);
    assert_eq!(records(&out, "shops").len(), 6);
    let last = states(&out).pop().unwrap();
    assert_eq!(
        last["bookmarks"]["events"],
        json!({"replication_key": "updated_at", "replication_key_value": "2024-01-05T00:00:00+00:00"})
    );
    assert_eq!(
        last["bookmarks"]["shops"]["partitions"],
        json!([
            {"context": {"shop": "a"}, "replication_key": "n", "replication_key_value": 3},
            {"context": {"shop": "b"}, "replication_key": "n", "replication_key_value": 3},
        ])
    );
    for record in messages(&out).iter().filter(|m| m["type"] == "RECORD") {
        let time = record["time_extracted"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
    }
}

#[test]
fn sorted_stream_checkpoints_are_resumable() {
    let out = good().run(&[]).unwrap();
    let states = states(&out);
    // Frequency 2: after records 2 and 4 the sorted bookmark itself advances.
    assert_eq!(
        states[0]["bookmarks"]["events"]["replication_key_value"],
        "2024-01-02T00:00:00+00:00"
    );
    assert_eq!(
        states[1]["bookmarks"]["events"]["replication_key_value"],
        "2024-01-04T00:00:00+00:00"
    );
    // A STATE never covers records that come after it.
    let lines: Vec<Value> = messages(&out);
    let first_state = lines.iter().position(|m| m["type"] == "STATE").unwrap();
    let before = lines[..first_state]
        .iter()
        .filter(|m| m["type"] == "RECORD")
        .count();
    assert_eq!(before, 2);
}

#[test]
fn unsorted_stream_uses_progress_markers_and_signpost() {
    let run = Run::new(&json!({"api_key": "x", "unsorted": true}));
    let out = run.run(&[]).unwrap();
    let states = states(&out);
    let mid = &states[0]["bookmarks"]["events"];
    assert_eq!(
        mid["progress_markers"]["Note"],
        "Progress is not resumable if interrupted."
    );
    assert_eq!(
        mid["progress_markers"]["replication_key_value"],
        "2024-01-05T00:00:00+00:00"
    );
    assert!(mid["replication_key_signpost"].is_string());
    assert!(
        mid.get("replication_key_value").is_none(),
        "not resumable mid-sync"
    );
    let last = &states.last().unwrap()["bookmarks"]["events"];
    assert_eq!(last["replication_key_value"], "2024-01-05T00:00:00+00:00");
    assert!(last.get("progress_markers").is_none());
}

#[test]
fn incremental_resume_skips_older_records() {
    let run = good();
    let state = run.file(
        "state.json",
        &json!({"bookmarks": {"events": {"replication_key": "updated_at", "replication_key_value": "2024-01-03T00:00:00Z"}}}).to_string(),
    );
    let out = run.run(&["--state", &state]).unwrap();
    let ids: Vec<i64> = records(&out, "events")
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![3, 4, 5], "records at or after the bookmark");
    // The input state is echoed first, as singer-sdk does.
    let first = messages(&out).into_iter().next().unwrap();
    assert_eq!(first["type"], "STATE");
}

#[test]
fn bookmarks_compare_as_instants_not_strings() {
    let run = good();
    // 2024-01-03T04:00:00+05:00 is 2024-01-02T23:00:00Z: record 3 (2024-01-03T00:00Z) is newer.
    let state = run.file(
        "state.json",
        &json!({"bookmarks": {"events": {"replication_key": "updated_at", "replication_key_value": "2024-01-03T04:00:00+05:00"}}}).to_string(),
    );
    let out = run.run(&["--state", &state]).unwrap();
    assert_eq!(records(&out, "events").len(), 3);
}

#[test]
fn start_date_is_the_floor_without_a_bookmark() {
    let run = Run::new(&json!({"api_key": "x", "start_date": "2024-01-04T00:00:00Z"}));
    let out = run.run(&[]).unwrap();
    assert_eq!(records(&out, "events").len(), 2);
}

#[test]
fn future_state_returns_no_records() {
    let run = good();
    let state = run.file(
        "state.json",
        &json!({"bookmarks": {"events": {"replication_key": "updated_at", "replication_key_value": "2999-01-01T00:00:00Z"}}}).to_string(),
    );
    let out = run.run(&["--state", &state]).unwrap();
    assert!(records(&out, "events").is_empty());
}

#[test]
fn catalog_selection_drops_streams_and_fields() {
    let run = good();
    let discovered = run.run(&["--discover"]).unwrap();
    let mut catalog: Value = serde_json::from_str(&discovered).unwrap();
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let is_shops = stream["tap_stream_id"] == "shops";
        for entry in stream["metadata"].as_array_mut().unwrap() {
            let crumb = entry["breadcrumb"].clone();
            if crumb == json!([]) && is_shops {
                entry["metadata"]["selected"] = json!(false);
            }
            if crumb == json!(["properties", "payload"]) {
                entry["metadata"]["selected"] = json!(false);
            }
            if crumb == json!(["properties", "id"]) {
                // Automatic fields stay even when deselected (Meltano sends this).
                entry["metadata"]["selected"] = json!(false);
            }
        }
    }
    let path = run.file("catalog.json", &catalog.to_string());
    let out = run.run(&["--catalog", &path]).unwrap();
    assert!(records(&out, "shops").is_empty());
    assert!(
        !out.contains("\"stream\":\"shops\""),
        "no SCHEMA for a deselected stream"
    );
    let events = records(&out, "events");
    assert_eq!(events.len(), 5);
    assert!(
        events
            .iter()
            .all(|r| r.get("payload").is_none() && r.get("id").is_some())
    );
    let schema = messages(&out)
        .into_iter()
        .find(|m| m["type"] == "SCHEMA")
        .unwrap();
    assert!(schema["schema"]["properties"].get("payload").is_none());
    // The legacy flag reads the same file.
    let out = run.run(&["--properties", &path]).unwrap();
    assert!(records(&out, "shops").is_empty());
}

#[test]
fn a_catalog_selecting_nothing_syncs_nothing_without_asking_for_streams() {
    // An empty key makes `streams` fail: a run that needs the streams fails.
    let run = Run::new(&json!({"api_key": ""}));
    let discovered = good().run(&["--discover"]).unwrap();
    let mut deselected: Value = serde_json::from_str(&discovered).unwrap();
    for stream in deselected["streams"].as_array_mut().unwrap() {
        for entry in stream["metadata"].as_array_mut().unwrap() {
            if entry["breadcrumb"] == json!([]) {
                entry["metadata"]["selected"] = json!(false);
            }
        }
    }
    let state = run.file(
        "state.json",
        r#"{"bookmarks": {"events": {"replication_key_value": 3}}}"#,
    );
    for catalog in [json!({"streams": []}), deselected] {
        let path = run.file("catalog.json", &catalog.to_string());
        let out = run.run(&["--catalog", &path, "--state", &state]).unwrap();
        assert!(messages(&out).iter().all(|m| m["type"] == "STATE"), "{out}");
        for value in states(&out) {
            assert_eq!(value["bookmarks"]["events"]["replication_key_value"], 3);
        }
    }
    let path = run.file("catalog.json", &discovered);
    let err = run.run(&["--catalog", &path]).unwrap_err();
    assert!(err.to_string().contains("api_key is empty"), "{err}");
    assert!(
        run.run(&[]).is_err(),
        "no catalog: every stream selected by default"
    );
}

#[test]
fn catalog_can_force_full_table() {
    let run = good();
    let catalog = json!({"streams": [{"tap_stream_id": "events", "schema": {}, "metadata": [
        {"breadcrumb": [], "metadata": {"selected": true, "replication-method": "FULL_TABLE"}}]}]});
    let path = run.file("catalog.json", &catalog.to_string());
    let state = run.file(
        "state.json",
        &json!({"bookmarks": {"events": {"replication_key": "updated_at", "replication_key_value": "2999-01-01T00:00:00Z"}}}).to_string(),
    );
    let out = run.run(&["--catalog", &path, "--state", &state]).unwrap();
    assert_eq!(
        records(&out, "events").len(),
        5,
        "full table ignores the bookmark"
    );
}

#[test]
fn test_mode_emits_one_record_per_stream() {
    let out = good().run(&["--test"]).unwrap();
    assert_eq!(records(&out, "events").len(), 1);
    assert_eq!(records(&out, "shops").len(), 2, "one per partition");
    let out = good().run(&["--test=schema"]).unwrap();
    let all = messages(&out);
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|m| m["type"] == "SCHEMA"));
}

#[test]
fn activate_version_for_full_table_streams() {
    let run = Run::new(&json!({"api_key": "x", "emit_activate_version_messages": true}));
    let catalog = json!({"streams": [{"tap_stream_id": "events", "schema": {}, "metadata": [
        {"breadcrumb": [], "metadata": {"selected": true, "replication-method": "FULL_TABLE"}}]}]});
    let path = run.file("catalog.json", &catalog.to_string());
    let out = run.run(&["--catalog", &path]).unwrap();
    let all = messages(&out);
    assert_eq!(all[1]["type"], "ACTIVATE_VERSION");
    let version = all[1]["version"].as_i64().unwrap();
    assert!(
        all.iter()
            .filter(|m| m["type"] == "RECORD")
            .all(|m| m["version"] == version)
    );
}

#[test]
fn sorted_stream_going_backwards_names_both_values() {
    let run = Run::new(&json!({"api_key": "x", "backwards": true}));
    let err = run.run(&[]).unwrap_err().to_string();
    assert!(err.contains("stream `events` is declared sorted"), "{err}");
    assert!(
        err.contains("\"2024-01-03T00:00:00+00:00\" was followed by \"2024-01-02T00:00:00+00:00\""),
        "{err}"
    );
}

#[test]
fn about_json_has_singer_sdk_keys_and_flags_secrets() {
    let out = good().run(&["--about", "--format", "json"]).unwrap();
    let about: Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&String> = about.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "description",
            "version",
            "sdk_version",
            "supported_python_versions",
            "capabilities",
            "settings"
        ]
    );
    assert_eq!(about["name"], "tap-fixture");
    assert_eq!(about["settings"]["properties"]["api_key"]["secret"], true);
    assert!(
        about["settings"]["properties"]["start_date"].is_object(),
        "built-ins are listed"
    );
    let md = good().run(&["--about", "--format", "markdown"]).unwrap();
    assert!(md.starts_with("# `tap-fixture`"));
    assert!(md.contains("| api_key | True | None | The key. |"), "{md}");
    let text = good().run(&["--about"]).unwrap();
    assert!(
        text.contains("Environment Variable: TAP_FIXTURE_API_KEY"),
        "{text}"
    );
}

#[test]
fn version_prints_one_line() {
    let out = good().run(&["--version"]).unwrap();
    assert_eq!(out.lines().count(), 1);
    assert!(out.starts_with("tap-fixture v1.2.3"));
}

#[test]
fn config_errors_name_the_setting_and_hide_secrets() {
    let run = Run::new(&json!({"api_key": 424242, "unsorted": "no"}));
    let err = run.run(&[]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let text = err.to_string();
    assert!(
        text.contains("`unsorted`: \"no\" is not of type \"boolean\""),
        "{text}"
    );
    assert!(
        text.contains("`api_key`: invalid value (hidden: secret setting)"),
        "{text}"
    );
    assert!(!text.contains("424242"), "{text}");
    let run = Run::new(&json!({}));
    let text = run.run(&[]).unwrap_err().to_string();
    assert!(
        text.contains("\"api_key\" is a required property"),
        "{text}"
    );
}

#[test]
fn unreadable_or_malformed_inputs_are_clear_errors() {
    let run = good();
    let missing = run.dir.path().join("nope.json").display().to_string();
    let err = run.run(&["--state", &missing]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Read {
                what: "state file",
                ..
            }
        ),
        "{err}"
    );
    let bad = run.file("bad.json", "{\"bookmarks\": ");
    let err = run.run(&["--catalog", &bad]).unwrap_err().to_string();
    assert!(
        err.starts_with("catalog `") && err.contains("line 1, column 14"),
        "{err}"
    );
    let wrong = run.file("wrong.json", "{\"streams\": [{\"schema\": {}}]}");
    let err = run.run(&["--catalog", &wrong]).unwrap_err().to_string();
    assert!(err.contains("missing field `tap_stream_id`"), "{err}");
    let state = run.file("state2.json", "[1, 2]");
    let err = run.run(&["--state", &state]).unwrap_err().to_string();
    assert!(
        err.contains("expected a JSON object with `bookmarks`"),
        "{err}"
    );
    let unknown = run.file(
        "unknown.json",
        "{\"streams\": [{\"tap_stream_id\": \"ghosts\", \"schema\": {}}]}",
    );
    let err = run.run(&["--catalog", &unknown]).unwrap_err().to_string();
    assert!(
        err.contains("stream `ghosts` is not a stream of this tap (its streams: events, shops)"),
        "{err}"
    );
    let rk = run.file(
        "rk.json",
        &json!({"streams": [{"tap_stream_id": "events", "schema": {}, "metadata": [
        {"breadcrumb": [], "metadata": {"selected": true, "replication-key": "nope"}}]}]})
        .to_string(),
    );
    let err = run.run(&["--catalog", &rk]).unwrap_err().to_string();
    assert!(
        err.contains("replication key `nope` is not in the schema"),
        "{err}"
    );
}

#[test]
fn nested_fields_can_be_deselected() {
    let run = good();
    let catalog = json!({"streams": [{"tap_stream_id": "events", "schema": {}, "metadata": [
        {"breadcrumb": [], "metadata": {"selected": true}},
        {"breadcrumb": ["properties", "payload", "properties", "kind"], "metadata": {"selected": false}}]}]});
    let path = run.file("catalog.json", &catalog.to_string());
    let out = run.run(&["--catalog", &path]).unwrap();
    let events = records(&out, "events");
    assert_eq!(
        events[0]["payload"],
        json!({}),
        "the nested field is gone, its parent stays"
    );
    let schema = messages(&out)
        .into_iter()
        .find(|m| m["type"] == "SCHEMA")
        .unwrap();
    assert_eq!(
        schema["schema"]["properties"]["payload"]["properties"],
        json!({})
    );
}

#[test]
fn stream_maps_and_flattening_apply_to_the_output() {
    let run = Run::new(&json!({"api_key": "x",
        "stream_maps": {
            "events": {"__alias__": "activity", "kind": "payload['kind'].upper()", "__else__": null},
            "shops": null,
        },
    }));
    let out = run.run(&[]).unwrap();
    assert!(records(&out, "events").is_empty() && records(&out, "shops").is_empty());
    let activity = records(&out, "activity");
    assert_eq!(activity.len(), 5);
    assert_eq!(
        activity[0],
        json!({"id": 1, "kind": "K1"}),
        "mapped property plus the key"
    );
    let schema = messages(&out)
        .into_iter()
        .find(|m| m["type"] == "SCHEMA")
        .unwrap();
    assert_eq!(schema["stream"], "activity");
    // Bookmarks stay on the tap's own stream names.
    let last = states(&out).pop().unwrap();
    assert!(last["bookmarks"]["events"]["replication_key_value"].is_string());

    let flat = Run::new(
        &json!({"api_key": "x", "flattening_enabled": true, "flattening_max_depth": 1,
        "stream_maps": {"shops": null}}),
    );
    let out = flat.run(&[]).unwrap();
    assert_eq!(records(&out, "events")[0]["payload__kind"], "k1");
    let bad = Run::new(&json!({"api_key": "x", "stream_maps": {"events": {"x": "lambda: 1"}}}));
    let err = bad.run(&[]).unwrap_err().to_string();
    assert!(err.contains("stream_maps.events.x"), "{err}");
}

#[test]
fn help_text_is_plain_text() {
    let tap = parse_args::<TapArgs>(INFO, ["tap", "--help"]).unwrap_err();
    let target = parse_args::<singer_sdk::cli::TargetArgs>(INFO, ["target", "--help"]).unwrap_err();
    for help in [tap.to_string(), target.to_string()] {
        assert!(help.contains("--config <PATH|ENV>"), "{help}");
        assert!(
            !help.contains("[`"),
            "rustdoc link syntax in --help:\n{help}"
        );
    }
}
