//! Turning records into RECORD lines: straight from the typed record into the output
//! buffer, or through the catalog's field deselection and the stream maps.

use std::collections::HashMap;

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::mapper::Mapper;
use crate::message::{RecordEncoder, RecordMessage};

/// Turns a stream's records into RECORD lines: straight from the typed record, or through
/// the stream maps (which may rename, split, filter or flatten them).
pub(super) struct Output<'a> {
    stream: &'a str,
    version: Option<i64>,
    direct: RecordEncoder,
    mapper: Option<&'a Mapper>,
    mapped: HashMap<String, RecordEncoder>,
}

impl<'a> Output<'a> {
    pub(super) fn new(stream: &'a str, version: Option<i64>, mapper: Option<&'a Mapper>) -> Self {
        Output {
            stream,
            version,
            direct: RecordEncoder::new(stream, version),
            mapper,
            mapped: HashMap::new(),
        }
    }

    /// Appends the line(s) of one record, dropping deselected properties first and adding
    /// the `inject`ed values (a child's partition context) where the record lacks them.
    pub(super) fn record<R: Serialize>(
        &mut self,
        record: &R,
        deselected: &[Vec<String>],
        inject: &[(String, Value)],
        bytes: &mut Vec<u8>,
    ) -> Result<()> {
        if self.mapper.is_none() && deselected.is_empty() && inject.is_empty() {
            return self.direct.encode(record, bytes);
        }
        let mut value = serde_json::to_value(record)?;
        for path in deselected {
            remove_path(&mut value, path);
        }
        if let Value::Object(map) = &mut value {
            for (key, context) in inject {
                if !map.contains_key(key) {
                    map.insert(key.clone(), context.clone());
                }
            }
        }
        let Some(mapper) = self.mapper else {
            return self.direct.encode(&value, bytes);
        };
        let Value::Object(record) = value else {
            return Err(Error::custom(format!(
                "a record of stream `{}` is not a JSON object, so stream maps cannot apply to it",
                self.stream
            )));
        };
        let message = RecordMessage {
            stream: self.stream.to_owned(),
            record,
            version: self.version,
            time_extracted: None,
        };
        for out in mapper.map_record(message)? {
            let version = self.version;
            let encoder = self
                .mapped
                .entry(out.stream)
                .or_insert_with_key(|stream| RecordEncoder::new(stream, version));
            encoder.encode(&out.record, bytes)?;
        }
        Ok(())
    }

    /// Takes a fresh `time_extracted` for the lines that follow.
    pub(super) fn refresh(&mut self) {
        let now = Utc::now();
        self.direct.set_time_extracted(now, self.version);
        for encoder in self.mapped.values_mut() {
            encoder.set_time_extracted(now, self.version);
        }
    }
}

/// Removes the property at `path` (through nested objects) from a record.
fn remove_path(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = value;
    for name in parents {
        match node.get_mut(name) {
            Some(child) => node = child,
            None => return,
        }
    }
    if let Value::Object(map) = node {
        map.shift_remove(last);
    }
}
