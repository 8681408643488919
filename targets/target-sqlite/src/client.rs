//! The one connection every sink shares, and table preparation (create, overwrite, and
//! the SDK's evolution plan under the schema policy: add columns, version columns).
//!
//! Why one connection behind a mutex rather than one per sink: SQLite lets one writer in at a
//! time anyway, so several connections would only queue on the database lock (and a
//! deferred transaction that upgrades to a write lock can fail with `SQLITE_BUSY` instead of
//! waiting). One connection serialises the sinks' transactions in-process, without busy
//! retries, and keeps one statement cache. Each batch is one short `IMMEDIATE` transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use singer_sdk::sql::{self, Change, Dialect, Plan, SchemaPolicy, SqlType, Sqlite};
use singer_sdk::target::{LoadMethod, TargetOptions};
use singer_sdk::{Error, Result};

use crate::config::Config;
use crate::table::{self, Column, quote};

/// The shared connection and what this run has done to which table.
pub(crate) struct Client {
    inner: Mutex<Inner>,
    /// The database file, for messages.
    pub(crate) path: PathBuf,
    /// The conformed `timestamp_column`, if set.
    pub(crate) timestamp_column: Option<String>,
    /// The built-in target settings.
    pub(crate) options: TargetOptions,
    /// What an existing table may undergo when a stream's schema changes.
    pub(crate) policy: SchemaPolicy,
}

struct Inner {
    connection: Connection,
    /// Table → the stream loading it, to refuse two streams sharing one table.
    owners: HashMap<String, String>,
    /// Tables prepared in this run (overwrite drops a table only the first time).
    prepared: HashSet<String>,
}

/// What a table looks like after [`Client::prepare_table`].
#[derive(Debug, Clone, Default)]
pub(crate) struct TableInfo {
    /// The table's primary key columns, in key order (empty when it has none).
    pub(crate) primary_key: Vec<String>,
    /// The evolution plan applied: which table column holds each stream column.
    pub(crate) plan: Plan,
}

/// An existing column: name as declared, declared type, position in the primary key.
struct Existing {
    name: String,
    declared: String,
    pk: i64,
}

impl Client {
    /// Opens (creating it and its directory if needed) the database in WAL mode with
    /// `synchronous=FULL`, so a committed batch survives a crash.
    ///
    /// # Errors
    /// Bad settings, a directory or file that cannot be created or opened, or a file that
    /// is not a SQLite database.
    pub(crate) fn open(config: &Config, options: &TargetOptions) -> Result<Client> {
        let path = config.database_path()?;
        let policy = config.schema_policy()?;
        let timestamp_column = config.timestamp_column.as_deref().map(table::conform_name);
        if timestamp_column.as_deref() == Some("") {
            return Err(Error::InvalidConfig {
                violations: vec![
                    "`timestamp_column`: the name has no letters, digits or `_` to make a column name of"
                        .to_owned(),
                ],
            });
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                Error::context(
                    format!(
                        "cannot create the directory `{}` for the SQLite database; check the `database` setting and the permissions of that path",
                        parent.display()
                    ),
                    e,
                )
            })?;
        }
        let connection = open_connection(&path)?;
        tracing::info!(database = %path.display(), "Opened SQLite database.");
        Ok(Client {
            inner: Mutex::new(Inner {
                connection,
                owners: HashMap::new(),
                prepared: HashSet::new(),
            }),
            path,
            options: options.clone(),
            timestamp_column,
            policy,
        })
    }

    /// The connection, for one transaction. A sink thread that panicked mid-transaction left
    /// nothing behind (the transaction rolled back when dropped), so poisoning is ignored.
    pub(crate) fn connection(&self) -> ConnectionGuard<'_> {
        ConnectionGuard(self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Creates the stream's table or brings it up to date by the SDK's evolution plan under
    /// the schema policy: adds missing columns (never drops any), loads values of another
    /// type into the existing column with a warning (`evolve`, `add-columns`: SQLite stores
    /// any value in any column) or into a new `<column>__v2` (`version`); drops and
    /// recreates the table first under `overwrite` the first time this run sees it.
    ///
    /// # Errors
    /// Another stream already loads into this table, the policy forbids a change the stream
    /// needs, or the DDL fails.
    pub(crate) fn prepare_table(
        &self,
        stream: &str,
        table_name: &str,
        columns: &[Column],
        keys: &[String],
        options: &TargetOptions,
    ) -> Result<TableInfo> {
        let mut guard = self.connection();
        let inner = &mut *guard.0;
        if let Some(owner) = inner.owners.get(table_name) {
            if owner != stream {
                return Err(Error::custom(format!(
                    "streams `{owner}` and `{stream}` both load into table `{table_name}` (stream names are lower-cased and stripped of special characters to make table names); rename one of them in the tap (or with a stream map)"
                )));
            }
        }
        let first_time = !inner.prepared.contains(table_name);
        let path = self.path.clone();
        let fail = |doing: &str, e: rusqlite::Error| {
            Error::context(
                format!(
                    "cannot {doing} table `{table_name}` for stream `{stream}` in `{}`",
                    path.display()
                ),
                e,
            )
        };
        let tx = Transaction::new(&mut inner.connection, TransactionBehavior::Immediate)
            .map_err(|e| fail("prepare", e))?;
        if options.load_method == LoadMethod::Overwrite && first_time {
            tx.execute(&format!("DROP TABLE IF EXISTS {}", quote(table_name)), [])
                .map_err(|e| fail("drop (load_method overwrite)", e))?;
            tracing::info!(
                stream,
                table = table_name,
                "Dropped table (load_method overwrite)."
            );
        }
        let existing = existing_columns(&tx, table_name).map_err(|e| fail("inspect", e))?;
        let info = if existing.is_empty() {
            let sql = table::create_table(table_name, columns, keys);
            tx.execute(&sql, []).map_err(|e| fail("create", e))?;
            tracing::info!(stream, table = table_name, "Created table.");
            TableInfo {
                primary_key: keys.to_vec(),
                plan: Plan::default(),
            }
        } else {
            let plan = self.evolve(&tx, stream, table_name, columns, &existing)?;
            let mut pk: Vec<&Existing> = existing.iter().filter(|e| e.pk > 0).collect();
            pk.sort_by_key(|e| e.pk);
            TableInfo {
                primary_key: pk.iter().map(|e| e.name.to_lowercase()).collect(),
                plan,
            }
        };
        tx.commit().map_err(|e| fail("prepare", e))?;
        inner
            .owners
            .insert(table_name.to_owned(), stream.to_owned());
        inner.prepared.insert(table_name.to_owned());
        Ok(info)
    }

    /// Plans and applies what the existing table needs to hold the stream's columns.
    fn evolve(
        &self,
        tx: &Transaction<'_>,
        stream: &str,
        table_name: &str,
        columns: &[Column],
        existing: &[Existing],
    ) -> Result<Plan> {
        // SQLite compares column names case-insensitively; conformed names are lower-case.
        let existing: BTreeMap<String, (&str, SqlType)> = existing
            .iter()
            .map(|e| {
                let ty = Sqlite
                    .parse_type(&e.declared)
                    .unwrap_or(SqlType::Other(e.declared.clone()));
                (e.name.to_lowercase(), (e.declared.as_str(), ty))
            })
            .collect();
        let types: BTreeMap<String, SqlType> = existing
            .iter()
            .map(|(name, (_, ty))| (name.clone(), ty.clone()))
            .collect();
        let wanted: Vec<(String, SqlType)> = columns
            .iter()
            .map(|c| (c.name.clone(), c.sql_type.clone()))
            .collect();
        let plan = sql::plan(&Sqlite, table_name, &types, &wanted, self.policy).map_err(|e| {
            Error::context(
                format!(
                    "stream `{stream}`: table `{table_name}` in `{}` cannot take the stream's schema under schema_policy `{}`",
                    self.path.display(),
                    self.policy
                ),
                e,
            )
        })?;
        let fail = |e: rusqlite::Error| {
            Error::context(
                format!(
                    "cannot add a column to table `{table_name}` for stream `{stream}` in `{}`",
                    self.path.display()
                ),
                e,
            )
        };
        for change in &plan.changes {
            match change {
                Change::AddColumn { column, sql_type } => {
                    add_column(tx, table_name, column, &Sqlite.type_name(sql_type))
                        .map_err(fail)?;
                    tracing::info!(
                        stream,
                        table = table_name,
                        column,
                        sql_type = Sqlite.type_name(sql_type),
                        "Added column."
                    );
                }
                Change::AddVersion {
                    column,
                    versioned,
                    sql_type,
                    existing,
                } => {
                    add_column(tx, table_name, versioned, &Sqlite.type_name(sql_type))
                        .map_err(fail)?;
                    tracing::warn!(
                        stream,
                        table = table_name,
                        column,
                        versioned,
                        declared = Sqlite.type_name(existing),
                        schema_type = Sqlite.type_name(sql_type),
                        "Column type changed: the stream's values go to a new column (schema_policy version)."
                    );
                }
                other => {
                    return Err(Error::custom(format!(
                        "stream `{stream}`: table `{table_name}` would need {other:?}, which SQLite cannot do; change the table by hand"
                    )));
                }
            }
        }
        for (name, ty) in &wanted {
            let Some((declared, _)) = existing.get(name) else {
                continue;
            };
            let schema_type = Sqlite.type_name(ty);
            if plan.column_for(name) == name && !declared.eq_ignore_ascii_case(&schema_type) {
                tracing::warn!(
                    stream,
                    table = table_name,
                    column = name,
                    declared,
                    schema_type,
                    "Column type changed: the column keeps its declared type and new values are stored as they come (SQLite is dynamically typed)."
                );
            }
        }
        Ok(plan)
    }
}

/// A locked connection.
pub(crate) struct ConnectionGuard<'a>(MutexGuard<'a, Inner>);

impl ConnectionGuard<'_> {
    /// Starts an `IMMEDIATE` transaction (takes the write lock at once).
    ///
    /// # Errors
    /// The database is locked by another process past the busy timeout, or cannot be
    /// written.
    pub(crate) fn transaction(&mut self) -> rusqlite::Result<Transaction<'_>> {
        Transaction::new(&mut self.0.connection, TransactionBehavior::Immediate)
    }
}

fn open_connection(path: &Path) -> Result<Connection> {
    let fail = |e: rusqlite::Error| {
        Error::context(
            format!(
                "cannot open SQLite database `{}`; point `database` at a SQLite file, or at a writable path where one can be created",
                path.display()
            ),
            e,
        )
    };
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    if connection.is_readonly(rusqlite::MAIN_DB).map_err(fail)? {
        return Err(Error::custom(format!(
            "SQLite database `{}` can only be read (the file or its directory is read-only); make it writable, or point `database` at another file",
            path.display()
        )));
    }
    // Another process (a reader, a second target) may hold the lock for a while.
    connection
        .busy_timeout(Duration::from_secs(60))
        .map_err(fail)?;
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(fail)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(
            journal_mode = mode,
            "SQLite refused WAL mode (is the file on a network filesystem?); using its journal mode instead."
        );
    }
    connection
        .execute_batch("PRAGMA synchronous = FULL")
        .map_err(fail)?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

fn existing_columns(tx: &Transaction<'_>, table_name: &str) -> rusqlite::Result<Vec<Existing>> {
    let mut statement = tx.prepare("SELECT name, type, pk FROM pragma_table_info(?1)")?;
    let rows = statement.query_map([table_name], |row| {
        Ok(Existing {
            name: row.get(0)?,
            declared: row.get(1)?,
            pk: row.get(2)?,
        })
    })?;
    rows.collect()
}

/// Whether `table_name` has a column `column` (case-insensitively, as SQLite compares).
pub(crate) fn has_column(
    tx: &Transaction<'_>,
    table_name: &str,
    column: &str,
) -> rusqlite::Result<bool> {
    Ok(existing_columns(tx, table_name)?
        .iter()
        .any(|e| e.name.eq_ignore_ascii_case(column)))
}

/// `ALTER TABLE t ADD COLUMN c type` (nullable).
pub(crate) fn add_column(
    tx: &Transaction<'_>,
    table_name: &str,
    column: &str,
    sql_type: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "ALTER TABLE {} ADD COLUMN {} {sql_type}",
            quote(table_name),
            quote(column)
        ),
        [],
    )
    .map(|_| ())
}
