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
    assert_batches_load_like_records_with(target, input, root, params, env, &json!({}));
}

/// [`assert_batches_load_like_records`] with the target's config extended by `settings` in
/// every run (e.g. `stream_maps` and `flattening_*`, which must apply to the records of
/// BATCH files as to RECORDs).
///
/// # Panics
/// When the loads differ, or a run fails.
pub fn assert_batches_load_like_records_with(
    target: &Target,
    input: &[u8],
    root: impl Fn(&Dest) -> String,
    params: &Value,
    env: &[(&str, &str)],
    settings: &Value,
) {
    let records = target.dest();
    let output = target.run_stdin(records.config(settings), input);
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
        let config = dest.config(settings);
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

/// Stream maps and flattening for [`sample_input`]'s streams, touching every kind of map:
/// computed, dropped and renamed properties, a filter, an alias, a stream copied from another
/// with `__source__` and `__else__: null`, and flattening to depth 1 (`address__city`, the
/// `tags` list as JSON text). The same settings must load the same rows from RECORDs and from
/// BATCH files ([`assert_batches_load_like_records_with`]).
#[must_use]
pub fn maps_and_flattening() -> Value {
    json!({
        "stream_maps": {
            "users": {
                "name_upper": "name.upper() if name else None",
                "score_x2": "float(score * 2)",
                "active": "__NULL__",
                "__filter__": "id != 4"
            },
            "orders": {
                "__alias__": "purchases",
                "total_cents": "int(round(total * 100))",
                "user_id": null
            },
            "user_cities": {
                "__source__": "users",
                "__else__": null,
                "id": "id",
                "city": "address['city'] if address else None",
                "first_tag": "tags[0] if tags else None"
            }
        },
        "flattening_enabled": true,
        "flattening_max_depth": 1
    })
}

/// One of singer-sdk's BATCH fixture sets (`batch-fixtures/` of its conformance data): the
/// files of one BATCH message, their encoding, and the stream's SCHEMA matching the files'
/// columns.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The stream the files are loaded as.
    pub stream: &'static str,
    /// The files, in manifest order.
    pub files: Vec<std::path::PathBuf>,
    /// `jsonl` or `parquet`.
    pub format: &'static str,
    /// `gzip` or `none`, as singer-sdk would have written in the BATCH message.
    pub compression: &'static str,
    /// The stream's JSON Schema.
    pub schema: Value,
    /// The stream's key properties.
    pub key_properties: Vec<&'static str>,
}

/// singer-sdk's BATCH fixtures: `continents.parquet.gz` (7 rows, parquet's own gzip codec),
/// `countries.parquet.gz` (250 rows with a struct column `continent` and a list-of-struct
/// column `languages`), `testfile.parquet` (24 rows of int64, string and nullable bool,
/// snappy) and `batch.1.jsonl.gz` + `batch.2.jsonl.gz` (one manifest of two gzip JSON Lines
/// files).
///
/// # Panics
/// When the conformance data is not found.
#[must_use]
pub fn sdk_fixtures() -> Vec<Fixture> {
    let dir = crate::conformance_dir().join("batch-fixtures");
    let text = json!({"type": ["null", "string"]});
    let code_name = json!({"type": ["null", "object"], "properties": {
        "code": text, "name": text}});
    vec![
        Fixture {
            stream: "continents",
            files: vec![dir.join("continents.parquet.gz")],
            format: "parquet",
            compression: "gzip",
            schema: json!({"type": "object", "properties": {
                "code": {"type": "string"}, "name": text}}),
            key_properties: vec!["code"],
        },
        Fixture {
            stream: "countries",
            files: vec![dir.join("countries.parquet.gz")],
            format: "parquet",
            compression: "gzip",
            schema: json!({"type": "object", "properties": {
                "code": {"type": "string"},
                "name": text, "native": text, "phone": text,
                "continent": code_name,
                "capital": text, "currency": text,
                "languages": {"type": ["null", "array"], "items": code_name},
                "emoji": text
            }}),
            key_properties: vec!["code"],
        },
        Fixture {
            stream: "testfile",
            files: vec![dir.join("testfile.parquet")],
            format: "parquet",
            compression: "none",
            schema: json!({"type": "object", "properties": {
                "f0": {"type": ["null", "integer"]},
                "f1": text,
                "f2": {"type": ["null", "boolean"]}
            }}),
            key_properties: vec![],
        },
        Fixture {
            stream: "users",
            files: vec![dir.join("batch.1.jsonl.gz"), dir.join("batch.2.jsonl.gz")],
            format: "jsonl",
            compression: "gzip",
            schema: json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "name": text}}),
            key_properties: vec!["id"],
        },
    ]
}

impl Fixture {
    /// The records the files hold, decoded without this SDK: parquet by pyarrow (see
    /// [`pyarrow_rows`]), gzip JSON Lines by flate2 and serde_json.
    ///
    /// # Panics
    /// When a file cannot be decoded.
    #[must_use]
    pub fn rows(&self) -> Vec<Value> {
        self.files
            .iter()
            .flat_map(|file| match self.format {
                "parquet" => pyarrow_rows(file),
                _ => {
                    let bytes =
                        std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                    let mut text = String::new();
                    std::io::Read::read_to_string(
                        &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
                        &mut text,
                    )
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                    messages(text)
                }
            })
            .collect()
    }

    fn schema_message(&self) -> Value {
        json!({"type": "SCHEMA", "stream": self.stream, "schema": self.schema,
            "key_properties": self.key_properties})
    }

    /// SCHEMA, one BATCH message naming the files (as `file://` URLs, as singer-sdk writes
    /// them), and a STATE.
    #[must_use]
    pub fn batch_input(&self) -> Vec<u8> {
        let manifest: Vec<String> = self
            .files
            .iter()
            .map(|f| {
                url::Url::from_file_path(f)
                    .expect("an absolute path")
                    .to_string()
            })
            .collect();
        lines(&[
            self.schema_message(),
            json!({"type": "BATCH", "stream": self.stream,
                "encoding": {"format": self.format, "compression": self.compression},
                "manifest": manifest}),
            json!({"type": "STATE", "value": {"fixture": self.stream}}),
        ])
    }

    /// SCHEMA, one RECORD per row of `rows`, and the same STATE as [`batch_input`](Self::batch_input).
    #[must_use]
    pub fn record_input(&self, rows: &[Value]) -> Vec<u8> {
        let mut out = vec![self.schema_message()];
        out.extend(
            rows.iter()
                .map(|r| json!({"type": "RECORD", "stream": self.stream, "record": r})),
        );
        out.push(json!({"type": "STATE", "value": {"fixture": self.stream}}));
        lines(&out)
    }
}

/// The rows of a parquet file as pyarrow reads them (`pyarrow.parquet.read_table(path)
/// .to_pylist()`, nulls kept), from the venv `scripts/peer tap-jsonl` installs (it pins
/// pyarrow): a reader independent of this SDK's.
///
/// # Panics
/// When pyarrow cannot be installed or cannot read the file.
#[must_use]
pub fn pyarrow_rows(path: &std::path::Path) -> Vec<Value> {
    const READ: &str = "import json, sys\n\
        import pyarrow.parquet as pq\n\
        for row in pq.read_table(sys.argv[1]).to_pylist():\n    \
            print(json.dumps(row, ensure_ascii=False))\n";
    let output = std::process::Command::new(pyarrow_python())
        .args(["-c", READ])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run pyarrow: {e}"));
    assert!(
        output.status.success(),
        "pyarrow cannot read {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    messages(&output.stdout)
}

/// The Python of the venv holding pyarrow, installed once per test process.
fn pyarrow_python() -> &'static std::path::Path {
    static PYTHON: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let output = std::process::Command::new(root.join("scripts/peer"))
            .arg("tap-jsonl")
            .output()
            .unwrap_or_else(|e| panic!("cannot run scripts/peer tap-jsonl: {e}"));
        assert!(
            output.status.success(),
            "scripts/peer tap-jsonl failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let bin = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        std::path::Path::new(&bin).join("python")
    })
}

/// Loads each of [`sdk_fixtures`] into `target` twice: as its BATCH message, and as RECORDs
/// of the rows the files hold decoded independently ([`Fixture::rows`]). Both runs must
/// succeed and acknowledge the state, the destinations must be the same, and `check` gets
/// the BATCH load's destination with the expected rows, for what only this target can tell.
///
/// # Panics
/// When a run fails or the loads differ.
pub fn assert_sdk_fixtures_load(target: &Target, check: impl Fn(&Dest, &Fixture, &[Value])) {
    for fixture in sdk_fixtures() {
        let rows = fixture.rows();
        let want = match fixture.stream {
            "continents" => 7,
            "countries" => 250,
            "testfile" => 24,
            _ => 4,
        };
        assert_eq!(rows.len(), want, "{}: rows decoded", fixture.stream);
        let records = target.dest();
        let input = fixture.record_input(&rows);
        let output = target.run_stdin(records.config(&json!({})), &input);
        crate::assert_loaded(&output, &input);
        let expected = (target.dump)(&records.out()).expect("the RECORD load reads back");

        let batches = target.dest();
        let input = fixture.batch_input();
        let output = target.run_stdin(batches.config(&json!({})), &input);
        crate::assert_loaded(&output, &input);
        let got = (target.dump)(&batches.out()).expect("the BATCH load reads back");
        assert_eq!(
            got, expected,
            "{}: {}: the BATCH load differs from the RECORD load of the rows pyarrow read",
            target.bin, fixture.stream
        );
        check(&batches, &fixture, &rows);
    }
}
