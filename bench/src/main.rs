//! `singer-bench`: whole-process benchmarks of this repository's connectors side by side with
//! the Python singer-sdk and community connectors, and with the physical floors.
//!
//! Run everything with `bench/run` (it builds the release binaries and installs the Python
//! peers into cached virtual environments first). See `bench/README.md`.

#![allow(clippy::print_stdout, reason = "the report goes to stdout")]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::Value;
use singer_bench::measure::{self, Sample};
use singer_bench::rows;

mod startup;
mod systems;

use systems::{map_systems, tap_systems, target_systems, with_baseline};

/// What to measure. A flag given twice takes its last value (so `bench/run --out DIR` works).
#[derive(Debug, Clone, Parser)]
#[command(args_override_self = true)]
struct Args {
    /// `taps`, `targets`, `maps`, `startup` or `all`.
    #[arg(long, default_value = "all")]
    suite: String,
    /// Runs of each binary in each start-up mode; the median is reported.
    #[arg(long, default_value_t = 21)]
    startup_runs: usize,
    /// Input sizes in records; the first size also runs the Python peers.
    #[arg(long, value_delimiter = ',', default_value = "1000000,5000000")]
    sizes: Vec<u64>,
    /// Runs of each system (alternating); the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Skip the Python peers.
    #[arg(long)]
    no_peers: bool,
    /// Directory of our release binaries.
    #[arg(long)]
    bin_dir: PathBuf,
    /// Directory of the same binaries from an earlier build (e.g. the previous commit): each
    /// of ours also runs from there, in the same alternating run, reported as a peer named
    /// `... [baseline]`.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Python peers: `name=path/to/bin` (the venv's bin directory), repeatable.
    #[arg(long = "peer", value_parser = parse_peer)]
    peers: Vec<(String, PathBuf)>,
    /// Scratch directory for inputs and outputs.
    #[arg(long)]
    work_dir: PathBuf,
    /// Where to write `report.md` and `report.svg`.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn parse_peer(text: &str) -> std::result::Result<(String, PathBuf), String> {
    text.split_once('=')
        .map(|(name, path)| (name.to_owned(), PathBuf::from(path)))
        .ok_or_else(|| format!("expected NAME=PATH, got {text}"))
}

/// The medians of one system at one size.
#[derive(Debug, Clone)]
struct Row {
    suite: &'static str,
    system: String,
    kind: Kind,
    records: u64,
    sample: Sample,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ours,
    Peer,
    Floor,
}

/// Runs one system once on (input file, work dir, record count).
type Runner = Box<dyn Fn(&Path, &Path, u64) -> Result<Sample>>;

/// A system to run: a command line (with `{input}`, `{work}`, `{records}` placeholders) or an
/// in-process floor.
struct System {
    name: String,
    kind: Kind,
    run: Runner,
}

fn main() -> Result<()> {
    let mut args = Args::parse();
    std::fs::create_dir_all(&args.work_dir)?;
    // Connectors run inside a scratch directory of their own: every path they get must be
    // absolute.
    args.work_dir = std::fs::canonicalize(&args.work_dir)
        .with_context(|| format!("cannot resolve {}", args.work_dir.display()))?;
    args.bin_dir = std::fs::canonicalize(&args.bin_dir)
        .with_context(|| format!("cannot find the binaries in {}", args.bin_dir.display()))?;
    if let Some(baseline) = &args.baseline {
        args.baseline = Some(std::fs::canonicalize(baseline).with_context(|| {
            format!(
                "cannot find the baseline binaries in {}",
                baseline.display()
            )
        })?);
    }
    if !matches!(
        args.suite.as_str(),
        "taps" | "targets" | "maps" | "startup" | "all"
    ) {
        bail!(
            "unknown suite `{}`; choose taps, targets, maps, startup or all",
            args.suite
        );
    }
    let mut rows = Vec::new();
    let sizes = if args.suite == "startup" {
        Vec::new()
    } else {
        args.sizes.clone()
    };
    for (index, &size) in sizes.iter().enumerate() {
        let with_peers = index == 0 && !args.no_peers;
        if matches!(args.suite.as_str(), "taps" | "all") {
            let systems = with_baseline(&args, |a| tap_systems(a, with_peers));
            rows.extend(suite("taps", &systems, &args, size)?);
        }
        if matches!(args.suite.as_str(), "targets" | "all") {
            let systems = with_baseline(&args, |a| target_systems(a, with_peers));
            rows.extend(suite("targets", &systems, &args, size)?);
        }
        if matches!(args.suite.as_str(), "maps" | "all") {
            let systems = with_baseline(&args, map_systems);
            rows.extend(suite("maps", &systems, &args, size)?);
        }
    }
    let startup = startup::measure(&args.bin_dir, &args.work_dir, args.startup_runs)?;
    let report = markdown(&rows, &startup::markdown(&startup, args.startup_runs));
    println!("{report}");
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)?;
        std::fs::write(out.join("report.md"), &report)?;
        std::fs::write(out.join("report.svg"), svg(&rows))?;
        println!("Wrote {} and report.svg", out.join("report.md").display());
    }
    Ok(())
}

fn suite(name: &'static str, systems: &[System], args: &Args, size: u64) -> Result<Vec<Row>> {
    let input = args.work_dir.join(format!("users-{size}.singer"));
    if !input.exists() {
        let mut out = BufWriter::new(File::create(&input)?);
        rows::write_singer(&mut out, size)?;
        out.flush()?;
        let mut csv = BufWriter::new(File::create(format!("{}.csv", input.display()))?);
        rows::write_csv(&mut csv, size)?;
        csv.flush()?;
        let jsonl_dir = PathBuf::from(format!("{}.jsonl.d", input.display()));
        std::fs::create_dir_all(&jsonl_dir)?;
        let mut jsonl = BufWriter::new(File::create(jsonl_dir.join("users.jsonl"))?);
        rows::write_jsonl(&mut jsonl, size)?;
        jsonl.flush()?;
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); systems.len()];
    // Alternate the systems so that machine noise hits them alike.
    for _ in 0..args.repeats.max(1) {
        for (index, system) in systems.iter().enumerate() {
            eprintln!("{name} {size}: {}", system.name);
            samples[index].push((system.run)(&input, &args.work_dir, size)?);
        }
    }
    Ok(systems
        .iter()
        .zip(samples)
        .map(|(system, samples)| Row {
            suite: name,
            system: system.name.clone(),
            kind: system.kind,
            records: size,
            sample: median(&samples),
        })
        .collect())
}

fn median(samples: &[Sample]) -> Sample {
    let mut sorted = samples.to_vec();
    sorted.sort_by_key(|s| s.wall);
    sorted[sorted.len() / 2]
}

fn markdown(rows: &[Row], startup: &str) -> String {
    let mut out = String::new();
    let mut groups: Vec<(&str, u64)> = rows.iter().map(|r| (r.suite, r.records)).collect();
    groups.dedup();
    for (suite, records) in groups {
        let group: Vec<&Row> = rows
            .iter()
            .filter(|r| r.suite == suite && r.records == records)
            .collect();
        let floor = group
            .iter()
            .filter(|r| r.kind == Kind::Floor && r.system.contains("in process"))
            .map(|r| r.sample.wall.as_secs_f64())
            .next()
            .unwrap_or_else(|| {
                group
                    .first()
                    .map_or(f64::NAN, |r| r.sample.wall.as_secs_f64())
            });
        let peers: Vec<&&Row> = group.iter().filter(|r| r.kind == Kind::Peer).collect();
        let _ = writeln!(
            out,
            "\n### {suite}, {records} records (median of the runs)\n"
        );
        let mut header =
            "| system | seconds | records/s | peak RSS MiB | × in-process floor time |".to_owned();
        let mut rule = "|---|---:|---:|---:|---:|".to_owned();
        for peer in &peers {
            let _ = write!(header, " × faster than {} |", peer.system);
            rule.push_str("---:|");
        }
        let _ = writeln!(out, "{header}\n{rule}");
        for row in &group {
            let secs = row.sample.wall.as_secs_f64();
            let _ = write!(
                out,
                "| {} | {secs:.2} | {:.0} | {:.1} | {:.2} |",
                row.system,
                records as f64 / secs,
                row.sample.peak_rss_kib as f64 / 1024.0,
                secs / floor
            );
            for peer in &peers {
                if row.kind == Kind::Ours {
                    let _ = write!(out, " {:.1} |", peer.sample.wall.as_secs_f64() / secs);
                } else {
                    out.push_str(" |");
                }
            }
            out.push('\n');
        }
    }
    out.push_str(startup);
    out
}

/// A horizontal bar chart of records/s per system and size (SVG, no dependencies).
fn svg(rows: &[Row]) -> String {
    let bar_height = 18;
    let width = 900;
    let label_width = 360;
    let max = rows
        .iter()
        .map(|r| r.records as f64 / r.sample.wall.as_secs_f64())
        .fold(1.0, f64::max);
    let height = rows.len() * (bar_height + 6) + 40;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<text x=\"10\" y=\"20\" font-size=\"14\">records/s (log scale); label: peak RSS</text>\n"
    );
    for (i, row) in rows.iter().enumerate() {
        let rate = row.records as f64 / row.sample.wall.as_secs_f64();
        let y = 30 + i * (bar_height + 6);
        let fraction = (rate.max(1.0).ln() / max.ln()).clamp(0.0, 1.0);
        let bar = (fraction * f64::from(width - label_width - 140)) as u32;
        let color = match row.kind {
            Kind::Ours => "#2b7a3d",
            Kind::Peer => "#b0413e",
            Kind::Floor => "#8a8a8a",
        };
        let label = format!("{} · {} · {}", row.suite, row.records, row.system)
            .replace('&', "&amp;")
            .replace('<', "&lt;");
        let _ = writeln!(
            out,
            "<text x=\"10\" y=\"{}\">{label}</text><rect x=\"{label_width}\" y=\"{y}\" width=\"{bar}\" height=\"{bar_height}\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\">{rate:.0}/s · {:.0} MiB</text>",
            y + 13,
            label_width + bar + 6,
            y + 13,
            row.sample.peak_rss_kib as f64 / 1024.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Runs a command to completion with stdout discarded, sampling its peak RSS (`VmHWM`).
fn run_process(command: &mut Command) -> Result<Sample> {
    measure::run_sampled::<()>(command, None).map(|(sample, _)| sample)
}

/// Floor of a target: parse every line into a `Value` and write it back.
fn value_floor(input: &Path, output: &Path) -> Result<Sample> {
    let start = Instant::now();
    let reader = BufReader::with_capacity(256 * 1024, File::open(input)?);
    let mut writer = BufWriter::with_capacity(256 * 1024, File::create(output)?);
    for line in reader.lines() {
        let value: Value = serde_json::from_str(&line?)?;
        serde_json::to_writer(&mut writer, &value)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    Ok(Sample {
        wall: start.elapsed(),
        peak_rss_kib: 0,
    })
}

/// Floor of a tap: build each typed record and serialise it as a RECORD line.
fn typed_floor(output: &Path, records: u64) -> Result<Sample> {
    let start = Instant::now();
    let mut writer = BufWriter::with_capacity(256 * 1024, File::create(output)?);
    let encoder = singer_sdk::message::RecordEncoder::new("users", None);
    let mut line = Vec::with_capacity(1024);
    for i in 0..records {
        line.clear();
        encoder.encode(&rows::row(i), &mut line)?;
        writer.write_all(&line)?;
    }
    writer.flush()?;
    Ok(Sample {
        wall: start.elapsed(),
        peak_rss_kib: 0,
    })
}
