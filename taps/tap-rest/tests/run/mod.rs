//! Runs the tap binary on a config (and state) in a scratch directory and reads its output.

#![allow(dead_code)] // each test file uses a part

use std::process::{Command, Output};

use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_tap-rest");

/// One run of the tap.
pub(crate) struct Run {
    pub(crate) messages: Vec<Value>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) code: Option<i32>,
}

impl Run {
    pub(crate) fn records(&self, stream: &str) -> Vec<Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .map(|m| m["record"].clone())
            .collect()
    }

    pub(crate) fn schema(&self, stream: &str) -> Value {
        self.messages
            .iter()
            .find(|m| m["type"] == "SCHEMA" && m["stream"] == stream)
            .map(|m| m["schema"].clone())
            .unwrap_or(Value::Null)
    }

    pub(crate) fn last_state(&self) -> Value {
        self.messages
            .iter()
            .rev()
            .find(|m| m["type"] == "STATE")
            .map(|m| m["value"].clone())
            .unwrap_or(Value::Null)
    }

    /// The ids of a stream's records, in order.
    pub(crate) fn ids(&self, stream: &str) -> Vec<i64> {
        self.records(stream)
            .iter()
            .map(|r| r["id"].as_i64().unwrap_or(-1))
            .collect()
    }

    pub(crate) fn assert_ok(&self) {
        assert_eq!(self.code, Some(0), "tap failed:\n{}", self.stderr);
    }
}

/// Runs `tap-rest --config <config> [--state <state>] args...`.
pub(crate) fn tap(config: &Value, state: Option<&Value>, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let mut command = Command::new(BIN);
    command.arg("--config").arg(&config_path).args(args);
    if let Some(state) = state {
        let state_path = dir.path().join("state.json");
        std::fs::write(&state_path, state.to_string()).unwrap();
        command.arg("--state").arg(state_path);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    let stdout = String::from_utf8(stdout).unwrap();
    let messages = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Run {
        messages,
        stdout,
        stderr: String::from_utf8(stderr).unwrap(),
        code: status.code(),
    }
}
