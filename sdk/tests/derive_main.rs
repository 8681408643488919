//! `#[singer_sdk::main]` expands against the real runtime (`__private::run_main`).
//!
//! The generated `main` reads the process's command line, so it is not called here: the
//! expansion type-checking as a process entry point is the test. Its error cases are in
//! `tests/ui/main/`.
#![deny(warnings)]

use std::process::ExitCode;

use serde_json::{Map, Value};
use singer_sdk::tap::{Streams, Tap};

/// A tap without streams.
struct MiniTap {
    name: &'static str,
}

impl Tap for MiniTap {
    type Settings = Map<String, Value>;

    async fn streams(&self, _settings: &Self::Settings) -> singer_sdk::Result<Streams> {
        assert!(!self.name.is_empty());
        Ok(Streams::new())
    }
}

mod app {
    /// Builds the tap; the doc comment and the visibility stay on the generated `main`.
    #[singer_sdk::main]
    pub(super) fn main() -> super::MiniTap {
        if std::env::var_os("SINGER_SDK_NEVER_SET").is_some() {
            return super::MiniTap { name: "early" };
        }
        super::MiniTap { name: "tap" }
    }
}

#[test]
fn main_is_a_process_entry_point() {
    let _main: fn() -> ExitCode = app::main;
}
