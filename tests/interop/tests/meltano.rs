//! The Rust connectors under a real Meltano (4.4.1 from PyPI, offline) and next to Python
//! Singer connectors from PyPI.
//!
//! Every test works in a temporary directory: a copy of `examples/meltano` (laid out as in the
//! repository, so its `${MELTANO_PROJECT_ROOT}/../../taps/tap-csv/sample/data` paths point at
//! a copy of the sample data) or a project it writes itself. Meltano finds our binaries on
//! `PATH` (the Cargo target directory goes first), as users' `cargo install`ed ones.

use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::{Digest, Md5};
use serde_json::{Map, Value, json};
use singer_interop::meltano::{self, Meltano};
use singer_interop::process;
use singer_interop::records::{self, Kind, Record};

/// A copy of `examples/meltano` and the sample data in a temporary directory.
struct Example {
    dir: tempfile::TempDir,
    meltano: Meltano,
}

impl Example {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = singer_interop::workspace_root();
        let project = dir.path().join("examples/meltano");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::copy(
            root.join("examples/meltano/meltano.yml"),
            project.join("meltano.yml"),
        )
        .unwrap();
        let data = dir.path().join("taps/tap-csv/sample/data");
        std::fs::create_dir_all(&data).unwrap();
        for file in ["customers.csv", "orders.csv"] {
            std::fs::copy(
                root.join("taps/tap-csv/sample/data").join(file),
                data.join(file),
            )
            .unwrap();
        }
        let meltano = Meltano::new(&project, &dir.path().join("scratch"));
        Example { dir, meltano }
    }

    fn data(&self, file: &str) -> PathBuf {
        self.dir.path().join("taps/tap-csv/sample/data").join(file)
    }

    fn output(&self, path: &str) -> PathBuf {
        self.meltano.project().join("output").join(path)
    }
}

/// Rows of a SQLite table, ordered by the first column, as JSON values.
fn sqlite_rows(db: &Path, sql: &str) -> Vec<Vec<Value>> {
    let connection = rusqlite::Connection::open(db).unwrap();
    let mut statement = connection.prepare(sql).unwrap();
    let columns = statement.column_count();
    statement
        .query_map([], |row| {
            (0..columns)
                .map(|i| {
                    Ok(match row.get::<_, rusqlite::types::Value>(i)? {
                        rusqlite::types::Value::Null => Value::Null,
                        rusqlite::types::Value::Integer(n) => json!(n),
                        rusqlite::types::Value::Real(x) => json!(x),
                        rusqlite::types::Value::Text(s) => json!(s),
                        rusqlite::types::Value::Blob(b) => json!(b),
                    })
                })
                .collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn stdout_json(output: &std::process::Output) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{text}"))
}

/// `<bin> --about --format <format>`.
fn about(bin: &Path, format: &str) -> String {
    let output = process::run(
        std::process::Command::new(bin).args(["--about", "--format", format]),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(output.status.success(), "{} --about failed", bin.display());
    String::from_utf8(output.stdout).unwrap()
}

/// The plugin named `name` in a parsed `meltano.yml`.
fn plugin<'a>(project: &'a Value, name: &str) -> &'a Value {
    project["plugins"]
        .as_object()
        .into_iter()
        .flat_map(|types| types.values())
        .filter_map(Value::as_array)
        .flatten()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no plugin {name} in meltano.yml"))
}

/// What of a setting Meltano acts on (labels and descriptions are for people).
fn setting_semantics(setting: &Value) -> Value {
    let keep = ["name", "kind", "value", "sensitive", "env", "options"];
    Value::Object(
        setting
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// Asserts the example's entry for `name` declares what the binary's `--about` reports:
/// namespace, executable, capabilities, and every setting with its kind, default,
/// sensitivity and options.
fn assert_entry_matches_binary(project: &Value, name: &str, bin: &Path) {
    let entry = plugin(project, name);
    let definition = records::yaml_to_json(&about(bin, "meltano"));
    let about_json: Value = serde_json::from_str(&about(bin, "json")).unwrap();
    assert_eq!(
        entry["capabilities"], about_json["capabilities"],
        "examples/meltano/meltano.yml: capabilities of {name} differ from `{name} --about`"
    );
    for key in ["namespace", "executable", "capabilities"] {
        assert_eq!(entry[key], definition[key], "{name}: `{key}`");
    }
    let declared: Vec<Value> = entry["settings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(setting_semantics)
        .collect();
    let reported: Vec<Value> = definition["settings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(setting_semantics)
        .collect();
    assert_eq!(
        declared, reported,
        "examples/meltano/meltano.yml: settings of {name} differ from `{name} --about --format meltano`; paste its output again"
    );
}

#[test]
fn example_project_entries_match_the_binaries_about() {
    let bin = singer_interop::connectors();
    let target_csv = singer_interop::build(&["target-csv"]).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(
        singer_interop::workspace_root().join("examples/meltano/meltano.yml"),
    )
    .unwrap();
    let project = records::yaml_to_json(&text);
    for name in ["tap-csv", "target-sqlite", "target-jsonl"] {
        assert_entry_matches_binary(&project, name, &bin.join(name));
    }
    assert_entry_matches_binary(&project, "target-csv", &target_csv.join("target-csv"));
    // The executables are bare names, resolved through PATH (`cargo install` puts them there).
    for name in [
        "tap-csv",
        "target-sqlite",
        "target-jsonl",
        "target-csv",
        "map-transform",
    ] {
        assert_eq!(plugin(&project, name)["executable"], name);
    }
}

#[test]
fn example_project_loads_sqlite_and_resumes_from_meltano_state() {
    let example = Example::new();
    let m = &example.meltano;
    let db = example.output("warehouse.db");

    m.run(&["run", "tap-csv", "target-sqlite"]);
    let customers = "SELECT id, name, email, country, updated_at FROM customers ORDER BY id";
    let rows = sqlite_rows(&db, customers);
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(
        rows[3],
        json!([
            4,
            "Hopper, Grace \"Amazing\"",
            "amazing@example.com",
            "US",
            "2024-01-04T12:00:00+00:00"
        ])
        .as_array()
        .cloned()
        .unwrap()
    );
    let orders = sqlite_rows(
        &db,
        "SELECT order_id, amount, paid FROM orders ORDER BY order_id",
    );
    assert_eq!(
        orders,
        vec![
            vec![json!(100), json!(19.99), json!(1)],
            vec![json!(101), json!(5.0), json!(0)],
            vec![json!(102), json!(120.5), json!(1)],
        ]
    );
    let state = m.state("dev:tap-csv-to-target-sqlite");
    assert_eq!(
        state["singer_state"]["bookmarks"]["customers"]["replication_key_value"],
        "2024-01-05T16:45:00Z",
        "{state}"
    );

    // Mark what run 1 loaded, then add a row: run 2 must load only rows at or after the
    // bookmark Meltano hands back with --state (5, inclusive, and the new 6).
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE customers SET name = 'loaded by run 1'", [])
        .unwrap();
    let mut csv = std::fs::read_to_string(example.data("customers.csv")).unwrap();
    csv.push_str("6,Katherine Johnson,katherine@example.com,US,2024-01-06T09:00:00Z\n");
    std::fs::write(example.data("customers.csv"), csv).unwrap();

    m.run(&["run", "tap-csv", "target-sqlite"]);
    let names: Vec<Vec<Value>> = sqlite_rows(&db, "SELECT id, name FROM customers ORDER BY id");
    let expected: Vec<Vec<Value>> = [
        (1, "loaded by run 1"),
        (2, "loaded by run 1"),
        (3, "loaded by run 1"),
        (4, "loaded by run 1"),
        (5, "Edsger Dijkstra"),
        (6, "Katherine Johnson"),
    ]
    .iter()
    .map(|(id, name)| vec![json!(id), json!(name)])
    .collect();
    assert_eq!(names, expected, "run 2 reloaded rows before the bookmark");
    let state = m.state("dev:tap-csv-to-target-sqlite");
    assert_eq!(
        state["singer_state"]["bookmarks"]["customers"]["replication_key_value"],
        "2024-01-06T09:00:00Z",
        "{state}"
    );
}

#[test]
fn example_project_passes_config_set_and_env_settings_to_tap_csv() {
    let example = Example::new();
    let m = &example.meltano;
    m.run(&["config", "set", "tap-csv", "add_metadata_columns", "true"]);
    let yml = std::fs::read_to_string(m.project().join("meltano.yml")).unwrap();
    assert!(yml.contains("add_metadata_columns: true"), "{yml}");

    let id_types = |catalog: &Value| -> (Value, bool) {
        let customers = catalog["streams"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["tap_stream_id"] == "customers")
            .unwrap_or_else(|| panic!("no customers stream in {catalog}"));
        let properties = &customers["schema"]["properties"];
        (
            properties["id"]["type"].clone(),
            properties.get("_sdc_source_file").is_some(),
        )
    };
    // `meltano invoke` with arguments runs the binary raw: `tap-csv --config <file> --discover`.
    let catalog = stdout_json(&m.run(&["invoke", "tap-csv", "--discover"]));
    assert_eq!(
        id_types(&catalog),
        (json!(["integer", "null"]), true),
        "infer_types from meltano.yml, add_metadata_columns from `meltano config set`"
    );
    let catalog = stdout_json(&m.run_with(
        &["invoke", "tap-csv", "--discover"],
        &[("TAP_CSV_INFER_TYPES", "false")],
    ));
    assert_eq!(
        id_types(&catalog),
        (json!(["string", "null"]), true),
        "TAP_CSV_INFER_TYPES=false from the environment overrides meltano.yml"
    );
}

#[test]
fn example_project_maps_records_through_map_transform() {
    let mapper_dir = singer_interop::build(&["map-transform"]).unwrap_or_else(|e| {
        panic!(
            "cannot build the mapper `map-transform` (mappers/map-transform), \
             so `meltano run tap-csv hash-emails target-jsonl` cannot run: {e}"
        )
    });
    let text = std::fs::read_to_string(
        singer_interop::workspace_root().join("examples/meltano/meltano.yml"),
    )
    .unwrap();
    let project = records::yaml_to_json(&text);
    assert_entry_matches_binary(&project, "map-transform", &mapper_dir.join("map-transform"));

    let mut example = Example::new();
    example.meltano.prepend_path(&mapper_dir);
    let m = &example.meltano;
    m.run(&["run", "tap-csv", "hash-emails", "target-jsonl"]);

    let sample = records::read_csv(&example.data("customers.csv"));
    let customers = records::read_jsonl(&example.output("jsonl/customers.jsonl"));
    assert_eq!(customers.len(), sample.len(), "{customers:?}");
    for (record, row) in customers.iter().zip(&sample) {
        let email = row["email"].as_str().unwrap_or_default();
        let digest = format!("{:x}", Md5::digest(email.as_bytes()));
        assert_eq!(
            record["email"],
            json!(digest),
            "email of {record:?} is not md5(email)"
        );
        assert!(
            record.get("country").is_none(),
            "country was not dropped: {record:?}"
        );
        assert_eq!(record["name"], row["name"], "other columns pass through");
    }
    let orders = records::read_jsonl(&example.output("jsonl/orders.jsonl"));
    assert_eq!(orders.len(), 3, "orders has no map: {orders:?}");
    assert!(orders.iter().all(|o| o.contains_key("amount")));
    // The mapper relays state; the state id ignores it.
    let state = m.state("dev:tap-csv-to-target-jsonl");
    assert_eq!(
        state["singer_state"]["bookmarks"]["customers"]["replication_key_value"],
        "2024-01-05T16:45:00Z",
        "{state}"
    );
}

#[test]
fn meltano_reads_our_structured_logs_and_metrics() {
    let example = Example::new();
    let m = &example.meltano;
    let output = m.run(&[
        "--log-format=json",
        "--log-level=debug",
        "run",
        "tap-csv",
        "target-sqlite",
    ]);
    let log = meltano::json_log(&output);
    let ours: Vec<&Value> = log
        .iter()
        .filter(|e| e["string_id"] == "tap-csv" || e["string_id"] == "target-sqlite")
        // At debug level Meltano also logs every Singer message the plugins print on stdout.
        .filter(|e| e["stdio"] == "stderr")
        .collect();
    assert!(
        !ours.is_empty(),
        "no plugin lines in:\n{}",
        process::tail(&output.stderr)
    );
    for event in &ours {
        // Meltano's singer-sdk parser turned our JSON line into fields (`logger_name` became
        // `plugin_logger`); an unparsed line would arrive whole in `event`.
        assert!(
            event.get("plugin_logger").is_some() && event["app_name"] == event["string_id"],
            "not parsed as a structured line: {event}"
        );
        let message = event["event"].as_str().unwrap_or_default();
        assert!(!message.starts_with('{'), "raw JSON in event: {event}");
    }
    let metric = |plugin: &str, name: &str, stream: &str| -> &Value {
        ours.iter()
            .find(|e| {
                e["string_id"] == plugin
                    && e["metric_info"]["metric"] == name
                    && e["metric_info"]["tags"]["stream"] == stream
            })
            .map(|e| &e["metric_info"])
            .unwrap_or_else(|| panic!("no {name} metric of {plugin} for {stream}"))
    };
    let count = metric("tap-csv", "record_count", "customers");
    assert_eq!(
        (&count["type"], &count["value"]),
        (&json!("counter"), &json!(5))
    );
    let timer = metric("tap-csv", "sync_duration", "orders");
    assert_eq!(timer["type"], "timer");
    assert_eq!(timer["tags"]["status"], "succeeded");
    assert!(timer["value"].is_f64(), "{timer}");
    assert_eq!(
        metric("target-sqlite", "record_count", "orders")["value"],
        3
    );
    // Our tracing fields arrive as structured fields too.
    let finished = ours
        .iter()
        .find(|e| e["string_id"] == "tap-csv" && e["event"] == "Stream partition finished.")
        .unwrap_or_else(|| panic!("no 'Stream partition finished.' line"));
    assert_eq!(finished["level"], "info");
    assert!(finished.get("stream_name").is_some(), "{finished}");
    // `--log-level=debug` reaches the connectors through the logging config Meltano writes.
    assert!(
        ours.iter()
            .any(|e| e["string_id"] == "target-sqlite" && e["level"] == "debug"),
        "no debug lines from target-sqlite under --log-level=debug"
    );

    // The run's elt.log has the plugin lines as well.
    let logs = m
        .state_home()
        .join("meltano/log/elt/devtap-csv-to-target-sqlite");
    let elt_log = std::fs::read_dir(&logs)
        .unwrap_or_else(|e| panic!("no elt logs in {}: {e}", logs.display()))
        .filter_map(Result::ok)
        .map(|run| run.path().join("elt.log"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no elt.log under {}", logs.display()));
    let text = std::fs::read_to_string(&elt_log).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("tap-csv") && l.contains("record_count")),
        "no tap-csv metric in {}:\n{text}",
        elt_log.display()
    );
}

/// The rows both directions of the Python interop test read: every column type, text that
/// CSV must quote, non-ASCII, nulls, and date-times in several spellings.
fn events() -> Vec<Record> {
    let names = [
        "Ada Lovelace",
        "Hopper, Grace \"Amazing\"",
        "Zoë Ångström",
        "rocket 🚀",
        "semi;colon 'single'",
        "back\\slash",
    ];
    (1..=24)
        .map(|id: i64| {
            let created_at = match id % 4 {
                0 => format!("2024-03-{id:02}T08:15:00Z"),
                1 => format!("2024-03-{id:02}T10:30:00.250Z"),
                2 => format!("2024-03-{id:02}T12:00:00+02:00"),
                _ => format!("2024-03-{id:02}T23:59:59+00:00"),
            };
            let mut record = Map::new();
            record.insert("id".to_owned(), json!(id));
            record.insert(
                "name".to_owned(),
                json!(names[usize::try_from(id).unwrap_or(0) % names.len()]),
            );
            #[allow(clippy::cast_precision_loss)] // small integers
            let amount = (id * 725 % 10_000) as f64 / 100.0;
            record.insert("amount".to_owned(), json!(amount));
            record.insert("paid".to_owned(), json!(id % 3 != 0));
            record.insert("created_at".to_owned(), json!(created_at));
            #[allow(clippy::cast_precision_loss)]
            let discount = if id % 3 == 0 {
                Value::Null
            } else {
                json!(id as f64 / 8.0)
            };
            record.insert("discount".to_owned(), discount);
            record
        })
        .collect()
}

fn event_kind(column: &str) -> Kind {
    match column {
        "id" | "amount" | "discount" => Kind::Number,
        "paid" => Kind::Boolean,
        "created_at" | "_sdc_last_modified" => Kind::DateTime,
        _ => Kind::String,
    }
}

/// Writes the events as CSV (amounts with two decimals, as people write them) and JSONL.
fn write_events(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let csv_path = dir.join("events.csv");
    let mut writer = csv::Writer::from_path(&csv_path).unwrap();
    writer
        .write_record(["id", "name", "amount", "paid", "created_at", "discount"])
        .unwrap();
    let mut jsonl = String::new();
    for event in events() {
        let text = |key: &str| match &event[key] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let amount = format!("{:.2}", event["amount"].as_f64().unwrap_or_default());
        writer
            .write_record([
                text("id"),
                text("name"),
                amount,
                text("paid"),
                text("created_at"),
                text("discount"),
            ])
            .unwrap();
        jsonl.push_str(&Value::Object(event).to_string());
        jsonl.push('\n');
    }
    writer.flush().unwrap();
    let jsonl_path = dir.join("events.jsonl");
    std::fs::write(&jsonl_path, jsonl).unwrap();
    (csv_path, jsonl_path)
}

#[test]
fn rust_and_python_connectors_exchange_the_same_records() {
    singer_interop::build(&["target-csv"]).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let (csv_path, jsonl_path) = write_events(&dir.path().join("data"));
    let out = dir.path().join("out");
    let py_jsonl = singer_interop::peer("target-jsonl").join("target-jsonl");
    let py_csv = singer_interop::peer("meltanolabs-target-csv").join("target-csv");
    let py_tap = singer_interop::peer("tap-jsonl").join("tap-jsonl");

    // Two taps (ours reading the CSV, singer-sdk's tap-jsonl reading the JSONL) each feeding
    // four targets (ours and the Python ones, JSONL and CSV), all in one `meltano run`.
    let extractors = json!([
        {"name": "tap-csv", "namespace": "tap_csv", "executable": "tap-csv",
         "capabilities": ["catalog", "discover", "state", "structured-logging"],
         "config": {"infer_types": true,
                    "files": [{"entity": "events", "path": csv_path, "keys": ["id"]}]}},
        {"name": "tap-jsonl", "namespace": "tap_jsonl", "executable": py_tap,
         "capabilities": ["catalog", "discover", "state", "structured-logging"],
         "config": {"path": jsonl_path, "stream_name": "events", "primary_keys": ["id"]}},
    ]);
    let targets = [
        (
            "target-jsonl",
            json!("target-jsonl"),
            "destination_path",
            json!({}),
        ),
        (
            "target-jsonl-py",
            json!(py_jsonl),
            "destination_path",
            json!({"do_timestamp_file": false}),
        ),
        ("target-csv", json!("target-csv"), "output_path", json!({})),
        ("target-csv-py", json!(py_csv), "output_path", json!({})),
    ];
    let mut loaders = Vec::new();
    let mut blocks = vec!["run"];
    let mut names = Vec::new();
    for tap in ["tap-csv", "tap-jsonl"] {
        for (target, executable, path_setting, extra) in &targets {
            let name = format!("{target}--{tap}");
            let mut config = extra.as_object().cloned().unwrap_or_default();
            config.insert((*path_setting).to_owned(), json!(out.join(&name)));
            loaders.push(json!({
                "name": name, "namespace": target.replace('-', "_"),
                "executable": executable, "config": config,
            }));
            names.push((tap, name));
        }
    }
    for (tap, name) in &names {
        blocks.push(tap);
        blocks.push(name);
    }
    let project = json!({
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "send_anonymous_usage_stats": false,
        "project_id": "0b6f9c1e-7e57-4c1e-9a11-5e1f0c0ffee1",
        "plugins": {"extractors": extractors, "loaders": loaders},
    });
    let project_dir = dir.path().join("project");
    std::fs::create_dir_all(&project_dir).unwrap();
    // JSON is YAML.
    std::fs::write(
        project_dir.join("meltano.yml"),
        serde_json::to_string_pretty(&project).unwrap(),
    )
    .unwrap();
    let m = Meltano::new(&project_dir, &dir.path().join("scratch"));
    m.run(&blocks);

    let expected = records::canonical(&events(), event_kind, |_| true);
    let read = |tap: &str, target: &str| -> Vec<Record> {
        let dir = out.join(format!("{target}--{tap}"));
        if target.starts_with("target-jsonl") {
            records::read_jsonl(&dir.join("events.jsonl"))
        } else {
            records::read_csv(&dir.join("events.csv"))
        }
    };
    let without_sdc = |name: &str| !name.starts_with("_sdc_");
    // Our tap into each target: the records of the input, whoever writes them.
    for (target, ..) in &targets {
        let got = records::canonical(&read("tap-csv", target), event_kind, |_| true);
        records::assert_same("the input", &expected, &format!("tap-csv | {target}"), &got);
    }
    // singer-sdk's tap-jsonl (which adds `_sdc_*` columns) into our targets and the Python
    // ones: the same records, `_sdc_*` columns included; without them, the input again.
    for (ours, python) in [
        ("target-jsonl", "target-jsonl-py"),
        ("target-csv", "target-csv-py"),
    ] {
        let rust = records::canonical(&read("tap-jsonl", ours), event_kind, |_| true);
        let py = records::canonical(&read("tap-jsonl", python), event_kind, |_| true);
        records::assert_same(
            &format!("tap-jsonl | {ours}"),
            &rust,
            &format!("tap-jsonl | {python}"),
            &py,
        );
        let rust = records::canonical(&read("tap-jsonl", ours), event_kind, without_sdc);
        records::assert_same(
            "the input",
            &expected,
            &format!("tap-jsonl | {ours}"),
            &rust,
        );
    }
    // The all-Rust pipeline and the Python tap feeding our target agree record by record.
    let all_rust = records::canonical(&read("tap-csv", "target-jsonl"), event_kind, |_| true);
    let python_tap =
        records::canonical(&read("tap-jsonl", "target-jsonl"), event_kind, without_sdc);
    records::assert_same(
        "tap-csv | target-jsonl",
        &all_rust,
        "tap-jsonl | target-jsonl",
        &python_tap,
    );
}

/// `text` (a `--about --format meltano` definition) as one item of a YAML list indented by
/// two spaces, followed by `config` (as JSON, which is YAML).
fn list_item(text: &str, config: &Value) -> String {
    let mut out = String::new();
    let mut first = true;
    for line in text.lines() {
        if !first || line.starts_with('#') {
            out.push_str("    ");
        } else {
            out.push_str("  - ");
            first = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!("    config: {config}\n"));
    out
}

#[test]
fn about_format_meltano_makes_a_project_meltano_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bin = singer_interop::connectors();
    let sample = singer_interop::workspace_root().join("taps/tap-csv/sample/data/customers.csv");
    let out = dir.path().join("out");
    let project_dir = dir.path().join("project");
    std::fs::create_dir_all(&project_dir).unwrap();
    let tap_about = about(&bin.join("tap-csv"), "meltano");
    let target_about = about(&bin.join("target-jsonl"), "meltano");
    let yml = format!(
        "default_environment: dev\nenvironments:\n  - name: dev\nsend_anonymous_usage_stats: false\n\
         project_id: 5d1c0c0a-2a9e-4c6b-8f0e-3b7a1d2e4f60\nplugins:\n  extractors:\n{}  loaders:\n{}",
        list_item(
            &tap_about,
            &json!({"files": [{"entity": "customers", "path": sample, "keys": ["id"]}]})
        ),
        list_item(&target_about, &json!({"destination_path": out})),
    );
    std::fs::write(project_dir.join("meltano.yml"), &yml).unwrap();
    let m = Meltano::new(&project_dir, &dir.path().join("scratch"));

    // Meltano knows every setting, with the environment variable it reads it from.
    let listed = m.run(&["config", "list", "--all", "tap-csv"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    let definition = records::yaml_to_json(&tap_about);
    for setting in definition["settings"].as_array().unwrap() {
        let name = setting["name"].as_str().unwrap();
        // Meltano's variable name: upper case, every other character `_` (`a.b` → `A_B`).
        let suffix = name
            .to_ascii_uppercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let env = format!("[env: TAP_CSV_{suffix}]");
        assert!(
            listed.contains(&env),
            "`meltano config list --all tap-csv` lacks {env}:\n{listed}"
        );
    }
    assert!(
        !listed.contains("Custom, possibly unsupported"),
        "{listed}\n{yml}"
    );

    // Kinds make Meltano type what users type: integer, boolean, and options it checks.
    m.run(&["config", "set", "tap-csv", "infer_sample_rows", "2"]);
    m.run(&["config", "set", "tap-csv", "infer_types", "yes"]);
    let refused = m.output(
        &["config", "set", "target-jsonl", "compression", "zip"],
        &[],
    );
    assert!(
        !refused.status.success(),
        "`compression: zip` is not one of the options"
    );
    let config = stdout_json(&m.run(&["invoke", "--dump", "config", "tap-csv"]));
    assert_eq!(config["infer_sample_rows"], 2, "{config}");
    assert_eq!(config["infer_types"], true, "{config}");
    assert_eq!(
        config["add_metadata_columns"], false,
        "defaults come from `value`: {config}"
    );

    m.run(&["run", "tap-csv", "target-jsonl"]);
    let customers = records::read_jsonl(&out.join("customers.jsonl"));
    assert_eq!(customers.len(), 5);
    assert_eq!(
        customers[0]["id"], 1,
        "infer_types reached tap-csv: {:?}",
        customers[0]
    );
}
