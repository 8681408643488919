//! [`Loader`]: what a PostgreSQL target's sinks share: where to connect, the built-in
//! options, the schema policy, and what this run knows of each table (read once from the
//! catalog, then kept up to date by the DDL the run itself issues).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::catalog::TableInfo;
use super::pool::{Pool, Pooled};
use super::{Client, ConnectOptions, Result, TableSink, ddl};
use crate::sink::StreamSchema;
use crate::sql::{Change, NameStyle, Plan, Postgres, SchemaPolicy, SqlType, TableName, plan};
use crate::target::{LoadMethod, TargetOptions};

/// The schema tables go to when neither `default_target_schema` nor the stream name
/// (`schema-table`) gives one.
pub const DEFAULT_SCHEMA: &str = "public";

/// What the sinks of a PostgreSQL target share. Build it in `Target::connect` and open each
/// stream's [`TableSink`] with [`open_sink`](Loader::open_sink). Sinks borrow connections
/// from a pool of at most `max_parallelism + 1`, so streams load in parallel and a run with
/// hundreds of streams still holds few connections.
#[derive(Debug)]
pub struct Loader {
    pool: Pool,
    options: TargetOptions,
    policy: SchemaPolicy,
    name_style: NameStyle,
    activate_version: bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Tables as this run knows them (`None`: known not to exist).
    tables: HashMap<TableName, Option<TableInfo>>,
    /// Table → the stream loading it.
    owners: HashMap<TableName, String>,
    /// Tables prepared in this run (overwrite drops a table only the first time).
    prepared: HashSet<TableName>,
    /// Schemas known to exist.
    schemas: HashSet<String>,
}

/// A table ready for a stream: how it looks now and where each column goes.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub(super) info: TableInfo,
    pub(super) plan: Plan,
}

impl Loader {
    /// Keeps what the sinks will need. The first connection opens with the first sink (a run
    /// with nothing to load never connects), so a server that cannot be reached or refuses
    /// the credentials fails the first SCHEMA, before any record is loaded.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for checks of the options.
    pub fn new(connect: ConnectOptions, options: &TargetOptions) -> Result<Loader> {
        let pool = Pool::new(connect, options.max_parallelism + 1);
        Ok(Loader {
            pool,
            options: options.clone(),
            policy: SchemaPolicy::default(),
            name_style: NameStyle::default(),
            activate_version: options.process_activate_version_messages,
            state: Mutex::default(),
        })
    }

    /// What to do when a table's columns differ from a stream's schema (default `evolve`).
    #[must_use]
    pub fn schema_policy(mut self, policy: SchemaPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How stream and property names become table and column names.
    #[must_use]
    pub fn name_style(mut self, style: NameStyle) -> Self {
        self.name_style = style;
        self
    }

    /// Whether ACTIVATE_VERSION messages are acted on (MeltanoLabs' `activate_version`);
    /// on by default when `process_activate_version_messages` is.
    #[must_use]
    pub fn activate_version(mut self, on: bool) -> Self {
        self.activate_version = on && self.options.process_activate_version_messages;
        self
    }

    /// The built-in target options.
    #[must_use]
    pub fn options(&self) -> &TargetOptions {
        &self.options
    }

    /// Opens the sink of a stream: its table created or brought up
    /// to the stream's schema.
    ///
    /// # Errors
    /// A name that cannot be conformed, two streams sharing a table, a type change the
    /// schema policy does not allow, or the server failing.
    pub fn open_sink(self: &Arc<Self>, stream: &StreamSchema) -> crate::Result<TableSink> {
        Ok(TableSink::open(Arc::clone(self), stream)?)
    }

    pub(super) fn name_style_in_use(&self) -> NameStyle {
        self.name_style
    }

    pub(super) fn acts_on_versions(&self) -> bool {
        self.activate_version
    }

    /// A connection from the pool.
    pub(super) fn client(&self) -> Result<Pooled<'_>> {
        self.pool.get()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A sink that panicked left the cache as it was before its DDL committed or not;
        // the worst case is one more catalog read being needed, so poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates `table` or brings it to hold `wanted` (in one transaction, DDL serialised
    /// across sinks); drops it first under `overwrite` the first time this run sees it.
    pub(super) fn prepare(
        &self,
        client: &Client,
        stream: &str,
        table: &TableName,
        wanted: &[(String, SqlType)],
        keys: &[String],
    ) -> Result<Prepared> {
        let mut state = self.state();
        let shown = shown(table);
        if let Some(owner) = state.owners.get(table) {
            if owner != stream {
                return Err(super::Error::Settings(format!(
                    "streams `{owner}` and `{stream}` both load into table `{shown}` (names are lower-cased and stripped of special characters); rename one of them in the tap (or with a stream map)"
                )));
            }
        }
        client.batch_execute("BEGIN")?;
        let result = self.prepare_in_transaction(&mut state, client, table, wanted, keys);
        match result {
            Ok(prepared) => {
                client
                    .batch_execute("COMMIT")
                    .map_err(|e| e.doing(&format!("cannot prepare table `{shown}`")))?;
                state.owners.insert(table.clone(), stream.to_owned());
                state.prepared.insert(table.clone());
                state
                    .tables
                    .insert(table.clone(), Some(prepared.info.clone()));
                Ok(prepared)
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK");
                // What the rolled-back transaction did is unknown to the cache: read again.
                state.tables.remove(table);
                if let Some(schema) = &table.schema {
                    state.schemas.remove(schema);
                }
                Err(e)
            }
        }
    }

    fn prepare_in_transaction(
        &self,
        state: &mut State,
        client: &Client,
        table: &TableName,
        wanted: &[(String, SqlType)],
        keys: &[String],
    ) -> Result<Prepared> {
        let shown = shown(table);
        let schema = table.schema.as_deref().unwrap_or(DEFAULT_SCHEMA);
        if !state.schemas.contains(schema) {
            let exists = client.query_text(
                "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE nspname = $1",
                &[schema],
            )?;
            if exists.is_empty() {
                client
                    .batch_execute(&ddl::create_schema(schema))
                    .map_err(|e| e.doing(&format!("cannot create schema `{schema}`")))?;
                tracing::info!(schema, "Created schema.");
            }
            state.schemas.insert(schema.to_owned());
        }
        if self.options.load_method == LoadMethod::Overwrite && !state.prepared.contains(table) {
            client
                .batch_execute(&format!(
                    "DROP TABLE IF EXISTS {}",
                    table.qualified(&Postgres)
                ))
                .map_err(|e| e.doing(&format!("cannot drop table `{shown}` (overwrite)")))?;
            tracing::info!(table = %shown, "Dropped table (load_method overwrite).");
            state.tables.insert(table.clone(), None);
        }
        let existing = match state.tables.get(table) {
            Some(known) => known.clone(),
            None => TableInfo::read(client, table)?,
        };
        let Some(mut info) = existing else {
            client
                .batch_execute(&ddl::create_table(table, wanted, keys))
                .map_err(|e| e.doing(&format!("cannot create table `{shown}`")))?;
            tracing::info!(table = %shown, columns = wanted.len(), "Created table.");
            return Ok(Prepared {
                info: TableInfo {
                    columns: wanted.to_vec(),
                    primary_key: keys.to_vec(),
                },
                plan: Plan::default(),
            });
        };
        let plan = plan(&Postgres, &shown, &info.column_map(), wanted, self.policy)?;
        for change in &plan.changes {
            client
                .batch_execute(&ddl::alter(table, change))
                .map_err(|e| e.doing(&format!("cannot alter table `{shown}`")))?;
            tracing::info!(table = %shown, change = ?change, "Altered table.");
            apply(&mut info, change);
        }
        Ok(Prepared { info, plan })
    }

    /// Adds the columns `table` lacks (in the caller's transaction), keeping the cache up
    /// to date once the caller commits; returns the table as it will then be.
    pub(super) fn ensure_columns(
        &self,
        client: &Client,
        table: &TableName,
        info: &TableInfo,
        columns: &[(&str, SqlType)],
    ) -> Result<TableInfo> {
        let mut info = info.clone();
        for (name, ty) in columns {
            if info.column_type(name).is_none() {
                let change = Change::AddColumn {
                    column: (*name).to_owned(),
                    sql_type: ty.clone(),
                };
                client
                    .batch_execute(&ddl::alter(table, &change))
                    .map_err(|e| e.doing(&format!("cannot alter table `{}`", shown(table))))?;
                apply(&mut info, &change);
            }
        }
        Ok(info)
    }

    /// Records how `table` looks after a committed change.
    pub(super) fn remember(&self, table: &TableName, info: TableInfo) {
        self.state().tables.insert(table.clone(), Some(info));
    }

    /// Forgets `table` (its state after a failed transaction is unknown).
    pub(super) fn forget(&self, table: &TableName) {
        self.state().tables.remove(table);
    }
}

/// `schema.table` as the database names it, for messages.
pub(super) fn shown(table: &TableName) -> String {
    format!(
        "{}.{}",
        table.schema.as_deref().unwrap_or(DEFAULT_SCHEMA),
        table.table
    )
}

fn apply(info: &mut TableInfo, change: &Change) {
    match change {
        Change::AddColumn { column, sql_type }
        | Change::AddVersion {
            versioned: column,
            sql_type,
            ..
        } => info.columns.push((column.clone(), sql_type.clone())),
        Change::AlterType { column, to, .. } => {
            if let Some(entry) = info.columns.iter_mut().find(|(name, _)| name == column) {
                entry.1 = to.clone();
            }
        }
    }
}
