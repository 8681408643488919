//! DDL text: `CREATE TABLE`, and the `ALTER TABLE` statement of each evolution
//! [`Change`].

use crate::sql::{Change, Dialect, Postgres, SqlType, TableName};

/// `CREATE SCHEMA IF NOT EXISTS schema`.
#[must_use]
pub fn create_schema(schema: &str) -> String {
    format!(
        "CREATE SCHEMA IF NOT EXISTS {}",
        Postgres.identifier(schema)
    )
}

/// `CREATE TABLE schema.table (column type, …, PRIMARY KEY (key, …))`; every column is
/// nullable but the key's.
///
/// ```
/// use singer_sdk::sql::postgres::ddl;
/// use singer_sdk::sql::{SqlType, TableName};
///
/// let table = TableName { schema: Some("raw".into()), table: "users".into() };
/// let columns = [("id".to_owned(), SqlType::BigInt), ("user".to_owned(), SqlType::Text)];
/// assert_eq!(
///     ddl::create_table(&table, &columns, &["id".to_owned()]),
///     r#"CREATE TABLE raw.users (id bigint NOT NULL, "user" text, PRIMARY KEY (id))"#
/// );
/// ```
#[must_use]
pub fn create_table(table: &TableName, columns: &[(String, SqlType)], keys: &[String]) -> String {
    let mut parts: Vec<String> = columns
        .iter()
        .map(|(name, ty)| {
            let not_null = if keys.contains(name) { " NOT NULL" } else { "" };
            format!(
                "{} {}{not_null}",
                Postgres.identifier(name),
                Postgres.type_name(ty)
            )
        })
        .collect();
    if !keys.is_empty() {
        parts.push(format!("PRIMARY KEY ({})", identifiers(keys)));
    }
    format!(
        "CREATE TABLE {} ({})",
        table.qualified(&Postgres),
        parts.join(", ")
    )
}

/// The `ALTER TABLE` statement of one change. A type change casts the values (`USING`),
/// with `to_jsonb` when the column becomes `json`/`jsonb`.
///
/// ```
/// use singer_sdk::sql::postgres::ddl;
/// use singer_sdk::sql::{Change, SqlType, TableName};
///
/// let table = TableName { schema: None, table: "t".into() };
/// let change = Change::AlterType { column: "n".into(), from: SqlType::BigInt, to: SqlType::Numeric(None) };
/// assert_eq!(ddl::alter(&table, &change), "ALTER TABLE t ALTER COLUMN n TYPE numeric USING n::numeric");
/// ```
#[must_use]
pub fn alter(table: &TableName, change: &Change) -> String {
    let table = table.qualified(&Postgres);
    match change {
        Change::AddColumn { column, sql_type }
        | Change::AddVersion {
            versioned: column,
            sql_type,
            ..
        } => format!(
            "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {} {}",
            Postgres.identifier(column),
            Postgres.type_name(sql_type)
        ),
        Change::AlterType { column, from, to } => {
            let name = Postgres.identifier(column);
            let to_name = Postgres.type_name(to);
            let json = |t: &SqlType| matches!(t, SqlType::Json | SqlType::Jsonb);
            let using = if json(to) && !json(from) {
                format!("to_jsonb({name})::{to_name}")
            } else {
                format!("{name}::{to_name}")
            };
            format!("ALTER TABLE {table} ALTER COLUMN {name} TYPE {to_name} USING {using}")
        }
    }
}

/// `a, b, "select"`.
pub(crate) fn identifiers(names: &[String]) -> String {
    names
        .iter()
        .map(|n| Postgres.identifier(n))
        .collect::<Vec<_>>()
        .join(", ")
}
