//! State relay: a target's stdout holds bare state values taken from its input, in input order,
//! ending with the last one.

use serde_json::{Value, json};

use super::{Context, lines, record, schema, state};
use crate::check::{Check, CheckInfo, Outcome, Verdict, fail};
use crate::json;
use crate::process::Run;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "target.state.bare-values",
        "every stdout line is a bare JSON state value (not a `{\"type\": \"STATE\", ...}` envelope, not a log line)",
        "Meltano stores each target stdout line as the new state (`tap | target | tail -1 > state.json`); anything else corrupts it",
        bare_values,
    ),
    Check::new(
        "target.state.from-input",
        "every emitted state value equals the value of a STATE message of the input",
        "state is opaque to the target: only the tap's own values can be handed back to it with --state",
        from_input,
    ),
    Check::new(
        "target.state.in-order",
        "emitted states follow the order of the input STATE messages",
        "emitting an older state after a newer one rewinds the bookmark Meltano stores",
        in_order,
    ),
    Check::new(
        "target.state.last-relayed",
        "after a clean end of input, the last stdout line is the value of the last input STATE",
        "the last line is the checkpoint Meltano keeps; missing it means the next run repeats work",
        last_relayed,
    ),
];

fn bare_values(context: &Context, _: &CheckInfo) -> Verdict {
    relay(context, |f| f.bare)
}

fn from_input(context: &Context, _: &CheckInfo) -> Verdict {
    relay(context, |f| f.foreign)
}

fn in_order(context: &Context, _: &CheckInfo) -> Verdict {
    relay(context, |f| f.order)
}

fn last_relayed(context: &Context, _: &CheckInfo) -> Verdict {
    relay(context, |f| f.last)
}

/// What is wrong with a target's stdout relative to the states of its input; `None` = fine.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) bare: Option<String>,
    pub(crate) foreign: Option<String>,
    pub(crate) order: Option<String>,
    pub(crate) last: Option<String>,
}

impl Findings {
    /// The first finding, for checks that want all of them.
    pub(crate) fn first(self) -> Option<String> {
        self.bare.or(self.foreign).or(self.order).or(self.last)
    }
}

/// The values of the STATE messages in `input` (lines that do not parse are skipped).
pub(crate) fn input_states(input: &[u8]) -> Vec<Value> {
    input
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .filter(|m| {
            m.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("STATE"))
        })
        .filter_map(|mut m| m.get_mut("value").map(Value::take))
        .collect()
}

/// Compares stdout with the input states.
pub(crate) fn analyze(stdout: &str, states: &[Value]) -> Findings {
    let mut findings = Findings::default();
    let mut position = 0usize;
    let mut emitted = Vec::new();
    for (i, text) in stdout
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let n = i + 1;
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            findings.bare.get_or_insert(format!(
                "stdout line {n} is not JSON: {}",
                json::excerpt(text)
            ));
            continue;
        };
        if value
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("STATE"))
        {
            findings.bare.get_or_insert(format!(
                "stdout line {n} is a STATE message; targets emit the bare value: {}",
                json::excerpt(text)
            ));
            continue;
        }
        match states.iter().skip(position).position(|s| *s == value) {
            Some(offset) => position += offset,
            None if states.contains(&value) => {
                findings.order.get_or_insert(format!(
                    "stdout line {n} repeats an earlier state after a later one was emitted: {}",
                    json::excerpt(text)
                ));
            }
            None => {
                findings.foreign.get_or_insert(format!(
                    "stdout line {n} is not a state value from the input: {}",
                    json::excerpt(text)
                ));
            }
        }
        emitted.push(value);
    }
    if let Some(last_input) = states.last() {
        let accepted = if *last_input == json!({}) {
            states.iter().rev().find(|s| **s != json!({}))
        } else {
            None
        };
        let ok = emitted
            .last()
            .is_some_and(|e| e == last_input || Some(e) == accepted);
        if !ok {
            findings.last = Some(match emitted.last() {
                Some(e) => format!(
                    "the last stdout state is {}, not the last input STATE {}",
                    json::excerpt(&e.to_string()),
                    json::excerpt(&last_input.to_string())
                ),
                None => format!(
                    "no state on stdout; the last input STATE was {}",
                    json::excerpt(&last_input.to_string())
                ),
            });
        }
    }
    findings
}

/// Checks a successful run: exit 0 and no finding at all.
pub(crate) fn succeeded(run: &Run, input: &[u8], what: &str) -> Verdict {
    if !run.success() {
        return Err(fail(format!(
            "{what}: expected success, got {}",
            run.describe()
        )));
    }
    match analyze(&run.stdout_text(), &input_states(input)).first() {
        Some(finding) => Err(fail(format!("{what}: {finding}"))),
        None => Ok(()),
    }
}

/// The input of the relay checks: two streams, four checkpoints, records between them.
fn relay_input() -> Vec<u8> {
    let (a, b) = ("conformance_state_a", "conformance_state_b");
    let text = json!({"type": "string"});
    let mut messages = vec![schema(a, &json!({"v": text}))];
    for (ids, checkpoint) in [
        (1..=3, json!({"bookmarks": {"a": 3}})),
        (4..=6, json!({"bookmarks": {"a": 6}})),
    ] {
        messages.extend(ids.map(|i| record(a, json!({"id": i, "v": format!("a{i}")}))));
        messages.push(state(checkpoint));
    }
    messages.push(schema(b, &json!({"v": text})));
    messages.extend((1..=3).map(|i| record(b, json!({"id": i, "v": format!("b{i}")}))));
    messages.push(state(json!({"bookmarks": {"a": 6, "b": 3}})));
    messages.push(record(a, json!({"id": 7, "v": "a7"})));
    messages.push(state(json!({"bookmarks": {"a": 7, "b": 3}})));
    lines(&messages)
}

fn relay(context: &Context, pick: fn(Findings) -> Option<String>) -> Verdict {
    let (input, run) = context
        .state_run
        .get_or_init(|| {
            let input = relay_input();
            let run = context.run_input(input.clone())?;
            Ok((input, run))
        })
        .as_ref()
        .map_err(Outcome::clone)?;
    if !run.success() {
        return Err(fail(format!(
            "a plain two-stream load failed: {}",
            run.describe()
        )));
    }
    match pick(analyze(&run.stdout_text(), &input_states(input))) {
        Some(finding) => Err(fail(finding)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings() {
        let states = [json!({"a": 1}), json!({"a": 2}), json!({})];
        assert!(analyze("{\"a\":1}\n{\"a\":2}\n", &states).first().is_none());
        assert!(analyze("{\"a\":2}\n{}\n", &states).first().is_none());
        assert!(analyze("{\"a\":2}\n{\"a\":1}\n", &states).order.is_some());
        assert!(
            analyze("{\"type\":\"STATE\",\"value\":{\"a\":2}}\n", &states)
                .bare
                .is_some()
        );
        assert!(analyze("{\"a\":3}\n{\"a\":2}\n", &states).foreign.is_some());
        assert!(analyze("{\"a\":1}\n", &states).last.is_some());
        assert!(analyze("", &[]).first().is_none());
    }
}
