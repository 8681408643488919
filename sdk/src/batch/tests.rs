use super::*;
use crate::message::BatchMessage;
use serde_json::{Map, Value, json};

/// A file of the batch fixtures, found in the nearest ancestor that holds them.
fn fixture(name: &str) -> String {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = here
        .ancestors()
        .map(|d| d.join("shared/conformance/singer-sdk-streams/batch-fixtures"))
        .find(|d| d.is_dir())
        .expect("no shared/conformance/singer-sdk-streams/batch-fixtures above the crate");
    format!("file://{}", dir.join(name).display())
}

fn message(encoding: Value, manifest: Vec<String>) -> BatchMessage {
    BatchMessage {
        stream: "users".into(),
        encoding,
        manifest,
    }
}

fn all(message: &BatchMessage) -> crate::Result<Vec<Map<String, Value>>> {
    read_records(message)?.collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn reads_gzip_jsonl_manifests_in_order() {
    let batch = message(
        json!({"format": "jsonl", "compression": "gzip"}),
        vec![fixture("batch.1.jsonl.gz"), fixture("batch.2.jsonl.gz")],
    );
    let ids: Vec<Value> = all(&batch)
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, [json!(1), json!(2), json!(3), json!(4)]);
}

#[test]
fn reads_singer_sdk_parquet_fixtures_with_struct_and_list_columns() {
    let parquet = json!({"format": "parquet", "compression": "gzip"});
    let countries = all(&message(
        parquet.clone(),
        vec![fixture("countries.parquet.gz")],
    ))
    .unwrap();
    assert_eq!(countries.len(), 250);
    let andorra = &countries[0];
    assert_eq!(andorra["code"], json!("AD"));
    assert_eq!(
        andorra["continent"],
        json!({"code": "EU", "name": "Europe"})
    );
    assert_eq!(
        andorra["languages"],
        json!([{"code": "ca", "name": "Catalan"}])
    );
    let continents = all(&message(parquet, vec![fixture("continents.parquet.gz")])).unwrap();
    assert_eq!(continents.len(), 7);
    assert_eq!(
        continents[0],
        *json!({"code": "AF", "name": "Africa"}).as_object().unwrap()
    );
    let plain = json!({"format": "parquet", "compression": "none"});
    let rows = all(&message(plain, vec![fixture("testfile.parquet")])).unwrap();
    assert_eq!(rows.len(), 24);
    assert_eq!(
        rows[0],
        *json!({"f0": 49, "f1": "foo", "f2": true})
            .as_object()
            .unwrap()
    );
}

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "at": {"type": ["null", "string"], "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "price": {"type": "number", "multipleOf": 0.01},
        "ratio": {"type": "number"},
        "ok": {"type": "boolean"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": ["null", "integer"]}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "extra": {"type": "object"},
        "either": {"type": ["string", "integer"]}
    }})
}

fn records() -> Vec<Value> {
    (1..=5)
        .map(|i| {
            json!({
                "id": i,
                "name": if i == 3 { Value::Null } else { json!(format!("user {i}")) },
                "at": format!("2024-01-0{i}T03:04:05.250000+00:00"),
                "day": format!("2024-02-0{i}"),
                "price": 12.5 + f64::from(i),
                "ratio": 0.25,
                "ok": i % 2 == 0,
                "address": {"city": "Oslo", "zip": if i == 2 { Value::Null } else { json!(150 + i) }},
                "tags": ["a", format!("t{i}")],
                "extra": {"nested": [i, {"deep": true}]},
                "either": if i % 2 == 0 { json!("two") } else { json!(i) }
            })
        })
        .collect()
}

fn write_all(config: &BatchConfig) -> Vec<BatchMessage> {
    runtime().block_on(async {
        let mut writer = BatchWriter::new(config, "users", &schema()).unwrap();
        let mut messages = Vec::new();
        for record in records() {
            let line = serde_json::to_vec(&record).unwrap();
            messages.extend(writer.push(&line).await.unwrap());
        }
        messages.extend(writer.finish().await.unwrap());
        assert_eq!(writer.pending(), 0);
        messages
    })
}

#[test]
fn written_files_read_back_as_the_same_records_in_every_encoding() {
    for (format, compression) in [
        ("jsonl", "gzip"),
        ("jsonl", "none"),
        ("parquet", "gzip"),
        ("parquet", "none"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = BatchConfig::from_value(&json!({
            "encoding": {"format": format, "compression": compression},
            "storage": {"root": dir.path(), "prefix": "run-1/"},
            "batch_size": 2
        }))
        .unwrap();
        let messages = write_all(&config);
        assert_eq!(
            messages.len(),
            3,
            "{format}/{compression}: 5 records in files of 2"
        );
        let mut read = Vec::new();
        for batch in &messages {
            assert_eq!(batch.manifest.len(), 1);
            assert!(
                batch.manifest[0].starts_with("file://"),
                "{}",
                batch.manifest[0]
            );
            assert!(
                batch.manifest[0].contains("/run-1/users-"),
                "{}",
                batch.manifest[0]
            );
            assert_eq!(
                batch.encoding,
                json!({"format": format, "compression": compression})
            );
            read.extend(all(batch).unwrap().into_iter().map(Value::Object));
        }
        assert_eq!(read, records(), "{format}/{compression}");
        let gzip_magic = std::fs::read(batch_path(&messages[0])).unwrap()[..2] == [0x1f, 0x8b];
        assert_eq!(gzip_magic, format == "jsonl" && compression == "gzip");
    }
}

fn batch_path(batch: &BatchMessage) -> std::path::PathBuf {
    url::Url::parse(&batch.manifest[0])
        .unwrap()
        .to_file_path()
        .unwrap()
}

#[test]
fn bad_files_fail_with_the_stream_and_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("file://{}/gone.json.gz", dir.path().display());
    let err = all(&message(json!({"format": "jsonl"}), vec![missing])).unwrap_err();
    let text = chain(&err);
    assert!(
        text.contains("gone.json.gz") && text.contains("`users`"),
        "{text}"
    );

    let corrupt = dir.path().join("corrupt.json.gz");
    let mut bytes = std::fs::read(batch_path(&write_all(&gzip_config(dir.path()))[0])).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&corrupt, bytes).unwrap();
    let err = all(&message(
        json!({"format": "jsonl", "compression": "gzip"}),
        vec![format!("file://{}", corrupt.display())],
    ))
    .unwrap_err();
    assert!(err.to_string().contains("corrupt.json.gz"), "{err}");

    let not_parquet = dir.path().join("x.parquet");
    std::fs::write(&not_parquet, "{\"id\": 1}\n").unwrap();
    let err = all(&message(
        json!({"format": "parquet"}),
        vec![not_parquet.display().to_string()],
    ))
    .unwrap_err();
    assert!(
        err.to_string().contains("not a readable parquet file"),
        "{err}"
    );

    let err = read_records(&message(json!({"format": "avro"}), vec![]))
        .err()
        .unwrap();
    assert!(chain(&err).contains("avro"), "{err}");
}

/// The error and its causes, one per line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push('\n');
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn gzip_config(root: &std::path::Path) -> BatchConfig {
    BatchConfig::from_value(&json!({
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": root.join("ok")},
        "batch_size": 100
    }))
    .unwrap()
}

#[test]
fn records_that_do_not_fit_the_parquet_columns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = BatchConfig::from_value(&json!({
        "encoding": {"format": "parquet"},
        "storage": {"root": dir.path()}
    }))
    .unwrap();
    let schema = json!({"type": "object", "properties": {"id": {"type": "integer"}}});
    let mut writer = BatchWriter::new(&config, "users", &schema).unwrap();
    let err = runtime()
        .block_on(async {
            writer.push(br#"{"id": "one"}"#).await?;
            writer.finish().await
        })
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stream `users`") && err.contains("parquet columns"),
        "{err}"
    );
    assert!(BatchWriter::new(&config, "users", &json!({"type": "object"})).is_err());
}

#[test]
fn writers_their_futures_and_readers_are_send() {
    fn send<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let config = BatchConfig::from_value(&json!({
        "encoding": {"format": "parquet"},
        "storage": {"root": dir.path()}
    }))
    .unwrap();
    let mut writer = BatchWriter::new(&config, "users", &schema()).unwrap();
    send(&writer.push(b"{}"));
    send(&writer.finish());
    send(&writer);
    send(&BatchReader::new());
    send(&read_records(&message(json!(null), vec![])).unwrap());
}

#[test]
fn a_writer_that_failed_keeps_failing() {
    let dir = tempfile::tempdir().unwrap();
    // A root under a plain file: its directory cannot be created.
    std::fs::write(dir.path().join("blocker"), "").unwrap();
    let config = BatchConfig::from_value(&json!({
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": dir.path().join("blocker/batches")},
        "batch_size": 2
    }))
    .unwrap();
    let mut writer = BatchWriter::new(&config, "users", &schema()).unwrap();
    runtime().block_on(async {
        assert!(writer.push(br#"{"id": 1}"#).await.unwrap().is_none());
        let err = writer.push(br#"{"id": 2}"#).await.unwrap_err();
        assert!(
            chain(&err).contains("cannot create batch directory"),
            "{err}"
        );
        // Records 1 and 2 are in no file: finishing must not look like success.
        let err = writer.finish().await.unwrap_err().to_string();
        assert!(
            err.contains("stream `users`") && err.contains("in no file"),
            "{err}"
        );
        assert!(err.contains("cannot create batch directory"), "{err}");
        assert!(writer.push(br#"{"id": 3}"#).await.is_err());
    });

    // A record that does not fit the parquet columns is in no file either.
    let config = BatchConfig::from_value(&json!({
        "encoding": {"format": "parquet"},
        "storage": {"root": dir.path().join("ok")}
    }))
    .unwrap();
    let schema = json!({"type": "object", "properties": {"id": {"type": "integer"}}});
    let mut writer = BatchWriter::new(&config, "users", &schema).unwrap();
    runtime().block_on(async {
        writer.push(br#"{"id": 1}"#).await.unwrap();
        // Found when the file is encoded (at the latest), and then for good.
        let pushed = writer.push(br#"{"id": "one"}"#).await;
        assert!(pushed.is_err() || writer.finish().await.is_err());
        assert!(writer.finish().await.is_err());
    });
}
