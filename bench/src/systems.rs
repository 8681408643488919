//! The systems each suite runs: our connectors, the Python peers and the floors, as commands
//! or in-process runners, and the same systems from a baseline build.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use serde_json::{Value, json};

use crate::{Args, Kind, System, run_process, typed_floor, value_floor};

/// The systems `make` gives, plus (with `--baseline`) our systems again run from the baseline
/// binaries, as peers, so the report shows each of ours against its earlier build.
pub(crate) fn with_baseline(args: &Args, make: impl Fn(&Args) -> Vec<System>) -> Vec<System> {
    let mut systems = make(args);
    if let Some(dir) = &args.baseline {
        let mut earlier = args.clone();
        earlier.bin_dir.clone_from(dir);
        systems.extend(
            make(&earlier)
                .into_iter()
                .filter(|s| s.kind == Kind::Ours)
                .map(|s| System {
                    name: format!("{} [baseline]", s.name),
                    kind: Kind::Peer,
                    run: s.run,
                }),
        );
    }
    systems
}

pub(crate) fn peer(args: &Args, name: &str) -> Option<PathBuf> {
    args.peers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, p)| p.clone())
}

/// A connector run as a process. `argv` may hold `{input}`, `{work}` (an empty output
/// directory), `{records}` and `{config}` (the path of `config` written as JSON, with the same
/// placeholders expanded inside; `"{records}"` becomes a number).
pub(crate) fn command_system(
    name: &str,
    kind: Kind,
    program: PathBuf,
    argv: Vec<String>,
    config: Value,
    stdin_input: bool,
) -> System {
    System {
        name: name.to_owned(),
        kind,
        run: Box::new(move |input, work, records| {
            let out = work.join("out");
            if out.exists() {
                std::fs::remove_dir_all(&out)?;
            }
            std::fs::create_dir_all(&out)?;
            let expand = |a: &str| {
                a.replace("\"{records}\"", &records.to_string())
                    .replace("{input}", &input.display().to_string())
                    .replace("{work}", &out.display().to_string())
                    .replace("{records}", &records.to_string())
            };
            let config_path = work.join("config.json");
            std::fs::write(&config_path, expand(&config.to_string()))?;
            let mut command = Command::new(&program);
            for arg in &argv {
                command.arg(expand(arg).replace("{config}", &config_path.display().to_string()));
            }
            command.current_dir(&out);
            if stdin_input {
                command.stdin(File::open(input)?);
            }
            run_process(&mut command).with_context(|| format!("running {}", program.display()))
        }),
    }
}

pub(crate) fn config_arg() -> Vec<String> {
    vec!["--config".to_owned(), "{config}".to_owned()]
}

pub(crate) fn tap_systems(args: &Args, with_peers: bool) -> Vec<System> {
    let synthetic = json!({"records": "{records}"});
    let csv = json!({"files": [{"entity": "users", "path": "{input}.csv", "keys": ["id"]}]});
    let mut systems = vec![
        System {
            name: "floor: typed serialise (in process)".to_owned(),
            kind: Kind::Floor,
            run: Box::new(|_, work, records| typed_floor(&work.join("typed.out"), records)),
        },
        command_system(
            "floor: cat of the Singer file",
            Kind::Floor,
            "cat".into(),
            vec!["{input}".into()],
            json!({}),
            false,
        ),
        command_system(
            "tap-synthetic (ours)",
            Kind::Ours,
            args.bin_dir.join("tap-synthetic"),
            config_arg(),
            synthetic.clone(),
            false,
        ),
        command_system(
            "tap-csv (ours, CSV source)",
            Kind::Ours,
            args.bin_dir.join("tap-csv"),
            config_arg(),
            csv,
            false,
        ),
    ];
    if with_peers {
        if let Some(bin) = peer(args, "singer-sdk") {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/tap_synthetic.py");
            let mut argv = vec![script.display().to_string()];
            argv.extend(config_arg());
            systems.push(command_system(
                "singer-sdk synthetic tap (Python)",
                Kind::Peer,
                bin.join("python"),
                argv,
                synthetic,
                false,
            ));
        }
        if let Some(bin) = peer(args, "tap-jsonl") {
            systems.push(command_system(
                "tap-jsonl (Python, JSON Lines source)",
                Kind::Peer,
                bin.join("tap-jsonl"),
                config_arg(),
                json!({"path": "{input}.jsonl.d/*.jsonl", "stream_name": "users", "primary_keys": ["id"]}),
                false,
            ));
        }
    }
    systems
}

pub(crate) fn target_systems(args: &Args, with_peers: bool) -> Vec<System> {
    let jsonl = json!({"destination_path": "{work}"});
    let csv = json!({"output_path": "{work}"});
    let mut systems = vec![
        System {
            name: "floor: serde_json Value round trip (in process)".to_owned(),
            kind: Kind::Floor,
            run: Box::new(|input, work, _| value_floor(input, &work.join("value.out"))),
        },
        command_system(
            "floor: cat of the Singer file",
            Kind::Floor,
            "cat".into(),
            vec!["{input}".into()],
            json!({}),
            false,
        ),
        command_system(
            "target-jsonl (ours)",
            Kind::Ours,
            args.bin_dir.join("target-jsonl"),
            config_arg(),
            jsonl.clone(),
            true,
        ),
        command_system(
            "target-csv (ours)",
            Kind::Ours,
            args.bin_dir.join("target-csv"),
            config_arg(),
            csv.clone(),
            true,
        ),
        command_system(
            "target-sqlite (ours)",
            Kind::Ours,
            args.bin_dir.join("target-sqlite"),
            config_arg(),
            json!({"database": "{work}/out.db"}),
            true,
        ),
    ];
    // The same with one worker (the line-by-line path), so the gain from the worker pool
    // shows apart from the rest.
    for (name, config) in [
        ("target-jsonl", jsonl.clone()),
        ("target-csv", csv.clone()),
        ("target-sqlite", json!({"database": "{work}/out.db"})),
    ] {
        let mut config = config;
        config["workers"] = json!(1);
        systems.push(command_system(
            &format!("{name} (ours, 1 worker)"),
            Kind::Ours,
            args.bin_dir.join(name),
            config_arg(),
            config,
            true,
        ));
    }
    if with_peers {
        if let Some(bin) = peer(args, "singer-sdk") {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/target_null.py");
            let mut argv = vec![script.display().to_string()];
            argv.extend(config_arg());
            systems.push(command_system(
                "singer-sdk null target (Python)",
                Kind::Peer,
                bin.join("python"),
                argv,
                json!({}),
                true,
            ));
        }
        if let Some(bin) = peer(args, "meltanolabs-target-csv") {
            systems.push(command_system(
                "meltanolabs-target-csv (Python)",
                Kind::Peer,
                bin.join("target-csv"),
                config_arg(),
                csv,
                true,
            ));
        }
        if let Some(bin) = peer(args, "target-jsonl") {
            systems.push(command_system(
                "target-jsonl community (Python)",
                Kind::Peer,
                bin.join("target-jsonl"),
                config_arg(),
                jsonl,
                true,
            ));
        }
    }
    systems
}

/// Three expressions and a filter, as the stream map benchmark asks.
pub(crate) fn maps_config() -> Value {
    json!({"email_hash": "md5(email or '')", "name": "name.upper()", "visits": "visits + 1", "__filter__": "active or not active"})
}

pub(crate) fn map_systems(args: &Args) -> Vec<System> {
    let mapped = json!({"stream_maps": {"users": maps_config()}});
    let tap_mapped = json!({"records": "{records}", "stream_maps": {"rows": maps_config()}});
    vec![
        command_system(
            "map-transform, no maps (ours)",
            Kind::Ours,
            args.bin_dir.join("map-transform"),
            config_arg(),
            json!({}),
            true,
        ),
        command_system(
            "map-transform, 3 expressions + filter (ours)",
            Kind::Ours,
            args.bin_dir.join("map-transform"),
            config_arg(),
            mapped,
            true,
        ),
        command_system(
            "tap-synthetic, no maps (ours)",
            Kind::Ours,
            args.bin_dir.join("tap-synthetic"),
            config_arg(),
            json!({"records": "{records}"}),
            false,
        ),
        command_system(
            "tap-synthetic, 3 expressions + filter (ours)",
            Kind::Ours,
            args.bin_dir.join("tap-synthetic"),
            config_arg(),
            tap_mapped,
            false,
        ),
    ]
}
