//! Records as JSON text, for sinks that write JSON (see
//! [`Target::JSON_RECORDS`](crate::target::Target::JSON_RECORDS)).

use serde_json::{Map, Value};

/// A batch's records as JSON lines: each one compact JSON object, keys in the record's order,
/// exactly the bytes `serde_json::to_writer` writes for the record the runtime checked
/// (`_sdc_*` columns included), followed by `\n`.
///
/// The runtime copies a record's input text here as it is when that text already is those
/// bytes, which saves serialising it again; `_sdc_batched_at` is filled in when the batch is
/// written.
///
/// ```
/// use singer_sdk::sink::JsonRecords;
///
/// let mut records = JsonRecords::default();
/// records.push(serde_json::json!({"id": 1, "name": "Zoë"}).as_object().unwrap());
/// let mut out = Vec::new();
/// records.write_to(&mut out);
/// assert_eq!(out, "{\"id\":1,\"name\":\"Zoë\"}\n".as_bytes());
/// assert_eq!(records.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonRecords {
    /// The lines, each with its `_sdc_batched_at` value left out.
    bytes: Vec<u8>,
    /// Where each left-out `_sdc_batched_at` value goes, in order.
    slots: Vec<usize>,
    /// The `_sdc_batched_at` value, as JSON text.
    batched_at: String,
    len: usize,
}

impl JsonRecords {
    /// An empty list with room for `bytes` bytes of lines.
    #[must_use]
    pub fn with_capacity(bytes: usize) -> Self {
        JsonRecords {
            bytes: Vec::with_capacity(bytes),
            ..JsonRecords::default()
        }
    }

    /// The number of records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no records.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The size of the lines in bytes (without the `_sdc_batched_at` values still to fill in).
    #[must_use]
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Appends a record, serialised.
    pub fn push(&mut self, record: &Map<String, Value>) {
        write_record(record, None, &mut self.bytes);
        self.len += 1;
    }

    /// Appends every record's line to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.bytes.len() + self.slots.len() * self.batched_at.len());
        let mut from = 0;
        for &slot in &self.slots {
            out.extend_from_slice(&self.bytes[from..slot]);
            out.extend_from_slice(self.batched_at.as_bytes());
            from = slot;
        }
        out.extend_from_slice(&self.bytes[from..]);
    }

    /// Appends one encoded line (`\n` included) whose `_sdc_batched_at` value, if any, goes at
    /// `slot` (an offset into `line`).
    pub(crate) fn push_line(&mut self, line: &[u8], slot: Option<usize>) {
        if let Some(slot) = slot {
            self.slots.push(self.bytes.len() + slot);
        }
        self.bytes.extend_from_slice(line);
        self.len += 1;
    }

    /// Sets the `_sdc_batched_at` value of every record (as JSON text).
    pub(crate) fn set_batched_at(&mut self, json: String) {
        self.batched_at = json;
    }
}

/// Writes `record` as one compact JSON line, exactly as `serde_json::to_writer` does, except
/// that the value of key `skip` is left out; returns where it goes.
pub(crate) fn write_record(
    record: &Map<String, Value>,
    skip: Option<&str>,
    out: &mut Vec<u8>,
) -> Option<usize> {
    let mut slot = None;
    out.push(b'{');
    for (n, (key, value)) in record.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        slot = slot.or(write_entry(key, value, skip, out));
    }
    out.extend_from_slice(b"}\n");
    slot
}

/// Writes `"key":value`, leaving the value out (and returning where it goes) when `key` is
/// `skip`.
pub(crate) fn write_entry(
    key: &str,
    value: &Value,
    skip: Option<&str>,
    out: &mut Vec<u8>,
) -> Option<usize> {
    // Writing to a Vec cannot fail, and a `Value` always serialises.
    let _ = serde_json::to_writer(&mut *out, key);
    out.push(b':');
    if skip == Some(key) {
        return Some(out.len());
    }
    let _ = serde_json::to_writer(&mut *out, value);
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_are_what_serde_json_writes_with_the_batch_time_filled_in() {
        let record = json!({"a": "x\"y\n", "b": [1.5, null], "_sdc_batched_at": null, "c": {}});
        let record = record.as_object().expect("object");
        let mut line = Vec::new();
        let slot = write_record(record, Some("_sdc_batched_at"), &mut line);
        let mut records = JsonRecords::default();
        records.push_line(&line, slot);
        records.push_line(&line, slot);
        records.set_batched_at("\"T\"".to_owned());
        let mut out = Vec::new();
        records.write_to(&mut out);
        let mut stamped = record.clone();
        stamped.insert("_sdc_batched_at".to_owned(), json!("T"));
        let expected = format!("{}\n", serde_json::to_string(&stamped).expect("json"));
        assert_eq!(String::from_utf8(out).expect("utf-8"), expected.repeat(2));
        assert_eq!(records.len(), 2);
    }
}
