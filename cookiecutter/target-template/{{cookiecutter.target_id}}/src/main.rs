//! `{{ cookiecutter.target_id }}`: a Singer target for {{ cookiecutter.destination_name }}, built on `singer-sdk`.

mod config;
mod sink;

use singer_sdk::target::Run;

use crate::sink::Target{{ cookiecutter.destination_name }};

#[singer_sdk::main]
fn main() -> Run<Target{{ cookiecutter.destination_name }}> {
    Run::new()
}
