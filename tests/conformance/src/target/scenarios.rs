//! singer-sdk's target test streams, each fed to a fresh target with the outcome singer-sdk
//! expects. The files are byte-for-byte copies of meltano/sdk
//! `singer_sdk/testing/target_test_streams/` (Apache-2.0), in `scenarios/`.

use serde_json::Value;

use super::Context;
use super::state::{input_states, succeeded};
use crate::check::{Check, CheckInfo, Verdict, fail};

/// What singer-sdk expects of a target fed a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Exit 0, states relayed.
    Succeed,
    /// A clean failure.
    Fail,
    /// A clean failure when the target validates records (`validate-records`), else either.
    FailIfValidating,
}

struct Scenario {
    id: &'static str,
    input: &'static str,
    expect: Expect,
    why: &'static str,
}

macro_rules! scenario {
    ($name:literal, $expect:ident, $why:literal) => {
        Scenario {
            id: concat!("target.scenario.", $name),
            input: include_str!(concat!("../../scenarios/", $name, ".singer")),
            expect: Expect::$expect,
            why: concat!("singer-sdk target test `", $name, ".singer`: ", $why),
        }
    };
}

const SCENARIOS: &[Scenario] = &[
    scenario!("array_data", Succeed, "a column holding arrays of strings"),
    scenario!("camelcase", Succeed, "CamelCase stream and property names"),
    scenario!(
        "camelcase_complex_schema",
        Succeed,
        "anyOf/nullable date-times and the same SCHEMA sent twice"
    ),
    scenario!(
        "duplicate_records",
        Succeed,
        "the same key repeated with new values (at-least-once input)"
    ),
    scenario!(
        "encoded_string_data",
        Succeed,
        "Unicode, escapes and control characters in values, objects and arrays"
    ),
    scenario!(
        "invalid_schema",
        Fail,
        "a SCHEMA without `properties` must be rejected (singer-sdk target__invalid_schema)"
    ),
    scenario!(
        "multiple_state_messages",
        Succeed,
        "five checkpoints across two interleaved streams"
    ),
    scenario!("no_primary_keys", Succeed, "`key_properties: []`"),
    scenario!(
        "no_primary_keys_append",
        Succeed,
        "a key-less stream loaded again (append)"
    ),
    scenario!(
        "optional_attributes",
        Succeed,
        "optional properties absent from some records"
    ),
    scenario!(
        "pk_updates",
        Succeed,
        "a SCHEMA re-sent with a different key"
    ),
    scenario!(
        "record_before_schema",
        Fail,
        "a RECORD before its SCHEMA must be rejected (RecordsWithoutSchemaException)"
    ),
    scenario!(
        "record_missing_fields",
        Succeed,
        "an optional field missing; the final STATE is `{}`"
    ),
    scenario!(
        "record_missing_key_property",
        Fail,
        "a RECORD without its key property must be rejected (MissingKeyPropertiesError)"
    ),
    scenario!(
        "record_missing_required_property",
        FailIfValidating,
        "a RECORD missing a `required` property: rejected by targets that validate records"
    ),
    scenario!(
        "schema_no_properties",
        Succeed,
        "object columns with and without nested `properties`"
    ),
    scenario!(
        "schema_updates",
        Succeed,
        "four SCHEMA messages adding columns mid-stream"
    ),
    scenario!(
        "special_chars_in_attributes",
        Succeed,
        "`:`, `!`, `?` in stream and property names"
    ),
    scenario!(
        "user_location_data",
        Succeed,
        "three related streams, one with a nested object"
    ),
    scenario!(
        "user_location_upsert_data",
        Succeed,
        "the related streams with overlapping keys (upserts)"
    ),
];

/// The scenario files: `(name, content)`, e.g. `("array_data", "{\"type\": \"SCHEMA\"...")`.
pub fn scenarios() -> impl Iterator<Item = (&'static str, &'static str)> {
    SCENARIOS.iter().map(|s| (name(s.id), s.input))
}

/// The names of the scenarios a target must accept (for the mapper suite's own test).
#[cfg(test)]
pub(crate) fn accepted() -> Vec<&'static str> {
    SCENARIOS
        .iter()
        .filter(|s| s.expect == Expect::Succeed)
        .map(|s| name(s.id))
        .collect()
}

fn name(id: &str) -> &str {
    id.trim_start_matches("target.scenario.")
}

/// One check per scenario.
pub(super) fn checks() -> Vec<Check<Context>> {
    SCENARIOS
        .iter()
        .map(|s| {
            let what = match s.expect {
                Expect::Succeed => "exits 0, stdout holds only input state values in order, ending with the last",
                Expect::Fail => "fails cleanly: non-zero exit, a message on stderr, no crash trace, no stdout but input states",
                Expect::FailIfValidating => "fails cleanly if the target declares `validate-records`; otherwise may succeed (states relayed) or fail cleanly",
            };
            Check::new(s.id, what, s.why, run)
        })
        .collect()
}

fn run(context: &Context, info: &CheckInfo) -> Verdict {
    let Some(scenario) = SCENARIOS.iter().find(|s| s.id == info.id) else {
        return Err(fail(format!("no scenario {}", info.id)));
    };
    let what = format!("{}.singer", name(scenario.id));
    let input = scenario.input.as_bytes().to_vec();
    let run = context.run_input(input.clone())?;
    let states = input_states(&input);
    let from_input =
        |line: &str| serde_json::from_str::<Value>(line).is_ok_and(|v| states.contains(&v));
    match scenario.expect {
        Expect::Succeed => succeeded(&run, &input, &what),
        Expect::Fail => crate::clean_failure(&run, &format!("{what} must be rejected"), from_input),
        Expect::FailIfValidating => match context.validates() {
            Some(true) => crate::clean_failure(
                &run,
                &format!("{what} must be rejected by a target declaring `validate-records`"),
                from_input,
            ),
            _ if run.success() => succeeded(&run, &input, &what),
            _ => crate::clean_failure(&run, &what, from_input),
        },
    }
}
