//! One stream's sink: each batch is one committed transaction on the shared connection.

use std::sync::Arc;

use rusqlite::{ErrorCode, Transaction, params_from_iter};
use serde_json::{Map, Value};
use singer_sdk::sink::{Batch, Fields, Sink, StreamSchema};
use singer_sdk::sql::{Dialect, SqlType, Sqlite};
use singer_sdk::target::{LoadMethod, TargetOptions};
use singer_sdk::time::format_timestamp;
use singer_sdk::{Error, Result};

use crate::client::{self, Client};
use crate::table::{self, Column, OnConflict, Param};

/// `_sdc_table_version`, singer-sdk's version column.
const VERSION_COLUMN: &str = "_sdc_table_version";
/// `_sdc_deleted_at`, singer-sdk's soft-delete column.
const DELETED_AT_COLUMN: &str = "_sdc_deleted_at";

/// How records meet the rows already in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// `INSERT`. A record whose key the table's primary key already holds replaces that row
    /// (a primary key allows one row per key), with a warning.
    Append,
    /// `INSERT … ON CONFLICT (key) DO UPDATE`: the table's primary key is the stream's key.
    Upsert,
    /// `UPDATE … WHERE key = …`, then `INSERT` when no row matched: the stream's key is not
    /// the table's primary key (the key changed since the table was created).
    UpdateThenInsert,
}

/// Loads one stream into its table.
pub(crate) struct SqliteSink {
    client: Arc<Client>,
    stream: String,
    table: String,
    columns: Vec<Column>,
    /// The stream's key, as column names.
    keys: Vec<String>,
    /// The stream's key, as property names.
    key_properties: Vec<String>,
    mode: WriteMode,
    /// Whether the table has a primary key (so an append can conflict).
    table_has_key: bool,
    /// Advice appended to write errors when the table's key is not the stream's.
    key_hint: String,
    hard_delete: bool,
    add_record_metadata: bool,
    warned_conflict: bool,
    warned_unversioned: bool,
}

impl SqliteSink {
    /// Prepares the stream's table and the sink writing into it.
    ///
    /// # Errors
    /// Bad stream or property names, two streams sharing a table, or failing DDL.
    pub(crate) fn open(
        client: &Arc<Client>,
        stream: &StreamSchema,
        options: &TargetOptions,
    ) -> Result<SqliteSink> {
        let table_name = table::conform_name(&stream.name);
        if table_name.is_empty() {
            return Err(Error::custom(format!(
                "stream `{}` has no letters, digits, `_`, `-` or `.` to make a table name of; rename it in the tap (or with a stream map)",
                stream.name
            )));
        }
        let mut columns = table::columns(stream, client.timestamp_column.as_deref())?;
        if columns.is_empty() {
            return Err(Error::custom(format!(
                "stream `{}` has no properties, so table `{table_name}` would have no columns; the tap must declare at least one property",
                stream.name
            )));
        }
        let keys: Vec<String> = stream
            .key_properties
            .iter()
            .map(|k| table::conform_name(k))
            .collect();
        let info = client.prepare_table(&stream.name, &table_name, &columns, &keys, options)?;
        // Under schema_policy `version`, a column may now load into `<column>__v2`.
        for column in &mut columns {
            column.name = info.plan.column_for(&column.name).to_owned();
        }
        let keys: Vec<String> = keys
            .iter()
            .map(|k| info.plan.column_for(k).to_owned())
            .collect();
        let same_key = !keys.is_empty() && {
            let mut a = keys.clone();
            let mut b = info.primary_key.clone();
            a.sort();
            b.sort();
            a == b
        };
        let key_hint = if info.primary_key.is_empty() || same_key || keys.is_empty() {
            String::new()
        } else {
            format!(
                "; table `{table_name}` has primary key ({}) but the stream's key is now ({}): load into a new table, or use load_method `overwrite` to recreate it",
                info.primary_key.join(", "),
                keys.join(", ")
            )
        };
        let mode = match options.load_method {
            LoadMethod::Upsert if keys.is_empty() => {
                tracing::info!(
                    stream = stream.name,
                    "Stream has no key properties: upsert appends its records."
                );
                WriteMode::Append
            }
            LoadMethod::Upsert if same_key => WriteMode::Upsert,
            LoadMethod::Upsert => {
                tracing::warn!(
                    stream = stream.name,
                    table = table_name,
                    primary_key = ?info.primary_key,
                    key = ?keys,
                    "The table's primary key is not the stream's key: upserting by UPDATE then INSERT, through an index on the key."
                );
                ensure_key_index(client, &stream.name, &table_name, &keys)?;
                WriteMode::UpdateThenInsert
            }
            LoadMethod::AppendOnly | LoadMethod::Overwrite => WriteMode::Append,
        };
        if !key_hint.is_empty() && mode != WriteMode::UpdateThenInsert {
            tracing::warn!(
                stream = stream.name,
                table = table_name,
                primary_key = ?info.primary_key,
                key = ?keys,
                "The table's primary key is not the stream's key; the table keeps its primary key."
            );
        }
        Ok(SqliteSink {
            client: Arc::clone(client),
            stream: stream.name.clone(),
            table: table_name,
            columns,
            keys,
            key_properties: stream.key_properties.clone(),
            mode,
            table_has_key: !info.primary_key.is_empty(),
            key_hint,
            hard_delete: options.hard_delete,
            add_record_metadata: options.add_record_metadata,
            warned_conflict: false,
            warned_unversioned: false,
        })
    }

    fn write_error(&self, count: usize, e: rusqlite::Error) -> Error {
        let hint = match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure) => {
                "; the write failed (disk full, file size limit or I/O error): free space and rerun, the batch was rolled back and its state not acknowledged"
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                "; another process held the database lock for over a minute: stop it and rerun"
            }
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
                "; the database file is not writable: check its permissions and those of its directory"
            }
            _ => "",
        };
        Error::context(
            format!(
                "cannot write {count} records of stream `{}` to table `{}` in `{}`{}{hint}",
                self.stream,
                self.table,
                self.client.path.display(),
                self.key_hint
            ),
            e,
        )
    }

    /// The values of a record's columns, in column order.
    fn params<'a>(
        &'a self,
        record: &'a Map<String, Value>,
        loaded_at: &'a Value,
    ) -> Vec<Param<'a>> {
        let mut fields = Fields::new(record);
        self.columns
            .iter()
            .map(|c| {
                Param(match &c.property {
                    Some(property) => fields.get(property),
                    None => Some(loaded_at),
                })
            })
            .collect()
    }

    /// Writes `records` in `tx`; returns how many replaced a row with the same primary key
    /// in append mode.
    fn write_records(
        &self,
        tx: &Transaction<'_>,
        records: &[Map<String, Value>],
        loaded_at: &Value,
    ) -> rusqlite::Result<usize> {
        let params = |record| self.params(record, loaded_at);
        let mut replaced = 0;
        match self.mode {
            WriteMode::Append => {
                let mut insert = tx.prepare_cached(&table::insert(
                    &self.table,
                    &self.columns,
                    OnConflict::Fail,
                ))?;
                for record in records {
                    match insert.execute(params_from_iter(params(record))) {
                        Ok(_) => {}
                        Err(e) if self.table_has_key && is_key_conflict(&e) => {
                            let mut replace = tx.prepare_cached(&table::insert(
                                &self.table,
                                &self.columns,
                                OnConflict::UpdateAny,
                            ))?;
                            replace.execute(params_from_iter(params(record)))?;
                            replaced += 1;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            WriteMode::Upsert => {
                let mut upsert = tx.prepare_cached(&table::insert(
                    &self.table,
                    &self.columns,
                    OnConflict::UpdateOn(&self.keys),
                ))?;
                for record in records {
                    upsert.execute(params_from_iter(params(record)))?;
                }
            }
            WriteMode::UpdateThenInsert => {
                let mut update = tx.prepare_cached(&table::update_by_key(
                    &self.table,
                    &self.columns,
                    &self.keys,
                ))?;
                let mut insert = tx.prepare_cached(&table::insert(
                    &self.table,
                    &self.columns,
                    OnConflict::Fail,
                ))?;
                for record in records {
                    let mut values = params(record);
                    values.extend(self.key_properties.iter().map(|k| Param(record.get(k))));
                    if update.execute(params_from_iter(values))? == 0 {
                        insert.execute(params_from_iter(params(record)))?;
                    }
                }
            }
        }
        Ok(replaced)
    }
}

impl Sink for SqliteSink {
    fn write_batch(&mut self, batch: Batch) -> Result<()> {
        let records = if self.mode == WriteMode::Append {
            batch.records
        } else {
            let (records, merged) = table::dedupe_by_key(batch.records, &self.key_properties);
            if merged > 0 {
                tracing::debug!(
                    stream = self.stream,
                    merged,
                    "Merged records with the same key within a batch (the last one wins)."
                );
            }
            records
        };
        let count = records.len();
        let loaded_at = Value::from(format_timestamp(batch.batched_at));
        let client = Arc::clone(&self.client);
        let mut connection = client.connection();
        let tx = connection
            .transaction()
            .map_err(|e| self.write_error(count, e))?;
        let replaced = self
            .write_records(&tx, &records, &loaded_at)
            .map_err(|e| self.write_error(count, e))?;
        tx.commit().map_err(|e| self.write_error(count, e))?;
        drop(connection);
        if replaced > 0 && !self.warned_conflict {
            self.warned_conflict = true;
            tracing::warn!(
                stream = self.stream,
                table = self.table,
                replaced,
                "Records whose key the table already holds replaced the stored rows: a table with a primary key keeps one row per key, even with load_method append-only."
            );
        }
        tracing::debug!(
            stream = self.stream,
            table = self.table,
            count,
            "Batch committed."
        );
        Ok(())
    }

    /// singer-sdk's SQL sink behaviour: ensure `_sdc_table_version`; with `hard_delete`,
    /// `DELETE … WHERE _sdc_table_version < version`; otherwise ensure `_sdc_deleted_at` and
    /// set it (to now) on rows of older versions not yet marked. Rows without a version
    /// (loaded without `add_record_metadata`) are left alone, as in singer-sdk.
    fn activate_version(&mut self, version: i64) -> Result<()> {
        if !self.add_record_metadata && !self.warned_unversioned {
            self.warned_unversioned = true;
            tracing::warn!(
                stream = self.stream,
                "ACTIVATE_VERSION: rows carry their version (`_sdc_table_version`) only with add_record_metadata on, and rows without one are kept."
            );
        }
        let client = Arc::clone(&self.client);
        let fail = |e: rusqlite::Error| {
            Error::context(
                format!(
                    "cannot activate version {version} of stream `{}` in table `{}` of `{}`",
                    self.stream,
                    self.table,
                    client.path.display()
                ),
                e,
            )
        };
        let mut connection = client.connection();
        let tx = connection.transaction().map_err(fail)?;
        if !client::has_column(&tx, &self.table, VERSION_COLUMN).map_err(fail)? {
            let ty = Sqlite.type_name(&SqlType::BigInt);
            client::add_column(&tx, &self.table, VERSION_COLUMN, &ty).map_err(fail)?;
        }
        let table = table::quote(&self.table);
        let version_column = table::quote(VERSION_COLUMN);
        let affected = if self.hard_delete {
            tx.execute(
                &format!("DELETE FROM {table} WHERE {version_column} < ?1"),
                [version],
            )
            .map_err(fail)?
        } else {
            if !client::has_column(&tx, &self.table, DELETED_AT_COLUMN).map_err(fail)? {
                let ty = Sqlite.type_name(&SqlType::TimestampTz);
                client::add_column(&tx, &self.table, DELETED_AT_COLUMN, &ty).map_err(fail)?;
            }
            let deleted_at = table::quote(DELETED_AT_COLUMN);
            tx.execute(
                &format!(
                    "UPDATE {table} SET {deleted_at} = ?1 WHERE {version_column} < ?2 AND {deleted_at} IS NULL"
                ),
                rusqlite::params![format_timestamp(chrono::Utc::now()), version],
            )
            .map_err(fail)?
        };
        tx.commit().map_err(fail)?;
        tracing::info!(
            stream = self.stream,
            table = self.table,
            version,
            rows = affected,
            action = if self.hard_delete {
                "deleted"
            } else {
                "marked deleted"
            },
            "Activated table version."
        );
        Ok(())
    }
}

fn is_key_conflict(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.code == ErrorCode::ConstraintViolation
                && matches!(
                    failure.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY | rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                )
    )
}

/// A (non-unique) index on the stream's key, so `UPDATE … WHERE key = …` does not scan.
fn ensure_key_index(
    client: &Client,
    stream: &str,
    table_name: &str,
    keys: &[String],
) -> Result<()> {
    let index = format!("{table_name}__key__{}", keys.join("__"));
    let sql = format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
        table::quote(&index),
        table::quote(table_name),
        keys.iter()
            .map(|k| table::quote(k))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut connection = client.connection();
    let fail = |e: rusqlite::Error| {
        Error::context(
            format!(
                "cannot index the key of stream `{stream}` in table `{table_name}` of `{}`",
                client.path.display()
            ),
            e,
        )
    };
    let tx = connection.transaction().map_err(fail)?;
    tx.execute(&sql, []).map_err(fail)?;
    tx.commit().map_err(fail)
}
