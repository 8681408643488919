//! The builder shared by the three suites: a [`Connector`] is a program, its config, a deadline
//! and a thread count, plus what one suite alone needs (its [`Suite`] options).

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::check::{self, Check, CheckInfo, Outcome, Selection, fail};
use crate::error::{Error, Result};
use crate::process::Program;
use crate::report::{Kind, Report};

/// A connector under test: [`Tap`](crate::Tap), [`Target`](crate::Target) or
/// [`Mapper`](crate::Mapper), each a `Connector` with that suite's options.
///
/// ```no_run
/// use std::time::Duration;
/// use singer_conformance::{Selection, Target};
///
/// let report = Target::new("target-jsonl")
///     .config(serde_json::json!({"destination_path": "{tmpdir}"}))
///     .timeout(Duration::from_secs(60))
///     .threads(2)
///     .run(&Selection::all())
///     .unwrap();
/// assert!(report.is_success(), "{}", report.to_text());
/// ```
#[derive(Debug, Clone)]
pub struct Connector<S: Suite> {
    pub(crate) program: Program,
    pub(crate) config: Value,
    pub(crate) timeout: Duration,
    pub(crate) threads: usize,
    /// What only this suite needs.
    pub(crate) suite: S,
}

/// The options of one suite, and how its checks are found and given their shared context.
pub trait Suite: Debug + Clone + Default + Send + Sync + 'static {
    /// What the suite's checks share.
    #[doc(hidden)]
    type Context: Send + Sync + 'static;

    /// Which kind of connector the suite tests (names the report).
    const KIND: Kind;

    /// The checks, in run order.
    #[doc(hidden)]
    fn registry() -> &'static [Check<Self::Context>];

    /// A fresh context for one run of the suite.
    ///
    /// # Errors
    /// When the harness cannot create its temporary directory.
    #[doc(hidden)]
    fn context(connector: &Connector<Self>) -> Result<Self::Context>;
}

impl<S: Suite> Connector<S> {
    /// A connector started as `program` (a path, or a [`Program`] with leading arguments), with
    /// config `{}`, a 20 s deadline per run and 4 checks at once.
    pub fn new(program: impl Into<Program>) -> Self {
        Connector {
            program: program.into(),
            config: Value::Object(serde_json::Map::new()),
            timeout: Duration::from_secs(20),
            threads: 4,
            suite: S::default(),
        }
    }

    /// The config to run it with (written to a temporary file). The string `{tmpdir}` inside
    /// values is replaced by a fresh directory per check.
    #[must_use]
    pub fn config(mut self, config: Value) -> Self {
        self.config = config;
        self
    }

    /// The deadline of one connector run (default 20 s); a run past it is killed and fails.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most stdout bytes one connector run may write (default 128 MiB); a run that writes
    /// more is stopped and fails its check, so the harness's memory stays bounded.
    #[must_use]
    pub fn max_output(mut self, bytes: usize) -> Self {
        self.program = self.program.max_output(bytes);
        self
    }

    /// How many checks run at once (default 4).
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Every check of the suite, in run order.
    pub fn checks() -> impl Iterator<Item = CheckInfo> {
        S::registry().iter().map(|c| c.info)
    }

    /// Runs the selected checks.
    ///
    /// # Errors
    /// [`Error::Spawn`] when the program cannot be started at all (see [`Program::probe`]);
    /// [`Error::Io`] when the temporary directory cannot be created. Faults of the connector
    /// are check failures in the report, not errors.
    pub fn run(&self, selection: &Selection) -> Result<Report> {
        self.program.probe()?;
        let context = S::context(self)?;
        let results = check::run_all(&context, S::registry(), selection, self.threads);
        Ok(Report::new(S::KIND, self.program.display(), results))
    }
}

/// The checks of several lists, in order, as one registry.
pub(crate) fn registry<C>(lists: &[&[Check<C>]]) -> Vec<Check<C>> {
    lists.iter().flat_map(|list| list.iter().copied()).collect()
}

/// The temporary directory of one suite run: every check writes its files into a directory of
/// its own inside it.
pub(crate) struct Workdir {
    dir: tempfile::TempDir,
    count: AtomicUsize,
}

/// A fresh check directory (the check's `{tmpdir}`) and a JSON file written for it.
pub(crate) struct Scratch {
    pub(crate) dir: PathBuf,
    pub(crate) file: PathBuf,
}

impl Workdir {
    pub(crate) fn new() -> Result<Workdir> {
        let dir = tempfile::Builder::new()
            .prefix("singer-conformance-")
            .tempdir()
            .map_err(|e| Error::io("cannot create a temporary directory", e))?;
        Ok(Workdir {
            dir,
            count: AtomicUsize::new(0),
        })
    }

    /// Creates a fresh check directory and writes `value` (with `{tmpdir}` replaced by that
    /// directory) to a file named after `name` beside it.
    pub(crate) fn write(&self, name: &str, value: &Value) -> Result<Scratch, Outcome> {
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        let dir = self.dir.path().join(format!("check-{n}"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| fail(format!("harness cannot create {}: {e}", dir.display())))?;
        let value = crate::substitute_tmpdir(value, &dir);
        let file = self.dir.path().join(format!("{n}-{name}"));
        std::fs::write(&file, value.to_string())
            .map_err(|e| fail(format!("harness cannot write {}: {e}", file.display())))?;
        Ok(Scratch { dir, file })
    }
}
