//! Running the suites from a connector's own `cargo test`: each check is one test case.
//!
//! In `tests/conformance.rs` of a connector crate (with `harness = false` for that test):
//!
//! ```no_run
//! use singer_conformance::{Selection, Tap, libtest};
//!
//! fn main() -> std::process::ExitCode {
//!     let tap = Tap::new("path/to/tap-x").config(serde_json::json!({"api_url": "http://127.0.0.1:9"}));
//!     libtest::run(&tap, &Selection::all())
//! }
//! ```
//!
//! Checks left out by the [`Selection`] show as ignored; checks that do not apply (an outcome
//! of [`Skip`](crate::Outcome::Skip)) show as ignored with the reason. Standard libtest
//! arguments work: `cargo test --test conformance -- tap.sync`.

use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Completion, Trial};

use crate::check::{Outcome, Selection};
use crate::error::Result;
use crate::suite::{Connector, Suite};

/// One libtest trial per check; checks outside `selection` are marked ignored.
///
/// # Errors
/// When the harness cannot create its temporary directory.
pub fn trials<S: Suite>(connector: &Connector<S>, selection: &Selection) -> Result<Vec<Trial>> {
    connector.program.probe()?;
    let context = Arc::new(S::context(connector)?);
    Ok(S::registry()
        .iter()
        .map(|check| {
            let context = context.clone();
            Trial::ignorable_test(check.info.id, move || {
                match check.execute(&context).outcome {
                    Outcome::Pass => Ok(Completion::Completed),
                    Outcome::Skip(reason) => Ok(Completion::ignored_with(reason)),
                    Outcome::Fail(message) => Err(message.into()),
                }
            })
            .with_ignored_flag(!selection.includes(&check.info))
        })
        .collect())
}

/// Runs the checks as a libtest-compatible test binary, reading the usual test arguments from
/// the command line; returns the exit code for `main`.
#[must_use]
pub fn run<S: Suite>(connector: &Connector<S>, selection: &Selection) -> ExitCode {
    let arguments = Arguments::from_args();
    match trials(connector, selection) {
        Ok(trials) => libtest_mimic::run(&arguments, trials).exit_code(),
        Err(e) => {
            eprintln!("singer-conformance: {}", crate::chain(&e));
            ExitCode::FAILURE
        }
    }
}
