//! The mapper suites: a [`Mapper`] to test (a standalone Singer mapper: Singer messages in on
//! stdin, transformed Singer messages out on stdout), and the context its checks share.
//!
//! Every check but `mapper.alias.*` runs the mapper with its base config, which must map
//! nothing (for most mappers `{}`): what comes out is then judged against what went in.

mod alias;
mod edge;
mod identity;
mod output;
mod state;

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use crate::check::{Check, Outcome, fail};
use crate::error::Result;
use crate::json;
use crate::process::{self, Run};
use crate::report::Kind;
use crate::suite::{self, Connector, Suite, Workdir};
use crate::tap::Output;
use crate::target::{lines, record, schema, state};

/// A standalone mapper under test; the harness appends `--config FILE`. Its base config
/// (default `{}`) holds the settings the mapper needs to run, mapping nothing, so that its
/// output must equal its input.
///
/// ```no_run
/// use singer_conformance::{Mapper, Selection};
///
/// let report = Mapper::new("map-transform")
///     .config(serde_json::json!({}))
///     .stream_maps(true)
///     .run(&Selection::all())
///     .unwrap();
/// assert!(report.is_success(), "{}", report.to_text());
/// ```
pub type Mapper = Connector<MapperSuite>;

/// What only the mapper suite needs: whether the mapper understands `stream_maps`.
#[derive(Debug, Clone, Default)]
pub struct MapperSuite {
    pub(crate) stream_maps: bool,
}

impl Suite for MapperSuite {
    type Context = Context;
    const KIND: Kind = Kind::Mapper;

    fn registry() -> &'static [Check<Context>] {
        static ALL: OnceLock<Vec<Check<Context>>> = OnceLock::new();
        ALL.get_or_init(|| {
            suite::registry(&[
                output::CHECKS,
                state::CHECKS,
                identity::CHECKS,
                edge::CHECKS,
                alias::CHECKS,
            ])
        })
    }

    fn context(mapper: &Mapper) -> Result<Context> {
        Ok(Context {
            mapper: mapper.clone(),
            dir: Workdir::new()?,
            general: OnceLock::new(),
        })
    }
}

impl Mapper {
    /// Whether the mapper understands singer-sdk `stream_maps` (default no). With it,
    /// `mapper.alias.*` run with `{"stream_maps": {"<stream>": {"__alias__": "renamed"}}}`
    /// merged into the base config; without it they are skipped.
    #[must_use]
    pub fn stream_maps(mut self, enabled: bool) -> Self {
        self.suite.stream_maps = enabled;
        self
    }
}

/// What the mapper checks share.
#[doc(hidden)]
pub struct Context {
    pub(crate) mapper: Mapper,
    dir: Workdir,
    general: OnceLock<Result<General, Outcome>>,
}

/// The run on [`general_input`], shared by the output and state checks.
pub(crate) struct General {
    /// The input messages with their 1-based line numbers.
    pub(crate) input: Vec<(usize, Value)>,
    /// The mapper's stdout, parsed strictly.
    pub(crate) output: Output,
}

impl Context {
    /// Runs the mapper on `input` with `config` (written to a fresh file, `{tmpdir}` replaced).
    pub(crate) fn feed(&self, config: &Value, input: Vec<u8>) -> Result<Run, Outcome> {
        let path = self.dir.write("config.json", config)?.file;
        let args = ["--config".into(), path.into_os_string()];
        process::run(
            &self.mapper.program,
            &args,
            Some(Arc::new(input)),
            self.mapper.timeout,
        )
        .map_err(|e| fail(crate::chain(&e)))
    }

    /// Runs the mapper on `input` with its base config.
    pub(crate) fn run_input(&self, input: Vec<u8>) -> Result<Run, Outcome> {
        self.feed(&self.mapper.config, input)
    }

    /// The run on the general input; fails the calling check unless it exited 0.
    pub(crate) fn general(&self) -> Result<&General, Outcome> {
        let general = self
            .general
            .get_or_init(|| {
                let input = general_input();
                let run = self.run_input(input.clone())?;
                Ok(General {
                    input: messages(&input),
                    output: Output::parse(run),
                })
            })
            .as_ref()
            .map_err(Outcome::clone)?;
        if general.output.run.success() {
            Ok(general)
        } else {
            Err(fail(format!(
                "the mapper failed on a plain two-stream input: {}",
                general.output.run.describe()
            )))
        }
    }
}

/// The messages of `input`, one per non-blank line that parses, with 1-based line numbers.
pub(crate) fn messages(input: &[u8]) -> Vec<(usize, Value)> {
    input
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .filter_map(|(i, line)| Some((i + 1, serde_json::from_slice(line).ok()?)))
        .collect()
}

/// The `type` of a message, upper-cased (`""` when it has none).
pub(crate) fn kind(message: &Value) -> String {
    message
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// `RECORD of `stream``, `STATE`, for messages.
pub(crate) fn describe(message: &Value) -> String {
    let kind = kind(message);
    match message.get("stream").and_then(Value::as_str) {
        Some(stream) => format!("{kind} of `{stream}`"),
        None if kind.is_empty() => "a message without `type`".to_owned(),
        None => kind,
    }
}

/// Whether `output` is `input` passed on unchanged (equal as JSON values). One normalisation is
/// accepted: a SCHEMA without `key_properties` (or with `null`) may come out with
/// `"key_properties": []`, the spec's required field made explicit (singer-sdk mappers write it).
pub(crate) fn same_message(input: &Value, output: &Value) -> bool {
    if input == output {
        return true;
    }
    if kind(input) != "SCHEMA" || input.get("key_properties").is_some_and(|k| !k.is_null()) {
        return false;
    }
    match (input.as_object(), output.as_object()) {
        (Some(i), Some(o)) if o.get("key_properties") == Some(&json!([])) => {
            let mut filled = i.clone();
            filled.insert("key_properties".to_owned(), json!([]));
            filled == *o
        }
        _ => false,
    }
}

/// Compares a mapper's stdout, line by line, with the messages it must equal (blank lines are
/// ignored); the error says where and how they first differ. `label` names the expected side
/// (`input`, or `expected` when it is not the input itself).
pub(crate) fn compare_lines(
    expected: &[(usize, Value)],
    stdout: &str,
    label: &str,
) -> Result<(), String> {
    let mut produced = Vec::new();
    for (i, line) in stdout.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(value) => produced.push((i + 1, value)),
            Err(e) => {
                return Err(format!(
                    "output line {} is not JSON ({e}): {}",
                    i + 1,
                    json::excerpt(line)
                ));
            }
        }
    }
    for (k, want) in expected.iter().enumerate() {
        let (line, message) = want;
        let Some((out_line, got)) = produced.get(k) else {
            return Err(format!(
                "the output ends after {} message(s); {label} line {line} ({}) never came out",
                produced.len(),
                describe(message)
            ));
        };
        if !same_message(message, got) {
            let difference = json::first_difference(message, got).unwrap_or_default();
            return Err(format!(
                "output line {out_line} differs from {label} line {line} ({}): {difference} ({label} vs output)",
                describe(message)
            ));
        }
    }
    match produced.get(expected.len()) {
        Some((line, extra)) => Err(format!(
            "output line {line} ({}) has no {label} counterpart: {}",
            describe(extra),
            json::excerpt(&extra.to_string())
        )),
        None => Ok(()),
    }
}

/// The input of the output and state checks: two streams, a SCHEMA re-sent with a new column,
/// ACTIVATE_VERSION, `version` and `time_extracted`, four STATEs with records between them
/// and a RECORD after the last one.
pub(crate) fn general_input() -> Vec<u8> {
    let (a, b) = ("conformance_orders", "conformance_customers");
    let mut schema_a = schema(
        a,
        &json!({
            "name": {"type": ["string", "null"]},
            "updated_at": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "info": {"type": ["object", "null"], "properties": {"mood": {"type": "string"}}}
        }),
    );
    schema_a["bookmark_properties"] = json!(["updated_at"]);
    let mut schema_a2 = schema_a.clone();
    schema_a2["schema"]["properties"]["score"] = json!({"type": ["integer", "null"]});
    let order = |id: i64, name: Value, day: u32| {
        record(
            a,
            json!({"id": id, "name": name, "updated_at": format!("2024-01-{day:02}T10:00:00+00:00"),
                   "tags": ["x", "y"], "info": {"mood": "calm"}}),
        )
    };
    let bookmark = |day: u32, customers: i64| {
        state(json!({"bookmarks": {
            a: {"replication_key": "updated_at", "replication_key_value": format!("2024-01-{day:02}T10:00:00+00:00")},
            b: {"replication_key": "id", "replication_key_value": customers}
        }}))
    };
    let mut first = order(1, json!("Zoë ✓ \"quoted\"\n"), 1);
    first["version"] = json!(1);
    first["time_extracted"] = json!("2024-01-05T00:00:00+00:00");
    let mut fourth = order(4, Value::Null, 4);
    fourth["record"]["score"] = json!(7);
    fourth["record"]["info"] = Value::Null;
    let activate = json!({"type": "ACTIVATE_VERSION", "stream": a, "version": 1});
    lines(&[
        schema_a,
        activate.clone(),
        first,
        order(2, json!("B"), 2),
        bookmark(2, 0),
        schema(b, &json!({"amount": {"type": ["number", "null"]}})),
        record(b, json!({"id": 1, "amount": 12.5})),
        order(3, json!("C"), 3),
        bookmark(3, 1),
        schema_a2,
        fourth,
        record(b, json!({"id": 2, "amount": null})),
        bookmark(4, 2),
        record(b, json!({"id": 3, "amount": 0.001})),
        bookmark(4, 3),
        order(5, json!("E"), 5),
        activate,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_message_accepts_only_explicit_empty_keys() {
        let schema = json!({"type": "SCHEMA", "stream": "s", "schema": {"properties": {}}});
        let mut filled = schema.clone();
        filled["key_properties"] = json!([]);
        assert!(same_message(&schema, &filled));
        filled["key_properties"] = json!(["id"]);
        assert!(!same_message(&schema, &filled));
        let record = json!({"type": "RECORD", "stream": "s", "record": {}});
        let mut changed = record.clone();
        changed["key_properties"] = json!([]);
        assert!(!same_message(&record, &changed));
    }

    #[test]
    fn compare_lines_names_the_first_difference() {
        let input = messages(b"{\"type\":\"RECORD\",\"stream\":\"s\",\"record\":{\"id\":1}}\n\n{\"type\":\"STATE\",\"value\":1}\n");
        assert_eq!(input[1].0, 3);
        let same = "{\"record\":{\"id\":1},\"stream\":\"s\",\"type\":\"RECORD\"}\n{\"type\":\"STATE\",\"value\":1}\n";
        assert_eq!(compare_lines(&input, same, "input"), Ok(()));
        let changed = "{\"type\":\"RECORD\",\"stream\":\"s\",\"record\":{\"id\":\"1\"}}\n{\"type\":\"STATE\",\"value\":1}\n";
        let error = compare_lines(&input, changed, "input").unwrap_err();
        assert!(error.contains("`record.id`"), "{error}");
        let short = "{\"type\":\"RECORD\",\"stream\":\"s\",\"record\":{\"id\":1}}\n";
        assert!(
            compare_lines(&input, short, "input")
                .unwrap_err()
                .contains("input line 3 (STATE)")
        );
    }

    #[test]
    fn general_input_is_valid() {
        let input = general_input();
        let text = String::from_utf8(input.clone()).unwrap();
        assert!(text.lines().all(|l| crate::tap::parse(l).is_ok()));
        assert_eq!(messages(&input).len(), text.lines().count());
    }
}
