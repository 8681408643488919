{% if cookiecutter.serialization_method == "SQL" -%}
//! The Singer conformance suites on `{{ cookiecutter.target_id }}`, one test case per check:
//! `cargo test --test conformance` (add `-- target.scenario` to run one suite).
//!
//! The target loads into the PostgreSQL server [`URL_VARIABLE`] names (default
//! [`DEFAULT_URL`]): each check into a schema of its own, all of them dropped at the end.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::json;
use singer_conformance::{Selection, Target, Verify, libtest, tmpid};
use singer_sdk::sql::postgres::{Client, ConnectOptions};

/// The variable naming the server the tests use.
const URL_VARIABLE: &str = "{{ cookiecutter.target_id | upper | replace('-', '_') }}_TEST_URL";
/// The server the tests use unless [`URL_VARIABLE`] names another: the README says how to
/// get one.
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn main() -> ExitCode {
    let url = std::env::var(URL_VARIABLE).unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let client = match connect(&url) {
        Ok(client) => client,
        Err(e) => {
            eprintln!(
                "no PostgreSQL server for the tests: {e}\nStart one (see the README), or set {URL_VARIABLE}=postgres://user:password@host:port/database"
            );
            return ExitCode::FAILURE;
        }
    };
    // The schemas of this run start with its own prefix: it drops them, and only them.
    let prefix = format!("t{}_", std::process::id());
    // `{tmpid}` becomes an id of the fresh directory every check gets.
    let bin = env!("CARGO_BIN_EXE_{{ cookiecutter.target_id }}");
    let verify = {
        let (url, prefix) = (url.clone(), prefix.clone());
        move |dir: &Path| loaded_ids(&url, &format!("{prefix}{}", tmpid(dir)))
    };
    let target = Target::new(bin)
        .config(json!({
            "sqlalchemy_url": url,
            "default_target_schema": prefix.clone() + "{tmpid}",
            "batch_wait_limit_seconds": 1
        }))
        .verify(Verify::Function(Arc::new(verify)));
    let code = libtest::run(&target, &Selection::all());
    drop_schemas(&client, &prefix);
    code
}

/// A connection to the server at `url`, or why not (never the password).
fn connect(url: &str) -> Result<Client, String> {
    let options = ConnectOptions::from_url(url).map_err(|e| singer_sdk::error::report(&e))?;
    Client::connect(&options).map_err(|e| singer_sdk::error::report(&e))
}

/// The ids the target loaded into table `conformance_kill` of `schema`.
fn loaded_ids(url: &str, schema: &str) -> Result<Vec<i64>, String> {
    let client = connect(url)?;
    let table = format!("{schema}.conformance_kill");
    let found = client
        .query_text("SELECT to_regclass($1)::text", &[table.as_str()])
        .map_err(|e| singer_sdk::error::report(&e))?;
    if found.into_iter().flatten().flatten().next().is_none() {
        // Not created (yet): nothing loaded.
        return Ok(Vec::new());
    }
    let rows = client
        .query_text(&format!("SELECT id::text FROM {table}"), &[])
        .map_err(|e| singer_sdk::error::report(&e))?;
    rows.into_iter()
        .map(|row| {
            let id = row.into_iter().next().flatten().unwrap_or_default();
            id.parse()
                .map_err(|e| format!("{table}: an id that is not an integer, {id:?}: {e}"))
        })
        .collect()
}

/// Drops every schema whose name starts with `prefix`.
fn drop_schemas(client: &Client, prefix: &str) {
    let schemas = client
        .query_text(
            "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, $1)",
            &[prefix],
        )
        .unwrap_or_default();
    for name in schemas.into_iter().flatten().flatten() {
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"));
    }
}
{%- else -%}
//! The Singer conformance suites on `{{ cookiecutter.target_id }}`, one test case per check:
//! `cargo test --test conformance` (add `-- target.scenario` to run one suite).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::{Value, json};
use singer_conformance::{Selection, Target, Verify, libtest};

fn main() -> ExitCode {
    // `{tmpdir}` becomes a fresh directory for every check.
    let bin = env!("CARGO_BIN_EXE_{{ cookiecutter.target_id }}");
    let target = Target::new(bin)
        .config(json!({"destination_path": "{tmpdir}/out", "batch_wait_limit_seconds": 1}))
        .verify(Verify::Function(Arc::new(loaded_ids)));
    libtest::run(&target, &Selection::all())
}

/// The ids the target wrote to the file of the `conformance_kill` stream.
fn loaded_ids(dir: &Path) -> Result<Vec<i64>, String> {
    let path = dir.join("out/conformance_kill.jsonl");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    text.lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line)
                .map_err(|e| format!("{}: {e}: {line}", path.display()))?;
            record["id"].as_i64().ok_or_else(|| {
                format!("{}: a record without an integer id: {line}", path.display())
            })
        })
        .collect()
}
{%- endif %}
