//! Running connectors as processes: every wait has a deadline, a hung connector is killed, and
//! what a connector writes is kept only up to a limit (a flooding connector is stopped).

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How much of one run's stdout the harness keeps by default (128 MiB): a run that writes more is
/// stopped and fails, so a connector that floods stdout cannot exhaust the harness's memory.
pub const DEFAULT_MAX_OUTPUT: usize = 128 << 20;

/// How much of one run's stderr the harness keeps: the last 1 MiB (at most twice that in memory).
const STDERR_KEPT: usize = 1 << 20;

/// How to start a connector: a program, its leading arguments, extra environment variables and
/// an optional working directory. The harness appends the Singer flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    argv: Vec<String>,
    env: Vec<(String, String)>,
    dir: Option<PathBuf>,
    max_output: usize,
}

impl Program {
    /// A program with no leading arguments.
    pub fn new(program: impl Into<String>) -> Self {
        Program {
            argv: vec![program.into()],
            env: Vec::new(),
            dir: None,
            max_output: DEFAULT_MAX_OUTPUT,
        }
    }

    /// A full command line: the program then its leading arguments.
    ///
    /// # Errors
    /// [`Error::NoCommand`] when `argv` is empty.
    pub fn from_argv(argv: Vec<String>) -> Result<Self> {
        if argv.is_empty() {
            return Err(Error::NoCommand);
        }
        Ok(Program {
            argv,
            env: Vec::new(),
            dir: None,
            max_output: DEFAULT_MAX_OUTPUT,
        })
    }

    /// Adds a leading argument (before the Singer flags).
    #[must_use]
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.argv.push(arg.into());
        self
    }

    /// Sets an environment variable for every run.
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs the connector in this directory.
    #[must_use]
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The most stdout bytes one run may write (default [`DEFAULT_MAX_OUTPUT`]); a run that
    /// writes more is killed and fails its check with a message saying so.
    #[must_use]
    pub fn max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes.max(1);
        self
    }

    /// The program followed by its leading arguments.
    #[must_use]
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// Fails unless the program can be started: it is spawned with `--version` and killed at
    /// once, so a command that does not exist (or is not executable) is one clear error
    /// instead of a failure of every check.
    ///
    /// # Errors
    /// [`Error::Spawn`] when it cannot start.
    pub fn probe(&self) -> Result<()> {
        let mut command = self.command(&["--version".into()]);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            program: self.display(),
            source,
        })?;
        let _ = child.kill();
        let _ = child.wait();
        Ok(())
    }

    /// The command line, for messages.
    #[must_use]
    pub fn display(&self) -> String {
        self.argv.join(" ")
    }

    fn command(&self, args: &[OsString]) -> Command {
        let mut command = Command::new(&self.argv[0]);
        command.args(&self.argv[1..]).args(args);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }
}

/// A finished (or killed) run.
#[derive(Debug, Default)]
pub(crate) struct Run {
    /// `None` only if the process could not be reaped.
    pub(crate) status: Option<ExitStatus>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    /// Killed because it ran past its deadline.
    pub(crate) timed_out: bool,
    /// Killed on purpose by the harness.
    pub(crate) killed: bool,
    /// Killed because stdout passed [`Program::max_output`] (that limit): `stdout` holds what
    /// came before.
    pub(crate) overflowed: Option<usize>,
}

impl Run {
    /// Exited by itself with status 0.
    pub(crate) fn success(&self) -> bool {
        !self.timed_out
            && !self.killed
            && self.overflowed.is_none()
            && self.status.is_some_and(|s| s.success())
    }

    /// "exit code 1", "timed out after …", for messages.
    pub(crate) fn exit(&self) -> String {
        if let Some(limit) = self.overflowed {
            return format!(
                "wrote more than {} to stdout (stopped by the harness; pass a larger --max-output if that much is expected)",
                bytes(limit)
            );
        }
        if self.timed_out {
            return "no exit before the deadline (killed; a hung connector fails)".to_owned();
        }
        match self.status {
            Some(status) => match status.code() {
                Some(code) => format!("exit code {code}"),
                None => format!("{status}"),
            },
            None => "unknown exit status".to_owned(),
        }
    }

    /// stdout as text (lossy).
    pub(crate) fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The last stderr line naming an error (`SomeError: ...`), else the last non-blank one,
    /// shortened, for messages: logs written after the error do not hide it.
    pub(crate) fn stderr_tail(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        let line = text
            .lines()
            .rev()
            .find(|l| crate::error_line(l))
            .or_else(|| text.lines().rev().find(|l| !l.trim().is_empty()))
            .unwrap_or("")
            .trim();
        let short: String = line.chars().take(200).collect();
        if short.is_empty() {
            "(stderr empty)".to_owned()
        } else {
            format!("stderr: `{short}`")
        }
    }

    /// A summary for failure messages: exit and the last stderr line.
    pub(crate) fn describe(&self) -> String {
        format!("{}; {}", self.exit(), self.stderr_tail())
    }
}

/// Runs a program to completion with `input` on stdin (`None`: stdin is `/dev/null`), killing it
/// at the deadline.
///
/// # Errors
/// [`Error::Spawn`] when it cannot start.
pub(crate) fn run(
    program: &Program,
    args: &[OsString],
    input: Option<Arc<Vec<u8>>>,
    timeout: Duration,
) -> Result<Run> {
    let deadline = Instant::now() + timeout;
    let mut child = Spawned::start(program, args, input.is_some(), false)?;
    if let Some(bytes) = input {
        child.send(bytes);
        child.close_input();
    }
    Ok(child.finish(deadline))
}

/// `12 MiB`, `300 KiB`, `17 bytes`.
pub(crate) fn bytes(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// A running process whose output is collected by background threads.
pub(crate) struct Spawned {
    child: Arc<Mutex<Child>>,
    overflow: Arc<AtomicBool>,
    max_output: usize,
    input: Option<Sender<Arc<Vec<u8>>>>,
    lines: Option<Receiver<Vec<u8>>>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    done: Receiver<()>,
}

/// What [`Spawned::next_line`] saw.
pub(crate) enum Line {
    /// A complete stdout line, without its newline.
    Text(Vec<u8>),
    /// stdout closed.
    End,
    /// Nothing before the deadline.
    Timeout,
}

impl Spawned {
    /// Starts the program. With `stdin` the caller feeds input through [`send`](Self::send);
    /// with `lines` complete stdout lines are also delivered through [`next_line`](Self::next_line).
    pub(crate) fn start(
        program: &Program,
        args: &[OsString],
        stdin: bool,
        lines: bool,
    ) -> Result<Spawned> {
        let mut command = program.command(args);
        command
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            program: program.display(),
            source,
        })?;
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, done) = mpsc::channel();
        let (line_tx, line_rx) = mpsc::channel();
        let out = child.stdout.take();
        let err = child.stderr.take();
        let input = child.stdin.take().map(|pipe| {
            let (tx, rx) = mpsc::channel::<Arc<Vec<u8>>>();
            thread::spawn(move || feed(pipe, &rx));
            tx
        });
        let child = Arc::new(Mutex::new(child));
        let overflow = Arc::new(AtomicBool::new(false));
        if let Some(out) = out {
            let collector = Collector {
                buffer: stdout.clone(),
                lines: lines.then_some(line_tx),
                limit: program.max_output,
                child: child.clone(),
                overflow: overflow.clone(),
            };
            let done_tx = done_tx.clone();
            thread::spawn(move || {
                collector.collect(out);
                let _ = done_tx.send(());
            });
        }
        if let Some(mut err) = err {
            let buffer = stderr.clone();
            thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                while let Ok(n @ 1..) = err.read(&mut chunk) {
                    let mut kept = lock(&buffer);
                    kept.extend_from_slice(&chunk[..n]);
                    if kept.len() > 2 * STDERR_KEPT {
                        let cut = kept.len() - STDERR_KEPT;
                        kept.drain(..cut);
                    }
                }
                let _ = done_tx.send(());
            });
        }
        Ok(Spawned {
            child,
            overflow,
            max_output: program.max_output,
            input,
            lines: lines.then_some(line_rx),
            stdout,
            stderr,
            done,
        })
    }

    /// Queues bytes for stdin (written by a background thread, so a stuck reader never blocks us).
    pub(crate) fn send(&self, bytes: Arc<Vec<u8>>) {
        if let Some(input) = &self.input {
            let _ = input.send(bytes);
        }
    }

    /// Closes stdin once the queued bytes are written.
    pub(crate) fn close_input(&mut self) {
        self.input = None;
    }

    /// The next complete stdout line, waiting at most until `deadline`.
    pub(crate) fn next_line(&self, deadline: Instant) -> Line {
        let Some(lines) = &self.lines else {
            return Line::End;
        };
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => Line::Text(line),
            Err(RecvTimeoutError::Timeout) => Line::Timeout,
            Err(RecvTimeoutError::Disconnected) => Line::End,
        }
    }

    /// SIGKILLs the process and collects what it wrote.
    pub(crate) fn kill(self) -> Run {
        let _ = lock(&self.child).kill();
        let mut run = self.finish(Instant::now() + Duration::from_secs(5));
        run.killed = true;
        run
    }

    /// Waits for the process to exit (killing it at the deadline) and collects its output.
    pub(crate) fn finish(mut self, deadline: Instant) -> Run {
        let mut timed_out = false;
        let mut pause = Duration::from_millis(1);
        let status = loop {
            let mut child = lock(&self.child);
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait().ok();
                }
                Ok(None) => {
                    drop(child);
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(_) => break None,
            }
        };
        self.input = None;
        // The pipes close when the process exits, unless a child of it still holds them.
        let grace = Instant::now() + Duration::from_secs(2);
        for _ in 0..2 {
            if self
                .done
                .recv_timeout(grace.saturating_duration_since(Instant::now()))
                .is_err()
            {
                break;
            }
        }
        let overflowed = self
            .overflow
            .load(Ordering::SeqCst)
            .then_some(self.max_output);
        Run {
            status,
            stdout: std::mem::take(&mut *lock(&self.stdout)),
            stderr: std::mem::take(&mut *lock(&self.stderr)),
            timed_out: timed_out && overflowed.is_none(),
            killed: false,
            overflowed,
        }
    }
}

fn lock<T>(value: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    value
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads a child's stdout into `buffer` (and complete lines into `lines`), at most `limit`
/// bytes: past that the child is killed and `overflow` set.
struct Collector {
    buffer: Arc<Mutex<Vec<u8>>>,
    lines: Option<Sender<Vec<u8>>>,
    limit: usize,
    child: Arc<Mutex<Child>>,
    overflow: Arc<AtomicBool>,
}

impl Collector {
    fn collect(self, out: impl Read) {
        let mut reader = BufReader::with_capacity(1 << 16, out);
        let mut line = Vec::new();
        let mut total = 0usize;
        loop {
            let chunk = match reader.fill_buf() {
                Ok([]) | Err(_) => break,
                Ok(chunk) => chunk,
            };
            let (take, complete) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            total += take;
            if total > self.limit {
                self.overflow.store(true, Ordering::SeqCst);
                let _ = lock(&self.child).kill();
                return;
            }
            line.extend_from_slice(&chunk[..take]);
            reader.consume(take);
            if complete {
                lock(&self.buffer).extend_from_slice(&line);
                if let (Some(tx), Some(text)) = (&self.lines, line.strip_suffix(b"\n")) {
                    let _ = tx.send(text.to_vec());
                }
                line.clear();
            }
        }
        lock(&self.buffer).extend_from_slice(&line);
    }
}

fn feed(mut pipe: ChildStdin, input: &Receiver<Arc<Vec<u8>>>) {
    while let Ok(bytes) = input.recv() {
        if pipe.write_all(&bytes).and_then(|()| pipe.flush()).is_err() {
            return;
        }
    }
}

/// Runs `sh -c command` (a user's verify hook) with extra environment variables.
pub(crate) fn shell(command: &str, env: &[(&str, String)], timeout: Duration) -> Result<Run> {
    let mut program = Program::new("sh").arg("-c").arg(command);
    for (key, value) in env {
        program = program.env(*key, value.clone());
    }
    run(&program, &[], None, timeout)
}
