//! `singer-conformance`: run the conformance suites on a tap, target or mapper given as a command
//! line.
//!
//! ```text
//! singer-conformance tap --config config.json -- tap-x --some-flag
//! singer-conformance target --config config.json --verify 'cat "$SINGER_CONFORMANCE_DIR"/*.jsonl' -- target-x
//! singer-conformance mapper --config empty.json --stream-maps -- map-transform
//! singer-conformance checks --markdown
//! ```
//!
//! Exit code 0 when every selected check passes (skips included), 1 when one fails, 2 when the
//! harness itself cannot run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use singer_conformance::{
    CheckInfo, Format, Mapper, Program, Selection, Tap, Target, Verify, read_json,
};

/// Black-box Singer spec-conformance checks for any tap, target or mapper.
#[derive(Debug, Parser)]
#[command(name = "singer-conformance", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the tap suites on the tap started by the command after `--`.
    Tap {
        /// Tap config file (JSON); `{tmpdir}` in values becomes a fresh directory per check.
        #[arg(long)]
        config: PathBuf,
        /// Catalog for sync runs; default: the discovered catalog with everything selected.
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// State to pass with --discover; default: the final state of a clean sync.
        #[arg(long)]
        state: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Run the target suites on the target started by the command after `--`.
    Target {
        /// Target config file (JSON); `{tmpdir}` in values becomes a fresh directory per check.
        #[arg(long)]
        config: PathBuf,
        /// Shell command printing the ids loaded into stream `conformance_kill` (one integer or
        /// JSON object with `id` per line); runs with SINGER_CONFORMANCE_DIR set.
        #[arg(long)]
        verify: Option<String>,
        /// Seconds to wait for a STATE acknowledgement while input stays open.
        #[arg(long, default_value_t = 8)]
        ack_timeout: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Run the mapper suites on the standalone mapper started by the command after `--`.
    Mapper {
        /// Mapper config file (JSON) that maps nothing, e.g. `{}`: the output must equal the
        /// input; `{tmpdir}` in values becomes a fresh directory per run.
        #[arg(long)]
        config: PathBuf,
        /// The mapper reads singer-sdk `stream_maps`: also run `mapper.alias.*`, with
        /// `{"stream_maps": {"test_users": {"__alias__": "renamed"}}}` merged into the config.
        #[arg(long)]
        stream_maps: bool,
        #[command(flatten)]
        common: Common,
    },
    /// List the checks: id, what it verifies, why.
    Checks {
        /// Only tap, target or mapper checks.
        kind: Option<KindArg>,
        /// A Markdown table (id | what | why).
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Debug, Args)]
struct Common {
    /// Run only this suite or check (repeatable): `sync`, `tap.sync`, `tap.sync.keys-unique`.
    #[arg(long = "suite", value_name = "NAME")]
    suites: Vec<String>,
    /// Leave out this check or suite (repeatable).
    #[arg(long = "skip", value_name = "CHECK")]
    skip: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Write the report to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Seconds one connector run may take before it is killed and its check fails.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// The connector's command line.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Junit,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    Tap,
    Target,
    Mapper,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("singer-conformance: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command; `Ok(false)` when a check failed.
fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Tap {
            config,
            catalog,
            state,
            common,
        } => {
            let mut tap = Tap::new(common.program()?)
                .config(read_json(&config)?)
                .timeout(Duration::from_secs(common.timeout));
            if let Some(path) = catalog {
                tap = tap.catalog(read_json(&path)?);
            }
            if let Some(path) = state {
                tap = tap.state(read_json(&path)?);
            }
            let selection = common.selection();
            ensure_some(Tap::checks(), &selection)?;
            let report = tap.run(&selection)?;
            common.emit(&report.render(common.format()))?;
            Ok(report.is_success())
        }
        Command::Target {
            config,
            verify,
            ack_timeout,
            common,
        } => {
            let mut target = Target::new(common.program()?)
                .config(read_json(&config)?)
                .timeout(Duration::from_secs(common.timeout))
                .ack_timeout(Duration::from_secs(ack_timeout));
            if let Some(command) = verify {
                target = target.verify(Verify::Command(command));
            }
            let selection = common.selection();
            ensure_some(Target::checks(), &selection)?;
            let report = target.run(&selection)?;
            common.emit(&report.render(common.format()))?;
            Ok(report.is_success())
        }
        Command::Mapper {
            config,
            stream_maps,
            common,
        } => {
            let mapper = Mapper::new(common.program()?)
                .config(read_json(&config)?)
                .stream_maps(stream_maps)
                .timeout(Duration::from_secs(common.timeout));
            let selection = common.selection();
            ensure_some(Mapper::checks(), &selection)?;
            let report = mapper.run(&selection)?;
            common.emit(&report.render(common.format()))?;
            Ok(report.is_success())
        }
        Command::Checks { kind, markdown } => {
            let checks: Vec<CheckInfo> = match kind {
                Some(KindArg::Tap) => Tap::checks().collect(),
                Some(KindArg::Target) => Target::checks().collect(),
                Some(KindArg::Mapper) => Mapper::checks().collect(),
                None => Tap::checks()
                    .chain(Target::checks())
                    .chain(Mapper::checks())
                    .collect(),
            };
            let mut out = String::new();
            if markdown {
                out.push_str("| id | what | why |\n|---|---|---|\n");
            }
            for check in checks {
                if markdown {
                    out.push_str(&format!(
                        "| `{}` | {} | {} |\n",
                        check.id, check.what, check.why
                    ));
                } else {
                    out.push_str(&format!("{}\n    {}\n", check.id, check.what));
                }
            }
            print(&out);
            Ok(true)
        }
    }
}

/// A selection that matches nothing is a typo, not a pass.
fn ensure_some(checks: impl Iterator<Item = CheckInfo>, selection: &Selection) -> Result<()> {
    let mut checks = checks;
    anyhow::ensure!(
        checks.any(|c| selection.includes(&c)),
        "no check matches the --suite/--skip options; `singer-conformance checks` lists them"
    );
    Ok(())
}

impl Common {
    fn program(&self) -> Result<Program> {
        Ok(Program::from_argv(self.command.clone())?)
    }

    fn selection(&self) -> Selection {
        let mut selection = Selection::all();
        for suite in &self.suites {
            selection = selection.suite(suite.clone());
        }
        for skip in &self.skip {
            selection = selection.skip(skip.clone());
        }
        selection
    }

    fn format(&self) -> Format {
        match self.format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Junit => Format::Junit,
        }
    }

    fn emit(&self, text: &str) -> Result<()> {
        match &self.output {
            Some(path) => std::fs::write(path, text)
                .with_context(|| format!("cannot write the report to `{}`", path.display())),
            None => {
                print(text);
                Ok(())
            }
        }
    }
}

#[allow(clippy::print_stdout, reason = "the report is this binary's output")]
fn print(text: &str) {
    print!("{text}");
}
