//! `fixture-target`: a small well-behaved Singer target the harness's own tests run every check
//! on. It validates records, appends them to `<destination_path>/<stream>.jsonl` unbuffered and
//! acknowledges each STATE right after. It loads the records of BATCH messages (local JSON
//! Lines or parquet files) like RECORDs, and applies singer-sdk `stream_maps` of the forms
//! `__alias__`, `__key_properties__`, `"<property>": "<other property>"` (a copy) and
//! `"<property>": null` or `"__NULL__"` (removed). `FIXTURE_BREAK=<check id>` makes it break
//! exactly the rule that check verifies; `--list-breaks` prints the ids it can break.
//! `FIXTURE_HANG=1` makes it hang without reading its input, `FIXTURE_FLOOD=lines` (or `bytes`)
//! write to stdout without end.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

#[path = "../fixture-common/input.rs"]
mod input;

/// The checks this fixture can be made to fail, one `FIXTURE_BREAK` value each.
const BREAKS: &[&str] = &[
    "target.scenario.array_data",
    "target.scenario.camelcase",
    "target.scenario.camelcase_complex_schema",
    "target.scenario.duplicate_records",
    "target.scenario.encoded_string_data",
    "target.scenario.invalid_schema",
    "target.scenario.multiple_state_messages",
    "target.scenario.no_primary_keys",
    "target.scenario.no_primary_keys_append",
    "target.scenario.optional_attributes",
    "target.scenario.pk_updates",
    "target.scenario.record_before_schema",
    "target.scenario.record_missing_fields",
    "target.scenario.record_missing_key_property",
    "target.scenario.record_missing_required_property",
    "target.scenario.schema_no_properties",
    "target.scenario.schema_updates",
    "target.scenario.special_chars_in_attributes",
    "target.scenario.user_location_data",
    "target.scenario.user_location_upsert_data",
    "target.state.bare-values",
    "target.state.from-input",
    "target.state.in-order",
    "target.state.last-relayed",
    "target.state.after-commit",
    "target.evolution.add-column",
    "target.evolution.widen-type",
    "target.evolution.new-stream",
    "target.edge.huge-line",
    "target.edge.invalid-utf8",
    "target.edge.malformed-json",
    "target.edge.empty-input",
    "target.batch.honoured",
    "target.stream-maps.alias",
];

fn main() -> ExitCode {
    let fixture = Fixture {
        broken: std::env::var("FIXTURE_BREAK").unwrap_or_default(),
        streams: HashMap::new(),
        seen_record: false,
        pending: None,
        held: Vec::new(),
        unwritten: Vec::new(),
        destination: PathBuf::new(),
        maps: HashMap::new(),
    };
    match fixture.main(&std::env::args().skip(1).collect::<Vec<_>>()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

struct Stream {
    schema: Value,
    keys: Vec<String>,
    validator: Option<jsonschema::Validator>,
}

struct Fixture {
    broken: String,
    streams: HashMap<String, Stream>,
    seen_record: bool,
    /// `target.state.last-relayed`: a state held until the next message.
    pending: Option<Value>,
    /// `target.state.in-order`: every state, emitted reversed at the end.
    held: Vec<Value>,
    /// `target.state.after-commit`: records kept in memory until the end.
    unwritten: Vec<(String, Value)>,
    destination: PathBuf,
    /// `stream_maps`, by input stream.
    maps: HashMap<String, StreamMap>,
}

/// One stream's map: its new name and key, and per property either the property it copies
/// or `None` (removed), in config order.
struct StreamMap {
    alias: Option<String>,
    keys: Option<Value>,
    properties: Vec<(String, Option<String>)>,
}

impl StreamMap {
    /// `target.stream-maps.alias` breaks it: only `__alias__` is applied.
    fn parse(stream: &str, map: &Value, alias_only: bool) -> Result<StreamMap, String> {
        let map = map
            .as_object()
            .ok_or_else(|| format!("stream map `{stream}` is not an object"))?;
        let mut parsed = StreamMap {
            alias: None,
            keys: None,
            properties: Vec::new(),
        };
        for (key, value) in map {
            match (key.as_str(), value) {
                ("__alias__", Value::String(alias)) => parsed.alias = Some(alias.clone()),
                _ if alias_only => {}
                ("__key_properties__", keys) => parsed.keys = Some(keys.clone()),
                (_, Value::Null) => parsed.properties.push((key.clone(), None)),
                (_, Value::String(s)) if s == "__NULL__" => {
                    parsed.properties.push((key.clone(), None));
                }
                (_, Value::String(from)) => {
                    parsed.properties.push((key.clone(), Some(from.clone())));
                }
                _ => return Err(format!("stream map `{stream}`: `{key}` is not supported")),
            }
        }
        Ok(parsed)
    }

    /// A SCHEMA or RECORD message of the stream, mapped.
    fn apply(&self, mut message: Value) -> Value {
        if let Some(alias) = &self.alias {
            message["stream"] = json!(alias);
        }
        let field = if message["type"] == "SCHEMA" {
            if let Some(keys) = &self.keys {
                message["key_properties"] = keys.clone();
            }
            "/schema/properties"
        } else {
            "/record"
        };
        let original = message.pointer(field).cloned().unwrap_or_default();
        if let Some(Value::Object(values)) = message.pointer_mut(field) {
            for (name, from) in &self.properties {
                match from {
                    None => {
                        values.remove(name);
                    }
                    Some(from) => {
                        values.insert(
                            name.clone(),
                            original.get(from).cloned().unwrap_or_default(),
                        );
                    }
                }
            }
        }
        message
    }
}

impl Fixture {
    fn is(&self, check: &str) -> bool {
        self.broken == check
    }

    fn main(mut self, args: &[String]) -> Result<(), String> {
        let mut out = io::stdout().lock();
        let write = |out: &mut io::StdoutLock<'_>, text: &str| {
            writeln!(out, "{text}").map_err(|e| e.to_string())
        };
        match args.first().map(String::as_str) {
            Some("--list-breaks") => {
                return write(&mut out, &BREAKS.join("\n"));
            }
            Some("--about") => {
                let about = json!({"name": "fixture-target", "description": "Conformance fixture",
                    "version": "0.1.0", "sdk_version": "0.1.0", "capabilities": ["about", "validate-records", "batch", "stream-maps"],
                    "settings": {"type": "object", "properties": {"destination_path": {"type": "string"}},
                                 "required": ["destination_path"]}});
                return write(&mut out, &about.to_string());
            }
            Some("--version") => return write(&mut out, "fixture-target v0.1.0"),
            Some("--config") => {}
            _ => return Err("usage: fixture-target --config FILE".into()),
        }
        let config = input::config(args)?;
        let destination = config["destination_path"]
            .as_str()
            .ok_or("missing setting `destination_path`")?;
        self.destination = PathBuf::from(destination);
        std::fs::create_dir_all(&self.destination)
            .map_err(|e| format!("cannot create `{destination}`: {e}"))?;
        if let Some(maps) = config.get("stream_maps").and_then(Value::as_object) {
            let alias_only = self.is("target.stream-maps.alias");
            for (stream, map) in maps {
                let map = StreamMap::parse(stream, map, alias_only)?;
                self.maps.insert(stream.clone(), map);
            }
        }
        let broken = self.broken.clone();
        let any = input::messages("target", &broken, |message| {
            if let Some(state) = self.pending.take() {
                write(&mut out, &state.to_string())?;
            }
            self.handle(&mut out, &message)?;
            out.flush().map_err(|e| e.to_string())
        })?;
        for (stream, record) in std::mem::take(&mut self.unwritten) {
            self.append(&stream, &record)?;
        }
        for state in self.held.iter().rev() {
            write(&mut out, &state.to_string())?;
        }
        if !any && self.is("target.edge.empty-input") {
            write(&mut out, "{}")?;
        }
        Ok(())
    }

    fn handle(&mut self, out: &mut impl Write, message: &Value) -> Result<(), String> {
        let kind = message["type"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let stream = message["stream"].as_str().unwrap_or_default().to_owned();
        let mapped;
        let (stream, message) = match self.maps.get(&stream) {
            Some(map) if kind == "SCHEMA" || kind == "RECORD" => {
                mapped = map.apply(message.clone());
                let stream = mapped["stream"].as_str().unwrap_or_default().to_owned();
                (stream, &mapped)
            }
            _ => (stream, message),
        };
        match kind.as_str() {
            "SCHEMA" => self.schema(&stream, message),
            "BATCH" if self.is("target.batch.honoured") => Ok(()),
            "BATCH" => {
                let entries = message["manifest"].as_array().cloned().unwrap_or_default();
                for entry in entries {
                    let entry = entry.as_str().ok_or("a manifest entry is not a string")?;
                    let records = singer_conformance::read_batch_file(entry, &message["encoding"])
                        .map_err(|e| format!("BATCH file `{entry}`: {e}"))?;
                    for record in records {
                        let message = json!({"type": "RECORD", "stream": stream, "record": record});
                        self.handle(out, &message)?;
                    }
                }
                Ok(())
            }
            "RECORD" => {
                self.seen_record = true;
                let Some(known) = self.streams.get(&stream) else {
                    if self.is("target.scenario.record_before_schema") {
                        return Ok(());
                    }
                    return Err(format!("RECORD for stream `{stream}` before its SCHEMA"));
                };
                let record = &message["record"];
                if !self.is("target.scenario.record_missing_key_property") {
                    if let Some(key) = known.keys.iter().find(|k| record.get(*k).is_none()) {
                        return Err(format!("RECORD of `{stream}` lacks key property `{key}`"));
                    }
                }
                if let Some(error) = known
                    .validator
                    .as_ref()
                    .and_then(|v| v.iter_errors(record).next())
                {
                    return Err(format!(
                        "RECORD of `{stream}` does not match its schema: {error}"
                    ));
                }
                if self.is("target.state.after-commit") {
                    self.unwritten.push((stream, record.clone()));
                    return Ok(());
                }
                self.append(&stream, record)
            }
            "STATE" => {
                let value = message["value"].clone();
                match self.broken.as_str() {
                    "target.state.bare-values" => {
                        writeln!(out, "{message}").map_err(|e| e.to_string())
                    }
                    "target.state.from-input" => {
                        writeln!(out, "{}", json!({"received": value})).map_err(|e| e.to_string())
                    }
                    "target.state.in-order" => {
                        self.held.push(value);
                        Ok(())
                    }
                    "target.state.last-relayed" => {
                        self.pending = Some(value);
                        Ok(())
                    }
                    _ => writeln!(out, "{value}").map_err(|e| e.to_string()),
                }
            }
            _ => Ok(()),
        }
    }

    fn schema(&mut self, stream: &str, message: &Value) -> Result<(), String> {
        let schema = message["schema"].clone();
        if let Some(scenario) = self.broken.strip_prefix("target.scenario.") {
            let crash = singer_conformance::target::scenarios().any(|(name, input)| {
                name == scenario && input.contains(&format!("\"stream\": \"{stream}\""))
            });
            if crash
                && ![
                    "invalid_schema",
                    "record_before_schema",
                    "record_missing_key_property",
                    "record_missing_required_property",
                ]
                .contains(&scenario)
            {
                return Err(format!("stream `{stream}` is not supported"));
            }
        }
        if schema.get("properties").is_none_or(|p| !p.is_object())
            && !self.is("target.scenario.invalid_schema")
        {
            return Err(format!("SCHEMA of `{stream}` has no `properties`"));
        }
        if let Some(old) = self.streams.get(stream) {
            let (old_props, new_props) = (&old.schema["properties"], &schema["properties"]);
            let added = new_props
                .as_object()
                .is_some_and(|n| n.keys().any(|k| old_props.get(k).is_none()));
            if added && self.is("target.evolution.add-column") {
                return Err(format!("cannot add columns to `{stream}`"));
            }
            let changed = new_props.as_object().is_some_and(|n| {
                n.iter()
                    .any(|(k, v)| old_props.get(k).is_some_and(|o| o["type"] != v["type"]))
            });
            if changed && self.is("target.evolution.widen-type") {
                return Err(format!("cannot change column types of `{stream}`"));
            }
        } else if self.seen_record && self.is("target.evolution.new-stream") {
            return Err(format!("new stream `{stream}` after records"));
        }
        let keys = message["key_properties"]
            .as_array()
            .map(|k| {
                k.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let validator = if self.is("target.scenario.record_missing_required_property") {
            None
        } else {
            let built = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .should_validate_formats(false)
                .build(&schema);
            Some(
                built
                    .map_err(|e| format!("SCHEMA of `{stream}` is not a valid JSON Schema: {e}"))?,
            )
        };
        self.streams.insert(
            stream.to_owned(),
            Stream {
                schema,
                keys,
                validator,
            },
        );
        Ok(())
    }

    fn append(&self, stream: &str, record: &Value) -> Result<(), String> {
        let name: String = stream
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = self.destination.join(format!("{name}.jsonl"));
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
        writeln!(file, "{record}").map_err(|e| format!("cannot write `{}`: {e}", path.display()))
    }
}
