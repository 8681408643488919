//! `rest-bench`: the REST benchmarks, against GitHub-shaped servers on loopback.
//!
//! 1. Concurrency: `tap-github` syncing four repositories' issues from a server that adds a
//!    delay to every request, `max_concurrency` 1 against 4.
//! 2. Prefetch: a 40-page offset stream with a known total at the same delay, fetched one
//!    page after another against four pages at once (in process, on the public SDK API).
//! 3. Throughput: the same GitHub-shaped issues sync, no delay, `tap-github` against the
//!    same stream written on the Python singer-sdk's `RESTStream` (`peers/tap_github_py.py`).
//!
//! Every pair runs alternately, `--repeats` times; medians are reported, with ratios.

#![allow(clippy::print_stdout, reason = "the report goes to stdout")]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Map, Value, json};
use singer_sdk::message::MessageWriter;
use singer_sdk::rest::{Offset, Request, RestClient, RestStream, Selector, Source};
use singer_sdk::tap::{Streams, SyncOptions, sync};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

#[derive(Debug, Parser)]
struct Args {
    /// Directory of the release binaries (`tap-github`).
    #[arg(long)]
    bin_dir: PathBuf,
    /// The Python peer's venv bin directory: `singer-sdk=PATH` (skipped when not given).
    #[arg(long)]
    peer: Option<String>,
    /// Delay the slow server adds to every request.
    #[arg(long, default_value_t = 150)]
    delay_ms: u64,
    /// Runs of each system (alternating); the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Issue pages per repository in the throughput run (100 issues a page).
    #[arg(long, default_value_t = 25)]
    pages: usize,
    /// Where to write the report (Markdown); it also goes to stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Scratch directory.
    #[arg(long, default_value = "target/rest-bench")]
    work_dir: PathBuf,
}

const REPOS: [&str; 4] = ["acme/r1", "acme/r2", "acme/r3", "acme/r4"];

fn main() -> Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.work_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let delay = Duration::from_millis(args.delay_ms);
    let slow = runtime.block_on(server(delay, 5, 20));
    let fast = runtime.block_on(server(Duration::ZERO, args.pages, 100));
    let tap = args.bin_dir.join("tap-github");
    let catalog = issues_catalog(&tap, &args.work_dir)?;
    let mut report = String::from("# REST benchmarks\n\n");

    // 1. Concurrency across partitions.
    let sequential = |c: usize| github_run(&tap, &args.work_dir, &catalog, &slow.uri(), c);
    let times = alternate(args.repeats, [&|| sequential(1), &|| sequential(4)])?;
    let (one, four) = (median(&times[0]), median(&times[1]));
    writeln!(
        report,
        "## Concurrency: 4 repositories x 5 pages, {} ms per request\n\n| max_concurrency | median s | speed-up |\n|---|---|---|\n| 1 | {:.2} | 1.00x |\n| 4 | {:.2} | {:.2}x |\n",
        args.delay_ms,
        one.0,
        four.0,
        one.0 / four.0
    )?;

    // 2. Page prefetch.
    let offset = |prefetch: usize| runtime.block_on(offset_run(&slow.uri(), prefetch));
    let times = alternate(args.repeats, [&|| offset(1), &|| offset(4)])?;
    let (one, four) = (median(&times[0]), median(&times[1]));
    writeln!(
        report,
        "## Prefetch: 40 offset pages with a known total, {} ms per request\n\n| prefetch | median s | speed-up |\n|---|---|---|\n| 1 | {:.2} | 1.00x |\n| 4 | {:.2} | {:.2}x |\n",
        args.delay_ms,
        one.0,
        four.0,
        one.0 / four.0
    )?;

    // 3. Throughput against the Python singer-sdk.
    let ours = || github_run(&tap, &args.work_dir, &catalog, &fast.uri(), 1);
    let mut rows = vec![(
        "tap-github (this SDK)",
        median(&alternate(args.repeats, [&ours])?[0]),
    )];
    if let Some(peer) = &args.peer {
        let bin = PathBuf::from(peer.strip_prefix("singer-sdk=").unwrap_or(peer));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/tap_github_py.py");
        let python = || python_run(&bin, &script, &args.work_dir, &fast.uri());
        let times = alternate(args.repeats, [&ours, &python])?;
        rows = vec![
            ("tap-github (this SDK)", median(&times[0])),
            ("singer-sdk RESTStream (Python)", median(&times[1])),
        ];
    }
    let records = REPOS.len() * args.pages * 100;
    writeln!(
        report,
        "## Throughput: {records} GitHub-shaped issues, 4 repositories, 100 a page, no delay\n\n| system | median s | records/s | ratio |\n|---|---|---|---|"
    )?;
    let slowest = rows.iter().map(|(_, t)| t.0).fold(0.0, f64::max);
    for (name, (seconds, count)) in &rows {
        if *count != records {
            bail!("{name} emitted {count} records, expected {records}");
        }
        writeln!(
            report,
            "| {name} | {seconds:.2} | {:.0} | {:.1}x |",
            *count as f64 / seconds,
            slowest / seconds
        )?;
    }
    print!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

/// A run's wall time in seconds and the RECORD lines it wrote.
type Sample = (f64, usize);

/// Runs each system `repeats` times, alternating; the samples per system.
fn alternate<const N: usize>(
    repeats: usize,
    systems: [&dyn Fn() -> Result<Sample>; N],
) -> Result<Vec<Vec<Sample>>> {
    let mut samples = vec![Vec::new(); N];
    for _ in 0..repeats.max(1) {
        for (i, system) in systems.iter().enumerate() {
            samples[i].push(system()?);
        }
    }
    Ok(samples)
}

fn median(samples: &[Sample]) -> Sample {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    sorted[sorted.len() / 2]
}

/// Times a command, counting the RECORD lines on its stdout.
fn timed(command: &mut Command) -> Result<Sample> {
    let started = Instant::now();
    let output = command.stderr(Stdio::piped()).output()?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let records = output
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| l.starts_with(br#"{"type":"RECORD""#))
        .count();
    Ok((seconds, records))
}

fn write_config(dir: &Path, name: &str, config: &Value) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, config.to_string())?;
    Ok(path)
}

fn github_config(api_url: &str, concurrency: usize) -> Value {
    json!({"repositories": REPOS, "auth_token": "bench-token", "api_url": api_url, "max_concurrency": concurrency})
}

/// tap-github's catalog with only `issues` selected.
fn issues_catalog(tap: &Path, dir: &Path) -> Result<PathBuf> {
    let config = write_config(
        dir,
        "discover.json",
        &github_config("http://127.0.0.1:9", 1),
    )?;
    let output = Command::new(tap)
        .arg("--config")
        .arg(&config)
        .arg("--discover")
        .output()
        .with_context(|| format!("running {} (build it with --release)", tap.display()))?;
    let mut catalog: Value = serde_json::from_slice(&output.stdout)?;
    for stream in catalog["streams"].as_array_mut().into_iter().flatten() {
        let selected = stream["tap_stream_id"] == "issues";
        for entry in stream["metadata"].as_array_mut().into_iter().flatten() {
            if entry["breadcrumb"].as_array().is_some_and(Vec::is_empty) {
                entry["metadata"]["selected"] = json!(selected);
            }
        }
    }
    write_config(dir, "catalog.json", &catalog)
}

fn github_run(
    tap: &Path,
    dir: &Path,
    catalog: &Path,
    api_url: &str,
    concurrency: usize,
) -> Result<Sample> {
    let config = write_config(dir, "github.json", &github_config(api_url, concurrency))?;
    timed(
        Command::new(tap)
            .arg("--config")
            .arg(config)
            .arg("--catalog")
            .arg(catalog),
    )
}

fn python_run(bin: &Path, script: &Path, dir: &Path, api_url: &str) -> Result<Sample> {
    let config = write_config(dir, "github-py.json", &github_config(api_url, 1))?;
    timed(
        Command::new(bin.join("python"))
            .arg(script)
            .arg("--config")
            .arg(config),
    )
}

/// The offset stream through the SDK's tap runtime, in process.
async fn offset_run(api_url: &str, prefetch: usize) -> Result<Sample> {
    let client = RestClient::builder(api_url).build()?;
    let items = RestStream::<Map<String, Value>>::new("items", &client, Request::get("/items"))
        .schema(json!({"type": "object", "properties": {"id": {"type": "integer"}}}))
        .selector(Selector::new("$.items[*]")?)
        .paginator(Offset::new("offset", "limit", 25).total(Source::body("$.total")?))
        .prefetch(prefetch);
    let started = Instant::now();
    let (_, out) = sync(
        &Streams::new().with(items),
        SyncOptions::default(),
        MessageWriter::new(Vec::new()),
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let out = out.into_inner()?;
    let records = out
        .split(|b| *b == b'\n')
        .filter(|l| l.starts_with(br#"{"type":"RECORD""#))
        .count();
    Ok((seconds, records))
}

/// A server with `pages` pages of `per_page` issues for each of [`REPOS`], `Link` headers,
/// and `/items`: 1 000 records by offset with their total; every response after `delay`.
async fn server(delay: Duration, pages: usize, per_page: usize) -> MockServer {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(any())
        .respond_with(move |request: &wiremock::Request| {
            let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
            let number = |name: &str, default: usize| {
                query
                    .get(name)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default)
            };
            let path = request.url.path();
            let response = if path == "/items" {
                let (offset, limit) = (number("offset", 0), number("limit", 25));
                let items: Vec<Value> = (offset..(offset + limit).min(1000))
                    .map(|id| json!({"id": id}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(json!({"total": 1000, "items": items}))
            } else if let Some(repo) = path
                .strip_prefix("/repos/acme/")
                .and_then(|p| p.strip_suffix("/issues"))
            {
                let page = number("page", 1);
                let issues: Vec<Value> = (0..per_page).map(|i| issue(repo, page, i)).collect();
                let mut response = ResponseTemplate::new(200)
                    .insert_header("X-RateLimit-Remaining", "4999")
                    .set_body_json(issues);
                if page < pages {
                    response = response.insert_header(
                        "Link",
                        format!(
                            r#"<{base}{path}?per_page={per_page}&page={}>; rel="next""#,
                            page + 1
                        ),
                    );
                }
                response
            } else {
                ResponseTemplate::new(404)
            };
            response.set_delay(delay)
        })
        .mount(&server)
        .await;
    server
}

fn issue(repo: &str, page: usize, i: usize) -> Value {
    let n = page * 1000 + i;
    // Ascending within a repository, as `sort=updated&direction=asc` returns them.
    let at = (page - 1) * 100 + i;
    json!({
        "id": n, "number": n, "title": format!("Issue {n} of {repo}"), "state": "open",
        "user": {"id": 7, "login": "wile", "type": "User"}, "body": "It exploded again, see logs.",
        "labels": [{"id": 1, "name": "bug"}], "comments": 0, "pull_request": null,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": format!("2024-01-01T{:02}:{:02}:{:02}Z", at / 3600, at / 60 % 60, at % 60),
        "closed_at": null
    })
}
