//! The `_sdc_*` record metadata `add_record_metadata` adds: the columns' schemas and the
//! values stamped on each record as it arrives and when its batch is written.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::time::format_timestamp;

/// The `_sdc_*` columns, with whether each holds a date-time (else an integer).
pub(super) const COLUMNS: [(&str, bool); 7] = [
    (EXTRACTED_AT, true),
    (RECEIVED_AT, true),
    (BATCHED_AT, true),
    (DELETED_AT, true),
    (SEQUENCE, false),
    (TABLE_VERSION, false),
    (SYNC_STARTED_AT, false),
];

const EXTRACTED_AT: &str = "_sdc_extracted_at";
const RECEIVED_AT: &str = "_sdc_received_at";
pub(super) const BATCHED_AT: &str = "_sdc_batched_at";
const DELETED_AT: &str = "_sdc_deleted_at";
const SEQUENCE: &str = "_sdc_sequence";
const TABLE_VERSION: &str = "_sdc_table_version";
const SYNC_STARTED_AT: &str = "_sdc_sync_started_at";

/// Adds the `_sdc_*` columns to a stream's schema.
pub(super) fn add_columns(schema: &mut Value) {
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for (name, is_time) in COLUMNS {
            let column = if is_time {
                json!({"type": ["null", "string"], "format": "date-time"})
            } else {
                json!({"type": ["null", "integer"]})
            };
            properties.insert(name.to_owned(), column);
        }
    }
}

/// Prepares a record as it is received: stamps it (with `add_record_metadata`) or strips the
/// `_sdc_*` columns it brought along.
pub(super) fn receive(
    record: &mut Map<String, Value>,
    add_record_metadata: bool,
    time_extracted: Option<String>,
    version: Option<i64>,
    sync_started_ms: i64,
) {
    if add_record_metadata {
        stamp(record, time_extracted, version, sync_started_ms);
    } else {
        strip(record);
    }
}

/// Stamps a record as it is received; `_sdc_batched_at` is set when its batch is written.
fn stamp(
    record: &mut Map<String, Value>,
    time_extracted: Option<String>,
    version: Option<i64>,
    sync_started_ms: i64,
) {
    let now = Utc::now();
    record.insert(
        EXTRACTED_AT.to_owned(),
        time_extracted.map_or(Value::Null, Value::from),
    );
    record.insert(RECEIVED_AT.to_owned(), Value::from(format_timestamp(now)));
    record.insert(BATCHED_AT.to_owned(), Value::Null);
    record.entry(DELETED_AT).or_insert(Value::Null);
    record.insert(SEQUENCE.to_owned(), Value::from(now.timestamp_millis()));
    record.insert(
        TABLE_VERSION.to_owned(),
        version.map_or(Value::Null, Value::from),
    );
    record.insert(SYNC_STARTED_AT.to_owned(), Value::from(sync_started_ms));
}

/// Removes `_sdc_*` columns a record brought along when metadata is off.
fn strip(record: &mut Map<String, Value>) {
    if record.keys().any(|k| k.starts_with("_sdc_")) {
        for (name, _) in COLUMNS {
            record.shift_remove(name);
        }
    }
}

/// Sets `_sdc_batched_at` on every record of a batch.
pub(super) fn stamp_batch(records: &mut [Map<String, Value>], batched_at: DateTime<Utc>) {
    let at = Value::from(format_timestamp(batched_at));
    for record in records {
        record.insert(BATCHED_AT.to_owned(), at.clone());
    }
}
