//! Schema evolution in one run: a column added, a type widened, a stream appearing mid-run.

use serde_json::json;

use super::state::succeeded;
use super::{Context, lines, record, schema, state};
use crate::check::{Check, CheckInfo, Verdict};

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "target.evolution.add-column",
        "a stream's SCHEMA re-sent with an extra property mid-run loads and the states are relayed",
        "sources grow columns; Singer allows a new SCHEMA at any time (singer-sdk schema_updates)",
        add_column,
    ),
    Check::new(
        "target.evolution.widen-type",
        "a property re-declared from integer to nullable number mid-run loads, including a fractional value and a null",
        "types widen as sources change; a target must migrate or store the wider type, not crash",
        widen_type,
    ),
    Check::new(
        "target.evolution.new-stream",
        "a SCHEMA for a new stream after RECORDs and STATEs of another loads, and the first stream continues after it",
        "taps interleave streams; a target may not assume all SCHEMAs come first",
        new_stream,
    ),
];

fn add_column(context: &Context, _: &CheckInfo) -> Verdict {
    let s = "conformance_add_column";
    let input = lines(&[
        schema(s, &json!({"a": {"type": ["string", "null"]}})),
        record(s, json!({"id": 1, "a": "x"})),
        state(json!({"bookmarks": {s: 1}})),
        schema(
            s,
            &json!({"a": {"type": ["string", "null"]}, "b": {"type": ["integer", "null"]}}),
        ),
        record(s, json!({"id": 2, "a": "y", "b": 2})),
        record(s, json!({"id": 3, "a": "z"})),
        state(json!({"bookmarks": {s: 3}})),
    ]);
    let run = context.run_input(input.clone())?;
    succeeded(&run, &input, "adding column `b` mid-run")
}

fn widen_type(context: &Context, _: &CheckInfo) -> Verdict {
    let s = "conformance_widen_type";
    let input = lines(&[
        schema(s, &json!({"v": {"type": "integer"}})),
        record(s, json!({"id": 1, "v": 1})),
        state(json!({"bookmarks": {s: 1}})),
        schema(s, &json!({"v": {"type": ["number", "null"]}})),
        record(s, json!({"id": 2, "v": 2.5})),
        record(s, json!({"id": 3, "v": null})),
        state(json!({"bookmarks": {s: 3}})),
    ]);
    let run = context.run_input(input.clone())?;
    succeeded(&run, &input, "widening `v` from integer to number")
}

fn new_stream(context: &Context, _: &CheckInfo) -> Verdict {
    let (a, b) = ("conformance_first_stream", "conformance_late_stream");
    let text = json!({"name": {"type": ["string", "null"]}});
    let input = lines(&[
        schema(a, &text),
        record(a, json!({"id": 1, "name": "a1"})),
        state(json!({"bookmarks": {a: 1}})),
        schema(b, &text),
        record(b, json!({"id": 1, "name": "b1"})),
        record(a, json!({"id": 2, "name": "a2"})),
        state(json!({"bookmarks": {a: 2, b: 1}})),
    ]);
    let run = context.run_input(input.clone())?;
    succeeded(&run, &input, "a stream appearing mid-run")
}
