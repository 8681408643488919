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

use crate::check::{Check, Outcome, Selection};
use crate::error::Result;
use crate::{Mapper, Tap, Target};

/// A connector the suites can run on: a [`Tap`], a [`Target`] or a [`Mapper`].
pub trait Subject {
    /// What the checks share.
    #[doc(hidden)]
    type Context: Send + Sync + 'static;

    /// The checks, in run order.
    #[doc(hidden)]
    fn registry() -> &'static [Check<Self::Context>];

    /// A fresh context.
    ///
    /// # Errors
    /// When the harness cannot create its temporary directory.
    #[doc(hidden)]
    fn context(&self) -> Result<Self::Context>;
}

impl Subject for Tap {
    type Context = crate::tap::Context;

    fn registry() -> &'static [Check<Self::Context>] {
        crate::tap::registry()
    }

    fn context(&self) -> Result<Self::Context> {
        Tap::context(self)
    }
}

impl Subject for Target {
    type Context = crate::target::Context;

    fn registry() -> &'static [Check<Self::Context>] {
        crate::target::registry()
    }

    fn context(&self) -> Result<Self::Context> {
        Target::context(self)
    }
}

impl Subject for Mapper {
    type Context = crate::mapper::Context;

    fn registry() -> &'static [Check<Self::Context>] {
        crate::mapper::registry()
    }

    fn context(&self) -> Result<Self::Context> {
        Mapper::context(self)
    }
}

/// One libtest trial per check; checks outside `selection` are marked ignored.
///
/// # Errors
/// When the harness cannot create its temporary directory.
pub fn trials<S: Subject>(subject: &S, selection: &Selection) -> Result<Vec<Trial>> {
    let context = Arc::new(subject.context()?);
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
pub fn run<S: Subject>(subject: &S, selection: &Selection) -> ExitCode {
    let arguments = Arguments::from_args();
    match trials(subject, selection) {
        Ok(trials) => libtest_mimic::run(&arguments, trials).exit_code(),
        Err(e) => {
            eprintln!("singer-conformance: {}", crate::chain(&e));
            ExitCode::FAILURE
        }
    }
}
