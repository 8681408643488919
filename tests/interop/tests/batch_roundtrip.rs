//! Tap → target through BATCH gives the rows it gives through RECORDs: tap-csv's output, once
//! as RECORDs and once as BATCH files in every encoding (JSON Lines and Parquet, gzip or
//! not), written to local files or to a real S3-compatible server (moto) on loopback, loaded
//! by target-jsonl, target-sqlite and target-postgres (the test server). The destinations
//! must hold the same rows, and the last acknowledged state must be the same.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use singer_interop::process;
use target_test_support::batch::ENCODINGS;
use target_test_support::s3::S3Server;
use target_test_support::{Target, assert_ok, messages, states, stderr};

/// The binaries, built once per test process.
fn bin_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        singer_interop::build(&[
            "tap-csv",
            "target-jsonl",
            "target-sqlite",
            "target-postgres",
        ])
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

fn bin(name: &str) -> &'static str {
    Box::leak(bin_dir().join(name).display().to_string().into_boxed_str())
}

fn targets() -> [Target; 3] {
    [
        Target::jsonl(bin("target-jsonl")),
        Target::sqlite(bin("target-sqlite")),
        Target::postgres(bin("target-postgres")),
    ]
}

const CUSTOMERS: &str = "\
id,name,email,score,active,signed_up
1,Ada Lovelace,ada@example.com,1.5,true,2024-01-01T09:00:00Z
2,\"Hopper, Grace \"\"Amazing\"\"\",,2.25,false,2024-01-02T10:30:00+02:00
3,Zoë Ñandú,zoe@example.com,,true,2024-01-03T08:15:00.250Z
4,Alan Turing,alan@example.com,-7,,2024-01-04T12:00:00Z
5,Tab\there,tab@example.com,0,false,
6,Émile,emile@example.com,1e3,true,2024-01-06T00:00:00Z
7,Last One,last@example.com,3.75,false,2024-01-07T23:59:59Z
";

const ORDERS: &str = "\
order_id,customer_id,amount,paid,ordered_at
100,1,19.99,true,2024-02-01T10:00:00Z
101,2,5.00,false,2024-02-02T11:00:00Z
102,1,120.50,true,2024-02-03T12:00:00Z
103,3,0.01,true,2024-02-04T13:00:00Z
104,7,42,false,2024-02-05T14:00:00Z
";

/// The CSV files and tap-csv's settings for them: types inferred, `orders` incremental, and
/// a stream map on `customers` (maps apply to batched records as to RECORDs).
struct Source {
    dir: tempfile::TempDir,
}

impl Source {
    fn new() -> Source {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("customers.csv"), CUSTOMERS).unwrap();
        std::fs::write(dir.path().join("orders.csv"), ORDERS).unwrap();
        Source { dir }
    }

    fn config(&self, batch_config: Option<Value>) -> PathBuf {
        let mut config = json!({
            "infer_types": true,
            "files": [
                {"entity": "customers", "path": self.dir.path().join("customers.csv"), "keys": ["id"]},
                {"entity": "orders", "path": self.dir.path().join("orders.csv"), "keys": ["order_id"],
                    "replication_key": "ordered_at"}
            ],
            "stream_maps": {"customers": {"email_hash": "md5(email)"}}
        });
        let name = match &batch_config {
            Some(batch) => {
                let encoding = &batch["encoding"];
                format!(
                    "tap-{}-{}.json",
                    encoding["format"].as_str().unwrap_or_default(),
                    encoding["compression"].as_str().unwrap_or_default()
                )
            }
            None => "tap-records.json".to_owned(),
        };
        if let Some(batch) = batch_config {
            config["batch_config"] = batch;
        }
        let path = self.dir.path().join(name);
        std::fs::write(&path, config.to_string()).unwrap();
        path
    }

    /// tap-csv's messages for `batch_config` (RECORDs when `None`), with `env` set.
    fn messages(&self, batch_config: Option<Value>, env: &[(&str, &str)]) -> Vec<u8> {
        let config = self.config(batch_config);
        let mut command = Command::new(bin("tap-csv"));
        command
            .arg("--config")
            .arg(&config)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        let output = process::run(&mut command, Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("tap-csv: {e}"));
        assert_ok(&output);
        if let Some((_, secret)) = env.iter().find(|(k, _)| *k == "AWS_SECRET_ACCESS_KEY") {
            assert!(!stderr(&output).contains(secret), "{}", stderr(&output));
        }
        output.stdout
    }
}

fn count(messages: &[Value], kind: &str) -> usize {
    messages.iter().filter(|m| m["type"] == kind).count()
}

/// Loads `input` into a fresh destination of `target`; what it holds and the states it
/// acknowledged.
fn load(
    target: &Target,
    input: &[u8],
    env: &[(&str, &str)],
) -> (target_test_support::expected::Content, Vec<Value>) {
    let dest = target.dest();
    let config = dest.config(&json!({}));
    let output: Output = target.run_env(&["--config", &config], input, env);
    assert_ok(&output);
    let content = (target.dump)(&dest.out()).unwrap_or_else(|e| panic!("{}: {e}", target.bin));
    (content, states(&output))
}

/// Runs the matrix: every encoding, batch files under `root`, through every target.
fn assert_round_trips(root: &str, env: &[(&str, &str)]) {
    let source = Source::new();
    let records = source.messages(None, env);
    let record_messages = messages(&records);
    assert_eq!(
        count(&record_messages, "RECORD"),
        12,
        "tap-csv's RECORD run"
    );
    assert_eq!(count(&record_messages, "BATCH"), 0);
    let batched: Vec<(String, Vec<u8>)> = ENCODINGS
        .iter()
        .map(|(format, compression)| {
            let batch_config = json!({
                "encoding": {"format": format, "compression": compression},
                "storage": {"root": root, "prefix": format!("{format}-{compression}/")},
                "batch_size": 3
            });
            let output = source.messages(Some(batch_config), env);
            let sent = messages(&output);
            let name = format!("{format}/{compression}");
            assert_eq!(count(&sent, "RECORD"), 0, "{name}: RECORDs sent");
            // 7 customers and 5 orders in files of 3: 3 + 2 files.
            assert_eq!(count(&sent, "BATCH"), 5, "{name}: BATCH messages");
            (name, output)
        })
        .collect();
    for target in targets() {
        let (expected, expected_states) = load(&target, &records, env);
        assert_eq!(expected.len(), 2, "{}: {expected:?}", target.bin);
        let last_state = expected_states.last().cloned();
        assert!(
            last_state.is_some(),
            "{}: no state acknowledged",
            target.bin
        );
        for (name, input) in &batched {
            let (got, got_states) = load(&target, input, env);
            assert_eq!(
                got, expected,
                "{}: {name}: the BATCH load differs from the RECORD load",
                target.bin
            );
            assert_eq!(
                got_states.last().cloned(),
                last_state,
                "{}: {name}: last acknowledged state",
                target.bin
            );
        }
    }
}

#[test]
fn tap_csv_batches_in_local_files_load_like_its_records() {
    let batches = tempfile::tempdir().unwrap();
    let root = format!("file://{}", batches.path().display());
    assert_round_trips(&root, &[]);
}

#[test]
fn tap_csv_batches_in_s3_load_like_its_records() {
    let s3 = S3Server::start();
    s3.create_bucket("roundtrip");
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_round_trips("s3://roundtrip/runs", &env);
}
