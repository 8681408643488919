//! Kill and resume: SIGKILL a sync after some STATE messages, resume from the last one, and
//! require that nothing of a clean run is lost.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::Value;

use super::output::parse;
use super::{Context, Msg, Output};
use crate::check::{Check, CheckInfo, Verdict, fail, skip};
use crate::json;
use crate::process::{Line, Spawned};

pub(super) const CHECKS: &[Check<Context>] = &[Check::new(
    "tap.kill.resume",
    "a sync SIGKILLed right after its k-th STATE (k = half of a clean run's STATEs), then resumed from the last STATE it emitted, together return every record of a clean run (matched by key properties, or whole records without keys)",
    "Singer state contract: jobs can be killed at any moment and emitted state must never lose data (CONFIG_AND_STATE.md; at-least-once delivery)",
    resume,
)];

fn resume(context: &Context, _: &CheckInfo) -> Verdict {
    let baseline = context.baseline()?;
    let total = baseline.states().len();
    if total < 2 {
        return Err(skip(
            "the clean sync emits fewer than two STATE messages; there is no point to interrupt it at",
        ));
    }
    let k = (total / 2).max(1);
    let catalog = context.catalog()?;
    let args = context.sync_args(Some(catalog), None)?;
    let child = Spawned::start(&context.tap.program, &args, false, true)
        .map_err(|e| fail(crate::chain(&e)))?;
    let deadline = Instant::now() + context.tap.timeout;
    let mut seen = 0;
    while seen < k {
        match child.next_line(deadline) {
            Line::Text(bytes) => {
                if matches!(parse(&String::from_utf8_lossy(&bytes)), Ok(Msg::State(_))) {
                    seen += 1;
                }
            }
            Line::End => {
                return Err(skip(format!(
                    "the run ended after {seen} STATE message(s), before the {k}th; nothing to interrupt"
                )));
            }
            Line::Timeout => {
                let run = child.kill();
                return Err(fail(format!(
                    "no {k}th STATE before the deadline (the clean run emits {total}); {}",
                    run.stderr_tail()
                )));
            }
        }
    }
    let killed = Output::parse(child.kill());
    let Some(state) = killed.final_state().cloned() else {
        return Err(fail("the killed run's output holds no STATE"));
    };
    let resumed = context.sync(Some(catalog), Some(&state))?;
    resumed.require_success("resumed from the last STATE of the killed run")?;
    let have: HashMap<String, Vec<String>> = identities(&killed, baseline)
        .into_iter()
        .chain(identities(&resumed, baseline))
        .fold(HashMap::new(), |mut acc, (stream, id, _)| {
            acc.entry(stream).or_default().push(id);
            acc
        });
    for (stream, id, n) in identities(baseline, baseline) {
        if !have.get(&stream).is_some_and(|ids| ids.contains(&id)) {
            return Err(fail(format!(
                "record {} of `{stream}` (line {n} of a clean run) is in neither the run killed after STATE #{k} nor the run resumed from its state {}",
                json::excerpt(&id),
                json::excerpt(&state.to_string())
            )));
        }
    }
    Ok(())
}

/// `(stream, identity, line)` of each record: its key values when the clean run's SCHEMA has
/// key properties, else the whole record without `_sdc_*` columns.
fn identities(output: &Output, reference: &Output) -> Vec<(String, String, usize)> {
    let schemas = reference.schemas();
    output
        .records()
        .map(|(n, stream, record)| {
            let keys = schemas.get(stream).map(|(_, k)| *k).unwrap_or_default();
            let id = if keys.is_empty() {
                json::canonical(&Value::Object(json::without_sdc(record)))
            } else {
                let values = keys
                    .iter()
                    .map(|k| record.get(k).cloned().unwrap_or_default());
                json::canonical(&Value::Array(values.collect()))
            };
            (stream.to_owned(), id, n)
        })
        .collect()
}
