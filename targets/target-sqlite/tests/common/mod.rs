//! Helpers shared by the integration tests: a scratch directory with a config and a
//! database, running the target binary, and reading tables back with rusqlite.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rusqlite::types::Value as Sql;
use serde_json::{Value, json};

/// The target binary.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_target-sqlite");

/// singer-sdk's target test streams.
pub(crate) fn conformance(name: &str) -> PathBuf {
    conformance_dir().join(name)
}

/// The directory of singer-sdk's target test streams.
pub(crate) fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/singer-sdk-streams")
}

/// A scratch directory holding a config and the database `warehouse.db`.
pub(crate) struct Env {
    pub(crate) dir: tempfile::TempDir,
}

impl Env {
    pub(crate) fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.path("warehouse.db")
    }

    /// Writes a config pointing `database` at [`Env::db`], plus `extra` settings.
    pub(crate) fn config(&self, extra: &Value) -> PathBuf {
        let mut config = json!({"database": self.db()});
        if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            config.extend(extra.clone());
        }
        self.write_config(&config)
    }

    /// Writes `config` as is.
    pub(crate) fn write_config(&self, config: &Value) -> PathBuf {
        let path = self.path("config.json");
        std::fs::write(&path, config.to_string()).unwrap();
        path
    }

    /// Runs the target on `file` (`--input`).
    pub(crate) fn run_file(&self, config: &Path, file: &Path) -> Output {
        let output = Command::new(BIN)
            .arg("--config")
            .arg(config)
            .arg("--input")
            .arg(file)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        check_no_panic(&output);
        output
    }

    /// Runs the target with `input` on stdin.
    pub(crate) fn run(&self, config: &Path, input: &[u8]) -> Output {
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(config)
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let feeder = std::thread::spawn(move || {
            // The target may stop reading early on bad input.
            let _ = stdin.write_all(&input);
        });
        let output = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        check_no_panic(&output);
        output
    }

    /// Runs `sql` on the database and returns the rows as JSON values.
    pub(crate) fn query(&self, sql: &str) -> Vec<Vec<Value>> {
        query(&self.db(), sql)
    }

    /// The tables of the database, sorted.
    pub(crate) fn tables(&self) -> Vec<String> {
        if !self.db().exists() {
            return Vec::new();
        }
        self.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .into_iter()
            .map(|row| row[0].as_str().unwrap().to_owned())
            .collect()
    }

    /// Column name → declared type, in table order.
    pub(crate) fn columns(&self, table: &str) -> Vec<(String, String)> {
        let connection = rusqlite::Connection::open(self.db()).unwrap();
        let mut statement = connection
            .prepare("SELECT name, type FROM pragma_table_info(?1)")
            .unwrap();
        statement
            .query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

/// Runs `sql` on the database at `path`, rows as JSON values (TEXT stays a string).
pub(crate) fn query(path: &Path, sql: &str) -> Vec<Vec<Value>> {
    let connection = rusqlite::Connection::open(path).unwrap();
    let mut statement = connection
        .prepare(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let width = statement.column_count();
    statement
        .query_map([], |row| {
            (0..width)
                .map(|i| {
                    Ok(match row.get::<_, Sql>(i)? {
                        Sql::Null => Value::Null,
                        Sql::Integer(n) => json!(n),
                        Sql::Real(x) => json!(x),
                        Sql::Text(s) => json!(s),
                        Sql::Blob(b) => json!(b),
                    })
                })
                .collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The state lines on stdout, each parsed (and checked to be one bare JSON value per line).
pub(crate) fn states(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The STATE values of a Singer file, in order.
pub(crate) fn input_states(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["type"] == "STATE")
        .map(|m| m["value"].clone())
        .collect()
}

/// A clean run: exit 0, and the last stdout line equals the last STATE of `input`.
pub(crate) fn assert_loaded(output: &Output, input: &str) {
    assert!(
        output.status.success(),
        "exit {:?}, stderr:\n{}",
        output.status.code(),
        stderr(output)
    );
    let expected = input_states(input);
    let got = states(output);
    assert_eq!(got.last(), expected.last(), "last state on stdout");
    for state in &got {
        assert!(expected.contains(state), "{state} was never sent");
    }
}

/// A failure: exit `code`, every fragment on stderr, an `error:` line, and no panic.
pub(crate) fn assert_fails(output: &Output, code: i32, fragments: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr:\n{err}");
    assert!(err.contains("error: "), "{err}");
    for fragment in fragments {
        assert!(
            err.contains(fragment),
            "expected {fragment:?} on stderr:\n{err}"
        );
    }
}

fn check_no_panic(output: &Output) {
    let err = stderr(output);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "the target panicked:\n{err}"
    );
}

/// Singer lines, joined with newlines.
pub(crate) fn lines(messages: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        out.extend(message.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}
