//! The Singer conformance suites on `{{ cookiecutter.target_id }}`, one test case per check:
//! `cargo test --test conformance` (add `-- target.scenario` to run one suite).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::{Value, json};
use singer_conformance::{Selection, Target, Verify, libtest};

fn main() -> ExitCode {
    // `{tmpdir}` becomes a fresh directory for every check.
    let bin = env!("CARGO_BIN_EXE_{{ cookiecutter.target_id }}");
    let target = Target::new(bin)
        .config(json!({"destination_path": "{tmpdir}/out", "batch_wait_limit_seconds": 1}))
        .verify(Verify::Function(Arc::new(loaded_ids)));
    libtest::run(&target, &Selection::all())
}

/// The ids the target wrote to the file of the `conformance_kill` stream.
fn loaded_ids(dir: &Path) -> Result<Vec<i64>, String> {
    let path = dir.join("out/conformance_kill.jsonl");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    text.lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line)
                .map_err(|e| format!("{}: {e}: {line}", path.display()))?;
            record["id"].as_i64().ok_or_else(|| {
                format!("{}: a record without an integer id: {line}", path.display())
            })
        })
        .collect()
}
