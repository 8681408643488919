//! Checks the settings and resolves each stream's effective settings (stream over top level),
//! so every mistake is reported at once, naming the stream and setting, before any request.

use std::collections::HashSet;

use serde_json::{Map, Value};
use singer_sdk::Error;
use singer_sdk::rest::Selector;

use crate::config::{Common, Config, DateWindow, StreamConfig};
use crate::paginate::{Pagination, RequestStyle, ResponseStyle};

/// tap-rest-api-msdk's default for `num_inference_records`.
const DEFAULT_INFERENCE_RECORDS: usize = 50;

/// One stream's resolved settings.
#[derive(Debug, Clone)]
pub(crate) struct StreamSpec {
    pub(crate) name: String,
    pub(crate) api_url: String,
    pub(crate) path: String,
    pub(crate) params: Map<String, Value>,
    pub(crate) headers: Map<String, Value>,
    pub(crate) records_path: Selector,
    pub(crate) primary_keys: Vec<String>,
    pub(crate) replication_key: Option<String>,
    pub(crate) except_keys: Vec<String>,
    pub(crate) num_inference_records: usize,
    /// The schema given in the config (inline or read from its file).
    pub(crate) schema: Option<Value>,
    pub(crate) start_date: Option<String>,
    /// `source_search_field` and `source_search_query`.
    pub(crate) search: Option<(String, String)>,
    /// The parent stream and the fields carried from its records.
    pub(crate) parent: Option<(String, Vec<String>)>,
    pub(crate) prefetch: usize,
    pub(crate) date_window: Option<DateWindow>,
    /// For `simple_offset_paginator` (checked).
    pub(crate) offset_records_jsonpath: Option<String>,
}

/// Every stream's settings, checked.
///
/// # Errors
/// [`Error::InvalidConfig`] listing every problem.
pub(crate) fn resolve(config: &Config) -> Result<(Vec<StreamSpec>, Pagination), Error> {
    let mut problems = Vec::new();
    let pagination = pagination(config, &mut problems);
    if config.use_request_body_not_params {
        problems.push("`use_request_body_not_params: true` is not supported; remove it (parameters are sent in the query)".to_owned());
    }
    if config.streams.is_empty() {
        problems.push(
            "`streams` is empty; add at least one stream, e.g. `[{\"name\": \"users\", \"path\": \"/users\"}]`"
                .to_owned(),
        );
    }
    let mut names = HashSet::new();
    let mut specs = Vec::new();
    for stream in &config.streams {
        if !names.insert(stream.name.as_str()) {
            problems.push(format!(
                "stream `{}` is defined twice in `streams`; give each stream its own name",
                stream.name
            ));
        }
        if let Some(spec) = resolve_stream(config, stream, &mut problems) {
            specs.push(spec);
        }
    }
    for spec in &specs {
        if let Some((parent, _)) = &spec.parent {
            if !names.contains(parent.as_str()) {
                problems.push(format!(
                    "stream `{}`: `parent_stream` names `{parent}`, which is not in `streams`; use one of: {}",
                    spec.name,
                    quoted(config.streams.iter().map(|s| s.name.as_str()))
                ));
            }
            // A parent's given schema says which fields its records have.
            if let Some(schema) = specs
                .iter()
                .find(|s| s.name == *parent)
                .and_then(|s| s.schema.as_ref())
            {
                problems.extend(missing_parent_fields(spec, schema, "its `schema`"));
            }
        }
    }
    if problems.is_empty() {
        Ok((specs, pagination))
    } else {
        Err(Error::InvalidConfig {
            violations: problems,
        })
    }
}

/// `a`, `b`, `c`
pub(crate) fn quoted<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values
        .into_iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that `value` of `setting` is one of `allowed`.
pub(crate) fn choice<'a>(
    setting: &str,
    value: Option<&'a str>,
    default: &'a str,
    allowed: &[&str],
    problems: &mut Vec<String>,
) -> &'a str {
    let value = value.unwrap_or(default);
    if !allowed.contains(&value) {
        problems.push(format!(
            "`{setting}` is `{value}`, which is not a known choice; use one of: {}",
            quoted(allowed.iter().copied())
        ));
    }
    value
}

fn pagination(config: &Config, problems: &mut Vec<String>) -> Pagination {
    let request = choice(
        "pagination_request_style",
        config.pagination_request_style.as_deref(),
        "default",
        RequestStyle::NAMES,
        problems,
    );
    let response = choice(
        "pagination_response_style",
        config.pagination_response_style.as_deref(),
        "default",
        ResponseStyle::NAMES,
        problems,
    );
    let mut check_path = |setting: &str, path: &Option<String>| {
        if let Some(path) = path {
            if let Err(e) = Selector::new(path) {
                problems.push(format!(
                    "`{setting}` `{path}` is not a JSONPath ({e}); write it like `$.meta.next`"
                ));
            }
        }
    };
    check_path("next_page_token_path", &config.next_page_token_path);
    check_path(
        "offset_records_jsonpath",
        &config.defaults.offset_records_jsonpath,
    );
    Pagination {
        request: RequestStyle::parse(request),
        response: ResponseStyle::parse(response),
        next_page_token_path: config.next_page_token_path.clone(),
        page_size: config.pagination_page_size,
        results_limit: config.pagination_results_limit,
        next_page_param: config.pagination_next_page_param.clone(),
        limit_param: config.pagination_limit_per_page_param.clone(),
        total_param: config
            .pagination_total_limit_param
            .clone()
            .unwrap_or_else(|| "total".to_owned()),
        initial_offset: config.pagination_initial_offset.unwrap_or(1),
    }
}

fn resolve_stream(
    config: &Config,
    stream: &StreamConfig,
    problems: &mut Vec<String>,
) -> Option<StreamSpec> {
    let (top, own) = (&config.defaults, &stream.common);
    let name = &stream.name;
    let pick = |f: fn(&Common) -> &Option<String>| f(own).clone().or_else(|| f(top).clone());
    let merged = |f: fn(&Common) -> &Option<Map<String, Value>>| {
        let mut map = f(top).clone().unwrap_or_default();
        map.extend(f(own).clone().unwrap_or_default());
        map
    };
    let records_path = pick(|c| &c.records_path).unwrap_or_else(|| "$[*]".to_owned());
    let selector = match Selector::new(&records_path) {
        Ok(selector) => Some(selector),
        Err(e) => {
            problems.push(format!(
                "stream `{name}`: `records_path` `{records_path}` is not a JSONPath ({e}); write it like `$.data[*]`"
            ));
            None
        }
    };
    let schema = match &stream.schema {
        None | Some(Value::Null) => None,
        Some(Value::String(file)) => match read_schema(file) {
            Ok(schema) => Some(schema),
            Err(e) => {
                problems.push(format!("stream `{name}`: `schema` {e}"));
                None
            }
        },
        Some(Value::Object(schema)) => Some(Value::Object(schema.clone())),
        Some(_) => {
            problems.push(format!(
                "stream `{name}`: `schema` must be a JSON Schema object or the path of a `.json` file"
            ));
            None
        }
    };
    let path = pick(|c| &c.path).unwrap_or_default();
    let placeholders = placeholders(&path);
    let parent = match &stream.parent_stream {
        Some(parent) => {
            let fields = stream
                .parent_fields
                .clone()
                .unwrap_or_else(|| placeholders.clone());
            for missing in placeholders.iter().filter(|p| !fields.contains(p)) {
                problems.push(format!(
                    "stream `{name}`: `path` placeholder `{{{missing}}}` is not among `parent_fields`; add it to `parent_fields`"
                ));
            }
            Some((parent.clone(), fields))
        }
        None => {
            if let Some(first) = placeholders.first() {
                problems.push(format!(
                    "stream `{name}`: `path` has the placeholder `{{{first}}}` but no `parent_stream` fills it; set `parent_stream` to the stream whose records carry `{first}`"
                ));
            }
            None
        }
    };
    let search = match (
        pick(|c| &c.source_search_field),
        pick(|c| &c.source_search_query),
    ) {
        (Some(field), Some(query)) if !field.is_empty() && !query.is_empty() => {
            Some((field, query))
        }
        _ => None,
    };
    let inference = own
        .num_inference_records
        .or(top.num_inference_records)
        .map_or(DEFAULT_INFERENCE_RECORDS, |n| {
            if n.is_finite() && n >= 0.0 {
                // Counts are small and whole; truncation is the intent.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = n as usize;
                n
            } else {
                problems.push(format!(
                    "stream `{name}`: `num_inference_records` must be a count of records, not `{n}`"
                ));
                DEFAULT_INFERENCE_RECORDS
            }
        });
    if let Some(path) = &own.offset_records_jsonpath {
        if let Err(e) = Selector::new(path) {
            problems.push(format!(
                "stream `{name}`: `offset_records_jsonpath` `{path}` is not a JSONPath ({e}); write it like `$.data`"
            ));
        }
    }
    let date_window = own.date_window.clone().or_else(|| top.date_window.clone());
    let replication_key = pick(|c| &c.replication_key).filter(|k| !k.is_empty());
    if date_window.is_some() && replication_key.is_none() {
        problems.push(format!(
            "stream `{name}`: `date_window` needs a `replication_key` (windows start at the bookmark); add one or remove `date_window`"
        ));
    }
    Some(StreamSpec {
        name: name.clone(),
        api_url: stream
            .api_url
            .clone()
            .unwrap_or_else(|| config.api_url.clone()),
        path,
        params: merged(|c| &c.params),
        headers: merged(|c| &c.headers),
        records_path: selector?,
        primary_keys: own
            .primary_keys
            .clone()
            .or_else(|| top.primary_keys.clone())
            .unwrap_or_default(),
        replication_key,
        except_keys: own
            .except_keys
            .clone()
            .or_else(|| top.except_keys.clone())
            .unwrap_or_default(),
        num_inference_records: inference,
        schema,
        start_date: pick(|c| &c.start_date).filter(|d| !d.is_empty()),
        search,
        parent,
        prefetch: own.prefetch.or(top.prefetch).unwrap_or(1),
        date_window,
        offset_records_jsonpath: pick(|c| &c.offset_records_jsonpath),
    })
}

/// The fields `child` takes from its parent's records (placeholders of its `path`, and
/// `parent_fields`) that the parent's `schema` lacks, each as a problem naming the setting.
/// A schema without properties says nothing, so nothing is missing.
pub(crate) fn missing_parent_fields(
    child: &StreamSpec,
    schema: &Value,
    which: &str,
) -> Vec<String> {
    let Some((parent, fields)) = &child.parent else {
        return Vec::new();
    };
    let Some(properties) = schema
        .get("properties")
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty())
    else {
        return Vec::new();
    };
    let known = quoted(properties.keys().map(String::as_str));
    let in_path = placeholders(&child.path);
    fields
        .iter()
        .filter(|field| !properties.contains_key(field.as_str()))
        .map(|field| {
            let (setting, fix) = if in_path.contains(field) {
                (format!("`path` placeholder `{{{field}}}`"), "the placeholder")
            } else {
                (format!("`parent_fields` entry `{field}`"), "`parent_fields`")
            };
            format!(
                "stream `{}`: {setting} is not a field of parent stream `{parent}` ({which} has {known}); fix {fix}",
                child.name
            )
        })
        .collect()
}

/// The `{name}` placeholders of a path, in order.
pub(crate) fn placeholders(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        if !name.is_empty() && !out.iter().any(|n: &String| n == name) {
            out.push(name.to_owned());
        }
        rest = &rest[start + len + 1..];
    }
    out
}

fn read_schema(file: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        format!("file `{file}` cannot be read ({e}); fix the path or give the schema inline")
    })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(schema @ Value::Object(_)) => Ok(schema),
        Ok(_) => Err(format!("file `{file}` is not a JSON Schema object")),
        Err(e) => Err(format!(
            "file `{file}` is not valid JSON ({e}); fix the file"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_are_found_in_order_once() {
        assert_eq!(
            placeholders("/customers/{customer_id}/orders/{order}/{customer_id}"),
            ["customer_id", "order"]
        );
        assert!(placeholders("/plain").is_empty());
        assert!(placeholders("/broken/{open").is_empty());
    }
}
