//! Reading the records of BATCH messages: JSON Lines files, gzip-compressed or not, named by
//! `file://` URLs (or plain paths) in the message's `manifest`.
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

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::message::BatchMessage;

/// The records of every file in the message's manifest, in order.
///
/// # Errors
/// An encoding other than JSON Lines, a manifest entry that is not a local file, or (while
/// iterating) a file that cannot be read or a line that is not a JSON object — each naming
/// the stream and file.
pub fn read_records(
    message: &BatchMessage,
) -> Result<impl Iterator<Item = Result<Map<String, Value>>> + use<>> {
    let format = message
        .encoding
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("jsonl");
    if format != "jsonl" {
        return Err(Error::custom(format!(
            "BATCH for stream `{}` is encoded as `{format}`; only `jsonl` batch files can be read (set the tap's batch_config encoding format to jsonl)",
            message.stream
        )));
    }
    let gzip = message.encoding.get("compression").and_then(Value::as_str) == Some("gzip");
    let files = message
        .manifest
        .iter()
        .map(|entry| local_path(entry, &message.stream))
        .collect::<Result<Vec<_>>>()?;
    let stream = message.stream.clone();
    Ok(files
        .into_iter()
        .flat_map(move |path| records_of(&path, gzip, stream.clone())))
}

fn local_path(entry: &str, stream: &str) -> Result<PathBuf> {
    if let Some(path) = entry.strip_prefix("file://") {
        return Ok(PathBuf::from(path));
    }
    if entry.contains("://") {
        return Err(Error::custom(format!(
            "BATCH for stream `{stream}` names `{entry}`; only local files (file:// URLs) can be read"
        )));
    }
    Ok(PathBuf::from(entry))
}

fn records_of(
    path: &Path,
    gzip: bool,
    stream: String,
) -> Box<dyn Iterator<Item = Result<Map<String, Value>>>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => {
            return Box::new(std::iter::once(Err(Error::context(
                format!(
                    "cannot open batch file `{}` of stream `{stream}`",
                    path.display()
                ),
                e,
            ))));
        }
    };
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let name = path.display().to_string();
    Box::new(
        BufReader::new(reader)
            .lines()
            .enumerate()
            .filter(|(_, line)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
            .map(move |(index, line)| {
                let place = || {
                    format!(
                        "batch file `{name}` of stream `{stream}`, line {}",
                        index + 1
                    )
                };
                let line =
                    line.map_err(|e| Error::context(format!("cannot read {}", place()), e))?;
                match serde_json::from_str(&line) {
                    Ok(Value::Object(record)) => Ok(record),
                    Ok(_) => Err(Error::custom(format!(
                        "{}: a record must be a JSON object",
                        place()
                    ))),
                    Err(e) => Err(Error::context(format!("{}: not valid JSON", place()), e)),
                }
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> String {
        format!(
            "file://{}/../../shared/conformance/singer-sdk-streams/batch-fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    #[test]
    fn reads_gzip_jsonl_manifests_in_order() {
        let message = BatchMessage {
            stream: "users".into(),
            encoding: json!({"format": "jsonl", "compression": "gzip"}),
            manifest: vec![fixture("batch.1.jsonl.gz"), fixture("batch.2.jsonl.gz")],
        };
        let ids: Vec<Value> = read_records(&message)
            .unwrap()
            .map(|r| r.unwrap()["id"].clone())
            .collect();
        assert_eq!(ids, [json!(1), json!(2), json!(3), json!(4)]);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let mut message = BatchMessage {
            stream: "users".into(),
            encoding: json!({"format": "parquet"}),
            manifest: vec![],
        };
        assert!(read_records(&message).is_err());
        message.encoding = json!({"format": "jsonl"});
        message.manifest = vec!["s3://bucket/x.jsonl".into()];
        let err = read_records(&message).err().unwrap().to_string();
        assert!(err.contains("only local files"), "{err}");
    }
}
