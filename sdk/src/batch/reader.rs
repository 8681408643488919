//! Reading the records of BATCH messages: every file of the manifest, local or in an object
//! store, JSON Lines (gzip-compressed or not, told by the file's first bytes) or parquet.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::vec;

use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::ChunkReader;
use serde_json::{Map, Value};

use super::config::{Encoding, Format, StorageConfig};
use super::decode;
use super::store::{Place, Stores, block_on};
use crate::error::{Error, Result};
use crate::message::BatchMessage;

/// The records of one file, or its error.
type FileRecords = Box<dyn Iterator<Item = Result<Map<String, Value>>> + Send>;

/// The records of one BATCH message, file by file, in manifest order; files are opened as the
/// iteration reaches them. [`Records::locate`] says which file and record the last one was,
/// for errors found after reading (a record that does not match its schema).
pub struct Records {
    places: vec::IntoIter<Place>,
    format: Format,
    stream: String,
    file: Option<(String, FileRecords)>,
    record: u64,
}

impl Records {
    /// Where the last record returned came from: "batch file `<url>`, record <n>" (counted
    /// from 1 within its file).
    #[must_use]
    pub fn position(&self) -> Option<String> {
        self.file
            .as_ref()
            .map(|(url, _)| format!("batch file `{url}`, record {}", self.record))
    }

    /// `error` with the [`position`](Self::position) of the last record as its context.
    #[must_use]
    pub fn locate(&self, error: Error) -> Error {
        match self.position() {
            Some(position) => Error::context(position, error),
            None => error,
        }
    }
}

impl Iterator for Records {
    type Item = Result<Map<String, Value>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((_, records)) = &mut self.file
                && let Some(record) = records.next()
            {
                self.record += 1;
                return Some(record);
            }
            let place = self.places.next()?;
            self.record = 0;
            let records = file_records(&place, self.format, &self.stream);
            self.file = Some((place.url(), records));
        }
    }
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("stream", &self.stream)
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads BATCH messages; keeps the object stores it opened for the next messages.
///
/// ```
/// use singer_sdk::batch::BatchReader;
/// use singer_sdk::message::BatchMessage;
///
/// let dir = tempfile::tempdir().unwrap();
/// let file = dir.path().join("users-1.json");
/// std::fs::write(&file, "{\"id\": 1}\n{\"id\": 2}\n").unwrap();
/// let message = BatchMessage {
///     stream: "users".into(),
///     encoding: serde_json::json!({"format": "jsonl", "compression": "none"}),
///     manifest: vec![format!("file://{}", file.display())],
/// };
/// let mut reader = BatchReader::new();
/// let records: Vec<_> = reader.read(&message).unwrap().collect::<Result<_, _>>().unwrap();
/// assert_eq!(records.len(), 2);
/// ```
#[derive(Debug, Default)]
pub struct BatchReader {
    stores: Stores,
}

impl BatchReader {
    /// A reader whose object stores take their settings from the environment.
    #[must_use]
    pub fn new() -> Self {
        BatchReader::default()
    }

    /// A reader whose object stores also apply `storage.params` (credentials, endpoint).
    #[must_use]
    pub fn with_storage(storage: &StorageConfig) -> Self {
        BatchReader {
            stores: Stores::new(storage.store_options()),
        }
    }

    /// The records of every file in the message's manifest, in order; files are opened as
    /// the iteration reaches them.
    ///
    /// # Errors
    /// An encoding this SDK cannot read, or a manifest entry that names no usable place;
    /// while iterating, a file that is missing or unreadable, a corrupt gzip or parquet file,
    /// or a line that is not a JSON object — each naming the stream and the file.
    pub fn read(&mut self, message: &BatchMessage) -> Result<Records> {
        let encoding =
            Encoding::from_message(&message.encoding).map_err(|e| in_stream(&message.stream, e))?;
        let places = message
            .manifest
            .iter()
            .map(|entry| self.stores.place(entry))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| in_stream(&message.stream, e))?;
        Ok(Records {
            places: places.into_iter(),
            format: encoding.format,
            stream: message.stream.clone(),
            file: None,
            record: 0,
        })
    }
}

/// The records of every file in the message's manifest, in order, with object stores set up
/// from the environment (see [`BatchReader`]).
///
/// # Errors
/// As [`BatchReader::read`].
pub fn read_records(message: &BatchMessage) -> Result<Records> {
    BatchReader::new().read(message)
}

fn in_stream(stream: &str, error: Error) -> Error {
    Error::context(format!("BATCH for stream `{stream}`"), error)
}

fn file_records(place: &Place, format: Format, stream: &str) -> FileRecords {
    let name = place.url();
    let place_of = |what: &str| format!("{what} batch file `{name}` of stream `{stream}`");
    match open(place) {
        Err(e) => Box::new(std::iter::once(Err(Error::context(
            place_of("cannot read"),
            e,
        )))),
        Ok(source) => match format {
            Format::Jsonl => jsonl(source, name.clone(), stream.to_owned()),
            Format::Parquet => match parquet_rows(source) {
                Ok(rows) => Box::new(rows.map(move |row| {
                    row.map_err(|e| {
                        Error::custom(format!("cannot decode parquet batch file `{name}`: {e}"))
                    })
                })),
                Err(e) => Box::new(std::iter::once(Err(Error::custom(format!(
                    "{}: not a readable parquet file ({e}); check the BATCH encoding and the file",
                    place_of("cannot decode")
                ))))),
            },
        },
    }
}

/// A file's bytes: a local file to stream, or a fetched object held in memory.
enum Source {
    File(File),
    Bytes(Bytes),
}

fn open(place: &Place) -> Result<Source> {
    match place {
        Place::Local(path) => File::open(path)
            .map(Source::File)
            .map_err(|e| Error::context(format!("cannot open `{}`", path.display()), e)),
        Place::Remote { .. } => block_on(place.fetch())?.map(Source::Bytes),
    }
}

fn jsonl(source: Source, name: String, stream: String) -> FileRecords {
    let mut reader: BufReader<Box<dyn Read + Send>> = BufReader::new(match source {
        Source::File(file) => Box::new(file),
        Source::Bytes(bytes) => Box::new(Cursor::new(bytes)),
    });
    let gzip = reader
        .fill_buf()
        .is_ok_and(|head| head.starts_with(&GZIP_MAGIC));
    let reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    Box::new(
        reader
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
                let line = line.map_err(|e| {
                    let hint = if gzip {
                        " (a corrupt or truncated gzip file?)"
                    } else {
                        ""
                    };
                    Error::context(format!("cannot read {}{hint}", place()), e)
                })?;
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

type Rows = Box<dyn Iterator<Item = std::result::Result<Map<String, Value>, String>> + Send>;

fn parquet_rows(source: Source) -> std::result::Result<Rows, String> {
    match source {
        Source::File(file) => {
            let mut head = [0u8; 2];
            let gzip = (&file).read_exact(&mut head).is_ok() && head == GZIP_MAGIC;
            if gzip {
                let mut data = Vec::new();
                flate2::read::MultiGzDecoder::new(rewound(&file)?)
                    .read_to_end(&mut data)
                    .map_err(|e| format!("corrupt gzip: {e}"))?;
                return decode_parquet(Bytes::from(data));
            }
            decode_parquet(file)
        }
        Source::Bytes(bytes) if bytes.starts_with(&GZIP_MAGIC) => {
            let mut data = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut data)
                .map_err(|e| format!("corrupt gzip: {e}"))?;
            decode_parquet(Bytes::from(data))
        }
        Source::Bytes(bytes) => decode_parquet(bytes),
    }
}

/// The file again, read from its start.
fn rewound(file: &File) -> std::result::Result<File, String> {
    use std::io::{Seek, SeekFrom};
    let mut file = file.try_clone().map_err(|e| e.to_string())?;
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    Ok(file)
}

fn decode_parquet<R: ChunkReader + 'static>(source: R) -> std::result::Result<Rows, String> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(source)
        .and_then(|builder| builder.with_batch_size(1024).build())
        .map_err(|e| e.to_string())?;
    Ok(Box::new(reader.flat_map(|batch| -> vec::IntoIter<_> {
        match batch {
            Ok(batch) => match decode::rows(&batch) {
                Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>().into_iter(),
                Err(e) => vec![Err(e)].into_iter(),
            },
            Err(e) => vec![Err(e.to_string())].into_iter(),
        }
    })))
}
