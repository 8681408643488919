//! BATCH messages between our connectors and singer-sdk's, both ways: singer-sdk's tap-jsonl
//! writing batch files into our target-jsonl, and our batch files (written by the SDK's
//! `BatchWriter`) into singer-sdk's meltanolabs-target-csv, in JSON Lines and Parquet, gzip
//! or not. Each BATCH load must give the same records as the RECORD load of the same data.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use singer_interop::process;
use singer_interop::records::{self, Kind};
use target_test_support::batch::{ENCODINGS, batched, config, sample_input};

/// Runs `program` with `args`, `stdin` as input; its stdout. Panics when it fails.
fn pipe(program: &Path, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), stdin).unwrap();
    let mut command = Command::new(program);
    command.args(args).env_remove("RUST_LOG");
    let stdin = std::fs::File::open(input.path()).unwrap();
    let output = process::run_with_stdin(&mut command, stdin, Duration::from_secs(300))
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} failed ({}):\n{}",
        program.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn write_json(path: &Path, value: &Value) -> String {
    std::fs::write(path, value.to_string()).unwrap();
    path.display().to_string()
}

fn kind(column: &str) -> Kind {
    match column {
        "id" | "score" | "order_id" | "user_id" | "total" => Kind::Number,
        "active" => Kind::Boolean,
        "signed_up" | "_sdc_last_modified" => Kind::DateTime,
        _ => Kind::String,
    }
}

#[test]
fn singer_sdk_tap_batch_files_load_into_our_target() {
    let ours = singer_interop::connectors().join("target-jsonl");
    let tap = singer_interop::peer("tap-jsonl").join("tap-jsonl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("events.jsonl");
    let lines: Vec<String> = (1..=7)
        .map(|i| {
            json!({"id": i, "name": format!("event {i}"), "nested": {"n": i, "tags": ["a", "b"]}})
                .to_string()
        })
        .collect();
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let tap_config = |batch: Option<Value>| {
        let mut config = json!({"path": data, "stream_name": "events", "primary_keys": ["id"]});
        if let Some(batch) = batch {
            config["batch_config"] = batch;
        }
        config
    };
    let load = |name: &str, tap_config: &Value| -> Vec<String> {
        let tap_file = write_json(&dir.path().join(format!("{name}-tap.json")), tap_config);
        let messages = pipe(&tap, &["--config", &tap_file], b"");
        let out = dir.path().join(name);
        let target_file = write_json(
            &dir.path().join(format!("{name}-target.json")),
            &json!({"destination_path": out}),
        );
        pipe(&ours, &["--config", &target_file], &messages);
        if name != "records" {
            let text = String::from_utf8_lossy(&messages).into_owned();
            assert!(
                text.contains("\"BATCH\""),
                "{name}: tap-jsonl sent no BATCH"
            );
            assert!(
                !text.contains("\"RECORD\""),
                "{name}: tap-jsonl sent RECORDs"
            );
        }
        records::canonical(
            &records::read_jsonl(&out.join("events.jsonl")),
            kind,
            |_| true,
        )
    };
    let expected = load("records", &tap_config(None));
    assert_eq!(expected.len(), 7);
    for (format, compression) in ENCODINGS {
        let batch = json!({
            "encoding": {"format": format, "compression": compression},
            "storage": {"root": format!("file://{}", dir.path().join("batches").display())},
            "batch_size": 3
        });
        let got = load(
            &format!("batch-{format}-{compression}"),
            &tap_config(Some(batch)),
        );
        records::assert_same(
            "RECORDs",
            &expected,
            &format!("BATCH {format}/{compression}"),
            &got,
        );
    }
}

#[test]
fn our_batch_files_load_into_a_singer_sdk_target() {
    let target = singer_interop::peer("meltanolabs-target-csv").join("target-csv");
    let dir = tempfile::tempdir().unwrap();
    let input = sample_input();
    let load = |name: &str, messages: &[u8]| -> Vec<Vec<String>> {
        let out = dir.path().join(name);
        let config = write_json(
            &dir.path().join(format!("{name}.json")),
            &json!({"output_path": out}),
        );
        pipe(&target, &["--config", &config], messages);
        ["users", "orders"]
            .iter()
            .map(|stream| {
                let read = records::read_csv(&out.join(format!("{stream}.csv")));
                records::canonical(&read, kind, |_| true)
            })
            .collect()
    };
    let expected = load("records", &input);
    assert_eq!(expected[0].len(), 5);
    for (format, compression) in ENCODINGS {
        let root = dir.path().join("batches").display().to_string();
        let messages = batched(&input, &config(&root, format, compression, &json!({})));
        let got = load(&format!("batch-{format}-{compression}"), &messages);
        for (stream, (want, got)) in ["users", "orders"].iter().zip(expected.iter().zip(&got)) {
            records::assert_same(
                &format!("{stream} from RECORDs"),
                want,
                &format!("{stream} from BATCH {format}/{compression}"),
                got,
            );
        }
    }
}
