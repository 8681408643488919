//! The load runtime in-process, with a sink that records what it was given: state is
//! acknowledged only after the records before it are written, batching, schema changes,
//! record metadata, and the errors users see.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use singer_sdk::capability::{Capabilities, Capability};
use singer_sdk::cli::{PackageInfo, TargetArgs, parse_args, run_target_with};
use singer_sdk::message::MessageWriter;
use singer_sdk::sink::{Batch, Sink, StreamSchema};
use singer_sdk::target::{Target, TargetOptions};
use singer_sdk::{Error, Result};

const INFO: PackageInfo = PackageInfo {
    name: "target-memory",
    version: "0.0.1",
    description: "Keeps everything in memory, for tests.",
};

/// What happened, in order: `write <stream> <n>`, `open <stream>`, `close <stream>`,
/// `activate <stream> <v>`, and each record written.
#[derive(Default)]
struct Journal {
    events: Vec<String>,
    records: Vec<(String, Map<String, Value>)>,
}

type Shared = Arc<Mutex<Journal>>;

struct TargetMemory {
    journal: Shared,
    fail_on: Option<String>,
}

/// Journals of the runs under way, by the `journal` setting of their config (tests run in
/// parallel, each with its own).
static JOURNALS: Mutex<Vec<(String, Shared)>> = Mutex::new(Vec::new());

fn journal_for(id: &str) -> Shared {
    let mut journals = JOURNALS.lock().unwrap();
    if let Some((_, journal)) = journals.iter().find(|(name, _)| name == id) {
        return Arc::clone(journal);
    }
    let journal = Shared::default();
    journals.push((id.to_owned(), Arc::clone(&journal)));
    journal
}

struct MemorySink {
    journal: Shared,
    stream: String,
    fail: bool,
}

impl Sink for MemorySink {
    fn write_batch(&mut self, batch: Batch) -> Result<()> {
        if self.fail {
            return Err(Error::custom("disk full"));
        }
        let mut journal = self.journal.lock().unwrap();
        journal
            .events
            .push(format!("write {} {}", self.stream, batch.records.len()));
        for record in batch.records {
            journal.records.push((self.stream.clone(), record));
        }
        Ok(())
    }

    fn activate_version(&mut self, version: i64) -> Result<()> {
        self.journal
            .lock()
            .unwrap()
            .events
            .push(format!("activate {} {version}", self.stream));
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.journal
            .lock()
            .unwrap()
            .events
            .push(format!("close {}", self.stream));
        Ok(())
    }
}

impl Target for TargetMemory {
    type Settings = Map<String, Value>;
    type Sink = MemorySink;

    fn capabilities() -> Capabilities {
        Capabilities::target().with(Capability::ActivateVersion)
    }

    fn connect(settings: Self::Settings, _options: &TargetOptions) -> Result<Self> {
        let text = |name: &str| {
            settings
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(TargetMemory {
            journal: journal_for(&text("journal").unwrap_or_default()),
            fail_on: text("fail_on"),
        })
    }

    fn open_sink(self: Arc<Self>, stream: &StreamSchema) -> Result<MemorySink> {
        self.journal
            .lock()
            .unwrap()
            .events
            .push(format!("open {}", stream.name));
        Ok(MemorySink {
            journal: Arc::clone(&self.journal),
            stream: stream.name.clone(),
            fail: self.fail_on.as_deref() == Some(stream.name.as_str()),
        })
    }
}

struct Outcome {
    result: Result<()>,
    states: Vec<Value>,
    journal: Journal,
}

fn run_with(config: &Value, input: &str, fail_on: Option<&'static str>) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let id = dir.path().display().to_string();
    let mut config = config.clone();
    config["journal"] = Value::from(id.as_str());
    if let Some(stream) = fail_on {
        config["fail_on"] = Value::from(stream);
    }
    std::fs::write(&path, config.to_string()).unwrap();
    let args: TargetArgs =
        parse_args(INFO, ["target-memory", "--config", path.to_str().unwrap()]).unwrap();
    let journal = journal_for(&id);
    let mut out = Vec::new();
    let result = run_target_with::<TargetMemory, _, _>(
        INFO,
        &args,
        input.as_bytes(),
        MessageWriter::new(&mut out),
    )
    .and_then(|w| w.into_inner().map(|_| ()));
    let states = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let journal = std::mem::take(&mut *journal.lock().unwrap());
    Outcome {
        result,
        states,
        journal,
    }
}

fn run(config: &Value, input: &str) -> Outcome {
    run_with(config, input, None)
}

fn schema(stream: &str) -> String {
    json!({"type": "SCHEMA", "stream": stream, "key_properties": ["id"], "schema": {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": ["string", "null"]}, "at": {"type": ["string", "null"], "format": "date-time"}}}})
    .to_string()
}

fn record(stream: &str, id: i64) -> String {
    json!({"type": "RECORD", "stream": stream, "record": {"id": id, "name": format!("n{id}")}})
        .to_string()
}

fn state(n: i64) -> String {
    json!({"type": "STATE", "value": {"n": n}}).to_string()
}

fn lines(parts: &[String]) -> String {
    parts.join("\n") + "\n"
}

#[test]
fn state_is_acknowledged_after_the_records_before_it() {
    let input = lines(&[
        schema("a"),
        record("a", 1),
        record("a", 2),
        state(1),
        record("a", 3),
        state(2),
    ]);
    let out = run(&json!({"batch_wait_limit_seconds": 0}), &input);
    out.result.unwrap();
    assert_eq!(out.states, vec![json!({"n": 1}), json!({"n": 2})]);
    // A zero wait limit writes what came before each STATE as the STATE arrives.
    assert_eq!(
        out.journal.events,
        ["open a", "write a 2", "write a 1", "close a"]
    );
}

#[test]
fn states_wait_for_the_batch_within_the_wait_limit() {
    let input = lines(&[
        schema("a"),
        record("a", 1),
        state(1),
        record("a", 2),
        state(2),
        record("a", 3),
        state(3),
    ]);
    let out = run(&json!({}), &input);
    out.result.unwrap();
    // Default wait limit (5 s): no drain until the end, then the latest state once.
    assert_eq!(out.states, vec![json!({"n": 3})]);
    assert_eq!(out.journal.events, ["open a", "write a 3", "close a"]);
}

#[test]
fn a_state_with_nothing_buffered_is_acknowledged_at_once() {
    let input = lines(&[state(1), schema("a"), state(2), record("a", 1)]);
    let out = run(&json!({}), &input);
    out.result.unwrap();
    assert_eq!(
        out.states,
        vec![json!({"n": 1}), json!({"n": 2})],
        "the last one is already acknowledged"
    );
}

#[test]
fn full_buffers_drain_without_acknowledging_state() {
    let mut parts = vec![schema("a")];
    parts.extend((1..=5).map(|i| record("a", i)));
    let out = run(&json!({"batch_size_rows": 2}), &lines(&parts));
    out.result.unwrap();
    assert_eq!(
        out.journal.events,
        ["open a", "write a 2", "write a 2", "write a 1", "close a"]
    );
    let ids: Vec<i64> = out
        .journal
        .records
        .iter()
        .map(|(_, r)| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5], "order is kept across batches");
}

#[test]
fn a_changed_schema_closes_the_old_sink_first() {
    let changed = json!({"type": "SCHEMA", "stream": "a", "key_properties": ["id"], "schema": {"type": "object", "properties": {
        "id": {"type": "integer"}, "extra": {"type": "boolean"}}}})
    .to_string();
    let input = lines(&[
        schema("a"),
        record("a", 1),
        schema("a"),
        record("a", 2),
        changed,
        record("a", 3),
    ]);
    let out = run(&json!({}), &input);
    out.result.unwrap();
    // The repeated identical SCHEMA changes nothing; the changed one swaps the sink.
    assert_eq!(
        out.journal.events,
        [
            "open a",
            "write a 2",
            "close a",
            "open a",
            "write a 1",
            "close a"
        ]
    );
}

#[test]
fn activate_version_follows_the_records_before_it() {
    let activate = json!({"type": "ACTIVATE_VERSION", "stream": "a", "version": 7}).to_string();
    let input = lines(&[schema("a"), record("a", 1), activate, record("a", 2)]);
    let out = run(&json!({}), &input);
    out.result.unwrap();
    assert_eq!(
        out.journal.events,
        [
            "open a",
            "write a 1",
            "activate a 7",
            "write a 1",
            "close a"
        ]
    );
    let out = run(
        &json!({"process_activate_version_messages": false}),
        &lines(&[
            schema("a"),
            json!({"type": "ACTIVATE_VERSION", "stream": "a", "version": 7}).to_string(),
        ]),
    );
    out.result.unwrap();
    assert!(!out.journal.events.iter().any(|e| e.starts_with("activate")));
}

#[test]
fn record_metadata_is_added_or_stripped() {
    let with_time = json!({"type": "RECORD", "stream": "a", "version": 3, "time_extracted": "2024-01-01T00:00:00Z",
        "record": {"id": 1, "_sdc_deleted_at": "2024-02-01T00:00:00Z"}})
    .to_string();
    let out = run(
        &json!({"add_record_metadata": true}),
        &lines(&[schema("a"), with_time.clone()]),
    );
    out.result.unwrap();
    let record = &out.journal.records[0].1;
    assert_eq!(record["_sdc_extracted_at"], "2024-01-01T00:00:00+00:00");
    assert_eq!(record["_sdc_deleted_at"], "2024-02-01T00:00:00+00:00");
    assert_eq!(record["_sdc_table_version"], 3);
    for key in [
        "_sdc_received_at",
        "_sdc_batched_at",
        "_sdc_sequence",
        "_sdc_sync_started_at",
    ] {
        assert!(!record[key].is_null(), "{key}");
    }
    let out = run(&json!({}), &lines(&[schema("a"), with_time]));
    assert!(
        out.journal.records[0]
            .1
            .keys()
            .all(|k| !k.starts_with("_sdc_"))
    );
}

#[test]
fn datetimes_are_normalised_and_types_are_case_insensitive() {
    let input = lines(&[
        schema("a").replace("\"SCHEMA\"", "\"schema\""),
        json!({"type": "record", "stream": "a", "record": {"id": 1, "at": "2024-01-01 05:30:00+05:30"}}).to_string(),
        json!({"type": "SOMETHING_NEW", "x": 1}).to_string(),
    ]);
    let out = run(&json!({}), &input);
    out.result.unwrap();
    assert_eq!(out.journal.records[0].1["at"], "2024-01-01T00:00:00+00:00");
}

fn error_of(input: &str) -> (String, Vec<Value>) {
    let out = run(&json!({"batch_wait_limit_seconds": 0}), input);
    (out.result.unwrap_err().to_string(), out.states)
}

#[test]
fn bad_input_fails_with_the_line_and_no_later_state() {
    let (err, states) = error_of(&lines(&[
        schema("a"),
        record("a", 1),
        state(1),
        "{\"type\": \"RECORD\",".to_owned(),
    ]));
    assert!(err.starts_with("line 4: not valid JSON"), "{err}");
    assert_eq!(states, vec![json!({"n": 1})]);

    let (err, _) = error_of(&lines(&[record("a", 1)]));
    assert!(
        err.contains("line 1: RECORD for stream `a` before its SCHEMA"),
        "{err}"
    );

    let bad = json!({"type": "RECORD", "stream": "a", "record": {"id": "one"}}).to_string();
    let (err, _) = error_of(&lines(&[schema("a"), bad]));
    assert!(
        err.contains("line 2: record of stream `a` does not match its schema at `/id`"),
        "{err}"
    );
    assert!(err.contains("(rule `type`)"), "{err}");

    let keyless = json!({"type": "RECORD", "stream": "a", "record": {"name": "x"}}).to_string();
    let (err, _) = error_of(&lines(&[schema("a"), keyless]));
    assert!(err.contains("lacks key property `id`"), "{err}");

    let invalid = json!({"type": "SCHEMA", "stream": "b", "schema": {"type": "object"}, "key_properties": []}).to_string();
    let (err, _) = error_of(&lines(&[invalid]));
    assert!(
        err.contains("SCHEMA for stream `b` has no `properties`"),
        "{err}"
    );

    let not_schema = json!({"type": "SCHEMA", "stream": "b", "schema": {"type": "object", "properties": {"a": {"type": 5}}}}).to_string();
    let (err, _) = error_of(&lines(&[not_schema]));
    assert!(
        err.contains("SCHEMA for stream `b` is not a valid JSON Schema"),
        "{err}"
    );

    let bad_time =
        json!({"type": "RECORD", "stream": "a", "record": {"id": 1, "at": "soon"}}).to_string();
    let (err, _) = error_of(&lines(&[schema("a"), bad_time]));
    assert!(
        err.contains("`at` is \"soon\", which is not a date-time"),
        "{err}"
    );
}

#[test]
fn a_bad_record_is_the_first_error_on_every_path_and_no_state_after_it_is_acknowledged() {
    // Records buffered unchecked (checked on the sink's thread) and records checked as they
    // are read give the same error: the input's first bad line.
    let bad = json!({"type": "RECORD", "stream": "a", "record": {"id": "two"}}).to_string();
    let keyless = json!({"type": "RECORD", "stream": "b", "record": {"name": "x"}}).to_string();
    // The bad record waits in its buffer while the reader goes on.
    let waiting = [schema("a"), record("a", 1), state(1), bad.clone(), state(2)];
    let inputs = [
        (
            [&waiting[..], &[record("a", 3), state(3)]].concat(),
            "line 4: record of stream `a` does not match its schema at `/id`",
        ),
        // A later line that is not JSON does not hide it.
        (
            [&waiting[..], &["{\"type\":".to_owned()]].concat(),
            "line 4: record of stream `a` does not match its schema",
        ),
        // Nor does a later bad record of another stream, or an earlier one of a later batch.
        (
            vec![
                schema("a"),
                schema("b"),
                record("a", 1),
                bad.clone(),
                record("b", 1),
                keyless.clone(),
                record("a", 4),
            ],
            "line 4: record of stream `a`",
        ),
        (
            vec![
                schema("a"),
                schema("b"),
                record("b", 1),
                keyless,
                record("a", 1),
                bad,
            ],
            "line 4: record of stream `b` lacks key property `id`",
        ),
    ];
    for (parts, expected) in inputs {
        for workers in [1, 2] {
            let out = run(&json!({"workers": workers}), &lines(&parts));
            let err = out.result.unwrap_err().to_string();
            assert!(err.starts_with(expected), "{workers} workers: {err}");
            assert!(
                out.states.iter().all(|s| s["n"] == 1),
                "{workers} workers: {:?}",
                out.states
            );
        }
    }
}

#[test]
fn invalid_utf8_is_an_error_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, "{}").unwrap();
    let args: TargetArgs = parse_args(INFO, ["t", "--config", path.to_str().unwrap()]).unwrap();
    let mut input = schema("a").into_bytes();
    input.extend_from_slice(
        b"\n{\"type\":\"RECORD\",\"stream\":\"a\",\"record\":{\"id\":1,\"name\":\"\xff\"}}\n",
    );
    let err = run_target_with::<TargetMemory, _, _>(
        INFO,
        &args,
        input.as_slice(),
        MessageWriter::new(Vec::new()),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("line 2: input is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn a_failing_sink_stops_the_run_before_its_state() {
    let input = lines(&[
        schema("a"),
        schema("b"),
        record("a", 1),
        state(1),
        record("b", 1),
        state(2),
    ]);
    let out = run_with(&json!({"batch_wait_limit_seconds": 0}), &input, Some("b"));
    let err = out.result.unwrap_err();
    let chain = singer_sdk::error::report(&err);
    assert!(
        chain.contains("stream `b` failed") && chain.contains("disk full"),
        "{chain}"
    );
    assert_eq!(
        out.states,
        vec![json!({"n": 1})],
        "state 2 covers a record that was not written"
    );
}

#[test]
fn builtin_settings_appear_in_about() {
    let dir = tempfile::tempdir().unwrap();
    let _ = dir;
    let args: TargetArgs = parse_args(INFO, ["t", "--about", "--format", "json"]).unwrap();
    let out = run_target_with::<TargetMemory, _, _>(
        INFO,
        &args,
        &b""[..],
        MessageWriter::new(Vec::new()),
    )
    .unwrap();
    let about: Value = serde_json::from_slice(&out.into_inner().unwrap()).unwrap();
    let settings = about["settings"]["properties"].as_object().unwrap();
    for name in [
        "add_record_metadata",
        "load_method",
        "batch_size_rows",
        "validate_records",
        "process_activate_version_messages",
    ] {
        assert!(settings.contains_key(name), "{name}");
    }
    assert!(
        !settings.contains_key("hard_delete"),
        "only with the hard-delete capability"
    );
}

#[test]
fn stream_maps_apply_before_the_sinks() {
    let config = json!({"stream_maps": {"a": {"__alias__": "renamed", "name": null, "upper": "name.upper()"}}});
    let out = run(&config, &lines(&[schema("a"), record("a", 1), state(1)]));
    out.result.unwrap();
    assert_eq!(out.journal.events[0], "open renamed");
    let (stream, record) = &out.journal.records[0];
    assert_eq!(stream, "renamed");
    assert_eq!(record, json!({"id": 1, "upper": "N1"}).as_object().unwrap());
    assert_eq!(out.states, vec![json!({"n": 1})]);
}

#[test]
fn batch_messages_load_their_files_through_the_stream_maps() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|d| d.join("shared/conformance/singer-sdk-streams/batch-fixtures"))
        .find(|d| d.is_dir())
        .expect("no shared/conformance/singer-sdk-streams/batch-fixtures above the crate");
    let fixtures = fixtures.display();
    let users = json!({"type": "SCHEMA", "stream": "users", "key_properties": ["id"], "schema": {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}}}})
    .to_string();
    let batch = json!({"type": "BATCH", "stream": "users", "encoding": {"format": "jsonl", "compression": "gzip"},
        "manifest": [format!("file://{fixtures}/batch.1.jsonl.gz"), format!("file://{fixtures}/batch.2.jsonl.gz")]})
    .to_string();
    let config = json!({"stream_maps": {"users": {"name": "name.upper()"}}});
    let out = run(&config, &lines(&[users, batch, state(1)]));
    out.result.unwrap();
    let names: Vec<&Value> = out
        .journal
        .records
        .iter()
        .map(|(_, r)| &r["name"])
        .collect();
    assert_eq!(
        names,
        [
            &json!("CHRIS"),
            &json!("MIKE"),
            &json!("BOB"),
            &json!("ARNOLD")
        ]
    );
    assert_eq!(out.states, vec![json!({"n": 1})]);
}
