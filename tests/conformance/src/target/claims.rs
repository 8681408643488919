//! Capabilities a target's `--about` claims, held to its behaviour: `batch` (BATCH messages
//! naming local files load like the same records sent as RECORDs) and `stream-maps` (singer-sdk
//! `stream_maps` in the config are applied before the records are validated and loaded).
//!
//! A black box sees a target's exit code and the states it acknowledges; with a verify hook it
//! also sees the ids loaded into stream `conformance_kill`, so both checks load into that
//! stream: the batch check compares them with a RECORD run's, the stream-maps check makes them
//! come from another property of another stream.

use std::collections::BTreeSet;
use std::io::Write;
use std::ops::RangeInclusive;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use super::kill::{STREAM, loaded};
use super::state::succeeded;
use super::{Context, lines, record, schema, state};
use crate::check::{Check, CheckInfo, Outcome, Verdict, fail, skip};

/// Records of the batch check: the first half in a JSON Lines gzip file, the rest in parquet.
const ROWS: i64 = 20;

/// The stream the stream-maps check sends, aliased to [`STREAM`] by its map.
const MAPPED: &str = "conformance_stream_maps";

/// The `source_id`s of the stream-maps check: the ids its map must load.
const SOURCE_IDS: RangeInclusive<i64> = 101..=110;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "target.batch.honoured",
        "a target whose `--about` claims `batch`, fed a SCHEMA, a BATCH message naming a JSON Lines gzip file, one naming a parquet file (`file://` URLs, 20 records in all) and a STATE, exits 0 and acknowledges the STATE; with a verify hook, the destination then holds the ids it holds after the same records sent as RECORD messages",
        "singer-sdk's BATCH contract (batch.md): `batch` in a target's capabilities tells Meltano it may pass on a tap's BATCH messages; a target that skips them acknowledges state for records it never loaded",
        batch_honoured,
    ),
    Check::new(
        "target.stream-maps.alias",
        "a target whose `--about` claims `stream-maps`, given `stream_maps` that alias stream `conformance_stream_maps` to `conformance_kill`, copy property `source_id` to a new key `id` and remove `source_id` and `dropped` (whose values do not match its SCHEMA), exits 0 and acknowledges the STATE; with a verify hook, `conformance_kill` then holds exactly the `source_id`s as ids",
        "singer-sdk inline stream maps (stream_maps.md): `stream-maps` in a target's capabilities tells Meltano the target applies `stream_maps` itself, before validating and loading, instead of needing a mapper; ignoring them loads data under the wrong names with the columns meant to be removed",
        stream_maps_alias,
    ),
];

/// Skips unless `--about` claims `capability`.
fn claims(context: &Context, capability: &str) -> Verdict {
    match context.claims(capability) {
        Some(true) => Ok(()),
        Some(false) => Err(skip(format!(
            "`--about` does not claim the `{capability}` capability"
        ))),
        None => Err(skip(format!(
            "`--about --format json` gives no capability list, so the target claims no `{capability}`"
        ))),
    }
}

/// Records of [`STREAM`] with these ids.
fn rows(ids: RangeInclusive<i64>) -> Vec<Value> {
    ids.map(|i| json!({"id": i, "payload": format!("row {i}")}))
        .collect()
}

/// Writes a batch file and returns its `file://` URL.
fn batch_file(path: &Path, bytes: &[u8]) -> Result<String, Outcome> {
    std::fs::write(path, bytes)
        .map_err(|e| fail(format!("harness cannot write {}: {e}", path.display())))?;
    url::Url::from_file_path(path)
        .map(String::from)
        .map_err(|()| {
            fail(format!(
                "harness: {} is not an absolute path",
                path.display()
            ))
        })
}

/// JSON Lines, gzip-compressed.
fn gzip_lines(rows: &[Value]) -> Result<Vec<u8>, Outcome> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(&lines(rows))
        .and_then(|()| encoder.finish())
        .map_err(|e| fail(format!("harness cannot compress a batch file: {e}")))
}

fn batch_message(encoding: &Value, url: &str) -> Value {
    json!({"type": "BATCH", "stream": STREAM, "encoding": encoding, "manifest": [url]})
}

fn batch_honoured(context: &Context, _: &CheckInfo) -> Verdict {
    claims(context, "batch")?;
    let half = ROWS / 2;
    let head = schema(STREAM, &json!({"payload": {"type": "string"}}));
    let checkpoint = state(json!({"bookmarks": {STREAM: {"id": ROWS}}}));
    let scratch = context.scratch()?;
    // Beside the destination, not in it: a target may list its directory.
    let files = scratch.dir.with_extension("batch");
    std::fs::create_dir_all(&files)
        .map_err(|e| fail(format!("harness cannot create {}: {e}", files.display())))?;
    let jsonl = batch_file(
        &files.join(format!("{STREAM}-1.json.gz")),
        &gzip_lines(&rows(1..=half))?,
    )?;
    let parquet = crate::tap::parquet_file(&rows(half + 1..=ROWS)).map_err(fail)?;
    let parquet = batch_file(&files.join(format!("{STREAM}-2.parquet")), &parquet)?;
    let input = lines(&[
        head.clone(),
        batch_message(&json!({"format": "jsonl", "compression": "gzip"}), &jsonl),
        batch_message(
            &json!({"format": "parquet", "compression": "none"}),
            &parquet,
        ),
        checkpoint.clone(),
    ]);
    let run = context.feed(&scratch, input.clone())?;
    succeeded(
        &run,
        &input,
        "a BATCH of a JSON Lines gzip file and one of a parquet file",
    )?;
    let Some(verify) = &context.target.suite.verify else {
        return Ok(());
    };
    let plain_scratch = context.scratch()?;
    let mut plain = vec![head];
    plain.extend(rows(1..=ROWS).into_iter().map(|r| record(STREAM, r)));
    plain.push(checkpoint);
    let plain = lines(&plain);
    let run = context.feed(&plain_scratch, plain.clone())?;
    succeeded(&run, &plain, "the same records as RECORD messages")?;
    let want = loaded(context, &plain_scratch, verify)?;
    let got = loaded(context, &scratch, verify).map_err(|outcome| match outcome {
        Outcome::Fail(m) => fail(format!(
            "after the BATCH messages: {m}; after the same records sent as RECORD messages the verify hook finds {}",
            ids(&want)
        )),
        other => other,
    })?;
    if want.is_empty() {
        return Err(fail(format!(
            "the verify hook finds no id in `{STREAM}` after the records were sent as RECORD messages, so the BATCH load cannot be compared with it"
        )));
    }
    let missing: Vec<i64> = want.difference(&got).copied().collect();
    if let Some(&first) = missing.first() {
        let file = if first <= half {
            "the JSON Lines gzip file"
        } else {
            "the parquet file"
        };
        return Err(fail(format!(
            "{} of the {} ids loaded from RECORD messages are not in the destination after the BATCH messages (first missing id {first}, from {file}; the verify hook finds {})",
            missing.len(),
            want.len(),
            ids(&got)
        )));
    }
    if let Some(extra) = got.difference(&want).next() {
        return Err(fail(format!(
            "after the BATCH messages the destination holds id {extra}, which the same records sent as RECORD messages did not load"
        )));
    }
    Ok(())
}

/// `ids 1, 2, 3, … (20 in all)` or `no id`, for messages.
fn ids(ids: &BTreeSet<i64>) -> String {
    if ids.is_empty() {
        return "no id".to_owned();
    }
    let shown: Vec<String> = ids.iter().take(5).map(i64::to_string).collect();
    let more = if ids.len() > 5 { ", …" } else { "" };
    format!("ids {}{more} ({} in all)", shown.join(", "), ids.len())
}

/// The stream-maps check's input: `source_id` keys, `dropped` values that break its schema.
fn mapped_input() -> Vec<u8> {
    let mut messages = vec![json!({
        "type": "SCHEMA", "stream": MAPPED, "key_properties": ["source_id"],
        "schema": {"type": "object", "properties": {
            "source_id": {"type": "integer"},
            "payload": {"type": "string"},
            "dropped": {"type": "integer"}
        }}
    })];
    messages.extend(SOURCE_IDS.map(|i| {
        record(
            MAPPED,
            json!({"source_id": i, "payload": format!("row {i}"), "dropped": "not an integer"}),
        )
    }));
    messages.push(state(
        json!({"bookmarks": {MAPPED: {"source_id": SOURCE_IDS.end()}}}),
    ));
    lines(&messages)
}

fn stream_maps_alias(context: &Context, _: &CheckInfo) -> Verdict {
    claims(context, "stream-maps")?;
    let maps = json!({MAPPED: {
        "__alias__": STREAM,
        "__key_properties__": ["id"],
        "id": "source_id",
        "source_id": "__NULL__",
        "dropped": "__NULL__"
    }});
    let mut config = context.target.config.clone();
    let Value::Object(settings) = &mut config else {
        return Err(fail("the config given to the harness is not a JSON object"));
    };
    settings.insert("stream_maps".to_owned(), maps.clone());
    let scratch = context.dir.write("stream-maps-config.json", &config)?;
    let input = mapped_input();
    let run = context.feed(&scratch, input.clone())?;
    let what = format!("with `stream_maps` {maps}");
    if let Err(Outcome::Fail(message)) = succeeded(&run, &input, &what) {
        let hint = if !run.success() && context.validates() == Some(true) {
            " (`dropped` holds strings its SCHEMA types as integers: the map removes it, so a target that applies maps before validating never sees them)"
        } else {
            ""
        };
        return Err(fail(format!("{message}{hint}")));
    }
    let Some(verify) = &context.target.suite.verify else {
        return Ok(());
    };
    let found = loaded(context, &scratch, verify).map_err(|outcome| match outcome {
        Outcome::Fail(m) => fail(format!("after the load {what}: {m}")),
        other => other,
    })?;
    let want: BTreeSet<i64> = SOURCE_IDS.collect();
    if found != want {
        return Err(fail(format!(
            "{what} the verify hook finds {} in `{STREAM}`; expected ids {}–{} (each record's `source_id`, copied to `id`, of stream `{MAPPED}` aliased to `{STREAM}`)",
            ids(&found),
            SOURCE_IDS.start(),
            SOURCE_IDS.end()
        )));
    }
    Ok(())
}
