//! Pipeline mode: a tap piped into a target, the target killed at a random acknowledged STATE,
//! both resumed from it, and proof that no record was lost.
//!
//! How the harness knows what the target loaded, with no reader for its destination: a target
//! that acknowledges a STATE (prints its value on stdout) promises that every record it received
//! before that STATE is stored (Singer spec; singer-sdk drains sinks before it emits state). So
//! the records the target holds after the resumed run are at least those it received before the
//! last STATE it acknowledged in the killed run, plus everything of the resumed run. Every record
//! of a clean tap run must be among them (matched by key properties, or whole records without
//! keys). A `verify` command, when given, prints what the destination really holds (one JSON
//! object a line) and every record of the clean run must be there as well.
//!
//! ```no_run
//! use singer_conformance::{Pipeline, Program};
//!
//! let tap = Program::from_argv(vec!["tap-csv".into(), "--config".into(), "tap.json".into()]).unwrap();
//! let target = Program::from_argv(vec!["target-jsonl".into(), "--config".into(), "target.json".into()]).unwrap();
//! let report = Pipeline::new(tap, target).seed(7).run().unwrap();
//! assert!(report.is_success(), "{}", report.to_text());
//! ```

use std::collections::HashSet;
use std::ffi::OsString;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Map, Value};

use crate::check::{CheckInfo, CheckResult, Outcome, fail, skip};
use crate::error::{Error, Result};
use crate::json;
use crate::process::{self, Line, Program, Run, Spawned};
use crate::report::{Kind, Report};
use crate::tap::{Msg, Output, parse};

/// The checks of a pipeline run.
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo {
        id: "pipeline.kill.acknowledged",
        what: "the tap piped into the target: the target acknowledges (prints) a STATE the tap sent, at or after the randomly chosen k-th one, while its input stays open, and only values the tap sent",
        why: "Meltano saves the state a target prints; a target that acknowledges nothing until its input ends, or invents states, loses a whole run's progress when killed",
    },
    CheckInfo {
        id: "pipeline.resume.exit-success",
        what: "after the target is SIGKILLed at that acknowledged STATE, the tap resumed with `--state` (that value) piped into a fresh target both exit 0, and the target acknowledges the tap's final STATE",
        why: "the state a killed pipeline leaves behind must be one both connectors can resume from (Singer CONFIG_AND_STATE.md)",
    },
    CheckInfo {
        id: "pipeline.kill.no-loss",
        what: "every record of a clean tap run is among the records the target received before the STATE it acknowledged plus those of the resumed run (and, with a verify command, among the rows it prints)",
        why: "at-least-once delivery: a kill at any acknowledged STATE may repeat records but never lose one",
    },
];

/// A tap and a target, each a whole command line with its own `--config`.
#[derive(Debug, Clone)]
pub struct Pipeline {
    tap: Program,
    target: Program,
    verify: Option<String>,
    seed: Option<u64>,
    timeout: Duration,
    ack_timeout: Duration,
}

impl Pipeline {
    /// A pipeline of these commands, a 60 s deadline per run and 8 s to wait for an
    /// acknowledgement.
    #[must_use]
    pub fn new(tap: Program, target: Program) -> Self {
        Pipeline {
            tap,
            target,
            verify: None,
            seed: None,
            timeout: Duration::from_secs(60),
            ack_timeout: Duration::from_secs(8),
        }
    }

    /// A shell command printing what the destination holds, one JSON object per line, run
    /// after the resumed pipeline.
    #[must_use]
    pub fn verify(mut self, command: impl Into<String>) -> Self {
        self.verify = Some(command.into());
        self
    }

    /// The seed of the random kill point (default: from the clock; the report names it).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The deadline of one run (the clean tap run, the killed pipeline, the resumed one).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long to wait for the target to acknowledge the k-th STATE while its input is open.
    #[must_use]
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// Runs the pipeline checks.
    ///
    /// # Errors
    /// [`Error::Spawn`] when the tap or the target cannot be started; [`Error::Io`] when the
    /// harness cannot write the state file. Faults of the connectors are check failures.
    pub fn run(&self) -> Result<Report> {
        self.tap.probe()?;
        self.target.probe()?;
        let start = Instant::now();
        let outcomes = match self.execute() {
            Ok(outcomes) => outcomes,
            Err(Failure::Harness(e)) => return Err(e),
            Err(Failure::Outcome(outcome)) => [outcome.clone(), outcome.clone(), outcome],
        };
        let duration = start.elapsed();
        let results = CHECKS
            .iter()
            .zip(outcomes)
            .map(|(info, outcome)| CheckResult {
                info: *info,
                outcome,
                duration,
            })
            .collect();
        let name = format!("{} | {}", self.tap.display(), self.target.display());
        Ok(Report::new(Kind::Pipeline, name, results))
    }

    fn execute(&self) -> Result<[Outcome; 3], Failure> {
        let clean = Output::parse(process::run(&self.tap, &[], None, self.timeout)?);
        if !clean.run.success() {
            return Err(fail(format!(
                "a clean run of the tap failed: {}",
                clean.run.describe()
            ))
            .into());
        }
        let total = clean.states().len();
        if total < 2 {
            return Err(skip(format!(
                "a clean run of the tap emits {total} STATE message(s); killing needs at least two"
            ))
            .into());
        }
        let seed = self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos().into())
        });
        let k = StdRng::seed_from_u64(seed).random_range(1..total);
        let at = format!("(kill at STATE #{k} of {total}, seed {seed})");
        let killed = self.relay(&[], Some(k))?;
        let needs = || skip("the target acknowledged no STATE to resume from");
        if let Some(bad) = &killed.invented {
            let why = format!(
                "the target acknowledged {}, a state the tap never sent {at}",
                json::excerpt(bad)
            );
            return Ok([fail(why), needs(), needs()]);
        }
        let Some(acked) = killed.acked.filter(|a| a + 1 >= k) else {
            let why = format!(
                "the target acknowledged no STATE at or after #{k} within {} s while its input stayed open {at}; {}",
                self.ack_timeout.as_secs(),
                killed.target.stderr_tail()
            );
            return Ok([fail(why), needs(), needs()]);
        };
        let state = killed.states[acked].clone();
        let file = tempfile::Builder::new()
            .prefix("singer-conformance-state-")
            .suffix(".json")
            .tempfile()
            .map_err(|e| Error::io("cannot create the state file", e))?;
        std::fs::write(file.path(), state.to_string())
            .map_err(|e| Error::io("cannot write the state file", e))?;
        let args: Vec<OsString> = vec!["--state".into(), file.path().into()];
        let resumed = self.relay(&args, None)?;
        let resume = resumed.verdict(&format!(
            "resumed from {} {at}",
            json::excerpt(&state.to_string())
        ));
        let mut have: HashSet<(String, String)> = HashSet::new();
        let schemas = clean.schemas();
        let identity = |stream: &str, record: &Map<String, Value>| {
            let keys = schemas.get(stream).map(|(_, k)| *k).unwrap_or_default();
            (stream.to_owned(), identity(keys, record))
        };
        for (stream, record) in &killed.records[..killed.records_before[acked]] {
            have.insert(identity(stream, record));
        }
        for (stream, record) in &resumed.records {
            have.insert(identity(stream, record));
        }
        let mut no_loss = Ok(());
        for (n, stream, record) in clean.records() {
            if !have.contains(&identity(stream, record)) {
                no_loss = Err(fail(format!(
                    "record {} of `{stream}` (line {n} of a clean run) was neither received before acknowledged STATE #{} nor in the run resumed from it {at}",
                    json::excerpt(&identity(stream, record).1),
                    acked + 1
                )));
                break;
            }
        }
        if let (Ok(()), Some(command)) = (&no_loss, &self.verify) {
            no_loss = self.verified(command, &clean, &at);
        }
        Ok([
            Outcome::Pass,
            resume.err().unwrap_or(Outcome::Pass),
            no_loss.err().unwrap_or(Outcome::Pass),
        ])
    }

    /// Runs the verify command: every record of the clean run must be among its rows.
    fn verified(&self, command: &str, clean: &Output, at: &str) -> Result<(), Outcome> {
        let run = process::shell(command, &[], self.timeout).map_err(|e| fail(crate::chain(&e)))?;
        if !run.success() {
            return Err(fail(format!(
                "the verify command failed: {}",
                run.describe()
            )));
        }
        let mut rows = Vec::new();
        for (n, line) in run.stdout_text().lines().enumerate() {
            match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(row)) => rows.push(row),
                _ if line.trim().is_empty() => {}
                _ => {
                    return Err(fail(format!(
                        "line {} of the verify command's output is not a JSON object: {}",
                        n + 1,
                        json::excerpt(line)
                    )));
                }
            }
        }
        let schemas = clean.schemas();
        for (n, stream, record) in clean.records() {
            let keys = schemas.get(stream).map(|(_, k)| *k).unwrap_or_default();
            let fields: Vec<&String> = if keys.is_empty() {
                record.keys().filter(|k| !k.starts_with("_sdc_")).collect()
            } else {
                keys.iter().collect()
            };
            let loaded = rows
                .iter()
                .any(|row| fields.iter().all(|f| loose_eq(row.get(*f), record.get(*f))));
            if !loaded {
                return Err(fail(format!(
                    "record {} of `{stream}` (line {n} of a clean run) is not among the rows the verify command prints {at}",
                    json::excerpt(&identity(keys, record))
                )));
            }
        }
        Ok(())
    }

    /// Pipes the tap (with `tap_args`) into the target. With `kill_at`, stops forwarding after
    /// the tap's `kill_at`-th STATE, waits for an acknowledgement at or after it, then kills both.
    fn relay(&self, tap_args: &[OsString], kill_at: Option<usize>) -> Result<Relay, Failure> {
        let deadline = Instant::now() + self.timeout;
        let tap = Spawned::start(&self.tap, tap_args, false, true)?;
        let mut target = Spawned::start(&self.target, &[], true, true)?;
        let mut relay = Relay::default();
        loop {
            relay.read_acks(&target, Instant::now());
            let line = match tap.next_line(deadline) {
                Line::Text(line) => line,
                Line::End | Line::Timeout => break,
            };
            let text = String::from_utf8_lossy(&line).into_owned();
            match parse(&text) {
                Ok(Msg::Record { stream, record, .. }) => relay.records.push((stream, record)),
                Ok(Msg::State(value)) => {
                    relay.records_before.push(relay.records.len());
                    relay.states.push(value);
                }
                _ => {}
            }
            let mut bytes = line;
            bytes.push(b'\n');
            let bytes = Arc::new(bytes);
            target.send(bytes.clone());
            if kill_at.is_some_and(|k| relay.states.len() == k) {
                // Re-sending the STATE is harmless and lets targets that acknowledge on the
                // next message after their batch wait (singer-sdk's) do so with input open.
                let wait = Instant::now() + self.ack_timeout;
                while relay.acked.is_none_or(|a| a + 1 < relay.states.len())
                    && Instant::now() < wait
                {
                    let tick = (Instant::now() + Duration::from_millis(250)).min(wait);
                    relay.read_acks(&target, tick);
                    target.send(bytes.clone());
                }
                relay.tap = tap.kill();
                relay.target = target.kill();
                return Ok(relay);
            }
        }
        relay.tap = tap.finish(deadline);
        target.close_input();
        while relay.read_acks(&target, deadline) {}
        relay.target = target.finish(deadline);
        Ok(relay)
    }
}

/// Why a pipeline run stopped early: the harness itself, or a verdict for every check.
enum Failure {
    Harness(Error),
    Outcome(Outcome),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Harness(e)
    }
}

impl From<Outcome> for Failure {
    fn from(o: Outcome) -> Self {
        Failure::Outcome(o)
    }
}

/// What one piped run saw.
#[derive(Default)]
struct Relay {
    /// The tap's records in order, as forwarded.
    records: Vec<(String, Map<String, Value>)>,
    /// The tap's STATE values in order, as forwarded.
    states: Vec<Value>,
    /// For each STATE, how many records came before it.
    records_before: Vec<usize>,
    /// The index in `states` of the latest state the target acknowledged.
    acked: Option<usize>,
    /// An acknowledged value the tap never sent.
    invented: Option<String>,
    tap: Run,
    target: Run,
}

impl Relay {
    /// Reads the target's stdout lines until `until`; `false` once stdout closed.
    fn read_acks(&mut self, target: &Spawned, until: Instant) -> bool {
        loop {
            match target.next_line(until) {
                Line::Text(line) => {
                    let Ok(mut value) = serde_json::from_slice::<Value>(&line) else {
                        continue;
                    };
                    if value.get("type").and_then(Value::as_str) == Some("STATE") {
                        value = value["value"].take();
                    }
                    match self.states.iter().rposition(|s| *s == value) {
                        Some(i) => self.acked = Some(self.acked.map_or(i, |a| a.max(i))),
                        None => {
                            self.invented.get_or_insert_with(|| value.to_string());
                        }
                    }
                }
                Line::Timeout => return true,
                Line::End => return false,
            }
        }
    }

    /// Both exited 0 and the target acknowledged the tap's final STATE.
    fn verdict(&self, what: &str) -> Result<(), Outcome> {
        if !self.tap.success() {
            return Err(fail(format!(
                "the tap {what} failed: {}",
                self.tap.describe()
            )));
        }
        if !self.target.success() {
            return Err(fail(format!(
                "the target {what} failed: {}",
                self.target.describe()
            )));
        }
        if !self.states.is_empty() && self.acked != Some(self.states.len() - 1) {
            return Err(fail(format!(
                "the target {what} did not acknowledge the tap's final STATE {}",
                json::excerpt(&self.states[self.states.len() - 1].to_string())
            )));
        }
        Ok(())
    }
}

/// A record's identity: its key values, or the whole record without `_sdc_*` columns.
fn identity(keys: &[String], record: &Map<String, Value>) -> String {
    if keys.is_empty() {
        json::canonical(&Value::Object(json::without_sdc(record)))
    } else {
        let values = keys
            .iter()
            .map(|k| record.get(k).cloned().unwrap_or_default());
        json::canonical(&Value::Array(values.collect()))
    }
}

/// Values equal, or equal as text (destinations often return keys as strings or numbers).
fn loose_eq(loaded: Option<&Value>, sent: Option<&Value>) -> bool {
    match (loaded, sent) {
        (Some(a), Some(b)) => a == b || text(a) == text(b),
        (None | Some(Value::Null), None | Some(Value::Null)) => true,
        _ => false,
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
