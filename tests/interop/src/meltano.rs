//! Driving the real `meltano` CLI (from PyPI, `scripts/peer meltano`) on a project in a
//! scratch directory, offline.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::process;

/// The longest one Meltano command may take (they take 2–10 s).
pub const LIMIT: Duration = Duration::from_secs(180);

/// A Meltano project in a scratch directory, and the environment Meltano runs in.
#[derive(Debug, Clone)]
pub struct Meltano {
    exe: PathBuf,
    project: PathBuf,
    scratch: PathBuf,
    path: OsString,
}

impl Meltano {
    /// Meltano for the project in `project` (which holds `meltano.yml`), keeping its logs,
    /// caches and config (`XDG_*`) under `scratch`. The Rust connectors are found on `PATH`,
    /// in front of everything else.
    ///
    /// # Panics
    /// When Meltano cannot be installed or the connectors cannot be built.
    #[must_use]
    pub fn new(project: &Path, scratch: &Path) -> Self {
        let exe = crate::peer("meltano").join("meltano");
        let mut paths = vec![crate::connectors().to_path_buf()];
        if let Some(path) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&path));
        }
        Meltano {
            exe,
            project: project.to_path_buf(),
            scratch: scratch.to_path_buf(),
            path: std::env::join_paths(paths).unwrap_or_default(),
        }
    }

    /// Puts another directory in front of `PATH` (e.g. the mapper's).
    pub fn prepend_path(&mut self, dir: &Path) {
        let mut paths = vec![dir.to_path_buf()];
        paths.extend(std::env::split_paths(&self.path));
        self.path = std::env::join_paths(paths).unwrap_or_default();
    }

    /// The project directory.
    #[must_use]
    pub fn project(&self) -> &Path {
        &self.project
    }

    /// Meltano's `XDG_STATE_HOME` (it writes `meltano/log/elt/<state id>/<run id>/elt.log`
    /// there).
    #[must_use]
    pub fn state_home(&self) -> PathBuf {
        self.scratch.join("xdg/state")
    }

    /// `meltano ARGS` in the project, set up to stay offline: no telemetry, no version
    /// check, no auto-install, XDG directories in the scratch directory, and none of the
    /// caller's `MELTANO_*`, `TAP_*`, `TARGET_*`, `MAP_*` or logging variables.
    #[must_use]
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.exe);
        command.args(args).current_dir(&self.project);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let inherited_config = ["MELTANO_", "TAP_", "TARGET_", "MAP_", "SINGER_SDK_"]
                .iter()
                .any(|prefix| key.starts_with(prefix));
            if inherited_config
                || ["VIRTUAL_ENV", "PYTHONPATH", "RUST_LOG", "LOGLEVEL"].contains(&&*key)
            {
                command.env_remove(&*key);
            }
        }
        command
            .env("PATH", &self.path)
            // Each switch closes a network call (see meltano-smoke.sh).
            .env("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
            .env("MELTANO_DISABLE_TRACKING", "true")
            .env("MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS", "[]")
            .env("MELTANO_CLI_DISABLE_VERSION_CHECK", "true")
            .env("MELTANO_AUTO_INSTALL", "false")
            .env("XDG_STATE_HOME", self.state_home())
            .env("XDG_CACHE_HOME", self.scratch.join("xdg/cache"))
            .env("XDG_CONFIG_HOME", self.scratch.join("xdg/config"));
        command
    }

    /// Runs `meltano ARGS` with extra environment variables; whatever the outcome.
    ///
    /// # Panics
    /// When Meltano cannot start or runs out of time ([`LIMIT`]).
    #[must_use]
    pub fn output(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        process::run(&mut command, LIMIT).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `meltano ARGS` with extra environment variables and asserts it succeeded;
    /// returns its output.
    ///
    /// # Panics
    /// When the command fails (the message has the end of its output).
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let output = self.output(args, env);
        assert!(
            output.status.success(),
            "`meltano {}` failed ({}) in {}.\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            output.status,
            self.project.display(),
            process::tail(&output.stdout),
            process::tail(&output.stderr)
        );
        output
    }

    /// [`Meltano::run_with`] without extra environment variables.
    ///
    /// # Panics
    /// When the command fails.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// The stored state of `state_id` (`meltano state get`), i.e. `{"singer_state": ...}`.
    ///
    /// # Panics
    /// When the command fails or prints no JSON.
    #[must_use]
    pub fn state(&self, state_id: &str) -> Value {
        let output = self.run(&["state", "get", state_id]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("`meltano state get {state_id}` printed no JSON ({e}): {stdout}")
        })
    }
}

/// Lines of Meltano's `--log-format=json` output that are JSON objects.
#[must_use]
pub fn json_log(output: &Output) -> Vec<Value> {
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(Value::is_object)
        .collect()
}
