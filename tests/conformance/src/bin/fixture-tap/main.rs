//! `fixture-tap`: a small well-behaved Singer tap the harness's own tests run every check on.
//! `FIXTURE_BREAK=<check id>` makes it break exactly the rule that check verifies, so each check
//! is shown to fail when it should. `--list-breaks` prints the ids it can break.
//!
//! Streams: `users` (12 rows, key `id`, incremental by `updated_at`, a STATE every 3 rows) and
//! `events` (5 rows, key `event_id`, full table). Setting `greeting` is required.
//! `FIXTURE_HANG=1` makes it hang, to show that a hung connector fails its checks in time.
//! `FIXTURE_FLOOD=lines` (or `bytes`) makes it write RECORD lines (or bytes without a newline)
//! to stdout without end, to show that the harness stops a flooding connector.

mod modes;
mod streams;

use std::io::{self, Write};
use std::process::ExitCode;

use serde_json::{Value, json};
use singer_conformance::catalog::Catalog;

/// The checks this fixture can be made to fail, one `FIXTURE_BREAK` value each.
const BREAKS: &[&str] = &[
    "tap.about.parses",
    "tap.about.settings-schema",
    "tap.about.secrets-marked",
    "tap.about.version",
    "tap.discovery.valid-catalog",
    "tap.discovery.unique-stream-ids",
    "tap.discovery.schema-draft4",
    "tap.discovery.schema-draft7",
    "tap.discovery.refs-inlined",
    "tap.discovery.key-properties-exist",
    "tap.discovery.replication-keys-exist",
    "tap.discovery.breadcrumbs-valid",
    "tap.discovery.inclusion-per-field",
    "tap.discovery.with-state",
    "tap.sync.exit-success",
    "tap.sync.valid-messages",
    "tap.sync.schema-before-record",
    "tap.sync.returns-records",
    "tap.sync.records-match-schema",
    "tap.sync.keys-non-null",
    "tap.sync.keys-unique",
    "tap.sync.datetime-rfc3339",
    "tap.sync.time-extracted",
    "tap.sync.final-state",
    "tap.sync.no-nan",
    "tap.sync.line-size",
    "tap.sync.attr-datetime",
    "tap.sync.attr-boolean",
    "tap.sync.attr-integer",
    "tap.sync.attr-number",
    "tap.sync.attr-object",
    "tap.sync.attr-not-null",
    "tap.selection.stream",
    "tap.selection.field",
    "tap.selection.automatic-field",
    "tap.incremental.no-older-records",
    "tap.incremental.intermediate-monotonic",
    "tap.incremental.future-state",
    "tap.full-refresh.repeatable",
    "tap.kill.resume",
    "tap.state.partitions",
    "tap.test-mode.one-record",
    "tap.test-mode.schema-only",
    "tap.stream-maps.alias",
    "tap.batch.honoured",
    "tap.batch.files-decode",
    "tap.batch.records-match-schema",
    "tap.config.missing-required",
    "tap.config.malformed",
];

fn main() -> ExitCode {
    let broken = std::env::var("FIXTURE_BREAK").unwrap_or_default();
    let fixture = Fixture { broken };
    match fixture.run(&std::env::args().skip(1).collect::<Vec<_>>()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

struct Fixture {
    broken: String,
}

/// What the command line asked for.
#[derive(Default)]
struct Args {
    about: bool,
    version: bool,
    discover: bool,
    list: bool,
    config: Option<String>,
    catalog: Option<String>,
    state: Option<String>,
    test: Option<String>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = || iter.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--about" => out.about = true,
            "--version" => out.version = true,
            "--discover" => out.discover = true,
            "--list-breaks" => out.list = true,
            "--format" => drop(value()?),
            "--config" => out.config = Some(value()?),
            "--catalog" | "--properties" => out.catalog = Some(value()?),
            "--state" => out.state = Some(value()?),
            "--test" => out.test = Some("all".to_owned()),
            "--test=all" | "--test=schema" => {
                out.test = arg.strip_prefix("--test=").map(str::to_owned);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(out)
}

fn read(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("`{path}` is not valid JSON: {e}"))
}

impl Fixture {
    fn is(&self, check: &str) -> bool {
        self.broken == check
    }

    fn run(&self, args: &[String]) -> Result<(), String> {
        let args = parse_args(args)?;
        if std::env::var_os("FIXTURE_HANG").is_some() && !args.list {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
        let mut out = io::stdout().lock();
        if let (Some(flood), false) = (std::env::var_os("FIXTURE_FLOOD"), args.list) {
            let chunk = if flood == "bytes" {
                "x".repeat(1 << 16)
            } else {
                r#"{"type":"RECORD","stream":"users","record":{"id":1}}"#.to_owned() + "\n"
            };
            // Ends only when the reader goes away.
            loop {
                out.write_all(chunk.as_bytes()).map_err(|e| e.to_string())?;
            }
        }
        if args.list {
            return writeln!(out, "{}", BREAKS.join("\n")).map_err(|e| e.to_string());
        }
        if args.about {
            return writeln!(out, "{:#}", self.about()).map_err(|e| e.to_string());
        }
        if args.version {
            let extra = if self.is("tap.about.version") {
                "\nbuilt with love"
            } else {
                ""
            };
            return writeln!(out, "fixture-tap v0.1.0{extra}").map_err(|e| e.to_string());
        }
        let config_path = args.config.as_deref().ok_or("--config is required")?;
        let config = match read(config_path) {
            Err(_) if self.is("tap.config.malformed") => json!({"greeting": "hi"}),
            other => other?,
        };
        if config.get("greeting").and_then(Value::as_str).is_none() {
            assert!(
                !self.is("tap.config.missing-required"),
                "config has no greeting"
            );
            return Err("missing required setting `greeting`; add it to the config".into());
        }
        if args.discover {
            if args.state.is_some() && self.is("tap.discovery.with-state") {
                return Err("--state cannot be used with --discover".into());
            }
            if self.is("tap.discovery.valid-catalog") {
                writeln!(out, "Discovering streams...").map_err(|e| e.to_string())?;
            }
            return writeln!(out, "{:#}", self.catalog()).map_err(|e| e.to_string());
        }
        let catalog: Option<Catalog> = match &args.catalog {
            Some(path) => {
                Some(serde_json::from_value(read(path)?).map_err(|e| format!("bad catalog: {e}"))?)
            }
            None => None,
        };
        let state = match &args.state {
            Some(path) => read(path)?,
            None => json!({}),
        };
        let rows = config.get("rows").and_then(Value::as_u64).unwrap_or(12);
        let modes = modes::Modes::new(self, args.test, &config);
        if modes.any() {
            let mut messages = Vec::new();
            self.sync(&mut messages, catalog.as_ref(), &state, rows)
                .map_err(|e| e.to_string())?;
            modes.apply(self, &messages, &mut out)?;
        } else {
            self.sync(&mut out, catalog.as_ref(), &state, rows)
                .map_err(|e| e.to_string())?;
        }
        if self.is("tap.sync.exit-success") {
            return Err("something failed after the last record".into());
        }
        Ok(())
    }

    fn about(&self) -> Value {
        let mut settings = json!({
            "type": "object",
            "properties": {
                "greeting": {"type": "string", "description": "Required, to test bad configs."},
                "api_token": {"type": "string", "secret": true, "writeOnly": true},
                "rows": {"type": "integer", "minimum": 1, "description": "Rows of `users`."}
            },
            "required": ["greeting"]
        });
        if self.is("tap.about.settings-schema") {
            settings["properties"]["rows"]["type"] = "int".into();
        }
        if self.is("tap.about.secrets-marked") {
            settings["properties"]["api_token"] = json!({"type": "string"});
        }
        let mut about = json!({
            "name": "fixture-tap", "description": "Conformance fixture", "version": "0.1.0",
            "sdk_version": "0.1.0", "capabilities": ["catalog", "discover", "state", "about", "batch", "stream-maps"],
            "settings": settings,
        });
        if self.is("tap.about.parses") {
            about.as_object_mut().map(|a| a.remove("sdk_version"));
        }
        about
    }
}
