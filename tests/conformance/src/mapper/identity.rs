//! Identity: with a config that maps nothing, each singer-sdk scenario a target must accept comes
//! out of the mapper as it went in, line by line, equal as JSON values.

use super::{Context, compare_lines, messages};
use crate::check::{Check, CheckInfo, Verdict, fail};

macro_rules! identity {
    ($($name:literal),* $(,)?) => {
        &[$(
            Check::new(
                concat!("mapper.identity.", $name),
                concat!("with a config that maps nothing, `", $name, ".singer` comes out line for line equal as JSON values (key order aside), and the mapper exits 0"),
                concat!("singer-sdk target test `", $name, ".singer`, which every target accepts: a mapper that is not asked to change anything must not change it (Meltano inserts mappers into existing pipelines)"),
                run,
            ),
        )*]
    };
}

pub(super) const CHECKS: &[Check<Context>] = identity![
    "array_data",
    "camelcase",
    "camelcase_complex_schema",
    "duplicate_records",
    "encoded_string_data",
    "multiple_state_messages",
    "no_primary_keys",
    "no_primary_keys_append",
    "optional_attributes",
    "pk_updates",
    "record_missing_fields",
    "schema_no_properties",
    "schema_updates",
    "special_chars_in_attributes",
    "user_location_data",
    "user_location_upsert_data",
];

/// The content of the embedded scenario file `name`.
pub(super) fn scenario(name: &str) -> Option<&'static str> {
    crate::target::scenarios().find_map(|(n, input)| (n == name).then_some(input))
}

fn run(context: &Context, info: &CheckInfo) -> Verdict {
    let name = info.id.trim_start_matches("mapper.identity.");
    let input = scenario(name).ok_or_else(|| fail(format!("no scenario {name}")))?;
    let run = context.run_input(input.as_bytes().to_vec())?;
    if !run.success() {
        return Err(fail(format!(
            "{name}.singer: expected exit 0, got {}",
            run.describe()
        )));
    }
    compare_lines(&messages(input.as_bytes()), &run.stdout_text(), "input")
        .map_err(|e| fail(format!("{name}.singer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_check_per_scenario_targets_accept() {
        let ids: Vec<&str> = CHECKS
            .iter()
            .map(|c| c.info.id.trim_start_matches("mapper.identity."))
            .collect();
        assert_eq!(ids, crate::target::accepted_scenarios());
    }
}
