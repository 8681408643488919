//! Kill-and-resume: a run killed with SIGKILL mid-load, then resumed from the last state it
//! acknowledged, leaves every record in the file, and a torn last line (or gzip member) from
//! the killed run does not break the rerun.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use target_test_support::{Dest, Target, assert_ok, states, stderr};

const TARGET: Target = Target::jsonl(env!("CARGO_BIN_EXE_target-jsonl"));

const RECORDS: u64 = 20_000;
const STATE_EVERY: u64 = 500;

fn schema_line() -> String {
    json!({"type": "SCHEMA", "stream": "events", "key_properties": ["id"], "schema": {
        "type": "object", "required": ["id"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}
    }})
    .to_string()
}

fn state_line(position: u64) -> String {
    json!({"type": "STATE", "value": {"position": position}}).to_string()
}

/// SCHEMA, then records 0..RECORDS with `{"position": n}` after every STATE_EVERY records.
fn input() -> Vec<String> {
    let mut lines = vec![schema_line()];
    for id in 0..RECORDS {
        lines.push(
            json!({"type": "RECORD", "stream": "events", "record": {
                "id": id, "name": format!("event {id} «ü»"), "at": "2024-01-01T00:00:00Z"
            }})
            .to_string(),
        );
        if (id + 1) % STATE_EVERY == 0 {
            lines.push(state_line(id + 1));
        }
    }
    lines
}

fn position(state: &Value) -> u64 {
    state["position"].as_u64().expect("a position")
}

/// Runs the target on `lines` fed in chunks, kills it after `after` state lines, and
/// returns the states it wrote.
fn run_and_kill(dest: &Dest, config: &str, lines: &[String], after: usize) -> Vec<Value> {
    let log = File::create(dest.root().join("killed.log")).expect("log");
    let mut child = TARGET
        .command()
        .args(["--config", config])
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let feed = lines.to_vec();
    let feeder = std::thread::spawn(move || {
        for chunk in feed.chunks(100) {
            let mut text = chunk.join("\n");
            text.push('\n');
            if stdin.write_all(text.as_bytes()).is_err() {
                return; // killed
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut emitted = Vec::new();
    let mut line = String::new();
    while emitted.len() < after {
        line.clear();
        if stdout.read_line(&mut line).expect("read stdout") == 0 {
            break;
        }
        emitted.push(serde_json::from_str::<Value>(&line).expect("a JSON state"));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    // States written between the last read and the kill count too (complete lines only).
    loop {
        line.clear();
        if stdout.read_line(&mut line).expect("read stdout") == 0 {
            break;
        }
        if line.ends_with('\n') {
            emitted.push(serde_json::from_str::<Value>(&line).expect("a JSON state"));
        }
    }
    feeder.join().expect("feeder");
    let log = std::fs::read_to_string(dest.root().join("killed.log")).unwrap_or_default();
    assert!(
        emitted.len() >= after,
        "only {} states before the end:\n{log}",
        emitted.len()
    );
    emitted
}

fn kill_and_resume(compression: &str, file: &str, torn: &[u8]) {
    let dest = TARGET.dest();
    let config = dest.config(&json!({
        "batch_size_rows": 200,
        "batch_wait_limit_seconds": 0,
        "compression": compression,
    }));
    let lines = input();
    let emitted = run_and_kill(&dest, &config, &lines, 5);
    // Acknowledged states are input states, in order.
    let positions: Vec<u64> = emitted.iter().map(position).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]) && positions.iter().all(|p| p % STATE_EVERY == 0),
        "{positions:?}"
    );
    let resume_at = *positions.last().expect("a state");
    assert!(resume_at < RECORDS, "the run must be killed before its end");
    // Everything acknowledged is durable: the records before the state are in the file.
    let written = dest.records(file);
    assert!(
        written.len() as u64 >= resume_at,
        "{} < {resume_at}",
        written.len()
    );

    // What a kill in the middle of a write leaves behind.
    std::fs::OpenOptions::new()
        .append(true)
        .open(dest.out().join(file))
        .expect("open")
        .write_all(torn)
        .expect("tear");

    let after = lines
        .iter()
        .position(|l| *l == state_line(resume_at))
        .expect("the state is in the input");
    let mut resumed = vec![lines[0].clone()];
    resumed.extend_from_slice(&lines[after + 1..]);
    // The rerun uses ordinary batching (states relayed at batch ends).
    let config = dest.config(&json!({"batch_size_rows": 200, "compression": compression}));
    let output = TARGET.run(
        &["--config", &config],
        (resumed.join("\n") + "\n").as_bytes(),
    );
    assert_ok(&output);
    assert!(
        stderr(&output).contains("partial"),
        "the repair is logged:\n{}",
        stderr(&output)
    );
    assert_eq!(states(&output).last(), Some(&json!({"position": RECORDS})));

    // Every line is a whole record; every id is there; ids before the resume point exactly
    // once (append-only: records written after the last acknowledged state are loaded
    // again by the rerun, so those may appear twice).
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for record in dest.records(file) {
        let id = record["id"].as_u64().expect("an id");
        assert_eq!(record["name"], format!("event {id} «ü»"));
        assert_eq!(record["at"], "2024-01-01T00:00:00+00:00");
        *seen.entry(id).or_default() += 1;
    }
    for id in 0..RECORDS {
        let count = seen.get(&id).copied().unwrap_or(0);
        if id < resume_at {
            assert_eq!(count, 1, "record {id} (before the resume point)");
        } else {
            assert!((1..=2).contains(&count), "record {id} seen {count} times");
        }
    }
    assert_eq!(
        seen.len() as u64,
        RECORDS,
        "no other ids (the torn one is gone)"
    );
}

#[test]
fn kill_and_resume_plain() {
    kill_and_resume("none", "events.jsonl", br#"{"id":999999,"name":"torn rec"#);
}

#[test]
fn kill_and_resume_gzip() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(br#"{"id":999999,"name":"torn","at":"2024-01-01T00:00:00+00:00"}"#)
        .expect("compress");
    let member = encoder.finish().expect("compress");
    kill_and_resume("gzip", "events.jsonl.gz", &member[..member.len() / 2]);
}
