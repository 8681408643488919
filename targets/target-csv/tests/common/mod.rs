//! Helpers shared by the integration tests: running the binary, reading CSV files back, and
//! checking acknowledged state against what was written.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Map, Value};

/// A temporary directory with an `out` directory for the target's files.
pub(crate) struct Dir(pub(crate) tempfile::TempDir);

impl Dir {
    pub(crate) fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Where the target writes, unless a test says otherwise.
    pub(crate) fn out(&self) -> PathBuf {
        self.path("out")
    }

    /// The CSV file of `stream` in `out`.
    pub(crate) fn csv(&self, stream: &str) -> PathBuf {
        self.out().join(format!("{stream}.csv"))
    }

    pub(crate) fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// A config writing to `out`, plus `extra` settings.
    pub(crate) fn config(&self, extra: &Value) -> PathBuf {
        let mut config = serde_json::json!({"output_path": self.out()});
        if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            config.extend(extra.clone());
        }
        self.write("config.json", config.to_string())
    }
}

/// The conformance data set (singer-sdk's target test streams).
pub(crate) fn conformance(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/singer-sdk-streams")
        .join(name)
}

/// A command for the target binary, logs at warning level.
pub(crate) fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_target-csv"));
    command
        .env_remove("RUST_LOG")
        .env("TARGET_CSV_LOGLEVEL", "warning");
    command
}

/// Runs the target with `--config config --input input`.
pub(crate) fn run_file(config: &Path, input: &Path) -> Output {
    command()
        .arg("--config")
        .arg(config)
        .arg("--input")
        .arg(input)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs the target with `--config config`, feeding `input` on stdin.
pub(crate) fn run_stdin(config: &Path, input: &[u8]) -> Output {
    let mut child = command()
        .arg("--config")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        // The target may stop reading early (on an error): a broken pipe is expected then.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    output
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The state values the target acknowledged, one per stdout line (each must be bare JSON).
pub(crate) fn emitted_states(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
        })
        .collect()
}

/// Asserts a successful run, showing stderr if not.
pub(crate) fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstderr:\n{}",
        output.status.code(),
        stderr(output)
    );
}

/// Asserts a failed run: exit code 1, an `error:` report on stderr containing every one of
/// `needles`, and no panic.
pub(crate) fn assert_failure(output: &Output, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{err}");
    assert!(!err.contains("panicked"), "panic:\n{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "backtrace:\n{err}");
    let report = err
        .lines()
        .skip_while(|l| !l.starts_with("error: "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!report.is_empty(), "no `error:` line:\n{err}");
    for needle in needles {
        assert!(report.contains(needle), "`{needle}` not in:\n{report}");
    }
}

/// Every row of a CSV file (header first), as the `csv` crate reads it (RFC 4180).
pub(crate) fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice())
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The data rows of a CSV file as maps from column to cell, checking the header appears
/// once and every row has one field per column.
pub(crate) fn read_table(path: &Path) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut rows = read_csv(path).into_iter();
    let header = rows.next().expect("a header row");
    let rows: Vec<BTreeMap<String, String>> = rows
        .enumerate()
        .map(|(i, row)| {
            assert_eq!(
                row.len(),
                header.len(),
                "{} row {}: {row:?}",
                path.display(),
                i + 2
            );
            assert_ne!(
                row,
                header,
                "{}: header repeated as row {}",
                path.display(),
                i + 2
            );
            header.iter().cloned().zip(row).collect()
        })
        .collect();
    (header, rows)
}

/// What a CSV cell holds for a JSON value.
pub(crate) fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// Singer messages of an input, one per line (lines that are not JSON are skipped).
pub(crate) fn messages(input: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(input)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The STATE values of an input, in order.
pub(crate) fn input_states(input: &[u8]) -> Vec<Value> {
    messages(input)
        .into_iter()
        .filter(|m| m["type"] == "STATE")
        .map(|m| m["value"].clone())
        .collect()
}

/// A header and its records.
type Records = (Vec<String>, Vec<Map<String, Value>>);

/// A header and its rows.
pub(crate) type Table = (Vec<String>, Vec<Vec<String>>);

/// The files the target should write for these inputs, loaded one after the other into the
/// same directory: per stream, the header (every property of every SCHEMA, in order of first
/// appearance) and the rows (every record, in input order).
pub(crate) fn expected_files(
    inputs: &[&[u8]],
) -> BTreeMap<String, (Vec<String>, Vec<Vec<String>>)> {
    let mut files: BTreeMap<String, Records> = BTreeMap::new();
    for input in inputs {
        for message in messages(input) {
            let stream = message["stream"].as_str().unwrap_or_default().to_owned();
            match message["type"].as_str() {
                Some("SCHEMA") => {
                    let entry = files.entry(stream).or_default();
                    for name in message["schema"]["properties"].as_object().unwrap().keys() {
                        if !entry.0.contains(name) {
                            entry.0.push(name.clone());
                        }
                    }
                }
                Some("RECORD") => {
                    let entry = files.get_mut(&stream).unwrap();
                    entry.1.push(message["record"].as_object().unwrap().clone());
                }
                _ => {}
            }
        }
    }
    files
        .into_iter()
        .map(|(stream, (header, records))| {
            let rows = records
                .iter()
                .map(|r| header.iter().map(|c| cell(r.get(c))).collect())
                .collect();
            (stream, (header, rows))
        })
        .collect()
}

/// Asserts that `emitted` is a subsequence of `input`'s STATE values, in order, and that the
/// last emitted is the last one of the input.
pub(crate) fn assert_states_relayed(input: &[u8], emitted: &[Value]) {
    let states = input_states(input);
    let mut rest = states.iter();
    for state in emitted {
        assert!(
            rest.any(|s| s == state),
            "emitted state {state} is not an input state (in order); input: {states:?}"
        );
    }
    assert_eq!(emitted.last(), states.last(), "last state");
}

/// Asserts that the records before the last acknowledged STATE of `input` are in the files of
/// `dir` (written into an empty directory): nothing was acknowledged before it was written.
pub(crate) fn assert_acknowledged_state_is_durable(dir: &Dir, input: &[u8], emitted: &[Value]) {
    let Some(last) = emitted.last() else {
        return;
    };
    let messages = messages(input);
    let position = messages
        .iter()
        .position(|m| m["type"] == "STATE" && &m["value"] == last)
        .expect("the emitted state is in the input");
    let before: Vec<u8> = messages[..position]
        .iter()
        .flat_map(|m| format!("{m}\n").into_bytes())
        .collect();
    for (stream, (_, rows)) in expected_files(&[&before]) {
        let (_, written) = read_table(&dir.csv(&stream));
        assert!(
            written.len() >= rows.len(),
            "stream {stream}: state {last} acknowledged with {} of {} records written",
            written.len(),
            rows.len()
        );
    }
}
