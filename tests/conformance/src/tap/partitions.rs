//! Parent/child streams: singer-sdk keeps a child stream's bookmarks per parent record, as
//! `bookmarks.<stream>.partitions: [{"context": {...}, ...}]`.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use super::Context;
use crate::check::{Check, CheckInfo, Verdict, fail, skip};
use crate::json;

pub(super) const CHECKS: &[Check<Context>] = &[Check::new(
    "tap.state.partitions",
    "in the final STATE of a clean sync, every `bookmarks.<stream>.partitions` is a list of objects each with a non-empty object `context`; the contexts of a stream have the same keys and no two are equal (one partition per parent record or partition)",
    "singer-sdk state partitioning (partitioning.md, `state_partitioning_keys`): a resumed child stream finds its bookmark by context; a partition without a context, or two for one parent record, resumes the wrong one",
    partitions,
)];

fn partitions(context: &Context, _: &CheckInfo) -> Verdict {
    let output = context.baseline()?;
    let Some(Value::Object(bookmarks)) = output.final_state().and_then(|s| s.get("bookmarks"))
    else {
        return Err(skip("the final STATE has no `bookmarks` object"));
    };
    let mut any = false;
    for (stream, bookmark) in bookmarks {
        let Some(partitions) = bookmark.get("partitions") else {
            continue;
        };
        any = true;
        check_stream(stream, partitions)?;
    }
    if any {
        Ok(())
    } else {
        Err(skip(
            "no stream's bookmark has `partitions` (no parent/child streams)",
        ))
    }
}

fn check_stream(stream: &str, partitions: &Value) -> Verdict {
    let at = format!("`bookmarks.{stream}.partitions`");
    let Value::Array(partitions) = partitions else {
        return Err(fail(format!("{at} is not a list")));
    };
    let mut keys: Option<BTreeSet<&str>> = None;
    let mut seen = HashSet::new();
    for (i, partition) in partitions.iter().enumerate() {
        let context = match partition.get("context") {
            Some(Value::Object(c)) if !c.is_empty() => c,
            _ => {
                return Err(fail(format!(
                    "{at}[{i}] has no non-empty object `context`: {}",
                    json::excerpt(&partition.to_string())
                )));
            }
        };
        let these: BTreeSet<&str> = context.keys().map(String::as_str).collect();
        match &keys {
            Some(first) if *first != these => {
                return Err(fail(format!(
                    "{at}[{i}] has context keys {these:?}, the first partition {first:?}"
                )));
            }
            Some(_) => {}
            None => keys = Some(these),
        }
        let text = json::canonical(&Value::Object(context.clone()));
        if !seen.insert(text.clone()) {
            return Err(fail(format!(
                "{at}[{i}] repeats context {text}: one partition per parent record"
            )));
        }
    }
    Ok(())
}
