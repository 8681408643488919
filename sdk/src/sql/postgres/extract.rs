//! [`TableStream`]: one table (or view) as a tap stream, read through a server-side cursor
//! in a read-only repeatable-read transaction, so memory stays flat whatever the table's
//! size. The server turns each row into JSON (`row_to_json`), `bytea` as base64, date-times
//! in UTC (a `timestamp` without time zone is taken as UTC, as singer-sdk does).

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt as _;
use serde_json::{Map, Value, json};

use super::client::{connect_async, statement_error};
use super::discover::DiscoverOptions;
use super::{ConnectOptions, Error};
use crate::sql::{Dialect, Postgres, SqlType, json_schema};
use crate::stream::{RecordStream, Stream, SyncContext};

/// Rows fetched from the cursor at a time.
const FETCH_ROWS: usize = 2_000;

/// A column of a discovered table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableColumn {
    /// The column name.
    pub name: String,
    /// Its type.
    pub sql_type: SqlType,
    /// Whether it may be NULL.
    pub nullable: bool,
    /// Its comment, if any.
    pub description: Option<String>,
}

/// A table or view as a stream named `<schema>-<table>`, its properties the columns.
#[derive(Debug, Clone)]
pub struct TableStream {
    connect: Arc<ConnectOptions>,
    name: String,
    schema_name: String,
    table: String,
    is_view: bool,
    description: Option<String>,
    columns: Vec<TableColumn>,
    properties: Map<String, Value>,
    keys: Vec<String>,
    replication_key: Option<String>,
}

impl TableStream {
    pub(super) fn new(
        connect: Arc<ConnectOptions>,
        schema: &str,
        table: &str,
        is_view: bool,
        description: Option<String>,
    ) -> Self {
        TableStream {
            connect,
            name: format!("{schema}-{table}"),
            schema_name: schema.to_owned(),
            table: table.to_owned(),
            is_view,
            description,
            columns: Vec::new(),
            properties: Map::new(),
            keys: Vec::new(),
            replication_key: None,
        }
    }

    pub(super) fn add_column(&mut self, column: TableColumn, options: &DiscoverOptions) {
        let mut schema = json_schema(&column.sql_type, column.nullable, options.types);
        if options.dates_as_string && column.sql_type == SqlType::Date {
            if let Some(object) = schema.as_object_mut() {
                object.remove("format");
            }
        }
        let json = matches!(column.sql_type, SqlType::Json | SqlType::Jsonb);
        if options.json_as_object && json {
            let kind = if column.nullable {
                json!(["object", "null"])
            } else {
                json!("object")
            };
            schema = json!({"type": kind});
        }
        if let (Some(text), Some(object)) = (&column.description, schema.as_object_mut()) {
            object.insert("description".to_owned(), json!(text));
        }
        self.properties.insert(column.name.clone(), schema);
        self.columns.push(column);
    }

    pub(super) fn set_keys(&mut self, keys: Vec<String>) {
        self.keys = keys;
    }

    /// Reads the stream incrementally by `column` (which must be one of its columns) unless
    /// the catalog chooses another key or `FULL_TABLE`: rows come in the key's order, from
    /// the bookmark on.
    ///
    /// # Errors
    /// [`Error::Settings`] when the table has no such column.
    pub fn with_replication_key(mut self, column: &str) -> Result<Self, Error> {
        if !self.columns.iter().any(|c| c.name == column) {
            return Err(Error::Settings(format!(
                "stream `{}` has no column `{column}` to use as replication key",
                self.name
            )));
        }
        self.replication_key = Some(column.to_owned());
        Ok(self)
    }

    /// The database schema.
    #[must_use]
    pub fn schema_name(&self) -> &str {
        &self.schema_name
    }

    /// The table or view.
    #[must_use]
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Whether it is a view (or materialized view or foreign table).
    #[must_use]
    pub fn is_view(&self) -> bool {
        self.is_view
    }

    /// The relation's comment, if any.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The columns, in table order.
    #[must_use]
    pub fn columns(&self) -> &[TableColumn] {
        &self.columns
    }

    /// The cursor's query: every column (`bytea` as base64, `timestamp` as UTC), from `start` on by the
    /// replication key when both are there, in key order.
    fn select(&self, key: Option<&str>, start: Option<&Value>) -> String {
        let table = format!(
            "{}.{}",
            Postgres.quote(&self.schema_name),
            Postgres.quote(&self.table)
        );
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let name = Postgres.quote(&c.name);
                match c.sql_type {
                    SqlType::Bytes => format!("encode({name}, 'base64') AS {name}"),
                    // singer-sdk's rule: a date-time without time zone is UTC.
                    SqlType::Timestamp => format!("({name} AT TIME ZONE 'UTC') AS {name}"),
                    _ => name,
                }
            })
            .collect();
        let mut sql = format!("SELECT {} FROM {table}", columns.join(", "));
        if let Some(key) = key {
            let key = Postgres.quote(key);
            if let Some(start) = start {
                let literal = match start {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                sql.push_str(&format!(" WHERE {key} >= {}", quote_literal(&literal)));
            }
            sql.push_str(&format!(" ORDER BY {key}"));
        }
        format!("SELECT row_to_json(_singer_row)::text FROM ({sql}) _singer_row")
    }
}

/// `'text'`, quotes doubled (with `standard_conforming_strings` on).
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// What the record stream holds between fetches.
struct Cursor {
    client: tokio_postgres::Client,
    buffered: VecDeque<String>,
    done: bool,
    stream: String,
}

impl Stream for TableStream {
    type Record = Map<String, Value>;

    fn name(&self) -> &str {
        &self.name
    }

    fn schema(&self) -> Value {
        json!({"type": "object", "properties": self.properties})
    }

    fn key_properties(&self) -> &[String] {
        &self.keys
    }

    fn replication_key(&self) -> Option<&str> {
        self.replication_key.as_deref()
    }

    /// Rows come ordered by whichever replication key is in effect, the stream's own or the
    /// catalog's ([`SyncContext::replication_key`]).
    fn is_sorted(&self) -> bool {
        true
    }

    fn records<'a>(&'a self, cx: &'a SyncContext) -> RecordStream<'a, Self::Record> {
        let select = self.select(cx.replication_key(), cx.starting_value());
        let start = async move {
            let client = connect_async(&self.connect).await?;
            let open = format!(
                "BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ; SET LOCAL TIME ZONE 'UTC'; \
                 SET LOCAL standard_conforming_strings = on; \
                 DECLARE singer_cursor NO SCROLL CURSOR FOR {select}"
            );
            client
                .batch_execute(&open)
                .await
                .map_err(|e| statement_error(&open, e))?;
            tracing::debug!(stream = self.name, "Opened a cursor.");
            Ok::<_, Error>(Cursor {
                client,
                buffered: VecDeque::new(),
                done: false,
                stream: self.name.clone(),
            })
        };
        let records = futures::stream::once(start);
        Box::pin(records.flat_map(|opened| match opened {
            Err(e) => futures::stream::iter(vec![Err(crate::Error::from(e))]).left_stream(),
            Ok(cursor) => futures::stream::try_unfold(cursor, next_record).right_stream(),
        }))
    }
}

/// The next record, fetching the next rows when the buffer is empty.
async fn next_record(mut cursor: Cursor) -> crate::Result<Option<(Map<String, Value>, Cursor)>> {
    loop {
        if let Some(text) = cursor.buffered.pop_front() {
            let record: Map<String, Value> = serde_json::from_str(&text).map_err(|e| {
                crate::Error::context(
                    format!(
                        "stream `{}`: the server sent a row that is not JSON",
                        cursor.stream
                    ),
                    e,
                )
            })?;
            return Ok(Some((record, cursor)));
        }
        if cursor.done {
            let _ = cursor.client.batch_execute("COMMIT").await;
            return Ok(None);
        }
        let fetch = format!("FETCH {FETCH_ROWS} FROM singer_cursor");
        let messages = cursor.client.simple_query(&fetch).await.map_err(|e| {
            crate::Error::from(
                statement_error(&fetch, e)
                    .doing(&format!("cannot read stream `{}`", cursor.stream)),
            )
        })?;
        for message in messages {
            if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
                if let Some(text) = row.get(0) {
                    cursor.buffered.push_back(text.to_owned());
                }
            }
        }
        if cursor.buffered.len() < FETCH_ROWS {
            cursor.done = true;
        }
    }
}
