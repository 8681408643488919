//! Stream maps and schema flattening: singer-sdk's inline transforms, configured with the
//! built-in settings `stream_maps`, `stream_map_config`, `faker_config` and `flattening_*`.
//!
//! ```
//! use serde_json::json;
//! use singer_sdk::mapper::Mapper;
//! use singer_sdk::message::{RecordMessage, SchemaMessage};
//!
//! let config = json!({"stream_maps": {"users": {
//!     "email_hash": "md5(email)",
//!     "email": "__NULL__",
//!     "__alias__": "customers",
//! }}});
//! let mut mapper = Mapper::from_config(config.as_object().unwrap())?.expect("maps configured");
//!
//! let schema = json!({"type": "object", "properties": {"id": {"type": "integer"}, "email": {"type": "string"}}});
//! let out = mapper.map_schema(SchemaMessage {
//!     stream: "users".into(), schema, key_properties: vec!["id".into()], bookmark_properties: None,
//! })?;
//! assert_eq!(out[0].stream, "customers");
//! assert_eq!(out[0].schema["properties"]["email_hash"], json!({"type": ["string", "null"]}));
//!
//! let record = json!({"id": 1, "email": "alice@example.com"}).as_object().unwrap().clone();
//! let out = mapper.map_record(RecordMessage { stream: "users".into(), record, version: None, time_extracted: None })?;
//! assert_eq!(out[0].record, *json!({"id": 1, "email_hash": "c160f8cc69a4f0bf2b0362752353d060"}).as_object().unwrap());
//! # Ok::<(), singer_sdk::Error>(())
//! ```
//!
//! ## Expressions
//!
//! The Python expression subset singer-sdk evaluates with simpleeval, parsed once at start-up
//! and bound to the stream's schema when its SCHEMA arrives:
//! - literals (numbers, strings in either quote with escapes, f-strings, `True`, `False`,
//!   `None`, lists, tuples, dicts, sets), arithmetic (`+ - * / // % **`, bitwise), chained
//!   comparisons, `and`/`or`/`not`, `x if c else y`, `in`/`not in`/`is`, subscripts and
//!   slices, attributes (a dict's keys too), list/set/dict comprehensions and generators;
//! - names: every schema property, `record` and `_` (the input record), `self` (the
//!   property's input value), `config` (`stream_map_config`), `__stream_name__` (after
//!   aliasing), `__original_stream_name__`, `fake`;
//! - functions: `str int float bool len abs round min max sum sorted any all list tuple dict
//!   set range enumerate zip md5 sha256 rand randint`, `json.dumps/loads`, and
//!   `datetime.datetime(…)/.fromisoformat/.strptime/.now/.utcnow/.fromtimestamp`,
//!   `datetime.date(…)/.fromisoformat/.today`, `datetime.timedelta`, `datetime.timezone.utc`;
//! - methods of `str` (`upper lower strip split replace startswith format join …`), dicts
//!   (`get keys values items`), datetimes (`date timestamp isoformat strftime replace …`) and
//!   `fake.<provider>()` (`name email credit_card_number uuid4 …`, `seed_instance(x)`).
//!
//! Not supported, and reported with the stream map, property and column: `lambda`,
//! assignments and `:=`, starred arguments, `%` string formatting, bytes, complex numbers,
//! and any name, function, method or provider outside these lists.
//!
//! ## Differences from singer-sdk
//!
//! Semantics follow singer-sdk (`singer_sdk/mapper.py`, `docs/stream_maps.md`), with these
//! deliberate differences:
//! - an unknown name, function, method or faker provider is an error when the stream's
//!   SCHEMA arrives, not per record;
//! - a property the schema declares but a record lacks reads as `None` (singer-sdk fails the
//!   record);
//! - with `__else__: null`, the key properties keep their schema (singer-sdk keeps their
//!   values but not their schema, and then rejects the key);
//! - maps apply to the records of BATCH files too ([`Mapper::map_batch_record`]);
//! - `fake` values have Faker's shapes, not its exact values;
//! - a stream map that matches no stream is reported by [`Mapper::finish`] (a warning) at the
//!   end of the input.

mod config;
mod expr;
mod faker;
mod flatten;
mod inline;
mod options;
mod schema;
mod stream_map;

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::message::{ActivateVersionMessage, BatchMessage, RecordMessage, SchemaMessage};
pub use inline::{InlineMapper, transform};
pub use options::MapOptions;

use config::{Config, Def, glob_match};
use faker::Faker;
use stream_map::{Shared, StreamMap, resolve_alias};

/// The JSON Schemas of the settings the mapper reads, as a `properties` object to merge into
/// a connector's settings schema (singer-sdk's titles and descriptions).
///
/// ```
/// let settings = singer_sdk::mapper::builtin_settings();
/// assert!(settings["stream_maps"]["additionalProperties"].is_object());
/// assert_eq!(settings["flattening_max_depth"]["type"], serde_json::json!(["integer", "null"]));
/// ```
#[must_use]
pub fn builtin_settings() -> Value {
    MapOptions::settings()
}

/// Stream maps and flattening, compiled once from the config.
///
/// Feed it every SCHEMA ([`map_schema`](Mapper::map_schema)) before the stream's records
/// ([`map_record`](Mapper::map_record)); each input message becomes zero or more output
/// messages (a removed stream has none, a `__source__` map adds one). Call
/// [`finish`](Mapper::finish) at the end of the input to warn about maps that named no stream.
#[derive(Debug)]
pub struct Mapper {
    config: Config,
    faker: Mutex<Faker>,
    streams: HashMap<String, Registered>,
    matched: Vec<bool>,
}

#[derive(Debug)]
struct Registered {
    schema: Value,
    key_properties: Vec<String>,
    maps: Vec<StreamMap>,
}

impl Mapper {
    /// Reads `stream_maps`, `stream_map_config`, `faker_config`, `flattening_enabled`,
    /// `flattening_max_depth`, `flattening_max_key_length` and `flattening_separator`, parsing
    /// every expression.
    ///
    /// Returns `None` when there is nothing to do (no maps, flattening off or at depth 0), so
    /// callers keep their fast path.
    ///
    /// ```
    /// use serde_json::json;
    /// use singer_sdk::mapper::Mapper;
    ///
    /// assert!(Mapper::from_config(json!({"stream_maps": {}}).as_object().unwrap())?.is_none());
    /// let err = Mapper::from_config(json!({"stream_maps": {"users": {"x": "lambda: 1"}}}).as_object().unwrap()).unwrap_err();
    /// assert!(err.to_string().contains("stream_maps.users.x"));
    /// # Ok::<(), singer_sdk::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] listing every problem: a malformed map, an expression that does
    /// not parse or uses an unsupported construct (each naming the stream map, property and
    /// construct), `flattening_enabled` without `flattening_max_depth`.
    pub fn from_config(config: &Map<String, Value>) -> Result<Option<Mapper>> {
        let options = MapOptions::from_config(config)?;
        let config =
            config::parse(&options).map_err(|violations| Error::InvalidConfig { violations })?;
        if config.entries.is_empty() && !config.drop_unmapped_streams && config.flattening.is_none()
        {
            return Ok(None);
        }
        Ok(Some(Mapper {
            faker: Mutex::new(Faker::new(config.faker_seed)),
            matched: vec![false; config.entries.len()],
            streams: HashMap::new(),
            config,
        }))
    }

    fn shared(&self) -> Shared<'_> {
        Shared {
            map_config: &self.config.map_config,
            faker: &self.faker,
            flattening: self.config.flattening.as_ref(),
        }
    }

    /// Maps a SCHEMA: one message per output stream (none when the stream is removed),
    /// with mapped and flattened schemas and keys. A SCHEMA sent again with the same schema
    /// and key reuses the compiled maps.
    ///
    /// # Errors
    /// A map that does not fit the schema, naming the stream map and property: an expression
    /// using an unknown name, function or method; `__key_properties__` naming a property the
    /// mapped schema lacks; dropping a key property; a flattening collision.
    pub fn map_schema(&mut self, message: SchemaMessage) -> Result<Vec<SchemaMessage>> {
        let SchemaMessage {
            stream,
            schema,
            key_properties,
            bookmark_properties,
        } = message;
        let reuse = self
            .streams
            .get(&stream)
            .is_some_and(|r| r.schema == schema && r.key_properties == key_properties);
        if !reuse {
            let (maps, matched) = self.build_maps(&stream, &schema, &key_properties)?;
            for k in matched {
                self.matched[k] = true;
            }
            let registered = Registered {
                schema,
                key_properties,
                maps,
            };
            self.streams.insert(stream.clone(), registered);
        }
        let maps = self.streams.get(&stream).map_or(&[][..], |r| &r.maps[..]);
        Ok(maps
            .iter()
            .filter(|m| !m.is_removed())
            .map(|m| SchemaMessage {
                stream: m.alias.clone(),
                schema: m.schema.clone(),
                key_properties: m.key_properties.clone(),
                bookmark_properties: bookmark_properties.clone(),
            })
            .collect())
    }

    /// The maps of one stream, primary first, and which config entries matched it.
    fn build_maps(
        &self,
        stream: &str,
        schema: &Value,
        keys: &[String],
    ) -> Result<(Vec<StreamMap>, Vec<usize>)> {
        let shared = self.shared();
        let mut maps = vec![StreamMap::plain(
            stream,
            self.config.drop_unmapped_streams,
            schema,
            keys,
            &shared,
        )?];
        let mut matched = Vec::new();
        for (k, entry) in self.config.entries.iter().enumerate() {
            let Some(alias) = self.alias_of(k, stream)? else {
                continue;
            };
            matched.push(k);
            let map = StreamMap::build(alias, stream, &entry.def, schema, keys, &shared)?;
            if entry.sourced {
                maps.push(map);
            } else {
                maps[0] = map;
            }
        }
        Ok((maps, matched))
    }

    /// The output name entry `k` gives `stream`, or `None` when it does not apply.
    fn alias_of(&self, k: usize, stream: &str) -> Result<Option<String>> {
        let entry = &self.config.entries[k];
        let mut alias = match &entry.def {
            Def::Custom(c) if !entry.sourced => match &c.alias {
                Some(a) => resolve_alias(a, stream, &self.shared())?,
                None => entry.key.clone(),
            },
            _ => entry.key.clone(),
        };
        if stream != entry.source {
            if !glob_match(&entry.source, stream) {
                return Ok(None);
            }
            if alias == entry.source {
                stream.clone_into(&mut alias);
            }
        }
        Ok(Some(alias))
    }

    /// Output stream names of `stream`, from its registered maps or (before its SCHEMA) from
    /// the config alone.
    fn aliases(&self, stream: &str) -> Vec<String> {
        if let Some(r) = self.streams.get(stream) {
            return r
                .maps
                .iter()
                .filter(|m| !m.is_removed())
                .map(|m| m.alias.clone())
                .collect();
        }
        let mut out: Vec<Option<String>> =
            vec![(!self.config.drop_unmapped_streams).then(|| stream.to_owned())];
        for (k, entry) in self.config.entries.iter().enumerate() {
            let alias = match self.alias_of(k, stream) {
                Ok(Some(a)) => a,
                Ok(None) => continue,
                Err(_) => entry.key.clone(),
            };
            let alias = (!matches!(entry.def, Def::Remove)).then_some(alias);
            if entry.sourced {
                out.push(alias);
            } else {
                out[0] = alias;
            }
        }
        out.into_iter().flatten().collect()
    }

    /// Maps a RECORD: one message per output stream whose filter keeps it.
    ///
    /// # Errors
    /// A record for a stream whose SCHEMA was never mapped, or an expression failing on this
    /// record (naming the stream map, property and Python error).
    pub fn map_record(&self, message: RecordMessage) -> Result<Vec<RecordMessage>> {
        let RecordMessage {
            stream,
            record,
            version,
            time_extracted,
        } = message;
        Ok(self
            .map_batch_record(&stream, record)?
            .into_iter()
            .map(|(stream, record)| RecordMessage {
                stream,
                record,
                version,
                time_extracted: time_extracted.clone(),
            })
            .collect())
    }

    /// Maps one record read from a BATCH file of input stream `stream`: `(output stream,
    /// record)` pairs, as [`map_record`](Mapper::map_record) would produce. A target reading
    /// the files of a BATCH for `stream` routes each pair to its output stream.
    ///
    /// ```
    /// use serde_json::json;
    /// use singer_sdk::mapper::Mapper;
    /// use singer_sdk::message::SchemaMessage;
    ///
    /// let config = json!({"stream_maps": {
    ///     "big_orders": {"__source__": "orders", "__filter__": "total > 100"},
    ///     "typo_stream": {"x": "1"},
    /// }});
    /// let mut mapper = Mapper::from_config(config.as_object().unwrap())?.unwrap();
    /// let schema = json!({"type": "object", "properties": {"id": {"type": "integer"}, "total": {"type": "number"}}});
    /// mapper.map_schema(SchemaMessage { stream: "orders".into(), schema, key_properties: vec![], bookmark_properties: None })?;
    ///
    /// let record = json!({"id": 7, "total": 250.0}).as_object().unwrap().clone();
    /// let routed: Vec<String> = mapper.map_batch_record("orders", record)?.into_iter().map(|(s, _)| s).collect();
    /// assert_eq!(routed, ["orders", "big_orders"]);
    /// assert_eq!(mapper.finish(), ["typo_stream"]); // also logged as a warning
    /// # Ok::<(), singer_sdk::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`map_record`](Mapper::map_record).
    pub fn map_batch_record(
        &self,
        stream: &str,
        record: Map<String, Value>,
    ) -> Result<Vec<(String, Map<String, Value>)>> {
        let Some(registered) = self.streams.get(stream) else {
            return Err(Error::custom(format!(
                "stream map: RECORD for stream `{stream}` arrived before its SCHEMA; the mapper needs the SCHEMA first"
            )));
        };
        let shared = self.shared();
        let live: Vec<&StreamMap> = registered.maps.iter().filter(|m| !m.is_removed()).collect();
        let mut out = Vec::with_capacity(live.len());
        let mut record = Some(record);
        for (k, map) in live.iter().enumerate() {
            let input = if k + 1 == live.len() {
                record.take().unwrap_or_default()
            } else {
                record.clone().unwrap_or_default()
            };
            if let Some(mapped) = map.apply(input, &shared)? {
                out.push((map.alias.clone(), mapped));
            }
        }
        Ok(out)
    }

    /// Maps an ACTIVATE_VERSION: one per output stream.
    #[must_use]
    pub fn map_activate_version(
        &self,
        message: ActivateVersionMessage,
    ) -> Vec<ActivateVersionMessage> {
        let ActivateVersionMessage { stream, version } = message;
        self.aliases(&stream)
            .into_iter()
            .map(|stream| ActivateVersionMessage { stream, version })
            .collect()
    }

    /// Maps a BATCH message: one per output stream, with the same files (only the stream name
    /// changes; map the files' records with [`map_batch_record`](Mapper::map_batch_record)).
    #[must_use]
    pub fn map_batch(&self, message: BatchMessage) -> Vec<BatchMessage> {
        let BatchMessage {
            stream,
            encoding,
            manifest,
        } = message;
        let aliases = self.aliases(&stream);
        let last = aliases.len().saturating_sub(1);
        let (mut encoding, mut manifest) = (Some(encoding), Some(manifest));
        aliases
            .into_iter()
            .enumerate()
            .map(|(k, stream)| {
                let (encoding, manifest) = if k == last {
                    (
                        encoding.take().unwrap_or_default(),
                        manifest.take().unwrap_or_default(),
                    )
                } else {
                    (
                        encoding.clone().unwrap_or_default(),
                        manifest.clone().unwrap_or_default(),
                    )
                };
                BatchMessage {
                    stream,
                    encoding,
                    manifest,
                }
            })
            .collect()
    }

    /// Whether every output of `stream` is removed, so a tap can skip syncing it.
    #[must_use]
    pub fn excludes_stream(&self, stream: &str) -> bool {
        self.aliases(stream).is_empty()
    }

    /// Stream map keys (or `__source__` patterns) that matched no stream whose SCHEMA was
    /// mapped so far.
    #[must_use]
    pub fn unmatched_maps(&self) -> Vec<&str> {
        self.config
            .entries
            .iter()
            .zip(&self.matched)
            .filter(|(_, matched)| !**matched)
            .map(|(e, _)| e.source.as_str())
            .collect()
    }

    /// Call at the end of the input: logs a warning for each stream map that named no stream
    /// (a typo in `stream_maps` would otherwise go unnoticed) and returns their names.
    pub fn finish(&self) -> Vec<&str> {
        let unmatched = self.unmatched_maps();
        for name in &unmatched {
            tracing::warn!(stream_map = %name, "Stream map matched no stream; check the stream name in `stream_maps`.");
        }
        unmatched
    }
}

#[cfg(test)]
mod tests;
