//! BATCH messages: a tap that claims the `batch` capability, given a singer-sdk `batch_config`,
//! writes its records to files and names them in BATCH messages. The harness reads the files
//! back (local files: `file://` URLs or paths; JSON Lines or parquet, gzip-compressed or not)
//! and checks them like RECORD lines.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use flate2::read::MultiGzDecoder;
use serde_json::{Map, Value, json};

mod columnar;

pub(crate) use columnar::write as parquet_file;

use super::{Context, Msg, Output};
use crate::check::{Check, CheckInfo, Outcome, Verdict, fail, skip};
use crate::json;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "tap.batch.honoured",
        "a tap whose `--about` claims `batch`, given a `batch_config` (JSON Lines, gzip, local storage), exits 0, emits at least one BATCH message, and its BATCH files plus RECORD lines hold the records of a clean sync (a date-time may be spelt another way for the same instant)",
        "singer-sdk's BATCH contract (batch.md): `batch` in the capabilities tells Meltano it may set `batch_config`; a tap that ignores it or loses records breaks the pipeline silently",
        honoured,
    ),
    Check::new(
        "tap.batch.files-decode",
        "every manifest entry of every BATCH message names a file that exists and decodes in the message's encoding (JSON Lines, gzip or not, one JSON object a line; or parquet, gzip or not, every row group readable)",
        "targets open each manifest file (singer-sdk `process_batch_files`); a missing or corrupt file fails the load after the tap reported success",
        files_decode,
    ),
    Check::new(
        "tap.batch.records-match-schema",
        "every record in the BATCH files validates against the latest SCHEMA of its stream before the BATCH message",
        "BATCH records are RECORDs by another route: targets create columns from the SCHEMA and load the files as they are",
        records_match_schema,
    ),
];

/// The encoding the harness asks for: what every singer-sdk version writes and reads.
fn batch_config() -> Value {
    json!({
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": "file://{tmpdir}", "prefix": "conformance-"},
        "batch_size": 4
    })
}

/// The records of one manifest file, or why they cannot be read.
pub(crate) type FileRecords = Result<Vec<Map<String, Value>>, String>;

/// One BATCH message: where it is, its stream, and per manifest entry the decoded records or
/// why they cannot be read.
pub(crate) struct Batch {
    pub(crate) line: usize,
    pub(crate) stream: String,
    pub(crate) files: Vec<(String, FileRecords)>,
}

/// A sync with `batch_config` set, and its BATCH messages read back.
pub(crate) struct BatchRun {
    pub(crate) output: Output,
    pub(crate) batches: Vec<Batch>,
}

/// Skips unless `--about` claims `batch`.
fn claims_batch(context: &Context) -> Verdict {
    let about = context
        .about()
        .map_err(|_| skip("`--about` does not work, so the tap claims no `batch` capability"))?;
    if super::capabilities(about).contains(&"batch") {
        Ok(())
    } else {
        Err(skip("`--about` does not claim the `batch` capability"))
    }
}

/// Runs the sync with `batch_config` and reads every manifest file.
pub(super) fn load(context: &Context) -> Result<BatchRun, Outcome> {
    let mut config = context.tap.config.clone();
    let Value::Object(map) = &mut config else {
        return Err(fail("the config given to the harness is not a JSON object"));
    };
    map.insert("batch_config".to_owned(), batch_config());
    let mut args = vec![
        "--config".into(),
        context.file("batch-config.json", &config)?.into(),
    ];
    let catalog = serde_json::to_value(context.catalog()?).unwrap_or_default();
    args.extend([
        "--catalog".into(),
        context.file("catalog.json", &catalog)?.into(),
    ]);
    let output = Output::parse(context.run(&args)?);
    let batches = output
        .messages()
        .filter_map(|(line, message)| match message {
            Msg::Batch {
                stream,
                encoding,
                manifest,
            } => Some(Batch {
                line,
                stream: stream.clone(),
                files: manifest
                    .iter()
                    .map(|entry| {
                        let name = entry
                            .as_str()
                            .map_or_else(|| entry.to_string(), str::to_owned);
                        let records = match entry.as_str() {
                            Some(entry) => read(entry, encoding),
                            None => Err("the manifest entry is not a string".to_owned()),
                        };
                        (name, records)
                    })
                    .collect(),
            }),
            _ => None,
        })
        .collect();
    Ok(BatchRun { output, batches })
}

/// The local path a manifest entry names: a `file://` URL or a path.
fn local_path(entry: &str) -> Result<PathBuf, String> {
    if entry.starts_with("file:") {
        let url = url::Url::parse(entry).map_err(|e| format!("not a valid file URL ({e})"))?;
        return url
            .to_file_path()
            .map_err(|()| "a file URL without a local path".to_owned());
    }
    if entry.contains("://") {
        return Err("not a local file; the harness reads file:// URLs and paths only".to_owned());
    }
    Ok(PathBuf::from(entry))
}

/// The records of one batch file: a `file://` URL or a path, in `encoding` (a BATCH message's).
pub(crate) fn read(entry: &str, encoding: &Value) -> FileRecords {
    let path = local_path(entry)?;
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read it ({e})"))?;
    // singer-sdk tells compression by the file's first bytes as much as by `compression`.
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut data = Vec::new();
        MultiGzDecoder::new(bytes.as_slice())
            .read_to_end(&mut data)
            .map_err(|e| format!("cannot decode it (corrupt gzip: {e})"))?;
        data
    } else if encoding.get("compression").and_then(Value::as_str) == Some("gzip") {
        return Err("`compression` is gzip but the file is not gzip data".to_owned());
    } else {
        bytes
    };
    match encoding.get("format").and_then(Value::as_str) {
        Some("jsonl") | None => json_lines(&bytes),
        Some("parquet") => columnar::records(bytes),
        Some(other) => Err(format!("unknown encoding format `{other}`")),
    }
}

/// The records of a JSON Lines file.
fn json_lines(bytes: &[u8]) -> FileRecords {
    let mut records = Vec::new();
    for (n, line) in BufReader::new(bytes).lines().enumerate() {
        let line = line.map_err(|e| format!("cannot decode it ({e})"))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(Value::Object(record)) => records.push(record),
            Ok(_) => return Err(format!("line {}: not a JSON object", n + 1)),
            Err(e) => {
                return Err(format!(
                    "line {}: not JSON ({e}): {}",
                    n + 1,
                    json::excerpt(&line)
                ));
            }
        }
    }
    Ok(records)
}

fn honoured(context: &Context, _: &CheckInfo) -> Verdict {
    claims_batch(context)?;
    let baseline = context.baseline()?;
    let run = context.batch_run()?;
    run.output
        .require_success("with `batch_config` set (JSON Lines, gzip, local files)")?;
    if run.batches.is_empty() {
        return Err(fail(
            "`--about` claims `batch`, but a sync with `batch_config` set emits no BATCH message",
        ));
    }
    // One instant may be spelt two ways (`…00+00:00`, `…00.000000+00:00`): both load the same.
    let form = |record: &Map<String, Value>| {
        let record = json::same_instants(&Value::Object(json::without_sdc(record)));
        (json::canonical(&record), record)
    };
    let mut have: HashMap<String, HashSet<String>> = HashMap::new();
    for (_, stream, record) in run.output.records() {
        have.entry(stream.to_owned())
            .or_default()
            .insert(form(record).0);
    }
    let mut batched: HashMap<&str, Vec<Map<String, Value>>> = HashMap::new();
    for batch in &run.batches {
        for (_, records) in &batch.files {
            let Ok(records) = records else {
                continue;
            };
            let texts = have.entry(batch.stream.clone()).or_default();
            let rows = batched.entry(batch.stream.as_str()).or_default();
            for record in records {
                let (text, record) = form(record);
                texts.insert(text);
                if let Value::Object(record) = record {
                    rows.push(record);
                }
            }
        }
    }
    let mut want: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (_, stream, record) in baseline.records() {
        want.entry(stream).or_default().push(form(record).0);
    }
    for (stream, texts) in want {
        let got = have.get(stream);
        if let Some(missing) = texts.iter().find(|t| got.is_none_or(|g| !g.contains(*t))) {
            let nearest = serde_json::from_str(missing)
                .ok()
                .and_then(|record| nearest_difference(&record, batched.get(stream)?));
            return Err(fail(match nearest {
                Some(difference) => format!(
                    "record {} of `{stream}` in a clean sync is in no BATCH file or RECORD of the sync with `batch_config`; the nearest BATCH record differs: {difference}",
                    json::excerpt(missing)
                ),
                None => format!(
                    "record {} of `{stream}` in a clean sync is in no BATCH file or RECORD of the sync with `batch_config`",
                    json::excerpt(missing)
                ),
            }));
        }
    }
    Ok(())
}

/// How the BATCH record most like `record` (the most equal fields, at least half of them)
/// differs from it, field by field, such as a date-time written in another form.
fn nearest_difference(record: &Value, batched: &[Map<String, Value>]) -> Option<String> {
    let record = record.as_object()?;
    let equal = |other: &Map<String, Value>| {
        record
            .iter()
            .filter(|(k, v)| other.get(*k) == Some(*v))
            .count()
    };
    let nearest = batched.iter().max_by_key(|other| equal(other))?;
    if equal(nearest) * 2 < record.len() {
        return None;
    }
    let differences: Vec<String> = record
        .iter()
        .filter(|(k, v)| nearest.get(*k) != Some(*v))
        .map(|(k, v)| {
            let batch = nearest
                .get(k)
                .map_or_else(|| "missing".to_owned(), Value::to_string);
            format!("`{k}` is {batch} in the BATCH file, {v} in the RECORD")
        })
        .chain(
            nearest
                .keys()
                .filter(|k| !record.contains_key(*k))
                .map(|k| format!("`{k}` is only in the BATCH file")),
        )
        .collect();
    (!differences.is_empty()).then(|| differences.join(", "))
}

fn files_decode(context: &Context, _: &CheckInfo) -> Verdict {
    claims_batch(context)?;
    let run = context.batch_run()?;
    if run.batches.is_empty() {
        return Err(skip("the sync with `batch_config` emits no BATCH message"));
    }
    for batch in &run.batches {
        if batch.files.is_empty() {
            return Err(fail(format!(
                "line {}: BATCH of `{}` has an empty manifest",
                batch.line, batch.stream
            )));
        }
        for (name, records) in &batch.files {
            if let Err(why) = records {
                return Err(fail(format!(
                    "line {}: BATCH of `{}`: manifest file {}: {why}",
                    batch.line,
                    batch.stream,
                    json::excerpt(name)
                )));
            }
        }
    }
    Ok(())
}

fn records_match_schema(context: &Context, _: &CheckInfo) -> Verdict {
    claims_batch(context)?;
    let run = context.batch_run()?;
    let mut schemas: HashMap<&str, (usize, jsonschema::Validator)> = HashMap::new();
    let mut batches = run.batches.iter().peekable();
    let mut checked = 0usize;
    for (n, message) in run.output.messages() {
        if let Msg::Schema { stream, schema, .. } = message {
            schemas.insert(stream, (n, super::validator(n, stream, schema)?));
        }
        let Some(batch) = batches.next_if(|b| b.line == n) else {
            continue;
        };
        let Some((schema_line, validator)) = schemas.get(batch.stream.as_str()) else {
            return Err(fail(format!(
                "line {n}: BATCH of `{}` before any SCHEMA of it",
                batch.stream
            )));
        };
        for (name, records) in &batch.files {
            for record in records.iter().flatten() {
                checked += 1;
                if let Some(e) = validator.iter_errors(&Value::Object(record.clone())).next() {
                    return Err(fail(format!(
                        "line {n}: a record in BATCH file {} of `{}` does not match its SCHEMA (line {schema_line}): {e} at `{}`",
                        json::excerpt(name),
                        batch.stream,
                        e.instance_path().as_str()
                    )));
                }
            }
        }
    }
    if checked == 0 {
        return Err(skip("the BATCH files hold no record the harness can read"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::nearest_difference;

    #[test]
    fn the_nearest_batch_record_names_the_fields_that_differ() {
        let record = json!({"id": 1, "name": "a", "updated_at": "2024-01-02T03:04:05+00:00"});
        let batched = [
            json!({"id": 2, "name": "b", "updated_at": "2024-01-02 03:04:05+00:00"}),
            json!({"id": 1, "name": "a", "updated_at": "2024-01-02 03:04:05+00:00", "extra": true}),
        ]
        .map(|v| v.as_object().unwrap().clone());
        assert_eq!(
            nearest_difference(&record, &batched).unwrap(),
            "`updated_at` is \"2024-01-02 03:04:05+00:00\" in the BATCH file, \"2024-01-02T03:04:05+00:00\" in the RECORD, `extra` is only in the BATCH file"
        );
        // Nothing alike: no guess.
        let other = [json!({"id": 9, "name": "z", "updated_at": "x"})
            .as_object()
            .unwrap()
            .clone()];
        assert_eq!(nearest_difference(&record, &other), None);
        assert_eq!(nearest_difference(&record, &[]), None);
    }
}
