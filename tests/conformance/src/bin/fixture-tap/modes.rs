//! The fixture's singer-sdk modes, applied to the messages of a sync: `--test` (one RECORD per
//! stream), `--test=schema` (SCHEMA messages only), `stream_maps` aliases and `batch_config`
//! (records into gzip JSON Lines files named by BATCH messages, before each STATE).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Map, Value, json};

use super::Fixture;

/// What to do to the sync's messages.
#[derive(Default)]
pub(super) struct Modes {
    /// `--test` (`Some("all")`) or `--test=schema`.
    pub(super) test: Option<String>,
    /// `stream_maps` of the config: stream → alias.
    pub(super) aliases: HashMap<String, String>,
    /// `batch_config.storage`: the directory and file name prefix.
    pub(super) batch: Option<(String, String)>,
}

impl Modes {
    /// The modes the arguments and config ask for (ignoring those the break says to ignore).
    pub(super) fn new(fixture: &Fixture, test: Option<String>, config: &Value) -> Modes {
        let mut modes = Modes {
            test,
            ..Modes::default()
        };
        if !fixture.is("tap.stream-maps.alias") {
            if let Some(Value::Object(maps)) = config.get("stream_maps") {
                for (stream, map) in maps {
                    if let Some(alias) = map.get("__alias__").and_then(Value::as_str) {
                        modes.aliases.insert(stream.clone(), alias.to_owned());
                    }
                }
            }
        }
        if !fixture.is("tap.batch.honoured") {
            let storage = &config["batch_config"]["storage"];
            if let Some(root) = storage["root"].as_str() {
                let dir = root.strip_prefix("file://").unwrap_or(root).to_owned();
                let prefix = storage["prefix"].as_str().unwrap_or_default().to_owned();
                modes.batch = Some((dir, prefix));
            }
        }
        modes
    }

    /// Whether the sync's output must go through [`apply`](Self::apply).
    pub(super) fn any(&self) -> bool {
        self.test.is_some() || !self.aliases.is_empty() || self.batch.is_some()
    }

    /// Writes the messages of `sync` (Singer lines) to `out` with the modes applied.
    pub(super) fn apply(
        &self,
        fixture: &Fixture,
        sync: &[u8],
        out: &mut impl Write,
    ) -> Result<(), String> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut pending: BTreeMap<String, Vec<Map<String, Value>>> = BTreeMap::new();
        let mut files = 0usize;
        for line in String::from_utf8_lossy(sync).lines() {
            let mut message: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
            let kind = message["type"].as_str().unwrap_or_default().to_owned();
            if let Some(alias) = message["stream"].as_str().and_then(|s| self.aliases.get(s)) {
                message["stream"] = alias.clone().into();
            }
            let stream = message["stream"].as_str().unwrap_or_default().to_owned();
            match (kind.as_str(), self.test.as_deref()) {
                ("SCHEMA", _) => {}
                (_, Some("schema")) if !fixture.is("tap.test-mode.schema-only") => continue,
                ("RECORD", Some(_)) => {
                    let n = counts.entry(stream.clone()).or_default();
                    *n += 1;
                    if *n > 1 && !fixture.is("tap.test-mode.one-record") {
                        continue;
                    }
                }
                ("RECORD", None) if self.batch.is_some() => {
                    let mut record = message["record"].as_object().cloned().unwrap_or_default();
                    if fixture.is("tap.batch.records-match-schema") {
                        record.insert("id".to_owned(), "not a number".into());
                    }
                    pending.entry(stream).or_default().push(record);
                    continue;
                }
                ("STATE", _) => {
                    self.flush(fixture, &mut pending, &mut files, out)?;
                }
                _ => {}
            }
            writeln!(out, "{message}").map_err(|e| e.to_string())?;
        }
        self.flush(fixture, &mut pending, &mut files, out)?;
        out.flush().map_err(|e| e.to_string())
    }

    /// Writes each stream's pending records to a batch file and a BATCH message naming it.
    fn flush(
        &self,
        fixture: &Fixture,
        pending: &mut BTreeMap<String, Vec<Map<String, Value>>>,
        files: &mut usize,
        out: &mut impl Write,
    ) -> Result<(), String> {
        let Some((dir, prefix)) = &self.batch else {
            return Ok(());
        };
        for (stream, records) in std::mem::take(pending) {
            *files += 1;
            let path = format!("{dir}/{prefix}{stream}-{files}.json.gz");
            let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
            for record in &records {
                writeln!(gz, "{}", Value::Object(record.clone())).map_err(|e| e.to_string())?;
            }
            let bytes = gz.finish().map_err(|e| e.to_string())?;
            std::fs::write(&path, bytes).map_err(|e| format!("cannot write {path}: {e}"))?;
            let named = if fixture.is("tap.batch.files-decode") {
                format!("{path}.gone")
            } else {
                path
            };
            let batch = json!({"type": "BATCH", "stream": stream,
                "encoding": {"format": "jsonl", "compression": "gzip"},
                "manifest": [format!("file://{named}")]});
            writeln!(out, "{batch}").map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
