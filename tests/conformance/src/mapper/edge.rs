//! Inputs a mapper must reject cleanly (a RECORD before its SCHEMA, bytes that are not UTF-8, a
//! line that is not JSON) and inputs it must pass on (nothing, a 16 MiB record).

use super::identity::scenario;
use super::{Context, compare_lines, messages};
use crate::check::{Check, CheckInfo, Verdict, fail};
use crate::target::edge;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "mapper.edge.record-before-schema",
        "singer-sdk's `record_before_schema.singer` (a RECORD before any SCHEMA of its stream) makes the mapper fail cleanly: non-zero exit, a message on stderr, no crash trace, only Singer messages on stdout",
        "Singer spec ordering rule: a mapper cannot map a record whose schema it has not seen, and passing it on only moves the failure to the target (RecordsWithoutSchemaException)",
        record_before_schema,
    ),
    Check::new(
        "mapper.edge.invalid-utf8",
        "a RECORD line holding bytes that are not UTF-8 makes the mapper fail cleanly (non-zero exit, message on stderr, no trace)",
        "Singer messages are UTF-8 JSON; silently passing on mangled text corrupts data downstream, crashing hides the line",
        invalid_utf8,
    ),
    Check::new(
        "mapper.edge.malformed-json",
        "a line that is not JSON makes the mapper fail cleanly, naming the problem on stderr without a trace",
        "a truncated tap line (killed tap, full disk) must stop the pipeline with a clear message, not be skipped or crash the mapper",
        malformed_json,
    ),
    Check::new(
        "mapper.edge.empty-input",
        "empty stdin: exit 0 and nothing on stdout",
        "a tap with nothing to send is normal; a mapper must not fail or invent messages (an invented STATE would overwrite Meltano's)",
        empty_input,
    ),
    Check::new(
        "mapper.edge.huge-line",
        "a RECORD line of 16 MiB (one string value) comes out unchanged, followed by its STATE",
        "real payloads (documents, blobs) are large; Meltano allows lines up to 50 MiB, so fixed small buffers in a mapper are a bug",
        huge_line,
    ),
];

/// A clean failure; stdout may hold the Singer messages the mapper passed on before the bad line.
fn fails_cleanly(context: &Context, input: Vec<u8>, what: &str) -> Verdict {
    let run = context.run_input(input)?;
    crate::clean_failure(&run, what, |line| crate::tap::parse(line).is_ok())
}

fn record_before_schema(context: &Context, _: &CheckInfo) -> Verdict {
    let input = scenario("record_before_schema").ok_or_else(|| fail("no scenario"))?;
    fails_cleanly(
        context,
        input.as_bytes().to_vec(),
        "record_before_schema.singer must be rejected",
    )
}

fn invalid_utf8(context: &Context, _: &CheckInfo) -> Verdict {
    fails_cleanly(
        context,
        edge::invalid_utf8_input(),
        "a line with invalid UTF-8",
    )
}

fn malformed_json(context: &Context, _: &CheckInfo) -> Verdict {
    fails_cleanly(
        context,
        edge::malformed_json_input(),
        "a truncated JSON line",
    )
}

fn empty_input(context: &Context, _: &CheckInfo) -> Verdict {
    edge::expect_nothing(&context.run_input(Vec::new())?)
}

fn huge_line(context: &Context, _: &CheckInfo) -> Verdict {
    let input = edge::huge_input();
    let run = context.run_input(input.clone())?;
    if !run.success() {
        return Err(fail(format!(
            "a 16 MiB RECORD line: expected exit 0, got {}",
            run.describe()
        )));
    }
    compare_lines(&messages(&input), &run.stdout_text(), "input")
        .map_err(|e| fail(format!("a 16 MiB RECORD line: {e}")))
}
