//! The Python package end to end: builds the wheel with `maturin` (from a cached venv), installs
//! it into a fresh venv with pytest, and runs the pytest plugin on this repository's tap-csv,
//! target-jsonl and map-transform, on a singer-sdk tap and target from PyPI (`tap-jsonl`,
//! `meltanolabs-target-csv`, whose failed checks must be those in `peers/<name>.expected`), on
//! fixture connectors broken on purpose, which must fail pytest naming the broken check, with
//! its options set from a `conftest.py`, and on a command that does not exist (one clean
//! failure with the harness's error). Also `pip install tests/conformance` from the source tree.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{binary, here, peer};

/// The build directory this test's binaries are in (`<target dir>/debug/..`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_singer-conformance"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// A fresh venv with the wheel and pytest installed, built once for all tests.
fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-package/build");
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).unwrap();
        let maturin = peer("maturin").expect("maturin from PyPI").join("maturin");
        let wheels = scratch.join("wheels");
        run(Command::new(maturin)
            .args(["build", "--quiet", "--manifest-path"])
            .arg(here().join("Cargo.toml"))
            .arg("--out")
            .arg(&wheels)
            .env("CARGO_TARGET_DIR", target_dir()));
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
        assert_current(&venv.join("bin/singer-conformance"));
        venv
    })
}

/// The installed `singer-conformance` lists the checks of the library this test is built
/// with: the wheel does not carry a stale binary.
fn assert_current(harness: &Path) {
    let listed = run(Command::new(harness).args(["checks", "--json"]));
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    let listed: Vec<&str> = listed.iter().filter_map(|c| c["id"].as_str()).collect();
    let current: Vec<&str> = singer_conformance::Tap::checks()
        .chain(singer_conformance::Target::checks())
        .chain(singer_conformance::Mapper::checks())
        .chain(singer_conformance::pipeline::CHECKS.iter().copied())
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, current, "{} is stale", harness.display());
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
    let mut all = vec!["-p", "singer_conformance", "--singer-config=config.json"];
    all.extend_from_slice(args);
    pytest_in(name, &all, &[("config.json", &config.to_string())], env)
}

/// Runs pytest (`-q`, no cache, `--junitxml`) with `args` in a fresh directory holding `files`
/// (name, content); returns its output and the ids of the failed test cases from its JUnit XML.
fn pytest_in(
    name: &str,
    args: &[&str],
    files: &[(&str, &str)],
    env: &[(&str, &str)],
) -> (Output, BTreeSet<String>) {
    let venv = venv();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("python-package/runs")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, content) in files {
        std::fs::write(dir.join(file), content).unwrap();
    }
    let junit = dir.join("junit.xml");
    let mut command = Command::new(venv.join("bin/pytest"));
    command
        .current_dir(&dir)
        .args(["-q", "-p", "no:cacheprovider"])
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

#[test]
fn a_conftest_sets_the_options() {
    // No option on the command line: the plugin, the tap, its config, a skip and a harness
    // option all come from `conftest.py`, as the package's docs show.
    let fixture = env!("CARGO_BIN_EXE_fixture-tap");
    let conftest = format!(
        r#"pytest_plugins = ["singer_conformance"]


def pytest_configure(config):
    config.option.singer_tap = "{fixture}"
    config.option.singer_config = "config.json"
    config.option.singer_skip = ["tap.sync.keys-unique"]
    config.option.singer_arg = ["--timeout=30"]
"#
    );
    let files = [
        ("conftest.py", conftest.as_str()),
        ("config.json", r#"{"greeting": "hello"}"#),
    ];
    // Broken for the skipped check: pytest passes only if the skip was read.
    let env = [("FIXTURE_BREAK", "tap.sync.keys-unique")];
    let (output, failed) = pytest_in("conftest", &["-k", "sync"], &files, &env);
    assert!(
        output.status.success() && failed.is_empty(),
        "{}",
        text(&output)
    );
    let sync = singer_conformance::Tap::checks()
        .filter(|c| c.id.starts_with("tap.sync."))
        .count();
    let summary = format!("{} passed", sync - 1);
    assert!(text(&output).contains(&summary), "{}", text(&output));
}

#[test]
fn mappers_run_under_pytest() {
    let mapper = binary("map-transform").unwrap();
    let (output, failed) = pytest(
        "map-transform",
        &[
            &format!("--singer-mapper={}", mapper.display()),
            "--singer-arg=--stream-maps",
        ],
        &serde_json::json!({}),
        &[],
    );
    assert!(
        output.status.success() && failed.is_empty(),
        "{}",
        text(&output)
    );
    let all = singer_conformance::Mapper::checks().count();
    assert!(
        text(&output).contains(&format!("{all} passed")),
        "{}",
        text(&output)
    );

    let fixture = env!("CARGO_BIN_EXE_fixture-mapper");
    let (output, failed) = pytest(
        "broken-mapper",
        &[&format!("--singer-mapper={fixture}"), "-k", "mapper.edge"],
        &serde_json::json!({}),
        &[("FIXTURE_BREAK", "mapper.edge.empty-input")],
    );
    assert!(!output.status.success(), "{}", text(&output));
    assert_eq!(
        failed,
        BTreeSet::from(["mapper.edge.empty-input".to_owned()])
    );
    assert!(
        text(&output).contains("FAIL mapper.edge.empty-input"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_connector_that_does_not_exist_fails_cleanly() {
    let start = Instant::now();
    let (output, failed) = pytest(
        "missing-command",
        &["--singer-target=/nonexistent/target-nothing --flag"],
        &serde_json::json!({"destination_path": "{tmpdir}"}),
        &[],
    );
    let all = text(&output);
    // One failure carrying the harness's error, then the session stops: not one per check.
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(failed.len(), 1, "{all}");
    assert!(
        all.contains("cannot start `/nonexistent/target-nothing --flag`"),
        "{all}"
    );
    assert!(all.contains("singer-conformance could not run"), "{all}");
    for crash in [
        "Traceback",
        "INTERNALERROR",
        "site-packages/singer_conformance",
    ] {
        assert!(!all.contains(crash), "{crash} in {all}");
    }
    assert!(start.elapsed() < Duration::from_secs(60), "{all}");
}

/// `pip install tests/conformance`: the package builds from the source tree (PEP 517, maturin
/// from PyPI in pip's isolated build environment) into a fresh venv. The build uses the dev
/// profile and the shared target directory, as the wheel above does: a release build of the
/// harness from scratch takes minutes, and what this proves (the source tree packages, with
/// the workspace it inherits from, its README and the plugin) does not depend on the profile.
#[test]
fn pip_installs_the_package_from_its_source_tree() {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-package/source");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let venv = scratch.join("venv");
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(here())
        .env("CARGO_TARGET_DIR", target_dir())
        .env("MATURIN_PEP517_ARGS", "--profile dev"));
    assert_current(&venv.join("bin/singer-conformance"));
    let version = run(Command::new(venv.join("bin/singer-conformance")).arg("--version"));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("singer-conformance {}", env!("CARGO_PKG_VERSION"))
    );
    // The metadata PyPI shows: the crate's version, and the README with absolute links.
    // The plugin module is installed (importing it needs pytest, which this venv lacks).
    let script = "import importlib.metadata as m, importlib.util as u\n\
                  assert u.find_spec('singer_conformance'), 'no singer_conformance module'\n\
                  d = m.metadata('singer-conformance')\n\
                  print(d['Version'])\n\
                  print(d.get_payload())";
    let metadata = run(Command::new(venv.join("bin/python")).args(["-c", script]));
    let metadata = String::from_utf8_lossy(&metadata.stdout);
    assert!(
        metadata.starts_with(&format!("{}\n", env!("CARGO_PKG_VERSION"))),
        "{metadata}"
    );
    let docs = format!(
        "({}/blob/main/docs/conformance-in-ci.md)",
        env!("CARGO_PKG_REPOSITORY")
    );
    assert!(metadata.contains(&docs), "{metadata}");
}
