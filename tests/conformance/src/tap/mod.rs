//! The tap suites: a [`Tap`] to test, and the context its checks share (one `--about`, one
//! discovery, one clean sync, run lazily and reused).

mod about;
mod attributes;
mod catalog;
mod config;
mod discovery;
mod incremental;
mod kill;
mod output;
mod selection;
mod sync;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::catalog::Catalog;
use serde_json::Value;

use crate::check::{self, Check, CheckInfo, Outcome, Selection, fail};
use crate::error::{Error, Result};
use crate::process::{self, Program, Run};
use crate::report::{Kind, Report};

pub(crate) use output::{Msg, Output, parse};

/// A tap under test: how to start it and the files to give it.
///
/// ```no_run
/// use singer_conformance::{Selection, Tap};
///
/// let report = Tap::new("tap-csv")
///     .config(serde_json::json!({"files": [{"entity": "x", "path": "x.csv", "keys": ["id"]}]}))
///     .run(&Selection::all())
///     .unwrap();
/// assert!(report.is_success(), "{}", report.to_text());
/// ```
#[derive(Debug, Clone)]
pub struct Tap {
    pub(crate) program: Program,
    pub(crate) config: Value,
    pub(crate) catalog: Option<Value>,
    pub(crate) state: Option<Value>,
    pub(crate) timeout: Duration,
    pub(crate) threads: usize,
}

impl Tap {
    /// A tap started as `program` (a path, or a [`Program`] with leading arguments).
    pub fn new(program: impl Into<Program>) -> Self {
        Tap {
            program: program.into(),
            config: Value::Object(serde_json::Map::new()),
            catalog: None,
            state: None,
            timeout: Duration::from_secs(20),
            threads: 4,
        }
    }

    /// The config to run it with (written to a temporary file). The string `{tmpdir}` inside
    /// values is replaced by a fresh directory per check.
    #[must_use]
    pub fn config(mut self, config: Value) -> Self {
        self.config = config;
        self
    }

    /// The catalog for sync runs. Without one, the harness runs `--discover` and selects every
    /// stream and field, as Meltano's default `select: ["*.*"]` does.
    #[must_use]
    pub fn catalog(mut self, catalog: Value) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// A state to pass along with `--discover` (as Meltano does). Without one, the final state
    /// of a clean sync is used.
    #[must_use]
    pub fn state(mut self, state: Value) -> Self {
        self.state = Some(state);
        self
    }

    /// The deadline of one connector run (default 20 s); a run past it is killed and fails.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many checks run at once (default 4).
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Every tap check, in run order.
    pub fn checks() -> impl Iterator<Item = CheckInfo> {
        registry().iter().map(|c| c.info)
    }

    /// Runs the selected checks.
    ///
    /// # Errors
    /// [`Error::Io`] when the temporary directory cannot be created. Faults of the tap are
    /// check failures in the report, not errors.
    pub fn run(&self, selection: &Selection) -> Result<Report> {
        let context = Context::new(self.clone())?;
        let results = check::run_all(&context, registry(), selection, self.threads);
        Ok(Report::new(Kind::Tap, self.program.display(), results))
    }

    /// A shared context for running checks one by one (the libtest integration).
    pub(crate) fn context(&self) -> Result<Context> {
        Context::new(self.clone())
    }
}

/// Every tap check.
pub(crate) fn registry() -> &'static [Check<Context>] {
    static ALL: OnceLock<Vec<Check<Context>>> = OnceLock::new();
    ALL.get_or_init(|| {
        [
            about::CHECKS,
            discovery::CHECKS,
            sync::CHECKS,
            attributes::CHECKS,
            selection::CHECKS,
            incremental::CHECKS,
            kill::CHECKS,
            config::CHECKS,
        ]
        .into_iter()
        .flat_map(|list| {
            list.iter().map(|c| Check {
                info: c.info,
                run: c.run,
            })
        })
        .collect()
    })
}

/// What the tap checks share. Each artefact is computed once, by whichever check needs it first.
#[doc(hidden)]
pub struct Context {
    pub(crate) tap: Tap,
    dir: tempfile::TempDir,
    files: AtomicUsize,
    about: OnceLock<Result<Value, Outcome>>,
    discovery: OnceLock<Result<(Run, Value), Outcome>>,
    catalog: OnceLock<Result<Catalog, Outcome>>,
    baseline: OnceLock<Result<Output, Outcome>>,
    field_run: OnceLock<Result<(selection::FieldPlan, Output), Outcome>>,
}

impl Context {
    fn new(tap: Tap) -> Result<Context> {
        let dir = tempfile::Builder::new()
            .prefix("singer-conformance-")
            .tempdir()
            .map_err(|e| Error::io("cannot create a temporary directory", e))?;
        Ok(Context {
            tap,
            dir,
            files: AtomicUsize::new(0),
            about: OnceLock::new(),
            discovery: OnceLock::new(),
            catalog: OnceLock::new(),
            baseline: OnceLock::new(),
            field_run: OnceLock::new(),
        })
    }

    /// Writes a JSON file into the context's directory (config values get `{tmpdir}` replaced).
    pub(crate) fn file(&self, name: &str, value: &Value) -> Result<PathBuf, Outcome> {
        let n = self.files.fetch_add(1, Ordering::SeqCst);
        let scratch = self.dir.path().join(format!("scratch-{n}"));
        std::fs::create_dir_all(&scratch)
            .map_err(|e| fail(format!("harness cannot create {}: {e}", scratch.display())))?;
        let value = crate::substitute_tmpdir(value, &scratch);
        let path = self.dir.path().join(format!("{n}-{name}"));
        std::fs::write(&path, value.to_string())
            .map_err(|e| fail(format!("harness cannot write {}: {e}", path.display())))?;
        Ok(path)
    }

    /// Runs the tap with these arguments, no stdin.
    pub(crate) fn run(&self, args: &[OsString]) -> Result<Run, Outcome> {
        process::run(&self.tap.program, args, None, self.tap.timeout)
            .map_err(|e| fail(crate::chain(&e)))
    }

    /// `--config <config> [--catalog C] [--state S]`.
    pub(crate) fn sync_args(
        &self,
        catalog: Option<&Catalog>,
        state: Option<&Value>,
    ) -> Result<Vec<OsString>, Outcome> {
        let mut args = vec![
            "--config".into(),
            self.file("config.json", &self.tap.config)?.into(),
        ];
        if let Some(catalog) = catalog {
            let value = serde_json::to_value(catalog).unwrap_or_default();
            args.extend([
                "--catalog".into(),
                self.file("catalog.json", &value)?.into(),
            ]);
        }
        if let Some(state) = state {
            args.extend(["--state".into(), self.file("state.json", state)?.into()]);
        }
        Ok(args)
    }

    /// A sync run with this catalog and state, parsed.
    pub(crate) fn sync(
        &self,
        catalog: Option<&Catalog>,
        state: Option<&Value>,
    ) -> Result<Output, Outcome> {
        let run = self.run(&self.sync_args(catalog, state)?)?;
        Ok(Output::parse(run))
    }

    /// The parsed `--about --format json` object.
    pub(crate) fn about(&self) -> Result<&Value, Outcome> {
        self.about
            .get_or_init(|| about::load(self))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The `--discover` run and its stdout as JSON.
    pub(crate) fn discovery(&self) -> Result<&(Run, Value), Outcome> {
        self.discovery
            .get_or_init(|| discovery::load(self))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The catalog sync runs use: the one given, or the discovered one with everything selected.
    pub(crate) fn catalog(&self) -> Result<&Catalog, Outcome> {
        self.catalog
            .get_or_init(|| match &self.tap.catalog {
                Some(value) => serde_json::from_value(value.clone())
                    .map_err(|e| fail(format!("the catalog given to the harness is invalid: {e}"))),
                None => {
                    let (_, value) = self.discovery()?;
                    let parsed: Catalog = serde_json::from_value(value.clone())
                        .map_err(|e| fail(format!("discovered catalog is invalid: {e}")))?;
                    Ok(catalog::select_all(parsed))
                }
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A clean sync (no state) with [`catalog`](Self::catalog), whether or not it succeeded.
    pub(crate) fn baseline_raw(&self) -> Result<&Output, Outcome> {
        self.baseline
            .get_or_init(|| self.sync(Some(self.catalog()?), None))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The clean sync; fails the calling check if the tap failed.
    pub(crate) fn baseline(&self) -> Result<&Output, Outcome> {
        self.baseline_raw().and_then(|output| {
            if output.run.success() {
                Ok(output)
            } else {
                Err(fail(format!(
                    "the clean sync run failed: {}",
                    output.run.describe()
                )))
            }
        })
    }
}
