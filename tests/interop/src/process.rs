//! Running a child process with a time limit, its output captured, and nothing left behind.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Runs `command` to completion with an empty stdin, capturing stdout and stderr.
///
/// The child leads a process group of its own (Meltano starts the connectors as its
/// children). Past `limit` the whole group is killed; a grandchild still holding the output
/// pipes after the child exited is killed too.
///
/// # Errors
/// The command cannot start, or it ran out of time (the message has what it printed).
pub fn run(command: &mut Command, limit: Duration) -> Result<Output, String> {
    run_with_stdin(command, Stdio::null(), limit)
}

/// [`run`] with `stdin` as the child's standard input (e.g. a file).
///
/// # Errors
/// As [`run`].
pub fn run_with_stdin(
    command: &mut Command,
    stdin: impl Into<Stdio>,
    limit: Duration,
) -> Result<Output, String> {
    let started = Instant::now();
    command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", describe(command)))?;
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let finished = wait(&mut child, started + limit);
    let group = child.id();
    if finished.is_none() {
        kill_group(group);
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for {}: {e}", describe(command)))?;
    // Output pipes close when every process holding them has exited; allow a moment for
    // stragglers in the group, then end them.
    let grace = Instant::now() + Duration::from_secs(5);
    while !(stdout.is_finished() && stderr.is_finished()) && Instant::now() < grace {
        std::thread::sleep(Duration::from_millis(20));
    }
    if !(stdout.is_finished() && stderr.is_finished()) {
        kill_group(group);
    }
    let output = Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    match finished {
        Some(_) => Ok(output),
        None => Err(format!(
            "{} did not finish within {limit:?}; killed. stdout:\n{}\nstderr:\n{}",
            describe(command),
            tail(&output.stdout),
            tail(&output.stderr)
        )),
    }
}

/// The command line, for messages.
#[must_use]
pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// The last 60 lines of some output, for messages.
#[must_use]
pub fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buffer = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buffer);
        }
        buffer
    })
}

/// Polls until the child exits (`Some`) or the deadline passes (`None`).
fn wait(child: &mut Child, deadline: Instant) -> Option<()> {
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Some(()),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) | Err(_) => return None,
        }
    }
}

/// SIGKILL to the process group led by our child `group` (no-op when it is empty).
fn kill_group(group: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
