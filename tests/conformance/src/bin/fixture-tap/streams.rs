//! The fixture's two streams: schemas, discovery catalog, rows and the sync loop.

use std::io::{self, Write};
use std::time::Duration;

use serde_json::{Map, Value, json};
use singer_conformance::catalog::{Catalog, Entry as CatalogEntry};

use super::Fixture;

const EXTRACTED: &str = "2024-06-01T00:00:00Z";

impl Fixture {
    fn users_schema(&self) -> Value {
        json!({"type": "object", "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "email": {"type": ["string", "null"]},
            "active": {"type": ["boolean", "null"]},
            "score": {"type": ["number", "null"]},
            "visits": {"type": ["integer", "null"]},
            "profile": {"type": ["object", "null"], "properties": {
                "age": {"type": "integer"}, "city": {"type": ["string", "null"]}}},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "signup_date": {"type": ["string", "null"], "format": "date"}
        }})
    }

    fn events_schema() -> Value {
        json!({"type": "object", "properties": {
            "event_id": {"type": "integer"},
            "user_id": {"type": "integer"},
            "kind": {"type": "string"},
            "at": {"type": ["string", "null"], "format": "date-time"}
        }})
    }

    /// The `--discover` output.
    pub(super) fn catalog(&self) -> Value {
        let mut users = self.users_schema();
        let score = &mut users["properties"]["score"];
        if self.is("tap.discovery.schema-draft4") {
            score["exclusiveMinimum"] = 0.into();
        }
        if self.is("tap.discovery.schema-draft7") {
            score["minimum"] = 0.into();
            score["exclusiveMinimum"] = true.into();
        }
        if self.is("tap.discovery.refs-inlined") {
            users["definitions"] = json!({"profile": users["properties"]["profile"].clone()});
            users["properties"]["profile"] = json!({"$ref": "#/definitions/profile"});
        }
        let key = if self.is("tap.discovery.key-properties-exist") {
            "uid"
        } else {
            "id"
        };
        let cursor = if self.is("tap.discovery.replication-keys-exist") {
            "modified_at"
        } else {
            "updated_at"
        };
        let mut users_metadata = vec![json!({"breadcrumb": [], "metadata": {
            "inclusion": "available", "selected-by-default": true,
            "table-key-properties": [key], "valid-replication-keys": [cursor]}})];
        users_metadata.extend(field_metadata(&users, &["id", "updated_at"]));
        if self.is("tap.discovery.breadcrumbs-valid") {
            users_metadata.push(json!({"breadcrumb": ["properties", "ghost"], "metadata": {"inclusion": "available"}}));
        }
        if self.is("tap.discovery.inclusion-per-field") {
            users_metadata.retain(|m| m["breadcrumb"] != json!(["properties", "name"]));
        }
        let events = Self::events_schema();
        let mut events_metadata = vec![json!({"breadcrumb": [], "metadata": {
            "inclusion": "available", "selected-by-default": true,
            "table-key-properties": ["event_id"], "forced-replication-method": "FULL_TABLE"}})];
        events_metadata.extend(field_metadata(&events, &["event_id"]));
        let users_entry = json!({"tap_stream_id": "users", "stream": "users", "schema": users,
            "key_properties": ["id"], "metadata": users_metadata});
        let mut streams = vec![users_entry.clone()];
        if self.is("tap.discovery.unique-stream-ids") {
            streams.push(users_entry);
        }
        streams.push(
            json!({"tap_stream_id": "events", "stream": "events", "schema": events,
            "key_properties": ["event_id"], "metadata": events_metadata}),
        );
        json!({"streams": streams})
    }

    /// One `users` row, with the break of the current check applied to row 2 (or others).
    fn user(&self, i: u64) -> Map<String, Value> {
        let mut row = json!({
            "id": i, "name": format!("user{i}"),
            "email": if i % 4 == 0 { Value::Null } else { format!("user{i}@example.com").into() },
            "active": i % 2 == 0, "score": i as f64 * 1.5, "visits": i * 10,
            "profile": {"age": 20 + i, "city": format!("City {i}")},
            "updated_at": format!("2024-01-{i:02}T10:00:00Z"),
            "signup_date": format!("2023-12-{i:02}"),
        });
        let edits: &[(&str, u64, &str, Value)] = &[
            (
                "tap.sync.records-match-schema",
                2,
                "profile",
                json!({"age": "old", "city": null}),
            ),
            ("tap.sync.keys-non-null", 3, "id", Value::Null),
            ("tap.sync.keys-unique", 4, "id", 3.into()),
            (
                "tap.sync.datetime-rfc3339",
                5,
                "updated_at",
                "2024-01-05 10:00:00".into(),
            ),
            ("tap.sync.attr-datetime", 2, "signup_date", "someday".into()),
            ("tap.sync.attr-boolean", 2, "active", "yes".into()),
            ("tap.sync.attr-integer", 2, "visits", "many".into()),
            ("tap.sync.attr-number", 2, "score", "high".into()),
            ("tap.sync.attr-object", 2, "profile", "none".into()),
        ];
        for (check, row_number, field, value) in edits {
            if self.is(check) && i == *row_number {
                row[*field] = value.clone();
            }
        }
        if self.is("tap.sync.attr-not-null") && i == 2 {
            row.as_object_mut().map(|r| r.remove("name"));
        }
        if self.is("tap.sync.line-size") && i == 2 {
            row["name"] = "x".repeat(50 * 1024 * 1024 + 16).into();
        }
        match row {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// Writes the sync: SCHEMA, RECORDs and STATEs of each selected stream.
    pub(super) fn sync(
        &self,
        out: &mut impl Write,
        catalog: Option<&Catalog>,
        state: &Value,
        rows: u64,
    ) -> io::Result<()> {
        if self.is("tap.sync.valid-messages") {
            writeln!(out, "Starting sync")?;
        }
        let entry = |name: &str| catalog.and_then(|c| c.stream(name));
        let selected = |name: &str| match (catalog, entry(name)) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(e)) => e.is_selected() || self.is("tap.selection.stream"),
        };
        let mut bookmark = state["bookmarks"]["users"]["replication_key_value"]
            .as_str()
            .map(str::to_owned);
        if selected("users") {
            let all: Vec<Map<String, Value>> = (1..=rows.min(28)).map(|i| self.user(i)).collect();
            let incremental =
                entry("users").and_then(CatalogEntry::replication_method) != Some("FULL_TABLE");
            let newest = all
                .iter()
                .filter_map(|r| r["updated_at"].as_str())
                .max()
                .unwrap_or("")
                .to_owned();
            let mut start = bookmark
                .clone()
                .filter(|_| incremental && !self.is("tap.incremental.no-older-records"));
            if self.is("tap.incremental.future-state")
                && start.as_deref().is_some_and(|b| b > newest.as_str())
            {
                start = None;
            }
            let rows: Vec<&Map<String, Value>> = all
                .iter()
                .filter(|r| {
                    start
                        .as_deref()
                        .is_none_or(|s| r["updated_at"].as_str().is_some_and(|u| u >= s))
                })
                .collect();
            let fields = |name: &str| self.field_selected(entry("users"), name);
            let schema_line = schema_message("users", &self.users_schema(), "id", &fields);
            if !self.is("tap.sync.schema-before-record") {
                writeln!(out, "{schema_line}")?;
            }
            for (n, row) in rows.iter().enumerate() {
                writeln!(out, "{}", self.record_line("users", row, &fields))?;
                if n == 0 && self.is("tap.sync.schema-before-record") {
                    writeln!(out, "{schema_line}")?;
                }
                bookmark = row["updated_at"].as_str().map(str::to_owned);
                if (n + 1) % 3 == 0 && n + 1 < rows.len() {
                    let mark = match (n + 1) / 3 {
                        _ if self.is("tap.kill.resume") => {
                            rows.get(n + 3).unwrap_or(row)["updated_at"].clone()
                        }
                        2 if self.is("tap.incremental.intermediate-monotonic") => {
                            rows[0]["updated_at"].clone()
                        }
                        _ => row["updated_at"].clone(),
                    };
                    writeln!(
                        out,
                        "{}",
                        state_message(&json!({"bookmarks": {"users": users_bookmark(&mark)}}))
                    )?;
                    out.flush()?;
                    let pause = if self.is("tap.kill.resume") { 300 } else { 30 };
                    std::thread::sleep(Duration::from_millis(pause));
                }
            }
        }
        if selected("events") {
            let fields = |name: &str| self.field_selected(entry("events"), name);
            writeln!(
                out,
                "{}",
                schema_message("events", &Self::events_schema(), "event_id", &fields)
            )?;
            let count = if self.is("tap.sync.returns-records") {
                0
            } else {
                5
            };
            for i in 1..=count {
                let kind = if self.is("tap.full-refresh.repeatable") {
                    format!("kind-{}", std::process::id())
                } else if i % 2 == 0 {
                    "login".to_owned()
                } else {
                    "signup".to_owned()
                };
                let row = json!({"event_id": i, "user_id": i, "kind": kind,
                    "at": format!("2024-02-0{i}T00:00:00Z")});
                writeln!(
                    out,
                    "{}",
                    self.record_line("events", row.as_object().unwrap_or(&Map::new()), &fields)
                )?;
            }
        }
        let mut last = match &bookmark {
            _ if self.is("tap.sync.final-state") => json!("done"),
            Some(mark) => json!({"bookmarks": {"users": users_bookmark(&mark.clone().into())}}),
            None => json!({"bookmarks": {}}),
        };
        if selected("events") && last["bookmarks"].is_object() {
            // `events` is a child of `users`: one partition per parent record with events.
            let parents: Vec<u64> = if self.is("tap.state.partitions") {
                vec![1, 2, 2]
            } else {
                (1..=5).collect()
            };
            let partitions: Vec<Value> = parents
                .into_iter()
                .map(|id| json!({"context": {"user_id": id}}))
                .collect();
            last["bookmarks"]["events"] = json!({"partitions": partitions});
        }
        writeln!(out, "{}", state_message(&last))?;
        out.flush()
    }

    /// Whether a field is emitted, per the catalog (all fields without one).
    fn field_selected(&self, entry: Option<&CatalogEntry>, field: &str) -> bool {
        let Some(entry) = entry else { return true };
        if self.is("tap.selection.field") {
            return true;
        }
        if self.is("tap.selection.automatic-field") {
            let explicit = entry
                .metadata_at(&["properties", field])
                .and_then(|m| m.get("selected"));
            return explicit != Some(&Value::Bool(false));
        }
        entry.is_field_selected(&[field])
    }

    fn record_line(
        &self,
        stream: &str,
        row: &Map<String, Value>,
        selected: &dyn Fn(&str) -> bool,
    ) -> String {
        let record: Map<String, Value> = row
            .iter()
            .filter(|(k, _)| selected(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let extracted = if self.is("tap.sync.time-extracted") {
            "yesterday"
        } else {
            EXTRACTED
        };
        let line = json!({"type": "RECORD", "stream": stream, "record": record, "time_extracted": extracted}).to_string();
        if self.is("tap.sync.no-nan") && row.get("id") == Some(&json!(2)) {
            return line.replace("\"score\":3.0", "\"score\":NaN");
        }
        line
    }
}

fn field_metadata(schema: &Value, automatic: &[&str]) -> Vec<Value> {
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    properties
        .keys()
        .map(|name| {
            let inclusion = if automatic.contains(&name.as_str()) {
                "automatic"
            } else {
                "available"
            };
            json!({"breadcrumb": ["properties", name], "metadata": {"inclusion": inclusion}})
        })
        .collect()
}

fn schema_message(
    stream: &str,
    schema: &Value,
    key: &str,
    selected: &dyn Fn(&str) -> bool,
) -> String {
    let mut schema = schema.clone();
    if let Some(properties) = schema["properties"].as_object_mut() {
        properties.retain(|k, _| selected(k));
    }
    json!({"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": [key]})
        .to_string()
}

fn users_bookmark(mark: &Value) -> Value {
    json!({"replication_key": "updated_at", "replication_key_value": mark})
}

fn state_message(value: &Value) -> String {
    json!({"type": "STATE", "value": value}).to_string()
}
