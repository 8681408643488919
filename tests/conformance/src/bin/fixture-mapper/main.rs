//! `fixture-mapper`: a small well-behaved standalone Singer mapper the harness's own tests run
//! every check on. It passes every message on unchanged, in order, except that it applies
//! singer-sdk `stream_maps` of the form `{"<stream>": {"__alias__": "<new name>"}}` to SCHEMA,
//! RECORD and ACTIVATE_VERSION messages. It rejects lines that are not UTF-8 or not JSON and
//! RECORDs before their SCHEMA. `FIXTURE_BREAK=<check id>` makes it break exactly the rule that
//! check verifies; `--list-breaks` prints the ids it can break. `FIXTURE_HANG=1` makes it hang
//! without reading its input, `FIXTURE_FLOOD=lines` (or `bytes`) write to stdout without end.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::process::ExitCode;

use serde_json::{Value, json};

#[path = "../fixture-common/input.rs"]
mod input;

/// The checks this fixture can be made to fail, one `FIXTURE_BREAK` value each.
const BREAKS: &[&str] = &[
    "mapper.output.valid-messages",
    "mapper.output.schema-before-record",
    "mapper.output.records-match-schema",
    "mapper.state.unchanged",
    "mapper.state.in-order",
    "mapper.state.after-records",
    "mapper.state.last-relayed",
    "mapper.identity.array_data",
    "mapper.identity.camelcase",
    "mapper.identity.camelcase_complex_schema",
    "mapper.identity.duplicate_records",
    "mapper.identity.encoded_string_data",
    "mapper.identity.multiple_state_messages",
    "mapper.identity.no_primary_keys",
    "mapper.identity.no_primary_keys_append",
    "mapper.identity.optional_attributes",
    "mapper.identity.pk_updates",
    "mapper.identity.record_missing_fields",
    "mapper.identity.schema_no_properties",
    "mapper.identity.schema_updates",
    "mapper.identity.special_chars_in_attributes",
    "mapper.identity.user_location_data",
    "mapper.identity.user_location_upsert_data",
    "mapper.edge.record-before-schema",
    "mapper.edge.invalid-utf8",
    "mapper.edge.malformed-json",
    "mapper.edge.empty-input",
    "mapper.edge.huge-line",
    "mapper.alias.consistent",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut fixture = Fixture {
        broken: std::env::var("FIXTURE_BREAK").unwrap_or_default(),
        aliases: HashMap::new(),
        schemas: HashSet::new(),
        written: HashSet::new(),
        held_schemas: HashMap::new(),
        held_records: Vec::new(),
        held_states: Vec::new(),
        out: io::stdout().lock(),
    };
    match fixture.main(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

struct Fixture {
    broken: String,
    /// `stream_maps` aliases: input stream → output stream.
    aliases: HashMap<String, String>,
    /// Streams whose SCHEMA came in.
    schemas: HashSet<String>,
    /// Streams with a RECORD written (`mapper.output.schema-before-record`).
    written: HashSet<String>,
    /// `mapper.output.schema-before-record`: SCHEMAs held until the stream's first RECORD.
    held_schemas: HashMap<String, Value>,
    /// `mapper.state.after-records`: RECORDs held until the end.
    held_records: Vec<Value>,
    /// `mapper.state.in-order` (all, emitted reversed) and `last-relayed` (the pending one).
    held_states: Vec<Value>,
    out: io::StdoutLock<'static>,
}

impl Fixture {
    fn is(&self, check: &str) -> bool {
        self.broken == check
    }

    fn write(&mut self, message: &Value) -> Result<(), String> {
        writeln!(self.out, "{message}").map_err(|e| format!("cannot write stdout: {e}"))
    }

    fn main(&mut self, args: &[String]) -> Result<(), String> {
        match args.first().map(String::as_str) {
            Some("--list-breaks") => {
                return writeln!(self.out, "{}", BREAKS.join("\n")).map_err(|e| e.to_string());
            }
            Some("--config") => {}
            _ => return Err("usage: fixture-mapper --config FILE".into()),
        }
        let config = input::config(args)?;
        if let Some(maps) = config.get("stream_maps").and_then(Value::as_object) {
            for (stream, map) in maps {
                let alias = map
                    .get("__alias__")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        format!("stream map `{stream}`: only `__alias__` is supported")
                    })?;
                self.aliases.insert(stream.clone(), alias.to_owned());
            }
        }
        if self.is("mapper.output.valid-messages") {
            writeln!(self.out, "fixture-mapper: starting").map_err(|e| e.to_string())?;
        }
        let broken = self.broken.clone();
        let any = input::messages("mapper", &broken, |message| {
            self.handle(message)?;
            self.out.flush().map_err(|e| e.to_string())
        })?;
        for record in std::mem::take(&mut self.held_records) {
            self.write(&record)?;
        }
        if self.is("mapper.state.in-order") {
            for state in std::mem::take(&mut self.held_states).iter().rev() {
                self.write(state)?;
            }
        }
        if !any && self.is("mapper.edge.empty-input") {
            self.write(&json!({"type": "STATE", "value": {}}))?;
        }
        self.out.flush().map_err(|e| e.to_string())
    }

    /// The output name of `stream`.
    fn alias(&self, stream: &str) -> String {
        self.aliases
            .get(stream)
            .cloned()
            .unwrap_or_else(|| stream.to_owned())
    }

    fn handle(&mut self, mut message: Value) -> Result<(), String> {
        let Some(kind) = message
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Err("a message without a string `type`".into());
        };
        let stream = message
            .get("stream")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let alias = self.alias(&stream);
        match kind.as_str() {
            "SCHEMA" => {
                self.schemas.insert(stream.clone());
                message["stream"] = json!(alias);
                if let Some(scenario) = self.broken.strip_prefix("mapper.identity.") {
                    let affected = singer_conformance::target::scenarios().any(|(name, input)| {
                        name == scenario && input.contains(&format!("\"stream\": \"{stream}\""))
                    });
                    if affected {
                        // A mapper that adds a column nobody asked for.
                        message["schema"]["properties"]["_fixture_added"] =
                            json!({"type": ["string", "null"]});
                    }
                }
                if self.is("mapper.output.schema-before-record") && !self.written.contains(&alias) {
                    self.held_schemas.insert(alias, message);
                    return Ok(());
                }
                self.write(&message)
            }
            "RECORD" => {
                if !self.schemas.contains(&stream) && !self.is("mapper.edge.record-before-schema") {
                    return Err(format!("RECORD of stream `{stream}` before its SCHEMA"));
                }
                message["stream"] = json!(alias);
                if self.is("mapper.output.records-match-schema") {
                    // A mapper that turns integers into strings but leaves the schema alone.
                    if let Some(record) = message["record"].as_object_mut() {
                        for value in record.values_mut() {
                            if value.is_i64() {
                                *value = json!(value.to_string());
                            }
                        }
                    }
                }
                if self.is("mapper.state.after-records") {
                    self.held_records.push(message);
                    return Ok(());
                }
                self.write(&message)?;
                self.written.insert(alias.clone());
                if let Some(schema) = self.held_schemas.remove(&alias) {
                    self.write(&schema)?;
                }
                Ok(())
            }
            "ACTIVATE_VERSION" | "BATCH" => {
                if !self.is("mapper.alias.consistent") {
                    message["stream"] = json!(alias);
                }
                self.write(&message)
            }
            "STATE" => match self.broken.as_str() {
                "mapper.state.unchanged" => {
                    let value = message["value"].take();
                    self.write(&json!({"type": "STATE", "value": {"fixture": value}}))
                }
                "mapper.state.in-order" => {
                    self.held_states.push(message);
                    Ok(())
                }
                "mapper.state.last-relayed" => {
                    // Each STATE goes out when the next one comes in: the last never does.
                    if let Some(previous) = self.held_states.pop() {
                        self.write(&previous)?;
                    }
                    self.held_states.push(message);
                    Ok(())
                }
                _ => self.write(&message),
            },
            _ => self.write(&message),
        }
    }
}
