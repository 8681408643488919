//! Micro-benchmarks of the hot paths, one record at a time: parsing a RECORD line, validating
//! it against its compiled schema, writing it as a RECORD line, reading a replication key out
//! of a typed record, evaluating stream maps and flattening. `cargo bench -p singer-sdk --bench hot_paths`.

#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented functions"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Serialize;
use serde_json::{Value, json};
use singer_sdk::mapper::Mapper;
use singer_sdk::message::{Message, RecordEncoder, RecordMessage, SchemaMessage};
use singer_sdk::state::KeyKind;

fn record_value() -> Value {
    json!({"id": 123_456, "account": "acct-1e240", "name": "Ada \"the first\" Lovelace",
        "email": "user123456@example.com", "note": null, "active": true, "verified": false,
        "score": 61_728.0, "balance": 124_690.567_8, "visits": 456,
        "updated_at": "2024-02-17T12:36:17+00:00",
        "address": {"street": "1 Main St.\nApt 2", "city": "Springfield", "zip": "23456"},
        "tags": ["alpha", "beta"]})
}

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "account": {"type": "string"}, "name": {"type": "string"},
        "email": {"type": ["string", "null"]}, "note": {"type": ["string", "null"]},
        "active": {"type": "boolean"}, "verified": {"type": ["boolean", "null"]},
        "score": {"type": "number"}, "balance": {"type": ["number", "null"]}, "visits": {"type": "integer"},
        "updated_at": {"type": "string", "format": "date-time"},
        "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}}}})
}

#[derive(Serialize)]
struct Typed {
    id: u64,
    name: &'static str,
    updated_at: &'static str,
    score: f64,
    tags: [&'static str; 2],
}

fn benches(c: &mut Criterion) {
    let line = json!({"type": "RECORD", "stream": "users", "record": record_value(), "time_extracted": "2024-03-01T00:00:00+00:00"}).to_string();
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse RECORD line", |b| {
        b.iter(|| Message::parse(black_box(&line), 1).unwrap());
    });
    group.bench_function("parse line as serde_json Value (floor)", |b| {
        b.iter(|| serde_json::from_str::<Value>(black_box(&line)).unwrap());
    });
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let value = record_value();
    group.bench_function("validate record", |b| {
        b.iter(|| validator.is_valid(black_box(&value)));
    });
    let encoder = RecordEncoder::new("users", None);
    let mut out = Vec::with_capacity(1024);
    group.bench_function("write RECORD line (Value)", |b| {
        b.iter(|| {
            out.clear();
            encoder.encode(black_box(&value), &mut out).unwrap();
        });
    });
    let typed = Typed {
        id: 7,
        name: "Ada",
        updated_at: "2024-02-17T12:36:17+00:00",
        score: 1.5,
        tags: ["a", "b"],
    };
    group.bench_function("write RECORD line (typed)", |b| {
        b.iter(|| {
            out.clear();
            encoder.encode(black_box(&typed), &mut out).unwrap();
        });
    });
    group.bench_function("replication key of a typed record", |b| {
        b.iter(|| singer_sdk::record::field_value(black_box(&typed), "updated_at"));
    });
    let (a, later) = (
        json!("2024-02-17T12:36:17+00:00"),
        json!("2024-02-17T12:36:18+00:00"),
    );
    group.bench_function("compare date-time bookmarks", |b| {
        b.iter(|| KeyKind::DateTime.compare(black_box(&a), black_box(&later)));
    });
    group.finish();

    let mut group = c.benchmark_group("maps");
    group.throughput(Throughput::Elements(1));
    let schema = SchemaMessage {
        stream: "users".into(),
        schema: schema(),
        key_properties: vec!["id".into()],
        bookmark_properties: None,
    };
    let message = RecordMessage {
        stream: "users".into(),
        record: record_value().as_object().cloned().unwrap_or_default(),
        version: None,
        time_extracted: None,
    };
    let configs = [
        (
            "3 expressions and a filter",
            json!({"stream_maps": {"users": {
            "email_hash": "md5(email or '')", "name": "name.upper()", "visits": "visits + 1",
            "__filter__": "active"}}}),
        ),
        (
            "flatten depth 2",
            json!({"flattening_enabled": true, "flattening_max_depth": 2}),
        ),
    ];
    for (name, config) in configs {
        let mut mapper = Mapper::from_config(config.as_object().unwrap())
            .unwrap()
            .unwrap();
        mapper.map_schema(schema.clone()).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| mapper.map_record(black_box(message.clone())).unwrap());
        });
    }
    group.bench_function("clone of the record (the baseline of the two above)", |b| {
        b.iter(|| black_box(message.clone()));
    });
    group.finish();
}

criterion_group!(hot_paths, benches);
criterion_main!(hot_paths);
