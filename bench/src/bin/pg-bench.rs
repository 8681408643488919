//! `pg-bench`: target-postgres and tap-postgres against MeltanoLabs' target-postgres and
//! tap-postgres (from PyPI) on one PostgreSQL server, in one run: records loaded per second
//! with validation on, rows extracted per second, and peak RSS. Run it with
//! `bench/postgres`, which builds the release binaries and installs the peers first.
//!
//! The Python peers are about a hundred times slower, so they run on a smaller input
//! (`--peer-records`); ours runs on both sizes, and the ratios compare records/s at the
//! peers' size.

#![allow(clippy::print_stdout, reason = "the report goes to stdout")]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::{ChildStdout, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use singer_bench::measure::{self, Sample};
use singer_bench::rows;
use singer_sdk::sql::postgres::{Client, ConnectOptions};

/// What to measure.
#[derive(Debug, Parser)]
struct Args {
    /// Records loaded by ours, and rows of the table ours extracts.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Records loaded and rows extracted by the Python peers (and by ours, for the ratio).
    #[arg(long, default_value_t = 30_000)]
    peer_records: u64,
    /// Runs of each measurement; the median is reported.
    #[arg(long, default_value_t = 1)]
    repeats: usize,
    /// Directory of our release binaries (`target-postgres`, `tap-postgres`).
    #[arg(long)]
    bin_dir: PathBuf,
    /// The bin directory of MeltanoLabs target-postgres's venv (skipped when not given).
    #[arg(long)]
    target_peer: Option<PathBuf>,
    /// The bin directory of MeltanoLabs tap-postgres's venv (skipped when not given).
    #[arg(long)]
    tap_peer: Option<PathBuf>,
    /// The server: `postgresql://user@host:port/database` (trust authentication).
    #[arg(long, default_value = "postgresql://postgres@127.0.0.1:5432/test")]
    url: String,
    /// Scratch directory for inputs and configs.
    #[arg(long)]
    work_dir: PathBuf,
    /// Where to write the report (markdown); stdout only when not given.
    #[arg(long)]
    out: Option<PathBuf>,
    /// `load`, `extract` or `all`.
    #[arg(long, default_value = "all")]
    suite: String,
    /// Directory of the same binaries from an earlier build: its target-postgres also runs,
    /// reported as `... [baseline]`.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Only write the Singer input of `--records` records to this file (for profiling).
    #[arg(long)]
    write_input: Option<PathBuf>,
}

/// The median of one system on one input.
#[derive(Debug, Clone)]
struct Row {
    suite: &'static str,
    system: String,
    records: u64,
    sample: Sample,
}

impl Row {
    fn per_second(&self) -> f64 {
        self.records as f64 / self.sample.wall.as_secs_f64().max(1e-9)
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(path) = &args.write_input {
        let mut file = BufWriter::new(File::create(path)?);
        rows::write_singer(&mut file, args.records)?;
        file.flush()?;
        return Ok(());
    }
    if !["load", "extract", "all"].contains(&args.suite.as_str()) {
        bail!(
            "--suite is `load`, `extract` or `all`, not `{}`",
            args.suite
        );
    }
    std::fs::create_dir_all(&args.work_dir)?;
    let connect = ConnectOptions::from_url(&args.url)?;
    let client = Client::connect(&connect)?;
    let mut rows = Vec::new();
    if args.suite != "extract" {
        rows.extend(load_suite(&args, &client, &connect)?);
    }
    if args.suite != "load" {
        rows.extend(extract_suite(&args, &client, &connect)?);
    }
    for schema in ["bench_load", "bench_src_large", "bench_src_small"] {
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))?;
    }
    let report = markdown(&args, &rows);
    print!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, report).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

/// The connection settings both implementations accept.
fn connection_config(connect: &ConnectOptions) -> Value {
    json!({
        "host": connect.host,
        "port": connect.port,
        "user": connect.user,
        "database": connect.database,
    })
}

fn write_config(args: &Args, name: &str, config: &Value) -> Result<PathBuf> {
    let path = args.work_dir.join(format!("{name}.json"));
    std::fs::write(&path, config.to_string())?;
    Ok(path)
}

fn load_suite(args: &Args, client: &Client, connect: &ConnectOptions) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    let mut sizes = vec![args.records];
    if args.peer_records != args.records {
        sizes.insert(0, args.peer_records);
    }
    for &size in &sizes {
        let input = args.work_dir.join(format!("users-{size}.singer"));
        let mut file = BufWriter::new(File::create(&input)?);
        rows::write_singer(&mut file, size)?;
        file.flush()?;
        drop(file);
        let mut systems: Vec<(String, PathBuf, Value)> = Vec::new();
        for method in ["append-only", "upsert"] {
            let mut config = connection_config(connect);
            config["default_target_schema"] = json!("bench_load");
            config["load_method"] = json!(method);
            config["validate_records"] = json!(true);
            systems.push((
                format!("target-postgres ({method})"),
                args.bin_dir.join("target-postgres"),
                config.clone(),
            ));
            if let Some(baseline) = &args.baseline {
                systems.push((
                    format!("target-postgres ({method}) [baseline]"),
                    baseline.join("target-postgres"),
                    config,
                ));
            }
        }
        if let (Some(peer), true) = (&args.target_peer, size == args.peer_records) {
            // It wants a URL (or a password) and refuses ACTIVATE_VERSION without metadata
            // columns, which ours does not add either.
            let url = format!(
                "postgresql+psycopg://{}@{}:{}/{}",
                connect.user, connect.host, connect.port, connect.database
            );
            for use_copy in [false, true] {
                let config = json!({
                    "sqlalchemy_url": url,
                    "default_target_schema": "bench_load",
                    "validate_records": true,
                    "add_record_metadata": false,
                    "activate_version": false,
                    "use_copy": use_copy,
                });
                let name = if use_copy {
                    "MeltanoLabs target-postgres 0.8.1 (use_copy)"
                } else {
                    "MeltanoLabs target-postgres 0.8.1"
                };
                systems.push((name.to_owned(), peer.join("target-postgres"), config));
            }
        }
        for (name, bin, config) in systems {
            let config = write_config(args, "load", &config)?;
            let mut samples = Vec::new();
            for _ in 0..args.repeats {
                client.batch_execute("DROP SCHEMA IF EXISTS bench_load CASCADE")?;
                let mut command = Command::new(&bin);
                command
                    .arg("--config")
                    .arg(&config)
                    .stdin(File::open(&input)?);
                let (sample, _) = run_process(&mut command, false).with_context(|| name.clone())?;
                let loaded = count(client, "bench_load.users")?;
                if loaded != size {
                    bail!("{name} loaded {loaded} rows of {size}");
                }
                samples.push(sample);
            }
            eprintln!("{name}: {size} records in {:?}", median(&samples).wall);
            out.push(Row {
                suite: "load",
                system: name,
                records: size,
                sample: median(&samples),
            });
        }
        std::fs::remove_file(&input)?;
    }
    Ok(out)
}

fn count(client: &Client, table: &str) -> Result<u64> {
    let rows = client.query_text(&format!("SELECT count(*)::text FROM {table}"), &[])?;
    let text = rows
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .unwrap_or_default();
    Ok(text.parse()?)
}

/// A table of the benchmark's 13-field shape with `rows` rows, made by the server.
fn create_source(client: &Client, schema: &str, rows: u64) -> Result<()> {
    client.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};
         CREATE TABLE {schema}.users AS SELECT
           i::bigint AS id, 'acct-' || to_hex(i * 7919 % 1000003) AS account,
           (ARRAY['Ada \"the first\" Lovelace', 'Alan Turing', E'Grace\\tHopper', 'Zoë Ñandú\\'])[i % 4 + 1] AS name,
           CASE WHEN i % 10 = 0 THEN NULL ELSE 'user' || i || '@example.com' END AS email,
           NULL::text AS note, i % 2 = 0 AS active, i % 3 = 0 AS verified,
           i * 0.5::double precision AS score, 1234.5678::double precision + i AS balance,
           (i % 1000)::bigint AS visits,
           timestamptz '2024-02-01' + (i % 28) * interval '1 day' + (i % 86400) * interval '1 second' AS updated_at,
           jsonb_build_object('street', E'1 Main St.\\nApt 2', 'city', 'Springfield', 'zip', lpad((i % 100000)::text, 5, '0')) AS address,
           ARRAY['alpha', 'beta'] AS tags
         FROM generate_series(0::bigint, {rows} - 1) AS i;
         ALTER TABLE {schema}.users ADD PRIMARY KEY (id);
         ANALYZE {schema}.users;"
    ))?;
    Ok(())
}

fn extract_suite(args: &Args, client: &Client, connect: &ConnectOptions) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    let mut sizes = vec![("bench_src_large", args.records)];
    if args.peer_records != args.records {
        sizes.insert(0, ("bench_src_small", args.peer_records));
    }
    for &(schema, size) in &sizes {
        create_source(client, schema, size)?;
        let mut config = connection_config(connect);
        config["filter_schemas"] = json!([schema]);
        let mut systems = vec![(
            "tap-postgres".to_owned(),
            args.bin_dir.join("tap-postgres"),
            config.clone(),
        )];
        if let (Some(peer), true) = (&args.tap_peer, size == args.peer_records) {
            // It wants a password even for trust authentication (which ignores it).
            let mut config = config.clone();
            config["password"] = json!("unused");
            systems.push((
                "MeltanoLabs tap-postgres 0.10.0".to_owned(),
                peer.join("tap-postgres"),
                config,
            ));
        }
        for (name, bin, config) in systems {
            let config = write_config(args, "extract", &config)?;
            // Both sync what a catalog selects: discover, select every stream.
            let catalog = select_all(&bin, &config)?;
            let catalog_path = args.work_dir.join("catalog.json");
            std::fs::write(&catalog_path, catalog.to_string())?;
            let mut samples = Vec::new();
            for _ in 0..args.repeats {
                let mut command = Command::new(&bin);
                command
                    .arg("--config")
                    .arg(&config)
                    .arg("--catalog")
                    .arg(&catalog_path)
                    .stdin(Stdio::null());
                let (sample, records) =
                    run_process(&mut command, true).with_context(|| name.clone())?;
                if records != size {
                    bail!("{name} extracted {records} records of {size}");
                }
                samples.push(sample);
            }
            eprintln!("{name}: {size} rows in {:?}", median(&samples).wall);
            out.push(Row {
                suite: "extract",
                system: name,
                records: size,
                sample: median(&samples),
            });
        }
        client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))?;
    }
    Ok(out)
}

/// The tap's discovered catalog with every stream selected.
fn select_all(bin: &PathBuf, config: &PathBuf) -> Result<Value> {
    let output = Command::new(bin)
        .arg("--config")
        .arg(config)
        .arg("--discover")
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !output.status.success() {
        bail!(
            "{} --discover failed: {}",
            bin.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut catalog: Value = serde_json::from_slice(&output.stdout)?;
    for stream in catalog["streams"].as_array_mut().into_iter().flatten() {
        for entry in stream["metadata"].as_array_mut().into_iter().flatten() {
            if entry["breadcrumb"] == json!([]) {
                entry["metadata"]["selected"] = json!(true);
            }
        }
    }
    Ok(catalog)
}

fn median(samples: &[Sample]) -> Sample {
    let mut walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    walls.sort();
    let mut peaks: Vec<u64> = samples.iter().map(|s| s.peak_rss_kib).collect();
    peaks.sort_unstable();
    Sample {
        wall: walls[walls.len() / 2],
        peak_rss_kib: peaks[peaks.len() / 2],
    }
}

/// Runs a command to completion, sampling its peak RSS (`VmHWM`); counts the RECORD lines
/// it prints when `records` (else stdout is discarded).
fn run_process(command: &mut Command, records: bool) -> Result<(Sample, u64)> {
    let (sample, counted) =
        measure::run_sampled(command, records.then_some(count_records as fn(_) -> u64))?;
    Ok((sample, counted.unwrap_or(0)))
}

/// The RECORD lines a tap prints.
fn count_records(stdout: ChildStdout) -> u64 {
    let mut n = 0;
    let mut reader = BufReader::with_capacity(1 << 20, stdout);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
        if line.starts_with(b"{\"type\":\"RECORD\"") || line.starts_with(b"{\"type\": \"RECORD\"") {
            n += 1;
        }
        line.clear();
    }
    n
}

fn markdown(args: &Args, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# PostgreSQL connectors\n\nOne run of `bench/postgres` on one PostgreSQL server (`{}`), median of {} run(s) each. Records are the 13-field shape of `bench/src/rows.rs` (integers, escaped strings, a date-time, booleans, floats, nulls, a nested object, an array); targets validate every record. The Python peers run on {} records only (they are about a hundred times slower); ratios compare records/s at that size.\n",
        redact(&args.url),
        args.repeats,
        args.peer_records
    );
    for (suite, title) in [
        ("load", "Loading (target)"),
        ("extract", "Extracting a table (tap)"),
    ] {
        let rows: Vec<&Row> = rows.iter().filter(|r| r.suite == suite).collect();
        if rows.is_empty() {
            continue;
        }
        let peer = rows.iter().find(|r| r.system.starts_with("MeltanoLabs"));
        let _ = writeln!(
            out,
            "## {title}\n\n| system | records | wall | records/s | peak RSS | vs MeltanoLabs |\n|---|---:|---:|---:|---:|---:|"
        );
        for row in &rows {
            let ratio = match peer {
                Some(peer) => format!("{:.1}×", row.per_second() / peer.per_second()),
                None => "–".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} s | {:.0} | {:.1} MiB | {ratio} |",
                row.system,
                row.records,
                row.sample.wall.as_secs_f64(),
                row.per_second(),
                row.sample.peak_rss_kib as f64 / 1024.0
            );
        }
        out.push('\n');
    }
    out
}

/// The URL without a password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
