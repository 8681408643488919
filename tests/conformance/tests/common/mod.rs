//! Helpers the harness's integration tests share: the workspace root, this repository's
//! connector binaries (freshly built), and Python peers in cached venvs.

#![allow(dead_code)] // each test file uses a part

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::Failed;

pub(crate) fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `<build dir>/<name>`, freshly built with `cargo build -p <name>` (a no-op when up to date, as
/// under `cargo test --workspace`), so the verdicts are about the current code.
pub(crate) fn binary(name: &str) -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_BIN_EXE_singer-conformance"))
        .parent()
        .ok_or("no build directory")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .args(["build", "-q", "-p", name])
        .current_dir(root());
    if dir.ends_with("release") {
        command.arg("--release");
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "`cargo build -p {name}` failed:\n{}",
            tail.join("\n")
        ));
    }
    let path = dir.join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} does not exist after building", path.display()))
    }
}

/// The peer's `bin` directory, from `scripts/peer NAME`.
pub(crate) fn peer(name: &str) -> Result<PathBuf, Failed> {
    let script = here().join("../../scripts/peer");
    let output = Command::new("bash")
        .arg(&script)
        .arg(name)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "`scripts/peer {name}` failed (it needs python3 and, the first time, PyPI): {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim(),
    ))
}
