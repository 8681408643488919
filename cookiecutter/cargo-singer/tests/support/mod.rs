//! What the tests share: running `cargo-singer` and the real `cookiecutter`, and reading
//! generated trees.

#![allow(dead_code, unreachable_pub)] // each test file uses a part of it

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (a singer-sdk checkout).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// Runs `cargo-singer` with `args`, as cargo runs it (`cargo-singer singer ...`).
pub fn cargo_singer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-singer"))
        .arg("singer")
        .args(args)
        .output()
        .expect("cargo-singer runs")
}

/// The bin directory of the cookiecutter venv (`scripts/peer cookiecutter`, cached), set up
/// once per test process so that parallel tests do not build the venv twice at once.
pub fn cookiecutter_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let out = Command::new(repo().join("scripts/peer"))
            .arg("cookiecutter")
            .output()
            .expect("scripts/peer runs (needs python3)");
        assert!(
            out.status.success(),
            "scripts/peer cookiecutter failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
    })
    .clone()
}

/// A cookiecutter run: the template, the output directory and the extra context.
pub struct Render<'a> {
    /// The template directory under `cookiecutter/`.
    pub template: &'a str,
    /// Where the project directory goes.
    pub output_dir: PathBuf,
    /// The answers given (the rest take their defaults).
    pub context: Vec<(&'a str, String)>,
}

/// Renders every case with the real cookiecutter (its Python API, in one process, with
/// `--no-input` semantics); returns each run's exit status and stderr.
pub fn cookiecutter(renders: &[Render<'_>], scratch: &Path) -> Vec<(bool, String)> {
    let bin = cookiecutter_bin();
    let config = scratch.join("cookiecutter-config.yaml");
    std::fs::write(
        &config,
        format!(
            "cookiecutters_dir: {0}/cookiecutters\nreplay_dir: {0}/replay\n",
            scratch.display()
        ),
    )
    .expect("write cookiecutter config");
    let cases: Vec<serde_json::Value> = renders
        .iter()
        .map(|r| {
            let context: serde_json::Map<String, serde_json::Value> = r
                .context
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
                .collect();
            serde_json::json!({
                "template": repo().join("cookiecutter").join(r.template),
                "output_dir": r.output_dir,
                "context": context,
            })
        })
        .collect();
    let cases_file = scratch.join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string(&cases).unwrap()).unwrap();
    let script = r#"
import json, sys, traceback
from cookiecutter.main import cookiecutter
results = []
for case in json.load(open(sys.argv[1])):
    try:
        cookiecutter(case["template"], no_input=True, extra_context=case["context"], output_dir=case["output_dir"])
        results.append([True, ""])
    except BaseException as e:
        results.append([False, "".join(traceback.format_exception_only(type(e), e))])
print(json.dumps(results))
"#;
    let out = Command::new(bin.join("python"))
        .arg("-c")
        .arg(script)
        .arg(&cases_file)
        .env("COOKIECUTTER_CONFIG", &config)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "the cookiecutter driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let results: Vec<(bool, String)> =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("driver output {stdout:?}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    results
        .into_iter()
        .map(|(ok, err)| (ok, format!("{err}{stderr}")))
        .collect()
}

/// Every file under `root`: relative path to contents.
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// Asserts two trees hold the same files with the same bytes, naming the first difference.
pub fn assert_same_tree(case: &str, ours: &Path, theirs: &Path) {
    let (a, b) = (tree(ours), tree(theirs));
    let names = |t: &BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&a),
        names(&b),
        "{case}: cargo-singer and cookiecutter wrote different files"
    );
    for (name, bytes) in &a {
        if bytes != &b[name] {
            let ours = String::from_utf8_lossy(bytes);
            let theirs = String::from_utf8_lossy(&b[name]);
            let Some(line) = ours.lines().zip(theirs.lines()).position(|(x, y)| x != y) else {
                panic!(
                    "{case}: `{name}` differs after its common lines (length or final newline): {} bytes from cargo-singer, {} from cookiecutter",
                    bytes.len(),
                    b[name].len()
                );
            };
            panic!(
                "{case}: `{name}` differs from line {}:\ncargo-singer: {:?}\ncookiecutter: {:?}",
                line + 1,
                ours.lines().nth(line),
                theirs.lines().nth(line)
            );
        }
    }
}
