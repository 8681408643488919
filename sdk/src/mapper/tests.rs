//! Behaviour and error tests of [`Mapper`].

use serde_json::{Map, Value, json};

use super::Mapper;
use crate::message::{ActivateVersionMessage, BatchMessage, RecordMessage, SchemaMessage};

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn mapper(config: Value) -> Mapper {
    Mapper::from_config(&object(config))
        .unwrap()
        .expect("something to do")
}

fn schema_message(stream: &str, keys: &[&str]) -> SchemaMessage {
    SchemaMessage {
        stream: stream.to_owned(),
        schema: json!({"type": "object", "properties": {
            "id": {"type": "integer"},
            "email": {"type": ["string", "null"]},
            "count": {"type": ["integer", "null"]},
            "nested": {"type": ["object", "null"], "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}},
        }, "required": ["id", "email"]}),
        key_properties: keys.iter().map(|k| (*k).to_owned()).collect(),
        bookmark_properties: None,
    }
}

fn record(stream: &str, value: Value) -> RecordMessage {
    RecordMessage {
        stream: stream.to_owned(),
        record: object(value),
        version: Some(7),
        time_extracted: None,
    }
}

fn schema_error(config: Value, keys: &[&str]) -> String {
    let mut m = mapper(config);
    m.map_schema(schema_message("users", keys))
        .unwrap_err()
        .to_string()
}

#[test]
fn nothing_to_do_is_none() {
    for config in [
        json!({}),
        json!({"stream_maps": {}}),
        json!({"flattening_enabled": true, "flattening_max_depth": 0}),
    ] {
        assert!(Mapper::from_config(&object(config)).unwrap().is_none());
    }
}

#[test]
fn mapper_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Mapper>();
}

#[test]
fn startup_errors_name_map_property_and_construct() {
    let cases = [
        (
            json!({"stream_maps": {"users": {"email_hash": "md5(email"}}}),
            ["stream_maps.users.email_hash", "expected `)`", "column 10"],
        ),
        (
            json!({"stream_maps": {"users": {"f": "lambda x: x"}}}),
            ["stream_maps.users.f", "lambda", "not supported"],
        ),
        (
            json!({"stream_maps": {"users": {"__filter__": "[x for x in y"}}}),
            [
                "stream_maps.users.__filter__",
                "filter expression",
                "expected",
            ],
        ),
        (
            json!({"flattening_enabled": true}),
            ["flattening_max_depth", "required", "flattening_enabled"],
        ),
        (
            json!({"stream_maps": {"users": {"__else__": "keep"}}}),
            ["stream_maps.users.__else__", "null", "keep"],
        ),
    ];
    for (config, needles) in cases {
        let err = Mapper::from_config(&object(config)).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        for needle in needles {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }
}

#[test]
fn schema_time_errors_name_stream_property_and_construct() {
    let cases = [
        (
            json!({"stream_maps": {"users": {"x": "frobnicate(email)"}}}),
            vec![],
            [
                "stream map `users`",
                "property `x`",
                "unknown function `frobnicate()`",
            ],
        ),
        (
            json!({"stream_maps": {"users": {"x": "emial.upper()"}}}),
            vec![],
            ["stream map `users`", "property `x`", "unknown name `emial`"],
        ),
        (
            json!({"stream_maps": {"users": {"__key_properties__": ["nope"]}}}),
            vec![],
            ["stream map `users`", "`nope`", "key properties"],
        ),
        (
            json!({"stream_maps": {"users": {"id": null}}}),
            vec!["id"],
            [
                "stream map `users`",
                "property `id`",
                "removing key property",
            ],
        ),
        (
            json!({"stream_maps": {"users": {"__filter__": "cnt > 1"}}}),
            vec![],
            ["stream map `users`", "`__filter__`", "unknown name `cnt`"],
        ),
        (
            json!({"stream_maps": {"users": {"y": "self.upper()"}}}),
            vec![],
            ["stream map `users`", "property `y`", "`self`"],
        ),
    ];
    for (config, keys, needles) in cases {
        let text = schema_error(config, &keys);
        for needle in needles {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }
}

#[test]
fn record_time_errors_name_stream_property_and_python_error() {
    let mut m = mapper(json!({"stream_maps": {"users": {"x": "email.upper()"}}}));
    m.map_schema(schema_message("users", &[])).unwrap();
    let err = m
        .map_record(record("users", json!({"id": 1, "email": 5})))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stream map `users`")
            && err.contains("property `x`")
            && err.contains("AttributeError"),
        "{err}"
    );
    let err = m
        .map_record(record("other", json!({})))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`other`") && err.contains("before its SCHEMA"),
        "{err}"
    );
}

#[test]
fn else_null_keeps_key_properties_with_their_schema() {
    let mut m = mapper(json!({"stream_maps": {"users": {"hash": "md5(email)", "__else__": null}}}));
    let out = m.map_schema(schema_message("users", &["id"])).unwrap();
    assert_eq!(
        out[0].schema["properties"],
        json!({"id": {"type": "integer"}, "hash": {"type": ["string", "null"]}})
    );
    let rec = m
        .map_record(record("users", json!({"id": 3, "email": "a", "count": 1})))
        .unwrap();
    assert_eq!(
        Value::Object(rec[0].record.clone()),
        json!({"id": 3, "hash": md5_hex("a")})
    );
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn globs_sources_aliases_and_removal() {
    let mut m = mapper(json!({"stream_maps": {
        "u*": {"db": "'main'", "__alias__": "__stream_name__ + '_v2'"},
        "copy": {"__source__": "users", "__filter__": "count > 1", "__else__": null, "count": "count"},
        "gone": null,
    }}));
    let out = m.map_schema(schema_message("users", &[])).unwrap();
    let names: Vec<&str> = out.iter().map(|s| s.stream.as_str()).collect();
    assert_eq!(names, ["users_v2", "copy"]);
    assert_eq!(
        out[0].schema["properties"]["db"],
        json!({"type": ["string", "null"]})
    );
    let recs = m
        .map_record(record("users", json!({"id": 1, "email": "e", "count": 1})))
        .unwrap();
    assert_eq!(recs.len(), 1);
    let recs = m
        .map_record(record("users", json!({"id": 1, "email": "e", "count": 5})))
        .unwrap();
    assert_eq!(
        recs.iter().map(|r| r.stream.as_str()).collect::<Vec<_>>(),
        ["users_v2", "copy"]
    );
    assert_eq!(Value::Object(recs[1].record.clone()), json!({"count": 5}));
    assert_eq!(recs[1].version, Some(7));
    assert!(
        m.map_schema(schema_message("gone", &[]))
            .unwrap()
            .is_empty()
    );
    assert!(m.excludes_stream("gone"));
    assert!(!m.excludes_stream("users"));
    let av = m.map_activate_version(ActivateVersionMessage {
        stream: "users".into(),
        version: 9,
    });
    assert_eq!(
        av.iter().map(|a| a.stream.as_str()).collect::<Vec<_>>(),
        ["users_v2", "copy"]
    );
    let batch = m.map_batch(BatchMessage {
        stream: "unseen".into(),
        encoding: json!({}),
        manifest: vec!["f".into()],
    });
    assert_eq!(batch[0].stream, "unseen_v2");
    let batch = m.map_batch(BatchMessage {
        stream: "other".into(),
        encoding: json!({}),
        manifest: vec!["f".into()],
    });
    assert_eq!(
        (batch[0].stream.as_str(), batch[0].manifest.len()),
        ("other", 1)
    );
    assert!(m.finish().is_empty());
    let pairs = m
        .map_batch_record("users", object(json!({"id": 2, "email": "x", "count": 9})))
        .unwrap();
    assert_eq!(pairs.len(), 2);
}

#[test]
fn unmatched_maps_are_reported_at_finish() {
    let mut m = mapper(json!({"stream_maps": {"userz": {"x": "1"}, "users": {"y": "2"}}}));
    m.map_schema(schema_message("users", &[])).unwrap();
    assert_eq!(m.finish(), ["userz"]);
}

#[test]
fn flattening_applies_after_mapping_and_drops_required() {
    let mut m = mapper(json!({
        "stream_maps": {"users": {"email": "__NULL__", "n2": "int(count * 2)"}},
        "flattening_enabled": true, "flattening_max_depth": 1,
    }));
    let out = m.map_schema(schema_message("users", &["id"])).unwrap();
    assert_eq!(out[0].schema["required"], json!(["id"]));
    let columns: Vec<&String> = out[0].schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(columns, ["id", "count", "nested__a", "nested__b", "n2"]);
    let rec = m
        .map_record(record(
            "users",
            json!({"id": 1, "email": "e", "count": 2, "nested": {"a": 1, "b": "x"}}),
        ))
        .unwrap();
    assert_eq!(
        Value::Object(rec[0].record.clone()),
        json!({"id": 1, "count": 2, "nested__a": 1, "nested__b": "x", "n2": 4})
    );
}

#[test]
fn schema_resent_unchanged_reuses_maps_and_changed_rebuilds() {
    let mut m = mapper(json!({"stream_maps": {"users": {"x": "count"}}}));
    m.map_schema(schema_message("users", &[])).unwrap();
    let again = m.map_schema(schema_message("users", &[])).unwrap();
    assert_eq!(again.len(), 1);
    let mut changed = schema_message("users", &[]);
    changed.schema["properties"]["count"] = json!({"type": "string"});
    let out = m.map_schema(changed).unwrap();
    assert_eq!(
        out[0].schema["properties"]["x"],
        json!({"type": ["string", "null"]})
    );
}

#[test]
fn builtin_settings_are_valid_json_schema_accepting_singer_sdk_configs() {
    let schema = json!({"type": "object", "properties": super::builtin_settings()});
    assert!(jsonschema::meta::is_valid(&schema));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let good = json!({
        "stream_maps": {"users": {"__alias__": "u", "__key_properties__": ["id"], "x": "md5(email)", "y": null, "z": "__NULL__"},
            "other": null, "gone": "__NULL__", "__else__": null},
        "stream_map_config": {"hash_seed": "s"},
        "faker_config": {"seed": 0, "locale": ["en_US", "en_GB"]},
        "flattening_enabled": true, "flattening_max_depth": 2, "flattening_max_key_length": 64, "flattening_separator": ".",
    });
    assert!(validator.is_valid(&good));
    assert!(!validator.is_valid(&json!({"stream_maps": {"users": {"x": 1}}})));
    assert!(!validator.is_valid(&json!({"stream_maps": {"users": "keep"}})));
}

#[test]
fn alias_text_that_is_no_expression_is_verbatim_but_unknown_functions_fail() {
    for (alias, expected) in [
        ("my stream", "my stream"),
        ("aliased.stream", "aliased.stream"),
        ("'x' + __stream_name__", "xusers"),
    ] {
        let mut m = mapper(json!({"stream_maps": {"users": {"__alias__": alias}}}));
        assert_eq!(
            m.map_schema(schema_message("users", &[])).unwrap()[0].stream,
            expected
        );
    }
    let err = schema_error(
        json!({"stream_maps": {"users": {"__alias__": "shout(__stream_name__)"}}}),
        &[],
    );
    assert!(
        err.contains("`__alias__`") && err.contains("unknown function `shout()`"),
        "{err}"
    );
    let err = Mapper::from_config(&object(
        json!({"stream_maps": {"copy": {"__source__": "users", "__alias__": "x"}}}),
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("`__alias__` cannot be combined with `__source__`"),
        "{err}"
    );
}
