//! The tap suites: a [`Tap`] to test, and the context its checks share (one `--about`, one
//! discovery, one clean sync, run lazily and reused).

mod about;
mod attributes;
mod batch;
mod catalog;
mod config;
mod discovery;
mod incremental;
mod kill;
mod modes;
mod output;
mod partitions;
mod selection;
mod sync;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::catalog::Catalog;
use crate::check::{Check, Outcome, fail};
use crate::error::Result;
use crate::process::{self, Run};
use crate::report::Kind;
use crate::suite::{self, Connector, Suite, Workdir};

pub(crate) use batch::{parquet_file, read as read_batch_file};
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
pub type Tap = Connector<TapSuite>;

/// What only the tap suite needs: an optional catalog and state.
#[derive(Debug, Clone, Default)]
pub struct TapSuite {
    pub(crate) catalog: Option<Value>,
    pub(crate) state: Option<Value>,
}

impl Suite for TapSuite {
    type Context = Context;
    const KIND: Kind = Kind::Tap;

    fn registry() -> &'static [Check<Context>] {
        static ALL: OnceLock<Vec<Check<Context>>> = OnceLock::new();
        ALL.get_or_init(|| {
            suite::registry(&[
                about::CHECKS,
                discovery::CHECKS,
                sync::CHECKS,
                attributes::CHECKS,
                selection::CHECKS,
                incremental::CHECKS,
                kill::CHECKS,
                partitions::CHECKS,
                modes::CHECKS,
                batch::CHECKS,
                config::CHECKS,
            ])
        })
    }

    fn context(tap: &Tap) -> Result<Context> {
        Ok(Context {
            tap: tap.clone(),
            dir: Workdir::new()?,
            about: OnceLock::new(),
            discovery: OnceLock::new(),
            catalog: OnceLock::new(),
            baseline: OnceLock::new(),
            field_run: OnceLock::new(),
            batch_run: OnceLock::new(),
        })
    }
}

impl Tap {
    /// The catalog for sync runs. Without one, the harness runs `--discover` and selects every
    /// stream and field, as Meltano's default `select: ["*.*"]` does.
    #[must_use]
    pub fn catalog(mut self, catalog: Value) -> Self {
        self.suite.catalog = Some(catalog);
        self
    }

    /// A state to pass along with `--discover` (as Meltano does). Without one, the final state
    /// of a clean sync is used.
    #[must_use]
    pub fn state(mut self, state: Value) -> Self {
        self.suite.state = Some(state);
        self
    }
}

/// What the tap checks share. Each artefact is computed once, by whichever check needs it first.
#[doc(hidden)]
pub struct Context {
    pub(crate) tap: Tap,
    dir: Workdir,
    about: OnceLock<Result<Value, Outcome>>,
    discovery: OnceLock<Result<(Run, Value), Outcome>>,
    catalog: OnceLock<Result<Catalog, Outcome>>,
    baseline: OnceLock<Result<Output, Outcome>>,
    field_run: OnceLock<Result<(selection::FieldPlan, Output), Outcome>>,
    batch_run: OnceLock<Result<batch::BatchRun, Outcome>>,
}

/// The capabilities an `--about` object lists.
pub(crate) fn capabilities(about: &Value) -> Vec<&str> {
    about
        .get("capabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A validator for the SCHEMA of `stream` on line `line` (Draft 7 unless `$schema` says
/// otherwise; formats are not asserted).
pub(crate) fn validator(
    line: usize,
    stream: &str,
    schema: &Value,
) -> Result<jsonschema::Validator, Outcome> {
    let mut options = jsonschema::options().should_validate_formats(false);
    if schema.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    options.build(schema).map_err(|e| {
        fail(format!(
            "line {line}: the SCHEMA of `{stream}` cannot be used: {e}"
        ))
    })
}

impl Context {
    /// Writes a JSON file into the context's directory (config values get `{tmpdir}` replaced).
    pub(crate) fn file(&self, name: &str, value: &Value) -> Result<PathBuf, Outcome> {
        Ok(self.dir.write(name, value)?.file)
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
            .get_or_init(|| match &self.tap.suite.catalog {
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

    /// The sync with `batch_config` set, its BATCH files read back.
    pub(crate) fn batch_run(&self) -> Result<&batch::BatchRun, Outcome> {
        self.batch_run
            .get_or_init(|| batch::load(self))
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
