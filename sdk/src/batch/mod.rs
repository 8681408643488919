//! BATCH messages: records moved as files instead of RECORD lines (Meltano's "fast sync").
//!
//! A tap with a `batch_config` ([`BatchConfig`]) writes each stream's records to files with a
//! [`BatchWriter`] and sends BATCH messages naming them; a target reads them back with a
//! [`BatchReader`] and loads them as if they had come as RECORDs (validated, mapped, and
//! written through the sink's batches).
//!
//! - formats: JSON Lines (`jsonl`) and Apache Parquet (`parquet`), gzip-compressed or not;
//!   parquet columns follow the stream's JSON Schema ([`arrow_schema()`]).
//! - places: local paths, `file://` URLs, and object stores (`s3://bucket/prefix`) with
//!   credentials and endpoint from the standard `AWS_*` environment variables or
//!   `storage.params`.
//!
//! ```
//! use singer_sdk::batch::read_records;
//! use singer_sdk::message::BatchMessage;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let file = dir.path().join("users-1.jsonl");
//! std::fs::write(&file, "{\"id\": 1}\n{\"id\": 2}\n").unwrap();
//! let message = BatchMessage {
//!     stream: "users".into(),
//!     encoding: serde_json::json!({"format": "jsonl", "compression": "none"}),
//!     manifest: vec![format!("file://{}", file.display())],
//! };
//! let records: Vec<_> = read_records(&message).unwrap().collect::<Result<_, _>>().unwrap();
//! assert_eq!(records.len(), 2);
//! ```

mod config;
mod decode;
mod reader;
mod schema;
mod store;
mod writer;

pub use config::{BatchConfig, Compression, DEFAULT_BATCH_SIZE, Encoding, Format, StorageConfig};
pub use reader::{BatchReader, Records, read_records};
pub use schema::{JSON_TEXT, arrow_schema};
pub use writer::BatchWriter;

#[cfg(test)]
mod tests;
