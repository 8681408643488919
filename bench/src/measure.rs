//! Measuring processes: wall time and peak RSS (`VmHWM` from `/proc`), for one process or for
//! a pipeline and every process it starts.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// One measured run of one process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Wall time from start to exit.
    pub wall: Duration,
    /// The process's high-water RSS in KiB.
    pub peak_rss_kib: u64,
}

/// Runs `command` to completion, sampling its peak RSS every 2 ms. With `stdout`, the
/// process's stdout is piped to it on a thread and its result returned; without, stdout is
/// discarded.
///
/// # Errors
///
/// When the process cannot start or exits unsuccessfully; the error holds the end of its
/// stderr.
pub fn run_sampled<T: Send + 'static>(
    command: &mut Command,
    stdout: Option<fn(ChildStdout) -> T>,
) -> Result<(Sample, Option<T>)> {
    let start = Instant::now();
    let mut child = command
        .stdout(if stdout.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start the process")?;
    let status_path = format!("/proc/{}/status", child.id());
    let stderr = child.stderr.take();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    let reader = child
        .stdout
        .take()
        .zip(stdout)
        .map(|(pipe, read)| std::thread::spawn(move || read(pipe)));
    let mut peak = 0;
    let status = loop {
        peak = peak.max(read_hwm(&status_path).unwrap_or(0));
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = start.elapsed();
    let log = log.join().unwrap_or_default();
    let read = reader.and_then(|r| r.join().ok());
    if !status.success() {
        bail!(
            "exited with {status}:\n{}",
            log.lines().rev().take(8).collect::<Vec<_>>().join("\n")
        );
    }
    Ok((
        Sample {
            wall,
            peak_rss_kib: peak,
        },
        read,
    ))
}

/// The high-water RSS in KiB that a `/proc/<pid>/status` file reports.
fn read_hwm(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One measured run of a pipeline: wall time and the peak RSS of each process, by name.
#[derive(Debug, Clone)]
pub struct TreeSample {
    /// Wall time from `start` to the exit of the last process.
    pub wall: Duration,
    /// Peak RSS in KiB per process name (the largest where several share one).
    pub peaks: BTreeMap<String, u64>,
}

/// Waits for `children` (each with its name), sampling the peak RSS of them and of every
/// process they start. Processes still running the measuring program's own image (not yet
/// `exec`ed) are skipped.
///
/// # Errors
///
/// When a child exits unsuccessfully; the error holds the end of its stderr.
pub fn watch_tree(start: Instant, mut children: Vec<(&str, Child)>) -> Result<TreeSample> {
    let own = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
    let own = own.trim();
    let logs: Vec<_> = children
        .iter_mut()
        .map(|(_, child)| {
            let stderr = child.stderr.take();
            std::thread::spawn(move || {
                let mut lines = Vec::new();
                if let Some(stderr) = stderr {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        lines.push(line);
                        if lines.len() > 40 {
                            lines.remove(0);
                        }
                    }
                }
                lines.join("\n")
            })
        })
        .collect();
    let mut sampled: BTreeMap<u32, (String, u64)> = BTreeMap::new();
    let mut statuses = vec![None; children.len()];
    while statuses.iter().any(Option::is_none) {
        for ((_, child), status) in children.iter_mut().zip(&mut statuses) {
            if status.is_none() {
                sample_process(child.id(), own, &mut sampled);
                sample_descendants(child.id(), own, &mut sampled);
                *status = child.try_wait()?;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = start.elapsed();
    let mut peaks = BTreeMap::new();
    for (((name, child), status), log) in children.iter().zip(statuses).zip(logs) {
        let log = log.join().unwrap_or_default();
        if let Some(status) = status
            && !status.success()
        {
            bail!("{name} exited with {status}:\n{log}");
        }
        // A direct child under the name it was started as (the kernel's is cut at 15 bytes).
        if let Some((_, kib)) = sampled.remove(&child.id()) {
            peaks.insert((*name).to_owned(), kib);
        }
    }
    for (name, kib) in sampled.into_values() {
        let peak = peaks.entry(name).or_insert(0);
        *peak = (*peak).max(kib);
    }
    Ok(TreeSample { wall, peaks })
}

/// Samples the high-water RSS of the descendants of `pid` (found through
/// `/proc/<pid>/task/<tid>/children`), by their current name.
fn sample_descendants(pid: u32, own: &str, peaks: &mut BTreeMap<u32, (String, u64)>) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for task in tasks.filter_map(Result::ok) {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            sample_process(child, own, peaks);
            sample_descendants(child, own, peaks);
        }
    }
}

/// Records the high-water RSS of process `pid` under its current name, unless that name is
/// `own`.
fn sample_process(pid: u32, own: &str, peaks: &mut BTreeMap<u32, (String, u64)>) {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return;
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    let name = field("Name:").unwrap_or("?").to_owned();
    if name == own {
        return;
    }
    if let Some(kib) = field("VmHWM:")
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
    {
        let entry = peaks.entry(pid).or_insert((String::new(), 0));
        entry.0 = name;
        entry.1 = entry.1.max(kib);
    }
}
