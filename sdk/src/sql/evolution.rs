//! Table evolution as a plan: what to change so that an existing table holds a stream's
//! records. Columns are added and widened, never dropped or narrowed.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::{Dialect, Error, Namer, Result, SqlType, Widening};

/// What a target may do to an existing table whose columns differ from the stream's schema.
///
/// As a setting it is spelled `evolve`, `version`, `add-columns` or `frozen`.
///
/// ```
/// use singer_sdk::sql::SchemaPolicy;
///
/// let policy: SchemaPolicy = "version".parse()?;
/// assert_eq!(policy, SchemaPolicy::Version);
/// assert_eq!(SchemaPolicy::default().to_string(), "evolve");
/// # Ok::<(), singer_sdk::sql::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SchemaPolicy {
    /// Add missing columns and widen types; a type that cannot be widened is an error.
    #[default]
    Evolve,
    /// As `Evolve`, but a column whose type cannot be widened is versioned: the old column
    /// stays as it is and the stream's values go to a new `<column>__v2` column (then
    /// `__v3`, …; later runs reuse the newest version that can hold the values).
    Version,
    /// Add missing columns only; a type change is an error (singer-sdk's default, where
    /// `allow_column_alter` is off).
    AddColumns,
    /// Change nothing; any difference is an error.
    Frozen,
}

impl SchemaPolicy {
    /// The setting spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaPolicy::Evolve => "evolve",
            SchemaPolicy::Version => "version",
            SchemaPolicy::AddColumns => "add-columns",
            SchemaPolicy::Frozen => "frozen",
        }
    }
}

impl fmt::Display for SchemaPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SchemaPolicy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [
            SchemaPolicy::Evolve,
            SchemaPolicy::Version,
            SchemaPolicy::AddColumns,
            SchemaPolicy::Frozen,
        ]
        .into_iter()
        .find(|p| p.as_str() == s.trim())
        .ok_or_else(|| Error::UnknownPolicy(s.to_owned()))
    }
}

/// One change to a table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// `ALTER TABLE … ADD COLUMN column sql_type` (nullable).
    AddColumn {
        /// The new column.
        column: String,
        /// Its type.
        sql_type: SqlType,
    },
    /// `ALTER TABLE … ALTER COLUMN column TYPE to`.
    AlterType {
        /// The column.
        column: String,
        /// Its type now.
        from: SqlType,
        /// Its new, wider type.
        to: SqlType,
    },
    /// A new version of a column whose type cannot be widened: add `versioned` with
    /// `sql_type`; the old column keeps its type and data.
    AddVersion {
        /// The stream's column.
        column: String,
        /// The new column (`<column>__v2`, …).
        versioned: String,
        /// The type of the new column.
        sql_type: SqlType,
        /// The type of the newest existing version, which cannot hold the values.
        existing: SqlType,
    },
}

/// The changes a table needs, and which column each of the stream's columns is loaded into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The changes, in the order of the wanted columns.
    pub changes: Vec<Change>,
    targets: BTreeMap<String, String>,
}

impl Plan {
    /// The table column that holds the stream's `column`: itself, or its newest version.
    #[must_use]
    pub fn column_for<'a>(&'a self, column: &'a str) -> &'a str {
        self.targets.get(column).map_or(column, String::as_str)
    }

    /// Whether the table needs no change.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Plans how `table`, whose columns are `existing` (name → type), comes to hold the
/// `wanted` columns (in order), under `policy`. Columns missing from `wanted` are left
/// alone; a column that already holds the wanted type is never narrowed.
///
/// ```
/// use std::collections::BTreeMap;
/// use singer_sdk::sql::{plan, Change, Postgres, SchemaPolicy, SqlType};
///
/// let existing = BTreeMap::from([("id".to_owned(), SqlType::Integer)]);
/// let wanted = [
///     ("id".to_owned(), SqlType::BigInt),
///     ("name".to_owned(), SqlType::Text),
/// ];
/// let plan = plan(&Postgres, "users", &existing, &wanted, SchemaPolicy::Evolve)?;
/// assert_eq!(plan.changes, [
///     Change::AlterType { column: "id".into(), from: SqlType::Integer, to: SqlType::BigInt },
///     Change::AddColumn { column: "name".into(), sql_type: SqlType::Text },
/// ]);
/// # Ok::<(), singer_sdk::sql::Error>(())
/// ```
///
/// # Errors
/// [`Error::IncompatibleType`] for a type that cannot be widened (unless the policy is
/// `Version`; a [`Widening::Loose`] column is loaded as it is under `Evolve` and
/// `AddColumns`), and [`Error::NotAllowed`] for a change the policy forbids; both name the
/// table, the column and the types.
pub fn plan(
    dialect: &dyn Dialect,
    table: &str,
    existing: &BTreeMap<String, SqlType>,
    wanted: &[(String, SqlType)],
    policy: SchemaPolicy,
) -> Result<Plan> {
    let mut out = Plan::default();
    let not_allowed = |change: String| Error::NotAllowed {
        table: table.to_owned(),
        change,
        policy,
    };
    for (column, wanted_type) in wanted {
        let wanted_type = dialect.coerce(wanted_type.clone());
        let name = |t: &SqlType| dialect.type_name(t);
        let Some((current, current_type)) = newest_version(dialect, existing, column) else {
            if policy == SchemaPolicy::Frozen {
                return Err(not_allowed(format!(
                    "add column `{column}` ({})",
                    name(&wanted_type)
                )));
            }
            out.changes.push(Change::AddColumn {
                column: column.clone(),
                sql_type: wanted_type,
            });
            continue;
        };
        if current != *column {
            out.targets.insert(column.clone(), current.clone());
        }
        let current_type = dialect.coerce(current_type.clone());
        match dialect.widen(&current_type, &wanted_type) {
            Widening::Keep => {}
            Widening::Alter(to) => {
                if matches!(policy, SchemaPolicy::Frozen | SchemaPolicy::AddColumns) {
                    return Err(not_allowed(format!(
                        "change column `{current}` from {} to {}",
                        name(&current_type),
                        name(&to)
                    )));
                }
                out.changes.push(Change::AlterType {
                    column: current,
                    from: current_type,
                    to,
                });
            }
            Widening::Loose
                if matches!(policy, SchemaPolicy::Evolve | SchemaPolicy::AddColumns) => {}
            Widening::Loose if policy == SchemaPolicy::Frozen => {
                return Err(not_allowed(format!(
                    "store {} values in column `{current}` ({})",
                    name(&wanted_type),
                    name(&current_type)
                )));
            }
            Widening::Loose | Widening::Incompatible if policy == SchemaPolicy::Version => {
                let versioned = next_version(dialect, existing, column);
                out.targets.insert(column.clone(), versioned.clone());
                out.changes.push(Change::AddVersion {
                    column: column.clone(),
                    versioned,
                    sql_type: wanted_type,
                    existing: current_type,
                });
            }
            Widening::Loose | Widening::Incompatible => {
                return Err(Error::IncompatibleType {
                    table: table.to_owned(),
                    column: current,
                    existing: name(&current_type),
                    wanted: name(&wanted_type),
                });
            }
        }
    }
    Ok(out)
}

/// The versioned name `<column>__v<n>`, shortened to the dialect's limit.
#[must_use]
pub fn version_name(dialect: &dyn Dialect, column: &str, version: u32) -> String {
    Namer::new(dialect).shorten(&format!("{column}__v{version}"))
}

/// The column itself or its highest existing version, with its type.
fn newest_version<'e>(
    dialect: &dyn Dialect,
    existing: &'e BTreeMap<String, SqlType>,
    column: &str,
) -> Option<(String, &'e SqlType)> {
    let base = existing.get(column)?;
    let mut newest = (column.to_owned(), base);
    for version in 2.. {
        let name = version_name(dialect, column, version);
        match existing.get(&name) {
            Some(ty) => newest = (name, ty),
            None => break,
        }
    }
    Some(newest)
}

fn next_version(
    dialect: &dyn Dialect,
    existing: &BTreeMap<String, SqlType>,
    column: &str,
) -> String {
    (2..)
        .map(|v| version_name(dialect, column, v))
        .find(|name| !existing.contains_key(name))
        .unwrap_or_else(|| format!("{column}__v2"))
}

#[cfg(test)]
#[path = "evolution_tests.rs"]
mod tests;
