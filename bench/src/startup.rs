//! Start-up: the median wall time of `--version`, `--about` and a run with nothing to do
//! (an empty input for targets and mappers, nothing selected for taps) of each binary.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};

/// What a binary is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Version,
    About,
    /// A minimal valid config and nothing to load or sync.
    Empty,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Version, Mode::About, Mode::Empty];

    fn label(self) -> &'static str {
        match self {
            Mode::Version => "`--version`",
            Mode::About => "`--about`",
            Mode::Empty => "empty run",
        }
    }
}

/// The name of the floor row: `true` (the coreutils binary), which does nothing, timed the
/// same way, so the table shows what starting any process costs on the machine.
const FLOOR: &str = "`true` (the floor: starting a process)";

/// The medians of one binary, by mode; `None` when the binary was not built.
pub(crate) struct Times {
    pub(crate) binary: &'static str,
    pub(crate) medians: Option<[Duration; 3]>,
}

/// A binary and what it gets for an empty run: its config, and whether it reads stdin (then
/// an empty file) or gets an empty catalog (a tap: nothing selected, nothing to connect to).
struct Binary {
    name: &'static str,
    config: Value,
    reads_input: bool,
}

fn binaries(work: &Path) -> Vec<Binary> {
    let out = work.join("startup-out");
    let target = |name, config| Binary {
        name,
        config,
        reads_input: true,
    };
    let tap = |name, config| Binary {
        name,
        config,
        reads_input: false,
    };
    vec![
        target("target-jsonl", json!({"destination_path": out})),
        target("target-csv", json!({"output_path": out})),
        target(
            "target-sqlite",
            json!({"database": work.join("startup.db")}),
        ),
        target(
            "target-postgres",
            json!({"sqlalchemy_url": "postgresql://postgres@127.0.0.1:5432/test"}),
        ),
        target("map-transform", json!({})),
        tap("tap-synthetic", json!({"records": 0})),
        tap("tap-csv", json!({"files": []})),
        tap(
            "tap-postgres",
            json!({"sqlalchemy_url": "postgresql://postgres@127.0.0.1:5432/test"}),
        ),
        tap(
            "tap-rest",
            // One stream with its schema given, so that nothing is sampled from the API.
            json!({"api_url": "http://127.0.0.1:9", "streams": [{
                "name": "users",
                "path": "/users",
                "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
            }]}),
        ),
        tap("tap-github", json!({"repositories": []})),
    ]
}

/// Runs every built binary of `bin_dir` `runs` times in each mode (alternating binaries and
/// modes, so machine noise hits them alike) and returns the medians.
///
/// # Errors
/// A scratch file cannot be written, a binary cannot be started, or one fails.
pub(crate) fn measure(bin_dir: &Path, work: &Path, runs: usize) -> Result<Vec<Times>> {
    let empty = work.join("empty.singer");
    std::fs::write(&empty, "")?;
    let catalog = work.join("startup-catalog.json");
    std::fs::write(&catalog, json!({"streams": []}).to_string())?;
    let binaries = binaries(work);
    let mut samples: Vec<[Vec<Duration>; 3]> =
        binaries.iter().map(|_| Default::default()).collect();
    let mut floor = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let status = Command::new("true").current_dir(work).status()?;
        floor.push(start.elapsed());
        if !status.success() {
            bail!("`true` exited with {status}");
        }
        for (binary, samples) in binaries.iter().zip(&mut samples) {
            let bin = bin_dir.join(binary.name);
            if !bin.exists() {
                continue;
            }
            let config = work.join(format!("startup-{}.json", binary.name));
            std::fs::write(&config, binary.config.to_string())?;
            for (mode, times) in Mode::ALL.into_iter().zip(samples.iter_mut()) {
                let mut command = Command::new(&bin);
                match mode {
                    Mode::Version => {
                        command.arg("--version");
                    }
                    Mode::About => {
                        command.arg("--about");
                    }
                    Mode::Empty => {
                        command.arg("--config").arg(&config);
                        if binary.reads_input {
                            command.stdin(File::open(&empty)?);
                        } else {
                            command.arg("--catalog").arg(&catalog);
                        }
                    }
                }
                command.current_dir(work);
                // A blocking wait: sampling the RSS would add its polling period.
                let start = Instant::now();
                let status = command
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()?;
                let elapsed = start.elapsed();
                if !status.success() {
                    bail!("{} exited with {status} ({})", binary.name, mode.label());
                }
                times.push(elapsed);
            }
        }
    }
    let floor = median(floor);
    Ok(binaries
        .iter()
        .zip(samples)
        .map(|(binary, samples)| Times {
            binary: binary.name,
            medians: (!samples[0].is_empty()).then(|| samples.map(median)),
        })
        .chain([Times {
            binary: FLOOR,
            medians: Some([floor; 3]),
        }])
        .collect())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The start-up table of the report.
pub(crate) fn markdown(times: &[Times], runs: usize) -> String {
    let mut out = format!(
        "\n### start-up (milliseconds, median of {runs} runs)\n\n| binary | {} | {} | {} |\n|---|---:|---:|---:|\n",
        Mode::Version.label(),
        Mode::About.label(),
        Mode::Empty.label()
    );
    for time in times {
        let Some(medians) = time.medians else {
            continue;
        };
        let _ = write!(out, "| {} |", time.binary);
        for median in medians {
            let _ = write!(out, " {:.2} |", median.as_secs_f64() * 1000.0);
        }
        out.push('\n');
    }
    out
}
