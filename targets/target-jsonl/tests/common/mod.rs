//! Helpers shared by the integration tests: run the binary, read what it wrote.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Map, Value, json};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_target-jsonl");

/// The singer-sdk conformance files.
pub(crate) fn conformance(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/singer-sdk-streams")
        .join(name)
}

/// A temporary destination: `<tmp>/out` and a config pointing at it.
pub(crate) struct Dest {
    tmp: tempfile::TempDir,
}

impl Dest {
    pub(crate) fn new() -> Self {
        Dest {
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub(crate) fn out(&self) -> PathBuf {
        self.tmp.path().join("out")
    }

    /// Writes a config with `destination_path` set to [`Dest::out`] plus `extra`.
    pub(crate) fn config(&self, extra: &Value) -> String {
        let mut config = json!({"destination_path": self.out()});
        if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            config.extend(extra.clone());
        }
        let path = self.tmp.path().join("config.json");
        std::fs::write(&path, config.to_string()).expect("write config");
        path.display().to_string()
    }

    /// The names of the files in the destination, sorted (none if it does not exist).
    pub(crate) fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = match std::fs::read_dir(self.out()) {
            Ok(entries) => entries
                .map(|e| {
                    e.expect("dir entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names
    }

    /// The text of a file in the destination (gzip files are decompressed).
    pub(crate) fn text(&self, name: &str) -> String {
        let bytes = std::fs::read(self.out().join(name))
            .unwrap_or_else(|e| panic!("cannot read {name}: {e}; files: {:?}", self.files()));
        if name.ends_with(".gz") {
            let mut text = String::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .expect("valid gzip");
            text
        } else {
            String::from_utf8(bytes).expect("UTF-8")
        }
    }

    /// The records in a file of the destination, one per line; every line must be JSON.
    pub(crate) fn records(&self, name: &str) -> Vec<Value> {
        let text = self.text(name);
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{name} must end with a newline"
        );
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {l}"))
            })
            .collect()
    }
}

/// Runs the target with `args`, feeding `stdin`.
pub(crate) fn run(args: &[&str], stdin: &[u8]) -> Output {
    run_env(args, stdin, &[])
}

/// Runs the target with `args` and extra environment variables, feeding `stdin`.
pub(crate) fn run_env(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn target-jsonl");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        // The target may stop reading early on bad input.
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().expect("wait");
    feeder.join().expect("feeder");
    output
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The state lines the target wrote; each must be a bare JSON value.
pub(crate) fn states(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 stdout")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Success, with no panic on stderr.
pub(crate) fn assert_ok(output: &Output) {
    let err = stderr(output);
    assert!(
        output.status.success(),
        "exit {:?}, stderr:\n{err}",
        output.status.code()
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// A failure with `code`, every fragment on stderr, and no panic or backtrace.
pub(crate) fn assert_fails(output: &Output, code: i32, fragments: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr:\n{err}");
    for fragment in fragments {
        assert!(
            err.contains(fragment),
            "expected {fragment:?} in stderr:\n{err}"
        );
    }
    assert!(
        !err.contains("panicked")
            && !err.contains("RUST_BACKTRACE")
            && !err.contains("stack backtrace"),
        "{err}"
    );
    let error_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(error_lines.len(), 1, "one error line expected:\n{err}");
}

/// The file name the target uses for a stream (its documented rule).
pub(crate) fn file_name(stream: &str) -> String {
    let mut name: String = stream
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    format!("{name}.jsonl")
}

/// A parsed Singer input: records per stream in order, and states in order, each with the
/// number of RECORD messages before it per stream.
pub(crate) struct Input {
    pub(crate) records: HashMap<String, Vec<Value>>,
    pub(crate) states: Vec<(Value, HashMap<String, usize>)>,
}

impl Input {
    pub(crate) fn parse(text: &str) -> Self {
        let mut records: HashMap<String, Vec<Value>> = HashMap::new();
        let mut states = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(message) = serde_json::from_str::<Map<String, Value>>(line) else {
                continue;
            };
            match message.get("type").and_then(Value::as_str) {
                Some("RECORD") => {
                    let stream = message["stream"].as_str().expect("stream").to_owned();
                    records
                        .entry(stream)
                        .or_default()
                        .push(message["record"].clone());
                }
                Some("STATE") => {
                    let counts = records.iter().map(|(s, r)| (s.clone(), r.len())).collect();
                    states.push((message["value"].clone(), counts));
                }
                _ => {}
            }
        }
        Input { records, states }
    }

    pub(crate) fn last_state(&self) -> Option<&Value> {
        self.states.last().map(|(value, _)| value)
    }

    /// Every emitted state appeared in the input, in input order, and every record before
    /// it in the input is in the destination (no STATE past the last durable write).
    pub(crate) fn assert_states_acknowledged(&self, emitted: &[Value], dest: &Dest) {
        let mut next = 0;
        for state in emitted {
            let Some(offset) = self.states[next..].iter().position(|(v, _)| v == state) else {
                panic!("state {state} was not in the input (after position {next}): {emitted:?}");
            };
            let (_, counts) = &self.states[next + offset];
            for (stream, count) in counts {
                let written = if *count == 0 {
                    0
                } else {
                    dest.records(&file_name(stream)).len()
                };
                assert!(
                    written >= *count,
                    "state {state} emitted but only {written} of {count} records of `{stream}` written"
                );
            }
            next += offset + 1;
        }
    }
}
