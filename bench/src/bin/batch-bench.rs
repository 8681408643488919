//! `batch-bench`: records through BATCH files against the same records as RECORD lines.
//!
//! `tap-csv` reads a generated CSV file of N records (13 fields, `bench/src/rows.rs`) and
//! sends them as RECORDs, or as BATCH messages naming files in each encoding asked for:
//!
//! 1. as a direct pipe, `tap-csv | target-jsonl` and `tap-csv | target-sqlite`;
//! 2. under `meltano run tap-csv target-sqlite` (Meltano from `scripts/peer meltano`, in an
//!    offline project the benchmark writes), where every RECORD line passes through Meltano's
//!    Python process and a BATCH line carries 10 000 records;
//! 3. with `--peer`, the same for singer-sdk's `tap-jsonl` into `meltanolabs-target-csv` as a
//!    direct pipe, at `--peer-records` (Python is slow: a smaller size, compared in records/s).
//!
//! Every run's output is counted (a benchmark that loaded nothing would be fast). Systems run
//! alternately, `--repeats` times; the report gives medians of wall time, records/s, the speed-up
//! of BATCH over RECORDs and each process's peak RSS. Scratch inputs and outputs are deleted.

#![allow(clippy::print_stdout, reason = "the report goes to stdout")]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use singer_bench::measure::{TreeSample as Sample, watch_tree as watch};
use singer_bench::rows;

#[derive(Debug, Parser)]
struct Args {
    /// Directory of the release binaries (`tap-csv`, `target-jsonl`, `target-sqlite`).
    #[arg(long)]
    bin_dir: PathBuf,
    /// Scratch directory (inputs, batch files, outputs, Meltano projects).
    #[arg(long)]
    work_dir: PathBuf,
    /// Records per run.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Runs of each system (alternating); the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// BATCH encodings, `format:compression`.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "jsonl:none,jsonl:gzip,parquet:none"
    )]
    encodings: Vec<String>,
    /// Meltano's venv bin directory (`scripts/peer meltano`); without it the `meltano run`
    /// part is skipped.
    #[arg(long)]
    meltano: Option<PathBuf>,
    /// Python peers: `tap-jsonl=DIR` and `meltanolabs-target-csv=DIR` (venv bin directories).
    #[arg(long = "peer", value_parser = parse_peer)]
    peers: Vec<(String, PathBuf)>,
    /// Records per run of the Python peers.
    #[arg(long, default_value_t = 100_000)]
    peer_records: u64,
    /// Where to write the report (Markdown); it also goes to stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn parse_peer(text: &str) -> std::result::Result<(String, PathBuf), String> {
    text.split_once('=')
        .map(|(name, path)| (name.to_owned(), PathBuf::from(path)))
        .ok_or_else(|| format!("expected NAME=PATH, got {text}"))
}

/// RECORD lines, or BATCH files of an encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Records,
    Batch { format: String, compression: String },
}

impl Mode {
    fn label(&self) -> String {
        match self {
            Mode::Records => "RECORD lines".to_owned(),
            Mode::Batch {
                format,
                compression,
            } => format!("BATCH {format}, {compression}"),
        }
    }

    fn slug(&self) -> String {
        match self {
            Mode::Records => "records".to_owned(),
            Mode::Batch {
                format,
                compression,
            } => format!("batch-{format}-{compression}"),
        }
    }

    /// The tap's `batch_config` for files under `root`, or nothing.
    fn batch_config(&self, root: &Path) -> Option<Value> {
        match self {
            Mode::Records => None,
            Mode::Batch {
                format,
                compression,
            } => Some(json!({
                "encoding": {"format": format, "compression": compression},
                "storage": {"root": root, "prefix": "users-"},
                "batch_size": 10_000
            })),
        }
    }
}

/// What a system loads into, read back to count the records.
#[derive(Debug, Clone, Copy)]
enum Sink {
    /// target-jsonl's `users.jsonl` in the output directory.
    Jsonl,
    /// target-sqlite's table `users` in `out.db`.
    Sqlite,
    /// meltanolabs-target-csv's `users.csv` (a header line, then one line per record).
    Csv,
}

/// Runs a system once in a scratch directory (holding `out/` for its output).
type Runner = Box<dyn Fn(&Path) -> Result<Sample>>;

/// A pipeline to measure.
struct System {
    group: &'static str,
    mode: Mode,
    records: u64,
    run: Runner,
    sink: Sink,
}

fn main() -> Result<()> {
    let mut args = Args::parse();
    std::fs::create_dir_all(&args.work_dir)?;
    args.work_dir = std::fs::canonicalize(&args.work_dir)?;
    args.bin_dir = std::fs::canonicalize(&args.bin_dir)
        .with_context(|| format!("cannot find the binaries in {}", args.bin_dir.display()))?;
    let mut modes = vec![Mode::Records];
    for encoding in &args.encodings {
        let Some((format, compression)) = encoding.split_once(':') else {
            bail!("encoding `{encoding}`: write it as format:compression, e.g. jsonl:gzip");
        };
        modes.push(Mode::Batch {
            format: format.to_owned(),
            compression: compression.to_owned(),
        });
    }
    let csv = args.work_dir.join(format!("users-{}.csv", args.records));
    write_input(&csv, args.records, rows::write_csv)?;
    let mut systems = Vec::new();
    for mode in &modes {
        systems.push(direct(&args, DIRECT_JSONL, mode, &csv, Sink::Jsonl));
        systems.push(direct(
            &args,
            "tap-csv | target-sqlite",
            mode,
            &csv,
            Sink::Sqlite,
        ));
    }
    if let Some(meltano) = &args.meltano {
        for mode in &modes {
            systems.push(meltano_run(&args, meltano, mode, &csv)?);
        }
    }
    let mut peer_input = None;
    if let (Some(tap), Some(target)) = (
        peer(&args, "tap-jsonl"),
        peer(&args, "meltanolabs-target-csv"),
    ) {
        let dir = args
            .work_dir
            .join(format!("users-{}.jsonl.d", args.peer_records));
        std::fs::create_dir_all(&dir)?;
        write_input(
            &dir.join("users.jsonl"),
            args.peer_records,
            rows::write_jsonl,
        )?;
        for mode in [
            Mode::Records,
            Mode::Batch {
                format: "jsonl".into(),
                compression: "gzip".into(),
            },
        ] {
            systems.push(python(&args, &tap, &target, &mode, &dir));
        }
        peer_input = Some(dir);
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); systems.len()];
    for round in 0..args.repeats.max(1) {
        for (system, samples) in systems.iter().zip(&mut samples) {
            eprintln!(
                "{} / {} (run {})",
                system.group,
                system.mode.label(),
                round + 1
            );
            let work = args.work_dir.join("run");
            if work.exists() {
                std::fs::remove_dir_all(&work)?;
            }
            std::fs::create_dir_all(work.join("out"))?;
            let sample = (system.run)(&work)?;
            let loaded = count(system.sink, &work.join("out"))?;
            if loaded != system.records {
                bail!(
                    "{} / {}: {loaded} records loaded, {} expected",
                    system.group,
                    system.mode.label(),
                    system.records
                );
            }
            std::fs::remove_dir_all(&work)?;
            samples.push(sample);
        }
    }
    std::fs::remove_file(&csv)?;
    if let Some(dir) = peer_input {
        std::fs::remove_dir_all(dir)?;
    }
    let report = report(&args, &systems, &samples);
    println!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

fn peer(args: &Args, name: &str) -> Option<PathBuf> {
    args.peers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, p)| p.clone())
}

fn write_input(
    path: &Path,
    records: u64,
    write: impl Fn(&mut BufWriter<File>, u64) -> std::io::Result<()>,
) -> Result<()> {
    if !path.exists() {
        let mut out = BufWriter::new(File::create(path)?);
        write(&mut out, records)?;
        out.flush()?;
    }
    Ok(())
}

fn write_json(path: &Path, value: &Value) -> Result<PathBuf> {
    std::fs::write(path, value.to_string())?;
    Ok(path.to_path_buf())
}

fn tap_config(csv: &Path, mode: &Mode, work: &Path) -> Value {
    let mut config = json!({
        "infer_types": true,
        "files": [{"entity": "users", "path": csv, "keys": ["id"]}]
    });
    if let Some(batch) = mode.batch_config(&work.join("batches")) {
        config["batch_config"] = batch;
    }
    config
}

fn target_config(sink: Sink, out: &Path) -> Value {
    match sink {
        Sink::Jsonl => json!({"destination_path": out}),
        Sink::Sqlite => json!({"database": out.join("out.db")}),
        Sink::Csv => json!({"output_path": out}),
    }
}

/// `tap-csv | <target>`, the two processes joined by a pipe.
fn direct(args: &Args, group: &'static str, mode: &Mode, csv: &Path, sink: Sink) -> System {
    let tap = args.bin_dir.join("tap-csv");
    let target = args.bin_dir.join(match sink {
        Sink::Sqlite => "target-sqlite",
        _ => "target-jsonl",
    });
    let (csv, owned_mode) = (csv.to_path_buf(), mode.clone());
    System {
        group,
        mode: mode.clone(),
        records: args.records,
        sink,
        run: Box::new(move |work| {
            let tap_config =
                write_json(&work.join("tap.json"), &tap_config(&csv, &owned_mode, work))?;
            let target_config = write_json(
                &work.join("target.json"),
                &target_config(sink, &work.join("out")),
            )?;
            let mut tap = Command::new(&tap);
            tap.arg("--config").arg(tap_config);
            let mut target = Command::new(&target);
            target.arg("--config").arg(target_config);
            pipe(tap, target)
        }),
    }
}

/// singer-sdk's `tap-jsonl | meltanolabs-target-csv`.
fn python(args: &Args, tap: &Path, target: &Path, mode: &Mode, input: &Path) -> System {
    let (tap, target, input, owned_mode) = (
        tap.join("tap-jsonl"),
        target.join("target-csv"),
        input.to_path_buf(),
        mode.clone(),
    );
    System {
        group: PYTHON,
        mode: mode.clone(),
        records: args.peer_records,
        sink: Sink::Csv,
        run: Box::new(move |work| {
            let mut config = json!({"path": input.join("users.jsonl"), "stream_name": "users", "primary_keys": ["id"]});
            if let Some(batch) = owned_mode.batch_config(&work.join("batches")) {
                config["batch_config"] = batch;
            }
            let tap_config = write_json(&work.join("tap.json"), &config)?;
            let target_config = write_json(
                &work.join("target.json"),
                &target_config(Sink::Csv, &work.join("out")),
            )?;
            let mut tap = Command::new(&tap);
            tap.arg("--config").arg(tap_config);
            let mut target = Command::new(&target);
            target.arg("--config").arg(target_config);
            pipe(tap, target)
        }),
    }
}

fn pipe(mut tap: Command, mut target: Command) -> Result<Sample> {
    let name = |c: &Command| {
        Path::new(c.get_program())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let (tap_name, target_name) = (name(&tap), name(&target));
    let (tap_name, target_name) = (tap_name.as_str(), target_name.as_str());
    let start = Instant::now();
    let mut tap = tap
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start the tap")?;
    let stdout = tap.stdout.take().context("the tap's stdout")?;
    let target = target
        .stdin(stdout)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start the target")?;
    watch(start, vec![(tap_name, tap), (target_name, target)])
}

/// `meltano run tap-csv target-sqlite` in a project of its own for `mode`.
fn meltano_run(args: &Args, meltano: &Path, mode: &Mode, csv: &Path) -> Result<System> {
    let project = args.work_dir.join(format!("meltano-{}", mode.slug()));
    std::fs::create_dir_all(&project)?;
    let exe = meltano.join("meltano");
    let (tap, target) = (
        args.bin_dir.join("tap-csv"),
        args.bin_dir.join("target-sqlite"),
    );
    let scratch = args.work_dir.join("run");
    // Meltano expands `$MELTANO_PROJECT_ROOT`-style variables; the run directory is fixed, so
    // the paths are written out.
    let doc = json!({
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "send_anonymous_usage_stats": false,
        "cli": {"disable_version_check": true},
        "plugins": {
            "extractors": [{
                "name": "tap-csv", "namespace": "tap_csv", "executable": tap,
                "capabilities": ["catalog", "discover", "state", "batch"],
                "config": tap_config(csv, mode, &scratch)
            }],
            "loaders": [{
                "name": "target-sqlite", "namespace": "target_sqlite", "executable": target,
                "capabilities": ["batch"],
                "config": target_config(Sink::Sqlite, &scratch.join("out"))
            }]
        }
    });
    // JSON is YAML.
    std::fs::write(
        project.join("meltano.yml"),
        serde_json::to_string_pretty(&doc)?,
    )?;
    let command = move |project: &Path, xdg: &Path, args: &[&str]| {
        let mut command = Command::new(&exe);
        command.args(args).current_dir(project);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if [
                "MELTANO_",
                "TAP_",
                "TARGET_",
                "VIRTUAL_ENV",
                "PYTHONPATH",
                "RUST_LOG",
            ]
            .iter()
            .any(|p| key.starts_with(p))
            {
                command.env_remove(key);
            }
        }
        // Each switch closes a network call or an install.
        command
            .env("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
            .env("MELTANO_DISABLE_TRACKING", "true")
            .env("MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS", "[]")
            .env("MELTANO_CLI_DISABLE_VERSION_CHECK", "true")
            .env("MELTANO_AUTO_INSTALL", "false")
            .env("XDG_STATE_HOME", xdg.join("state"))
            .env("XDG_CACHE_HOME", xdg.join("cache"))
            .env("XDG_CONFIG_HOME", xdg.join("config"));
        command
    };
    // Once, untimed: Meltano creates its system database on a project's first command.
    let xdg = project.join("xdg");
    let status = command(&project, &xdg, &["state", "list"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("`meltano state list` failed in {}", project.display());
    }
    Ok(System {
        group: "meltano run tap-csv target-sqlite",
        mode: mode.clone(),
        records: args.records,
        sink: Sink::Sqlite,
        run: Box::new(move |_| {
            let mut run = command(
                &project,
                &xdg,
                &[
                    "run",
                    "--no-install",
                    "--full-refresh",
                    "tap-csv",
                    "target-sqlite",
                ],
            );
            let start = Instant::now();
            let child = run
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .context("cannot start meltano")?;
            watch(start, vec![("meltano", child)])
        }),
    })
}

/// The records a run loaded.
fn count(sink: Sink, out: &Path) -> Result<u64> {
    let lines = |path: &Path| -> Result<u64> {
        let file = File::open(path).with_context(|| format!("no output {}", path.display()))?;
        let mut n = 0;
        for line in BufReader::new(file).split(b'\n') {
            line?;
            n += 1;
        }
        Ok(n)
    };
    match sink {
        Sink::Jsonl => lines(&out.join("users.jsonl")),
        Sink::Csv => Ok(lines(&out.join("users.csv"))?.saturating_sub(1)),
        Sink::Sqlite => {
            let db = rusqlite::Connection::open(out.join("out.db"))?;
            let n: i64 = db.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?;
            Ok(u64::try_from(n)?)
        }
    }
}

fn median(samples: &[Sample]) -> Sample {
    let mut sorted = samples.to_vec();
    sorted.sort_by_key(|s| s.wall);
    sorted[sorted.len() / 2].clone()
}

fn report(args: &Args, systems: &[System], samples: &[Vec<Sample>]) -> String {
    let mut out = String::from("# BATCH against RECORD lines\n\n");
    let _ = writeln!(
        out,
        "`batch-bench --records {} --repeats {}`: tap-csv reading a CSV file of {} records \
         (13 fields, `infer_types` on), as RECORD lines or as BATCH files of 10 000 records; \
         median of {} alternating runs. Peak RSS is each process's high-water mark.\n",
        args.records,
        args.repeats,
        args.records,
        args.repeats.max(1)
    );
    let mut groups: Vec<&str> = Vec::new();
    for system in systems {
        if !groups.contains(&system.group) {
            groups.push(system.group);
        }
    }
    for group in groups {
        let _ = writeln!(out, "## {group}\n");
        let _ = writeln!(
            out,
            "| records as | records | seconds | records/s | × RECORD lines | peak RSS MiB |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---|");
        let rows: Vec<(&System, Sample)> = systems
            .iter()
            .zip(samples)
            .filter(|(s, _)| s.group == group)
            .map(|(s, samples)| (s, median(samples)))
            .collect();
        let baseline = rows
            .iter()
            .find(|(s, _)| s.mode == Mode::Records)
            .map(|(_, sample)| sample.wall.as_secs_f64());
        for (system, sample) in &rows {
            let seconds = sample.wall.as_secs_f64();
            let speedup = baseline.map_or("".to_owned(), |b| format!("{:.2}", b / seconds));
            #[allow(clippy::cast_precision_loss, reason = "a rate for a report")]
            let rate = system.records as f64 / seconds;
            let peaks = sample
                .peaks
                .iter()
                .map(|(name, kib)| format!("{name} {}", kib / 1024))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                out,
                "| {} | {} | {seconds:.2} | {rate:.0} | {speedup} | {peaks} |",
                system.mode.label(),
                system.records
            );
        }
        out.push('\n');
    }
    let rate = |group: &str, mode: &Mode| {
        systems
            .iter()
            .zip(samples)
            .find(|(s, _)| s.group == group && s.mode == *mode)
            .map(|(s, samples)| {
                #[allow(clippy::cast_precision_loss, reason = "a rate for a report")]
                let records = s.records as f64;
                records / median(samples).wall.as_secs_f64()
            })
    };
    let gzip = Mode::Batch {
        format: "jsonl".into(),
        compression: "gzip".into(),
    };
    let mut against = String::new();
    for mode in [Mode::Records, gzip] {
        if let (Some(ours), Some(theirs)) = (rate(DIRECT_JSONL, &mode), rate(PYTHON, &mode)) {
            let _ = writeln!(
                against,
                "| {} | {ours:.0} | {theirs:.0} | {:.1} |",
                mode.label(),
                ours / theirs
            );
        }
    }
    if !against.is_empty() {
        let _ = writeln!(
            out,
            "## Against singer-sdk\n\nRecords/s of `{DIRECT_JSONL}` ({} records) over those of \
             singer-sdk's `tap-jsonl | meltanolabs-target-csv` ({} records), same run:\n",
            args.records, args.peer_records
        );
        let _ = writeln!(out, "| records as | ours | singer-sdk | × faster |");
        let _ = writeln!(out, "|---|---:|---:|---:|");
        out.push_str(&against);
    }
    out
}

const DIRECT_JSONL: &str = "tap-csv | target-jsonl";
const PYTHON: &str = "singer-sdk: tap-jsonl | meltanolabs-target-csv (Python)";
