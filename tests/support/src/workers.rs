//! The parallel load path against the single-worker one: every scenario of singer-sdk's
//! conformance data and a benchmark-shaped input (two streams, a SCHEMA change mid-stream that
//! turns records valid only under the new schema, a STATE every 1 000 records) loaded with
//! `workers` 1, 2 and 8 must end alike: the same exit code, the same acknowledged state bytes,
//! the same error, and the same destination bytes (files byte for byte; a database as its
//! [`dump`](crate::Target::dump)).

use std::collections::BTreeMap;
use std::process::{ExitCode, Output};

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Value, json};

use crate::{Target, conformance_dir, stderr};

/// The worker counts compared with 1.
const WORKERS: [usize; 2] = [2, 8];

/// Runs the comparison of `target` as a libtest binary: one case per conformance scenario,
/// and one for the benchmark-shaped input.
#[must_use]
pub fn run(target: Target) -> ExitCode {
    let arguments = Arguments::from_args();
    let mut trials = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(conformance_dir())
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "singer"))
        .collect();
    files.sort();
    for path in files {
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        trials.push(Trial::test(format!("workers.{name}"), move || {
            let input = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            same_as_one_worker(target, &input)
        }));
    }
    trials.push(Trial::test("workers.benchmark-shape", move || {
        same_as_one_worker(target, &benchmark_shape(20_000))
    }));
    libtest_mimic::run(&arguments, trials).exit_code()
}

/// Loads `input` with one worker, then with each of [`WORKERS`], and compares.
fn same_as_one_worker(target: Target, input: &[u8]) -> Result<(), Failed> {
    let one = load(target, input, 1)?;
    for workers in WORKERS {
        let many = load(target, input, workers)?;
        if many.status != one.status {
            return Err(format!(
                "workers {workers}: exit {:?}, one worker: {:?}",
                many.status, one.status
            )
            .into());
        }
        if many.stdout != one.stdout {
            return Err(format!(
                "workers {workers}: acknowledged\n{}\none worker:\n{}",
                String::from_utf8_lossy(&many.stdout),
                String::from_utf8_lossy(&one.stdout)
            )
            .into());
        }
        if many.error != one.error {
            return Err(format!(
                "workers {workers}: error {:?}, one worker: {:?}",
                many.error, one.error
            )
            .into());
        }
        if let Some(name) = first_difference(&one.destination, &many.destination) {
            return Err(format!("workers {workers}: `{name}` differs from one worker's").into());
        }
    }
    Ok(())
}

/// What one load left.
struct Loaded {
    status: Option<i32>,
    stdout: Vec<u8>,
    /// The error report: the stderr lines that are not log lines.
    error: Vec<String>,
    destination: BTreeMap<String, Vec<u8>>,
}

fn load(target: Target, input: &[u8], workers: usize) -> Result<Loaded, String> {
    let dest = target.dest();
    let config = dest.config(&json!({ "workers": workers }));
    let output: Output = target.run_stdin(&config, input);
    let out = dest.out();
    let destination = if out.is_dir() {
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(&out).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            files.insert(name.into_owned(), bytes);
        }
        files
    } else if out.exists() {
        let content = (target.dump)(&out)?;
        let text = serde_json::to_vec_pretty(&content).map_err(|e| e.to_string())?;
        BTreeMap::from([("dump".to_owned(), text)])
    } else {
        BTreeMap::new()
    };
    let error = stderr(&output)
        .lines()
        .filter(|l| !is_log_line(l))
        .map(str::to_owned)
        .collect();
    Ok(Loaded {
        status: output.status.code(),
        stdout: output.stdout,
        error,
        destination,
    })
}

/// A log line (`2024-01-31 12:00:00,000 | INFO | ...`, whose time differs between runs).
fn is_log_line(line: &str) -> bool {
    line.as_bytes()
        .get(..4)
        .is_some_and(|year| year.iter().all(u8::is_ascii_digit))
        && line.contains(" | ")
}

fn first_difference(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
) -> Option<String> {
    let names = a.keys().chain(b.keys());
    names.into_iter().find(|n| a.get(*n) != b.get(*n)).cloned()
}

/// A benchmark-shaped input of `count` records over two streams: stream `users` changes its
/// schema halfway (its `visits` become strings, which the first schema rejects), a STATE
/// every 1 000 records, date-times with offsets to normalise, strings with escapes.
#[must_use]
pub fn benchmark_shape(count: u64) -> Vec<u8> {
    let schema = |stream: &str, visits: &str| {
        json!({"type": "SCHEMA", "stream": stream, "key_properties": ["id"], "schema": {
        "type": "object", "properties": {
            "id": {"type": "integer"},
            "account": {"type": "string"},
            "name": {"type": "string"},
            "email": {"type": ["string", "null"]},
            "note": {"type": ["string", "null"]},
            "active": {"type": "boolean"},
            "verified": {"type": "boolean"},
            "score": {"type": "number"},
            "balance": {"type": "number"},
            "visits": {"type": visits},
            "updated_at": {"type": "string", "format": "date-time"},
            "address": {"type": "object", "properties": {
                "street": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string"}}},
            "tags": {"type": "array", "items": {"type": "string"}}
        }}})
    };
    const NAMES: [&str; 4] = [
        "Ada \"the first\" Lovelace",
        "Alan Turing",
        "Grace\tHopper",
        "Zoë Ñandú\\",
    ];
    let mut out = Vec::new();
    let mut push = |message: Value| {
        out.extend_from_slice(message.to_string().as_bytes());
        out.push(b'\n');
    };
    push(schema("users", "integer"));
    push(schema("orders", "integer"));
    for i in 0..count {
        let changed = i >= count / 2;
        if i == count / 2 {
            push(schema("users", "string"));
        }
        let stream = if i % 3 == 0 { "orders" } else { "users" };
        let visits = if changed && stream == "users" {
            Value::from(format!("{}", i % 1000))
        } else {
            Value::from(i % 1000)
        };
        let index = usize::try_from(i % 4).unwrap_or(0);
        push(json!({"type": "RECORD", "stream": stream, "record": {
            "id": i,
            "account": format!("acct-{:06x}", i * 7919 % 1_000_003),
            "name": NAMES[index],
            "email": if i % 10 == 0 { Value::Null } else { Value::from(format!("user{i}@example.com")) },
            "note": null,
            "active": i % 2 == 0,
            "verified": i % 3 == 0,
            "score": i as f64 * 0.5,
            "balance": 1234.5678 + i as f64,
            "visits": visits,
            "updated_at": format!("2024-02-{:02}T{:02}:{:02}:00+0{}:00", i % 28 + 1, i % 24, i % 60, i % 3),
            "address": {"street": "1 Main St.\nApt 2", "city": "Springfield", "zip": format!("{:05}", i % 100_000)},
            "tags": ["alpha", "beta"]
        }}));
        if (i + 1) % 1000 == 0 {
            push(
                json!({"type": "STATE", "value": {"bookmarks": {"users": {"replication_key_value": i}}}}),
            );
        }
    }
    out
}
