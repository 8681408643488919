//! Taps writing BATCH files (`batch_config`) through the real CLI path: files of `batch_size`
//! records with a STATE after each, jsonl (gzip) and parquet, stream maps and field selection
//! applied to the batched records exactly as to RECORDs, and a stream that opts out.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use singer_sdk::batch::read_records;
use singer_sdk::cli::{PackageInfo, TapArgs, parse_args, run_tap_with};
use singer_sdk::message::{BatchMessage, MessageWriter};
use singer_sdk::stream::{RecordStream, Stream, SyncContext, records_from_iter};
use singer_sdk::tap::{Streams, Tap};
use singer_sdk::{Result, Schema, Settings};

const INFO: PackageInfo = PackageInfo {
    name: "tap-batches",
    version: "0.1.0",
    description: "A tap for BATCH tests.",
};

#[derive(Deserialize, Settings)]
struct Config {}

#[derive(Serialize, Schema)]
struct Order {
    #[schema(key)]
    id: i64,
    #[schema(replication_key)]
    seq: i64,
    customer: Customer,
    note: String,
}

#[derive(Serialize, Schema)]
struct Customer {
    name: String,
    city: String,
}

struct Orders {
    name: &'static str,
    batches: bool,
}

impl Stream for Orders {
    type Record = Order;
    fn name(&self) -> &str {
        self.name
    }
    fn is_sorted(&self) -> bool {
        true
    }
    fn batches(&self) -> bool {
        self.batches
    }
    fn records<'a>(&'a self, _: &'a SyncContext) -> RecordStream<'a, Order> {
        records_from_iter((1..=25).map(|i| {
            Ok(Order {
                id: i,
                seq: i,
                customer: Customer {
                    name: format!("c{i}"),
                    city: "Oslo".into(),
                },
                note: "n".into(),
            })
        }))
    }
}

struct BatchTap;

impl Tap for BatchTap {
    type Settings = Config;
    async fn streams(&self, _: &Config) -> Result<Streams> {
        Ok(Streams::new()
            .with(Orders {
                name: "orders",
                batches: true,
            })
            .with(Orders {
                name: "plain",
                batches: false,
            }))
    }
}

fn run(config: &Value, extra: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let mut args = vec![
        "tap-batches".to_owned(),
        "--config".to_owned(),
        path.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let args: TapArgs = parse_args(INFO, args).unwrap();
    let out = run_tap_with(&BatchTap, INFO, &args, MessageWriter::new(Vec::new())).unwrap();
    String::from_utf8(out.into_inner().unwrap())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The records in the files of every BATCH message of `stream`, in order.
fn batched(messages: &[Value], stream: &str) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "BATCH" && m["stream"] == stream)
        .flat_map(|m| {
            let message = BatchMessage {
                stream: stream.to_owned(),
                encoding: m["encoding"].clone(),
                manifest: serde_json::from_value(m["manifest"].clone()).unwrap(),
            };
            read_records(&message)
                .unwrap()
                .map(|r| Value::Object(r.unwrap()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn config(root: &std::path::Path, format: &str) -> Value {
    json!({"batch_config": {
        "encoding": {"format": format, "compression": "gzip"},
        "storage": {"root": format!("file://{}", root.display()), "prefix": "test-"},
        "batch_size": 10
    }})
}

#[test]
fn jsonl_batches_of_batch_size_each_followed_by_a_state() {
    let files = tempfile::tempdir().unwrap();
    let messages = run(&config(files.path(), "jsonl"), &[]);
    let kinds: Vec<String> = messages
        .iter()
        .filter(|m| m["stream"] == "orders" || m["type"] == "STATE")
        .filter(|m| m["type"] != "SCHEMA")
        .map(|m| m["type"].as_str().unwrap().to_owned())
        .collect();
    // Three files (10, 10, 5), a STATE after each; no RECORD of the batched stream.
    assert_eq!(
        &kinds[..6],
        ["BATCH", "STATE", "BATCH", "STATE", "BATCH", "STATE"],
        "{kinds:?}"
    );
    let records = batched(&messages, "orders");
    assert_eq!(records.len(), 25);
    assert_eq!(records[0]["customer"]["name"], "c1");
    // The STATE after the second file covers exactly its records.
    let states: Vec<&Value> = messages.iter().filter(|m| m["type"] == "STATE").collect();
    assert_eq!(
        states[1]["value"]["bookmarks"]["orders"]["replication_key_value"], 20,
        "{:?}",
        states[1]
    );
    // The stream that opts out keeps its RECORD lines.
    let plain = messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == "plain")
        .count();
    assert_eq!(plain, 25);
    assert!(
        !messages
            .iter()
            .any(|m| m["type"] == "BATCH" && m["stream"] == "plain")
    );
    let names: Vec<String> = std::fs::read_dir(files.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("test-orders-") && n.ends_with(".json.gz")),
        "{names:?}"
    );
}

#[test]
fn parquet_batches_keep_types_and_nesting() {
    let files = tempfile::tempdir().unwrap();
    let messages = run(&config(files.path(), "parquet"), &[]);
    let batches: Vec<&Value> = messages.iter().filter(|m| m["type"] == "BATCH").collect();
    assert_eq!(
        batches[0]["encoding"],
        json!({"format": "parquet", "compression": "gzip"})
    );
    let records = batched(&messages, "orders");
    assert_eq!(records.len(), 25);
    assert_eq!(
        records[4],
        json!({"id": 5, "seq": 5, "customer": {"name": "c5", "city": "Oslo"}, "note": "n"})
    );
}

#[test]
fn batches_with_maps_and_flattening_applied() {
    assert_maps_and_flattening_applied("jsonl");
}

#[test]
fn parquet_batches_with_maps_and_flattening_applied() {
    assert_maps_and_flattening_applied("parquet");
}

fn assert_maps_and_flattening_applied(format: &str) {
    let files = tempfile::tempdir().unwrap();
    let mut config = config(files.path(), format);
    config["stream_maps"] = json!({"orders": {"note": null, "big": "int(id * 100)"}});
    config["flattening_enabled"] = json!(true);
    config["flattening_max_depth"] = json!(1);
    let messages = run(&config, &[]);
    let schema = messages
        .iter()
        .find(|m| m["type"] == "SCHEMA" && m["stream"] == "orders")
        .unwrap();
    assert!(
        schema["schema"]["properties"]
            .get("customer__city")
            .is_some(),
        "{schema}"
    );
    let records = batched(&messages, "orders");
    assert_eq!(records.len(), 25);
    let first = records[0].as_object().unwrap();
    assert_eq!(first["big"], 100);
    assert_eq!(first["customer__name"], "c1");
    assert!(
        !first.contains_key("note") && !first.contains_key("customer"),
        "{first:?}"
    );
    // Every batched record is exactly the mapped and flattened record, with the schema's
    // columns and nothing else.
    let columns: Vec<&String> = schema["schema"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    for (i, record) in (1..).zip(&records) {
        assert_eq!(
            *record,
            json!({"id": i, "seq": i, "customer__name": format!("c{i}"),
                "customer__city": "Oslo", "big": i * 100}),
            "{format}: record {i}"
        );
        let mut keys: Vec<&String> = record.as_object().unwrap().keys().collect();
        keys.sort();
        let mut want = columns.clone();
        want.sort();
        assert_eq!(keys, want, "{format}: columns of record {i}");
    }
    let batches: Vec<&Value> = messages.iter().filter(|m| m["type"] == "BATCH").collect();
    assert!(
        batches
            .iter()
            .all(|m| m["encoding"]["format"] == format && m["stream"] == "orders"),
        "{batches:?}"
    );
}

#[test]
fn deselected_fields_are_left_out_of_batch_files() {
    let files = tempfile::tempdir().unwrap();
    let config = config(files.path(), "jsonl");
    // The catalog with `note` deselected.
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = {
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{}").unwrap();
        let args: TapArgs = parse_args(
            INFO,
            [
                "tap-batches",
                "--config",
                path.to_str().unwrap(),
                "--discover",
            ],
        )
        .unwrap();
        let out = run_tap_with(&BatchTap, INFO, &args, MessageWriter::new(Vec::new())).unwrap();
        serde_json::from_slice::<Value>(&out.into_inner().unwrap()).unwrap()
    };
    for stream in catalog["streams"].as_array_mut().unwrap() {
        for entry in stream["metadata"].as_array_mut().unwrap() {
            if entry["breadcrumb"] == json!(["properties", "note"]) {
                entry["metadata"]["selected"] = json!(false);
            }
        }
    }
    let catalog_path = dir.path().join("catalog.json");
    std::fs::write(&catalog_path, catalog.to_string()).unwrap();
    let messages = run(&config, &["--catalog", catalog_path.to_str().unwrap()]);
    let records = batched(&messages, "orders");
    assert_eq!(records.len(), 25);
    assert!(
        records.iter().all(|r| r.get("note").is_none()),
        "{:?}",
        records[0]
    );
}

/// A stream of 25 orders, like [`Orders`], whose batch directory `root` is replaced by a
/// plain file once record `break_at` is produced (0: never), so the batch files written
/// from then on cannot be.
struct Breaking {
    root: std::path::PathBuf,
    break_at: i64,
}

impl Stream for Breaking {
    type Record = Order;
    fn name(&self) -> &str {
        "orders"
    }
    fn is_sorted(&self) -> bool {
        true
    }
    fn records<'a>(&'a self, _: &'a SyncContext) -> RecordStream<'a, Order> {
        records_from_iter((1..=25).map(move |i| {
            if i == self.break_at {
                std::fs::remove_dir_all(&self.root).unwrap();
                std::fs::write(&self.root, "not a directory").unwrap();
            }
            Ok(Order {
                id: i,
                seq: i,
                customer: Customer {
                    name: format!("c{i}"),
                    city: "Oslo".into(),
                },
                note: "n".into(),
            })
        }))
    }
}

struct BreakingTap {
    root: std::path::PathBuf,
    break_at: i64,
}

impl Tap for BreakingTap {
    type Settings = Config;
    async fn streams(&self, _: &Config) -> Result<Streams> {
        Ok(Streams::new().with(Breaking {
            root: self.root.clone(),
            break_at: self.break_at,
        }))
    }
}

/// A writer whose bytes stay readable after the run that took it failed.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `tap` with `config`, which must fail: the error with all its causes, and the
/// messages written before it.
fn run_failing<T: Tap>(tap: &T, config: &Value) -> (String, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let args: TapArgs =
        parse_args(INFO, ["tap-batches", "--config", path.to_str().unwrap()]).unwrap();
    let out = Captured::default();
    let result = run_tap_with(tap, INFO, &args, MessageWriter::new(out.clone()));
    let Err(err) = result else {
        panic!("the run succeeded");
    };
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    let bytes = out.0.lock().unwrap().clone();
    let messages = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (text, messages)
}

/// No STATE follows the last BATCH message: every state the tap sent comes right after the
/// BATCH messages whose records it covers. Returns the bookmarks of those states.
fn assert_no_state_after_last_batch(messages: &[Value]) -> Vec<Value> {
    let last_batch = messages.iter().rposition(|m| m["type"] == "BATCH");
    let states: Vec<usize> = (0..messages.len())
        .filter(|i| messages[*i]["type"] == "STATE")
        .collect();
    for i in &states {
        assert!(
            last_batch.is_some_and(|b| b < *i) && messages[i - 1]["type"] == "BATCH",
            "a STATE not right after a BATCH: {messages:#?}"
        );
    }
    if let (Some(batch), Some(state)) = (last_batch, states.last()) {
        assert!(*state > batch, "{messages:#?}");
        assert_eq!(
            messages[state + 1..]
                .iter()
                .filter(|m| m["type"] == "STATE")
                .count(),
            0
        );
    }
    states
        .iter()
        .map(|i| messages[*i]["value"]["bookmarks"]["orders"]["replication_key_value"].clone())
        .collect()
}

#[test]
fn a_batch_directory_that_becomes_unwritable_fails_without_a_state_past_the_last_file() {
    for format in ["jsonl", "parquet"] {
        let files = tempfile::tempdir().unwrap();
        let root = files.path().join("batches");
        std::fs::create_dir(&root).unwrap();
        let tap = BreakingTap {
            root: root.clone(),
            break_at: 15,
        };
        let (err, messages) = run_failing(&tap, &config(&root, format));
        // The first file (records 1–10) was written with its STATE; the second could not be.
        let batches = messages.iter().filter(|m| m["type"] == "BATCH").count();
        assert_eq!(batches, 1, "{format}: {messages:#?}");
        let bookmarks = assert_no_state_after_last_batch(&messages);
        assert_eq!(bookmarks, [json!(10)], "{format}: {messages:#?}");
        assert!(
            err.contains("orders") && err.contains(&root.display().to_string()),
            "{format}: {err}"
        );
    }
}

#[test]
fn an_unwritable_batch_directory_fails_before_any_state() {
    let files = tempfile::tempdir().unwrap();
    // A path under a plain file: no one, root included, can create a directory there.
    let blocker = files.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let root = blocker.join("batches");
    let tap = BreakingTap {
        root: root.clone(),
        break_at: 0,
    };
    for format in ["jsonl", "parquet"] {
        let (err, messages) = run_failing(&tap, &config(&root, format));
        assert!(
            !messages
                .iter()
                .any(|m| m["type"] == "BATCH" || m["type"] == "STATE"),
            "{format}: {messages:#?}"
        );
        assert!(
            err.contains("cannot create batch directory") && err.contains("orders"),
            "{format}: {err}"
        );
    }
}

#[test]
fn an_unreachable_object_store_fails_without_a_state_or_the_secret() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = "tap-side-secret-value";
    let tap = BreakingTap {
        root: std::path::PathBuf::new(),
        break_at: 0,
    };
    let config = json!({"batch_config": {
        "encoding": {"format": "parquet", "compression": "gzip"},
        "storage": {"root": "s3://batches/run", "params": {
            "aws_access_key_id": "key", "aws_secret_access_key": secret,
            "aws_region": "us-east-1", "aws_endpoint": format!("http://127.0.0.1:{closed}"),
            "aws_allow_http": "true"}},
        "batch_size": 10
    }});
    let (err, messages) = run_failing(&tap, &config);
    assert!(
        !messages
            .iter()
            .any(|m| m["type"] == "BATCH" || m["type"] == "STATE"),
        "{messages:#?}"
    );
    assert!(
        err.contains("s3://batches/run/") && err.contains("reachable"),
        "{err}"
    );
    assert!(!err.contains(secret), "{err}");
    assert!(
        !messages.iter().any(|m| m.to_string().contains(secret)),
        "{messages:#?}"
    );
}
