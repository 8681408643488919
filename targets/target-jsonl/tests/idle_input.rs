//! A load that fails while the tap keeps stdin open and sends nothing more still ends the
//! target with its error: nothing waits for a read that may never return. Each case feeds
//! the target a few lines, keeps the pipe open, and requires the process to exit with the
//! error before a generous deadline (a hang check, not a timing assertion).

use std::io::{Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use target_test_support::{Dest, Target, assert_fails};

const TARGET: Target = Target::jsonl(env!("CARGO_BIN_EXE_target-jsonl"));

const USERS: &str = r#"{"type":"SCHEMA","stream":"users","key_properties":["id"],"schema":{"type":"object","properties":{"id":{"type":"integer"},"zip":{"type":"string"}}}}"#;
const RECORD: &str = r#"{"type":"RECORD","stream":"users","record":{"id":1,"zip":"a"}}"#;
const STATE: &str = r#"{"type":"STATE","value":{"position":1}}"#;

/// Far beyond any normal run: reaching it means the target hangs.
const DEADLINE: Duration = Duration::from_secs(30);

/// Starts the target on `dest` with `workers`, writes `lines` to its stdin and keeps the pipe
/// open; returns its output once it exits, or panics (killing it) when it has not exited by
/// the deadline.
fn run_with_idle_input(dest: &Dest, workers: u64, lines: &[&str]) -> Output {
    let config = dest.config(&json!({"workers": workers, "batch_wait_limit_seconds": 0}));
    let mut child = Command::new(TARGET.bin)
        .args(["--config", &config])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the target starts");
    let mut stdin = child.stdin.take().expect("a stdin pipe");
    for line in lines {
        // The target may already have failed and closed its end: the outcome is what counts.
        let _ = writeln!(stdin, "{line}");
    }
    let _ = stdin.flush();
    let status = wait_or_kill(&mut child);
    drop(stdin);
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut stdout).expect("read stdout");
    }
    if let Some(mut err) = child.stderr.take() {
        err.read_to_end(&mut stderr).expect("read stderr");
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

fn wait_or_kill(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the target") {
            return status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the target did not exit after its load failed while stdin stayed open");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn sink_failure_with_idle_input_exits_with_the_error() {
    for workers in [1, 2, 8] {
        let dest = TARGET.dest();
        std::fs::create_dir_all(dest.out()).expect("mkdir");
        std::os::unix::fs::symlink("/dev/full", dest.out().join("users.jsonl")).expect("symlink");
        let output = run_with_idle_input(&dest, workers, &[USERS, RECORD, STATE]);
        assert_fails(
            &output,
            1,
            &[
                "cannot write 1 record of stream `users`",
                "No space left on device",
            ],
        );
        assert!(output.stdout.is_empty(), "no state may be acknowledged");
    }
}

#[test]
fn invalid_record_with_idle_input_exits_with_the_error() {
    let bad = r#"{"type":"RECORD","stream":"users","record":{"id":2,"zip":5}}"#;
    for workers in [1, 2, 8] {
        let dest = TARGET.dest();
        let output = run_with_idle_input(&dest, workers, &[USERS, RECORD, bad]);
        assert_fails(&output, 1, &["line 3", "`users`", "`/zip`", "rule `type`"]);
    }
}
