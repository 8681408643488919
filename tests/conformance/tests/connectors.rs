//! The suites on this repository's own connectors: the tap suite on `tap-csv`, the target suite
//! on `target-jsonl`, `target-csv` and `target-sqlite`, the mapper suite on `map-transform`. One
//! test case per connector and check (`[target-csv] target.state.after-commit`). Binaries come
//! from the build directory beside this test's, refreshed with `cargo build -p <name>`.
//!
//! A check that fails because of a known bug outside this crate is listed in [`KNOWN_BUGS`]
//! with where the bug is: it is left out of the connector's suite, and a `known bug` test case
//! asserts that it still fails, so fixing the bug makes that case fail until the entry goes.

use std::path::Path;
use std::sync::Arc;

mod common;

use common::{binary, root};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Value, json};
use singer_conformance::{Mapper, Outcome, Selection, Tap, Target, Verify, libtest};

/// `(connector, check id, the bug)`: checks that fail today because of a bug in the connector
/// (or the SDK under it), not in the harness.
const KNOWN_BUGS: &[(&str, &str, &str)] = &[];

/// Ids from a JSONL file of records with an integer `id`.
fn jsonl_ids(path: &Path) -> Result<Vec<i64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["id"].as_i64())
        .collect())
}

/// Ids from a CSV file whose header has an `id` column (values hold no commas in this check).
fn csv_ids(path: &Path) -> Result<Vec<i64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim_matches('"'))
        .collect();
    let column = header
        .iter()
        .position(|h| *h == "id")
        .ok_or("no `id` column")?;
    Ok(lines
        .filter_map(|l| l.split(',').nth(column)?.trim_matches('"').parse().ok())
        .collect())
}

fn tap_csv(path: &Path) -> Tap {
    let data = root().join("taps/tap-csv/sample/data");
    Tap::new(path).config(json!({
        "files": [
            {"entity": "customers", "path": data.join("customers.csv"), "keys": ["id"], "replication_key": "updated_at"},
            {"entity": "orders", "path": data.join("orders.csv"), "keys": ["order_id"]}
        ],
        "infer_types": true
    }))
}

/// Our targets, their configs and how to read back what they loaded.
fn targets() -> Vec<(&'static str, Value, Option<Verify>)> {
    let verify = |f: fn(&Path) -> Result<Vec<i64>, String>, file: &'static str| {
        Some(Verify::Function(Arc::new(move |dir: &Path| {
            f(&dir.join(file))
        })))
    };
    let sqlite = Path::new("/usr/bin/sqlite3").exists().then(|| {
        Verify::Command(
            "sqlite3 \"$SINGER_CONFORMANCE_DIR/db.sqlite\" 'select id from conformance_kill'"
                .to_owned(),
        )
    });
    vec![
        (
            "target-jsonl",
            json!({"destination_path": "{tmpdir}", "batch_wait_limit_seconds": 1}),
            verify(jsonl_ids, "conformance_kill.jsonl"),
        ),
        (
            "target-csv",
            json!({"output_path": "{tmpdir}", "batch_wait_limit_seconds": 1}),
            verify(csv_ids, "conformance_kill.csv"),
        ),
        (
            "target-sqlite",
            json!({"path_to_db": "{tmpdir}/db.sqlite", "batch_wait_limit_seconds": 1}),
            sqlite,
        ),
    ]
}

fn named(trials: Vec<Trial>, connector: &str) -> impl Iterator<Item = Trial> {
    trials.into_iter().map(move |t| t.with_kind(connector))
}

fn unavailable(connector: &str, why: String) -> Trial {
    Trial::test(format!("{connector} builds"), move || {
        Err(Failed::from(why))
    })
}

/// The mapper suite on map-transform: a base config mapping nothing, stream maps understood.
fn map_transform(path: &Path) -> Vec<Trial> {
    let mapper = Mapper::new(path).config(json!({})).stream_maps(true);
    let bugs: Vec<(&str, &str)> = KNOWN_BUGS
        .iter()
        .filter(|(connector, _, _)| *connector == "map-transform")
        .map(|(_, id, why)| (*id, *why))
        .collect();
    let selection = bugs
        .iter()
        .fold(Selection::all(), |selection, (id, _)| selection.skip(*id));
    let mut trials: Vec<Trial> = named(
        libtest::trials(&mapper, &selection).expect("context"),
        "map-transform",
    )
    .collect();
    for (id, why) in bugs {
        let mapper = mapper.clone();
        trials.push(
            Trial::test(format!("known bug: {id}"), move || {
                let report = mapper.run(&Selection::all().suite(id))?;
                match report.get(id).map(|r| &r.outcome) {
                    Some(Outcome::Fail(_)) => Ok(()),
                    other => Err(format!(
                        "{id} no longer fails on map-transform ({other:?}); if the bug ({why}) is fixed, remove it from KNOWN_BUGS and the README"
                    )
                    .into()),
                }
            })
            .with_kind("map-transform"),
        );
    }
    trials
}

fn main() -> std::process::ExitCode {
    let arguments = Arguments::from_args();
    let mut trials = Vec::new();
    match binary("tap-csv") {
        Ok(path) => trials.extend(named(
            libtest::trials(&tap_csv(&path), &Selection::all()).expect("context"),
            "tap-csv",
        )),
        Err(why) => trials.push(unavailable("tap-csv", why)),
    }
    for (name, config, verify) in targets() {
        match binary(name) {
            Ok(path) => {
                let mut target = Target::new(path.as_path()).config(config);
                if let Some(verify) = verify {
                    target = target.verify(verify);
                }
                trials.extend(named(
                    libtest::trials(&target, &Selection::all()).expect("context"),
                    name,
                ));
            }
            Err(why) => trials.push(unavailable(name, why)),
        }
    }
    match binary("map-transform") {
        Ok(path) => trials.extend(map_transform(&path)),
        Err(why) => trials.push(unavailable("map-transform", why)),
    }
    libtest_mimic::run(&arguments, trials).exit_code()
}
