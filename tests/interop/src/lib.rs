//! Helpers for the end-to-end tests in `tests/`: building the Rust connectors, installing the
//! Python peers (`scripts/peer`), running processes with a time limit, driving a real Meltano
//! project in a scratch directory, and comparing the records different targets wrote.
//!
//! Nothing here is a library for users: it exists so the tests read as what they prove.

pub mod meltano;
pub mod process;
pub mod records;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The repository root (the Cargo workspace).
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The directory holding the built Rust connectors `tap-csv`, `target-jsonl` and
/// `target-sqlite`, built once per test process (`cargo build -p ...`, a no-op when they are
/// fresh). Tests that need another binary call [`build`] for it.
///
/// # Panics
/// When the build fails.
pub fn connectors() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        build(&["tap-csv", "target-jsonl", "target-sqlite"]).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Builds the binaries of `packages` with the profile this test was built with, and returns
/// the directory they are in.
///
/// # Errors
/// Cargo's output when the build fails (e.g. a package that is not in the workspace).
pub fn build(packages: &[&str]) -> Result<PathBuf, String> {
    let dir = bin_dir()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--quiet", "--locked"]);
    match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(profile) => {
            command.args(["--profile", profile]);
        }
    }
    for package in packages {
        command.args(["-p", package]);
    }
    let output = process::run(&mut command, Duration::from_secs(900))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build -p {} failed ({}):\n{}",
            packages.join(" -p "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    for package in packages {
        if !dir.join(package).is_file() {
            return Err(format!("cargo built no `{package}` in {}", dir.display()));
        }
    }
    Ok(dir)
}

/// `<target>/<profile>`: where Cargo puts the binaries of the profile this test runs in
/// (the test itself is `<target>/<profile>/deps/<name>-<hash>`).
fn bin_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the test binary: {e}"))?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("unexpected test binary path {}", exe.display()))
}

/// The `bin` directory of a Python peer's cached virtual environment (`scripts/peer NAME`:
/// `meltano`, `singer-sdk`, `target-jsonl`, `tap-jsonl`, `meltanolabs-target-csv`,
/// `tap-rest-api-msdk`), installed from PyPI on first use.
///
/// # Panics
/// When the install fails.
#[must_use]
pub fn peer(name: &str) -> PathBuf {
    // One install at a time: two tests installing the same venv would trample each other.
    static INSTALLS: Mutex<()> = Mutex::new(());
    let _guard = INSTALLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut command = Command::new(workspace_root().join("scripts/peer"));
    command.arg(name);
    let output = process::run(&mut command, Duration::from_secs(900))
        .unwrap_or_else(|e| panic!("scripts/peer {name}: {e}"));
    assert!(
        output.status.success(),
        "scripts/peer {name} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dir = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    assert!(
        dir.is_dir(),
        "scripts/peer {name} printed no directory: {stdout}"
    );
    dir
}
