//! The command line every tap gets: the flags Meltano and singer-sdk users expect.
//!
//! `--version`, `--about [--format json|markdown|meltano]`, `--config PATH|ENV` (repeatable),
//! `--discover`, `--catalog PATH` (or the legacy `--properties PATH`), `--state PATH`,
//! `--test[=all|schema]`. Meltano passes `--config`, `--catalog` and `--state` together, and
//! `--state` even with `--discover`: all combinations work.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use serde_json::Value;

use crate::about::{About, AboutFormat};
use crate::capability::{Capabilities, Capability};
use crate::catalog::Catalog;
use crate::error::{Error, Result, report};
use crate::mapper::{InlineMapper, Mapper};
use crate::message::MessageWriter;
use crate::settings::{self, ConfigSource, Settings};
use crate::state::State;
use crate::tap::{self, Streams, SyncOptions, Tap};
use crate::target::{Target, TargetOptions};

/// Who the connector is, taken from its Cargo package by `#[singer_sdk::main]`.
#[derive(Debug, Clone, Copy)]
pub struct PackageInfo {
    /// Package name, used as connector name and environment variable prefix.
    pub name: &'static str,
    /// Package version.
    pub version: &'static str,
    /// Package description.
    pub description: &'static str,
}

/// The version of this SDK.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The flags every connector kind has.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Print the connector and SDK versions and exit.
    #[arg(long)]
    pub version: bool,
    /// Print what the connector is, its capabilities and settings, and exit.
    #[arg(long)]
    pub about: bool,
    /// Output format of --about.
    #[arg(long, value_enum, ignore_case = true)]
    pub format: Option<AboutFormat>,
    /// A JSON config file, or ENV to read settings from environment variables. Repeatable:
    /// later files override earlier ones; ENV overrides all files.
    #[arg(long, short = 'c', value_name = "PATH|ENV")]
    pub config: Vec<String>,
}

/// The tap command line.
#[derive(Debug, Clone, Parser)]
#[command(about = "Execute the Singer tap.", disable_version_flag = true)]
pub struct TapArgs {
    /// The flags of every connector.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print the catalog of streams and exit.
    #[arg(long, short = 'd')]
    pub discover: bool,
    /// The catalog: which streams and fields to sync.
    #[arg(long, value_name = "PATH")]
    pub catalog: Option<PathBuf>,
    /// Legacy name of --catalog.
    #[arg(long, short = 'p', value_name = "PATH", conflicts_with = "catalog")]
    pub properties: Option<PathBuf>,
    /// The state to resume from (the value of the last STATE message).
    #[arg(long, short = 's', value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Connection test: one record per stream (`all`, the default) or SCHEMA messages only
    /// (`schema`).
    #[arg(long, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "all")]
    pub test: Option<TestMode>,
}

/// The target (and mapper) command line.
#[derive(Debug, Clone, Parser)]
#[command(about = "Execute the Singer target.", disable_version_flag = true)]
pub struct TargetArgs {
    /// The flags of every connector.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Read Singer messages from this file instead of stdin.
    #[arg(long, value_name = "PATH")]
    pub input: Option<PathBuf>,
}

/// What `--test` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestMode {
    /// Sync one record of every stream.
    All,
    /// Write every stream's SCHEMA and nothing else.
    Schema,
}

/// Runs a tap as a process: parses `std::env::args`, sets up logging, runs, and turns the
/// outcome into an exit code (errors go to stderr, one line per cause).
pub fn run_tap<T: Tap>(tap: &T, info: PackageInfo) -> ExitCode {
    as_process(info, |args: &TapArgs| {
        run_tap_with(tap, info, args, MessageWriter::stdout()).map(drop)
    })
}

/// Runs a target as a process: parses `std::env::args`, sets up logging, loads stdin (or
/// `--input`), and turns the outcome into an exit code.
pub fn run_target<T: Target>(info: PackageInfo) -> ExitCode {
    as_process(info, |args: &TargetArgs| {
        // The input is owned here, so a load that fails while the tap keeps stdin open and
        // idle returns its error at once instead of waiting for a read that may never end.
        let input = owned_input(args)?;
        configure_target::<T, _>(
            info,
            args,
            MessageWriter::stdout(),
            |target, options, maps, out| {
                crate::target::load_owned(target, options, maps, input, out)
            },
        )
        .map(drop)
    })
}

/// Runs a target with parsed arguments on `input`, writing acknowledged state (and
/// `--about`/`--version` output) to `out`. Used by [`run_target`]; call it from tests.
///
/// # Errors
/// Bad config, invalid settings, malformed input, or a failing sink.
pub fn run_target_with<T: Target, R: std::io::BufRead + Send, W: Write>(
    info: PackageInfo,
    args: &TargetArgs,
    input: R,
    out: MessageWriter<W>,
) -> Result<MessageWriter<W>> {
    configure_target::<T, W>(info, args, out, |target, options, maps, out| {
        crate::target::load(target, options, maps, input, out)
    })
}

/// Configures and connects the target, then runs `load` (unless `--version`/`--about`).
fn configure_target<T: Target, W: Write>(
    info: PackageInfo,
    args: &TargetArgs,
    mut out: MessageWriter<W>,
    load: impl FnOnce(
        Arc<T>,
        &TargetOptions,
        Option<Mapper>,
        &mut MessageWriter<W>,
    ) -> Result<crate::target::LoadSummary>,
) -> Result<MessageWriter<W>> {
    let capabilities = T::capabilities();
    let builtins = with_stream_map_settings(crate::target::builtin_settings(&capabilities));
    let Some(loaded) =
        configure::<T::Settings, W>(info, args.common(), &capabilities, &builtins, &mut out)?
    else {
        return Ok(out);
    };
    let options = TargetOptions::from_config(&loaded.config)?;
    let target = Arc::new(T::connect(loaded.settings, &options)?);
    load(target, &options, loaded.mapper, &mut out)?;
    out.flush()?;
    Ok(out)
}

/// Runs a standalone mapper as a process: parses `std::env::args`, sets up logging, maps
/// stdin (or `--input`) to stdout, and turns the outcome into an exit code.
pub fn run_mapper<M: InlineMapper>(mapper: &M, info: PackageInfo) -> ExitCode {
    as_process(info, |args: &TargetArgs| {
        with_input(args, |input| {
            run_mapper_with(mapper, info, args, input, MessageWriter::stdout()).map(drop)
        })
    })
}

/// Runs a standalone mapper with parsed arguments on `input`, writing the mapped messages
/// (and `--about`/`--version` output) to `out`. Used by [`run_mapper`]; call it from tests.
///
/// # Errors
/// Bad config, invalid settings or stream maps, malformed input.
pub fn run_mapper_with<M: InlineMapper, R: std::io::BufRead, W: Write>(
    mapper: &M,
    info: PackageInfo,
    args: &TargetArgs,
    input: R,
    mut out: MessageWriter<W>,
) -> Result<MessageWriter<W>> {
    let capabilities = mapper.capabilities();
    let builtins = with_stream_map_settings(serde_json::json!({}));
    let Some(loaded) =
        configure::<M::Settings, W>(info, args.common(), &capabilities, &builtins, &mut out)?
    else {
        return Ok(out);
    };
    crate::mapper::transform(mapper, &loaded.settings, loaded.mapper, input, &mut out)?;
    Ok(out)
}

/// What `parse_args` gives every connector kind: the common flags.
trait ConnectorArgs: Parser {
    fn common(&self) -> &CommonArgs;
}

impl ConnectorArgs for TapArgs {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

impl ConnectorArgs for TargetArgs {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

/// Parses the process's arguments, sets up logging, runs `body`, and turns the outcome into
/// an exit code: clap's own for bad usage, the error's for a failure (printed to stderr one
/// line per cause).
fn as_process<A: ConnectorArgs>(
    info: PackageInfo,
    body: impl FnOnce(&A) -> Result<()>,
) -> ExitCode {
    without_huge_pages();
    let args = match parse_args::<A>(info, std::env::args_os()) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let common = args.common();
    if !common.version && !common.about {
        crate::logging::init(info.name);
    }
    match body(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "{}", report(&error));
            ExitCode::from(error.exit_code())
        }
    }
}

/// Turns transparent huge pages off for this process (Linux), before it has allocated much.
///
/// A connector's memory is many small allocations spread over a few threads. Where the
/// kernel backs every aligned 2 MiB region with a huge page (`transparent_hugepage=always`,
/// the default of several distributions), each thread's allocator regions become resident in
/// 2 MiB steps: measured on target-postgres, peak RSS went from 36 to 66 MiB, and the run was
/// 10 % slower. A kernel without the setting leaves things as they were.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

/// The `--input` file, or stdin (itself, not its lock, so that the parallel load path can
/// read it on a thread of its own).
fn owned_input(args: &TargetArgs) -> Result<Box<dyn std::io::BufRead + Send>> {
    const BUFFER: usize = 256 * 1024;
    Ok(match &args.input {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|source| Error::Read {
                what: "input file",
                path: path.clone(),
                source,
            })?;
            Box::new(std::io::BufReader::with_capacity(BUFFER, file))
        }
        None => Box::new(std::io::BufReader::with_capacity(BUFFER, std::io::stdin())),
    })
}

/// Runs `body` on the `--input` file, or on stdin.
fn with_input(
    args: &TargetArgs,
    body: impl FnOnce(&mut (dyn std::io::BufRead + Send)) -> Result<()>,
) -> Result<()> {
    body(&mut *owned_input(args)?)
}

/// A connector's configuration, loaded and checked.
struct Loaded<S> {
    /// Every setting, built-in ones included, after defaults.
    config: serde_json::Map<String, Value>,
    /// The connector's own settings type.
    settings: S,
    /// The stream maps, when the config has any.
    mapper: Option<Mapper>,
}

/// Prints `--version`/`--about` (then `None`), or loads the config sources, fills in
/// defaults, validates against the settings schema (own settings plus `builtins`), builds
/// the stream maps and deserialises the connector's settings.
fn configure<S: Settings, W: Write>(
    info: PackageInfo,
    args: &CommonArgs,
    capabilities: &Capabilities,
    builtins: &Value,
    out: &mut MessageWriter<W>,
) -> Result<Option<Loaded<S>>> {
    let schema = crate::about::with_builtins(S::settings_schema(), builtins);
    if print_version_or_about(
        info,
        args.version,
        args.about,
        args.format,
        capabilities,
        &schema,
        out,
    )? {
        return Ok(None);
    }
    let sources: Vec<ConfigSource> = args.config.iter().map(|c| ConfigSource::parse(c)).collect();
    let mut config = settings::load(&sources, info.name, &schema)?;
    settings::apply_defaults(&mut config, &schema);
    settings::validate(&config, &schema)?;
    let mapper = Mapper::from_config(&config)?;
    let settings = settings::deserialize(
        strip_undeclared(config.clone(), &S::settings_schema(), builtins),
        &schema,
    )?;
    Ok(Some(Loaded {
        config,
        settings,
        mapper,
    }))
}

/// Handles `--version` and `--about`; `true` when one of them was printed.
fn print_version_or_about<W: Write>(
    info: PackageInfo,
    version: bool,
    about: bool,
    format: Option<AboutFormat>,
    capabilities: &Capabilities,
    schema: &Value,
    out: &mut MessageWriter<W>,
) -> Result<bool> {
    if version {
        out.write_raw(
            format!(
                "{} v{}, singer-sdk (Rust) v{SDK_VERSION}\n",
                info.name, info.version
            )
            .as_bytes(),
        )?;
    } else if about {
        let about = About {
            name: info.name.to_owned(),
            description: (!info.description.is_empty()).then(|| info.description.to_owned()),
            version: info.version.to_owned(),
            sdk_version: SDK_VERSION.to_owned(),
            supported_python_versions: None,
            capabilities: capabilities.iter().map(|c| c.as_str().to_owned()).collect(),
            settings: schema.clone(),
        };
        out.write_raw(about.render(format.unwrap_or_default()).as_bytes())?;
    } else {
        return Ok(false);
    }
    out.flush()?;
    Ok(true)
}

/// Parses a command line for the connector named in `info`.
///
/// # Errors
/// clap's error for bad usage (it prints itself, with help).
pub fn parse_args<A: Parser>(
    info: PackageInfo,
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> std::result::Result<A, clap::Error> {
    let command = A::command().name(info.name).bin_name(info.name);
    let matches = command.try_get_matches_from(args)?;
    A::from_arg_matches(&matches)
}

/// Runs a tap with parsed arguments, writing Singer messages (and `--about`/`--version`
/// output) to `out`. Used by [`run_tap`]; call it from tests to run a tap in-process.
///
/// # Errors
/// Bad config, catalog or state files, invalid settings, or a failing stream.
pub fn run_tap_with<T: Tap, W: Write + Send + 'static>(
    tap: &T,
    info: PackageInfo,
    args: &TapArgs,
    out: MessageWriter<W>,
) -> Result<MessageWriter<W>> {
    let mut out = out;
    let capabilities = tap.capabilities();
    let mut builtins = with_stream_map_settings(tap::TapOptions::settings());
    if !capabilities.contains(Capability::Batch) {
        if let Some(builtins) = builtins.as_object_mut() {
            builtins.shift_remove("batch_config");
        }
    }
    let Some(loaded) =
        configure::<T::Settings, W>(info, args.common(), &capabilities, &builtins, &mut out)?
    else {
        return Ok(out);
    };
    let tap_options = tap::TapOptions::from_config(&loaded.config)?;
    let emit_activate_version = tap_options.emit_activate_version_messages();
    let start_date = tap_options.start_date.map(Value::from);
    let batch = tap_options
        .batch_config
        .filter(|_| capabilities.contains(Capability::Batch));
    let (user_settings, mapper) = (loaded.settings, loaded.mapper);

    let catalog = match args.catalog.as_deref().or(args.properties.as_deref()) {
        Some(path) if !args.discover => Some(read_catalog(path)?),
        _ => None,
    };
    let state = match &args.state {
        Some(path) if !args.discover => read_state(path)?,
        _ => State::new(),
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    // A catalog that selects nothing syncs nothing: the tap's streams are not needed, so a
    // tap that discovers them from a server does not connect.
    let nothing_selected = !args.discover
        && args.test.is_none()
        && catalog
            .as_ref()
            .is_some_and(|c| c.streams.iter().all(|entry| !entry.is_selected()));
    let catalog = if nothing_selected {
        tracing::info!("The catalog selects no stream: nothing to sync.");
        Some(Catalog::default())
    } else {
        catalog
    };
    runtime.block_on(async {
        let streams = if nothing_selected {
            Streams::new()
        } else {
            tap.streams(&user_settings).await?
        };
        streams.check()?;
        if args.discover {
            let mut text = serde_json::to_string_pretty(&tap.catalog(&streams)?)?;
            text.push('\n');
            out.write_raw(text.as_bytes())?;
            out.flush()?;
            return Ok(out);
        }
        if args.test == Some(TestMode::Schema) {
            tap::write_schemas(&streams, &mut out)?;
            return Ok(out);
        }
        let testing = args.test == Some(TestMode::All);
        let options = SyncOptions {
            catalog,
            state,
            record_limit: testing.then_some(1),
            select_all: testing,
            start_date,
            emit_activate_version,
            max_parallelism: tap.max_parallelism(),
            mapper,
            batch,
        };
        let (_, out) = tap::sync(&streams, options, out).await?;
        Ok(out)
    })
}

/// Adds the stream map and flattening settings every connector understands.
fn with_stream_map_settings(mut builtins: Value) -> Value {
    if let (Some(builtins), Value::Object(maps)) =
        (builtins.as_object_mut(), crate::mapper::builtin_settings())
    {
        builtins.extend(maps);
    }
    builtins
}

/// Drops built-in settings the connector's own settings type does not declare, so a settings
/// struct with `deny_unknown_fields` still parses.
fn strip_undeclared(
    mut config: serde_json::Map<String, Value>,
    own_schema: &Value,
    builtins: &Value,
) -> serde_json::Map<String, Value> {
    let own = crate::schema::properties(own_schema);
    if let Some(builtins) = builtins.as_object() {
        for name in builtins.keys() {
            if !own.is_some_and(|o| o.contains_key(name)) {
                config.shift_remove(name);
            }
        }
    }
    config
}

fn read_json(path: &Path, what: &'static str) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        what,
        path: path.to_owned(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| Error::InvalidFile {
        what,
        path: path.to_owned(),
        detail: format!(
            "line {}, column {}: {}",
            e.line(),
            e.column(),
            settings::json_reason(&e)
        ),
        fix: "fix the JSON syntax",
    })
}

fn read_catalog(path: &Path) -> Result<Catalog> {
    let value = read_json(path, "catalog")?;
    serde_path_to_error::deserialize(value).map_err(|e| Error::InvalidFile {
        what: "catalog",
        path: path.to_owned(),
        detail: format!("at `{}`: {}", e.path(), e.inner()),
        fix: "pass a catalog printed by --discover (an object with a `streams` list)",
    })
}

fn read_state(path: &Path) -> Result<State> {
    let value = read_json(path, "state file")?;
    State::from_value(value).map_err(|e| Error::InvalidFile {
        what: "state file",
        path: path.to_owned(),
        detail: match e {
            Error::State(detail) => detail,
            other => other.to_string(),
        },
        fix: "pass the value of a STATE message this tap wrote, or run without --state",
    })
}
