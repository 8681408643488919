//! Kill-and-resume: a run killed with SIGKILL, resumed from the last state it acknowledged,
//! loses no record; a torn last row left in the file is repaired by the next run.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use target_test_support::csv::{read_csv, read_table};
use target_test_support::{Dest, Target, assert_ok, states, stderr};

const TARGET: Target = Target::csv(env!("CARGO_BIN_EXE_target-csv"));

const SCHEMA: &str = r#"{"type": "SCHEMA", "stream": "items", "key_properties": ["id"], "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "note": {"type": ["string", "null"]}}}}"#;

/// `n` records (every 7th with a note holding a line break, a comma and quotes) and a
/// `{"position": i}` STATE after every `every` records.
fn input_lines(n: u64, every: u64) -> Vec<String> {
    let mut lines = vec![SCHEMA.to_owned()];
    for id in 0..n {
        let note = if id % 7 == 0 {
            json!(format!("line one\nline two, \"quoted\" {id}"))
        } else {
            Value::Null
        };
        lines.push(
            json!({"type": "RECORD", "stream": "items", "record": {"id": id, "name": format!("item {id}"), "note": note}})
                .to_string(),
        );
        if (id + 1) % every == 0 {
            lines.push(json!({"type": "STATE", "value": {"position": id + 1}}).to_string());
        }
    }
    lines
}

fn joined(lines: &[String]) -> Vec<u8> {
    let mut text = lines.join("\n");
    text.push('\n');
    text.into_bytes()
}

/// How often each id is in the file, checking each row is whole and its values match the id.
fn id_counts(dir: &Dest) -> BTreeMap<u64, usize> {
    let (header, rows) = read_table(&dir.csv("items"));
    assert_eq!(header, ["id", "name", "note"]);
    let mut counts = BTreeMap::new();
    for row in rows {
        let id: u64 = row["id"]
            .parse()
            .unwrap_or_else(|_| panic!("bad row {row:?}"));
        assert_eq!(row["name"], format!("item {id}"), "row {row:?}");
        let note = if id % 7 == 0 {
            format!("line one\nline two, \"quoted\" {id}")
        } else {
            String::new()
        };
        assert_eq!(row["note"], note, "row {row:?}");
        *counts.entry(id).or_default() += 1;
    }
    counts
}

/// A torn row as a crash in the middle of a write leaves it: cut inside a quoted field,
/// after a line break in it.
const TORN: &str = "99999,item 99999,\"line one\nline t";

#[test]
fn kill_and_resume() {
    const N: u64 = 20_000;
    let lines = input_lines(N, 500);
    let input = joined(&lines);
    let dir = TARGET.dest();
    let config = dir.config(&json!({"batch_size_rows": 200, "batch_wait_limit_seconds": 0}));

    let mut child = TARGET
        .command()
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Feed 60% of the input in chunks, then hold stdin open until the child is killed, so the
    // run is always interrupted in the middle.
    let mut stdin = child.stdin.take().unwrap();
    let (killed, wait_for_kill) = mpsc::channel::<()>();
    let part = input[..input.len() * 6 / 10].to_vec();
    let feeder = std::thread::spawn(move || {
        for chunk in part.chunks(8 * 1024) {
            if stdin.write_all(chunk).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = wait_for_kill.recv_timeout(Duration::from_secs(120));
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acked: Vec<Value> = Vec::new();
    let mut line = String::new();
    while acked.len() < 5 {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the target stopped early"
        );
        acked.push(serde_json::from_str(&line).unwrap());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = killed.send(());
    feeder.join().unwrap();
    // States written before the kill and not read yet count too.
    for line in stdout.lines() {
        acked.push(serde_json::from_str(&line.unwrap()).unwrap());
    }
    let last = acked.last().unwrap().clone();
    let p = last["position"].as_u64().unwrap();
    assert!((2500..N).contains(&p), "position {p}");
    eprintln!(
        "killed after acknowledging position {p} ({} states)",
        acked.len()
    );

    // A torn last row, as a kill in the middle of a write would leave it.
    tear_last_row(&dir);

    // Resume: the SCHEMA, then everything after the last acknowledged STATE.
    let state_line = json!({"type": "STATE", "value": last}).to_string();
    let at = lines.iter().position(|l| *l == state_line).unwrap();
    let mut resumed = vec![SCHEMA.to_owned()];
    resumed.extend_from_slice(&lines[at + 1..]);
    // Batches of 200 this time (the killed run wrote each record as it came).
    let config = dir.config(&json!({"batch_size_rows": 200}));
    let output = TARGET.run_stdin(&config, &joined(&resumed));
    assert_ok(&output);
    assert_eq!(states(&output).last(), Some(&json!({"position": N})));

    let counts = id_counts(&dir);
    for id in 0..N {
        let count = counts.get(&id).copied().unwrap_or(0);
        // Acknowledged before the kill: written once, never resent. After it: at least once
        // (a batch written after the last acknowledged state is written again).
        if id < p {
            assert_eq!(count, 1, "id {id} (acknowledged position {p})");
        } else {
            assert!(count >= 1, "id {id} missing (acknowledged position {p})");
        }
    }
    assert_eq!(
        counts.keys().last(),
        Some(&(N - 1)),
        "no row beyond the input"
    );
    let torn = std::fs::read_to_string(dir.out().join("items.csv.torn")).unwrap();
    assert!(torn.ends_with(&format!("{TORN}\n")), "{torn:?}");
}

#[test]
fn torn_last_row_is_repaired_on_the_next_run() {
    let dir = TARGET.dest();
    let config = dir.config(&json!({}));
    let lines = input_lines(10, 5);
    let output = TARGET.run_stdin(&config, &joined(&lines[..7]));
    assert_ok(&output);
    assert_eq!(states(&output), [json!({"position": 5})]);
    tear_last_row(&dir);

    let mut resumed = vec![SCHEMA.to_owned()];
    resumed.extend_from_slice(&lines[7..]);
    let output = TARGET.run_stdin(&config, &joined(&resumed));
    assert_ok(&output);
    assert!(
        stderr(&output).contains("incomplete last row"),
        "{}",
        stderr(&output)
    );
    assert_eq!(states(&output), [json!({"position": 10})]);
    let counts = id_counts(&dir);
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    assert!(counts.values().all(|c| *c == 1));
    assert_eq!(
        std::fs::read_to_string(dir.out().join("items.csv.torn")).unwrap(),
        format!("{TORN}\n")
    );
}

#[test]
fn torn_header_starts_the_file_over() {
    let dir = TARGET.dest();
    std::fs::create_dir_all(dir.out()).unwrap();
    std::fs::write(dir.csv("items"), "id,na").unwrap();
    let output = TARGET.run_stdin(dir.config(&json!({})), &joined(&input_lines(3, 3)));
    assert_ok(&output);
    assert_eq!(id_counts(&dir).len(), 3);
    assert_eq!(read_csv(&dir.csv("items"))[0], ["id", "name", "note"]);
}

/// Appends a torn last row to `items.csv`, as a kill in the middle of a write would leave it.
fn tear_last_row(dir: &Dest) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.csv("items"))
        .unwrap();
    file.write_all(TORN.as_bytes()).unwrap();
}
