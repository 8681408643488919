//! Parquet batch files read back as JSON records, through the `parquet` and `arrow-json`
//! crates: every row group must decode, and each row becomes the JSON object arrow writes for
//! it (nulls kept as `null`). Also the other way, for the BATCH files the harness feeds
//! targets: JSON records to a parquet file whose column types arrow infers from them.

use std::sync::Arc;

use arrow_json::ReaderBuilder;
use arrow_json::reader::infer_json_schema_from_iterator;
use arrow_json::writer::{JsonArray, WriterBuilder};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use super::FileRecords;

/// The records of a parquet file (already decompressed when it was gzip data).
pub(super) fn records(data: Vec<u8>) -> FileRecords {
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(data))
        .and_then(|builder| builder.build())
        .map_err(|e| format!("not a readable parquet file ({e})"))?;
    let mut json = Vec::new();
    let mut writer = WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, JsonArray>(&mut json);
    for batch in reader {
        let batch = batch.map_err(|e| format!("cannot decode a row group ({e})"))?;
        writer
            .write(&batch)
            .map_err(|e| format!("a column has no JSON form ({e})"))?;
    }
    writer
        .finish()
        .map_err(|e| format!("a column has no JSON form ({e})"))?;
    drop(writer);
    if json.is_empty() {
        return Ok(Vec::new());
    }
    match serde_json::from_slice(&json) {
        Ok(Value::Array(rows)) => Ok(rows
            .into_iter()
            .filter_map(|row| match row {
                Value::Object(row) => Some(row),
                _ => None,
            })
            .collect()),
        _ => Err("its rows do not convert to JSON objects".to_owned()),
    }
}

/// A parquet file (uncompressed pages, one row group) holding `rows`, JSON objects whose
/// values are scalars: integers become `Int64` columns, strings `Utf8`, all nullable.
pub(crate) fn write(rows: &[Value]) -> Result<Vec<u8>, String> {
    let why = |e: &dyn std::fmt::Display| format!("cannot write a parquet file ({e})");
    let schema =
        Arc::new(infer_json_schema_from_iterator(rows.iter().map(Ok)).map_err(|e| why(&e))?);
    let mut decoder = ReaderBuilder::new(schema.clone())
        .build_decoder()
        .map_err(|e| why(&e))?;
    decoder.serialize(rows).map_err(|e| why(&e))?;
    let mut file = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut file, schema, None).map_err(|e| why(&e))?;
    if let Some(batch) = decoder.flush().map_err(|e| why(&e))? {
        writer.write(&batch).map_err(|e| why(&e))?;
    }
    writer.close().map_err(|e| why(&e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{records, write};

    #[test]
    fn written_parquet_files_read_back_as_the_same_records() {
        let rows: Vec<_> = (1..=3)
            .map(|i| json!({"id": i, "payload": format!("row {i}")}))
            .collect();
        let back = records(write(&rows).unwrap()).unwrap();
        let back: Vec<_> = back.into_iter().map(serde_json::Value::Object).collect();
        assert_eq!(back, rows);
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/conformance/singer-sdk-streams/batch-fixtures")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn singer_sdk_parquet_files_decode_with_their_nested_columns() {
        // singer-sdk's `.parquet.gz`: gzip-compressed pages inside a parquet file.
        let rows = records(fixture("countries.parquet.gz")).unwrap();
        assert!(!rows.is_empty());
        // Every row has the same keys, nested columns decode to JSON structure.
        let keys: Vec<_> = rows[0].keys().collect();
        assert!(rows.iter().all(|r| r.keys().collect::<Vec<_>>() == keys));
        assert!(
            rows.iter()
                .flat_map(|r| r.values())
                .any(|v| v.is_object() || v.is_array()),
            "no struct or list column decoded: {:?}",
            rows[0]
        );
        let plain = records(fixture("testfile.parquet")).unwrap();
        assert!(!plain.is_empty());
    }

    #[test]
    fn a_file_that_is_not_parquet_is_one_clear_error() {
        let e = records(b"PAR1 but not really PAR1".to_vec()).unwrap_err();
        assert!(e.starts_with("not a readable parquet file"), "{e}");
        assert!(records(Vec::new()).is_err());
    }
}
