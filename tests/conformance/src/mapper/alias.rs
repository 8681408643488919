//! Stream aliasing through singer-sdk `stream_maps` (opt-in: only for mappers that read them).

use serde_json::{Value, json};

use super::identity::scenario;
use super::{Context, compare_lines, kind, messages};
use crate::check::{Check, CheckInfo, Verdict, fail, skip};
use crate::target::lines;

/// The stream renamed, and its new name.
const STREAM: &str = "test_users";
const ALIAS: &str = "renamed";

pub(super) const CHECKS: &[Check<Context>] = &[Check::new(
    "mapper.alias.consistent",
    "with `{\"stream_maps\": {\"test_users\": {\"__alias__\": \"renamed\"}}}` merged into the config, `user_location_data.singer` (plus ACTIVATE_VERSION messages) comes out with `renamed` in every SCHEMA, RECORD and ACTIVATE_VERSION of `test_users` and everything else unchanged (opt-in: `--stream-maps`)",
    "singer-sdk stream maps (`__alias__`): a target routes records by the stream of the latest SCHEMA; a message left under the old name lands in another table or before any SCHEMA",
    consistent,
)];

/// `user_location_data.singer` with ACTIVATE_VERSION messages: after the SCHEMA of the aliased
/// stream and of another one, and at the end.
fn input() -> Option<Vec<Value>> {
    let mut out = Vec::new();
    for (_, message) in messages(scenario("user_location_data")?.as_bytes()) {
        let stream = message
            .get("stream")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let is_schema = kind(&message) == "SCHEMA";
        out.push(message);
        if let (true, Some(stream)) = (is_schema, stream) {
            out.push(json!({"type": "ACTIVATE_VERSION", "stream": stream, "version": 1}));
        }
    }
    out.push(json!({"type": "ACTIVATE_VERSION", "stream": STREAM, "version": 1}));
    Some(out)
}

fn consistent(context: &Context, _: &CheckInfo) -> Verdict {
    if !context.mapper.suite.stream_maps {
        return Err(skip(
            "opt-in: for mappers that read singer-sdk `stream_maps` (pass --stream-maps, or Mapper::stream_maps(true))",
        ));
    }
    let input = input().ok_or_else(|| fail("no scenario user_location_data"))?;
    let mut config = context.mapper.config.clone();
    let Some(settings) = config.as_object_mut() else {
        return Err(fail("the base config is not a JSON object"));
    };
    let maps = settings.entry("stream_maps").or_insert_with(|| json!({}));
    if !maps.is_object() {
        *maps = json!({});
    }
    maps[STREAM] = json!({"__alias__": ALIAS});
    let expected: Vec<(usize, Value)> = input
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let mut message = message.clone();
            let routed = ["SCHEMA", "RECORD", "ACTIVATE_VERSION", "BATCH"]
                .contains(&kind(&message).as_str());
            if routed && message.get("stream") == Some(&json!(STREAM)) {
                message["stream"] = json!(ALIAS);
            }
            (i + 1, message)
        })
        .collect();
    let run = context.feed(&config, lines(&input))?;
    if !run.success() {
        return Err(fail(format!(
            "with `{STREAM}` aliased to `{ALIAS}`: expected exit 0, got {}",
            run.describe()
        )));
    }
    compare_lines(&expected, &run.stdout_text(), "expected").map_err(|e| {
        fail(format!(
            "with `{STREAM}` aliased to `{ALIAS}` (expected: the input with `{STREAM}` renamed): {e}"
        ))
    })
}
