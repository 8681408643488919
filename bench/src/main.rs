//! Whole-process benchmarks: each sample target loads the same generated Singer file (1M
//! records of a 13-field shape by default) with validation on; the report gives wall time,
//! records/s and peak RSS next to the floor (the same lines parsed into `serde_json::Value`
//! and written back out).
//!
//! `cargo build --release -p target-jsonl -p target-csv -p target-sqlite && cargo run --release -p singer-bench -- targets`

#![allow(clippy::print_stdout, reason = "the report goes to stdout")]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};

/// What to measure.
#[derive(Debug, Parser)]
struct Args {
    /// `targets`: every sample target against the Value round-trip floor.
    suite: String,
    /// Records in the generated input.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Runs of each system (alternating); the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Where the binaries are (default: `$CARGO_TARGET_DIR/release` or `target/release`).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Scratch directory (default: a `bench` folder in the target directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let target_dir =
        PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned()));
    let bin_dir = args
        .bin_dir
        .clone()
        .unwrap_or_else(|| target_dir.join("release"));
    let work = args
        .work_dir
        .clone()
        .unwrap_or_else(|| target_dir.join("bench"));
    std::fs::create_dir_all(&work)?;
    match args.suite.as_str() {
        "targets" => targets(&args, &bin_dir, &work),
        other => bail!("unknown suite `{other}`; the suites are: targets"),
    }
}

/// One measured run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    peak_rss_kib: u64,
}

fn targets(args: &Args, bin_dir: &Path, work: &Path) -> Result<()> {
    let input = work.join(format!("records-{}.singer", args.records));
    if !input.exists() {
        generate(&input, args.records)?;
    }
    let systems: Vec<(&str, Value)> = vec![
        (
            "target-jsonl",
            json!({"destination_path": work.join("out-jsonl")}),
        ),
        ("target-csv", json!({"output_path": work.join("out-csv")})),
        ("target-sqlite", json!({"database": work.join("out.db")})),
    ];
    let mut results: Vec<(String, Vec<Sample>)> =
        vec![("floor: serde_json Value round trip".to_owned(), Vec::new())];
    for (name, _) in &systems {
        results.push(((*name).to_owned(), Vec::new()));
    }
    for _ in 0..args.repeats {
        results[0].1.push(floor(&input, &work.join("floor.out"))?);
        for (index, (name, config)) in systems.iter().enumerate() {
            clean(work)?;
            let config_path = work.join(format!("{name}.json"));
            std::fs::write(&config_path, config.to_string())?;
            let sample = run_process(
                Command::new(bin_dir.join(name))
                    .arg("--config")
                    .arg(&config_path)
                    .arg("--input")
                    .arg(&input),
            )
            .with_context(|| format!("running {name}"))?;
            results[index + 1].1.push(sample);
        }
    }
    println!("{}", report(args.records, &results));
    Ok(())
}

fn clean(work: &Path) -> Result<()> {
    for leftover in ["out-jsonl", "out-csv"] {
        let path = work.join(leftover);
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
    }
    for file in ["out.db", "out.db-wal", "out.db-shm"] {
        let _ = std::fs::remove_file(work.join(file));
    }
    Ok(())
}

fn median(samples: &[Sample]) -> Sample {
    let mut sorted = samples.to_vec();
    sorted.sort_by_key(|s| s.wall);
    sorted[sorted.len() / 2]
}

fn report(records: u64, results: &[(String, Vec<Sample>)]) -> String {
    let floor = median(&results[0].1).wall.as_secs_f64();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| system ({records} records, validation on) | seconds | records/s | peak RSS (MiB) | × floor time |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for (name, samples) in results {
        let m = median(samples);
        let secs = m.wall.as_secs_f64();
        let _ = writeln!(
            out,
            "| {name} | {secs:.2} | {:.0} | {:.1} | {:.2} |",
            records as f64 / secs,
            m.peak_rss_kib as f64 / 1024.0,
            secs / floor
        );
    }
    out
}

/// Runs a command to completion, sampling its peak RSS (`VmHWM`) until it exits.
fn run_process(command: &mut Command) -> Result<Sample> {
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start the process")?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let stderr = child.stderr.take();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        }
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        peak = peak.max(read_hwm(&status_path).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = start.elapsed();
    let log = log.join().unwrap_or_default();
    if !status.success() {
        bail!(
            "exited with {status}: {}",
            log.lines().rev().take(5).collect::<Vec<_>>().join("\n")
        );
    }
    Ok(Sample {
        wall,
        peak_rss_kib: peak,
    })
}

fn read_hwm(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The floor: parse every line into a `Value` and write it back, in this process.
fn floor(input: &Path, output: &Path) -> Result<Sample> {
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
        peak_rss_kib: read_hwm("/proc/self/status").unwrap_or(0),
    })
}

/// Writes a SCHEMA, `count` RECORDs of the 13-field shape and a STATE every 10 000 records.
fn generate(path: &Path, count: u64) -> Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let schema = json!({"type": "SCHEMA", "stream": "users", "key_properties": ["id"], "bookmark_properties": ["updated_at"], "schema": {
    "type": "object", "properties": {
        "id": {"type": "integer"},
        "account": {"type": "string"},
        "name": {"type": "string"},
        "email": {"type": ["string", "null"]},
        "note": {"type": ["string", "null"]},
        "active": {"type": "boolean"},
        "verified": {"type": ["boolean", "null"]},
        "score": {"type": "number"},
        "balance": {"type": ["number", "null"]},
        "visits": {"type": "integer"},
        "updated_at": {"type": "string", "format": "date-time"},
        "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
    }}});
    writeln!(out, "{schema}")?;
    let names = [
        "Ada \"the first\" Lovelace",
        "Alan Turing",
        "Grace\tHopper",
        "Zoë Ñandú\\",
    ];
    for i in 0..count {
        let day = i % 28 + 1;
        let record = json!({"type": "RECORD", "stream": "users", "time_extracted": "2024-03-01T00:00:00+00:00", "record": {
            "id": i,
            "account": format!("acct-{:06x}", i * 7919 % 1_000_003),
            "name": names[(i % 4) as usize],
            "email": if i % 10 == 0 { Value::Null } else { json!(format!("user{i}@example.com")) },
            "note": Value::Null,
            "active": i % 2 == 0,
            "verified": i % 3 == 0,
            "score": i as f64 * 0.5,
            "balance": 1234.5678 + i as f64,
            "visits": i % 1000,
            "updated_at": format!("2024-02-{day:02}T{:02}:{:02}:{:02}+00:00", i % 24, i % 60, (i / 60) % 60),
            "address": {"street": "1 Main St.\nApt 2", "city": "Springfield", "zip": format!("{:05}", i % 100_000)},
            "tags": ["alpha", "beta"],
        }});
        writeln!(out, "{record}")?;
        if (i + 1) % 10_000 == 0 {
            writeln!(
                out,
                "{}",
                json!({"type": "STATE", "value": {"bookmarks": {"users": {"replication_key": "updated_at", "replication_key_value": i}}}})
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
