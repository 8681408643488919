//! The Singer conformance suites on tap-github, against the GitHub-shaped server on
//! loopback: `cargo test -p tap-github --test conformance`.

mod server;

use serde_json::json;
use singer_conformance::{Selection, Tap, libtest};

fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let github = runtime.block_on(server::GitHub::start());
    let tap = Tap::new(env!("CARGO_BIN_EXE_tap-github")).config(json!({
        "repositories": ["acme/rockets", "acme/anvils"],
        "auth_token": server::TOKEN,
        "api_url": github.uri(),
    }));
    libtest::run(&tap, &Selection::all())
}
