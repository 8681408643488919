//! What only target-jsonl's tests need: its file-naming rule, a parsed input to check
//! acknowledged states against, and how to read its destination back.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::Dest;
use crate::expected::Content;

/// The file name target-jsonl uses for a stream (its documented rule): letters, digits, `-`,
/// `_` and `.` kept, anything else and a leading `.` written as `_`.
#[must_use]
pub fn file_name(stream: &str) -> String {
    let safe = |(i, c): (usize, char)| match c {
        '.' if i == 0 => '_',
        c if c.is_alphanumeric() || "-_.".contains(c) => c,
        _ => '_',
    };
    let name: String = stream.chars().enumerate().map(safe).collect();
    format!("{name}.jsonl")
}

/// A parsed Singer input: records per stream in order, and states in order, each with the
/// number of RECORD messages before it per stream.
pub struct Input {
    /// The records of each stream, in order.
    pub records: HashMap<String, Vec<Value>>,
    /// Each STATE value with the record count per stream before it.
    pub states: Vec<(Value, HashMap<String, usize>)>,
}

impl Input {
    /// Parses the lines of `text` (lines that are not JSON objects are skipped).
    ///
    /// # Panics
    /// When a RECORD has no `stream`.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut records: HashMap<String, Vec<Value>> = HashMap::new();
        let mut states = Vec::new();
        for line in text.lines() {
            let Ok(message) = serde_json::from_str::<Map<String, Value>>(line) else {
                continue;
            };
            match message.get("type").and_then(Value::as_str) {
                Some("RECORD") => {
                    let stream = message["stream"].as_str().expect("stream").to_owned();
                    let record = message["record"].clone();
                    records.entry(stream).or_default().push(record);
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

    /// The last STATE value.
    #[must_use]
    pub fn last_state(&self) -> Option<&Value> {
        self.states.last().map(|(value, _)| value)
    }

    /// Every emitted state appeared in the input, in input order, and every record before
    /// it in the input is in the destination (no STATE past the last durable write).
    ///
    /// # Panics
    /// When not.
    pub fn assert_states_acknowledged(&self, emitted: &[Value], dest: &Dest) {
        let mut next = 0;
        for state in emitted {
            let Some(offset) = self.states[next..].iter().position(|(v, _)| v == state) else {
                panic!("state {state} was not in the input (after position {next}): {emitted:?}");
            };
            let (_, counts) = &self.states[next + offset];
            for (stream, count) in counts.iter().filter(|(_, count)| **count > 0) {
                let written = dest.records(&file_name(stream)).len();
                assert!(
                    written >= *count,
                    "state {state} emitted but only {written} of {count} records of `{stream}` written"
                );
            }
            next += offset + 1;
        }
    }
}

/// Every file of the destination directory `out`, as its lines (each a string, byte for byte).
///
/// # Errors
/// When a file cannot be read, is not UTF-8, or does not end with a newline.
pub fn dump(out: &Path) -> Result<Content, String> {
    crate::expected::text_files(out, "\n")
}

/// The `id`s loaded into stream `conformance_kill` of the destination directory `out`.
///
/// # Errors
/// When its file cannot be read.
pub fn ids(out: &Path) -> Result<Vec<i64>, String> {
    let path = out.join("conformance_kill.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["id"].as_i64())
        .collect())
}
