//! Catalog selection: deselected streams and fields disappear from RECORD and SCHEMA messages,
//! `automatic` fields stay.

use std::collections::HashSet;

use crate::catalog::{Catalog, keys};
use serde_json::Value;

use super::catalog::{inclusion, metadata_mut, property_names, set_stream_selected};
use super::{Context, Msg, Output};

use crate::check::{Check, CheckInfo, Outcome, Verdict, fail, skip};

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "tap.selection.stream",
        "after deselecting one stream in the catalog (`selected: false`), the sync emits no SCHEMA and no RECORD for it",
        "Singer spec (SYNC_MODE.md): replicate a stream only if selected; Meltano's select rules rely on it",
        stream,
    ),
    Check::new(
        "tap.selection.field",
        "after deselecting one `available` non-key field per stream, it is absent from that stream's RECORDs and SCHEMA",
        "Singer spec field selection (TAP_SUBMISSION_REQUIREMENTS.md); singer-sdk filters both RECORD and SCHEMA",
        field,
    ),
    Check::new(
        "tap.selection.automatic-field",
        "fields with `inclusion: automatic` are still emitted when the catalog says `selected: false` for them",
        "Singer spec: automatic fields are always replicated; Meltano writes `selected: false` on them under narrow select rules",
        automatic_field,
    ),
];

fn stream(context: &Context, _: &CheckInfo) -> Verdict {
    let mut catalog = context.catalog()?.clone();
    let Some(entry) = catalog.streams.iter_mut().find(|e| e.is_selected()) else {
        return Err(skip("no selected stream to deselect"));
    };
    set_stream_selected(entry, false);
    let name = entry.stream_name().to_owned();
    let output = context.sync(Some(&catalog), None)?;
    output.require_success("with one stream deselected")?;
    for (n, message) in output.messages() {
        let found = match message {
            Msg::Schema { stream, .. } | Msg::Record { stream, .. } => stream == &name,
            _ => false,
        };
        if found {
            return Err(fail(format!(
                "line {n}: deselected stream `{name}` is still emitted"
            )));
        }
    }
    Ok(())
}

/// The catalog of the field run: per stream, one available field deselected and every
/// automatic field marked `selected: false`.
pub(super) struct FieldPlan {
    catalog: Catalog,
    deselected: Vec<(String, String)>,
    automatic: Vec<(String, String)>,
}

fn plan(context: &Context) -> Result<FieldPlan, Outcome> {
    let baseline = context.baseline()?;
    let seen: HashSet<(String, String)> = baseline
        .records()
        .flat_map(|(_, s, r)| r.keys().map(move |k| (s.to_owned(), k.clone())))
        .collect();
    let mut catalog = context.catalog()?.clone();
    let (mut deselected, mut automatic) = (Vec::new(), Vec::new());
    for entry in catalog.streams.iter_mut().filter(|e| e.is_selected()) {
        let name = entry.stream_name().to_owned();
        let mut protected: Vec<String> = entry.key_properties().unwrap_or_default();
        protected.extend(entry.replication_key().map(str::to_owned));
        let fields = property_names(entry);
        let candidate = fields.iter().find(|f| {
            inclusion(entry, f) != Some("automatic")
                && inclusion(entry, f) != Some("unsupported")
                && !protected.contains(f)
                && seen.contains(&(name.clone(), (*f).clone()))
        });
        if let Some(f) = candidate.cloned() {
            metadata_mut(entry, &["properties", &f])
                .insert(keys::SELECTED.to_owned(), false.into());
            deselected.push((name.clone(), f));
        }
        let automatic_fields: Vec<String> = fields
            .into_iter()
            .filter(|f| inclusion(entry, f) == Some("automatic"))
            .collect();
        for f in automatic_fields {
            metadata_mut(entry, &["properties", &f])
                .insert(keys::SELECTED.to_owned(), false.into());
            if seen.contains(&(name.clone(), f.clone())) {
                automatic.push((name.clone(), f));
            }
        }
    }
    Ok(FieldPlan {
        catalog,
        deselected,
        automatic,
    })
}

fn field_run(context: &Context) -> Result<&(FieldPlan, Output), Outcome> {
    context
        .field_run
        .get_or_init(|| {
            let plan = plan(context)?;
            let output = context.sync(Some(&plan.catalog), None)?;
            Ok((plan, output))
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn field(context: &Context, _: &CheckInfo) -> Verdict {
    let (plan, output) = field_run(context)?;
    if plan.deselected.is_empty() {
        return Err(skip(
            "no stream has an `available` non-key field with data to deselect",
        ));
    }
    output.require_success("with fields deselected")?;
    for (n, message) in output.messages() {
        for (stream, field) in &plan.deselected {
            let leaked = match message {
                Msg::Record {
                    stream: s, record, ..
                } if s == stream => record.contains_key(field),
                Msg::Schema {
                    stream: s, schema, ..
                } if s == stream => schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.contains_key(field)),
                _ => false,
            };
            if leaked {
                let kind = if matches!(message, Msg::Record { .. }) {
                    "RECORD"
                } else {
                    "SCHEMA"
                };
                return Err(fail(format!(
                    "line {n}: deselected field `{stream}.{field}` is still in the {kind}"
                )));
            }
        }
    }
    Ok(())
}

fn automatic_field(context: &Context, _: &CheckInfo) -> Verdict {
    let (plan, output) = field_run(context)?;
    if plan.automatic.is_empty() {
        return Err(skip("no stream has an `automatic` field with data"));
    }
    output.require_success("with automatic fields marked `selected: false`")?;
    for (n, stream, record) in output.records() {
        for (s, field) in &plan.automatic {
            if s == stream && !record.contains_key(field) {
                return Err(fail(format!(
                    "line {n}: automatic field `{stream}.{field}` was dropped because the catalog says `selected: false`"
                )));
            }
        }
    }
    Ok(())
}
