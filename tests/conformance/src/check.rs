//! Checks: their stable ids, outcomes, selection, and the runner shared by taps and targets.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What a check is: a stable id (`tap.discovery.unique-stream-ids`), what it verifies, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    /// Stable id: `<tap|target>.<suite>.<name>`.
    pub id: &'static str,
    /// What the check verifies, one sentence.
    pub what: &'static str,
    /// Why it matters: the rule it enforces and where the rule comes from.
    pub why: &'static str,
}

impl CheckInfo {
    /// The suite: the middle part of the id (`discovery` in `tap.discovery.unique-stream-ids`).
    #[must_use]
    pub fn suite(&self) -> &'static str {
        self.id.split('.').nth(1).unwrap_or("")
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The connector did what the check requires.
    Pass,
    /// It did not; the message says what failed, with the offending line or field.
    Fail(String),
    /// The check does not apply to this connector (the reason says why); not a failure.
    Skip(String),
}

impl Outcome {
    /// `"pass"`, `"fail"` or `"skip"`.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail(_) => "fail",
            Outcome::Skip(_) => "skip",
        }
    }

    /// The failure or skip message.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        match self {
            Outcome::Pass => None,
            Outcome::Fail(m) | Outcome::Skip(m) => Some(m),
        }
    }
}

/// One check's outcome and how long it took.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// Which check.
    pub info: CheckInfo,
    /// What happened.
    pub outcome: Outcome,
    /// Wall time, including the connector runs it had to wait for.
    pub duration: Duration,
}

/// How a check body reports: `Ok(())` passes, `Err(outcome)` fails or skips.
pub(crate) type Verdict = Result<(), Outcome>;

/// A failing verdict.
pub(crate) fn fail(message: impl Into<String>) -> Outcome {
    Outcome::Fail(message.into())
}

/// A skipping verdict.
pub(crate) fn skip(message: impl Into<String>) -> Outcome {
    Outcome::Skip(message.into())
}

/// A registered check: its description and the function that runs it on a context.
#[doc(hidden)]
pub struct Check<C> {
    pub(crate) info: CheckInfo,
    pub(crate) run: fn(&C, &CheckInfo) -> Verdict,
}

impl<C> Clone for Check<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Check<C> {}

impl<C> Check<C> {
    pub(crate) const fn new(
        id: &'static str,
        what: &'static str,
        why: &'static str,
        run: fn(&C, &CheckInfo) -> Verdict,
    ) -> Self {
        Check {
            info: CheckInfo { id, what, why },
            run,
        }
    }

    /// Runs the check, turning a panic inside the harness into a failure that says so.
    pub fn execute(&self, context: &C) -> CheckResult {
        let start = Instant::now();
        let verdict = catch_unwind(AssertUnwindSafe(|| (self.run)(context, &self.info)));
        let outcome = match verdict {
            Ok(Ok(()) | Err(Outcome::Pass)) => Outcome::Pass,
            Ok(Err(Outcome::Fail(m))) => Outcome::Fail(one_line(&m)),
            Ok(Err(Outcome::Skip(m))) => Outcome::Skip(one_line(&m)),
            Err(panic) => {
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                Outcome::Fail(format!("harness error (please report): {text}"))
            }
        };
        CheckResult {
            info: self.info,
            outcome,
            duration: start.elapsed(),
        }
    }
}

/// Messages are one line: quoted text keeps its content, not its line breaks.
fn one_line(message: &str) -> String {
    message.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

/// Which checks to run: whole suites, minus skipped checks.
///
/// A pattern names a check id (`tap.sync.keys-unique`), a suite (`sync` or `tap.sync`), or any
/// dotted prefix of ids.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    suites: Vec<String>,
    skip: Vec<String>,
}

impl Selection {
    /// Every check.
    #[must_use]
    pub fn all() -> Self {
        Selection::default()
    }

    /// Restricts the run to this suite or check (may be called several times; the union runs).
    #[must_use]
    pub fn suite(mut self, pattern: impl Into<String>) -> Self {
        self.suites.push(pattern.into());
        self
    }

    /// Leaves this check or suite out.
    #[must_use]
    pub fn skip(mut self, pattern: impl Into<String>) -> Self {
        self.skip.push(pattern.into());
        self
    }

    /// Whether the check is selected.
    #[must_use]
    pub fn includes(&self, info: &CheckInfo) -> bool {
        let chosen = self.suites.is_empty() || self.suites.iter().any(|p| matches(p, info));
        chosen && !self.skip.iter().any(|p| matches(p, info))
    }
}

fn matches(pattern: &str, info: &CheckInfo) -> bool {
    pattern == info.suite()
        || pattern == info.id
        || info
            .id
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Runs the selected checks on up to `threads` threads; results come back in registry order.
pub(crate) fn run_all<C: Sync>(
    context: &C,
    checks: &[Check<C>],
    selection: &Selection,
    threads: usize,
) -> Vec<CheckResult> {
    let chosen: Vec<&Check<C>> = checks
        .iter()
        .filter(|c| selection.includes(&c.info))
        .collect();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(vec![None; chosen.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, chosen.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(check) = chosen.get(index) else {
                        break;
                    };
                    let result = check.execute(context);
                    results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: CheckInfo = CheckInfo {
        id: "tap.sync.keys-unique",
        what: "",
        why: "",
    };

    #[test]
    fn selection_by_suite_id_and_prefix() {
        assert!(Selection::all().includes(&INFO));
        assert!(Selection::all().suite("sync").includes(&INFO));
        assert!(Selection::all().suite("tap.sync").includes(&INFO));
        assert!(!Selection::all().suite("discovery").includes(&INFO));
        assert!(
            !Selection::all()
                .skip("tap.sync.keys-unique")
                .includes(&INFO)
        );
        assert!(!Selection::all().skip("tap").includes(&INFO));
        assert!(Selection::all().skip("tap.sync.keys").includes(&INFO));
    }
}
