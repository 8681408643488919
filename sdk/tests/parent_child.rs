//! Parent and child streams reproduce singer-sdk's golden outputs
//! (`conformance/singer-sdk-streams/golden/parent_child/*/singer.jsonl`): children sync before
//! their parent's record, the child SCHEMA is sent again for each child partition, state is
//! kept per partition (or per stream with empty `state_partitioning_keys`), a deselected
//! parent still runs for its selected child, and `ignore_parent_replication_key` makes the
//! parent full-table. Then the same tree with `max_concurrency` above one: the same records
//! and final state in another order.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use singer_sdk::Result;
use singer_sdk::catalog::Catalog;
use singer_sdk::message::MessageWriter;
use singer_sdk::stream::{Context, RecordStream, Stream, SyncContext, records_from_iter};
use singer_sdk::tap::{Streams, SyncOptions, sync};

type Row = Map<String, Value>;
type Rows = Arc<dyn Fn(Option<&Context>) -> Vec<Value> + Send + Sync>;
type Contexts = Arc<dyn Fn(&Row) -> Vec<Value> + Send + Sync>;

/// A stream defined by closures, the way the Python tests define theirs by subclassing.
#[derive(Clone)]
struct Fixture {
    name: &'static str,
    schema: Value,
    replication_key: Option<String>,
    parent: Option<&'static str>,
    rows: Rows,
    contexts: Option<Contexts>,
    state_keys: Option<Vec<String>>,
    ignore_parent_key: bool,
}

impl Fixture {
    fn new(
        name: &'static str,
        schema: Value,
        rows: impl Fn(Option<&Context>) -> Vec<Value> + Send + Sync + 'static,
    ) -> Self {
        Fixture {
            name,
            schema,
            replication_key: None,
            parent: None,
            rows: Arc::new(rows),
            contexts: None,
            state_keys: None,
            ignore_parent_key: false,
        }
    }

    fn child_of(mut self, parent: &'static str) -> Self {
        self.parent = Some(parent);
        self
    }

    fn contexts(mut self, contexts: impl Fn(&Row) -> Vec<Value> + Send + Sync + 'static) -> Self {
        self.contexts = Some(Arc::new(contexts));
        self
    }
}

impl Stream for Fixture {
    type Record = Row;
    fn name(&self) -> &str {
        self.name
    }
    fn schema(&self) -> Value {
        self.schema.clone()
    }
    fn key_properties(&self) -> &[String] {
        &[]
    }
    fn replication_key(&self) -> Option<&str> {
        self.replication_key.as_deref()
    }
    fn parent(&self) -> Option<&str> {
        self.parent
    }
    fn state_partitioning_keys(&self) -> Option<&[String]> {
        self.state_keys.as_deref()
    }
    fn ignore_parent_replication_key(&self) -> bool {
        self.ignore_parent_key
    }
    fn child_contexts(&self, record: &Row, partition: Option<&Context>) -> Result<Vec<Context>> {
        let Some(contexts) = &self.contexts else {
            return Ok(partition.into_iter().cloned().collect());
        };
        Ok(contexts(record)
            .into_iter()
            .map(|c| c.as_object().cloned().unwrap())
            .collect())
    }
    fn records<'a>(&'a self, cx: &'a SyncContext) -> RecordStream<'a, Row> {
        let rows = (self.rows)(cx.partition());
        records_from_iter(
            rows.into_iter()
                .map(|r| Ok(r.as_object().cloned().unwrap())),
        )
    }
}

fn schema(fields: Value) -> Value {
    let mut schema = Map::new();
    schema.insert("properties".into(), fields);
    schema.insert("type".into(), json!("object"));
    Value::Object(schema)
}

fn pid_children(parent: &'static str, child: &'static str) -> (Fixture, Fixture) {
    let parent_stream = Fixture::new(parent, schema(json!({"id": {"type": "integer"}})), |_| {
        (1..=3).map(|i| json!({"id": i})).collect()
    })
    .contexts(|row| vec![json!({"pid": row["id"]})]);
    let child_stream = Fixture::new(
        child,
        schema(json!({"id": {"type": "integer"}, "pid": {"type": "integer"}})),
        |cx| {
            let pid = cx.unwrap()["pid"].clone();
            (1..=3).map(|i| json!({"id": i, "pid": pid})).collect()
        },
    )
    .child_of(parent);
    (parent_stream, child_stream)
}

fn golden(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/singer-sdk-streams/golden/parent_child")
        .join(name)
        .join("singer.jsonl");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the streams and returns the output with singer-sdk's frozen clock: every
/// `time_extracted` and `version` replaced by the goldens' values.
fn run(streams: &Streams, catalog: Option<Catalog>, activate: bool) -> String {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let options = SyncOptions {
        catalog,
        emit_activate_version: activate,
        max_parallelism: 1,
        ..SyncOptions::default()
    };
    let out = runtime.block_on(async {
        let (_, out) = sync(streams, options, MessageWriter::new(Vec::new()))
            .await
            .unwrap();
        out.into_inner().unwrap()
    });
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| {
            let mut message: Map<String, Value> = serde_json::from_str(line).unwrap();
            if message.contains_key("time_extracted") {
                message.insert("time_extracted".into(), json!("2022-01-01T00:00:00+00:00"));
            }
            if message.contains_key("version") {
                message.insert("version".into(), json!(1_640_995_200));
            }
            serde_json::to_string(&message).unwrap() + "\n"
        })
        .collect()
}

fn deselect(streams: &Streams, name: &str) -> Catalog {
    let mut catalog = streams.catalog();
    for entry in &mut catalog.streams {
        let selected = entry.tap_stream_id != name;
        for metadata in &mut entry.metadata {
            if metadata.breadcrumb.is_empty() {
                metadata.metadata.insert("selected".into(), json!(selected));
            }
        }
    }
    catalog
}

#[test]
fn parent_context_fields_in_child() {
    let (parent, child) = pid_children("parent", "child");
    let out = run(&Streams::new().with(parent).with(child), None, false);
    assert_eq!(out, golden("test_parent_context_fields_in_child"));
}

#[test]
fn deselected_parent_still_runs_for_its_child() {
    let (parent, child) = pid_children("parent", "child");
    let streams = Streams::new().with(parent).with(child);
    let catalog = deselect(&streams, "parent");
    assert_eq!(
        run(&streams, Some(catalog), false),
        golden("test_child_deselected_parent")
    );
}

#[test]
fn deselected_child_does_not_run() {
    let (parent, child) = pid_children("parent", "child");
    let streams = Streams::new().with(parent).with(child);
    let catalog = deselect(&streams, "child");
    assert_eq!(
        run(&streams, Some(catalog), false),
        golden("test_deselected_child")
    );
}

#[test]
fn one_parent_record_many_children() {
    let parent = Fixture::new(
        "parent_many",
        schema(json!({"id": {"type": "integer"}, "children": {"items": {"type": "integer"}, "type": "array"}})),
        |_| vec![json!({"id": "1", "children": [1, 2, 3]})],
    )
    .contexts(|row| {
        row["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| json!({"child_id": c, "pid": row["id"]}))
            .collect()
    });
    let child = Fixture::new(
        "child_many",
        schema(json!({"id": {"type": "integer"}, "pid": {"type": "integer"}})),
        |cx| {
            let cx = cx.unwrap();
            vec![json!({"id": cx["child_id"], "pid": cx["pid"]})]
        },
    )
    .child_of("parent_many");
    let out = run(&Streams::new().with(parent).with(child), None, false);
    assert_eq!(out, golden("test_one_parent_many_children"));
}

#[test]
fn empty_state_partitioning_keys_keep_one_bookmark() {
    let parent = Fixture::new(
        "parent_3631",
        schema(json!({"id": {"type": "integer"}})),
        |_| (1..=3).map(|i| json!({"id": i})).collect(),
    )
    .contexts(|row| vec![json!({"pid": row["id"]})]);
    let mut child = Fixture::new(
        "child_3631",
        schema(json!({"id": {"type": "integer"}, "pid": {"type": "integer"}})),
        |cx| vec![json!({"id": cx.unwrap()["pid"]})],
    )
    .child_of("parent_3631");
    child.state_keys = Some(Vec::new());
    let out = run(&Streams::new().with(parent).with(child), None, false);
    assert_eq!(out, golden("test_child_state_partitioning_keys_empty"));
}

#[test]
fn child_can_make_its_parent_full_table() {
    let mut parent = Fixture::new(
        "parent_irpk",
        schema(json!({"id": {"type": "integer"}, "updated_at": {"format": "date-time", "type": "string"}})),
        |_| {
            vec![
                json!({"id": 1, "updated_at": "2022-01-01T00:00:00+00:00"}),
                json!({"id": 2, "updated_at": "2022-01-02T00:00:00+00:00"}),
            ]
        },
    )
    .contexts(|row| vec![json!({"pid": row["id"]})]);
    parent.replication_key = Some("updated_at".into());
    let mut child = Fixture::new(
        "child_irpk",
        schema(json!({"id": {"type": "integer"}, "pid": {"type": "integer"}})),
        |cx| {
            let pid = cx.unwrap()["pid"].clone();
            vec![json!({"id": pid, "pid": pid})]
        },
    )
    .child_of("parent_irpk");
    child.ignore_parent_key = true;
    let out = run(&Streams::new().with(parent).with(child), None, false);
    assert_eq!(out, golden("test_ignore_parent_replication_key"));
}

#[test]
fn incremental_child_keeps_a_bookmark_per_partition() {
    let parent = Fixture::new(
        "parent_incr",
        schema(json!({"id": {"type": "integer"}})),
        |_| vec![json!({"id": 1}), json!({"id": 2})],
    )
    .contexts(|row| vec![json!({"pid": row["id"]})]);
    let mut child = Fixture::new(
        "child_incr",
        schema(json!({"id": {"type": "integer"}, "pid": {"type": "integer"}, "updated_at": {"format": "date-time", "type": "string"}})),
        |cx| {
            let pid = cx.unwrap()["pid"].as_i64().unwrap();
            vec![json!({"id": pid * 10, "pid": pid, "updated_at": format!("2021-0{pid}-01T00:00:00+00:00")})]
        },
    )
    .child_of("parent_incr");
    child.replication_key = Some("updated_at".into());
    let out = run(&Streams::new().with(parent).with(child), None, false);
    assert_eq!(out, golden("test_incremental_child_stream"));
}

#[test]
fn state_partitioning_keys_keep_large_context_out_of_state() {
    let parent = Fixture::new(
        "parent_large",
        schema(json!({"id": {"type": "integer"}, "name": {"type": "string"}})),
        |_| {
            vec![
                json!({"id": 1, "name": "Parent A"}),
                json!({"id": 2, "name": "Parent B"}),
            ]
        },
    )
    .contexts(|row| {
        let payload: Vec<i64> = (1..=1000).collect();
        vec![json!({"parent_id": row["id"], "parent_name": row["name"], "payload": payload})]
    });
    let mut child = Fixture::new(
        "child_preprocessed",
        schema(json!({"id": {"type": "integer"}, "parent_id": {"type": "integer"}, "parent_name": {"type": "string"}, "sum": {"type": "integer"}})),
        |cx| {
            let cx = cx.unwrap();
            let sum: i64 = cx["payload"].as_array().unwrap().iter().filter_map(Value::as_i64).sum();
            vec![json!({"id": 1, "parent_id": cx["parent_id"], "parent_name": cx["parent_name"], "sum": sum})]
        },
    )
    .child_of("parent_large");
    child.state_keys = Some(vec!["parent_id".into(), "parent_name".into()]);
    let out = run(&Streams::new().with(parent).with(child), None, false);
    assert_eq!(out, golden("test_preprocess_context_removes_large_payload"));
}

#[test]
fn activate_version_messages() {
    let stream = Fixture::new(
        "versioned",
        schema(json!({"id": {"type": "integer"}})),
        |_| vec![json!({"id": 1}), json!({"id": 2})],
    );
    let out = run(&Streams::new().with(stream), None, true);
    assert_eq!(out, golden("test_emit_activate_version_messages"));
}

#[test]
fn child_records_get_missing_context_keys() {
    let (parent, child) = pid_children("parent", "child");
    let child = Fixture::new("child", child.schema, |_| vec![json!({"id": 7})]).child_of("parent");
    let out = run(&Streams::new().with(parent).with(child), None, false);
    assert!(out.contains(r#""record":{"id":7,"pid":2}"#), "{out}");
}

#[test]
fn concurrent_children_give_the_same_records_and_state() {
    let (parent, child) = pid_children("parent", "child");
    let sequential = run(
        &Streams::new().with(parent.clone()).with(child.clone()),
        None,
        false,
    );
    let concurrent = run(
        &Streams::new().with(parent).with(child).max_concurrency(4),
        None,
        false,
    );
    let sorted = |out: &str| {
        let mut records: Vec<&str> = out.lines().filter(|l| l.contains(r#""RECORD""#)).collect();
        records.sort_unstable();
        records.join("\n")
    };
    assert_eq!(sorted(&sequential), sorted(&concurrent));
    let last_state = |out: &str| {
        let line = out
            .lines()
            .rev()
            .find(|l| l.contains(r#""STATE""#))
            .unwrap();
        let value: Value = serde_json::from_str(line).unwrap();
        let mut partitions: Vec<String> = value["value"]["bookmarks"]["child"]["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        partitions.sort();
        partitions
    };
    assert_eq!(last_state(&sequential), last_state(&concurrent));
    // Every child RECORD follows a child SCHEMA.
    let first_schema = concurrent.find(r#""SCHEMA","stream":"child""#).unwrap();
    let first_record = concurrent.find(r#""RECORD","stream":"child""#).unwrap();
    assert!(first_schema < first_record);
}

#[test]
fn unknown_parent_is_a_definition_error() {
    let (_, child) = pid_children("parent", "child");
    let streams = Streams::new().with(child);
    let err = streams.check().unwrap_err().to_string();
    assert!(
        err.contains("parent `parent` is not a stream of this tap"),
        "{err}"
    );
}
