//! BATCH input for target tests: the same messages with every stream's RECORDs moved into
//! batch files written by the SDK's `BatchWriter`, the check that a target loads both
//! alike, and the checks that it refuses bad BATCH input clearly.

use std::collections::HashMap;
use std::io::Write;

use serde_json::{Value, json};
use singer_sdk::batch::{BatchConfig, BatchWriter};

use crate::{
    Dest, Target, assert_fails, assert_ok, assert_states_relayed, lines, messages, states, stderr,
};

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

/// The stream the bad-input checks load into (the one [`Target::ids`] reads).
const STREAM: &str = "conformance_kill";

/// Asserts `target` refuses each kind of bad local BATCH input — a manifest naming a missing
/// file (after a good one), a corrupt gzip, a truncated gzip, a file that is not parquet, and
/// parquet columns that do not match the stream's schema — with one error naming the file
/// (and for a mismatch the record and column), exit 1, no state acknowledged after the failing BATCH, and the
/// records of any state it did acknowledge in the destination.
///
/// # Panics
/// When it does not.
pub fn assert_bad_local_batches_fail(target: &Target) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = |name: &str| dir.path().join(name).display().to_string();
    let good = path("good.json");
    std::fs::write(&good, "{\"id\": 3}\n{\"id\": 4}\n").expect("a batch file");
    let jsonl = |files: &[String]| batch_message("jsonl", "gzip", files);

    let missing = path("gone.json.gz");
    assert_batch_fails(
        target,
        &jsonl(&[good, missing]),
        &[],
        &[
            "gone.json.gz",
            &format!("stream `{STREAM}`"),
            "No such file",
        ],
    );

    let corrupt = path("corrupt.json.gz");
    std::fs::write(&corrupt, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]).expect("a file");
    assert_batch_fails(
        target,
        &jsonl(&[corrupt]),
        &[],
        &["corrupt.json.gz", "gzip"],
    );

    let truncated = path("truncated.json.gz");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for id in 0..2000 {
        writeln!(
            gzip,
            "{{\"id\": {id}, \"pad\": \"{}\"}}",
            "x".repeat(id % 97)
        )
        .expect("gzip");
    }
    let whole = gzip.finish().expect("gzip");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).expect("a file");
    assert_batch_fails(
        target,
        &jsonl(&[truncated]),
        &[],
        &["truncated.json.gz", "gzip"],
    );

    let not_parquet = path("x.parquet");
    std::fs::write(&not_parquet, "{\"id\": 1}\n").expect("a file");
    assert_batch_fails(
        target,
        &batch_message("parquet", "none", &[not_parquet]),
        &[],
        &["x.parquet", "not a readable parquet file"],
    );

    // A parquet file whose `id` column holds text, for a stream whose `id` is an integer.
    let config = config(&path("wrong"), "parquet", "gzip", &json!({}));
    let wrong = lines(&[
        json!({"type": "SCHEMA", "stream": STREAM, "key_properties": [],
            "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}),
        json!({"type": "RECORD", "stream": STREAM, "record": {"id": "not a number"}}),
    ]);
    let message = messages(batched(&wrong, &config))
        .into_iter()
        .find(|m| m["type"] == "BATCH")
        .expect("a BATCH message");
    assert_batch_fails(
        target,
        &message,
        &[],
        &[
            "parquet-gzip/",
            "record 1",
            &format!("stream `{STREAM}`"),
            "id",
        ],
    );
}

/// Asserts `target` refuses BATCH files in an object store that is unreachable (a closed
/// port) or that refuses its credentials (moto checking signatures): one error naming the
/// object's URL and what to check, exit 1, no state acknowledged after the failure, and no
/// secret key in the output.
///
/// # Panics
/// When it does not.
pub fn assert_bad_remote_batches_fail(target: &Target) {
    let url = "s3://batches/x.json.gz".to_owned();
    let message = batch_message("jsonl", "gzip", std::slice::from_ref(&url));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let secret = "very-secret-value";
    let env = [
        ("AWS_ACCESS_KEY_ID", "key"),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    let err = assert_batch_fails(target, &message, &env, &[&url, "reachable"]);
    assert!(!err.contains(secret), "the secret key was printed:\n{err}");

    let s3 = crate::s3::S3Server::start_with_auth();
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let err = assert_batch_fails(target, &message, &env, &[&url, "credentials"]);
    assert!(
        !err.contains(s3.secret()),
        "the secret key was printed:\n{err}"
    );
}

fn batch_message(format: &str, compression: &str, manifest: &[String]) -> Value {
    json!({"type": "BATCH", "stream": STREAM,
        "encoding": {"format": format, "compression": compression}, "manifest": manifest})
}

/// Loads SCHEMA, RECORDs 1 and 2, STATE 1, `batch`, STATE 2 with `env` set, and asserts the
/// run fails with one error holding `fragments`, STATE 2 is never acknowledged, and when
/// STATE 1 was, records 1 and 2 are in the destination. Returns stderr.
fn assert_batch_fails(
    target: &Target,
    batch: &Value,
    env: &[(&str, &str)],
    fragments: &[&str],
) -> String {
    let input = lines(&[
        json!({"type": "SCHEMA", "stream": STREAM, "key_properties": ["id"],
            "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}),
        json!({"type": "RECORD", "stream": STREAM, "record": {"id": 1}}),
        json!({"type": "RECORD", "stream": STREAM, "record": {"id": 2}}),
        json!({"type": "STATE", "value": {"n": 1}}),
        batch.clone(),
        json!({"type": "STATE", "value": {"n": 2}}),
    ]);
    let dest = target.dest();
    // No waiting: a STATE is acknowledged as soon as the records before it are written.
    let config = dest.config(&json!({"batch_wait_limit_seconds": 0}));
    let output = target.run_env(&["--config", &config], &input, env);
    assert_fails(&output, 1, fragments);
    let acknowledged = states(&output);
    assert!(
        acknowledged.iter().all(|s| *s == json!({"n": 1})),
        "{}: acknowledged {acknowledged:?}, only {{\"n\": 1}} may be",
        target.bin
    );
    if !acknowledged.is_empty() {
        let ids = (target.ids)(&dest.out()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            ids.contains(&1) && ids.contains(&2),
            "{}: state 1 was acknowledged but its records are not loaded: {ids:?}",
            target.bin
        );
    }
    stderr(&output)
}
