//! The streams: one [`RestStream`] per configured stream, its schema given or inferred from a
//! sample of its first page, its records flattened as tap-rest-api-msdk flattens them.

use std::collections::HashMap;

use serde_json::{Map, Value};
use singer_sdk::rest::{DateWindows, Request, RestClient, RestStream, SinglePage};
use singer_sdk::stream::Context;
use singer_sdk::tap::Streams;
use singer_sdk::{Error, Result};

use crate::client::scalar;
use crate::config::Config;
use crate::flatten::flatten;
use crate::infer::{ensure_fields, infer};
use crate::paginate::{Pagination, ResponseStyle};
use crate::spec::{StreamSpec, missing_parent_fields};

/// How records are shaped after they arrive.
#[derive(Debug, Clone)]
struct Shape {
    flatten: bool,
    raw: bool,
    except_keys: Vec<String>,
}

impl Shape {
    fn apply(&self, record: Value) -> Option<Map<String, Value>> {
        match (self.flatten, record) {
            (true, record @ Value::Object(_)) => {
                Some(flatten(&record, &self.except_keys, self.raw))
            }
            (false, Value::Object(mut map)) => {
                if self.raw {
                    map.insert(
                        crate::flatten::RAW_JSON.to_owned(),
                        Value::Object(map.clone()),
                    );
                }
                Some(map)
            }
            _ => None,
        }
    }
}

/// Builds every stream; schemas not in the config are inferred from a sample (parents first,
/// so a child's sample request fills its placeholders from the parent's first record).
///
/// # Errors
/// A client that cannot be built, a sample request that fails, a parent cycle.
pub(crate) async fn build(
    config: &Config,
    specs: Vec<StreamSpec>,
    pagination: &Pagination,
) -> Result<Streams> {
    let mut clients: HashMap<String, RestClient> = HashMap::new();
    let prefetch = specs.iter().map(|s| s.prefetch).max().unwrap_or(1);
    let in_flight = config.max_concurrency.unwrap_or(1).max(1) * prefetch.max(1);
    let shared = crate::client::Shared::new(config, in_flight);
    for spec in &specs {
        if !clients.contains_key(&spec.api_url) {
            clients.insert(
                spec.api_url.clone(),
                crate::client::build(config, &spec.api_url, &shared)?,
            );
        }
    }
    let mut samples: HashMap<String, Vec<Map<String, Value>>> = HashMap::new();
    let mut schemas: HashMap<String, Value> = HashMap::new();
    let mut pending: Vec<&StreamSpec> = specs.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut waiting = Vec::new();
        for spec in pending {
            let parent_sample = match &spec.parent {
                Some((parent, _)) => match samples.get(parent) {
                    Some(sample) => Some(sample.first()),
                    None => {
                        waiting.push(spec);
                        continue;
                    }
                },
                None => None,
            };
            // A parent's inferred schema says which fields its records have (a given one was
            // checked with the config); before the child's first request.
            if let (Some((parent, _)), Some(Some(_))) = (&spec.parent, parent_sample) {
                let given = specs
                    .iter()
                    .any(|s| s.name == *parent && s.schema.is_some());
                if !given {
                    let which = match samples[parent].len() {
                        1 => "its schema, inferred from one sampled record,".to_owned(),
                        n => format!("its schema, inferred from {n} sampled records,"),
                    };
                    let problems = missing_parent_fields(spec, &schemas[parent], &which);
                    if !problems.is_empty() {
                        return Err(Error::InvalidConfig {
                            violations: problems,
                        });
                    }
                }
            }
            let shape = shape(config, spec);
            let needs_sample = spec.schema.is_none()
                || specs
                    .iter()
                    .any(|s| s.parent.as_ref().is_some_and(|(p, _)| *p == spec.name));
            let sample = match (needs_sample, parent_sample) {
                (false, _) | (true, Some(None)) => Vec::new(),
                (true, Some(Some(parent))) => {
                    sample(
                        &clients[&spec.api_url],
                        spec,
                        pagination,
                        &shape,
                        Some(&context(spec, parent)),
                    )
                    .await?
                }
                (true, None) => {
                    sample(&clients[&spec.api_url], spec, pagination, &shape, None).await?
                }
            };
            let schema = match &spec.schema {
                Some(schema) => schema.clone(),
                None => {
                    let mut schema = infer(&sample);
                    let mut keys: Vec<&str> =
                        spec.primary_keys.iter().map(String::as_str).collect();
                    keys.extend(spec.replication_key.as_deref());
                    if let Some((_, fields)) = &spec.parent {
                        keys.extend(fields.iter().map(String::as_str));
                    }
                    ensure_fields(&mut schema, &keys);
                    schema
                }
            };
            schemas.insert(spec.name.clone(), schema);
            samples.insert(spec.name.clone(), sample);
        }
        if waiting.len() == before {
            return Err(Error::InvalidConfig {
                violations: waiting
                    .iter()
                    .map(|s| format!("stream `{}`: `parent_stream` forms a cycle; a stream cannot be its own ancestor", s.name))
                    .collect(),
            });
        }
        pending = waiting;
    }
    let mut streams = Streams::new();
    for spec in &specs {
        let children: Vec<&StreamSpec> = specs
            .iter()
            .filter(|s| s.parent.as_ref().is_some_and(|(p, _)| *p == spec.name))
            .collect();
        let stream = stream(
            &clients[&spec.api_url],
            spec,
            pagination,
            shape(config, spec),
            schemas.remove(&spec.name).unwrap_or_default(),
            &children,
        )?;
        streams.push(stream);
    }
    Ok(streams.max_concurrency(config.max_concurrency.unwrap_or(1).max(1)))
}

fn shape(config: &Config, spec: &StreamSpec) -> Shape {
    Shape {
        flatten: config.flatten_records.unwrap_or(true),
        raw: config.store_raw_json_message,
        except_keys: spec.except_keys.clone(),
    }
}

/// The base request of a stream: path, params, headers, page size, incremental filters.
fn request(spec: &StreamSpec, pagination: &Pagination) -> Request {
    let mut request = Request::get(spec.path.clone());
    for (name, value) in &spec.params {
        request.set_query(name.as_str(), scalar(value));
    }
    for (name, value) in pagination.base_params() {
        request.set_query(name, value);
    }
    if let Some(key) = &spec.replication_key {
        match (&spec.search, pagination.response) {
            (Some((field, query)), _) => {
                if let Some(start) = &spec.start_date {
                    request.set_query(
                        field.as_str(),
                        query.replace(
                            "$last_run_date",
                            &last_run_date(&Value::from(start.as_str())),
                        ),
                    );
                }
            }
            (None, ResponseStyle::HeaderLink) => {
                if key == "updated_at" {
                    request.set_query("sort", "updated");
                    request.set_query("direction", "asc");
                }
            }
            (None, ResponseStyle::Page | ResponseStyle::Offset) => {
                request.set_query("sort", "asc");
                request.set_query("order_by", key.as_str());
            }
            (None, ResponseStyle::HateoasBody) => {}
        }
    }
    for (name, value) in &spec.headers {
        request = request.header(name.as_str(), scalar(value));
    }
    request
}

/// `$last_run_date`: the bookmark or start date as stored. (tap-rest-api-msdk writes
/// `%Y-%m-%dT%H:%M:%S`, dropping the zone, only when the schema marks the replication key
/// `date-time`; with an inferred schema it sends the value as stored, as here.)
fn last_run_date(start: &Value) -> String {
    scalar(start)
}

/// The first page's records, shaped, at most `num_inference_records` of them.
async fn sample(
    client: &RestClient,
    spec: &StreamSpec,
    pagination: &Pagination,
    shape: &Shape,
    context: Option<&Context>,
) -> Result<Vec<Map<String, Value>>> {
    let mut request = request(spec, pagination);
    if let Some(context) = context {
        request = request.context(context);
    }
    let records = client
        .for_stream(&spec.name)
        .pages(request, SinglePage, spec.records_path.clone())
        .records()
        .await
        .map_err(|e| Error::custom(format!("stream `{}`: cannot fetch the sample the schema is inferred from: {e}; give the stream a `schema` or fix the request", spec.name)))?;
    Ok(records
        .into_iter()
        .filter_map(|r| shape.apply(r))
        .map(|mut record| {
            // A child's records carry the parent's fields: infer their types too.
            for (field, value) in context.into_iter().flatten() {
                record.entry(field.clone()).or_insert_with(|| value.clone());
            }
            record
        })
        .take(spec.num_inference_records.max(1))
        .collect())
}

/// The context a parent record opens for a child: the child's `parent_fields`.
fn context(child: &StreamSpec, parent: &Map<String, Value>) -> Context {
    let mut context = Context::new();
    if let Some((_, fields)) = &child.parent {
        for field in fields {
            if let Some(value) = parent.get(field) {
                context.insert(field.clone(), value.clone());
            }
        }
    }
    context
}

fn stream(
    client: &RestClient,
    spec: &StreamSpec,
    pagination: &Pagination,
    shape: Shape,
    schema: Value,
    children: &[&StreamSpec],
) -> Result<RestStream> {
    let paginator = pagination.paginator(&spec.params, spec.offset_records_jsonpath.as_deref())?;
    let carried: Vec<String> = spec
        .parent
        .as_ref()
        .map(|(_, f)| f.clone())
        .unwrap_or_default();
    let mut stream =
        RestStream::<Map<String, Value>>::new(spec.name.clone(), client, request(spec, pagination))
            .paginator(paginator)
            .selector(spec.records_path.clone())
            .schema(schema)
            .key_properties(spec.primary_keys.clone())
            .prefetch(spec.prefetch)
            .post_process(move |record, cx| {
                let Some(mut record) = shape.apply(record) else {
                    return Ok(None);
                };
                for field in &carried {
                    if let Some(value) = cx.partition().and_then(|p| p.get(field)) {
                        record.entry(field.clone()).or_insert_with(|| value.clone());
                    }
                }
                Ok(Some(Value::Object(record)))
            });
    if let Some(key) = &spec.replication_key {
        stream = stream.replication_key(key.clone());
        if let Some((field, query)) = &spec.search {
            let query = query.clone();
            stream = stream.since_with(field.clone(), move |start| {
                query.replace("$last_run_date", &last_run_date(start))
            });
        } else if pagination.response == ResponseStyle::HeaderLink {
            stream = stream.since("since");
        }
    }
    if let Some(window) = &spec.date_window {
        let mut windows = DateWindows::new(
            window.start_param.clone(),
            window.end_param.clone(),
            chrono::Duration::days(i64::from(window.days.max(1))),
        )
        .lookback(chrono::Duration::hours(i64::from(
            window.lookback_hours.unwrap_or(0),
        )));
        if let Some(format) = &window.format {
            windows = windows.format(format.clone());
        }
        stream = stream.windows(windows);
    }
    if let Some((parent, _)) = &spec.parent {
        stream = stream
            .parent(parent.clone())
            .state_partitioning_keys(Vec::<String>::new());
    }
    if !children.is_empty() {
        // One context per record, with every field any child carries.
        let mut fields: Vec<String> = Vec::new();
        for child in children {
            for field in child.parent.iter().flat_map(|(_, f)| f) {
                if !fields.contains(field) {
                    fields.push(field.clone());
                }
            }
        }
        stream = stream.child_context(move |record, _| {
            fields
                .iter()
                .filter_map(|f| Some((f.clone(), record.get(f)?.clone())))
                .collect()
        });
    }
    Ok(stream)
}
