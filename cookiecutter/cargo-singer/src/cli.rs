//! The command line: `cargo singer new tap|target|mapper NAME [options]`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::template::Kind;

/// Start a Singer connector built on singer-sdk from its templates.
#[derive(Debug, Parser)]
#[command(
    name = "cargo singer",
    bin_name = "cargo singer",
    version,
    arg_required_else_help = true,
    after_help = "Examples:\n  cargo singer new tap tap-github --stream-type REST --auth \"Bearer Token\"\n  cargo singer new target target-warehouse --serialization \"Per batch\" --no-input\n  cargo singer new mapper mapper-clean --no-input\n\nThe templates are the cookiecutter templates of singer-sdk (cookiecutter/ in its repository): \
`cookiecutter cookiecutter/tap-template` renders the same files."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a new tap, target or mapper project: a cargo project that builds, with an
    /// example stream or sink, a meltano.yml, a README and conformance tests that pass.
    New(NewArgs),
}

/// `cargo singer new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// What to generate.
    pub kind: Kind,
    /// The connector's id: its directory, package and binary name (e.g. tap-github); the
    /// CamelCase name is made from it (GitHub: give --set source_name=GitHub).
    pub name: String,
    /// The tap's stream type: REST, GraphQL, SQL or Other (default REST).
    #[arg(long, value_name = "TYPE")]
    pub stream_type: Option<String>,
    /// The tap's authentication: "API Key", "Bearer Token", "Basic Auth", OAuth2, JWT or
    /// "Custom or N/A" (default "API Key"; case, spaces and dashes do not matter).
    #[arg(long, value_name = "METHOD")]
    pub auth: Option<String>,
    /// The target's serialization method: "Per batch", "Per record" or SQL (default "Per batch").
    #[arg(long, value_name = "METHOD")]
    pub serialization: Option<String>,
    /// Any other template variable, e.g. --set admin_name="Ada Lovelace" --set include_ci_files=None
    /// (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Do not prompt: take the default of every value not given.
    #[arg(long)]
    pub no_input: bool,
    /// Build against this singer-sdk checkout (a path dependency) instead of its git repository.
    #[arg(long, value_name = "PATH")]
    pub sdk_path: Option<PathBuf>,
    /// Where to create the project directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub output_dir: PathBuf,
}

/// Parses the command line, as `cargo singer ...` (cargo passes `singer` as the first
/// argument) or as `cargo-singer ...`; exits with clap's message on a usage error.
#[must_use]
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Cli {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "singer") {
        args.remove(1);
    }
    Cli::parse_from(args)
}
