//! Edge inputs: a huge line, bytes that are not UTF-8, a line that is not JSON, no input.

use serde_json::{Value, json};

use super::state::{input_states, succeeded};
use super::{Context, lines, record, schema, state};
use crate::check::{Check, CheckInfo, Verdict, fail};

/// Size of the big value in `target.edge.huge-line`.
const HUGE: usize = 16 * 1024 * 1024;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "target.edge.huge-line",
        "a RECORD line of 16 MiB (one string value) loads and the state is relayed",
        "real payloads (documents, blobs) are large; Meltano allows lines up to 50 MiB, so fixed small buffers are a bug",
        huge_line,
    ),
    Check::new(
        "target.edge.invalid-utf8",
        "a RECORD line holding bytes that are not UTF-8 makes the target fail cleanly (non-zero exit, message on stderr, no trace)",
        "Singer messages are UTF-8 JSON; silently loading mangled text corrupts data, crashing hides the line",
        invalid_utf8,
    ),
    Check::new(
        "target.edge.malformed-json",
        "a line that is not JSON makes the target fail cleanly, naming the problem on stderr without a trace",
        "a truncated tap line (killed tap, full disk) must stop the load with a clear message",
        malformed_json,
    ),
    Check::new(
        "target.edge.empty-input",
        "empty stdin: exit 0 and nothing on stdout",
        "a tap with nothing to send is normal; a target must not fail or invent a state (`{}` would overwrite Meltano's)",
        empty_input,
    ),
];

fn huge_line(context: &Context, _: &CheckInfo) -> Verdict {
    let input = huge_input();
    let run = context.run_input(input.clone())?;
    succeeded(&run, &input, "a 16 MiB RECORD line")
}

/// SCHEMA, one RECORD on a 16 MiB line, STATE.
pub(crate) fn huge_input() -> Vec<u8> {
    let s = "conformance_huge";
    lines(&[
        schema(s, &json!({"blob": {"type": "string"}})),
        record(s, json!({"id": 1, "blob": "x".repeat(HUGE)})),
        state(json!({"bookmarks": {s: 1}})),
    ])
}

/// SCHEMA + RECORD, then `bad`, then another RECORD and a STATE.
pub(crate) fn with_bad_line(stream: &str, bad: &[u8]) -> Vec<u8> {
    let mut input = lines(&[
        schema(stream, &json!({"name": {"type": ["string", "null"]}})),
        record(stream, json!({"id": 1, "name": "ok"})),
    ]);
    input.extend_from_slice(bad);
    input.push(b'\n');
    input.extend(lines(&[
        record(stream, json!({"id": 3, "name": "after"})),
        state(json!({"bookmarks": {stream: 3}})),
    ]));
    input
}

fn fails_cleanly(context: &Context, input: Vec<u8>, what: &str) -> Verdict {
    let states = input_states(&input);
    let run = context.run_input(input)?;
    crate::clean_failure(&run, what, |line| {
        serde_json::from_str::<Value>(line).is_ok_and(|v| states.contains(&v))
    })
}

/// A stream's input with a RECORD line that is not valid UTF-8 in the middle.
pub(crate) fn invalid_utf8_input() -> Vec<u8> {
    let mut bad =
        br#"{"type": "RECORD", "stream": "conformance_utf8", "record": {"id": 2, "name": "caf"#
            .to_vec();
    bad.extend_from_slice(&[0xC3, 0x28, 0xFF]);
    bad.extend_from_slice(br#""}}"#);
    with_bad_line("conformance_utf8", &bad)
}

/// A stream's input with a truncated JSON line in the middle.
pub(crate) fn malformed_json_input() -> Vec<u8> {
    let bad = br#"{"type": "RECORD", "stream": "conformance_bad_json", "record": {"id": 2, "na"#;
    with_bad_line("conformance_bad_json", bad)
}

fn invalid_utf8(context: &Context, _: &CheckInfo) -> Verdict {
    fails_cleanly(context, invalid_utf8_input(), "a line with invalid UTF-8")
}

fn malformed_json(context: &Context, _: &CheckInfo) -> Verdict {
    fails_cleanly(context, malformed_json_input(), "a truncated JSON line")
}

fn empty_input(context: &Context, _: &CheckInfo) -> Verdict {
    expect_nothing(&context.run_input(Vec::new())?)
}

/// Empty input must give a clean exit and empty output.
pub(crate) fn expect_nothing(run: &crate::process::Run) -> Verdict {
    if !run.success() {
        return Err(fail(format!(
            "empty input: expected exit 0, got {}",
            run.describe()
        )));
    }
    match run.stdout_text().lines().find(|l| !l.trim().is_empty()) {
        Some(line) => Err(fail(format!(
            "empty input, yet stdout holds {}",
            crate::json::excerpt(line)
        ))),
        None => Ok(()),
    }
}
