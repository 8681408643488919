//! The suites on two third-party Python connectors from PyPI, `tap-jsonl` 0.3.1 and
//! `target-jsonl` 0.1.4 (installed into a cached venv by `scripts/peer`, which needs PyPI only the
//! first time). The set of failed check ids must equal `peers/<name>.expected` (one id per line),
//! so any change in verdicts is noticed. `UPDATE_EXPECTED=1` rewrites the files.

use std::collections::BTreeSet;

mod common;

use common::{here, peer};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::json;
use singer_conformance::{Report, Selection, Tap, Target, Verify};

/// Compares the failed ids with `peers/<name>.expected`.
fn compare(name: &str, report: &Report) -> Result<(), Failed> {
    let file = here().join(format!("peers/{name}.expected"));
    let failed: BTreeSet<String> = report.failed_ids().into_iter().map(str::to_owned).collect();
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        let text: String = failed.iter().map(|id| format!("{id}\n")).collect();
        std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
        return Ok(());
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let expected: BTreeSet<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if failed == expected {
        return Ok(());
    }
    let now_failing: Vec<_> = failed.difference(&expected).collect();
    let now_passing: Vec<_> = expected.difference(&failed).collect();
    Err(format!(
        "verdicts on {name} changed: newly failing {now_failing:?}, no longer failing {now_passing:?} \
         (update peers/{name}.expected and the README if intended; UPDATE_EXPECTED=1 rewrites it)\n{}",
        report.to_text()
    )
    .into())
}

fn tap_jsonl() -> Result<(), Failed> {
    let bin = peer("tap-jsonl")?;
    let data = here().join("peers/tap-jsonl");
    let tap = Tap::new(bin.join("tap-jsonl").as_path()).config(json!({
        "path": format!("{}/*.jsonl", data.display()),
        "stream_name": "people",
        "primary_keys": ["id"]
    }));
    compare("tap-jsonl", &tap.run(&Selection::all())?)
}

fn target_jsonl() -> Result<(), Failed> {
    let bin = peer("target-jsonl")?;
    let target = Target::new(bin.join("target-jsonl").as_path())
        .config(json!({"destination_path": "{tmpdir}", "do_timestamp_file": false}))
        .verify(Verify::Command(
            "cat \"$SINGER_CONFORMANCE_DIR/conformance_kill.jsonl\"".to_owned(),
        ));
    compare("target-jsonl", &target.run(&Selection::all())?)
}

fn main() -> std::process::ExitCode {
    let arguments = Arguments::from_args();
    let trials = vec![
        Trial::test("peer tap-jsonl 0.3.1", tap_jsonl),
        Trial::test("peer target-jsonl 0.1.4", target_jsonl),
    ];
    libtest_mimic::run(&arguments, trials).exit_code()
}
