//! Bad input: one clear error naming the problem and what is allowed, a non-zero exit, and
//! nothing written.

mod support;

use std::path::Path;

use support::{Render, cargo_singer, cookiecutter};

/// Runs `cargo singer new ARGS --output-dir DIR`; returns stderr after asserting failure.
fn fails(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["new"];
    all.extend_from_slice(args);
    all.extend(["--output-dir", dir.to_str().unwrap()]);
    let out = cargo_singer(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{all:?} succeeded: {stderr}");
    assert!(!stderr.contains("panicked"), "{all:?} panicked: {stderr}");
    stderr
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

#[test]
fn invalid_names_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["my tap", "tap.x", "1tap", "tap/x", "tap-é"] {
        let err = fails(dir.path(), &["tap", name, "--no-input"]);
        assert!(
            err.contains(&format!("NAME `{name}` is not a valid name"))
                && err.contains("ASCII letters, digits, `-` and `_`"),
            "{name}: {err}"
        );
    }
    let err = fails(
        dir.path(),
        &[
            "target",
            "target-x",
            "--no-input",
            "--set",
            "crate_name=a b",
        ],
    );
    assert!(
        err.contains("crate_name `a b` is not a valid name"),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &[
            "mapper",
            "mapper-x",
            "--no-input",
            "--set",
            "name=My Mapper",
        ],
    );
    assert!(
        err.contains("name `My Mapper` is not a CamelCase name"),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &["tap", "tap-x", "--no-input", "--set", "admin_name=A \"B\""],
    );
    assert!(
        err.contains("admin_name") && err.contains("quotes"),
        "{err}"
    );
    assert_eq!(entries(dir.path()), 0, "something was written");
}

#[test]
fn names_cargo_refuses_are_refused_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, name, reason) in [
        (
            "tap",
            "build",
            "it conflicts with cargo's build directory names",
        ),
        (
            "target",
            "deps",
            "it conflicts with cargo's build directory names",
        ),
        (
            "mapper",
            "examples",
            "it conflicts with cargo's build directory names",
        ),
        (
            "tap",
            "incremental",
            "it conflicts with cargo's build directory names",
        ),
        (
            "target",
            "test",
            "it conflicts with Rust's built-in test library",
        ),
        ("mapper", "fn", "it is a Rust keyword"),
        ("tap", "Self", "it is a Rust keyword"),
    ] {
        let err = fails(dir.path(), &[kind, name, "--no-input"]);
        assert!(
            err.contains(&format!("NAME `{name}` cannot be used as a name: {reason}"))
                && err.contains(&format!("e.g. {kind}-example")),
            "{name}: {err}"
        );
    }
    for (key, value) in [("crate_name", "test"), ("tap_id", "async")] {
        let err = fails(
            dir.path(),
            &[
                "tap",
                "tap-x",
                "--no-input",
                "--set",
                &format!("{key}={value}"),
            ],
        );
        assert!(
            err.contains(&format!("{key} `{value}` cannot be used as a name")),
            "{err}"
        );
    }
    assert_eq!(entries(dir.path()), 0, "something was written");
}

#[test]
fn unknown_choices_list_the_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(
        dir.path(),
        &["tap", "tap-x", "--no-input", "--stream-type", "SOAP"],
    );
    assert!(
        err.contains(
            "stream_type `SOAP` is not one of the choices; use one of: REST, GraphQL, SQL, Other"
        ),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &["tap", "tap-x", "--no-input", "--auth", "kerberos"],
    );
    assert!(
        err.contains("API Key, Bearer Token, Basic Auth, OAuth2, JWT, Custom or N/A"),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &["target", "target-x", "--no-input", "--serialization", "csv"],
    );
    assert!(
        err.contains("use one of: Per batch, Per record, SQL"),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &["mapper", "mapper-x", "--no-input", "--set", "license=GPL"],
    );
    assert!(
        err.contains("license `GPL`") && err.contains("Apache-2.0, MIT, None"),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &["target", "target-x", "--no-input", "--stream-type", "REST"],
    );
    assert!(
        err.contains("--stream-type applies only to a tap, not to a target"),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &["tap", "tap-x", "--no-input", "--set", "colour=red"],
    );
    assert!(
        err.contains("the tap template has no variable `colour`; it asks: source_name"),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &["tap", "tap-x", "--no-input", "--set", "license"],
    );
    assert!(err.contains("--set `license` is not KEY=VALUE"), "{err}");
    let err = fails(
        dir.path(),
        &[
            "tap",
            "tap-x",
            "--no-input",
            "--sdk-path",
            dir.path().to_str().unwrap(),
        ],
    );
    assert!(err.contains("is not a singer-sdk checkout"), "{err}");
    let err = fails(dir.path(), &["tap", "tap-x", "--no-input", "--colour"]);
    assert!(err.contains("--colour"), "{err}");
    assert_eq!(entries(dir.path()), 0, "something was written");
}

#[test]
fn an_existing_directory_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("tap-x");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("keep.txt"), "mine").unwrap();
    let err = fails(dir.path(), &["tap", "tap-x", "--no-input"]);
    assert!(
        err.contains("already exists; choose another name or --output-dir"),
        "{err}"
    );
    assert_eq!(entries(&existing), 1);
    assert_eq!(
        std::fs::read_to_string(existing.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn an_existing_directory_is_reported_before_anything_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("target-x")).unwrap();
    // No --no-input and no terminal: it would ask (and fail for want of a terminal) if it
    // got that far.
    let err = fails(dir.path(), &["target", "target-x"]);
    assert!(err.contains("already exists"), "{err}");
    assert!(!err.contains("not a terminal"), "{err}");
    // Also when the id comes from --set.
    let err = fails(
        dir.path(),
        &["target", "target-y", "--set", "target_id=target-x"],
    );
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn a_missing_output_dir_is_created_and_a_bad_one_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    let out = cargo_singer(&[
        "new",
        "mapper",
        "mapper-x",
        "--no-input",
        "--output-dir",
        nested.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(nested.join("mapper-x/Cargo.toml").is_file());
    // An output directory under a file cannot be made: the error names it, nothing is made.
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let err = fails(&file.join("sub"), &["mapper", "mapper-x", "--no-input"]);
    assert!(err.contains("cannot write") && err.contains("sub"), "{err}");
    assert_eq!(entries(dir.path()), 2);
    assert_eq!(std::fs::read(&file).unwrap(), b"");
}

#[test]
fn without_a_terminal_it_asks_for_no_input_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(dir.path(), &["tap", "tap-x"]);
    assert!(
        err.contains("standard input is not a terminal; pass --no-input"),
        "{err}"
    );
    assert_eq!(entries(dir.path()), 0);
}

#[test]
fn help_says_what_it_can_do() {
    let bare = cargo_singer(&[]);
    let text = String::from_utf8_lossy(&bare.stderr);
    assert!(!bare.status.success());
    assert!(
        text.contains("new") && text.contains("Generate a new tap, target or mapper"),
        "{text}"
    );
    for args in [&["--help"][..], &["help"][..]] {
        let top = cargo_singer(args);
        let text = String::from_utf8_lossy(&top.stdout);
        assert!(top.status.success(), "{args:?}: {text}");
        assert!(
            text.contains("new") && text.contains("Generate a new tap, target or mapper"),
            "{args:?}: {text}"
        );
    }
    let help = cargo_singer(&["new", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    for flag in [
        "--stream-type",
        "--auth",
        "--serialization",
        "--no-input",
        "--sdk-path",
        "--output-dir",
        "--set",
    ] {
        assert!(text.contains(flag), "{flag} missing from: {text}");
    }
}

#[test]
fn cookiecutter_refuses_the_same_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let renders = [
        Render {
            template: "tap-template",
            output_dir: out.clone(),
            context: vec![("tap_id", "my tap".into())],
        },
        Render {
            template: "target-template",
            output_dir: out.clone(),
            context: vec![("destination_name", "My Destination".into())],
        },
        Render {
            template: "tap-template",
            output_dir: out.clone(),
            context: vec![("tap_id", "build".into())],
        },
        Render {
            template: "target-template",
            output_dir: out.clone(),
            context: vec![("crate_name", "test".into())],
        },
        Render {
            template: "mapper-template",
            output_dir: out.clone(),
            context: vec![("mapper_id", "fn".into())],
        },
    ];
    let expected = [
        "tap_id `my tap` is not a valid name",
        "destination_name `My Destination` is not a CamelCase name",
        "tap_id `build` cannot be used as a name: it conflicts with cargo's build directory names",
        "crate_name `test` cannot be used as a name: it conflicts with Rust's built-in test library",
        "mapper_id `fn` cannot be used as a name: it is a Rust keyword",
    ];
    let results = cookiecutter(&renders, dir.path());
    assert_eq!(results.len(), expected.len());
    for (((ok, err), render), expected) in results.iter().zip(&renders).zip(expected) {
        assert!(!ok, "cookiecutter accepted {:?}", render.context);
        assert!(err.contains(expected), "{expected}: {err}");
    }
    assert_eq!(entries(&out), 0, "cookiecutter left a project behind");
}
