//! Incremental replication (Airbyte's two-sequential-reads, slice replay and future-state tests,
//! in Singer terms) and full-refresh repeatability.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::Value;

use super::catalog::incremental_streams;
use super::{Context, Output};
use crate::check::{Check, CheckInfo, Outcome, Verdict, fail, skip};
use crate::json;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "tap.incremental.no-older-records",
        "a second sync with the final STATE of a clean sync returns no record whose replication key is older than that state's bookmark",
        "Singer state semantics (CONFIG_AND_STATE.md): a bookmark means \"everything before it is done\" (Airbyte test_two_sequential_reads)",
        no_older_records,
    ),
    Check::new(
        "tap.incremental.intermediate-monotonic",
        "bookmarks in successive STATE messages never go back, and re-running from intermediate STATEs returns no record older than their bookmark and no more records the later the state",
        "a run can be killed after any STATE; resuming from it must not go backwards (Airbyte test_read_sequential_slices)",
        intermediate_monotonic,
    ),
    Check::new(
        "tap.incremental.future-state",
        "with the final STATE's bookmarks moved to the far future (9999-12-31), incremental streams return no records",
        "a bookmark past all data must yield nothing, not a full resync (Airbyte test_state_with_abnormally_large_values)",
        future_state,
    ),
    Check::new(
        "tap.full-refresh.repeatable",
        "two clean syncs return the same records per stream (order, `time_extracted` and `_sdc_*` columns ignored)",
        "full-refresh output must be deterministic so reloads are idempotent (Airbyte test_sequential_reads)",
        repeatable,
    ),
];

/// A stream's bookmark in a state: singer-sdk's `replication_key_value` (the lowest across
/// `partitions`), else singer-python's `bookmarks.<stream>.<replication key>`.
pub(crate) fn bookmark(state: &Value, tap_stream_id: &str, key: &str) -> Option<Value> {
    let stream = state.get("bookmarks")?.get(tap_stream_id)?;
    if let Some(v) = stream.get("replication_key_value").filter(|v| !v.is_null()) {
        return Some(v.clone());
    }
    if let Some(parts) = stream.get("partitions").and_then(Value::as_array) {
        return parts
            .iter()
            .filter_map(|p| p.get("replication_key_value").filter(|v| !v.is_null()))
            .min_by(|a, b| json::compare(a, b).unwrap_or(Ordering::Equal))
            .cloned();
    }
    stream.get(key).filter(|v| !v.is_null()).cloned()
}

/// Each bookmark of a stream with the partition it belongs to (its `context` as JSON; empty
/// for the stream's own bookmark).
fn partition_bookmarks(state: &Value, tap_stream_id: &str, key: &str) -> Vec<(String, Value)> {
    let Some(stream) = state.get("bookmarks").and_then(|b| b.get(tap_stream_id)) else {
        return Vec::new();
    };
    let mut marks: Vec<(String, Value)> = stream
        .get("partitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let mark = p.get("replication_key_value").filter(|v| !v.is_null())?;
            let context = p.get("context").map(Value::to_string).unwrap_or_default();
            Some((context, mark.clone()))
        })
        .collect();
    let own = stream
        .get("replication_key_value")
        .or_else(|| stream.get(key))
        .filter(|v| !v.is_null() && !v.is_object());
    marks.extend(own.map(|v| (String::new(), v.clone())));
    marks
}

/// The first record of `stream` whose `key` is older than `bookmark`: `(line, value)`.
fn older(output: &Output, stream: &str, key: &str, bookmark: &Value) -> Option<(usize, Value)> {
    output.records().find_map(|(n, s, record)| {
        let value = record.get(key)?;
        (s == stream && json::compare(value, bookmark) == Some(Ordering::Less))
            .then(|| (n, value.clone()))
    })
}

/// `(stream name, tap_stream_id, replication key)` of each incremental stream.
type Streams = Vec<(String, String, String)>;

fn setup(context: &Context) -> Result<(Streams, &Output), Outcome> {
    let streams = incremental_streams(context.catalog()?);
    if streams.is_empty() {
        return Err(skip(
            "no stream is replicated incrementally (no replication key in the catalog)",
        ));
    }
    Ok((streams, context.baseline()?))
}

fn no_older_records(context: &Context, _: &CheckInfo) -> Verdict {
    let (streams, baseline) = setup(context)?;
    let Some(state) = baseline.final_state() else {
        return Err(skip("the clean sync emitted no STATE to resume from"));
    };
    let second = context.sync(Some(context.catalog()?), Some(state))?;
    second.require_success("from the final state")?;
    for (name, id, key) in &streams {
        let Some(mark) = bookmark(state, id, key).or_else(|| max_value(baseline, name, key)) else {
            continue;
        };
        if let Some((n, value)) = older(&second, name, key, &mark) {
            return Err(fail(format!(
                "line {n} of the second run: `{name}.{key}` = {value} is older than the bookmark {mark}"
            )));
        }
    }
    Ok(())
}

/// The largest value of `key` among the stream's records (the bookmark a tap would keep).
fn max_value(output: &Output, stream: &str, key: &str) -> Option<Value> {
    output
        .records()
        .filter(|(_, s, _)| *s == stream)
        .filter_map(|(_, _, r)| r.get(key).filter(|v| !v.is_null()))
        .max_by(|a, b| json::compare(a, b).unwrap_or(Ordering::Equal))
        .cloned()
}

fn intermediate_monotonic(context: &Context, _: &CheckInfo) -> Verdict {
    let (streams, baseline) = setup(context)?;
    let states = baseline.states();
    let intermediate = &states[..states.len().saturating_sub(1)];
    if intermediate.is_empty() {
        return Err(skip(
            "the tap emits only a final STATE; nothing to replay from",
        ));
    }
    for (_, id, key) in &streams {
        // Per partition: a partition that appears later may start lower than another.
        let mut previous: HashMap<String, (usize, Value)> = HashMap::new();
        for (n, state) in &states {
            for (partition, mark) in partition_bookmarks(state, id, key) {
                if let Some((m, before)) = previous.get(&partition) {
                    if json::compare(&mark, before) == Some(Ordering::Less) {
                        let which = if partition.is_empty() {
                            String::new()
                        } else {
                            format!(" (partition {partition})")
                        };
                        return Err(fail(format!(
                            "line {n}: bookmark of `{id}`{which} goes back from {before} (line {m}) to {mark}"
                        )));
                    }
                }
                previous.insert(partition, (*n, mark));
            }
        }
    }
    let final_state = states.last().map(|(_, state)| state);
    let step = intermediate.len().div_ceil(3);
    let mut last_counts: Option<(usize, HashMap<String, usize>)> = None;
    for (n, state) in intermediate.iter().step_by(step.max(1)) {
        let replay = context.sync(Some(context.catalog()?), Some(state))?;
        replay.require_success(&format!("from the STATE of line {n}"))?;
        for (name, id, key) in &streams {
            // Records do not say which partition they are of: with partitions still missing
            // from this state, their records may be older than the others' bookmarks.
            let complete = final_state.is_none_or(|last| {
                partition_bookmarks(state, id, key).len()
                    >= partition_bookmarks(last, id, key).len()
            });
            if let Some(mark) = bookmark(state, id, key).filter(|_| complete) {
                if let Some((m, value)) = older(&replay, name, key, &mark) {
                    return Err(fail(format!(
                        "replaying from the STATE of line {n}: line {m} has `{name}.{key}` = {value}, older than its bookmark {mark}"
                    )));
                }
            }
        }
        let counts = replay.counts();
        if let Some((m, earlier)) = &last_counts {
            for (name, _, _) in &streams {
                let (now, before) = (
                    counts.get(name).copied().unwrap_or(0),
                    earlier.get(name).copied().unwrap_or(0),
                );
                if now > before {
                    return Err(fail(format!(
                        "replaying `{name}` from the STATE of line {n} returns {now} records, more than the {before} from the earlier STATE of line {m}"
                    )));
                }
            }
        }
        last_counts = Some((*n, counts));
    }
    Ok(())
}

/// The state with every date, date-time and replication-key number moved to the far future.
pub(crate) fn future(state: &Value, keys: &[&str], replaced: &mut usize) -> Value {
    let bump = |key: &str, value: &Value, replaced: &mut usize| -> Option<Value> {
        match value {
            Value::String(text) if json::iso_lenient(text).is_some() => {
                *replaced += 1;
                Some(if text.len() == 10 {
                    "9999-12-31".into()
                } else if json::rfc3339(text).is_some() {
                    "9999-12-31T23:59:59+00:00".into()
                } else {
                    "9999-12-31T23:59:59".into()
                })
            }
            Value::Number(n) if key == "replication_key_value" || keys.contains(&key) => {
                *replaced += 1;
                Some(if n.is_f64() {
                    9.0e15.into()
                } else {
                    9_007_199_254_740_991_i64.into()
                })
            }
            _ => None,
        }
    };
    match state {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let new = bump(k, v, replaced).unwrap_or_else(|| future(v, keys, replaced));
                    (k.clone(), new)
                })
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| future(v, keys, replaced)).collect())
        }
        other => other.clone(),
    }
}

fn future_state(context: &Context, _: &CheckInfo) -> Verdict {
    let (streams, baseline) = setup(context)?;
    let Some(state) = baseline.final_state() else {
        return Err(skip(
            "the clean sync emitted no STATE to move to the future",
        ));
    };
    let keys: Vec<&str> = streams.iter().map(|(_, _, k)| k.as_str()).collect();
    let mut replaced = 0;
    let far = future(state, &keys, &mut replaced);
    if replaced == 0 {
        return Err(skip(
            "the final STATE holds no date or replication-key value to move",
        ));
    }
    let run = context.sync(Some(context.catalog()?), Some(&far))?;
    run.require_success("from a far-future state")?;
    for (n, stream, record) in run.records() {
        if let Some((_, id, key)) = streams.iter().find(|(name, _, _)| name == stream) {
            let value = record.get(key).cloned().unwrap_or_default();
            let mark =
                bookmark(&far, id, key).map_or_else(|| "9999-12-31".to_owned(), |m| m.to_string());
            return Err(fail(format!(
                "line {n}: RECORD of `{stream}` (`{key}` = {value}) although its bookmark was moved to {mark}"
            )));
        }
    }
    Ok(())
}

fn repeatable(context: &Context, _: &CheckInfo) -> Verdict {
    let first = context.baseline()?;
    let second = context.sync(Some(context.catalog()?), None)?;
    second.require_success("run a second time")?;
    let (mut a, mut b) = (first.record_texts(), second.record_texts());
    let mut names: Vec<String> = a.keys().chain(b.keys()).cloned().collect();
    names.sort();
    names.dedup();
    for name in names {
        let mut left = a.remove(&name).unwrap_or_default();
        let mut right = b.remove(&name).unwrap_or_default();
        left.sort();
        right.sort();
        if left != right {
            let only_first = left.iter().find(|r| !right.contains(r));
            let only_second = right.iter().find(|r| !left.contains(r));
            let detail = match (only_first, only_second) {
                (Some(r), _) => format!("record only in the first run: {}", json::excerpt(r)),
                (None, Some(r)) => format!("record only in the second run: {}", json::excerpt(r)),
                (None, None) => "same records, different multiplicities".to_owned(),
            };
            return Err(fail(format!(
                "stream `{name}`: {} records then {}; {detail}",
                left.len(),
                right.len()
            )));
        }
    }
    Ok(())
}
