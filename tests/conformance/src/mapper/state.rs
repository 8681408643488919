//! STATE messages through a mapper: unchanged, all of them, in input order, never ahead of the
//! records that preceded them, the last one last.

use std::collections::HashMap;

use serde_json::Value;

use super::{Context, General, describe, kind};
use crate::check::{Check, CheckInfo, Verdict, fail};
use crate::json;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "mapper.state.unchanged",
        "every input STATE message comes out exactly once and unchanged (equal as JSON), and no other STATE comes out",
        "state belongs to the tap: Meltano stores what reaches the target and hands it back to the tap, which must understand it",
        unchanged,
    ),
    Check::new(
        "mapper.state.in-order",
        "STATE messages come out in input order",
        "an older state after a newer one rewinds the bookmark the target relays and Meltano stores",
        in_order,
    ),
    Check::new(
        "mapper.state.after-records",
        "each STATE comes out after every RECORD that preceded it in the input (a STATE never overtakes records)",
        "targets acknowledge a STATE once the records before it are written; a STATE that overtakes records makes them lost if the run dies (Singer spec, RUNNING_AND_DEVELOPING.md)",
        after_records,
    ),
    Check::new(
        "mapper.state.last-relayed",
        "the last STATE out is the last STATE of the input",
        "the last state is the checkpoint the pipeline keeps; losing it means the next run repeats work",
        last_relayed,
    ),
];

fn unchanged(context: &Context, info: &CheckInfo) -> Verdict {
    findings(context, info, |f| f.changed)
}

fn in_order(context: &Context, info: &CheckInfo) -> Verdict {
    findings(context, info, |f| f.order)
}

fn after_records(context: &Context, info: &CheckInfo) -> Verdict {
    findings(context, info, |f| f.overtaken)
}

fn last_relayed(context: &Context, info: &CheckInfo) -> Verdict {
    findings(context, info, |f| f.last)
}

/// What is wrong with the STATEs of a mapper's output; `None` = fine.
#[derive(Debug, Default)]
struct Findings {
    changed: Option<String>,
    order: Option<String>,
    overtaken: Option<String>,
    last: Option<String>,
}

fn findings(context: &Context, _: &CheckInfo, pick: fn(Findings) -> Option<String>) -> Verdict {
    let general = context.general()?;
    match pick(analyze(general)) {
        Some(finding) => Err(fail(finding)),
        None => Ok(()),
    }
}

/// `(stream, record)` of a RECORD, as text for counting.
fn record_key(message: &Value) -> Option<String> {
    (kind(message) == "RECORD").then(|| {
        json::canonical(&serde_json::json!([
            message.get("stream"),
            message.get("record")
        ]))
    })
}

fn analyze(general: &General) -> Findings {
    let input = &general.input;
    let output: Vec<(usize, Value)> = general
        .output
        .lines
        .iter()
        .filter_map(|l| Some((l.number, serde_json::from_str(&l.text).ok()?)))
        .collect();
    let input_states: Vec<(usize, &Value)> = input
        .iter()
        .filter(|(_, m)| kind(m) == "STATE")
        .map(|(n, m)| (*n, m))
        .collect();
    let output_states: Vec<(usize, usize, &Value)> = output
        .iter()
        .enumerate()
        .filter(|(_, (_, m))| kind(m) == "STATE")
        .map(|(position, (n, m))| (position, *n, m))
        .collect();
    let mut findings = Findings::default();

    // Unchanged: each output STATE is an input STATE; as many come out as went in.
    for (k, (_, n, message)) in output_states.iter().enumerate() {
        if input_states.iter().any(|(_, m)| *m == *message) {
            continue;
        }
        let against = input_states.get(k).or(input_states.last());
        let how = against.map_or_else(
            || "the input has no STATE".to_owned(),
            |(line, m)| {
                format!(
                    "vs the STATE of input line {line}: {} (input vs output)",
                    json::first_difference(m, message).unwrap_or_default()
                )
            },
        );
        findings.changed = Some(format!(
            "output line {n}: a STATE that is not an input STATE passed on unchanged; {how}"
        ));
        break;
    }
    if findings.changed.is_none() && input_states.len() != output_states.len() {
        let missing = input_states
            .iter()
            .find(|(_, m)| {
                let inside = input_states.iter().filter(|(_, x)| x == m).count();
                let outside = output_states.iter().filter(|(_, _, x)| x == m).count();
                outside < inside
            })
            .map(|(line, _)| format!("; the STATE of input line {line} is missing"))
            .unwrap_or_default();
        findings.changed = Some(format!(
            "{} STATE message(s) in, {} out{missing}",
            input_states.len(),
            output_states.len()
        ));
    }

    // In order: match each output STATE to the next equal input STATE.
    let mut next = 0usize;
    let mut matched: Vec<(usize, usize, usize)> = Vec::new(); // (output position, line, input line)
    for (position, n, message) in &output_states {
        let found = input_states
            .iter()
            .skip(next)
            .position(|(_, m)| *m == *message);
        match found {
            Some(offset) => {
                next += offset + 1;
                matched.push((*position, *n, input_states[next - 1].0));
            }
            None => {
                if let Some((line, _)) = input_states.iter().find(|(_, m)| *m == *message) {
                    let after = matched.last().map_or(String::new(), |(_, out, input)| {
                        format!(
                            " (output line {out} already carried the STATE of input line {input})"
                        )
                    });
                    findings.order.get_or_insert(format!(
                        "output line {n}: the STATE of input line {line} comes out after a later one{after}"
                    ));
                    matched.push((*position, *n, *line));
                }
            }
        }
    }

    // After records: every RECORD before an input STATE comes out before that STATE does.
    for (position, n, input_line) in &matched {
        let mut available: HashMap<String, usize> = HashMap::new();
        for (_, message) in &output[..*position] {
            if let Some(key) = record_key(message) {
                *available.entry(key).or_default() += 1;
            }
        }
        let overtaken =
            input
                .iter()
                .take_while(|(line, _)| line < input_line)
                .find(|(_, message)| {
                    record_key(message).is_some_and(|key| match available.get_mut(&key) {
                        Some(count) if *count > 0 => {
                            *count -= 1;
                            false
                        }
                        _ => true,
                    })
                });
        if let Some((line, message)) = overtaken {
            findings.overtaken = Some(format!(
                "the STATE of input line {input_line} came out (output line {n}) before input line {line} ({} {}) did",
                describe(message),
                json::excerpt(
                    &message
                        .get("record")
                        .map(Value::to_string)
                        .unwrap_or_default()
                )
            ));
            break;
        }
    }

    // Last relayed.
    if let Some((line, last)) = input_states.last() {
        match output_states.last() {
            Some((_, _, out)) if out == last => {}
            Some((_, n, out)) => {
                let which = input_states
                    .iter()
                    .rev()
                    .find(|(_, m)| m == out)
                    .map_or_else(
                        || {
                            format!(
                                "{} (input vs output)",
                                json::first_difference(last, out).unwrap_or_default()
                            )
                        },
                        |(earlier, _)| format!("it is the STATE of input line {earlier}"),
                    );
                findings.last = Some(format!(
                    "the last STATE out (output line {n}) is not the last input STATE (input line {line}): {which}"
                ));
            }
            None => {
                findings.last = Some(format!(
                    "no STATE came out; the last input STATE (line {line}) was {}",
                    json::excerpt(&last.to_string())
                ));
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapper::{general_input, messages};
    use crate::process::Run;
    use crate::tap::Output;

    fn general(stdout: Vec<u8>) -> General {
        let run = Run {
            status: None,
            stdout,
            stderr: Vec::new(),
            timed_out: false,
            killed: false,
            overflowed: None,
        };
        General {
            input: messages(&general_input()),
            output: Output::parse(run),
        }
    }

    /// The general input with its lines rearranged by `edit`.
    fn edited(edit: impl FnOnce(&mut Vec<&[u8]>)) -> Findings {
        let input = general_input();
        let mut lines: Vec<&[u8]> = input.split(|b| *b == b'\n').collect();
        edit(&mut lines);
        analyze(&general(lines.join(&b'\n')))
    }

    fn states(lines: &[&[u8]]) -> Vec<usize> {
        (0..lines.len())
            .filter(|i| lines[*i].starts_with(b"{\"type\":\"STATE\""))
            .collect()
    }

    #[test]
    fn identity_has_no_findings() {
        let f = edited(|_| {});
        assert!(
            f.changed.is_none() && f.order.is_none() && f.overtaken.is_none() && f.last.is_none(),
            "{f:?}"
        );
    }

    #[test]
    fn each_fault_is_found() {
        let f = edited(|lines| {
            let s = states(lines);
            lines.swap(s[0], s[1]);
        });
        assert!(f.order.is_some() && f.changed.is_none(), "{f:?}");
        let f = edited(|lines| {
            let s = states(lines);
            lines.remove(s[s.len() - 1]);
        });
        assert!(f.last.is_some() && f.changed.is_some(), "{f:?}");
        let f = edited(|lines| {
            let s = states(lines);
            let state = lines.remove(s[1]);
            lines.insert(0, state);
        });
        assert!(f.overtaken.is_some(), "{f:?}");
        let f = edited(|lines| {
            let s = states(lines);
            lines[s[0]] = b"{\"type\":\"STATE\",\"value\":{\"other\":1}}";
        });
        assert!(f.changed.is_some(), "{f:?}");
    }
}
