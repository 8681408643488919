//! Discovery for taps: every table, view, materialized view and foreign table the user may
//! read, with columns, types, nullability, primary key and comments, in one catalog query.

use std::sync::Arc;

use super::client::{connect_async, statement_error};
use super::extract::{TableColumn, TableStream};
use super::{ConnectOptions, Result};
use crate::sql::{Dialect, Postgres, SqlToJsonOptions, SqlType};

/// One row per column of every readable relation outside the system schemas: schema,
/// relation, kind, column, type, nullable, position in the primary key, column comment,
/// relation comment.
const DISCOVERY_QUERY: &str = "SELECT n.nspname::text, c.relname::text, c.relkind::text, a.attname::text, \
     format_type(a.atttypid, a.atttypmod)::text, (NOT a.attnotnull)::text, \
     array_position(pk.conkey, a.attnum)::text, col_description(c.oid, a.attnum)::text, \
     obj_description(c.oid, 'pg_class')::text \
     FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
     LEFT JOIN pg_catalog.pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p' \
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') \
     AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' \
     AND has_table_privilege(c.oid, 'SELECT') \
     ORDER BY n.nspname, c.relname, a.attnum";

/// What discovery looks at and how it describes types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoverOptions {
    /// Only these schemas (all but the system ones when empty).
    pub filter_schemas: Vec<String>,
    /// How column types become JSON Schema.
    pub types: SqlToJsonOptions,
    /// Describe `date` columns as plain strings (MeltanoLabs' `dates_as_string`).
    pub dates_as_string: bool,
    /// Describe `json`/`jsonb` columns as objects rather than any JSON value (MeltanoLabs'
    /// `json_as_object`).
    pub json_as_object: bool,
}

/// The streams of a database: one per readable relation, named `<schema>-<table>`, in
/// schema then table order.
///
/// # Errors
/// [`Error::Connect`](super::Error::Connect) when the server cannot be reached, or
/// [`Error::Database`](super::Error::Database) when the catalog query fails.
pub async fn discover(
    connect: &ConnectOptions,
    options: &DiscoverOptions,
) -> Result<Vec<TableStream>> {
    let client = connect_async(connect).await?;
    let rows = client
        .query(DISCOVERY_QUERY, &[])
        .await
        .map_err(|e| statement_error(DISCOVERY_QUERY, e))?;
    let shared = Arc::new(connect.clone());
    let mut streams: Vec<TableStream> = Vec::new();
    let mut keys: Vec<(u32, String)> = Vec::new();
    for row in rows {
        let text = |i: usize| row.try_get::<_, Option<String>>(i).ok().flatten();
        let (Some(schema), Some(table), Some(column), Some(type_name)) =
            (text(0), text(1), text(3), text(4))
        else {
            continue;
        };
        if !options.filter_schemas.is_empty() && !options.filter_schemas.contains(&schema) {
            continue;
        }
        let is_new = streams
            .last()
            .is_none_or(|s| s.schema_name() != schema || s.table_name() != table);
        if is_new {
            finish_keys(streams.last_mut(), &mut keys);
            let kind = text(2).unwrap_or_default();
            streams.push(TableStream::new(
                Arc::clone(&shared),
                &schema,
                &table,
                kind != "r" && kind != "p",
                text(8),
            ));
        }
        let sql_type = Postgres
            .parse_type(&type_name)
            .unwrap_or(SqlType::Other(type_name));
        if let Some(position) = text(6).and_then(|p| p.parse::<u32>().ok()) {
            keys.push((position, column.clone()));
        }
        if let Some(stream) = streams.last_mut() {
            stream.add_column(
                TableColumn {
                    name: column,
                    sql_type,
                    nullable: text(5).as_deref() != Some("false"),
                    description: text(7),
                },
                options,
            );
        }
    }
    finish_keys(streams.last_mut(), &mut keys);
    tracing::info!(
        streams = streams.len(),
        "Discovered tables and views from the catalog."
    );
    Ok(streams)
}

fn finish_keys(stream: Option<&mut TableStream>, keys: &mut Vec<(u32, String)>) {
    keys.sort();
    if let Some(stream) = stream {
        stream.set_keys(keys.drain(..).map(|(_, name)| name).collect());
    }
    keys.clear();
}
