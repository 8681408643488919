//! The Singer conformance suites on `{{ cookiecutter.mapper_id }}`, one test case per check:
//! `cargo test --test conformance` (add `-- mapper.state` to run one suite). The base config
//! maps nothing, so the output must equal the input.

use std::process::ExitCode;

use serde_json::json;
use singer_conformance::{Mapper, Selection, libtest};

fn main() -> ExitCode {
    let bin = env!("CARGO_BIN_EXE_{{ cookiecutter.mapper_id }}");
    let mapper = Mapper::new(bin).config(json!({})).stream_maps(true);
    libtest::run(&mapper, &Selection::all())
}
