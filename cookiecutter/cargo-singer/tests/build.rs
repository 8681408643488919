//! Generated projects build against this checkout with no edits, are formatted, lint clean,
//! and pass their own tests, which run the conformance suites: a REST tap with bearer auth
//! (against its local mock API), a self-contained tap, a batch target, a mapper, and the
//! PostgreSQL tap and target of `SQL` (against the server of `TARGET_POSTGRES_TEST_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`, as target-postgres's tests). Every
//! distinct rendering (each `auth_method` of the REST and GraphQL taps, the SQL and Other
//! taps, each serialization method, the mapper) is also checked by clippy, warnings denied,
//! together in one workspace.
//!
//! All builds share this workspace's target directory (`CARGO_TARGET_DIR`, else `target/`),
//! so dependencies compile once, and start from this workspace's `Cargo.lock`, so they use
//! the versions it tests. Projects are generated under `<target>/cargo-singer-tests/`, at
//! the same paths every run, so reruns are incremental.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{cargo_singer, repo};

/// The shared target directory.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from)
}

/// Generates `NAME` with `args` (plus `--no-input --sdk-path <this checkout>`) under `dir`,
/// replacing an earlier run's copy, and gives it this workspace's `Cargo.lock`.
fn generate(dir: &Path, kind: &str, name: &str, args: &[&str]) -> PathBuf {
    let project = dir.join(name);
    if project.exists() {
        std::fs::remove_dir_all(&project).unwrap();
    }
    let sdk = repo();
    let mut all = vec![
        "new",
        kind,
        name,
        "--no-input",
        "--sdk-path",
        sdk.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    all.extend(["--output-dir", dir.to_str().unwrap()]);
    let out = cargo_singer(&all);
    assert!(
        out.status.success(),
        "cargo singer {}: {}",
        all.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::copy(sdk.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    project
}

/// Runs `cargo ARGS` in `dir` with the shared target directory; panics with its output if
/// it fails.
fn cargo(dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        // Smaller, faster-linking test builds; the generated projects are not debugged here.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        // The server the generated SQL tap and target test against.
        .env("TAP_GEN_SQL_TEST_URL", postgres_url())
        .env("TARGET_GEN_SQL_TEST_URL", postgres_url())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "`cargo {}` failed in {}:\n{}\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The PostgreSQL server the generated SQL tap and target are tested against: the one
/// target-postgres's tests use (`TARGET_POSTGRES_TEST_URL`, by default
/// `postgres://postgres@127.0.0.1:5432/test`), or a throwaway cluster started for this test
/// when nothing answers there and the server binaries are installed.
fn postgres_url() -> String {
    target_test_support::postgres::server_url()
}

#[test]
fn generated_projects_build_and_pass_their_conformance_tests() {
    let dir = target_dir().join("cargo-singer-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let tested = [
        (
            "tap",
            "tap-gen-rest",
            &["--stream-type", "REST", "--auth", "Bearer Token"][..],
        ),
        ("tap", "tap-gen-other", &["--stream-type", "Other"][..]),
        (
            "target",
            "target-gen-batch",
            &["--serialization", "Per batch"][..],
        ),
        ("mapper", "mapper-gen", &[][..]),
        // Against the PostgreSQL server of `postgres_url`.
        ("tap", "tap-gen-sql", &["--stream-type", "SQL"][..]),
        ("target", "target-gen-sql", &["--serialization", "SQL"][..]),
    ];
    for (kind, name, args) in tested {
        let project = generate(&dir, kind, name, args);
        cargo(&project, &["fmt", "--check"]);
        cargo(&project, &["test"]);
    }

    // Every distinct rendering (an Other or SQL tap ignores `auth_method`), as members
    // of one workspace: their own `[workspace]` tables are dropped for that.
    let all = dir.join("all");
    if all.exists() {
        std::fs::remove_dir_all(&all).unwrap();
    }
    std::fs::create_dir_all(&all).unwrap();
    let mut members = Vec::new();
    let mut add = |kind: &str, name: String, args: &[&str]| {
        let project = generate(&all, kind, &name, args);
        let manifest = project.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let own =
            "# A project of its own, also when generated inside another workspace.\n[workspace]\n";
        assert!(
            text.ends_with(own),
            "{name}: Cargo.toml does not end with its [workspace]"
        );
        std::fs::write(&manifest, text.trim_end_matches(own)).unwrap();
        std::fs::remove_file(project.join("Cargo.lock")).unwrap();
        members.push(name);
    };
    for stream_type in ["REST", "GraphQL"] {
        for auth in [
            "API Key",
            "Bearer Token",
            "Basic Auth",
            "OAuth2",
            "JWT",
            "Custom or N/A",
        ] {
            let name = format!("tap-all-{}-{}", stream_type, support_slug(auth)).to_lowercase();
            add("tap", name, &["--stream-type", stream_type, "--auth", auth]);
        }
    }
    add("tap", "tap-all-sql".into(), &["--stream-type", "SQL"]);
    add("tap", "tap-all-other".into(), &["--stream-type", "Other"]);
    add(
        "target",
        "target-all-batch".into(),
        &["--serialization", "Per batch"],
    );
    add(
        "target",
        "target-all-record".into(),
        &["--serialization", "Per record"],
    );
    add(
        "target",
        "target-all-sql".into(),
        &["--serialization", "SQL"],
    );
    add("mapper", "mapper-all".into(), &[]);
    let list = members
        .iter()
        .map(|m| format!("{m:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        all.join("Cargo.toml"),
        format!("[workspace]\nresolver = \"3\"\nmembers = [{list}]\n"),
    )
    .unwrap();
    std::fs::copy(repo().join("Cargo.lock"), all.join("Cargo.lock")).unwrap();
    // `-p` for each member, not `--all`: that would also check the SDK's own sources (the
    // path dependencies), which are not this test's business.
    let mut fmt = vec!["fmt", "--check"];
    for member in &members {
        fmt.extend(["-p", member]);
    }
    cargo(&all, &fmt);
    cargo(
        &all,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
}

/// `Bearer Token` as `bearer-token`.
fn support_slug(choice: &str) -> String {
    choice
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}
