//! The Python package end to end: builds the wheel with `maturin` (from a cached venv), installs
//! it into a fresh venv with pytest, and runs the pytest plugin on this repository's tap-csv
//! and target-jsonl, on a singer-sdk tap and target from PyPI (`tap-jsonl`,
//! `meltanolabs-target-csv`, whose failed checks must be those in `peers/<name>.expected`), and
//! on the fixture tap broken on purpose, which must fail pytest naming the broken check.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{binary, here, peer};

/// A fresh venv with the wheel and pytest installed, built once for all tests.
fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-package/build");
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).unwrap();
        let target_dir = Path::new(env!("CARGO_BIN_EXE_singer-conformance"))
            .ancestors()
            .nth(2)
            .unwrap()
            .to_path_buf();
        let maturin = peer("maturin").expect("maturin from PyPI").join("maturin");
        let wheels = scratch.join("wheels");
        run(Command::new(maturin)
            .args(["build", "--quiet", "--manifest-path"])
            .arg(here().join("Cargo.toml"))
            .arg("--out")
            .arg(&wheels)
            .env("CARGO_TARGET_DIR", &target_dir));
        let venv = scratch.join("venv");
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        let wheel = std::fs::read_dir(&wheels)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
            .expect("a wheel");
        run(Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pytest==8.3.5",
            ])
            .arg(wheel));
        venv
    })
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs pytest with the plugin in a fresh directory; returns its output and the ids of the
/// failed test cases from its JUnit XML.
fn pytest(
    name: &str,
    args: &[&str],
    config: &serde_json::Value,
    env: &[(&str, &str)],
) -> (Output, BTreeSet<String>) {
    let venv = venv();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("python-package/runs")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let junit = dir.join("junit.xml");
    let mut command = Command::new(venv.join("bin/pytest"));
    command
        .current_dir(&dir)
        .args(["-p", "singer_conformance", "-q", "-p", "no:cacheprovider"])
        .arg(format!("--singer-config={}", config_path.display()))
        .arg(format!("--junitxml={}", junit.display()))
        .args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    let failed = xml
        .split("<testcase")
        .skip(1)
        .filter(|case| case.contains("<failure"))
        .filter_map(|case| {
            case.split(" name=\"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .collect();
    (output, failed)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn expected(name: &str) -> BTreeSet<String> {
    let file = here().join(format!("peers/{name}.expected"));
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn our_tap_and_target_pass_under_pytest() {
    let tap = binary("tap-csv").unwrap();
    let data = here().join("../../taps/tap-csv/sample/data/customers.csv");
    let config = serde_json::json!({"files": [{"entity": "customers", "path": data, "keys": ["id"], "replication_key": "updated_at"}], "infer_types": true});
    let (output, failed) = pytest(
        "tap-csv",
        &[&format!("--singer-tap={}", tap.display())],
        &config,
        &[],
    );
    assert!(
        output.status.success() && failed.is_empty(),
        "{}",
        text(&output)
    );
    assert!(text(&output).contains("passed"), "{}", text(&output));

    let target = binary("target-jsonl").unwrap();
    let (output, failed) = pytest(
        "target-jsonl",
        &[
            &format!("--singer-target={}", target.display()),
            "--singer-arg=--verify=cat \"$SINGER_CONFORMANCE_DIR\"/conformance_kill.jsonl",
        ],
        &serde_json::json!({"destination_path": "{tmpdir}"}),
        &[],
    );
    assert!(
        output.status.success() && failed.is_empty(),
        "{}",
        text(&output)
    );
}

#[test]
fn singer_sdk_connectors_from_pypi_get_their_known_verdicts() {
    let tap = peer("tap-jsonl").unwrap().join("tap-jsonl");
    let data = here().join("peers/tap-jsonl");
    let config = serde_json::json!({
        "path": format!("{}/*.jsonl", data.display()),
        "stream_name": "people",
        "primary_keys": ["id"]
    });
    let (output, failed) = pytest(
        "tap-jsonl",
        &[&format!("--singer-tap={}", tap.display())],
        &config,
        &[],
    );
    assert_eq!(failed, expected("tap-jsonl"), "{}", text(&output));
    assert_eq!(
        output.status.success(),
        failed.is_empty(),
        "{}",
        text(&output)
    );

    let target = peer("meltanolabs-target-csv").unwrap().join("target-csv");
    let (output, failed) = pytest(
        "meltanolabs-target-csv",
        &[&format!("--singer-target={}", target.display())],
        &serde_json::json!({"output_path": "{tmpdir}"}),
        &[],
    );
    assert_eq!(
        failed,
        expected("meltanolabs-target-csv"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_broken_connector_fails_pytest_naming_the_check() {
    let fixture = env!("CARGO_BIN_EXE_fixture-tap");
    let config = serde_json::json!({"greeting": "hello"});
    let (output, failed) = pytest(
        "broken",
        &[&format!("--singer-tap={fixture}")],
        &config,
        &[("FIXTURE_BREAK", "tap.sync.keys-unique")],
    );
    assert!(!output.status.success(), "{}", text(&output));
    assert_eq!(failed, BTreeSet::from(["tap.sync.keys-unique".to_owned()]));
    assert!(
        text(&output).contains("FAIL tap.sync.keys-unique"),
        "{}",
        text(&output)
    );

    // -k selects checks by id; --singer-skip leaves one out.
    let (output, failed) = pytest(
        "selected",
        &[
            &format!("--singer-tap={fixture}"),
            "-k",
            "discovery",
            "--singer-skip=tap.discovery.with-state",
        ],
        &config,
        &[("FIXTURE_BREAK", "tap.sync.keys-unique")],
    );
    assert!(
        output.status.success() && failed.is_empty(),
        "{}",
        text(&output)
    );
    let discovery = singer_conformance::Tap::checks()
        .filter(|c| c.id.starts_with("tap.discovery."))
        .count();
    let summary = format!("{} passed", discovery - 1);
    assert!(text(&output).contains(&summary), "{}", text(&output));
}
