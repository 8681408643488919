//! One output stream of one input stream: its schema, key and record transform, built when the
//! input stream's SCHEMA arrives (singer-sdk's `StreamMap` classes).

use std::sync::Mutex;

use serde_json::{Map, Value, json};

use super::config::{Alias, CustomDef, Def};
use super::expr::{AliasBinding, Context, Program, Scope, Source};
use super::faker::Faker;
use super::flatten::{Flattening, flatten_record, flatten_schema};
use super::schema::infer;
use crate::error::{Error, Result};

/// What a map does with records.
#[derive(Debug)]
pub(crate) enum Kind {
    /// Drops the stream.
    Remove,
    /// Passes records through (flattened if enabled).
    Same,
    /// Filters and transforms.
    Custom(Box<Compiled>),
}

/// A custom map, bound to the stream's schema.
#[derive(Debug)]
pub(crate) struct Compiled {
    filter: Option<(Program, String)>,
    keep_unmapped: bool,
    /// Property, bound expression (`None`: drop), expression text.
    properties: Vec<(String, Option<Program>, String)>,
}

/// One output stream.
#[derive(Debug)]
pub(crate) struct StreamMap {
    pub(crate) alias: String,
    pub(crate) stream: String,
    pub(crate) kind: Kind,
    pub(crate) schema: Value,
    pub(crate) key_properties: Vec<String>,
    flattening: Option<Flattening>,
}

/// Shared, read-only inputs of every map's evaluation.
pub(crate) struct Shared<'a> {
    pub(crate) map_config: &'a Map<String, Value>,
    pub(crate) faker: &'a Mutex<Faker>,
    pub(crate) flattening: Option<&'a Flattening>,
}

fn error(alias: &str, message: impl std::fmt::Display) -> Error {
    Error::custom(format!("stream map `{alias}`: {message}"))
}

/// Evaluates an `__alias__` with `__stream_name__` set; text that is not an expression or
/// names anything else is the alias verbatim (as singer-sdk does).
pub(crate) fn resolve_alias(alias: &Alias, stream: &str, shared: &Shared<'_>) -> Result<String> {
    let source = match alias {
        Alias::Literal(text) => return Ok(text.clone()),
        Alias::Expr(source) => source,
    };
    let program = match source.bind_alias() {
        Ok(AliasBinding::Program(p)) => p,
        Ok(AliasBinding::Verbatim) => return Ok(source.text().to_owned()),
        Err(e) => {
            return Err(error(
                stream,
                format_args!("cannot use `__alias__` expression `{}`: {e}", source.text()),
            ));
        }
    };
    let empty = Map::new();
    let cx = Context {
        record: &empty,
        config: shared.map_config,
        stream_name: stream,
        original_stream_name: stream,
        faker: shared.faker,
    };
    match program.eval(&cx) {
        Ok(value) => Ok(value.py_str()),
        Err(e) => Err(error(
            stream,
            format_args!(
                "cannot evaluate `__alias__` expression `{}`: {}",
                source.text(),
                e.0
            ),
        )),
    }
}

impl StreamMap {
    /// A map that passes or drops the stream unchanged.
    pub(crate) fn plain(
        stream: &str,
        remove: bool,
        schema: &Value,
        keys: &[String],
        shared: &Shared<'_>,
    ) -> Result<StreamMap> {
        let flattening = shared.flattening.cloned();
        let schema = match (&flattening, remove) {
            (Some(f), false) => flatten_schema(schema, f).map_err(|e| error(stream, e))?,
            _ => schema.clone(),
        };
        Ok(StreamMap {
            alias: stream.to_owned(),
            stream: stream.to_owned(),
            kind: if remove { Kind::Remove } else { Kind::Same },
            schema,
            key_properties: keys.to_vec(),
            flattening,
        })
    }

    /// Builds the map of config entry `def` for input stream `stream`, output as `alias`.
    pub(crate) fn build(
        alias: String,
        stream: &str,
        def: &Def,
        raw: &Value,
        keys: &[String],
        shared: &Shared<'_>,
    ) -> Result<StreamMap> {
        match def {
            Def::Remove => {
                let mut map = StreamMap::plain(stream, true, raw, &[], shared)?;
                map.alias = alias;
                Ok(map)
            }
            Def::Custom(custom) => build_custom(alias, stream, custom, raw, keys, shared),
        }
    }

    /// Whether the map drops the stream.
    pub(crate) fn is_removed(&self) -> bool {
        matches!(self.kind, Kind::Remove)
    }

    /// Maps one record; `None` when filtered out (or, as in singer-sdk, when it maps to `{}`).
    pub(crate) fn apply(
        &self,
        record: Map<String, Value>,
        shared: &Shared<'_>,
    ) -> Result<Option<Map<String, Value>>> {
        let mapped = match &self.kind {
            Kind::Remove => return Ok(None),
            Kind::Same => record,
            Kind::Custom(c) => match self.transform(c, record, shared)? {
                Some(r) => r,
                None => return Ok(None),
            },
        };
        Ok(Some(
            match (
                &self.flattening,
                self.schema.get("properties").and_then(Value::as_object),
            ) {
                (Some(f), Some(columns)) => flatten_record(mapped, columns, f),
                _ => mapped,
            },
        ))
    }

    fn transform(
        &self,
        c: &Compiled,
        record: Map<String, Value>,
        shared: &Shared<'_>,
    ) -> Result<Option<Map<String, Value>>> {
        let cx = Context {
            record: &record,
            config: shared.map_config,
            stream_name: &self.alias,
            original_stream_name: &self.stream,
            faker: shared.faker,
        };
        if let Some((filter, text)) = &c.filter {
            let keep = filter.eval(&cx).map_err(|e| {
                error(
                    &self.alias,
                    format_args!("cannot evaluate `__filter__` expression `{text}`: {}", e.0),
                )
            })?;
            if !keep.truthy() {
                return Ok(None);
            }
        }
        let mut values = Vec::with_capacity(c.properties.len());
        for (name, program, text) in &c.properties {
            values.push(match program {
                None => None,
                Some(p) => Some(p.eval_json(&cx).map_err(|e| {
                    error(
                        &self.alias,
                        format_args!("property `{name}`: cannot evaluate `{text}`: {}", e.0),
                    )
                })?),
            });
        }
        let mut result = if c.keep_unmapped {
            record
        } else {
            let mut keys = Map::new();
            for key in &self.key_properties {
                if let Some(v) = record.get(key) {
                    keys.insert(key.clone(), v.clone());
                }
            }
            keys
        };
        for ((name, _, _), value) in c.properties.iter().zip(values) {
            match value {
                None => {
                    result.shift_remove(name);
                }
                Some(v) => {
                    result.insert(name.clone(), v);
                }
            }
        }
        Ok(if result.is_empty() {
            None
        } else {
            Some(result)
        })
    }
}

fn build_custom(
    alias: String,
    stream: &str,
    def: &CustomDef,
    raw: &Value,
    keys: &[String],
    shared: &Shared<'_>,
) -> Result<StreamMap> {
    let key_properties = def.key_properties.clone().unwrap_or_else(|| keys.to_vec());
    let raw_properties = raw.get("properties").and_then(Value::as_object);
    let mut schema = if def.keep_unmapped {
        raw.clone()
    } else {
        // singer-sdk's `PropertiesList().to_dict()`; the key properties stay, as its docs promise.
        let mut kept = Map::new();
        for key in &key_properties {
            if let Some(s) = raw_properties.and_then(|p| p.get(key)) {
                kept.insert(key.clone(), s.clone());
            }
        }
        json!({"type": "object", "properties": kept, "$schema": "https://json-schema.org/draft/2020-12/schema"})
    };
    if !schema.is_object() {
        return Err(error(&alias, "the stream's schema is not a JSON object"));
    }
    if schema
        .get("properties")
        .and_then(Value::as_object)
        .is_none()
    {
        schema["properties"] = json!({});
    }
    let filter_scope = Scope::Stream {
        fields: raw_properties,
        self_field: None,
    };
    let bind = |source: &Source, scope: &Scope<'_>, what: &str| {
        source.bind(scope).map_err(|e| {
            error(
                &alias,
                format_args!("{what}: cannot use expression `{}`: {e}", source.text()),
            )
        })
    };
    let filter = match &def.filter {
        Some(source) => Some((
            bind(source, &filter_scope, "`__filter__`")?,
            source.text().to_owned(),
        )),
        None => None,
    };
    let mut properties = Vec::with_capacity(def.properties.len());
    for (name, source) in &def.properties {
        let props = schema
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| error(&alias, "schema has no properties"))?;
        let Some(source) = source else {
            if key_properties.contains(name) {
                return Err(error(
                    &alias,
                    format_args!(
                        "property `{name}`: removing key property `{name}` is not permitted; use `__key_properties__` to set a new key (or null for none)"
                    ),
                ));
            }
            props.shift_remove(name);
            if let Some(Value::Array(required)) = schema.get_mut("required") {
                required.retain(|r| r != name);
            }
            properties.push((name.clone(), None, String::new()));
            continue;
        };
        let existing = props
            .get(name)
            .filter(|s| s.as_object().is_some_and(|o| !o.is_empty()))
            .or_else(|| {
                source
                    .as_name()
                    .and_then(|n| raw_properties.and_then(|p| p.get(n)))
            })
            .cloned();
        props.insert(name.clone(), infer(source.text(), raw, existing.as_ref()));
        let self_field = raw_properties
            .filter(|p| p.contains_key(name))
            .map(|_| name.as_str());
        let scope = Scope::Stream {
            fields: raw_properties,
            self_field,
        };
        let program = bind(source, &scope, &format!("property `{name}`"))?;
        properties.push((name.clone(), Some(program), source.text().to_owned()));
    }
    let columns = schema.get("properties").and_then(Value::as_object);
    for key in &key_properties {
        if !columns.is_some_and(|c| c.contains_key(key)) {
            return Err(error(
                &alias,
                format_args!(
                    "invalid key properties [{}]: property `{key}` is not in the mapped schema; map it or change `__key_properties__`",
                    key_properties.join(",")
                ),
            ));
        }
    }
    let flattening = shared.flattening.cloned();
    if let Some(f) = &flattening {
        schema = flatten_schema(&schema, f).map_err(|e| error(&alias, e))?;
    }
    Ok(StreamMap {
        alias,
        stream: stream.to_owned(),
        kind: Kind::Custom(Box::new(Compiled {
            filter,
            keep_unmapped: def.keep_unmapped,
            properties,
        })),
        schema,
        key_properties,
        flattening,
    })
}
