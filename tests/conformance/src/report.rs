//! Reports: the results of one suite run, as text, JSON or JUnit XML.

use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};

use crate::check::{CheckResult, Outcome};

/// Which kind of connector a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A tap (extractor).
    Tap,
    /// A target (loader).
    Target,
    /// A standalone mapper (between a tap and a target).
    Mapper,
    /// A tap piped into a target ([`Pipeline`](crate::Pipeline)).
    Pipeline,
}

impl Kind {
    /// `"tap"`, `"target"`, `"mapper"` or `"pipeline"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tap => "tap",
            Kind::Target => "target",
            Kind::Mapper => "mapper",
            Kind::Pipeline => "pipeline",
        }
    }
}

/// Output formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per check, then a summary.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML, one test suite per check suite.
    Junit,
}

/// The results of running checks on one connector.
#[derive(Debug, Clone)]
pub struct Report {
    /// Tap, target or mapper.
    pub kind: Kind,
    /// The connector's command line.
    pub connector: String,
    /// One result per selected check, in registry order.
    pub results: Vec<CheckResult>,
}

impl Report {
    pub(crate) fn new(kind: Kind, connector: String, results: Vec<CheckResult>) -> Self {
        Report {
            kind,
            connector,
            results,
        }
    }

    fn count(&self, label: &str) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome.label() == label)
            .count()
    }

    /// Whether no selected check failed (skips do not fail a run).
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.count("fail") == 0
    }

    /// The ids of the failed checks, in registry order.
    #[must_use]
    pub fn failed_ids(&self) -> Vec<&'static str> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
            .map(|r| r.info.id)
            .collect()
    }

    /// The result of one check.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.info.id == id)
    }

    /// Renders the report in `format`.
    #[must_use]
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.to_text(),
            Format::Json => {
                serde_json::to_string_pretty(&self.to_json()).unwrap_or_default() + "\n"
            }
            Format::Junit => self.to_junit(),
        }
    }

    /// `PASS id`, `FAIL id: why`, `SKIP id: why`, then `N passed, N failed, N skipped`.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = format!("{} {}\n", self.kind.as_str(), self.connector);
        for result in &self.results {
            let label = result.outcome.label().to_uppercase();
            match result.outcome.message() {
                Some(message) => {
                    let _ = writeln!(out, "{label} {}: {message}", result.info.id);
                }
                None => {
                    let _ = writeln!(out, "{label} {}", result.info.id);
                }
            }
        }
        let _ = writeln!(
            out,
            "{} passed, {} failed, {} skipped",
            self.count("pass"),
            self.count("fail"),
            self.count("skip")
        );
        out
    }

    /// `{"kind", "connector", "passed", "failed", "skipped", "checks": [{"id", "status", "message", "what", "seconds"}]}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                json!({
                    "id": r.info.id,
                    "status": r.outcome.label(),
                    "message": r.outcome.message(),
                    "what": r.info.what,
                    "seconds": r.duration.as_secs_f64(),
                })
            })
            .collect();
        json!({
            "kind": self.kind.as_str(),
            "connector": self.connector,
            "passed": self.count("pass"),
            "failed": self.count("fail"),
            "skipped": self.count("skip"),
            "checks": checks,
        })
    }

    /// JUnit XML: one `<testsuite>` per suite (`tap.sync`, ...), one `<testcase>` per check.
    #[must_use]
    pub fn to_junit(&self) -> String {
        let mut report = quick_junit::Report::new("singer-conformance");
        let mut suites: Vec<(String, TestSuite)> = Vec::new();
        for result in &self.results {
            let name = format!("{}.{}", self.kind.as_str(), result.info.suite());
            let index = match suites.iter().position(|(n, _)| *n == name) {
                Some(index) => index,
                None => {
                    suites.push((name.clone(), TestSuite::new(name)));
                    suites.len() - 1
                }
            };
            let status = match &result.outcome {
                Outcome::Pass => TestCaseStatus::success(),
                Outcome::Fail(message) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(message.as_str());
                    status
                }
                Outcome::Skip(message) => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(message.as_str());
                    status
                }
            };
            let mut case = TestCase::new(result.info.id, status);
            case.set_classname(self.connector.as_str())
                .set_time(result.duration);
            suites[index].1.add_test_case(case);
        }
        let total: Duration = self.results.iter().map(|r| r.duration).sum();
        report.set_time(total);
        report.add_test_suites(suites.into_iter().map(|(_, s)| s));
        report.to_string().unwrap_or_default()
    }
}
