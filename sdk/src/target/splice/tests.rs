use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::message::Message;
use crate::sink::JsonRecords;
use crate::target::metadata;

/// The line `encode` writes for `record`, with `_sdc_batched_at` filled in.
fn line_of(
    record: &Map<String, Value>,
    text: Option<(&[u8], RecordText)>,
    metadata: bool,
) -> String {
    let mut line = Vec::new();
    let slot = encode(record, text, metadata, &mut line);
    let mut records = JsonRecords::default();
    records.push_line(&line, slot);
    records.set_batched_at("\"2024-05-06T07:08:09.000000+00:00\"".to_owned());
    let mut out = Vec::new();
    records.write_to(&mut out);
    String::from_utf8(out).expect("UTF-8")
}

/// What the runtime wrote before records were copied: the record, stamped, serialised.
fn serialised(record: &Map<String, Value>, metadata: bool) -> String {
    let mut record = record.clone();
    if metadata {
        record.insert(
            BATCHED_AT.to_owned(),
            json!("2024-05-06T07:08:09.000000+00:00"),
        );
    }
    format!("{}\n", serde_json::to_string(&record).expect("JSON"))
}

/// Reads `line` as the runtime does and returns both encodings of its record, with and
/// without metadata: (copied where it qualifies, serialised, as before).
fn both_ways(line: &str) -> Option<Vec<(String, String, String)>> {
    let Ok(Message::Record(message)) = Message::parse(line, 1) else {
        return None;
    };
    let mut out = Vec::new();
    for stamp in [true, false] {
        let mut record = message.record.clone();
        metadata::receive(
            &mut record,
            stamp,
            message.time_extracted.clone(),
            message.version,
            7,
        );
        let text = record_text(line.as_bytes()).map(|text| (line.as_bytes(), text));
        out.push((
            line_of(&record, text, stamp),
            line_of(&record, None, stamp),
            serialised(&record, stamp),
        ));
    }
    Some(out)
}

fn copies(record: &str) -> bool {
    record_text(format!(r#"{{"type":"RECORD","stream":"s","record":{record}}}"#).as_bytes())
        .is_some()
}

#[test]
fn compact_records_as_serde_json_writes_them_are_copied() {
    let benchmark = r#"{"type":"RECORD","stream":"users","record":{"id":7,"account":"acct-00e7a1","name":"Ada \"the first\" Lovelace","email":"user7@example.com","note":null,"active":false,"verified":false,"score":3.5,"balance":1241.5678,"visits":7,"updated_at":"2024-02-08T07:07:00+00:00","address":{"street":"1 Main St.\nApt 2","city":"Springfield","zip":"00007"},"tags":["alpha","beta"]},"time_extracted":"2024-01-01T00:00:00+00:00"}"#;
    let text = record_text(benchmark.as_bytes()).expect("copied");
    assert_eq!(text.top_keys, 13);
    assert_eq!(text.nested_keys, 3);
    assert!(benchmark[text.span].starts_with("{\"id\":7,"));
    for record in [
        "{}",
        r#"{"a":"Zoë \\ \t \u0000 \u001f \u007f"}"#.replace("\\u007f", "\u{7f}").as_str(),
        r#"{"a":-9223372036854775808,"b":18446744073709551615,"c":-0.0,"d":1e-7,"e":0.1}"#,
        r#"{"a":[],"b":{},"c":[{"d":[null,true]}]}"#,
    ] {
        assert!(copies(record), "{record}");
    }
    // The envelope itself may be spaced as Python writes it.
    assert!(
        record_text(br#"{"type": "RECORD", "stream": "s", "record": {"id":1}, "version": 2}"#)
            .is_some()
    );
}

#[test]
fn records_serde_json_would_write_differently_are_serialised() {
    for record in [
        r#"{"a": 1}"#,
        r#"{"a":1 }"#,
        r#"{"a":"\/"}"#,
        r#"{"a":"\u00e9"}"#,
        r#"{"a":"\u000a"}"#,
        r#"{"a":"\u001F"}"#,
        r#"{"a":1.50}"#,
        r#"{"a":1E2}"#,
        r#"{"a":1e2}"#,
        r#"{"a":-0}"#,
        r#"{"a":18446744073709551616}"#,
        r#"{"a":0.30000000000000004}"#,
        r#"{"_sdc_deleted_at":null}"#,
    ] {
        assert!(!copies(record), "{record}");
    }
    // A key repeated in a nested object: the text qualifies, the counts do not match.
    let line = r#"{"type":"RECORD","stream":"s","record":{"a":{"x":1,"x":2}}}"#;
    let ways = both_ways(line).expect("a record");
    for (copied, serialised, before) in ways {
        assert_eq!(copied, before);
        assert_eq!(serialised, before);
    }
    // A record named twice, or under an escaped name, is not taken from the text.
    assert!(record_text(br#"{"type":"RECORD","rec\u006frd":{"a":1}}"#).is_none());
}

/// A JSON string of some characters, each written one of the ways JSON allows.
fn string_text() -> impl Strategy<Value = String> {
    let chars = prop::sample::select(vec![
        'a', '"', '\\', '/', '\n', '\u{1}', '\u{1f}', '\u{7f}', 'é', '😀', '_', 's',
    ]);
    prop::collection::vec((chars, 0u8..4), 0..6).prop_map(|chars| {
        let mut text = String::from("\"");
        for (c, how) in chars {
            let canonical = serde_json::to_string(&c.to_string()).expect("JSON");
            let canonical = &canonical[1..canonical.len() - 1];
            match how {
                1 | 2 => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        if how == 1 {
                            text.push_str(&format!("\\u{unit:04x}"));
                        } else {
                            text.push_str(&format!("\\u{unit:04X}"));
                        }
                    }
                }
                3 if c == '/' => text.push_str("\\/"),
                _ => text.push_str(canonical),
            }
        }
        text.push('"');
        text
    })
}

fn key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["a", "b", "id", "_sdc_deleted_at", "_sdc_x", "record"]).prop_map(|k| format!("\"{k}\"")),
        1 => string_text(),
    ]
}

fn number_text() -> impl Strategy<Value = String> {
    let finite = prop::num::f64::ANY.prop_filter("finite", |f| f.is_finite());
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        finite
            .clone()
            .prop_map(|f| serde_json::to_string(&f).expect("JSON")),
        finite.prop_map(|f| format!("{f:e}")),
        (-1000i64..1000, 0u32..1000).prop_map(|(i, f)| format!("{i}.{f}")),
        (1u64..100_000, -30i32..30).prop_map(|(m, e)| format!("{m}e{e}")),
        prop::sample::select(vec![
            "-0",
            "0",
            "-0.0",
            "1.50",
            "1E2",
            "18446744073709551616",
            "-9223372036854775809",
            "123456789012345.6",
            "1234567890123456.7",
            "1.7976931348623157e308",
            "5e-324",
            "0.1",
            "100.0"
        ])
        .prop_map(str::to_owned),
    ]
}

fn blank() -> impl Strategy<Value = &'static str> {
    prop_oneof![12 => Just(""), 1 => Just(" "), 1 => Just("\n\t")]
}

fn value_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        string_text(),
        number_text(),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec((inner.clone(), blank()), 0..4).prop_map(|items| {
                let items: Vec<String> = items
                    .into_iter()
                    .map(|(v, b)| format!("{b}{v}{b}"))
                    .collect();
                format!("[{}]", items.join(","))
            }),
            object_text(inner),
        ]
    })
}

fn object_text(values: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop::collection::vec((key_text(), values, blank()), 0..5).prop_map(|entries| {
        let entries: Vec<String> = entries
            .into_iter()
            .map(|(k, v, b)| format!("{k}{b}:{v}"))
            .collect();
        format!("{{{}}}", entries.join(","))
    })
}

fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Whatever way a record is written, the line is the one serialising the record gives,
    /// byte for byte, with and without `_sdc_*` columns.
    #[test]
    fn copied_records_are_the_serialised_ones(record in object_text(value_text()), before in blank(), extracted in any::<bool>()) {
        let extracted = if extracted { r#","time_extracted":"2024-01-01T00:00:00+00:00""# } else { "" };
        let line = format!(r#"{{"type":"RECORD",{before}"stream":"s","record":{before}{record}{extracted}}}"#);
        if let Some(ways) = both_ways(&line) {
            for (copied, serialised, before) in ways {
                prop_assert_eq!(&copied, &before);
                prop_assert_eq!(&serialised, &before);
            }
        }
    }

    /// A record as `serde_json` writes it is always copied.
    #[test]
    fn canonical_records_are_copied(record in object_text(value_text())) {
        if let Ok(value) = serde_json::from_str::<Map<String, Value>>(&record) {
            let canonical = serde_json::to_string(&value).expect("JSON");
            // Floats qualify only where serde_json reads them exactly (see `number`).
            if !value.keys().any(|k| k.starts_with("_sdc_")) && !value.values().any(has_float) {
                prop_assert!(copies(&canonical), "{}", canonical);
            }
        }
    }
}

proptest! {
    /// The word-at-a-time search finds what a byte-at-a-time one finds.
    #[test]
    fn quotes_and_backslashes_are_found_like_byte_by_byte(bytes in prop::collection::vec(prop::sample::select(vec![b'a', b'"', b'\\', 0x80, 0xff, 0, b' ', 0x22 ^ 0x80]), 0..40)) {
        let expected = bytes.iter().position(|&b| b == b'"' || b == b'\\');
        prop_assert_eq!(quote_or_backslash(&bytes, 0), expected);
        if !bytes.is_empty() {
            let from = bytes.len() / 2;
            let expected = bytes[from..].iter().position(|&b| b == b'"' || b == b'\\').map(|at| from + at);
            prop_assert_eq!(quote_or_backslash(&bytes, from), expected);
        }
    }
}
