//! Running connectors as processes: every wait has a deadline, a hung connector is killed.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How to start a connector: a program, its leading arguments, extra environment variables and
/// an optional working directory. The harness appends the Singer flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    argv: Vec<String>,
    env: Vec<(String, String)>,
    dir: Option<PathBuf>,
}

impl Program {
    /// A program with no leading arguments.
    pub fn new(program: impl Into<String>) -> Self {
        Program {
            argv: vec![program.into()],
            env: Vec::new(),
            dir: None,
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
#[derive(Debug)]
pub(crate) struct Run {
    /// `None` only if the process could not be reaped.
    pub(crate) status: Option<ExitStatus>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    /// Killed because it ran past its deadline.
    pub(crate) timed_out: bool,
    /// Killed on purpose by the harness.
    pub(crate) killed: bool,
}

impl Run {
    /// Exited by itself with status 0.
    pub(crate) fn success(&self) -> bool {
        !self.timed_out && !self.killed && self.status.is_some_and(|s| s.success())
    }

    /// "exit code 1", "timed out after …", for messages.
    pub(crate) fn exit(&self) -> String {
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

    /// The last non-blank stderr line, shortened, for messages.
    pub(crate) fn stderr_tail(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        let line = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
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

/// A running process whose output is collected by background threads.
pub(crate) struct Spawned {
    child: Child,
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
        if let Some(out) = child.stdout.take() {
            let (buffer, done_tx) = (stdout.clone(), done_tx.clone());
            let line_tx = lines.then_some(line_tx);
            thread::spawn(move || collect_lines(out, &buffer, line_tx.as_ref(), &done_tx));
        }
        if let Some(mut err) = child.stderr.take() {
            let buffer = stderr.clone();
            thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                while let Ok(n @ 1..) = err.read(&mut chunk) {
                    lock(&buffer).extend_from_slice(&chunk[..n]);
                }
                let _ = done_tx.send(());
            });
        }
        let input = child.stdin.take().map(|pipe| {
            let (tx, rx) = mpsc::channel::<Arc<Vec<u8>>>();
            thread::spawn(move || feed(pipe, &rx));
            tx
        });
        Ok(Spawned {
            child,
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
    pub(crate) fn kill(mut self) -> Run {
        let _ = self.child.kill();
        let mut run = self.finish(Instant::now() + Duration::from_secs(5));
        run.killed = true;
        run
    }

    /// Waits for the process to exit (killing it at the deadline) and collects its output.
    pub(crate) fn finish(mut self, deadline: Instant) -> Run {
        let mut timed_out = false;
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    let _ = self.child.kill();
                    break self.child.wait().ok();
                }
                Ok(None) => {
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
        Run {
            status,
            stdout: std::mem::take(&mut *lock(&self.stdout)),
            stderr: std::mem::take(&mut *lock(&self.stderr)),
            timed_out,
            killed: false,
        }
    }
}

fn lock(buffer: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    buffer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn collect_lines(
    out: impl Read,
    buffer: &Mutex<Vec<u8>>,
    lines: Option<&Sender<Vec<u8>>>,
    done: &Sender<()>,
) {
    let mut reader = BufReader::with_capacity(1 << 16, out);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                lock(buffer).extend_from_slice(&line);
                if let (Some(tx), Some(text)) = (lines, line.strip_suffix(b"\n")) {
                    let _ = tx.send(text.to_vec());
                }
            }
        }
    }
    let _ = done.send(());
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
