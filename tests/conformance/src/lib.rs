//! Black-box Singer spec-conformance checks for taps, targets and mappers written in any language.
//!
//! The harness runs a connector as a process (`--about`, `--discover`, syncs with catalogs and
//! states, targets fed scenario files) and checks what it prints and how it exits. Each check has
//! a stable id such as `tap.discovery.unique-stream-ids`; a failure says what failed and quotes
//! the offending line or field.
//!
//! ```no_run
//! use singer_conformance::{Selection, Target};
//!
//! let report = Target::new("target-jsonl")
//!     .config(serde_json::json!({"destination_path": "{tmpdir}"}))
//!     .run(&Selection::all().skip("target.edge"))
//!     .unwrap();
//! print!("{}", report.to_text());
//! ```
//!
//! - [`Tap`], [`Target`] and [`Mapper`] describe the connector and run the suites into a
//!   [`Report`].
//! - [`libtest`] runs them from a connector's own `cargo test`, one test case per check.
//! - [`Tap::checks`], [`Target::checks`] and [`Mapper::checks`] list every check with what it
//!   verifies and why.
//!
//! Config values may contain `{tmpdir}`: it is replaced by a fresh empty directory for every
//! check, so targets write to a clean destination each time. `{tmpid}` is replaced by
//! [`tmpid`] of that directory, a name for destinations that are not files (a database
//! schema, say).

pub mod catalog;
pub mod check;
mod error;
mod json;
pub mod libtest;
pub mod mapper;
pub mod pipeline;
pub mod process;
pub mod report;
pub mod suite;
pub mod tap;
pub mod target;

use std::path::Path;

use serde_json::Value;

pub use check::{CheckInfo, CheckResult, Outcome, Selection};
pub use error::{Error, Result, read_json};
pub use mapper::{Mapper, MapperSuite};
pub use pipeline::Pipeline;
pub use process::Program;
pub use report::{Format, Kind, Report};
pub use suite::{Connector, Suite};
pub use tap::{Tap, TapSuite};
pub use target::{Target, TargetSuite, Verify, VerifyFn};

impl From<&str> for Program {
    fn from(program: &str) -> Self {
        Program::new(program)
    }
}

impl From<String> for Program {
    fn from(program: String) -> Self {
        Program::new(program)
    }
}

impl From<&Path> for Program {
    fn from(program: &Path) -> Self {
        Program::new(program.display().to_string())
    }
}

/// A short lower-case identifier for a check directory (`[a-z0-9]{16}`), stable for the
/// same path: what `{tmpid}` becomes in a config, for destinations named rather than placed
/// in the directory (a database schema `t_{tmpid}`).
///
/// ```
/// use std::path::Path;
///
/// let id = singer_conformance::tmpid(Path::new("/tmp/.tmpAbC123"));
/// assert_eq!(id.len(), 16);
/// assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
/// assert_eq!(id, singer_conformance::tmpid(Path::new("/tmp/.tmpAbC123")));
/// ```
#[must_use]
pub fn tmpid(dir: &Path) -> String {
    // FNV-1a, 64 bits: stable across runs and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in dir.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Replaces `{tmpdir}` (and `{tmpid}`) in every string of `value` with `dir` (and its
/// [`tmpid`]).
pub(crate) fn substitute_tmpdir(value: &Value, dir: &Path) -> Value {
    match value {
        Value::String(s) if s.contains("{tmpdir}") || s.contains("{tmpid}") => Value::String(
            s.replace("{tmpdir}", &dir.display().to_string())
                .replace("{tmpid}", &tmpid(dir)),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| substitute_tmpdir(v, dir)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute_tmpdir(v, dir)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The records of one BATCH manifest entry (a `file://` URL or a path) in a BATCH message's
/// `encoding`, as the tap checks read them; the fixture target loads BATCH messages with it.
///
/// # Errors
/// Why the file cannot be read or decoded.
#[doc(hidden)]
pub fn read_batch_file(
    entry: &str,
    encoding: &Value,
) -> std::result::Result<Vec<serde_json::Map<String, Value>>, String> {
    tap::read_batch_file(entry, encoding)
}

/// An error and its causes on one line: `a: b: c`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The line of a crash trace that says what went wrong: a Rust panic's message (the line after
/// `panicked at`), else the last `SomeError: ...` / `SomeException: ...` line.
fn crash_cause(stderr: &str, marker_line: &str) -> Option<String> {
    let mut lines = stderr.lines().map(str::trim);
    let cause = if marker_line.contains("panicked at") {
        lines.find(|l| *l == marker_line.trim())?;
        lines.next()
    } else {
        lines.rev().find(|l| error_line(l))
    }?;
    Some(format!("`{}`", cause.chars().take(200).collect::<String>()))
}

/// Whether a stderr line names an error: `SomeError: ...`, `pkg.SomeException: ...`.
pub(crate) fn error_line(line: &str) -> bool {
    let line = line.trim();
    let head = line.split(':').next().unwrap_or_default();
    !head.is_empty()
        && line.len() > head.len()
        && !head.contains(' ')
        && (head.ends_with("Error") || head.ends_with("Exception"))
}

/// Markers of a crash trace on stderr: Rust panics, Python tracebacks, Java and Go traces.
pub(crate) const TRACE_MARKERS: &[&str] = &[
    "panicked at",
    "stack backtrace:",
    "Traceback (most recent call last)",
    "Exception in thread \"",
    "goroutine 1 [",
];

/// A clean failure: non-zero exit before the deadline, a message on stderr, no crash trace,
/// and no stdout line except those `allowed` (e.g. states a target acknowledged before failing).
pub(crate) fn clean_failure(
    run: &process::Run,
    what: &str,
    allowed: impl Fn(&str) -> bool,
) -> check::Verdict {
    use check::fail;
    if run.timed_out || run.overflowed.is_some() {
        return Err(fail(format!("{what}: {}", run.exit())));
    }
    if run.success() {
        return Err(fail(format!("{what}: exit code 0, expected a failure")));
    }
    let stderr = String::from_utf8_lossy(&run.stderr);
    if let Some(marker) = TRACE_MARKERS.iter().find(|m| stderr.contains(**m)) {
        let line = stderr
            .lines()
            .find(|l| l.contains(marker))
            .unwrap_or(marker);
        let cause = crash_cause(&stderr, line).unwrap_or_else(|| run.stderr_tail());
        return Err(fail(format!(
            "{what}: {} but stderr holds a crash trace {} ({cause})",
            run.exit(),
            json::excerpt(line.trim()),
        )));
    }
    if stderr.trim().is_empty() {
        return Err(fail(format!(
            "{what}: {} with nothing on stderr to say why",
            run.exit()
        )));
    }
    let stdout = run.stdout_text();
    if let Some(line) = stdout.lines().find(|l| !l.trim().is_empty() && !allowed(l)) {
        return Err(fail(format!(
            "{what}: {} but stdout holds {}",
            run.exit(),
            json::excerpt(line)
        )));
    }
    Ok(())
}
