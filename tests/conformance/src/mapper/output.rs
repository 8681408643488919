//! The mapper's stdout on the general input: only Singer messages, each stream's SCHEMA before
//! its RECORDs, records valid against the latest SCHEMA.

use std::collections::HashSet;

use super::Context;
use crate::check::{Check, CheckInfo, Verdict, fail};
use crate::json;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "mapper.output.valid-messages",
        "fed a plain two-stream input, the mapper exits 0 and every stdout line is one JSON object with an upper-case Singer `type` (or a type it was fed) and the fields that type requires",
        "a mapper's stdout is the target's stdin: a log line, a banner or a malformed message there stops the load (Singer spec: stdout carries only messages)",
        valid_messages,
    ),
    Check::new(
        "mapper.output.schema-before-record",
        "in the output, every stream's first RECORD comes after a SCHEMA for that stream",
        "Singer spec ordering rule; a mapper that reorders or renames must still send the SCHEMA first, or targets raise RecordsWithoutSchemaException",
        schema_before_record,
    ),
    Check::new(
        "mapper.output.records-match-schema",
        "every output RECORD validates against the latest output SCHEMA of its stream (structure and types, not formats)",
        "targets create columns from the mapper's SCHEMA and validate records against it; a mapper that changes one without the other breaks the load",
        records_match_schema,
    ),
];

fn valid_messages(context: &Context, _: &CheckInfo) -> Verdict {
    let general = context.general()?;
    let fed: HashSet<&str> = general
        .input
        .iter()
        .filter_map(|(_, m)| m.get("type")?.as_str())
        .collect();
    let bad: Vec<_> = general
        .output
        .lines
        .iter()
        .filter(|l| match &l.parsed {
            Ok(_) => false,
            // A message type the mapper was fed and passed on is not its fault.
            Err(_) => serde_json::from_str::<serde_json::Value>(&l.text)
                .ok()
                .and_then(|v| v.get("type")?.as_str().map(str::to_owned))
                .is_none_or(|t| !fed.contains(t.as_str()) || is_known(&t)),
        })
        .collect();
    match bad.first() {
        None => Ok(()),
        Some(line) => Err(fail(format!(
            "output line {}: {} ({} bad line(s)): {}",
            line.number,
            line.parsed.as_ref().err().map_or("", String::as_str),
            bad.len(),
            json::excerpt(&line.text)
        ))),
    }
}

/// A Singer message type, whose fields the strict parser checks.
fn is_known(kind: &str) -> bool {
    ["SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION", "BATCH"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(kind))
}

fn schema_before_record(context: &Context, _: &CheckInfo) -> Verdict {
    context
        .general()?
        .output
        .schema_before_record()
        .map_err(|e| fail(format!("output {}", e.message().unwrap_or_default())))
}

fn records_match_schema(context: &Context, _: &CheckInfo) -> Verdict {
    context
        .general()?
        .output
        .records_match_schema()
        .map_err(|e| fail(format!("output {}", e.message().unwrap_or_default())))
}
