//! A clean sync: stdout purity, ordering, records against schemas, keys, dates, final state.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{Context, Msg, Output};
use crate::check::{Check, CheckInfo, Verdict, fail, skip};
use crate::json;

/// Meltano's default limit on one line of tap output (meltano-contract.md §7).
pub(crate) const MAX_LINE_BYTES: usize = 50 * 1024 * 1024;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "tap.sync.exit-success",
        "a sync with every stream selected exits 0 before the deadline",
        "Singer spec: exit 0 on success; Meltano fails the pipeline on a non-zero tap exit",
        exit_success,
    ),
    Check::new(
        "tap.sync.valid-messages",
        "every stdout line is one JSON object with an upper-case Singer `type` and the fields that type requires (SCHEMA: stream, schema, key_properties; RECORD: stream, record; STATE: value)",
        "Singer spec: stdout carries only messages, one per line; logs and banners belong on stderr",
        valid_messages,
    ),
    Check::new(
        "tap.sync.schema-before-record",
        "every stream's first RECORD comes after a SCHEMA for that stream",
        "Singer spec ordering rule; singer-sdk targets raise RecordsWithoutSchemaException",
        schema_before_record,
    ),
    Check::new(
        "tap.sync.returns-records",
        "every selected stream emits at least one RECORD",
        "singer-sdk `returns_record` test; the other checks prove nothing about a stream with no data",
        returns_records,
    ),
    Check::new(
        "tap.sync.records-match-schema",
        "every RECORD validates against the latest SCHEMA of its stream (structure and types; formats are checked separately)",
        "Singer spec (taps own schema compatibility); targets validate records and create columns from the schema",
        records_match_schema,
    ),
    Check::new(
        "tap.sync.keys-non-null",
        "every RECORD has a non-null value for each of its stream's key properties",
        "targets build primary keys from them (singer-sdk `primary_keys` test; MissingKeyPropertiesError)",
        keys_non_null,
    ),
    Check::new(
        "tap.sync.keys-unique",
        "within one clean sync, no two RECORDs of a stream share the same key values",
        "duplicate keys in one run mean lost or double-counted rows (singer-sdk's own check for this is a no-op)",
        keys_unique,
    ),
    Check::new(
        "tap.sync.datetime-rfc3339",
        "values of `format: date-time` properties (at any depth) are RFC 3339 timestamps with `T` and an offset",
        "Singer best practice (RFC 3339, UTC preferred); targets parse them into timestamp columns",
        datetime_rfc3339,
    ),
    Check::new(
        "tap.sync.time-extracted",
        "every `time_extracted` is an RFC 3339 timestamp string",
        "Singer spec; singer-python and singer-sdk serialise it as RFC 3339 and targets map it to `_sdc_extracted_at`",
        time_extracted,
    ),
    Check::new(
        "tap.sync.final-state",
        "the sync ends with a STATE whose value is a JSON object (skipped if the tap emits no STATE and does not declare the `state` capability)",
        "Meltano stores the last state and hands it back with --state; a non-object cannot be merged",
        final_state,
    ),
    Check::new(
        "tap.sync.no-nan",
        "no line contains NaN or Infinity outside strings",
        "they are not JSON: singer-python serialises with allow_nan=False and strict readers reject the line",
        no_nan,
    ),
    Check::new(
        "tap.sync.line-size",
        "every stdout line is under 50 MiB",
        "Meltano's default line-length limit; longer lines abort the pipeline (meltano-contract.md §7)",
        line_size,
    ),
];

fn exit_success(context: &Context, _: &CheckInfo) -> Verdict {
    let output = context.baseline_raw()?;
    if output.run.success() {
        Ok(())
    } else {
        Err(fail(format!("the sync failed: {}", output.run.describe())))
    }
}

fn valid_messages(context: &Context, _: &CheckInfo) -> Verdict {
    let output = context.baseline_raw()?;
    let bad: Vec<_> = output.lines.iter().filter(|l| l.parsed.is_err()).collect();
    match bad.first() {
        None => Ok(()),
        Some(line) => Err(fail(format!(
            "line {}: {} ({} bad line(s)): {}",
            line.number,
            line.parsed.as_ref().err().map_or("", String::as_str),
            bad.len(),
            json::excerpt(&line.text)
        ))),
    }
}

fn schema_before_record(context: &Context, _: &CheckInfo) -> Verdict {
    context.baseline()?.schema_before_record()
}

fn returns_records(context: &Context, _: &CheckInfo) -> Verdict {
    let counts = context.baseline()?.counts();
    let empty: Vec<String> = context
        .catalog()?
        .streams
        .iter()
        .filter(|e| e.is_selected())
        .filter(|e| !counts.contains_key(e.stream_name()))
        .map(|e| {
            let name = e.stream_name();
            // A common slip: messages named by `tap_stream_id` where the catalog's `stream`
            // differs. Targets and Meltano key tables and state by the message's name.
            if name != e.tap_stream_id && counts.contains_key(&e.tap_stream_id) {
                format!(
                    "{name} (its RECORDs name it by its tap_stream_id `{}`; messages must use the catalog's `stream`)",
                    e.tap_stream_id
                )
            } else {
                name.to_owned()
            }
        })
        .collect();
    if empty.is_empty() {
        Ok(())
    } else {
        Err(fail(format!(
            "selected stream(s) with no RECORD: {}",
            empty.join(", ")
        )))
    }
}

/// Calls `visit(line, stream, record, schema, key_properties)` for every RECORD, with the
/// latest SCHEMA of its stream; stops at the first `Err`.
pub(super) fn each_record<F>(output: &Output, mut visit: F) -> Verdict
where
    F: FnMut(usize, &str, &Map<String, Value>, &Value, &[String]) -> Verdict,
{
    let mut schemas: HashMap<&str, (&Value, &[String])> = HashMap::new();
    for (n, message) in output.messages() {
        match message {
            Msg::Schema {
                stream,
                schema,
                key_properties,
            } => {
                schemas.insert(stream, (schema, key_properties));
            }
            Msg::Record { stream, record, .. } => {
                if let Some((schema, keys)) = schemas.get(stream.as_str()) {
                    visit(n, stream, record, schema, keys)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn records_match_schema(context: &Context, _: &CheckInfo) -> Verdict {
    context.baseline()?.records_match_schema()
}

fn keys_non_null(context: &Context, _: &CheckInfo) -> Verdict {
    each_record(context.baseline()?, |n, stream, record, _, keys| match keys
        .iter()
        .find(|k| record.get(*k).is_none_or(Value::is_null))
    {
        Some(key) => Err(fail(format!(
            "line {n}: RECORD of `{stream}` has no value for key property `{key}`"
        ))),
        None => Ok(()),
    })
}

fn keys_unique(context: &Context, _: &CheckInfo) -> Verdict {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    each_record(context.baseline()?, |n, stream, record, _, keys| {
        if keys.is_empty() {
            return Ok(());
        }
        let key: Vec<Value> = keys
            .iter()
            .map(|k| record.get(k).cloned().unwrap_or_default())
            .collect();
        let text = json::canonical(&Value::Array(key));
        match seen.insert((stream.to_owned(), text.clone()), n) {
            Some(first) => Err(fail(format!(
                "line {n}: RECORD of `{stream}` repeats key {text} of line {first}"
            ))),
            None => Ok(()),
        }
    })
}

fn datetime_rfc3339(context: &Context, _: &CheckInfo) -> Verdict {
    fn walk(schema: &Value, value: &Value, path: &str) -> Option<String> {
        match value {
            Value::String(text) if json::format(schema) == Some("date-time") => {
                (json::rfc3339(text).is_none()).then(|| format!("`{path}` = {text:?}"))
            }
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                let child = schema.get("properties")?.get(k)?;
                walk(child, v, &format!("{path}.{k}"))
            }),
            Value::Array(items) => {
                let child = schema.get("items")?;
                items
                    .iter()
                    .find_map(|v| walk(child, v, &format!("{path}[]")))
            }
            _ => None,
        }
    }
    each_record(
        context.baseline()?,
        |n, stream, record, schema, _| match walk(schema, &Value::Object(record.clone()), stream) {
            Some(bad) => Err(fail(format!(
                "line {n}: {bad} is not an RFC 3339 date-time"
            ))),
            None => Ok(()),
        },
    )
}

fn time_extracted(context: &Context, _: &CheckInfo) -> Verdict {
    for (n, message) in context.baseline()?.messages() {
        if let Msg::Record {
            stream,
            time_extracted: Some(value),
            ..
        } = message
        {
            if value.as_str().is_none_or(|t| json::rfc3339(t).is_none()) {
                return Err(fail(format!(
                    "line {n}: RECORD of `{stream}` has time_extracted {value}, not RFC 3339"
                )));
            }
        }
    }
    Ok(())
}

fn final_state(context: &Context, _: &CheckInfo) -> Verdict {
    let output = context.baseline()?;
    match output.states().last() {
        Some((_, Value::Object(_))) => Ok(()),
        Some((n, value)) => Err(fail(format!(
            "line {n}: the final STATE value is {}, not a JSON object",
            json::excerpt(&value.to_string())
        ))),
        None => {
            let declares = context
                .about()
                .ok()
                .and_then(|a| a.get("capabilities"))
                .is_some_and(|c| c.as_array().is_some_and(|c| c.iter().any(|c| c == "state")));
            if declares {
                Err(fail(
                    "no STATE message, although `--about` declares the `state` capability",
                ))
            } else {
                Err(skip("no STATE message and no `state` capability declared"))
            }
        }
    }
}

fn no_nan(context: &Context, _: &CheckInfo) -> Verdict {
    for line in &context.baseline_raw()?.lines {
        if let Some(token) = json::non_finite_token(&line.text) {
            return Err(fail(format!(
                "line {}: `{token}` outside a string: {}",
                line.number,
                json::excerpt(&line.text)
            )));
        }
    }
    Ok(())
}

fn line_size(context: &Context, _: &CheckInfo) -> Verdict {
    for line in &context.baseline_raw()?.lines {
        if line.text.len() >= MAX_LINE_BYTES {
            return Err(fail(format!(
                "line {} is {} bytes, over the 50 MiB limit: {}",
                line.number,
                line.text.len(),
                json::excerpt(&line.text)
            )));
        }
    }
    Ok(())
}
