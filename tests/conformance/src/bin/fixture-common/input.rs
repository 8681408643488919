//! What the fixture target and mapper share: their config file and the Singer lines they read
//! from stdin, with the edge-check breaks (`<suite>.edge.<name>`) that read them wrongly, and
//! the misbehaviours set by environment variables: `FIXTURE_HANG=1` (hang before reading the
//! config) and `FIXTURE_FLOOD=lines` or `bytes` (write to stdout without end instead).

use std::io::{self, BufRead, Write};

use serde_json::Value;

/// The config named by `args` (`--config FILE`); first hangs for an hour under `FIXTURE_HANG`,
/// or floods stdout under `FIXTURE_FLOOD`.
pub(crate) fn config(args: &[String]) -> Result<Value, String> {
    if std::env::var_os("FIXTURE_HANG").is_some() {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
    if let Some(kind) = std::env::var_os("FIXTURE_FLOOD") {
        flood(kind == "bytes");
    }
    let path = args.get(1).ok_or("--config needs a file")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("`{path}` is not JSON: {e}"))
}

/// Reads stdin line by line, giving each message and its 1-based line number to `each` (blank
/// lines skipped); returns whether any non-blank line came. `broken` (the fixture's break)
/// among `<suite>.edge.huge-line`, `invalid-utf8` and `malformed-json` reads wrongly.
pub(crate) fn messages(
    suite: &str,
    broken: &str,
    mut each: impl FnMut(Value) -> Result<(), String>,
) -> Result<bool, String> {
    let is = |name: &str| broken == format!("{suite}.edge.{name}");
    let mut input = io::stdin().lock();
    let mut raw = Vec::new();
    let (mut number, mut any) = (0, false);
    loop {
        raw.clear();
        if input
            .read_until(b'\n', &mut raw)
            .map_err(|e| format!("cannot read stdin: {e}"))?
            == 0
        {
            return Ok(any);
        }
        number += 1;
        if raw.len() > 8 * 1024 * 1024 && is("huge-line") {
            return Err(format!("line {number} is longer than 8 MiB"));
        }
        let line = match std::str::from_utf8(&raw) {
            Ok(line) => line.to_owned(),
            Err(_) if is("invalid-utf8") => String::from_utf8_lossy(&raw).into_owned(),
            Err(e) => return Err(format!("line {number} is not valid UTF-8 ({e})")),
        };
        if line.trim().is_empty() {
            continue;
        }
        any = true;
        let message: Value = match serde_json::from_str(&line) {
            Ok(message) => message,
            Err(e) if is("malformed-json") => panic!("bad line {number}: {e}"),
            Err(e) => return Err(format!("line {number} is not valid JSON ({e})")),
        };
        each(message).map_err(|e| format!("line {number}: {e}"))?;
    }
}

/// Writes to stdout without reading stdin, until the reader goes away: STATE lines, or with
/// `bytes` one line without end, so tests show that the harness stops a flooding connector.
fn flood(bytes: bool) -> ! {
    let line = if bytes {
        "x"
    } else {
        "{\"type\": \"STATE\", \"value\": {\"flood\": true}}\n"
    };
    let chunk = line.repeat((1 << 16) / line.len());
    let mut out = io::stdout().lock();
    while out.write_all(chunk.as_bytes()).is_ok() {}
    std::process::exit(1)
}
