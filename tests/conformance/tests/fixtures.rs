//! Proof that the verdicts are right: every check passes on the well-behaved fixtures (tap, target,
//! mapper) and fails on a fixture broken for exactly that check; every registered check has such a
//! fixture case. Plus the command line: exit codes and report formats.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Value, json};
use singer_conformance::{
    CheckResult, Connector, Mapper, Outcome, Program, Selection, Suite, Tap, Target, Verify,
    libtest,
};

const FIXTURE_TAP: &str = env!("CARGO_BIN_EXE_fixture-tap");
const FIXTURE_TARGET: &str = env!("CARGO_BIN_EXE_fixture-target");
const FIXTURE_MAPPER: &str = env!("CARGO_BIN_EXE_fixture-mapper");
const CLI: &str = env!("CARGO_BIN_EXE_singer-conformance");

fn tap(broken: &str) -> Tap {
    Tap::new(Program::new(FIXTURE_TAP).env("FIXTURE_BREAK", broken))
        .config(json!({"greeting": "hi"}))
}

fn target(broken: &str) -> Target {
    Target::new(Program::new(FIXTURE_TARGET).env("FIXTURE_BREAK", broken))
        .config(json!({"destination_path": "{tmpdir}"}))
        .verify(Verify::Function(Arc::new(|dir: &Path| {
            let text =
                std::fs::read_to_string(dir.join("conformance_kill.jsonl")).unwrap_or_default();
            text.lines()
                .map(|l| {
                    let value: Value = serde_json::from_str(l).map_err(|e| e.to_string())?;
                    value["id"].as_i64().ok_or_else(|| format!("no id in {l}"))
                })
                .collect()
        })))
}

fn mapper(broken: &str) -> Mapper {
    Mapper::new(Program::new(FIXTURE_MAPPER).env("FIXTURE_BREAK", broken))
        .config(json!({}))
        .stream_maps(true)
}

/// Runs one check on a fixture broken for it; it must fail.
fn must_fail(report: &singer_conformance::Report, id: &str) -> Result<(), Failed> {
    match report.get(id).map(|r| &r.outcome) {
        Some(Outcome::Fail(_)) => Ok(()),
        Some(other) => {
            Err(format!("{id} did not fail on a fixture broken for it: {other:?}").into())
        }
        None => Err(format!("{id} did not run").into()),
    }
}

fn breaks(fixture: &str) -> BTreeSet<String> {
    let output = Command::new(fixture)
        .arg("--list-breaks")
        .output()
        .expect("fixture runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn every_check_has_a_fixture_case() -> Result<(), Failed> {
    for (fixture, registered) in [
        (
            FIXTURE_TAP,
            Tap::checks()
                .map(|c| c.id.to_owned())
                .collect::<BTreeSet<_>>(),
        ),
        (
            FIXTURE_TARGET,
            Target::checks().map(|c| c.id.to_owned()).collect(),
        ),
        (
            FIXTURE_MAPPER,
            Mapper::checks().map(|c| c.id.to_owned()).collect(),
        ),
    ] {
        let cases = breaks(fixture);
        let missing: Vec<_> = registered.difference(&cases).collect();
        let stale: Vec<_> = cases.difference(&registered).collect();
        if !missing.is_empty() || !stale.is_empty() {
            return Err(format!("{fixture}: checks without a fixture case {missing:?}; fixture cases without a check {stale:?}").into());
        }
    }
    let mut ids = BTreeSet::new();
    for check in Tap::checks()
        .chain(Target::checks())
        .chain(Mapper::checks())
    {
        if !ids.insert(check.id) || check.what.is_empty() || check.why.is_empty() {
            return Err(format!("{}: duplicate id or missing explanation", check.id).into());
        }
    }
    Ok(())
}

/// The README's check table names every check.
fn readme_lists_every_check() -> Result<(), Failed> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .map_err(|e| e.to_string())?;
    let missing: Vec<&str> = Tap::checks()
        .chain(Target::checks())
        .chain(Mapper::checks())
        .map(|c| c.id)
        .filter(|id| !readme.contains(&format!("| `{id}` |")))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("README.md lacks {missing:?}; regenerate the table with `singer-conformance checks --markdown`").into())
    }
}

/// The README is the package's long description on PyPI, where relative links break: every
/// link is absolute, and those into this repository (`CARGO_PKG_REPOSITORY`) name a path that
/// exists.
fn readme_links_are_absolute() -> Result<(), Failed> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(here.join("README.md")).map_err(|e| e.to_string())?;
    let repository = env!("CARGO_PKG_REPOSITORY");
    let mut bad = Vec::new();
    for rest in readme.split("](").skip(1) {
        let link = rest.split(')').next().unwrap_or_default();
        if !link.starts_with("https://") && !link.starts_with("http://") {
            bad.push(format!("{link}: not absolute"));
        } else if let Some(path) = link.strip_prefix(repository) {
            let path = path
                .strip_prefix("/blob/main/")
                .or_else(|| path.strip_prefix("/tree/main/"));
            let exists = path.is_some_and(|p| here.join("../..").join(p).exists());
            if !exists {
                bad.push(format!(
                    "{link}: no such file on branch main of this repository"
                ));
            }
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("README.md links: {bad:?}").into())
    }
}

fn scenario_copies_match_shared() -> Result<(), Failed> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/singer-sdk-streams");
    if !shared.is_dir() {
        return Ok(());
    }
    for (name, content) in singer_conformance::target::scenarios() {
        let original = std::fs::read_to_string(shared.join(format!("{name}.singer")))
            .map_err(|e| format!("{name}: {e}"))?;
        if original != content {
            return Err(format!("scenarios/{name}.singer differs from shared/conformance").into());
        }
    }
    let count = std::fs::read_dir(&shared)
        .map_err(|e| e.to_string())?
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "singer"))
        })
        .count();
    if count != singer_conformance::target::scenarios().count() {
        return Err(format!(
            "shared/conformance has {count} .singer files; the harness embeds a different number"
        )
        .into());
    }
    Ok(())
}

fn cli(args: &[&str], broken: &str) -> std::process::Output {
    Command::new(CLI)
        .args(args)
        .env("FIXTURE_BREAK", broken)
        .output()
        .expect("singer-conformance runs")
}

fn cli_exit_codes_and_formats() -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"greeting": "hi"}"#).map_err(|e| e.to_string())?;
    let config = config.to_str().ok_or("path")?;
    // The about suite on the tap fixture, with `extra` options.
    let tap_about = |extra: &[&str], broken: &str| {
        let mut args = vec!["tap", "--config", config, "--suite", "about"];
        args.extend_from_slice(extra);
        args.extend(["--", FIXTURE_TAP]);
        cli(&args, broken)
    };
    let good = tap_about(&["--format", "json"], "");
    if good.status.code() != Some(0) {
        return Err(format!(
            "well-behaved fixture: {:?} {}",
            good.status,
            String::from_utf8_lossy(&good.stdout)
        )
        .into());
    }
    let report: Value = serde_json::from_slice(&good.stdout).map_err(|e| e.to_string())?;
    if report["failed"] != 0 || report["passed"] != 4 {
        return Err(format!("unexpected JSON report {report}").into());
    }
    let bad = tap_about(&["--format", "junit"], "tap.about.version");
    let xml = String::from_utf8_lossy(&bad.stdout);
    if bad.status.code() != Some(1)
        || !xml.contains("<failure")
        || !xml.contains("tap.about.version")
    {
        return Err(format!("broken fixture: {:?} {xml}", bad.status).into());
    }
    let skipped = tap_about(&["--skip", "tap.about.version"], "tap.about.version");
    if skipped.status.code() != Some(0) {
        return Err("--skip of the failing check should make the run pass".into());
    }
    let usage = cli(&["tap", "--config", config], "");
    if usage.status.code() != Some(2) {
        return Err(format!(
            "a missing command should be a usage error, got {:?}",
            usage.status
        )
        .into());
    }
    let listing = cli(&["checks", "--markdown"], "");
    let table = String::from_utf8_lossy(&listing.stdout);
    if !table.contains("| `tap.discovery.unique-stream-ids` |")
        || !table.contains("| `target.state.after-commit` |")
        || !table.contains("| `mapper.state.after-records` |")
    {
        return Err("`checks --markdown` lacks ids".into());
    }
    cli_mapper(config)
}

/// `singer-conformance mapper`: the alias check is opt-in, failures exit 1 with the id.
fn cli_mapper(config: &str) -> Result<(), Failed> {
    let mapper_args = |extra: &[&'static str]| {
        let mut args = vec!["mapper", "--config", config, "--format", "json"];
        args.extend_from_slice(extra);
        args.extend(["--", FIXTURE_MAPPER]);
        args
    };
    let plain = cli(&mapper_args(&["--suite", "mapper.alias"]), "");
    let report: Value = serde_json::from_slice(&plain.stdout).map_err(|e| e.to_string())?;
    if plain.status.code() != Some(0) || report["skipped"] != 1 || report["kind"] != "mapper" {
        return Err(format!("without --stream-maps the alias check should skip: {report}").into());
    }
    let opted = cli(
        &mapper_args(&["--stream-maps", "--suite", "mapper.alias"]),
        "",
    );
    let report: Value = serde_json::from_slice(&opted.stdout).map_err(|e| e.to_string())?;
    if opted.status.code() != Some(0) || report["passed"] != 1 {
        return Err(format!("with --stream-maps the alias check should pass: {report}").into());
    }
    let broken = cli(
        &mapper_args(&["--suite", "mapper.state"]),
        "mapper.state.in-order",
    );
    let report: Value = serde_json::from_slice(&broken.stdout).map_err(|e| e.to_string())?;
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "fail")
        .filter_map(|c| c["id"].as_str())
        .collect();
    if broken.status.code() != Some(1) || !failed.contains(&"mapper.state.in-order") {
        return Err(format!("a broken mapper should fail in-order: {report}").into());
    }
    Ok(())
}

/// The results of `checks` on `fixture` hanging (`FIXTURE_HANG`), with a 1 s deadline.
fn hung<S: Suite>(
    fixture: &str,
    checks: [&str; 2],
    options: impl FnOnce(Connector<S>) -> Connector<S>,
) -> Result<Vec<CheckResult>, Failed> {
    let program = Program::new(fixture).env("FIXTURE_HANG", "1");
    let connector = options(Connector::<S>::new(program).timeout(Duration::from_secs(1)));
    let selection = checks.iter().fold(Selection::all(), |s, c| s.suite(*c));
    Ok(connector.run(&selection)?.results)
}

/// A hung connector fails its checks at the deadline instead of hanging the suite.
fn hung_connectors_fail_in_time() -> Result<(), Failed> {
    let start = std::time::Instant::now();
    let tap = hung(
        FIXTURE_TAP,
        ["tap.about.version", "tap.sync.exit-success"],
        |tap: Tap| tap.config(json!({"greeting": "hi"})),
    )?;
    let target = hung(
        FIXTURE_TARGET,
        ["target.edge.huge-line", "target.state.after-commit"],
        |target: Target| {
            target
                .config(json!({"destination_path": "{tmpdir}"}))
                .ack_timeout(Duration::from_secs(1))
        },
    )?;
    let mapper = hung(
        FIXTURE_MAPPER,
        ["mapper.state.in-order", "mapper.edge.empty-input"],
        |mapper: Mapper| mapper,
    )?;
    for result in tap.iter().chain(&target).chain(&mapper) {
        let message = result.outcome.message().unwrap_or_default();
        let expected = matches!(result.outcome, Outcome::Fail(_)) && message.contains("deadline")
            || result.info.id == "target.state.after-commit"
                && matches!(result.outcome, Outcome::Skip(_));
        if !expected {
            return Err(format!("{}: {:?}", result.info.id, result.outcome).into());
        }
    }
    if start.elapsed() > Duration::from_secs(15) {
        return Err(format!("took {:?}", start.elapsed()).into());
    }
    Ok(())
}

/// The command line with extra environment variables: exit code, stdout, stderr.
fn cli_env(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = Command::new(CLI)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("singer-conformance runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Bad input to the harness itself is one clear error (exit 2) or a verdict (exit 1), never a
/// hang, a panic or a report of every check failing for the same reason.
fn bad_input_to_the_harness() -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let good = dir.path().join("config.json");
    std::fs::write(&good, r#"{"greeting": "hi"}"#).map_err(|e| e.to_string())?;
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"greeting\": hi}").map_err(|e| e.to_string())?;
    let missing = dir.path().join("missing.json");
    let [good, bad, missing] = [&good, &bad, &missing].map(|p| p.display().to_string());
    let no_trace = |what: &str, stderr: &str| {
        if stderr.contains("panicked") || stderr.contains("backtrace") {
            Err(format!("{what}: a crash instead of an error: {stderr}"))
        } else {
            Ok(())
        }
    };
    let cases: [(&str, Vec<&str>, &str); 4] = [
        (
            "a command that does not exist",
            vec!["tap", "--config", &good, "--", "/nonexistent/tap-nothing"],
            "cannot start `/nonexistent/tap-nothing`; check that it exists and is executable",
        ),
        (
            "a command not on PATH",
            vec![
                "target",
                "--config",
                &good,
                "--",
                "target-surely-not-installed",
            ],
            "cannot start `target-surely-not-installed`",
        ),
        (
            "a config file that does not parse",
            vec!["tap", "--config", &bad, "--", FIXTURE_TAP],
            "is not valid JSON; fix the file or pass another one: expected value at line 1",
        ),
        (
            "a config file that does not exist",
            vec!["mapper", "--config", &missing, "--", FIXTURE_MAPPER],
            "cannot read",
        ),
    ];
    for (what, args, expected) in cases {
        let (code, stdout, stderr) = cli_env(&args, &[]);
        no_trace(what, &stderr)?;
        if code != Some(2) || !stderr.contains(expected) || !stdout.is_empty() {
            return Err(format!(
                "{what}: expected exit 2 and `{expected}` on stderr, got {code:?}: {stderr} {stdout}"
            )
            .into());
        }
    }
    let start = std::time::Instant::now();
    let args = [
        "tap",
        "--config",
        &good,
        "--timeout",
        "1",
        "--suite",
        "tap.about.version",
        "--suite",
        "tap.sync.exit-success",
        "--format",
        "json",
        "--",
        FIXTURE_TAP,
    ];
    let (code, stdout, stderr) = cli_env(&args, &[("FIXTURE_HANG", "1")]);
    no_trace("a hung tap", &stderr)?;
    let report: Value = serde_json::from_str(&stdout).map_err(|e| format!("{e}: {stdout}"))?;
    if code != Some(1) || report["failed"] != 2 || !stdout.contains("deadline") {
        return Err(format!("a hung tap: expected two failures at the deadline: {report}").into());
    }
    if start.elapsed() > Duration::from_secs(20) {
        return Err(format!("a hung tap took {:?}", start.elapsed()).into());
    }
    flooding_connectors(&good, &dir.path().display().to_string())
}

/// A connector flooding stdout (`FIXTURE_FLOOD=lines` or `bytes`), the checks run on it, and
/// the `--max-output` given (`None`: the default).
struct Flood {
    kind: &'static str,
    checks: &'static [&'static str],
    flood: &'static str,
    max_output: Option<&'static str>,
}

/// Connectors flooding stdout (`FIXTURE_FLOOD`) are stopped at `--max-output` (1 MiB here) and
/// at the default 128 MiB, their checks failing saying so, with no hang and no crash.
fn flooding_connectors(tap_config: &str, dir: &str) -> Result<(), Failed> {
    let target_config = format!("{dir}/target.json");
    std::fs::write(&target_config, r#"{"destination_path": "{tmpdir}"}"#)
        .map_err(|e| e.to_string())?;
    let mapper_config = format!("{dir}/mapper.json");
    std::fs::write(&mapper_config, "{}").map_err(|e| e.to_string())?;
    let flood = |kind, checks, flood, max_output| Flood {
        kind,
        checks,
        flood,
        max_output,
    };
    let cases = [
        flood(
            "tap",
            &["tap.sync.exit-success", "tap.about.parses"],
            "lines",
            Some("1"),
        ),
        flood(
            "tap",
            &["tap.sync.exit-success", "tap.about.parses"],
            "bytes",
            Some("1"),
        ),
        flood(
            "target",
            &["target.edge.empty-input", "target.state.last-relayed"],
            "lines",
            Some("1"),
        ),
        flood(
            "mapper",
            &["mapper.edge.empty-input", "mapper.state.in-order"],
            "bytes",
            Some("1"),
        ),
        // The default cap, without writing much more than it: under 2 s on a debug build.
        flood("target", &["target.edge.empty-input"], "lines", None),
    ];
    for Flood {
        kind,
        checks,
        flood,
        max_output,
    } in cases
    {
        let (config, fixture) = match kind {
            "tap" => (tap_config, FIXTURE_TAP),
            "target" => (target_config.as_str(), FIXTURE_TARGET),
            _ => (mapper_config.as_str(), FIXTURE_MAPPER),
        };
        let start = std::time::Instant::now();
        let mut args = vec![kind, "--config", config, "--format", "json"];
        for check in checks {
            args.extend(["--suite", check]);
        }
        if let Some(mib) = max_output {
            args.extend(["--max-output", mib]);
        }
        args.extend(["--", fixture]);
        let (code, stdout, stderr) = cli_env(&args, &[("FIXTURE_FLOOD", flood)]);
        let what = format!("a {kind} flooding stdout with {flood}");
        if stderr.contains("panicked") || stderr.contains("backtrace") {
            return Err(format!("{what}: a crash instead of a verdict: {stderr}").into());
        }
        let report: Value =
            serde_json::from_str(&stdout).map_err(|e| format!("{what}: {e}: {stdout}"))?;
        let messages: Vec<&str> = report["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["message"].as_str())
            .collect();
        let limit = format!(
            "wrote more than {} MiB to stdout",
            max_output.unwrap_or("128")
        );
        if code != Some(1)
            || report["failed"] != checks.len()
            || !messages.iter().all(|m| m.contains(&limit))
        {
            return Err(
                format!("{what}: expected every check to fail with `{limit}`: {report}").into(),
            );
        }
        if start.elapsed() > Duration::from_secs(20) {
            return Err(format!("{what} took {:?}", start.elapsed()).into());
        }
    }
    Ok(())
}

/// The suite on the well-behaved fixture (every check must pass), then one case per check on
/// the fixture broken for it (that check must fail).
fn suite_trials<S: Suite>(fixture: fn(&str) -> Connector<S>) -> Vec<Trial> {
    let good = libtest::trials(&fixture(""), &Selection::all()).expect("fixture context");
    let mut trials: Vec<Trial> = good
        .into_iter()
        .map(|t| t.with_kind("well-behaved"))
        .collect();
    trials.extend(Connector::<S>::checks().map(|check| {
        Trial::test(check.id, move || {
            let report = fixture(check.id).run(&Selection::all().suite(check.id))?;
            must_fail(&report, check.id)
        })
        .with_kind("must-fail")
    }));
    trials
}

fn main() -> std::process::ExitCode {
    let arguments = Arguments::from_args();
    let mut trials = vec![
        Trial::test(
            "every_check_has_a_fixture_case",
            every_check_has_a_fixture_case,
        ),
        Trial::test("scenario_copies_match_shared", scenario_copies_match_shared),
        Trial::test("readme_lists_every_check", readme_lists_every_check),
        Trial::test("readme_links_are_absolute", readme_links_are_absolute),
        Trial::test("cli_exit_codes_and_formats", cli_exit_codes_and_formats),
        Trial::test("hung_connectors_fail_in_time", hung_connectors_fail_in_time),
        Trial::test("bad_input_to_the_harness", bad_input_to_the_harness),
    ];
    trials.extend(suite_trials(tap));
    trials.extend(suite_trials(target));
    trials.extend(suite_trials(mapper));
    libtest_mimic::run(&arguments, trials).exit_code()
}
