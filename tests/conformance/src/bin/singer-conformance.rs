//! `singer-conformance`: run the conformance suites on a tap, target or mapper given as a command
//! line.
//!
//! ```text
//! singer-conformance tap --config config.json -- tap-x --some-flag
//! singer-conformance target --config config.json --verify 'cat "$SINGER_CONFORMANCE_DIR"/*.jsonl' -- target-x
//! singer-conformance mapper --config empty.json --stream-maps -- map-transform
//! singer-conformance pipeline -- tap-x --config tap.json -- target-y --config target.json
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
    CheckInfo, Connector, Format, Mapper, Pipeline, Program, Selection, Suite, Tap, Target, Verify,
    pipeline, read_json,
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
        /// Shell command printing the ids loaded into stream `conformance_kill` (one integer or
        /// JSON object with `id` per line); runs with SINGER_CONFORMANCE_DIR set. Read by
        /// target.state.after-commit, target.batch.honoured and target.stream-maps.alias.
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
        /// The mapper reads singer-sdk `stream_maps`: also run `mapper.alias.*`, with
        /// `{"stream_maps": {"test_users": {"__alias__": "renamed"}}}` merged into the config.
        #[arg(long)]
        stream_maps: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Pipe a tap into a target, kill the target at a random acknowledged STATE, resume both
    /// from it, and prove that no record was lost. After `--`: the tap's whole command line
    /// (with its `--config`), `--`, the target's.
    Pipeline {
        /// Shell command printing the rows the destination holds (one JSON object per line),
        /// run after the resumed pipeline: every record of a clean tap run must be there.
        #[arg(long)]
        verify: Option<String>,
        /// Seed of the random kill point (default: from the clock; the report names it).
        #[arg(long)]
        seed: Option<u64>,
        /// Seconds to wait for the target to acknowledge a STATE while its input stays open.
        #[arg(long, default_value_t = 8)]
        ack_timeout: u64,
        /// Seconds one run (clean tap, killed pipeline, resumed pipeline) may take.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// MiB of stdout one run may write before it is stopped.
        #[arg(long, value_name = "MIB", default_value_t = 128)]
        max_output: usize,
        /// Report format.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
        /// Write the report to this file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
        /// TAP ARGS... -- TARGET ARGS...
        #[arg(last = true, required = true, value_name = "COMMANDS")]
        commands: Vec<String>,
    },
    /// List the checks: id, what it verifies, why.
    Checks {
        /// Only tap, target or mapper checks.
        kind: Option<KindArg>,
        /// A Markdown table (id | what | why).
        #[arg(long)]
        markdown: bool,
        /// A JSON list of `{"id", "what", "why"}` (what the pytest plugin reads).
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct Common {
    /// Connector config file (JSON); `{tmpdir}` in values becomes a fresh directory per check.
    /// A mapper's config must map nothing (e.g. `{}`): its output must equal its input.
    #[arg(long)]
    config: PathBuf,
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
    /// MiB of stdout one connector run may write before it is stopped and its check fails.
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    max_output: usize,
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
    Pipeline,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Junit => Format::Junit,
        }
    }
}

/// Writes the report to `path`, or stdout.
fn emit(path: Option<&std::path::Path>, text: &str) -> Result<()> {
    match path {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the report to `{}`", path.display())),
        None => {
            print(text);
            Ok(())
        }
    }
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
            catalog,
            state,
            common,
        } => common.run(|mut tap: Tap| {
            if let Some(path) = catalog {
                tap = tap.catalog(read_json(&path)?);
            }
            if let Some(path) = state {
                tap = tap.state(read_json(&path)?);
            }
            Ok(tap)
        }),
        Command::Target {
            verify,
            ack_timeout,
            common,
        } => common.run(|target: Target| {
            let target = target.ack_timeout(Duration::from_secs(ack_timeout));
            Ok(match verify {
                Some(command) => target.verify(Verify::Command(command)),
                None => target,
            })
        }),
        Command::Mapper {
            stream_maps,
            common,
        } => common.run(|mapper: Mapper| Ok(mapper.stream_maps(stream_maps))),
        Command::Pipeline {
            verify,
            seed,
            ack_timeout,
            timeout,
            max_output,
            format,
            output,
            commands,
        } => {
            let Some(split) = commands.iter().position(|a| a == "--") else {
                anyhow::bail!("pipeline needs two commands: `-- TAP ARGS... -- TARGET ARGS...`");
            };
            let bytes = max_output.saturating_mul(1 << 20);
            let tap = Program::from_argv(commands[..split].to_vec())
                .context("no tap command before the second `--`")?
                .max_output(bytes);
            let target = Program::from_argv(commands[split + 1..].to_vec())
                .context("no target command after the second `--`")?
                .max_output(bytes);
            let mut pipeline = Pipeline::new(tap, target)
                .timeout(Duration::from_secs(timeout))
                .ack_timeout(Duration::from_secs(ack_timeout));
            if let Some(command) = verify {
                pipeline = pipeline.verify(command);
            }
            if let Some(seed) = seed {
                pipeline = pipeline.seed(seed);
            }
            let report = pipeline.run()?;
            emit(output.as_deref(), &report.render(format.into()))?;
            Ok(report.is_success())
        }
        Command::Checks {
            kind,
            markdown,
            json,
        } => {
            let checks: Vec<CheckInfo> = match kind {
                Some(KindArg::Tap) => Tap::checks().collect(),
                Some(KindArg::Target) => Target::checks().collect(),
                Some(KindArg::Mapper) => Mapper::checks().collect(),
                Some(KindArg::Pipeline) => pipeline::CHECKS.to_vec(),
                None => Tap::checks()
                    .chain(Target::checks())
                    .chain(Mapper::checks())
                    .chain(pipeline::CHECKS.iter().copied())
                    .collect(),
            };
            if json {
                let list: Vec<serde_json::Value> = checks
                    .iter()
                    .map(|c| serde_json::json!({"id": c.id, "what": c.what, "why": c.why}))
                    .collect();
                print(&format!("{}\n", serde_json::Value::Array(list)));
                return Ok(true);
            }
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
    /// Runs the suite on the connector these options describe, with its own options applied
    /// by `options`; `Ok(false)` when a check failed.
    fn run<S: Suite>(
        &self,
        options: impl FnOnce(Connector<S>) -> Result<Connector<S>>,
    ) -> Result<bool> {
        let program = Program::from_argv(self.command.clone())?;
        let connector = Connector::<S>::new(program)
            .config(read_json(&self.config)?)
            .timeout(Duration::from_secs(self.timeout))
            .max_output(self.max_output.saturating_mul(1 << 20));
        let connector = options(connector)?;
        let selection = self.selection();
        ensure_some(Connector::<S>::checks(), &selection)?;
        let report = connector.run(&selection)?;
        self.emit(&report.render(self.format()))?;
        Ok(report.is_success())
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
        self.format.into()
    }

    fn emit(&self, text: &str) -> Result<()> {
        emit(self.output.as_deref(), text)
    }
}

#[allow(clippy::print_stdout, reason = "the report is this binary's output")]
fn print(text: &str) {
    print!("{text}");
}
