//! A target's conformance test: the harness's target suites, then one case per file of
//! `tests/expected/`, each saying what the target must do with a scenario and write for it.
//!
//! An expected file `<scenario>[.<variant>].json` holds:
//!
//! | key | meaning |
//! |---|---|
//! | `input` | the input, if not `<scenario>`: a harness scenario name or a file of the shared conformance data |
//! | `after` | inputs loaded first into the same destination, each of which must load cleanly |
//! | `config` | settings added to the destination's config |
//! | `error` | the load must fail (exit 1, no state) with these fragments in its report |
//! | `states` | exactly these states must be acknowledged (by default: input states in order, ending with the last) |
//! | `content` | the destination afterwards, exactly, as the target's [`dump`](crate::Target::dump) reads it |
//!
//! With `UPDATE_EXPECTED=1` in the environment, each case writes the `content` it found into
//! its file instead of comparing (review the diff before committing it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Map, Value, json};
use singer_conformance::{Selection, Verify, libtest};

use crate::{Target, assert_fails, assert_loaded, states};

/// A destination read back: per file or table, its rows.
pub type Content = BTreeMap<String, Vec<Value>>;

/// Runs the conformance test of `target` as a libtest binary: the harness's target suites on
/// it, and one case per file of `<crate>/tests/expected/` (plus one checking every scenario
/// has a file), `crate_dir` being the target crate's `CARGO_MANIFEST_DIR`.
#[must_use]
pub fn run(target: Target, crate_dir: &str) -> ExitCode {
    let arguments = Arguments::from_args();
    let expected = Path::new(crate_dir).join("tests/expected");
    let mut trials = match harness(target) {
        Ok(trials) => trials,
        Err(e) => vec![Trial::test("conformance harness", move || Err(e.into()))],
    };
    let files = expected_files(&expected);
    let names: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
    trials.push(Trial::test("expected.every-scenario", move || {
        every_scenario(&names)
    }));
    for (name, path) in files {
        trials.push(Trial::test(format!("expected.{name}"), move || {
            case(target, &path)
        }));
    }
    libtest_mimic::run(&arguments, trials).exit_code()
}

/// The harness's target suites, the kill check reading the destination with `target.ids`.
fn harness(target: Target) -> Result<Vec<Trial>, String> {
    let destination = format!("{{tmpdir}}/{}", target.destination);
    let mut config = target.destination_config(Path::new(&destination));
    config["batch_wait_limit_seconds"] = json!(1);
    let ids = target.ids;
    let verify = Verify::Function(Arc::new(move |dir: &Path| {
        ids(&dir.join(target.destination))
    }));
    let suite = singer_conformance::Target::new(target.bin)
        .config(config)
        .verify(verify);
    libtest::trials(&suite, &Selection::all()).map_err(|e| e.to_string())
}

/// `(name, path)` of every `*.json` of `dir`, sorted.
fn expected_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (stem(&p), p))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Every harness scenario has an expected file (a new scenario is noticed).
fn every_scenario(names: &[String]) -> Result<(), Failed> {
    let missing: Vec<&str> = singer_conformance::target::scenarios()
        .map(|(name, _)| name)
        .filter(|name| !names.iter().any(|n| n == name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("no tests/expected/<name>.json for: {}", missing.join(", ")).into())
    }
}

/// The bytes of an input: a harness scenario, else a file of the shared conformance data.
fn input(name: &str) -> Result<Vec<u8>, String> {
    match singer_conformance::target::scenarios().find(|(n, _)| *n == name) {
        Some((_, text)) => Ok(text.as_bytes().to_vec()),
        None => {
            let path = crate::conformance(name);
            std::fs::read(&path).map_err(|e| format!("input {}: {e}", path.display()))
        }
    }
}

/// One expected file: load its inputs, check the run, compare the destination.
fn case(target: Target, path: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut spec: Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let stem = stem(path);
    let scenario = stem.split('.').next().unwrap_or_default();
    let strings = |key: &str| -> Vec<String> {
        let list = spec.get(key).and_then(Value::as_array);
        let items = list.into_iter().flatten().filter_map(Value::as_str);
        items.map(str::to_owned).collect()
    };
    let (after, error) = (strings("after"), strings("error"));
    let main = spec
        .get("input")
        .and_then(Value::as_str)
        .unwrap_or(scenario);
    let dest = target.dest();
    let config = dest.config(spec.get("config").unwrap_or(&json!({})));
    for earlier in after.iter().map(String::as_str).chain([main]) {
        let bytes = input(earlier)?;
        let file = dest.write("input.singer", &bytes);
        let output = target.run_file(&config, &file);
        if earlier != main {
            assert_loaded(&output, &bytes);
        } else if error.is_empty() {
            assert_loaded(&output, &bytes);
            if let Some(want) = spec.get("states") {
                assert_eq!(&Value::from(states(&output)), want, "states acknowledged");
            }
        } else {
            let fragments: Vec<&str> = error.iter().map(String::as_str).collect();
            assert_fails(&output, 1, &fragments);
            assert_eq!(
                states(&output),
                [] as [Value; 0],
                "no state after a failure"
            );
        }
    }
    let found = (target.dump)(&dest.out())?;
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        spec.insert("content".to_owned(), json!(found));
        let text = serde_json::to_string_pretty(&spec).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let want: Content = match spec.get("content") {
        Some(content) => serde_json::from_value(content.clone())
            .map_err(|e| format!("{}: `content`: {e}", path.display()))?,
        None => return Err(format!("{}: no `content`", path.display()).into()),
    };
    compare(&want, &found).map_err(Failed::from)
}

/// Every file of the directory `out` (none if it does not exist), as the strings between its
/// `terminator`s; each file must be UTF-8 and end with one (or be empty).
///
/// # Errors
/// When a file cannot be read or does not.
pub fn text_files(out: &Path, terminator: &str) -> Result<Content, String> {
    let mut content = Content::new();
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(content);
    };
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !text.is_empty() && !text.ends_with(terminator) {
            return Err(format!(
                "{} does not end with {terminator:?}",
                path.display()
            ));
        }
        let rows = text.split_terminator(terminator).map(Value::from).collect();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        content.insert(name.into_owned(), rows);
    }
    Ok(content)
}

/// The first difference between the expected and the found destination.
fn compare(want: &Content, found: &Content) -> Result<(), String> {
    let names = |c: &Content| c.keys().cloned().collect::<Vec<_>>();
    if names(want) != names(found) {
        return Err(format!(
            "destination holds {:?}, expected {:?}",
            names(found),
            names(want)
        ));
    }
    for (name, rows) in want {
        let got = &found[name];
        if let Some(i) = (0..rows.len().max(got.len())).find(|&i| rows.get(i) != got.get(i)) {
            return Err(format!(
                "{name} row {}: found {}, expected {} ({} rows found, {} expected)",
                i + 1,
                got.get(i).map_or("nothing".to_owned(), Value::to_string),
                rows.get(i).map_or("nothing".to_owned(), Value::to_string),
                got.len(),
                rows.len()
            ));
        }
    }
    Ok(())
}
