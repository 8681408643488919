//! Pipeline mode: the fixtures piped together pass, a target that acknowledges state before it
//! stores the records and a tap whose state skips records fail `pipeline.kill.no-loss`, and
//! this repository's `tap-csv` piped into its `target-jsonl` and `target-sqlite` passes through
//! the command line.

use std::path::Path;
use std::process::Command;

mod common;

use common::{binary, root};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use singer_conformance::{Outcome, Pipeline, Program, Report};

const FIXTURE_TAP: &str = env!("CARGO_BIN_EXE_fixture-tap");
const FIXTURE_TARGET: &str = env!("CARGO_BIN_EXE_fixture-target");
const CLI: &str = env!("CARGO_BIN_EXE_singer-conformance");

fn write(path: &Path, text: &str) -> Result<String, Failed> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

/// The fixture tap and target with these breaks, the target writing into `dir`.
fn fixtures(dir: &Path, tap_break: &str, target_break: &str) -> Result<Pipeline, Failed> {
    let tap_config = write(&dir.join("tap.json"), r#"{"greeting": "hi"}"#)?;
    let out = dir.join("out");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let target_config = write(
        &dir.join("target.json"),
        &serde_json::json!({"destination_path": out}).to_string(),
    )?;
    let tap = Program::new(FIXTURE_TAP)
        .arg("--config")
        .arg(tap_config)
        .env("FIXTURE_BREAK", tap_break);
    let target = Program::new(FIXTURE_TARGET)
        .arg("--config")
        .arg(target_config)
        .env("FIXTURE_BREAK", target_break);
    Ok(Pipeline::new(tap, target)
        .verify(format!("cat '{}'/*.jsonl", out.display()))
        .ack_timeout(std::time::Duration::from_secs(3)))
}

fn outcome<'a>(report: &'a Report, id: &str) -> Result<&'a Outcome, Failed> {
    report
        .get(id)
        .map(|r| &r.outcome)
        .ok_or_else(|| format!("{id} did not run").into())
}

fn fixtures_pass() -> Result<(), Failed> {
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let report = fixtures(dir.path(), "", "")?.seed(seed).run()?;
        if !report.is_success() || report.results.iter().any(|r| r.outcome != Outcome::Pass) {
            return Err(format!("seed {seed}:\n{}", report.to_text()).into());
        }
    }
    Ok(())
}

/// The target acknowledges each STATE but keeps records in memory until its input ends: killed,
/// it loses them, which only the verify command can see.
fn target_acknowledging_early_fails() -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let report = fixtures(dir.path(), "", "target.state.after-commit")?
        .seed(1)
        .run()?;
    match outcome(&report, "pipeline.kill.no-loss")? {
        Outcome::Fail(m) if m.contains("verify command") => Ok(()),
        other => Err(format!(
            "expected a loss seen by the verify command: {other:?}\n{}",
            report.to_text()
        )
        .into()),
    }
}

/// The tap's intermediate STATEs bookmark records it has not emitted yet: resuming skips them.
fn tap_state_ahead_fails() -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let report = fixtures(dir.path(), "tap.kill.resume", "")?.seed(1).run()?;
    match outcome(&report, "pipeline.kill.no-loss")? {
        Outcome::Fail(m) if m.contains("neither received before acknowledged STATE") => Ok(()),
        other => Err(format!("expected a lost record: {other:?}\n{}", report.to_text()).into()),
    }
}

/// Three CSV files of `rows` rows each (one stream each, so the tap emits several STATEs), as
/// tap-csv's `files` setting.
fn csv_files(dir: &Path, rows: usize) -> Result<Value, Failed> {
    let mut files = Vec::new();
    for entity in ["customers", "orders", "products"] {
        let mut text = String::from("id,name,updated_at\n");
        for i in 1..=rows {
            text.push_str(&format!(
                "{i},{entity} {i},2024-01-01T00:{:02}:00Z\n",
                i % 60
            ));
        }
        let path = write(&dir.join(format!("{entity}.csv")), &text)?;
        files.push(
            serde_json::json!({"entity": entity, "path": path, "keys": ["id"],
            "replication_key": "updated_at"}),
        );
    }
    Ok(Value::Array(files))
}

/// `singer-conformance pipeline` with the tap-csv command and this target command.
fn cli_pipeline(dir: &Path, target: &[String], verify: &str) -> Result<(), Failed> {
    let tap = binary("tap-csv")?;
    let files = csv_files(dir, 40)?;
    let tap_config = write(
        &dir.join("tap.json"),
        &serde_json::json!({"files": files, "infer_types": true}).to_string(),
    )?;
    let output = Command::new(CLI)
        .args([
            "pipeline", "--seed", "5", "--format", "json", "--verify", verify, "--",
        ])
        .arg(&tap)
        .args(["--config", &tap_config, "--"])
        .args(target)
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout)
        .map_err(|e| format!("{e}: {stdout} {}", String::from_utf8_lossy(&output.stderr)))?;
    if output.status.code() != Some(0) || report["passed"] != 3 || report["kind"] != "pipeline" {
        return Err(format!("{report:#}").into());
    }
    Ok(())
}

fn tap_csv_into_target_jsonl() -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let bin = binary("target-jsonl")?;
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let config = write(
        &dir.path().join("target.json"),
        &serde_json::json!({"destination_path": out, "batch_wait_limit_seconds": 1}).to_string(),
    )?;
    let target = vec![bin.display().to_string(), "--config".to_owned(), config];
    cli_pipeline(
        dir.path(),
        &target,
        &format!("cat '{}'/*.jsonl", out.display()),
    )
}

fn tap_csv_into_target_sqlite() -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let target = binary("target-sqlite")?;
    let db = dir.path().join("db.sqlite");
    let config = write(
        &dir.path().join("target.json"),
        &serde_json::json!({"path_to_db": db, "batch_wait_limit_seconds": 1}).to_string(),
    )?;
    let target = vec![target.display().to_string(), "--config".to_owned(), config];
    // Every stream's rows as JSON objects, one a line.
    let verify = format!(
        "for t in customers orders products; do sqlite3 -json '{}' \"select id from $t\" | python3 -c 'import json,sys; [print(json.dumps(r)) for r in json.load(sys.stdin)]'; done",
        db.display()
    );
    cli_pipeline(dir.path(), &target, &verify)
}

fn main() -> std::process::ExitCode {
    let _ = root();
    let arguments = Arguments::from_args();
    let mut trials = vec![
        Trial::test("fixtures_pass", fixtures_pass),
        Trial::test(
            "target_acknowledging_early_fails",
            target_acknowledging_early_fails,
        ),
        Trial::test("tap_state_ahead_fails", tap_state_ahead_fails),
        Trial::test("tap_csv_into_target_jsonl", tap_csv_into_target_jsonl),
    ];
    if Path::new("/usr/bin/sqlite3").exists() {
        trials.push(Trial::test(
            "tap_csv_into_target_sqlite",
            tap_csv_into_target_sqlite,
        ));
    }
    libtest_mimic::run(&arguments, trials).exit_code()
}
