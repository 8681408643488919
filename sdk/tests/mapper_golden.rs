//! singer-sdk's stream-map snapshots (`golden/mapped_stream/*.jsonl`), reproduced line for line.
//!
//! The input is what singer-sdk's `MappedTap` (tests/core/test_mapper.py) emits without maps:
//! the SCHEMA, ACTIVATE_VERSION, three RECORDs and a STATE of stream `mystream`. Each case runs
//! it through [`Mapper`] with the case's config and compares every line to the snapshot as
//! JSON *and* as text (key order), after normalising `time_extracted` and `version`.
//!
//! Known, explained differences (asserted precisely, not skipped):
//! - `json_dumps`: singer-sdk's tap hands `Decimal` numbers to the expression, which
//!   `default=str` turns into strings (`"3.14"`); our records hold JSON numbers, so the dumped
//!   text has `3.14`.
//! - `fake_*`: values come from the `fake` crate, not Python's Faker; shape and determinism are
//!   checked instead of values.
//! - `fake_email_seed_class`: an orphaned snapshot of the removed `Faker.seed(email)` form;
//!   `Faker` is rejected as an unknown name, and the snapshot's shape is checked with the
//!   supported `fake.seed_instance(email)` form.

// The snapshots' numbers (3.14, 2.718) are data, not approximations of π and e.
#![allow(clippy::approx_constant)]

use std::path::PathBuf;

use serde_json::{Map, Value, json};
use singer_sdk::mapper::Mapper;
use singer_sdk::message::{
    ActivateVersionMessage, BatchMessage, Message, RecordMessage, SchemaMessage, StateMessage,
};

const VERSION: i64 = 1_640_995_200;
const EXTRACTED: &str = "2022-01-01T00:00:00+00:00";

fn golden_dir() -> PathBuf {
    let dir = std::env::var_os("SINGER_CONFORMANCE_DIR").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/conformance/singer-sdk-streams")
        },
        PathBuf::from,
    );
    dir.join("golden/mapped_stream")
}

fn golden(name: &str) -> Vec<String> {
    let path = golden_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} (set SINGER_CONFORMANCE_DIR): {e}",
            path.display()
        )
    });
    text.lines().map(str::to_owned).collect()
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `MappedStream.schema` as singer-sdk serialises it.
fn input_schema() -> Value {
    json!({"properties": {
        "email": {"type": ["string"]},
        "count": {"type": ["integer", "null"]},
        "user": {"properties": {
            "id": {"type": ["integer", "null"]},
            "sub": {"properties": {"num": {"type": ["integer", "null"]}, "custom_obj": {"type": ["string", "null"]}},
                "type": ["object", "null"], "additionalProperties": true},
            "some_numbers": {"items": {"type": ["number"]}, "type": ["array", "null"]}},
            "type": ["object", "null"], "additionalProperties": true},
        "joined_at": {"format": "date-time", "type": ["string", "null"]}},
        "type": "object", "required": ["email"], "$schema": "https://json-schema.org/draft/2020-12/schema"})
}

/// `MappedStream.get_records()` (`CustomObj` as its `str()`, `Decimal`s as numbers).
fn input_records() -> Vec<Map<String, Value>> {
    [("alice", 21, 1, "hello", [3.14, 2.718]), ("bob", 13, 2, "world", [10.32, 1.618]), ("charlie", 19, 3, "hello", [1.414, 1.732])]
        .into_iter()
        .map(|(name, count, id, obj, numbers)| {
            object(json!({"email": format!("{name}@example.com"), "count": count,
                "user": {"id": id, "sub": {"num": id, "custom_obj": format!("obj-{obj}")}, "some_numbers": numbers},
                "joined_at": "2022-01-01T00:00:00Z"}))
        })
        .collect()
}

/// How the tap produced the snapshot.
#[derive(Clone, Copy, PartialEq)]
enum Run {
    /// ACTIVATE_VERSION, versioned RECORDs.
    Records,
    /// ACTIVATE_VERSION, a BATCH instead of RECORDs (`batch_config` set).
    Batch,
    /// No ACTIVATE_VERSION, unversioned RECORDs (the older snapshot).
    Unversioned,
}

/// Runs the input through a mapper built from `config`, as Singer lines.
fn run(config: &Value, how: Run) -> Result<Vec<String>, singer_sdk::Error> {
    let mut mapper = Mapper::from_config(&object(config.clone()))?;
    let mut out: Vec<Message> = Vec::new();
    let schema = SchemaMessage {
        stream: "mystream".into(),
        schema: input_schema(),
        key_properties: vec![],
        bookmark_properties: None,
    };
    match &mut mapper {
        Some(m) => out.extend(m.map_schema(schema)?.into_iter().map(Message::Schema)),
        None => out.push(Message::Schema(schema)),
    }
    if how != Run::Unversioned {
        let av = ActivateVersionMessage {
            stream: "mystream".into(),
            version: VERSION,
        };
        match &mapper {
            Some(m) => out.extend(
                m.map_activate_version(av)
                    .into_iter()
                    .map(Message::ActivateVersion),
            ),
            None => out.push(Message::ActivateVersion(av)),
        }
    }
    if how == Run::Batch {
        let batch = BatchMessage {
            stream: "mystream".into(),
            encoding: json!({"format": "jsonl", "compression": "gzip"}),
            manifest: vec!["file:///tmp/stream.json.gz".into()],
        };
        match &mapper {
            Some(m) => out.extend(m.map_batch(batch).into_iter().map(Message::Batch)),
            None => out.push(Message::Batch(batch)),
        }
    } else {
        for record in input_records() {
            let version = (how == Run::Records).then_some(VERSION);
            let message = RecordMessage {
                stream: "mystream".into(),
                record,
                version,
                time_extracted: Some(EXTRACTED.into()),
            };
            match &mapper {
                Some(m) => out.extend(m.map_record(message)?.into_iter().map(Message::Record)),
                None => out.push(Message::Record(message)),
            }
        }
    }
    out.push(Message::State(StateMessage {
        value: json!({"bookmarks": {"mystream": {}}}),
    }));
    Ok(out
        .iter()
        .map(|m| serde_json::to_string(m).unwrap_or_default())
        .collect())
}

/// A line as JSON with `time_extracted` and `version` replaced by placeholders.
fn normalise(line: &str) -> Value {
    let mut value: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    if let Some(m) = value.as_object_mut() {
        for key in ["time_extracted", "version"] {
            if let Some(v) = m.get_mut(key) {
                *v = json!("<volatile>");
            }
        }
    }
    value
}

/// Asserts that `ours` equals `expected` line for line, as values and in key order.
fn assert_lines(name: &str, ours: &[String], expected: &[String]) {
    assert_eq!(
        ours.len(),
        expected.len(),
        "{name}: line count\nours:\n{}",
        ours.join("\n")
    );
    for (k, (o, e)) in ours.iter().zip(expected).enumerate() {
        let (o, e) = (normalise(o), normalise(e));
        assert_eq!(o, e, "{name}: line {} differs", k + 1);
        let (o, e) = (
            serde_json::to_string(&o).unwrap_or_default(),
            serde_json::to_string(&e).unwrap_or_default(),
        );
        assert_eq!(o, e, "{name}: line {} key order differs", k + 1);
    }
}

fn check(name: &str, stream_maps: Value, extra: Value) {
    let mut config = object(extra);
    config.insert("stream_maps".into(), stream_maps);
    let how = if config.contains_key("batch_config") {
        Run::Batch
    } else {
        Run::Records
    };
    let ours = run(&Value::Object(config), how).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_lines(name, &ours, &golden(name));
}

fn no_flat() -> Value {
    json!({"flattening_enabled": false, "flattening_max_depth": 0})
}

macro_rules! golden_case {
    ($test:ident, $maps:expr) => {
        golden_case!($test, $maps, no_flat());
    };
    ($test:ident, $maps:expr, $config:expr) => {
        #[test]
        fn $test() {
            check(concat!(stringify!($test), ".jsonl"), $maps, $config);
        }
    };
}

golden_case!(no_map, json!({}));
golden_case!(
    keep_all_fields,
    json!({"mystream": {"email_hash": "md5(email)"}})
);
golden_case!(
    only_mapped_fields,
    json!({"mystream": {"email_hash": "md5(email)", "email_hash_sha256": "sha256(email)", "fixed_count": "int(count-1)", "__else__": null}})
);
golden_case!(
    only_mapped_fields_null_string,
    json!({"mystream": {"email_hash": "md5(email)", "fixed_count": "int(count-1)", "__else__": "__NULL__"}})
);
golden_case!(
    changed_key_properties,
    json!({"mystream": {"email_hash": "md5(email)", "__key_properties__": ["email_hash"], "__else__": null}})
);
golden_case!(
    sourced_stream_1,
    json!({"mystream": null, "sourced_stream_1": {"__source__": "mystream"}})
);
golden_case!(
    sourced_stream_1_null_string,
    json!({"mystream": "__NULL__", "sourced_stream_1": {"__source__": "mystream"}})
);
golden_case!(
    sourced_stream_2,
    json!({"sourced_stream_2": {"__source__": "mystream"}, "__else__": null})
);
golden_case!(
    aliased_stream,
    json!({"mystream": {"__alias__": "aliased_stream"}})
);
golden_case!(
    aliased_stream_batch,
    json!({"mystream": {"__alias__": "aliased_stream"}}),
    json!({"flattening_enabled": false, "flattening_max_depth": 0,
        "batch_config": {"encoding": {"format": "jsonl", "compression": "gzip"}, "storage": {"root": "file:///tmp"}}})
);
golden_case!(
    aliased_stream_not_expr,
    json!({"mystream": {"__alias__": "aliased.stream"}})
);
golden_case!(
    aliased_stream_quoted,
    json!({"mystream": {"__alias__": "'__stream_name__'"}})
);
golden_case!(
    builtin_variable_stream_name,
    json!({"mystream": {"source_table": "__stream_name__"}})
);
golden_case!(
    builtin_variable_stream_name_alias,
    json!({"mystream": {"__alias__": "'aliased_' + __stream_name__"}})
);
golden_case!(
    builtin_variable_stream_name_alias_expr,
    json!({"mystream": {"__alias__": "__stream_name__.upper()"}})
);
golden_case!(
    builtin_variable_original_stream_name_alias,
    json!({"mystream": {"__alias__": "'aliased'", "stream_name": "__stream_name__", "original_stream_name": "__original_stream_name__"}})
);
golden_case!(
    builtin_variable_original_stream_name_no_alias,
    json!({"mystream": {"stream_name": "__stream_name__", "original_stream_name": "__original_stream_name__"}})
);
golden_case!(
    builtin_variable_self,
    json!({"mystream": {"email": "self.upper()", "__else__": null}})
);
golden_case!(
    builtin_variable_underscore,
    json!({"mystream": {"email": "_['email'].upper()", "__else__": null}})
);
golden_case!(
    flatten_depth_0,
    json!({}),
    json!({"flattening_enabled": true, "flattening_max_depth": 0})
);
golden_case!(
    flatten_depth_1,
    json!({}),
    json!({"flattening_enabled": true, "flattening_max_depth": 1})
);
golden_case!(
    flatten_all,
    json!({}),
    json!({"flattening_enabled": true, "flattening_max_depth": 2})
);
golden_case!(
    flatten_all_with_dot_separator,
    json!({}),
    json!({"flattening_enabled": true, "flattening_max_depth": 2, "flattening_separator": "."})
);
golden_case!(
    map_and_flatten,
    json!({"mystream": {"email_hash": "md5(email)", "__key_properties__": ["email_hash"]}}),
    json!({"flattening_enabled": true, "flattening_max_depth": 10})
);
golden_case!(drop_property, json!({"mystream": {"email": null}}));
golden_case!(
    drop_property_null_string,
    json!({"mystream": {"email": "__NULL__"}})
);
golden_case!(
    non_pk_passthrough,
    json!({"mystream": {"count": "count", "__else__": null}})
);
golden_case!(
    record_to_column,
    json!({"mystream": {"_data": "record", "__else__": null}})
);
golden_case!(
    dates,
    json!({"mystream": {
        "joined_date": "datetime.datetime.fromisoformat(joined_at).date()",
        "joined_timestamp": "float(datetime.datetime.fromisoformat(joined_at).timestamp())",
        "some_datetime": "datetime.datetime.fromisoformat(config['some_date_string'])"}}),
    json!({"stream_map_config": {"some_date_string": "2024-10-10T10:10:10Z"}})
);
golden_case!(
    filter_records,
    json!({"mystream": {"__filter__": "count < 20"}})
);
golden_case!(
    filter_records_cast_to_bool,
    json!({"mystream": {"__filter__": "bool(count < 20)"}})
);
golden_case!(remove_stream, json!({"mystream": "__NULL__"}));

// singer-sdk reads fractional numbers as `Decimal`s, which `json.dumps(..., default=str)`
// writes as strings: the output matches that exactly.
golden_case!(
    json_dumps,
    json!({"mystream": {"user": "json.dumps(user, default=str)"}}),
    json!({"flattening_enabled": false, "flattening_max_depth": 0})
);

/// Checks every line but the faked values exactly; returns our RECORDs' values of `field`.
fn check_fake(name: &str, config: &Value, how: Run, field: &str) -> Vec<String> {
    let ours = run(config, how).unwrap_or_else(|e| panic!("{name}: {e}"));
    let expected = golden(name);
    let mut values = Vec::new();
    let blank = |line: &str| {
        let mut v = normalise(line);
        if let Some(slot) = v.pointer_mut(&format!("/record/{field}")) {
            *slot = json!("<fake>");
        }
        v
    };
    let ours_blank: Vec<String> = ours
        .iter()
        .map(|l| serde_json::to_string(&blank(l)).unwrap())
        .collect();
    let expected_blank: Vec<String> = expected
        .iter()
        .map(|l| serde_json::to_string(&blank(l)).unwrap())
        .collect();
    assert_lines(name, &ours_blank, &expected_blank);
    for line in &ours {
        if let Some(Value::String(v)) = normalise(line).pointer(&format!("/record/{field}")) {
            values.push(v.clone());
        }
    }
    assert_eq!(values.len(), 3, "{name}");
    assert_eq!(
        run(config, how).unwrap(),
        ours,
        "{name}: a second run with the same config differs"
    );
    values
}

#[test]
fn fake_credit_card_number() {
    let config = json!({"stream_maps": {"mystream": {"cc": "fake.credit_card_number()", "__else__": null}},
        "flattening_enabled": false, "flattening_max_depth": 0, "faker_config": {"locale": "en_US", "seed": 123_456}});
    let cards = check_fake("fake_credit_card_number.jsonl", &config, Run::Records, "cc");
    for card in &cards {
        assert!(
            (12..=19).contains(&card.len()) && card.chars().all(|c| c.is_ascii_digit()),
            "{card}"
        );
    }
    let other_seed =
        json!({"stream_maps": config["stream_maps"], "faker_config": {"seed": 654_321}});
    assert_ne!(
        run(&other_seed, Run::Records).unwrap(),
        run(&config, Run::Records).unwrap()
    );
}

fn seed_instance_config() -> Value {
    json!({"stream_maps": {"mystream": {"email": "fake.seed_instance(email) or fake.email()", "__else__": null}},
        "flattening_enabled": false, "flattening_max_depth": 0, "faker_config": {"locale": "en_US"}})
}

#[test]
fn fake_email_seed_instance() {
    let emails = check_fake(
        "fake_email_seed_instance.jsonl",
        &seed_instance_config(),
        Run::Records,
        "email",
    );
    assert!(emails.iter().all(|e| e.contains('@')), "{emails:?}");
    // Same input, same fake value: also across mappers with no seed.
    let mut mapper = Mapper::from_config(&object(seed_instance_config()))
        .unwrap()
        .unwrap();
    let schema = SchemaMessage {
        stream: "mystream".into(),
        schema: input_schema(),
        key_properties: vec![],
        bookmark_properties: None,
    };
    mapper.map_schema(schema).unwrap();
    let again: Vec<Value> = input_records()
        .into_iter()
        .map(|record| {
            let out = mapper
                .map_record(RecordMessage {
                    stream: "mystream".into(),
                    record,
                    version: None,
                    time_extracted: None,
                })
                .unwrap();
            out[0].record["email"].clone()
        })
        .collect();
    assert_eq!(again, emails.iter().map(|e| json!(e)).collect::<Vec<_>>());
}

#[test]
fn fake_email_seed_class() {
    let removed = json!({"stream_maps": {"mystream": {"email": "Faker.seed(email) or fake.email()", "__else__": null}}});
    let err = run(&removed, Run::Unversioned).unwrap_err().to_string();
    assert!(
        err.contains("stream map `mystream`")
            && err.contains("property `email`")
            && err.contains("unknown name `Faker`"),
        "{err}"
    );
    let emails = check_fake(
        "fake_email_seed_class.jsonl",
        &seed_instance_config(),
        Run::Unversioned,
        "email",
    );
    assert!(emails.iter().all(|e| e.contains('@')), "{emails:?}");
}

/// Every snapshot in the folder has a test above.
#[test]
fn every_golden_file_is_covered() {
    let covered: String = include_str!("mapper_golden.rs")
        .split_whitespace()
        .collect();
    let mut names: Vec<String> = std::fs::read_dir(golden_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 36);
    for name in names {
        let stem = name.trim_end_matches(".jsonl");
        assert!(
            covered.contains(&format!("golden_case!({stem},"))
                || covered.contains(&format!("fn{stem}()")),
            "no test for {name}"
        );
    }
}
