//! [`TableSink`]: one stream's table. Every batch is one transaction: `COPY` into the table
//! (append to a table without primary key, or a merge whose keys are not in the table yet),
//! or `COPY` into a temporary staging table and one `INSERT … ON CONFLICT DO UPDATE` (or
//! `UPDATE` + `INSERT` when the table's primary key is not the stream's key), duplicates
//! within the batch resolved to the last record.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::copy::{CopyColumn, encode_row};
use super::ddl::identifiers;
use super::loader::{DEFAULT_SCHEMA, shown};
use super::{Client, Error, Loader, Result, TableInfo};
use crate::sink::{Batch, Sink, StreamSchema};
use crate::sql::{Dialect, Namer, Postgres, SqlType, TableName, TypeMapper};
use crate::target::LoadMethod;

/// `_sdc_table_version`, singer-sdk's version column.
const VERSION_COLUMN: &str = "_sdc_table_version";
/// `_sdc_deleted_at`, singer-sdk's soft-delete column.
const DELETED_AT_COLUMN: &str = "_sdc_deleted_at";
/// The per-connection staging table.
const STAGING: &str = "pg_temp._singer_staging";
/// COPY data is sent in chunks of about this many bytes.
const CHUNK_BYTES: usize = 64 * 1024;
/// After a direct `COPY` of a merge met keys already in the table, this many batches go
/// through staging before the next direct try; the count doubles (up to
/// [`DIRECT_BACKOFF_MAX`]) while tries keep meeting existing keys.
const DIRECT_BACKOFF_MIN: u32 = 16;
/// The most batches staged between two direct tries.
const DIRECT_BACKOFF_MAX: u32 = 1024;

/// How a batch meets the rows already in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `COPY` straight into the table.
    Append,
    /// `COPY` into the table while its primary key (the stream's key) refuses no row;
    /// otherwise staging, then `INSERT … ON CONFLICT (key) DO UPDATE`.
    Merge,
    /// Staging, then `UPDATE … FROM` and `INSERT … WHERE NOT EXISTS`: the stream's key is
    /// not the table's primary key.
    UpdateInsert,
}

/// Loads one stream into its PostgreSQL table, on connections from the [`Loader`]'s pool.
#[derive(Debug)]
pub struct TableSink {
    loader: Arc<Loader>,
    stream: String,
    table: TableName,
    info: TableInfo,
    /// Property → column type, in column order.
    copy: Vec<CopyColumn>,
    /// The columns loaded, in the same order.
    columns: Vec<String>,
    /// The stream's key, as columns and as properties.
    keys: Vec<String>,
    key_properties: Vec<String>,
    mode: Mode,
    warned_nul: bool,
    /// Merges staged before the next direct `COPY` is tried.
    staged_before_direct: u32,
    /// How many merges to stage after the next direct try that meets existing keys.
    direct_backoff: u32,
}

impl TableSink {
    pub(super) fn open(loader: Arc<Loader>, stream: &StreamSchema) -> Result<TableSink> {
        let namer = Namer::new(&Postgres).style(loader.name_style_in_use());
        let default_schema = loader.options().default_target_schema.clone();
        let mut table = namer.table_name(&stream.name, default_schema.as_deref())?;
        if table.schema.is_none() {
            table.schema = Some(DEFAULT_SCHEMA.to_owned());
        }
        let properties: Vec<(&String, &Value)> = stream
            .properties()
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        if properties.is_empty() {
            return Err(Error::Settings(format!(
                "stream `{}` has no properties, so table `{}` would have no columns; the tap must declare at least one property",
                stream.name,
                shown(&table)
            )));
        }
        let names = namer.conform_all(properties.iter().map(|(name, _)| name.as_str()))?;
        let mapper = TypeMapper::new(&Postgres);
        let wanted: Vec<(String, SqlType)> = names
            .iter()
            .zip(&properties)
            .map(|(column, (_, schema))| (column.clone(), mapper.column_type(column, schema)))
            .collect();
        let mut keys = Vec::new();
        for key in &stream.key_properties {
            let Some(i) = properties.iter().position(|(name, _)| *name == key) else {
                return Err(Error::Settings(format!(
                    "stream `{}`: key property `{key}` is not one of its properties; fix the tap's key_properties or schema",
                    stream.name
                )));
            };
            keys.push(names[i].clone());
        }
        let client = loader.client()?;
        let prepared = loader.prepare(&client, &stream.name, &table, &wanted, &keys)?;
        drop(client);
        let columns: Vec<String> = names
            .iter()
            .map(|n| prepared.plan.column_for(n).to_owned())
            .collect();
        let keys: Vec<String> = keys
            .iter()
            .map(|k| prepared.plan.column_for(k).to_owned())
            .collect();
        let copy = columns
            .iter()
            .zip(&properties)
            .map(|(column, (property, _))| CopyColumn {
                property: (*property).clone(),
                sql_type: prepared
                    .info
                    .column_type(column)
                    .cloned()
                    .unwrap_or(SqlType::Text),
            })
            .collect();
        let same_key = !keys.is_empty() && sorted(&keys) == sorted(&prepared.info.primary_key);
        let mode = if same_key {
            Mode::Merge
        } else if !keys.is_empty()
            && (loader.options().load_method == LoadMethod::Upsert
                || !prepared.info.primary_key.is_empty())
        {
            tracing::warn!(
                stream = stream.name,
                table = %shown(&table),
                primary_key = ?prepared.info.primary_key,
                key = ?keys,
                "The table's primary key is not the stream's key: upserting by UPDATE then INSERT."
            );
            Mode::UpdateInsert
        } else {
            Mode::Append
        };
        Ok(TableSink {
            loader,
            stream: stream.name.clone(),
            table,
            info: prepared.info,
            copy,
            columns,
            keys,
            key_properties: stream.key_properties.clone(),
            mode,
            warned_nul: false,
            staged_before_direct: 0,
            direct_backoff: DIRECT_BACKOFF_MIN,
        })
    }

    /// The statements that move the staged rows into the table.
    fn merge_sql(&self) -> String {
        let table = self.table.qualified(&Postgres);
        let columns = identifiers(&self.columns);
        let others: Vec<&String> = self
            .columns
            .iter()
            .filter(|c| !self.keys.contains(c))
            .collect();
        match self.mode {
            Mode::Append => String::new(),
            Mode::Merge => {
                let action = if others.is_empty() {
                    "DO NOTHING".to_owned()
                } else {
                    let sets: Vec<String> = others
                        .iter()
                        .map(|c| {
                            let c = Postgres.identifier(c);
                            format!("{c} = EXCLUDED.{c}")
                        })
                        .collect();
                    format!("DO UPDATE SET {}", sets.join(", "))
                };
                format!(
                    "INSERT INTO {table} ({columns}) SELECT {columns} FROM {STAGING} ON CONFLICT ({}) {action}",
                    identifiers(&self.keys)
                )
            }
            Mode::UpdateInsert => {
                let matches: Vec<String> = self
                    .keys
                    .iter()
                    .map(|k| {
                        let k = Postgres.identifier(k);
                        format!("t.{k} = s.{k}")
                    })
                    .collect();
                let matches = matches.join(" AND ");
                let mut sql = String::new();
                if !others.is_empty() {
                    let sets: Vec<String> = others
                        .iter()
                        .map(|c| {
                            let c = Postgres.identifier(c);
                            format!("{c} = s.{c}")
                        })
                        .collect();
                    sql = format!(
                        "UPDATE {table} AS t SET {} FROM {STAGING} AS s WHERE {matches}; ",
                        sets.join(", ")
                    );
                }
                sql.push_str(&format!(
                    "INSERT INTO {table} ({columns}) SELECT {columns} FROM {STAGING} AS s WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE {matches})"
                ));
                sql
            }
        }
    }

    /// Warns once per sink that NUL characters were replaced.
    fn warn_nul(&mut self, replaced: bool) {
        if replaced && !self.warned_nul {
            self.warned_nul = true;
            tracing::warn!(
                stream = self.stream,
                table = %shown(&self.table),
                "Records hold NUL characters, which PostgreSQL text cannot: each became U+FFFD."
            );
        }
    }

    /// Writes the batch in one transaction. A merge first tries `COPY` straight into the
    /// table: when no key is in the table yet (a first load, or new rows) that is all the
    /// upsert has to do; the primary key refuses a row whose key is there, the transaction
    /// is rolled back, and the batch goes through the staging table instead (as the next
    /// batches do, for a while).
    fn write(&mut self, records: Vec<Map<String, Value>>) -> Result<u64> {
        let loader = Arc::clone(&self.loader);
        let client = loader.client()?;
        let direct = match self.mode {
            Mode::Append => true,
            Mode::Merge => self.staged_before_direct == 0,
            Mode::UpdateInsert => false,
        };
        let mut rows = CopyRows::new(&self.copy, records, direct && self.mode == Mode::Merge);
        let outcome = if direct {
            let sql = format!(
                "COPY {} ({}) FROM STDIN",
                self.table.qualified(&Postgres),
                identifiers(&self.columns)
            );
            match transaction(&client, |client| {
                client.copy_in(&sql, std::iter::from_fn(|| rows.next_chunk()))
            }) {
                Ok(copied) => {
                    self.direct_backoff = DIRECT_BACKOFF_MIN;
                    Some(Ok(copied))
                }
                Err(e) if self.mode == Mode::Merge && e.is_unique_violation() => {
                    tracing::debug!(
                        stream = self.stream,
                        table = %shown(&self.table),
                        staged_batches = self.direct_backoff,
                        "Keys of the batch are in the table already: merging through staging."
                    );
                    self.staged_before_direct = self.direct_backoff;
                    self.direct_backoff = (self.direct_backoff * 2).min(DIRECT_BACKOFF_MAX);
                    None
                }
                Err(e) => Some(Err(e)),
            }
        } else {
            None
        };
        let outcome = if let Some(outcome) = outcome {
            outcome
        } else {
            self.staged_before_direct = self.staged_before_direct.saturating_sub(1);
            let copy_sql = format!("COPY {STAGING} ({}) FROM STDIN", identifiers(&self.columns));
            let create = format!(
                "CREATE TEMP TABLE _singer_staging (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP",
                self.table.qualified(&Postgres)
            );
            let merge = self.merge_sql();
            let sent = std::mem::take(&mut rows.sent);
            transaction(&client, |client| {
                client.batch_execute(&create)?;
                let copied = client.copy_in(
                    &copy_sql,
                    sent.into_iter()
                        .chain(std::iter::from_fn(|| rows.next_chunk())),
                )?;
                client.batch_execute(&merge)?;
                Ok(copied)
            })
        };
        let replaced = rows.replaced;
        self.warn_nul(replaced);
        outcome
    }
}

/// A batch's records turned into COPY data chunk by chunk, as the connection takes them, so
/// that the server works on one chunk while the next is encoded, and each record is freed
/// once encoded.
struct CopyRows<'a> {
    copy: &'a [CopyColumn],
    records: std::vec::IntoIter<Map<String, Value>>,
    /// The chunks handed out, kept when the batch may have to be sent again (a merge whose
    /// direct `COPY` meets keys already in the table).
    sent: Vec<Bytes>,
    keep: bool,
    /// Whether a NUL character was replaced.
    replaced: bool,
}

impl<'a> CopyRows<'a> {
    fn new(copy: &'a [CopyColumn], records: Vec<Map<String, Value>>, keep: bool) -> Self {
        CopyRows {
            copy,
            records: records.into_iter(),
            sent: Vec::new(),
            keep,
            replaced: false,
        }
    }

    /// The next chunk of about [`CHUNK_BYTES`], `None` after the last record.
    fn next_chunk(&mut self) -> Option<Bytes> {
        let mut chunk = Vec::new();
        for record in self.records.by_ref() {
            self.replaced |= encode_row(self.copy, &record, &mut chunk);
            if chunk.len() >= CHUNK_BYTES {
                break;
            }
        }
        if chunk.is_empty() {
            return None;
        }
        let chunk = Bytes::from(chunk);
        if self.keep {
            self.sent.push(chunk.clone());
        }
        Some(chunk)
    }
}

/// Runs `body` in a transaction: committed when it succeeds, rolled back when it fails.
fn transaction<T>(client: &Client, body: impl FnOnce(&Client) -> Result<T>) -> Result<T> {
    client.batch_execute("BEGIN")?;
    let outcome = body(client).and_then(|value| {
        client.batch_execute("COMMIT")?;
        Ok(value)
    });
    if outcome.is_err() {
        let _ = client.batch_execute("ROLLBACK");
    }
    outcome
}

impl Sink for TableSink {
    fn write_batch(&mut self, batch: Batch) -> crate::Result<()> {
        let records = if self.mode == Mode::Append {
            batch.records
        } else {
            last_per_key(batch.records, &self.key_properties)
        };
        let count = records.len();
        let copied = self.write(records).map_err(|e| {
            e.doing(&format!(
                "cannot write {count} records of stream `{}` to table `{}`",
                self.stream,
                shown(&self.table)
            ))
        })?;
        tracing::debug!(stream = self.stream, table = %shown(&self.table), rows = copied, "Batch committed.");
        Ok(())
    }

    /// singer-sdk's SQL sink behaviour: ensure `_sdc_table_version`; with `hard_delete`,
    /// delete rows of older versions, otherwise ensure `_sdc_deleted_at` and set it (to now)
    /// on rows of older versions not yet marked. Rows without a version are left alone.
    fn activate_version(&mut self, version: i64) -> crate::Result<()> {
        if !self.loader.acts_on_versions() {
            tracing::info!(
                stream = self.stream,
                version,
                "Ignoring ACTIVATE_VERSION (activate_version is off)."
            );
            return Ok(());
        }
        let hard = self.loader.options().hard_delete;
        let table = self.table.qualified(&Postgres);
        let version_text = version.to_string();
        let mut needed = vec![(VERSION_COLUMN, SqlType::BigInt)];
        if !hard {
            needed.push((DELETED_AT_COLUMN, SqlType::TimestampTz));
        }
        let fail = |e: Error| {
            e.doing(&format!(
                "cannot activate version {version} of stream `{}` in table `{}`",
                self.stream,
                shown(&self.table)
            ))
        };
        let loader = Arc::clone(&self.loader);
        let client = loader.client().map_err(fail)?;
        client.batch_execute("BEGIN").map_err(fail)?;
        let outcome = (|| {
            let info = loader.ensure_columns(&client, &self.table, &self.info, &needed)?;
            let version_column = Postgres.identifier(VERSION_COLUMN);
            let rows = if hard {
                client.execute(
                    &format!("DELETE FROM {table} WHERE {version_column} < $1::text::bigint"),
                    &[&version_text],
                )?
            } else {
                let deleted_at = Postgres.identifier(DELETED_AT_COLUMN);
                client.execute(
                    &format!("UPDATE {table} SET {deleted_at} = now() WHERE {version_column} < $1::text::bigint AND {deleted_at} IS NULL"),
                    &[&version_text],
                )?
            };
            client.batch_execute("COMMIT")?;
            Ok((info, rows))
        })();
        match outcome {
            Ok((info, rows)) => {
                self.loader.remember(&self.table, info.clone());
                self.info = info;
                tracing::info!(
                    stream = self.stream,
                    table = %shown(&self.table),
                    version,
                    rows,
                    action = if hard { "deleted" } else { "marked deleted" },
                    "Activated table version."
                );
                Ok(())
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK");
                drop(client);
                self.loader.forget(&self.table);
                Err(fail(e).into())
            }
        }
    }
}

/// The records with the last one kept for each key, in the order keys were first seen.
fn last_per_key(records: Vec<Map<String, Value>>, keys: &[String]) -> Vec<Map<String, Value>> {
    let mut index: HashMap<Vec<u8>, usize, BuildHasherDefault<FnvHasher>> =
        HashMap::with_capacity_and_hasher(records.len(), BuildHasherDefault::default());
    let mut out: Vec<Map<String, Value>> = Vec::with_capacity(records.len());
    let mut key = Vec::new();
    for record in records {
        key.clear();
        for k in keys {
            // `Value` serialises to a `Vec` without failing; JSON text tells values apart
            // (1 from "1") and a separator between keys is implied by its syntax.
            let _ = serde_json::to_writer(&mut key, record.get(k).unwrap_or(&Value::Null));
            key.push(b',');
        }
        match index.get(key.as_slice()) {
            Some(&i) => out[i] = record,
            None => {
                index.insert(key.clone(), out.len());
                out.push(record);
            }
        }
    }
    out
}

/// FNV-1a: keys here are short and come from this run's own records, so a fast hash with
/// no flooding resistance is the right trade.
#[derive(Debug, Clone, Copy)]
struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn sorted(names: &[String]) -> Vec<&String> {
    let mut names: Vec<&String> = names.iter().collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn composite_keys_tell_numbers_from_strings() {
        let records: Vec<Map<String, Value>> = [
            json!({"a": 1, "b": "x", "v": 1}),
            json!({"a": "1", "b": "x", "v": 2}),
            json!({"a": 1, "b": "x", "v": 3}),
            json!({"a": "1,", "b": "x", "v": 4}),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect();
        let kept = last_per_key(records, &["a".to_owned(), "b".to_owned()]);
        let values: Vec<&Value> = kept.iter().map(|r| &r["v"]).collect();
        assert_eq!(values, [&json!(3), &json!(2), &json!(4)]);
    }

    #[test]
    fn the_last_record_of_a_key_wins() {
        let records: Vec<Map<String, Value>> = [
            json!({"id": 1, "v": "a"}),
            json!({"id": 2, "v": "b"}),
            json!({"id": 1, "v": "c"}),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect();
        let kept = last_per_key(records, &["id".to_owned()]);
        assert_eq!(
            kept,
            [json!({"id": 1, "v": "c"}), json!({"id": 2, "v": "b"})]
                .map(|v| v.as_object().unwrap().clone())
        );
    }
}
