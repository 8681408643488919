//! For the same answers, `cargo singer new` writes byte for byte what the real `cookiecutter`
//! writes: every `stream_type` and `auth_method` of the tap template, every
//! `serialization_method` of the target template, the mapper, and the other choices.

mod support;

use std::process::Command;

use support::{Render, assert_same_tree, cargo_singer, cookiecutter, cookiecutter_bin, repo};

/// One rendering: the arguments of `cargo singer new` and the same answers for cookiecutter.
struct Case {
    args: Vec<String>,
    template: &'static str,
    context: Vec<(&'static str, String)>,
}

const STREAM_TYPES: [&str; 4] = ["REST", "GraphQL", "SQL", "Other"];
const AUTH_METHODS: [(&str, &str); 6] = [
    ("API Key", "api-key"),
    ("Bearer Token", "Bearer Token"),
    ("Basic Auth", "basic_auth"),
    ("OAuth2", "oauth2"),
    ("JWT", "JWT"),
    ("Custom or N/A", "custom-or-n/a"),
];
const SERIALIZATION: [(&str, &str); 3] = [
    ("Per batch", "per-batch"),
    ("Per record", "Per record"),
    ("SQL", "sql"),
];

fn cases() -> Vec<Case> {
    let sdk = repo().display().to_string();
    let mut cases = Vec::new();
    for (i, stream_type) in STREAM_TYPES.iter().enumerate() {
        for (j, (auth, loose)) in AUTH_METHODS.iter().enumerate() {
            let id = format!("tap-case{i}{j}");
            let mut args = vec!["tap".to_owned(), id.clone(), "--no-input".to_owned()];
            args.extend(["--stream-type".to_owned(), stream_type.to_lowercase()]);
            args.extend(["--auth".to_owned(), (*loose).to_owned()]);
            let mut context = vec![
                ("tap_id", id),
                ("source_name", format!("Case{i}{j}")),
                ("stream_type", (*stream_type).to_owned()),
                ("auth_method", (*auth).to_owned()),
            ];
            // Half the cases build against a checkout, half against the git source.
            if (i + j) % 2 == 0 {
                args.extend(["--sdk-path".to_owned(), sdk.clone()]);
                context.push(("sdk_path", sdk.clone()));
            }
            cases.push(Case {
                args,
                template: "tap-template",
                context,
            });
        }
    }
    for (i, (method, loose)) in SERIALIZATION.iter().enumerate() {
        let id = format!("target-case{i}");
        cases.push(Case {
            args: vec![
                "target".into(),
                id.clone(),
                "--no-input".into(),
                "--serialization".into(),
                (*loose).into(),
            ],
            template: "target-template",
            context: vec![
                ("target_id", id),
                ("destination_name", format!("Case{i}")),
                ("serialization_method", (*method).to_owned()),
            ],
        });
    }
    cases.push(Case {
        args: vec!["mapper".into(), "mapper-case".into(), "--no-input".into()],
        template: "mapper-template",
        context: vec![("mapper_id", "mapper-case".into()), ("name", "Case".into())],
    });
    // The other choices and free-text answers, through --set.
    let sets: [(&str, &str); 5] = [
        ("include_ci_files", "None"),
        ("license", "MIT"),
        ("variant", "meltanolabs"),
        ("admin_name", "Ada Lovelace"),
        ("crate_name", "tap_custom_crate"),
    ];
    let mut args = vec![
        "tap".to_owned(),
        "tap-sets".to_owned(),
        "--no-input".to_owned(),
    ];
    let mut context = vec![
        ("tap_id", "tap-sets".to_owned()),
        ("source_name", "Sets".to_owned()),
    ];
    for (key, value) in sets {
        args.extend(["--set".to_owned(), format!("{key}={value}")]);
        context.push((key, value.to_owned()));
    }
    cases.push(Case {
        args,
        template: "tap-template",
        context,
    });
    for (template, kind) in [("target-template", "target"), ("mapper-template", "mapper")] {
        let id = format!("{kind}-nolicense");
        cases.push(Case {
            args: vec![
                kind.into(),
                id.clone(),
                "--no-input".into(),
                "--set".into(),
                "license=None".into(),
                "--set".into(),
                "include_ci_files=None".into(),
            ],
            template,
            context: vec![
                (
                    if kind == "target" {
                        "target_id"
                    } else {
                        "mapper_id"
                    },
                    id,
                ),
                (
                    if kind == "target" {
                        "destination_name"
                    } else {
                        "name"
                    },
                    "Nolicense".into(),
                ),
                ("license", "None".into()),
                ("include_ci_files", "None".into()),
            ],
        });
    }
    cases
}

#[test]
fn every_choice_renders_like_cookiecutter() {
    let scratch = tempfile::tempdir().unwrap();
    let ours = scratch.path().join("cargo-singer");
    let theirs = scratch.path().join("cookiecutter");
    let cases = cases();
    for case in &cases {
        let mut args: Vec<&str> = vec!["new"];
        args.extend(case.args.iter().map(String::as_str));
        args.extend(["--output-dir", ours.to_str().unwrap()]);
        let out = cargo_singer(&args);
        assert!(
            out.status.success(),
            "cargo singer {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let renders: Vec<Render<'_>> = cases
        .iter()
        .map(|case| Render {
            template: case.template,
            output_dir: theirs.clone(),
            context: case.context.clone(),
        })
        .collect();
    for ((ok, err), case) in cookiecutter(&renders, scratch.path()).iter().zip(&cases) {
        assert!(ok, "cookiecutter {:?}: {err}", case.context);
    }
    let mut compared = 0;
    for case in &cases {
        let id = &case.context[0].1;
        assert_same_tree(&case.args.join(" "), &ours.join(id), &theirs.join(id));
        compared += 1;
    }
    assert_eq!(compared, 24 + 3 + 1 + 3);
    // The choices left out of a project really are left out.
    assert!(!ours.join("tap-sets/.github").exists());
    assert!(
        !ours.join("tap-case20/src/client.rs").exists(),
        "a SQL tap has no HTTP client"
    );
    assert!(ours.join("tap-case00/src/client.rs").exists());
    // SQL generates a PostgreSQL tap and target on the SDK's SQL base.
    let read = |path: &str| std::fs::read_to_string(ours.join(path)).unwrap();
    assert!(
        read("tap-case20/src/streams.rs")
            .contains("singer_sdk::sql::postgres::{DiscoverOptions, discover}")
    );
    assert!(read("tap-case20/Cargo.toml").contains(r#"features = ["postgres"]"#));
    assert!(
        read("target-case2/src/sink.rs").contains("singer_sdk::sql::postgres::{Loader, TableSink}")
    );
    assert!(read("target-case2/Cargo.toml").contains(r#"features = ["postgres"]"#));
}

/// The `cookiecutter` command line itself (not only its Python API) gives the same tree.
#[test]
fn the_cookiecutter_command_line_renders_the_same() {
    let scratch = tempfile::tempdir().unwrap();
    let (ours, theirs) = (scratch.path().join("ours"), scratch.path().join("theirs"));
    let out = cargo_singer(&[
        "new",
        "tap",
        "tap-cli",
        "--no-input",
        "--stream-type",
        "GraphQL",
        "--auth",
        "OAuth2",
        "--output-dir",
        ours.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = scratch.path().join("config.yaml");
    std::fs::write(
        &config,
        format!("replay_dir: {}/replay\n", scratch.path().display()),
    )
    .unwrap();
    let out = Command::new(cookiecutter_bin().join("cookiecutter"))
        .arg("--no-input")
        .arg("--config-file")
        .arg(&config)
        .arg("--output-dir")
        .arg(&theirs)
        .arg(repo().join("cookiecutter/tap-template"))
        .args([
            "tap_id=tap-cli",
            "source_name=Cli",
            "stream_type=GraphQL",
            "auth_method=OAuth2",
        ])
        .output()
        .expect("cookiecutter runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_tree(
        "cookiecutter CLI",
        &ours.join("tap-cli"),
        &theirs.join("tap-cli"),
    );
}
