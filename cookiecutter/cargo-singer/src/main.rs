//! `cargo-singer`: the `cargo singer` subcommand.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cargo_singer::cli::parse(std::env::args_os());
    match cargo_singer::run(cli) {
        Ok(dir) => {
            eprintln!(
                "Created `{}`. Next: cd into it and run `cargo test` (the conformance suite).",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{}", report(&anyhow::Error::from(err)));
            ExitCode::FAILURE
        }
    }
}

/// `error: <message>`, then one `caused by:` line per source.
fn report(err: &anyhow::Error) -> String {
    let mut text = format!("error: {err}");
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    text
}
