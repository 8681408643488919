//! The target suites: a [`Target`] to test, how to verify what it loaded, and the context its
//! checks share.

mod claims;
pub(crate) mod edge;
mod evolution;
mod kill;
mod scenarios;
mod state;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};

use crate::check::{Check, Outcome, fail};
use crate::error::Result;
use crate::process::{self, Run};
use crate::report::Kind;
pub(crate) use crate::suite::Scratch;
use crate::suite::{self, Connector, Suite, Workdir};

#[cfg(test)]
pub(crate) use scenarios::accepted as accepted_scenarios;
pub use scenarios::scenarios;

/// A target under test.
///
/// ```no_run
/// use singer_conformance::{Selection, Target, Verify};
///
/// let report = Target::new("target-jsonl")
///     .config(serde_json::json!({"destination_path": "{tmpdir}"}))
///     .verify(Verify::Command("cat \"$SINGER_CONFORMANCE_DIR/conformance_kill.jsonl\"".into()))
///     .run(&Selection::all())
///     .unwrap();
/// assert!(report.is_success(), "{}", report.to_text());
/// ```
pub type Target = Connector<TargetSuite>;

/// What only the target suite needs: how to read the destination, and the acknowledgement wait.
#[derive(Debug, Clone)]
pub struct TargetSuite {
    pub(crate) verify: Option<Verify>,
    pub(crate) ack_timeout: Duration,
}

impl Default for TargetSuite {
    fn default() -> Self {
        TargetSuite {
            verify: None,
            ack_timeout: Duration::from_secs(8),
        }
    }
}

impl Suite for TargetSuite {
    type Context = Context;
    const KIND: Kind = Kind::Target;

    fn registry() -> &'static [Check<Context>] {
        static ALL: OnceLock<Vec<Check<Context>>> = OnceLock::new();
        ALL.get_or_init(|| {
            let mut all = scenarios::checks();
            all.extend(suite::registry(&[
                state::CHECKS,
                kill::CHECKS,
                evolution::CHECKS,
                edge::CHECKS,
                claims::CHECKS,
            ]));
            all
        })
    }

    fn context(target: &Target) -> Result<Context> {
        Ok(Context {
            target: target.clone(),
            dir: Workdir::new()?,
            about: OnceLock::new(),
            state_run: OnceLock::new(),
        })
    }
}

/// How the harness learns which records a target loaded, after it was killed: the destination is
/// opaque to a black box, so the caller says how to read it.
///
/// Records of the checks that read the destination (`target.state.after-commit`,
/// `target.batch.honoured`, `target.stream-maps.alias`) belong to stream `conformance_kill`
/// and have an integer key `id`; each check loads into a fresh `{tmpdir}`.
#[derive(Clone)]
pub enum Verify {
    /// A shell command (`sh -c`), run with `SINGER_CONFORMANCE_DIR` (the check's `{tmpdir}`) and
    /// `SINGER_CONFORMANCE_STREAM` set, `{tmpdir}` in the command replaced too. It prints the
    /// loaded ids: each stdout line is an integer or a JSON object with an integer `id`; other
    /// lines (headers) are ignored.
    Command(String),
    /// A function from the check's `{tmpdir}` to the loaded ids.
    Function(Arc<VerifyFn>),
}

/// The signature of [`Verify::Function`]: the check's `{tmpdir}` to the loaded ids, or why not.
pub type VerifyFn = dyn Fn(&Path) -> std::result::Result<Vec<i64>, String> + Send + Sync;

impl fmt::Debug for Verify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verify::Command(command) => f.debug_tuple("Command").field(command).finish(),
            Verify::Function(_) => f.write_str("Function(..)"),
        }
    }
}

impl Target {
    /// How to list the records loaded into the destination (used by `target.state.after-commit`,
    /// `target.batch.honoured` and `target.stream-maps.alias`).
    #[must_use]
    pub fn verify(mut self, verify: Verify) -> Self {
        self.suite.verify = Some(verify);
        self
    }

    /// How long to wait for a STATE to be acknowledged while input stays open (default 8 s,
    /// above singer-sdk's and our SDK's 5 s default batch wait).
    #[must_use]
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.suite.ack_timeout = timeout;
        self
    }
}

/// What the target checks share.
#[doc(hidden)]
pub struct Context {
    pub(crate) target: Target,
    dir: Workdir,
    about: OnceLock<Option<Value>>,
    state_run: OnceLock<Result<(Vec<u8>, Run), Outcome>>,
}

impl Context {
    /// A new scratch directory with the config written for it.
    pub(crate) fn scratch(&self) -> Result<Scratch, Outcome> {
        self.dir.write("config.json", &self.target.config)
    }

    /// Runs the target on `input` with the scratch's config.
    pub(crate) fn feed(&self, scratch: &Scratch, input: Vec<u8>) -> Result<Run, Outcome> {
        let args = ["--config".into(), scratch.file.clone().into_os_string()];
        process::run(
            &self.target.program,
            &args,
            Some(Arc::new(input)),
            self.target.timeout,
        )
        .map_err(|e| fail(crate::chain(&e)))
    }

    /// Runs the target on `input` with a fresh destination.
    pub(crate) fn run_input(&self, input: Vec<u8>) -> Result<Run, Outcome> {
        let scratch = self.scratch()?;
        self.feed(&scratch, input)
    }

    /// What `--about --format json` prints, if it exits 0 with JSON.
    pub(crate) fn about(&self) -> Option<&Value> {
        self.about
            .get_or_init(|| {
                let args = ["--about".into(), "--format".into(), "json".into()];
                let run =
                    process::run(&self.target.program, &args, None, self.target.timeout).ok()?;
                run.success()
                    .then(|| serde_json::from_slice(&run.stdout).ok())
                    .flatten()
            })
            .as_ref()
    }

    /// Whether `--about` lists `capability`; `None` when `--about` gives no capability list.
    pub(crate) fn claims(&self, capability: &str) -> Option<bool> {
        let listed = self.about()?.get("capabilities")?.as_array()?;
        Some(listed.iter().any(|c| c == capability))
    }

    /// Whether the target validates records: `--about` declares `validate-records` and the
    /// config does not turn `validate_records` off. `None` when `--about` gives no answer.
    pub(crate) fn validates(&self) -> Option<bool> {
        let declared = self.claims("validate-records")?;
        Some(declared && self.target.config.get("validate_records") != Some(&Value::Bool(false)))
    }
}

/// Serialises messages as input lines.
pub(crate) fn lines(messages: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        out.extend_from_slice(message.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// A SCHEMA message with an integer key `id` and the given other properties.
pub(crate) fn schema(stream: &str, properties: &Value) -> Value {
    let mut props = json!({"id": {"type": "integer"}});
    if let (Some(all), Some(extra)) = (props.as_object_mut(), properties.as_object()) {
        all.extend(extra.clone());
    }
    json!({"type": "SCHEMA", "stream": stream, "key_properties": ["id"],
           "schema": {"type": "object", "properties": props}})
}

/// A RECORD message.
pub(crate) fn record(stream: &str, record: Value) -> Value {
    let mut message = json!({"type": "RECORD", "stream": stream});
    message["record"] = record;
    message
}

/// A STATE message.
pub(crate) fn state(value: Value) -> Value {
    let mut message = json!({"type": "STATE"});
    message["value"] = value;
    message
}
