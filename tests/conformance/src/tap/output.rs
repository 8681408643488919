//! A tap run's stdout, split into lines and parsed strictly as Singer messages.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::check::fail;
use crate::json;
use crate::process::Run;

/// Singer message types.
mod names {
    pub(super) const SCHEMA: &str = "SCHEMA";
    pub(super) const RECORD: &str = "RECORD";
    pub(super) const STATE: &str = "STATE";
    pub(super) const ACTIVATE_VERSION: &str = "ACTIVATE_VERSION";
    pub(super) const BATCH: &str = "BATCH";
}

/// One parsed message.
#[derive(Debug, Clone)]
pub(crate) enum Msg {
    Schema {
        stream: String,
        schema: Value,
        key_properties: Vec<String>,
    },
    Record {
        stream: String,
        record: Map<String, Value>,
        time_extracted: Option<Value>,
    },
    State(Value),
    /// BATCH: records in files, named by the manifest.
    Batch {
        stream: String,
        encoding: Value,
        manifest: Vec<Value>,
    },
    /// ACTIVATE_VERSION: valid, not inspected further.
    Other,
}

/// One stdout line: its 1-based number, its text, and the message or why it is not one.
#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) number: usize,
    pub(crate) text: String,
    pub(crate) parsed: Result<Msg, String>,
}

/// A tap run and its stdout lines.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) run: Run,
    pub(crate) lines: Vec<Line>,
}

impl Output {
    /// Splits stdout into lines. A killed run's unterminated last line is dropped: it was cut.
    pub(crate) fn parse(run: Run) -> Output {
        let text = run.stdout_text();
        let mut pieces: Vec<&str> = text.split('\n').collect();
        if pieces.last().is_some_and(|l| l.is_empty() || run.killed) {
            pieces.pop();
        }
        let lines = pieces
            .into_iter()
            .enumerate()
            .map(|(i, line)| Line {
                number: i + 1,
                text: line.to_owned(),
                parsed: parse(line),
            })
            .collect();
        Output { run, lines }
    }

    /// Fails the calling check unless the run exited 0; `what` names the run.
    pub(crate) fn require_success(&self, what: &str) -> crate::check::Verdict {
        if self.run.success() {
            Ok(())
        } else {
            Err(fail(format!(
                "the sync {what} failed: {}",
                self.run.describe()
            )))
        }
    }

    /// The valid messages with their line numbers.
    pub(crate) fn messages(&self) -> impl Iterator<Item = (usize, &Msg)> {
        self.lines
            .iter()
            .filter_map(|l| l.parsed.as_ref().ok().map(|m| (l.number, m)))
    }

    /// `(line, stream, record)` of every valid RECORD.
    pub(crate) fn records(&self) -> impl Iterator<Item = (usize, &str, &Map<String, Value>)> {
        self.messages().filter_map(|(n, m)| match m {
            Msg::Record { stream, record, .. } => Some((n, stream.as_str(), record)),
            _ => None,
        })
    }

    /// `(line, value)` of every valid STATE.
    pub(crate) fn states(&self) -> Vec<(usize, &Value)> {
        self.messages()
            .filter_map(|(n, m)| match m {
                Msg::State(v) => Some((n, v)),
                _ => None,
            })
            .collect()
    }

    /// The value of the last STATE.
    pub(crate) fn final_state(&self) -> Option<&Value> {
        self.states().last().map(|(_, v)| *v)
    }

    /// The last SCHEMA of each stream.
    pub(crate) fn schemas(&self) -> HashMap<&str, (&Value, &[String])> {
        let mut out = HashMap::new();
        for (_, m) in self.messages() {
            if let Msg::Schema {
                stream,
                schema,
                key_properties,
            } = m
            {
                out.insert(stream.as_str(), (schema, key_properties.as_slice()));
            }
        }
        out
    }

    /// Records per stream, `_sdc_*` columns removed, in canonical text (for set comparisons).
    pub(crate) fn record_texts(&self) -> HashMap<String, Vec<String>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (_, stream, record) in self.records() {
            let text = json::canonical(&Value::Object(json::without_sdc(record)));
            out.entry(stream.to_owned()).or_default().push(text);
        }
        out
    }

    /// Fails at the first RECORD of a stream that comes before any SCHEMA of it.
    pub(crate) fn schema_before_record(&self) -> crate::check::Verdict {
        let mut seen = HashSet::new();
        for (n, message) in self.messages() {
            match message {
                Msg::Schema { stream, .. } => {
                    seen.insert(stream.as_str());
                }
                Msg::Record { stream, .. } if !seen.contains(stream.as_str()) => {
                    return Err(fail(format!(
                        "line {n}: RECORD of `{stream}` before any SCHEMA of it"
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Fails unless every RECORD validates against the latest SCHEMA of its stream (structure
    /// and types, not formats); records without a SCHEMA before them are not judged here.
    pub(crate) fn records_match_schema(&self) -> crate::check::Verdict {
        let mut validators: HashMap<String, (usize, jsonschema::Validator)> = HashMap::new();
        let mut failures = 0usize;
        let mut first = None;
        for (n, message) in self.messages() {
            match message {
                Msg::Schema { stream, schema, .. } => {
                    let validator = super::validator(n, stream, schema)?;
                    validators.insert(stream.clone(), (n, validator));
                }
                Msg::Record { stream, record, .. } => {
                    let Some((schema_line, validator)) = validators.get(stream) else {
                        continue;
                    };
                    let value = Value::Object(record.clone());
                    if let Some(e) = validator.iter_errors(&value).next() {
                        failures += 1;
                        first.get_or_insert_with(|| {
                            format!(
                                "line {n}: RECORD of `{stream}` does not match its SCHEMA (line {schema_line}): {e} at `{}`",
                                e.instance_path().as_str()
                            )
                        });
                    }
                }
                _ => {}
            }
        }
        match first {
            None => Ok(()),
            Some(first) => Err(fail(format!("{first} ({failures} record(s) fail)"))),
        }
    }

    /// Number of records per stream.
    pub(crate) fn counts(&self) -> HashMap<String, usize> {
        let mut out: HashMap<String, usize> = HashMap::new();
        for (_, stream, _) in self.records() {
            *out.entry(stream.to_owned()).or_default() += 1;
        }
        out
    }
}

/// Parses one line strictly: a JSON object whose upper-case `type` is a Singer message type,
/// with the fields that type requires.
pub(crate) fn parse(line: &str) -> Result<Msg, String> {
    if let Some(token) = json::non_finite_token(line) {
        return Err(format!(
            "`{token}` is not JSON (serialise non-finite numbers as null)"
        ));
    }
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(mut object) = value else {
        return Err("not a JSON object".to_owned());
    };
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        _ => return Err("no string `type`".to_owned()),
    };
    let known = [
        names::SCHEMA,
        names::RECORD,
        names::STATE,
        names::ACTIVATE_VERSION,
        names::BATCH,
    ];
    if !known.contains(&kind.as_str()) {
        return Err(if known.iter().any(|k| k.eq_ignore_ascii_case(&kind)) {
            format!("type `{kind}` is not upper-case; singer-sdk targets dispatch on exact names")
        } else {
            format!("unknown message type `{kind}`; singer-sdk targets reject it")
        });
    }
    let stream = |object: &Map<String, Value>| match object.get("stream") {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(format!("{kind} without a string `stream`")),
    };
    match kind.as_str() {
        names::SCHEMA => {
            let stream = stream(&object)?;
            let Some(schema @ Value::Object(_)) = object.remove("schema") else {
                return Err(format!("SCHEMA of `{stream}` without an object `schema`"));
            };
            let key_properties = match object.get("key_properties") {
                Some(Value::Array(keys)) if keys.iter().all(Value::is_string) => keys
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Some(_) => {
                    return Err(format!(
                        "SCHEMA of `{stream}`: `key_properties` must be a list of strings"
                    ));
                }
                None => {
                    return Err(format!(
                        "SCHEMA of `{stream}` without `key_properties` (required by the spec; use [] for none)"
                    ));
                }
            };
            Ok(Msg::Schema {
                stream,
                schema,
                key_properties,
            })
        }
        names::RECORD => {
            let stream = stream(&object)?;
            let Some(Value::Object(record)) = object.remove("record") else {
                return Err(format!("RECORD of `{stream}` without an object `record`"));
            };
            if let Some(v) = object.get("version").filter(|v| !v.is_i64() && !v.is_u64()) {
                return Err(format!(
                    "RECORD of `{stream}`: `version` must be an integer, got {v}"
                ));
            }
            Ok(Msg::Record {
                stream,
                record,
                time_extracted: object.remove("time_extracted"),
            })
        }
        names::STATE => match object.remove("value") {
            Some(value) => Ok(Msg::State(value)),
            None => Err("STATE without `value`".to_owned()),
        },
        names::ACTIVATE_VERSION => {
            let stream = stream(&object)?;
            match object.get("version") {
                Some(v) if v.is_i64() || v.is_u64() => Ok(Msg::Other),
                _ => Err(format!(
                    "ACTIVATE_VERSION of `{stream}` without an integer `version`"
                )),
            }
        }
        _ => {
            let stream = stream(&object)?;
            match (object.remove("encoding"), object.remove("manifest")) {
                (Some(encoding @ Value::Object(_)), Some(Value::Array(manifest))) => {
                    Ok(Msg::Batch {
                        stream,
                        encoding,
                        manifest,
                    })
                }
                _ => Err(format!(
                    "BATCH of `{stream}` needs an object `encoding` and a list `manifest`"
                )),
            }
        }
    }
}
