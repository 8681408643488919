//! A table as the database has it: its columns, their types and its primary key, read from
//! the system catalogs in one query (not one per column).

use std::collections::BTreeMap;

use super::{Client, Result};
use crate::sql::{Dialect, Postgres, SqlType, TableName};

/// One catalog query: every live column of the table, its type as `format_type` spells it,
/// and its position in the primary key (NULL when it is not part of it).
const COLUMNS_QUERY: &str = "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)::text, \
     array_position(pk.conkey, a.attnum)::text \
     FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
     LEFT JOIN pg_catalog.pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p' \
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') \
     ORDER BY a.attnum";

/// A table's columns (in table order) and primary key (in key order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableInfo {
    /// Column name and type, in table order.
    pub columns: Vec<(String, SqlType)>,
    /// The primary key's columns, in key order (empty without one).
    pub primary_key: Vec<String>,
}

impl TableInfo {
    /// Reads the table, or `None` when it does not exist.
    ///
    /// # Errors
    /// [`Error::Database`](super::Error::Database) when the query fails.
    pub fn read(client: &Client, table: &TableName) -> Result<Option<TableInfo>> {
        let schema = table.schema.as_deref().unwrap_or("public");
        let rows = client
            .query_text(COLUMNS_QUERY, &[schema, &table.table])
            .map_err(|e| e.doing(&format!("cannot inspect table `{schema}.{}`", table.table)))?;
        tracing::debug!(table = %format!("{schema}.{}", table.table), columns = rows.len(), "Read the table from the catalog.");
        if rows.is_empty() {
            return Ok(None);
        }
        let mut info = TableInfo::default();
        let mut keys = Vec::new();
        for row in rows {
            let [Some(name), Some(type_name), position] =
                <[Option<String>; 3]>::try_from(row).unwrap_or([None, None, None])
            else {
                continue;
            };
            let ty = Postgres
                .parse_type(&type_name)
                .unwrap_or(SqlType::Other(type_name));
            if let Some(position) = position.and_then(|p| p.parse::<u32>().ok()) {
                keys.push((position, name.clone()));
            }
            info.columns.push((name, ty));
        }
        keys.sort();
        info.primary_key = keys.into_iter().map(|(_, name)| name).collect();
        Ok(Some(info))
    }

    /// The columns by name.
    #[must_use]
    pub fn column_map(&self) -> BTreeMap<String, SqlType> {
        self.columns.iter().cloned().collect()
    }

    /// The type of `column`, if the table has it.
    #[must_use]
    pub fn column_type(&self, column: &str) -> Option<&SqlType> {
        self.columns
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, ty)| ty)
    }
}
