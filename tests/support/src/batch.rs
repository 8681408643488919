//! BATCH input for target tests: the same messages with every stream's RECORDs moved into
//! batch files written by the SDK's `BatchWriter`, and the check that a target loads both
//! alike.

use std::collections::HashMap;

use serde_json::{Value, json};
use singer_sdk::batch::{BatchConfig, BatchWriter};

use crate::{Dest, Target, assert_ok, assert_states_relayed, lines, messages, states};

/// Every encoding: (format, compression).
pub const ENCODINGS: [(&str, &str); 4] = [
    ("jsonl", "gzip"),
    ("jsonl", "none"),
    ("parquet", "gzip"),
    ("parquet", "none"),
];

/// `input` with its RECORDs written to batch files as `batch_config` says: SCHEMA messages
/// stay where they are, each STATE is preceded by the BATCH messages of every record before
/// it, and the files left at the end are sent last.
///
/// # Panics
/// When a file cannot be written.
#[must_use]
pub fn batched(input: &[u8], batch_config: &Value) -> Vec<u8> {
    let config = BatchConfig::from_value(batch_config).expect("a valid batch_config");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut writers: Vec<(String, BatchWriter)> = Vec::new();
    let mut schemas: HashMap<String, Value> = HashMap::new();
    let mut out = Vec::new();
    let batch_line = |message: singer_sdk::message::BatchMessage| json!({"type": "BATCH", "stream": message.stream, "encoding": message.encoding, "manifest": message.manifest});
    runtime.block_on(async {
        for message in messages(input) {
            let stream = message["stream"].as_str().unwrap_or_default().to_owned();
            match message["type"].as_str() {
                Some("SCHEMA") => {
                    schemas.insert(stream, message["schema"].clone());
                    out.push(message);
                }
                Some("RECORD") => {
                    if !writers.iter().any(|(name, _)| *name == stream) {
                        let schema = &schemas[&stream];
                        let writer = BatchWriter::new(&config, &stream, schema).expect("a writer");
                        writers.push((stream.clone(), writer));
                    }
                    let (_, writer) = writers
                        .iter_mut()
                        .find(|(name, _)| *name == stream)
                        .expect("added above");
                    let record = serde_json::to_vec(&message["record"]).expect("JSON");
                    if let Some(batch) = writer.push(&record).await.expect("a batch file") {
                        out.push(batch_line(batch));
                    }
                }
                Some("STATE") => {
                    for (_, writer) in &mut writers {
                        if let Some(batch) = writer.finish().await.expect("a batch file") {
                            out.push(batch_line(batch));
                        }
                    }
                    out.push(message);
                }
                _ => out.push(message),
            }
        }
        for (_, writer) in &mut writers {
            if let Some(batch) = writer.finish().await.expect("a batch file") {
                out.push(batch_line(batch));
            }
        }
    });
    lines(&out)
}

/// A `batch_config` for `format` and `compression` under `root`, two records per file.
#[must_use]
pub fn config(root: &str, format: &str, compression: &str, params: &Value) -> Value {
    json!({
        "encoding": {"format": format, "compression": compression},
        "storage": {"root": root, "prefix": format!("{format}-{compression}/"), "params": params},
        "batch_size": 2
    })
}

/// Loads `input` through `target` once as RECORDs and once as BATCHes in every encoding
/// (files under `root(dest)`, read with `env` set), and asserts the destinations and the
/// acknowledged states are the same.
///
/// # Panics
/// When they differ, or a run fails.
pub fn assert_batches_load_like_records(
    target: &Target,
    input: &[u8],
    root: impl Fn(&Dest) -> String,
    params: &Value,
    env: &[(&str, &str)],
) {
    let records = target.dest();
    let output = target.run_stdin(records.config(&json!({})), input);
    assert_ok(&output);
    let expected = (target.dump)(&records.out()).expect("the RECORD load reads back");
    assert!(!expected.is_empty(), "the RECORD load wrote nothing");
    for (format, compression) in ENCODINGS {
        let dest = target.dest();
        let batch_input = batched(input, &config(&root(&dest), format, compression, params));
        assert!(
            String::from_utf8_lossy(&batch_input).contains("\"BATCH\""),
            "no BATCH message"
        );
        let config = dest.config(&json!({}));
        let output = target.run_env(&["--config", &config], &batch_input, env);
        assert_ok(&output);
        let got = (target.dump)(&dest.out()).expect("the BATCH load reads back");
        assert_eq!(
            got, expected,
            "{format}/{compression}: BATCH and RECORD loads differ"
        );
        assert_states_relayed(input, &states(&output));
    }
}

/// Two streams with nested objects, arrays, date-times, nulls and numbers, five records each,
/// with STATE messages between them.
#[must_use]
pub fn sample_input() -> Vec<u8> {
    let users = json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "signed_up": {"type": ["null", "string"], "format": "date-time"},
        "score": {"type": ["null", "number"]},
        "active": {"type": ["null", "boolean"]},
        "address": {"type": ["null", "object"], "properties": {
            "city": {"type": ["null", "string"]}, "zip": {"type": ["null", "integer"]}}},
        "tags": {"type": ["null", "array"], "items": {"type": "string"}}
    }});
    let orders = json!({"type": "object", "properties": {
        "order_id": {"type": "integer"}, "user_id": {"type": ["null", "integer"]},
        "total": {"type": ["null", "number"]}
    }});
    let mut out = vec![
        json!({"type": "SCHEMA", "stream": "users", "schema": users, "key_properties": ["id"]}),
        json!({"type": "SCHEMA", "stream": "orders", "schema": orders, "key_properties": ["order_id"]}),
    ];
    for i in 1..=5 {
        out.push(json!({"type": "RECORD", "stream": "users", "record": {
            "id": i,
            "name": if i == 3 { Value::Null } else { json!(format!("user {i}")) },
            "signed_up": format!("2024-01-0{i}T03:04:05Z"),
            "score": f64::from(i) * 1.5,
            "active": i % 2 == 0,
            "address": {"city": "Oslo", "zip": if i == 2 { Value::Null } else { json!(100 + i) }},
            "tags": ["a", format!("t{i}")]
        }}));
        out.push(json!({"type": "RECORD", "stream": "orders", "record": {
            "order_id": 100 + i, "user_id": i, "total": f64::from(i) * 10.25}}));
        if i == 3 {
            out.push(json!({"type": "STATE", "value": {"bookmarks": {"users": {"id": 3}}}}));
        }
    }
    out.push(json!({"type": "STATE", "value": {"bookmarks": {"users": {"id": 5}}}}));
    lines(&out)
}
