//! Running a [`Target`] binary, and what to assert about its output.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::Target;

impl Target {
    /// A command for the binary: `RUST_LOG` removed, the target's own environment set.
    #[must_use]
    pub fn command(&self) -> Command {
        let mut command = Command::new(self.bin);
        command
            .env_remove("RUST_LOG")
            .envs(self.env.iter().copied());
        command
    }

    /// Runs the binary with `args`, feeding `stdin`; asserts it did not panic.
    ///
    /// # Panics
    /// When it cannot be started, or panicked.
    pub fn run<A: AsRef<OsStr>>(&self, args: &[A], stdin: &[u8]) -> Output {
        self.run_env(args, stdin, &[])
    }

    /// [`run`](Self::run) with extra environment variables.
    ///
    /// # Panics
    /// When it cannot be started, or panicked.
    pub fn run_env<A: AsRef<OsStr>>(
        &self,
        args: &[A],
        stdin: &[u8],
        env: &[(&str, &str)],
    ) -> Output {
        let mut child = self
            .command()
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin));
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.to_vec();
        let feeder = std::thread::spawn(move || {
            // The target may stop reading early on bad input: a broken pipe is expected then.
            let _ = input.write_all(&data);
        });
        let output = child.wait_with_output().expect("wait for the target");
        feeder.join().expect("feeder");
        let err = stderr(&output);
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "the target panicked:\n{err}"
        );
        output
    }

    /// `--about --format json`, parsed.
    ///
    /// # Panics
    /// When the run fails or its stdout is not JSON.
    #[must_use]
    pub fn about(&self) -> Value {
        let output = self.run(&["--about", "--format", "json"], b"");
        assert_ok(&output);
        serde_json::from_slice(&output.stdout).expect("`--about --format json` prints JSON")
    }

    /// Runs `--config config --input input`.
    ///
    /// # Panics
    /// As [`run`](Self::run).
    pub fn run_file(&self, config: impl AsRef<Path>, input: impl AsRef<Path>) -> Output {
        let args = [
            OsStr::new("--config"),
            config.as_ref().as_os_str(),
            OsStr::new("--input"),
            input.as_ref().as_os_str(),
        ];
        self.run(&args, b"")
    }

    /// Runs `--config config`, feeding `input` on stdin.
    ///
    /// # Panics
    /// As [`run`](Self::run).
    pub fn run_stdin(&self, config: impl AsRef<Path>, input: &[u8]) -> Output {
        self.run(
            &[OsStr::new("--config"), config.as_ref().as_os_str()],
            input,
        )
    }
}

/// stdout as text.
///
/// # Panics
/// When it is not UTF-8.
#[must_use]
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

/// stderr as text (lossy).
#[must_use]
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The state values the target acknowledged, one per stdout line (each must be bare JSON).
///
/// # Panics
/// When a line is not JSON.
#[must_use]
pub fn states(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
        })
        .collect()
}

/// The Singer messages of an input, one per line (lines that are not JSON are skipped).
#[must_use]
pub fn messages(input: impl AsRef<[u8]>) -> Vec<Value> {
    String::from_utf8_lossy(input.as_ref())
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The STATE values of an input, in order.
#[must_use]
pub fn input_states(input: impl AsRef<[u8]>) -> Vec<Value> {
    messages(input)
        .into_iter()
        .filter(|m| m["type"] == "STATE")
        .map(|m| m["value"].clone())
        .collect()
}

/// Messages as Singer input: one JSON line each.
#[must_use]
pub fn lines(messages: &[Value]) -> Vec<u8> {
    messages
        .iter()
        .flat_map(|m| format!("{m}\n").into_bytes())
        .collect()
}

/// Exit 0 (showing stderr if not).
///
/// # Panics
/// When the run failed.
pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}, stderr:\n{}",
        output.status.code(),
        stderr(output)
    );
}

/// A clean load of `input`: exit 0, and the states on stdout relayed from it (see
/// [`assert_states_relayed`]).
///
/// # Panics
/// When it was not.
pub fn assert_loaded(output: &Output, input: impl AsRef<[u8]>) {
    assert_ok(output);
    assert_states_relayed(input, &states(output));
}

/// `emitted` are STATE values of `input`, in input order, ending with its last one.
///
/// # Panics
/// When they are not.
pub fn assert_states_relayed(input: impl AsRef<[u8]>, emitted: &[Value]) {
    let states = input_states(input);
    let mut rest = states.iter();
    for state in emitted {
        assert!(
            rest.any(|s| s == state),
            "emitted state {state} is not an input state (in order); input: {states:?}"
        );
    }
    assert_eq!(emitted.last(), states.last(), "last state");
}

/// A failure: exit `code`, one `error: ` line on stderr, every fragment in the report from that
/// line on, and no panic or backtrace.
///
/// # Panics
/// When it was not.
pub fn assert_fails(output: &Output, code: i32, fragments: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr:\n{err}");
    assert!(!err.contains("stack backtrace"), "backtrace:\n{err}");
    let errors = err.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(errors, 1, "one `error: ` line expected:\n{err}");
    let report = err
        .lines()
        .skip_while(|l| !l.starts_with("error: "))
        .collect::<Vec<_>>()
        .join("\n");
    for fragment in fragments {
        assert!(
            report.contains(fragment),
            "expected {fragment:?} in the report:\n{err}"
        );
    }
}
