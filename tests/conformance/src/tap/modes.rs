//! Run modes singer-sdk taps share: `--test` (one record per stream), `--test=schema` (SCHEMA
//! messages only), and `stream_maps` for a tap that claims the `stream-maps` capability.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Context, Msg, Output};
use crate::check::{Check, CheckInfo, Verdict, fail, skip};
use crate::json;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "tap.test-mode.one-record",
        "a singer-sdk tap run with `--config C --test` exits 0, prints only valid Singer messages and at most one RECORD per stream, or per partition of a partitioned stream (at least one in all when a clean sync has records)",
        "singer-sdk's connection test (`--test`, cli.md): Meltano and users run it to check a config without a full sync",
        one_record,
    ),
    Check::new(
        "tap.test-mode.schema-only",
        "a singer-sdk tap run with `--config C --test=schema` exits 0 and prints SCHEMA messages only, one for each discovered stream",
        "singer-sdk's schema test (`--test=schema`): it proves the schemas load without reading any data",
        schema_only,
    ),
    Check::new(
        "tap.stream-maps.alias",
        "a tap whose `--about` claims `stream-maps`, given `stream_maps: {S: {\"__alias__\": \"S_conformance\"}}` for a stream S with records, emits those records under the new name and none under S",
        "singer-sdk's inline stream maps (stream_maps.md): `stream-maps` in the capabilities tells Meltano the tap applies `stream_maps` itself instead of needing a mapper",
        stream_maps_alias,
    ),
];

/// Skips taps that do not present themselves as singer-sdk taps: `--test` is singer-sdk's.
fn sdk_tap(context: &Context) -> Verdict {
    let about = context.about().map_err(|_| {
        skip("`--about` does not work; `--test` is a singer-sdk flag, expected only of taps that describe themselves")
    })?;
    let declares_test = super::capabilities(about).contains(&"test");
    if declares_test || about.get("sdk_version").is_some_and(|v| !v.is_null()) {
        Ok(())
    } else {
        Err(skip(
            "`--about` has no `sdk_version` and no `test` capability: not a singer-sdk tap",
        ))
    }
}

fn test_run(context: &Context, mode: &str) -> Result<Output, crate::check::Outcome> {
    let config = context.file("config.json", &context.tap.config)?;
    let output = Output::parse(context.run(&["--config".into(), config.into(), mode.into()])?);
    if !output.run.success() {
        return Err(fail(format!("`{mode}` failed: {}", output.run.describe())));
    }
    if let Some(line) = output.lines.iter().find(|l| l.parsed.is_err()) {
        return Err(fail(format!(
            "`{mode}`, line {}: {}: {}",
            line.number,
            line.parsed.as_ref().err().map_or("", String::as_str),
            json::excerpt(&line.text)
        )));
    }
    Ok(output)
}

fn one_record(context: &Context, _: &CheckInfo) -> Verdict {
    sdk_tap(context)?;
    let output = test_run(context, "--test")?;
    // One per stream, or per partition of a partitioned stream (its bookmark's `partitions`).
    let partitions = |stream: &str| {
        output
            .final_state()
            .and_then(|s| s["bookmarks"][stream]["partitions"].as_array())
            .map_or(1, |p| p.len().max(1))
    };
    if let Some((stream, n)) = output
        .counts()
        .into_iter()
        .find(|(stream, n)| *n > partitions(stream))
    {
        return Err(fail(format!(
            "`--test` emitted {n} RECORDs of `{stream}`; it syncs at most one per stream (or per partition of its state)"
        )));
    }
    let clean_has_records = context
        .baseline()
        .is_ok_and(|b| b.records().next().is_some());
    if clean_has_records && output.records().next().is_none() {
        return Err(fail(
            "`--test` emitted no RECORD, although a clean sync has records",
        ));
    }
    output.schema_before_record()
}

fn schema_only(context: &Context, _: &CheckInfo) -> Verdict {
    sdk_tap(context)?;
    let output = test_run(context, "--test=schema")?;
    let mut streams = BTreeSet::new();
    for (n, message) in output.messages() {
        match message {
            Msg::Schema { stream, .. } => {
                streams.insert(stream.as_str());
            }
            _ => {
                let text = output.lines.get(n - 1).map_or("", |l| l.text.as_str());
                return Err(fail(format!(
                    "`--test=schema`, line {n}: not a SCHEMA message: {}",
                    json::excerpt(text)
                )));
            }
        }
    }
    if streams.is_empty() {
        return Err(fail("`--test=schema` printed no SCHEMA message"));
    }
    if let Ok(catalog) = context.catalog() {
        if let Some(missing) = catalog
            .streams
            .iter()
            .map(|e| e.stream_name())
            .find(|name| !streams.contains(name))
        {
            return Err(fail(format!(
                "`--test=schema` printed no SCHEMA of discovered stream `{missing}`"
            )));
        }
    }
    Ok(())
}

fn stream_maps_alias(context: &Context, _: &CheckInfo) -> Verdict {
    let about = context.about().map_err(|_| {
        skip("`--about` does not work, so the tap claims no `stream-maps` capability")
    })?;
    if !super::capabilities(about).contains(&"stream-maps") {
        return Err(skip(
            "`--about` does not claim the `stream-maps` capability",
        ));
    }
    let baseline = context.baseline()?;
    let counts = baseline.counts();
    let Some((stream, count)) = counts.iter().min_by_key(|(name, _)| name.as_str()) else {
        return Err(skip("a clean sync has no records to map"));
    };
    let alias = format!("{stream}_conformance");
    let mut config = context.tap.config.clone();
    let Value::Object(map) = &mut config else {
        return Err(fail("the config given to the harness is not a JSON object"));
    };
    map.insert(
        "stream_maps".to_owned(),
        json!({stream.as_str(): {"__alias__": alias}}),
    );
    let catalog = serde_json::to_value(context.catalog()?).unwrap_or_default();
    let args = vec![
        "--config".into(),
        context.file("stream-maps-config.json", &config)?.into(),
        "--catalog".into(),
        context.file("catalog.json", &catalog)?.into(),
    ];
    let output = Output::parse(context.run(&args)?);
    output.require_success("with `stream_maps` aliasing a stream")?;
    let mapped = output.counts();
    let renamed = mapped.get(&alias).copied().unwrap_or_default();
    let left = mapped.get(stream).copied().unwrap_or_default();
    if renamed != *count || left != 0 {
        return Err(fail(format!(
            "with `stream_maps` {{\"{stream}\": {{\"__alias__\": \"{alias}\"}}}} the tap emitted {renamed} RECORD(s) of `{alias}` and {left} of `{stream}`; expected {count} and 0"
        )));
    }
    Ok(())
}
