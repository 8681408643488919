//! Bad config: a missing required setting or a file that is not JSON ends the tap cleanly.

use std::ffi::OsString;
use std::path::PathBuf;

use serde_json::Value;

use super::Context;
use crate::check::{Check, CheckInfo, Outcome, Verdict, fail, skip};

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "tap.config.missing-required",
        "with a required setting (from `--about` settings `required`) removed from the config, or with `{}` if none is declared, the tap exits non-zero with a message on stderr, no stack trace and nothing on stdout",
        "Singer spec: non-zero exit on failure with the reason logged; a trace hides the message and stdout output would reach the target",
        missing_required,
    ),
    Check::new(
        "tap.config.malformed",
        "with a config file that is not JSON, the tap exits non-zero with a message on stderr, no stack trace and nothing on stdout",
        "users edit config files by hand; the error must say what is wrong, not crash",
        malformed,
    ),
];

/// `--config <path>`, plus the sync catalog when there is one (as Meltano runs a sync).
fn args(context: &Context, config: PathBuf) -> Result<Vec<OsString>, Outcome> {
    let mut args: Vec<OsString> = vec!["--config".into(), config.into()];
    if let Ok(catalog) = context.catalog() {
        let value = serde_json::to_value(catalog).unwrap_or_default();
        args.extend([
            "--catalog".into(),
            context.file("catalog.json", &value)?.into(),
        ]);
    }
    Ok(args)
}

fn missing_required(context: &Context, _: &CheckInfo) -> Verdict {
    let required: Vec<String> = context
        .about()
        .ok()
        .and_then(|a| a["settings"].get("required"))
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut config = context.tap.config.clone();
    let removed = match (required.first(), config.as_object_mut()) {
        (Some(key), Some(map)) => {
            map.remove(key);
            format!("without required setting `{key}`")
        }
        _ => {
            config = Value::Object(serde_json::Map::new());
            "with an empty config `{}` (no required setting declared)".to_owned()
        }
    };
    let run = context.run(&args(context, context.file("config.json", &config)?)?)?;
    if run.success() && required.is_empty() {
        return Err(skip(
            "the tap declares no required setting and accepts an empty config",
        ));
    }
    crate::clean_failure(&run, &removed, |_| false)
}

fn malformed(context: &Context, _: &CheckInfo) -> Verdict {
    let path = context.file("placeholder.json", &Value::Null)?;
    std::fs::write(&path, "{\"this is\": not json")
        .map_err(|e| fail(format!("harness cannot write {}: {e}", path.display())))?;
    let run = context.run(&args(context, path)?)?;
    crate::clean_failure(&run, "with a config file that is not JSON", |_| false)
}
