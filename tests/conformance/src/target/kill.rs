//! State after commit: kill a target right after it acknowledges a STATE, then resume.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::state::succeeded;
use super::{Context, Scratch, Verify, lines, record, schema, state};
use crate::check::{Check, CheckInfo, Outcome, Verdict, fail, skip};
use crate::process::{self, Line, Spawned};

/// The stream of this check; `Verify` hooks read it.
pub(crate) const STREAM: &str = "conformance_kill";
const FIRST: i64 = 50;
const TOTAL: i64 = 100;

pub(super) const CHECKS: &[Check<Context>] = &[Check::new(
    "target.state.after-commit",
    "fed 50 records and a STATE with stdin kept open, the target acknowledges the STATE, is SIGKILLed, and a rerun with the same config on the next 50 records and a final STATE exits 0 relaying it; with a verify hook, every record before the acknowledged STATE is in the destination after the kill, and all 100 after the rerun",
    "Singer spec (RUNNING_AND_DEVELOPING.md): emit state only after the data before it is durably written, or a crash loses acknowledged data",
    after_commit,
)];

fn batch(ids: std::ops::RangeInclusive<i64>) -> Vec<Value> {
    let mut messages = vec![schema(STREAM, &json!({"payload": {"type": "string"}}))];
    messages.extend(ids.map(|i| record(STREAM, json!({"id": i, "payload": format!("row {i}")}))));
    messages
}

fn after_commit(context: &Context, _: &CheckInfo) -> Verdict {
    let scratch = context.scratch()?;
    let checkpoint = json!({"bookmarks": {STREAM: {"id": FIRST}}});
    let state_line = Arc::new(lines(&[state(checkpoint.clone())]));
    let args = ["--config".into(), scratch.file.clone().into_os_string()];
    let target = &context.target;
    let child =
        Spawned::start(&target.program, &args, true, true).map_err(|e| fail(crate::chain(&e)))?;
    child.send(Arc::new(lines(&batch(1..=FIRST))));
    child.send(state_line.clone());
    // Re-sending the same STATE is harmless and lets targets that acknowledge on the next
    // message after their batch wait (singer-sdk, ours) do so while input stays open.
    let give_up = Instant::now() + target.suite.ack_timeout;
    loop {
        let tick = (Instant::now() + Duration::from_millis(250)).min(give_up);
        match child.next_line(tick) {
            Line::Text(bytes)
                if serde_json::from_slice::<Value>(&bytes).ok() == Some(checkpoint.clone()) =>
            {
                break;
            }
            Line::Text(_) => {}
            Line::Timeout if Instant::now() >= give_up => {
                child.kill();
                return Err(skip(format!(
                    "the target acknowledged no STATE within {} s while its input stayed open (it acknowledges only at end of input), so an interruption cannot be tested",
                    target.suite.ack_timeout.as_secs()
                )));
            }
            Line::Timeout => child.send(state_line.clone()),
            Line::End => {
                let run = child.finish(Instant::now() + target.timeout);
                return Err(fail(format!(
                    "the target closed stdout before end of input, without acknowledging the STATE: {}",
                    run.describe()
                )));
            }
        }
    }
    child.kill();
    if let Some(verify) = &target.suite.verify {
        missing(
            context,
            &scratch,
            verify,
            FIRST,
            "after SIGKILL following the acknowledged STATE",
        )?;
    }
    let mut rest = batch(FIRST + 1..=TOTAL);
    rest.push(state(json!({"bookmarks": {STREAM: {"id": TOTAL}}})));
    let input = lines(&rest);
    let run = context.feed(&scratch, input.clone())?;
    succeeded(&run, &input, "the rerun after SIGKILL")?;
    if let Some(verify) = &target.suite.verify {
        missing(context, &scratch, verify, TOTAL, "after the rerun")?;
    }
    Ok(())
}

/// Fails when ids `1..=upto` are not all loaded.
fn missing(
    context: &Context,
    scratch: &Scratch,
    verify: &Verify,
    upto: i64,
    when: &str,
) -> Verdict {
    let ids = loaded(context, scratch, verify)?;
    let absent: Vec<i64> = (1..=upto).filter(|i| !ids.contains(i)).collect();
    match absent.as_slice() {
        [] => Ok(()),
        [first, ..] => Err(fail(format!(
            "{when}: {} acknowledged record(s) of `{STREAM}` are not in the destination (first missing id {first}; {} loaded)",
            absent.len(),
            ids.len()
        ))),
    }
}

/// The ids the verify hook finds in stream [`STREAM`] of the scratch's destination.
pub(super) fn loaded(
    context: &Context,
    scratch: &Scratch,
    verify: &Verify,
) -> Result<BTreeSet<i64>, Outcome> {
    match verify {
        Verify::Function(f) => f(&scratch.dir)
            .map(|ids| ids.into_iter().collect())
            .map_err(|e| fail(format!("the verify function failed: {e}"))),
        Verify::Command(command) => {
            let dir = scratch.dir.display().to_string();
            let command = command
                .replace("{tmpdir}", &dir)
                .replace("{tmpid}", &crate::tmpid(&scratch.dir));
            let env = [
                ("SINGER_CONFORMANCE_DIR", dir),
                ("SINGER_CONFORMANCE_STREAM", STREAM.to_owned()),
            ];
            let run = process::shell(&command, &env, context.target.timeout)
                .map_err(|e| fail(crate::chain(&e)))?;
            if !run.success() {
                return Err(fail(format!(
                    "the verify command `{command}` failed: {}",
                    run.describe()
                )));
            }
            Ok(parse_ids(&run.stdout_text()))
        }
    }
}

/// Ids from verify output: integer lines, or JSON objects with an integer `id`.
pub(crate) fn parse_ids(text: &str) -> BTreeSet<i64> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            line.parse::<i64>().ok().or_else(|| {
                serde_json::from_str::<Value>(line)
                    .ok()?
                    .get("id")?
                    .as_i64()
            })
        })
        .collect()
}
