//! `--discover`: the catalog is valid and consistent with its own schemas.

use std::collections::HashSet;

use crate::catalog::{Catalog, Entry as CatalogEntry, keys};
use serde_json::Value;

use super::Context;
use crate::check::{Check, CheckInfo, Outcome, Verdict, fail};
use crate::json;
use crate::process::Run;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "tap.discovery.valid-catalog",
        "`--discover` exits 0 and prints a catalog: `{\"streams\": [...]}`, at least one stream, each with a string `tap_stream_id`, an object `schema` and well-formed `metadata`",
        "Singer spec (DISCOVERY_MODE.md); Meltano aborts the run when discovery output does not parse",
        valid_catalog,
    ),
    Check::new(
        "tap.discovery.unique-stream-ids",
        "no two catalog entries share a `tap_stream_id`",
        "the id keys selection, state bookmarks and Meltano's select rules; duplicates make them ambiguous",
        unique_stream_ids,
    ),
    Check::new(
        "tap.discovery.schema-draft4",
        "every stream schema is valid under the JSON Schema Draft 4 meta-schema",
        "Draft 4 is the common denominator Singer targets (singer-python) validate with",
        |c, _| schemas_valid(c, 4),
    ),
    Check::new(
        "tap.discovery.schema-draft7",
        "every stream schema is valid under the JSON Schema Draft 7 meta-schema",
        "singer-sdk and Airbyte-style tooling validate with Draft 7 or later",
        |c, _| schemas_valid(c, 7),
    ),
    Check::new(
        "tap.discovery.refs-inlined",
        "no stream schema contains `$ref`",
        "Singer has no way to ship referenced schemas: targets expect them inlined (Stitch rules; singer-sdk resolve_schema_references)",
        refs_inlined,
    ),
    Check::new(
        "tap.discovery.key-properties-exist",
        "every key property (`table-key-properties`, `key_properties`) is a top-level property of the stream schema",
        "Singer spec: key properties name top-level fields; targets build primary keys from them",
        key_properties_exist,
    ),
    Check::new(
        "tap.discovery.replication-keys-exist",
        "every replication key (`valid-replication-keys`, `replication-key`, `replication_key`) is a top-level property of the stream schema",
        "incremental sync and bookmarks read this field from every record (Airbyte CAT test_defined_cursors_exist_in_schema)",
        replication_keys_exist,
    ),
    Check::new(
        "tap.discovery.breadcrumbs-valid",
        "every metadata breadcrumb points at a node of the schema (`[]`, `[\"properties\", f]`, nested `properties`/`items`)",
        "selection is expressed through breadcrumbs; one pointing nowhere cannot be honoured",
        breadcrumbs_valid,
    ),
    Check::new(
        "tap.discovery.inclusion-per-field",
        "every top-level property has a metadata entry with `inclusion` (available, automatic or unsupported)",
        "Singer spec (SYNC_MODE.md): each field needs an inclusion entry so users and Meltano know what can be selected",
        inclusion_per_field,
    ),
    Check::new(
        "tap.discovery.with-state",
        "`--config C --state S --discover` (what Meltano runs once state exists) exits 0 and prints the same streams",
        "Meltano passes --state together with --discover (meltano-contract.md §3.2); a tap that rejects it breaks every second run",
        with_state,
    ),
];

/// Runs `--config C --discover` and parses stdout.
pub(super) fn load(context: &Context) -> Result<(Run, Value), Outcome> {
    let mut args = context.sync_args(None, None)?;
    args.push("--discover".into());
    discover(context, &args)
}

fn discover(context: &Context, args: &[std::ffi::OsString]) -> Result<(Run, Value), Outcome> {
    let run = context.run(args)?;
    if !run.success() {
        return Err(fail(format!("`--discover` failed: {}", run.describe())));
    }
    match serde_json::from_slice::<Value>(&run.stdout) {
        Ok(value) => Ok((run, value)),
        Err(e) => {
            let text = run.stdout_text();
            let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
            Err(fail(format!(
                "`--discover` stdout is not one JSON document ({e}); line {}: {}",
                e.line(),
                json::excerpt(line)
            )))
        }
    }
}

/// The discovered catalog, typed.
fn catalog(context: &Context) -> Result<Catalog, Outcome> {
    let (_, value) = context.discovery()?;
    serde_json::from_value(value.clone()).map_err(|e| fail(format!("invalid catalog: {e}")))
}

fn valid_catalog(context: &Context, _: &CheckInfo) -> Verdict {
    let (_, value) = context.discovery()?;
    let Some(streams) = value.get("streams").and_then(Value::as_array) else {
        return Err(fail("the catalog has no `streams` list"));
    };
    if streams.is_empty() {
        return Err(fail("the catalog has no streams"));
    }
    for (i, stream) in streams.iter().enumerate() {
        if !stream.get("tap_stream_id").is_some_and(Value::is_string) {
            return Err(fail(format!("streams[{i}] has no string `tap_stream_id`")));
        }
        if !stream.get("schema").is_some_and(Value::is_object) {
            return Err(fail(format!("streams[{i}] has no object `schema`")));
        }
        let parsed: Result<CatalogEntry, _> = serde_json::from_value(stream.clone());
        if let Err(e) = parsed {
            return Err(fail(format!(
                "streams[{i}] is not a valid catalog entry: {e}"
            )));
        }
    }
    Ok(())
}

fn unique_stream_ids(context: &Context, _: &CheckInfo) -> Verdict {
    let mut seen = HashSet::new();
    for entry in catalog(context)?.streams {
        if !seen.insert(entry.tap_stream_id.clone()) {
            return Err(fail(format!(
                "`tap_stream_id` `{}` appears twice",
                entry.tap_stream_id
            )));
        }
    }
    Ok(())
}

fn schemas_valid(context: &Context, draft: u8) -> Verdict {
    for entry in catalog(context)?.streams {
        let result = if draft == 4 {
            jsonschema::draft4::meta::validate(&entry.schema)
        } else {
            jsonschema::draft7::meta::validate(&entry.schema)
        };
        if let Err(e) = result {
            return Err(fail(format!(
                "schema of `{}` is not valid Draft {draft}: {e} (at `{}`)",
                entry.tap_stream_id,
                e.instance_path().as_str()
            )));
        }
    }
    Ok(())
}

fn refs_inlined(context: &Context, _: &CheckInfo) -> Verdict {
    fn find(value: &Value, path: &str) -> Option<String> {
        match value {
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                if k == "$ref" {
                    Some(format!("{path}/$ref = {v}"))
                } else {
                    find(v, &format!("{path}/{k}"))
                }
            }),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| find(v, &format!("{path}/{i}"))),
            _ => None,
        }
    }
    for entry in catalog(context)?.streams {
        if let Some(at) = find(&entry.schema, "") {
            return Err(fail(format!(
                "schema of `{}` has `{at}`",
                entry.tap_stream_id
            )));
        }
    }
    Ok(())
}

fn top_level(entry: &CatalogEntry, field: &str) -> bool {
    entry
        .schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key(field))
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn key_properties_exist(context: &Context, _: &CheckInfo) -> Verdict {
    for entry in catalog(context)?.streams {
        let mut keys = strings(entry.stream_metadata(keys::TABLE_KEY_PROPERTIES));
        keys.extend(strings(entry.legacy(keys::TABLE_KEY_PROPERTIES)));
        if let Some(key) = keys.iter().find(|k| !top_level(&entry, k)) {
            return Err(fail(format!(
                "stream `{}`: key property `{key}` is not a top-level property of its schema",
                entry.tap_stream_id
            )));
        }
    }
    Ok(())
}

fn replication_keys_exist(context: &Context, _: &CheckInfo) -> Verdict {
    for entry in catalog(context)?.streams {
        let mut keys = strings(entry.stream_metadata(keys::VALID_REPLICATION_KEYS));
        keys.extend(strings(entry.stream_metadata(keys::REPLICATION_KEY)));
        keys.extend(strings(entry.legacy(keys::REPLICATION_KEY)));
        if let Some(key) = keys.iter().find(|k| !top_level(&entry, k)) {
            return Err(fail(format!(
                "stream `{}`: replication key `{key}` is not a top-level property of its schema",
                entry.tap_stream_id
            )));
        }
    }
    Ok(())
}

fn breadcrumbs_valid(context: &Context, _: &CheckInfo) -> Verdict {
    for entry in catalog(context)?.streams {
        for metadata in &entry.metadata {
            let mut node = &entry.schema;
            let mut crumbs = metadata.breadcrumb.iter();
            while let Some(step) = crumbs.next() {
                let next = match step.as_str() {
                    "properties" => crumbs
                        .next()
                        .and_then(|name| node.get("properties")?.get(name)),
                    "items" => node.get("items"),
                    _ => None,
                };
                let Some(next) = next else {
                    return Err(fail(format!(
                        "stream `{}`: breadcrumb {:?} points at no schema node",
                        entry.tap_stream_id, metadata.breadcrumb
                    )));
                };
                node = next;
            }
        }
    }
    Ok(())
}

fn inclusion_per_field(context: &Context, _: &CheckInfo) -> Verdict {
    for entry in catalog(context)?.streams {
        for field in super::catalog::property_names(&entry) {
            match super::catalog::inclusion(&entry, &field) {
                Some("available" | "automatic" | "unsupported") => {}
                Some(other) => {
                    return Err(fail(format!(
                        "stream `{}`: field `{field}` has inclusion `{other}` (expected available, automatic or unsupported)",
                        entry.tap_stream_id
                    )));
                }
                None => {
                    return Err(fail(format!(
                        "stream `{}`: field `{field}` has no metadata entry with `inclusion`",
                        entry.tap_stream_id
                    )));
                }
            }
        }
    }
    Ok(())
}

fn with_state(context: &Context, _: &CheckInfo) -> Verdict {
    let state = match &context.tap.suite.state {
        Some(state) => state.clone(),
        None => context
            .baseline()
            .ok()
            .and_then(|b| b.final_state().cloned())
            .unwrap_or_else(|| serde_json::json!({})),
    };
    let mut args = context.sync_args(None, Some(&state))?;
    args.push("--discover".into());
    let (_, with_state) = discover(context, &args)?;
    let ids = |v: &Value| -> Vec<String> {
        v.get("streams")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("tap_stream_id")?.as_str().map(str::to_owned))
            .collect()
    };
    let (_, plain) = context.discovery()?;
    if ids(plain) == ids(&with_state) {
        Ok(())
    } else {
        Err(fail(format!(
            "with --state the catalog lists streams {:?}, without it {:?}",
            ids(&with_state),
            ids(plain)
        )))
    }
}
